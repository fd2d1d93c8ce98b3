package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/conn"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/headers"
	"github.com/pion/rtp"
)

// The RTSP server of the cameras: one process (not rtsp2hls's: its CPU is
// measured apart) serving the clip at rtsp://ADDR/cam1 ... /camN over TCP
// (interleaved), each path a stream of its own, looped with timestamps
// that keep running as a camera's do. The clip is packetized once by
// gortsplib's encoders (RTP packets of at most 1450 bytes of payload, as
// cameras send them over TCP too) and held once in memory: each stream
// only stamps its own sequence numbers, timestamps and SSRC.
//
// The streams are out of step, as real cameras are: stream k starts k/N
// of the way into the clip (its IDRs, so its segments, fall at other
// moments than its neighbours') and sends k/N of a frame interval later.
// One goroutine sends for all, waking every 5 ms.
//
// Two servers (-server), the same to rtsp2hls (one write per RTP packet,
// as a camera sends):
//
//   - gortsplib (the default, server_gortsplib.go): gortsplib's own Server
//     with a ServerStream per camera, as ingest/demo.go serves the demo
//     camera; it sends RTCP sender reports as cameras do.
//   - light: the RTSP handshake (OPTIONS, DESCRIBE, SETUP, PLAY,
//     keep-alives) on gortsplib's message types, and the media written
//     straight to the socket (writev), no RTCP: about 15 % less CPU than
//     gortsplib's (10 % of a core against 12 % for 50 cameras).
//     -frames writes each access unit in one go instead of packet by
//     packet (fewer, bigger writes: less work on both sides than any
//     camera gives).
//
// What matters most on a small VM is the wake-ups: a goroutine and a timer
// per camera (72 wake-ups a second each) cost the server about as much CPU
// as rtsp2hls; one goroutine on a 5 ms tick costs a fraction of it.

const aacSamples = 1024 // per AAC frame

// media is the clip packetized once.
type media struct {
	vf    *format.H264
	af    *format.MPEG4Audio
	video [][]*rtp.Packet // per access unit
	audio []*rtp.Packet   // per AAC frame
	rate  int             // audio clock rate
}

func packetize(c *clip) (*media, error) {
	m := &media{
		vf:   &format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: c.sps, PPS: c.pps},
		af:   &format.MPEG4Audio{PayloadTyp: 97, Config: &c.aacConf, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3},
		rate: c.aacConf.SampleRate,
	}
	venc, err := m.vf.CreateEncoder()
	if err != nil {
		return nil, err
	}
	for _, au := range c.video {
		pkts, err := venc.Encode(au)
		if err != nil {
			return nil, err
		}
		m.video = append(m.video, pkts)
	}
	aenc, err := m.af.CreateEncoder()
	if err != nil {
		return nil, err
	}
	for _, f := range c.audio {
		pkts, err := aenc.Encode([][]byte{f})
		if err != nil {
			return nil, err
		}
		m.audio = append(m.audio, pkts...)
	}
	for _, p := range append(m.audio, m.video[0]...) {
		if p.Padding || p.Extension || len(p.CSRC) > 0 {
			return nil, fmt.Errorf("unexpected RTP header from the encoder: %+v", p.Header)
		}
	}
	c.video, c.audio = nil, nil // the packets hold the one copy
	return m, nil
}

// tick is how often the one sending goroutine wakes: a goroutine and a
// timer per camera would wake 72 times a second each (25 frames, 47 AAC
// frames), and those wake-ups, not the writes, were most of the server's
// CPU (perf: context switches).
const tick = 5 * time.Millisecond

// pace calls video and audio for the n streams in real time, with k the
// stream, i the index of the access unit (AAC frame) in the clip and ts
// the time since the stream's start in its clock rate, until done is
// closed. Stream k starts k/n of the way into the clip, k/n of a frame
// interval after stream 0.
func (m *media) pace(done <-chan struct{}, n int, start time.Time, video, audio func(k, i int, ts uint32)) {
	frame := time.Second / clipFPS
	type state struct {
		t0         time.Time
		vOff, aOff int64
		nv, na     int64
	}
	st := make([]state, n)
	for k := range st {
		vOff := k * len(m.video) / n
		st[k] = state{
			t0:   start.Add(time.Duration(k) * frame / time.Duration(n)),
			vOff: int64(vOff),
			aOff: int64(vOff * m.rate / clipFPS / aacSamples),
		}
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		now := time.Now()
		for k := range st {
			s := &st[k]
			el := now.Sub(s.t0)
			if el < 0 {
				continue
			}
			for ; time.Duration(s.nv)*frame <= el; s.nv++ {
				video(k, int((s.vOff+s.nv)%int64(len(m.video))), uint32(s.nv*90000/clipFPS))
			}
			for ; time.Duration(s.na*aacSamples)*time.Second/time.Duration(m.rate) <= el; s.na++ {
				audio(k, int((s.aOff+s.na)%int64(len(m.audio))), uint32(s.na*aacSamples))
			}
		}
	}
}

// serve runs the RTSP server of kind on addr with n paths until SIGTERM
// or SIGINT. It prints "READY" and the address once it listens.
func serve(c *clip, kind, addr string, n int, frames bool) error {
	m, err := packetize(c)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	var listening string
	switch kind {
	case "light":
		s, err := startLight(m, addr, n, frames, done)
		if err != nil {
			return err
		}
		defer s.ln.Close()
		listening = s.ln.Addr().String()
	case "gortsplib":
		s, err := startGortsplib(m, addr, n, done)
		if err != nil {
			return err
		}
		defer s.close()
		listening = s.server.NetListener().Addr().String()
	default:
		return fmt.Errorf("-server %q: light or gortsplib", kind)
	}
	fmt.Printf("READY %s\n", listening)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	close(done)
	return nil
}

// pathOf parses /camK[/trackID=T] into K (1-based) and T (-1 if absent).
func pathOf(p string, n int) (cam, track int, err error) {
	first, rest, _ := strings.Cut(strings.Trim(p, "/"), "/")
	cam, err = strconv.Atoi(strings.TrimPrefix(first, "cam"))
	if err != nil || !strings.HasPrefix(first, "cam") || cam < 1 || cam > n {
		return 0, 0, fmt.Errorf("no path %q", p)
	}
	track = -1
	if t, ok := strings.CutPrefix(rest, "trackID="); ok {
		if track, err = strconv.Atoi(t); err != nil || track < 0 || track > 1 {
			return 0, 0, fmt.Errorf("no track %q", p)
		}
	}
	return cam, track, nil
}

// The light server.
type light struct {
	m       *media
	ln      net.Listener
	sdp     []byte
	frames  bool
	streams []*lightStream
}

// lightStream is one camera: its readers, and its sender's state (used by
// the pace goroutine alone).
type lightStream struct {
	mu      sync.Mutex
	readers []*lightReader

	seq   [2]uint16 // video, audio
	ssrc  [2]uint32
	base  [2]uint32 // random first timestamps
	snap  []*lightReader
	hdrs  []byte // 16 bytes per packet: interleaved frame header + RTP header
	iov   net.Buffers
	batch net.Buffers
}

// lightReader is one PLAYing connection.
type lightReader struct {
	mu     sync.Mutex // one writer at a time: media and responses
	c      net.Conn
	ch     [2]int // interleaved channel of the RTP of video, audio; -1 if not set up
	failed bool
}

func startLight(m *media, addr string, n int, frames bool, done <-chan struct{}) (*light, error) {
	desc := &description.Session{Medias: []*description.Media{
		{Type: description.MediaTypeVideo, Control: "trackID=0", Formats: []format.Format{m.vf}},
		{Type: description.MediaTypeAudio, Control: "trackID=1", Formats: []format.Format{m.af}},
	}}
	sdp, err := desc.Marshal()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &light{m: m, ln: ln, sdp: sdp, frames: frames}
	for range n {
		st := &lightStream{}
		for i := range 2 {
			st.seq[i], st.ssrc[i], st.base[i] = uint16(rand.Uint32()), rand.Uint32(), rand.Uint32()
		}
		s.streams = append(s.streams, st)
	}
	go m.pace(done, n, time.Now(),
		func(k, i int, ts uint32) { s.send(s.streams[k], 0, m.video[i], ts) },
		func(k, i int, ts uint32) { s.send(s.streams[k], 1, m.audio[i:i+1], ts) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.handle(c)
		}
	}()
	return s, nil
}

// send writes the packets of one access unit (AAC frame) of track tr to
// the stream's readers.
func (s *light) send(st *lightStream, tr int, pkts []*rtp.Packet, ts uint32) {
	first := st.seq[tr]
	st.seq[tr] += uint16(len(pkts))
	st.mu.Lock()
	st.snap = append(st.snap[:0], st.readers...)
	st.mu.Unlock()
	if len(st.snap) == 0 {
		return
	}
	if need := 16 * len(pkts); cap(st.hdrs) < need {
		st.hdrs = make([]byte, need)
	}
	for _, r := range st.snap {
		if r.ch[tr] < 0 {
			continue
		}
		st.iov = st.iov[:0]
		for j, p := range pkts {
			h := st.hdrs[16*j : 16*j+16]
			h[0], h[1] = base.InterleavedFrameMagicByte, byte(r.ch[tr])
			binary.BigEndian.PutUint16(h[2:], uint16(12+len(p.Payload)))
			h[4], h[5] = 0x80, p.PayloadType
			if p.Marker {
				h[5] |= 0x80
			}
			binary.BigEndian.PutUint16(h[6:], first+uint16(j))
			binary.BigEndian.PutUint32(h[8:], st.base[tr]+ts)
			binary.BigEndian.PutUint32(h[12:], st.ssrc[tr])
			st.iov = append(st.iov, h, p.Payload)
		}
		r.mu.Lock()
		if r.failed {
			r.mu.Unlock()
			continue
		}
		r.c.SetWriteDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck // a failed write says it
		var err error
		if s.frames {
			st.batch = append(st.batch[:0], st.iov...)
			_, err = st.batch.WriteTo(r.c)
		} else {
			for j := 0; j < len(st.iov) && err == nil; j += 2 {
				st.batch = append(st.batch[:0], st.iov[j], st.iov[j+1])
				_, err = st.batch.WriteTo(r.c)
			}
		}
		if err != nil {
			r.failed = true
			r.c.Close()
		}
		r.mu.Unlock()
	}
}

func (st *lightStream) add(r *lightReader) {
	st.mu.Lock()
	st.readers = append(st.readers, r)
	st.mu.Unlock()
}

func (st *lightStream) remove(r *lightReader) {
	st.mu.Lock()
	for i, x := range st.readers {
		if x == r {
			st.readers = append(st.readers[:i], st.readers[i+1:]...)
			break
		}
	}
	st.mu.Unlock()
}

// lockedWriter writes the RTSP responses of a connection between media
// writes.
type lockedWriter struct{ r *lightReader }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	w.r.c.SetWriteDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck // a failed write says it
	return w.r.c.Write(b)
}

// handle answers one connection's requests until it ends; RTCP from the
// client (receiver reports) is read and dropped.
func (s *light) handle(nc net.Conn) {
	r := &lightReader{c: nc, ch: [2]int{-1, -1}}
	var st *lightStream
	defer func() {
		if st != nil {
			st.remove(r)
		}
		nc.Close()
	}()
	cn := conn.NewConn(bufio.NewReaderSize(nc, 4096), lockedWriter{r})
	session := fmt.Sprintf("%08X", rand.Uint32())
	for {
		msg, err := cn.Read()
		if err != nil {
			return
		}
		req, ok := msg.(*base.Request)
		if !ok {
			continue
		}
		res := &base.Response{StatusCode: base.StatusOK, Header: base.Header{"CSeq": req.Header["CSeq"]}}
		cam, track, perr := pathOf(req.URL.Path, len(s.streams))
		switch req.Method {
		case base.Options:
			res.Header["Public"] = base.HeaderValue{"DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER, OPTIONS"}
		case base.Describe:
			if perr != nil {
				res.StatusCode = base.StatusNotFound
				break
			}
			u := *req.URL
			u.Path = fmt.Sprintf("/cam%d/", cam)
			res.Header["Content-Base"] = base.HeaderValue{u.String()}
			res.Header["Content-Type"] = base.HeaderValue{"application/sdp"}
			res.Body = s.sdp
		case base.Setup:
			var th headers.Transport
			switch {
			case perr != nil || track < 0:
				res.StatusCode = base.StatusNotFound
			case th.Unmarshal(req.Header["Transport"]) != nil || th.Protocol != headers.TransportProtocolTCP:
				res.StatusCode = base.StatusUnsupportedTransport
			default:
				ids := [2]int{2 * track, 2*track + 1}
				if th.InterleavedIDs != nil {
					ids = *th.InterleavedIDs
				}
				r.ch[track] = ids[0]
				unicast := headers.TransportDeliveryUnicast
				res.Header["Transport"] = headers.Transport{
					Protocol: headers.TransportProtocolTCP, Delivery: &unicast, InterleavedIDs: &ids,
				}.Marshal()
				res.Header["Session"] = base.HeaderValue{session + ";timeout=60"}
			}
		case base.Play:
			if perr != nil {
				res.StatusCode = base.StatusNotFound
				break
			}
			res.Header["Session"] = base.HeaderValue{session}
		case base.Teardown:
			cn.WriteResponse(res) //nolint:errcheck // ending anyway
			return
		default: // GET_PARAMETER, SET_PARAMETER: keep-alives
			res.Header["Session"] = base.HeaderValue{session}
		}
		if err := cn.WriteResponse(res); err != nil {
			return
		}
		if req.Method == base.Play && res.StatusCode == base.StatusOK && st == nil {
			st = s.streams[cam-1]
			st.add(r)
		}
	}
}
