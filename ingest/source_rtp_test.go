package ingest

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtpsimpleaudio"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// freeUDPPort returns a UDP port of 127.0.0.1 that nothing listens on.
func freeUDPPort(t *testing.T) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

// h264SDP is the SDP of an H.264 stream on port, payload type 96, with
// the demo clip's parameter sets.
func h264SDP(t *testing.T, port uint16, extra ...string) string {
	t.Helper()
	_, sps, pps, err := demoAccessUnits()
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{"v=0", "o=- 0 0 IN IP4 127.0.0.1", "s=test", "c=IN IP4 127.0.0.1", "t=0 0",
		fmt.Sprintf("m=video %d RTP/AVP 96", port), "a=rtpmap:96 H264/90000",
		"a=fmtp:96 packetization-mode=1; sprop-parameter-sets=" +
			base64.StdEncoding.EncodeToString(sps) + "," + base64.StdEncoding.EncodeToString(pps)}
	return strings.Join(append(lines, extra...), "\r\n") + "\r\n"
}

// rtpTestSender sends the demo clip as H.264 RTP to a UDP port, looping
// it with growing timestamps. It can lose and reorder packets on purpose.
type rtpTestSender struct {
	t    *testing.T
	conn *net.UDPConn
	to   *net.UDPAddr
	enc  *rtph264.Encoder
	aus  [][][]byte

	dropEvery int // drop the packets whose index ≡ -1 mod dropEvery
	swapEvery int // send the packet whose index ≡ -1 mod swapEvery after the next one
	garble    func(p *rtp.Packet) bool

	mu      sync.Mutex
	frames  int // access units sent
	packets int // packets made, dropped ones included
	dropped int
	held    *rtp.Packet
}

func newRTPTestSender(t *testing.T, to netip.AddrPort, ssrc uint32) *rtpTestSender {
	t.Helper()
	aus, _, _, err := demoAccessUnits()
	if err != nil {
		t.Fatal(err)
	}
	network, local := "udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	switch {
	case to.Addr().Is6() && to.Addr().IsMulticast():
		network, local = "udp6", nil // from the interface's address
	case to.Addr().Is6():
		network, local = "udp6", &net.UDPAddr{IP: net.IPv6loopback}
	}
	conn, err := net.ListenUDP(network, local)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	seq := uint16(rand.Uint32())
	enc := &rtph264.Encoder{PayloadType: 96, SSRC: &ssrc, InitialSequenceNumber: &seq, PayloadMaxSize: 1200, PacketizationMode: 1}
	if err := enc.Init(); err != nil {
		t.Fatal(err)
	}
	return &rtpTestSender{t: t, conn: conn, to: net.UDPAddrFromAddrPort(to), enc: enc, aus: aus}
}

// frame sends the next access unit.
func (s *rtpTestSender) frame() {
	s.mu.Lock()
	defer s.mu.Unlock()
	au := s.aus[s.frames%len(s.aus)]
	pkts, err := s.enc.Encode(au)
	if err != nil {
		s.t.Error(err)
		return
	}
	for _, p := range pkts {
		p.Timestamp = uint32(0xFFFF0000) + uint32(s.frames*3600) // wraps early on
		i := s.packets
		s.packets++
		switch {
		case s.dropEvery > 0 && i%s.dropEvery == s.dropEvery-1:
			s.dropped++
			continue
		case s.garble != nil && s.garble(p):
		case s.swapEvery > 0 && i%s.swapEvery == s.swapEvery-1:
			s.held = p
			continue
		}
		s.write(p)
		if s.held != nil {
			s.write(s.held)
			s.held = nil
		}
	}
	s.frames++
}

// flush sends a packet held back to be reordered.
func (s *rtpTestSender) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held != nil {
		s.write(s.held)
		s.held = nil
	}
}

func (s *rtpTestSender) write(p *rtp.Packet) {
	b, err := p.Marshal()
	if err != nil {
		s.t.Error(err)
		return
	}
	s.raw(b)
}

func (s *rtpTestSender) raw(b []byte) {
	// Unconnected: a port nobody listens on yet is no error.
	s.conn.WriteToUDP(b, s.to) //nolint:errcheck
}

func (s *rtpTestSender) counts() (frames, packets, dropped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frames, s.packets, s.dropped
}

// run sends frames every interval until stop is closed.
func (s *rtpTestSender) run(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				s.frame()
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(done); <-finished }) }
	s.t.Cleanup(stop)
	return stop
}

// rtpWorker runs a worker with an RTP source until the test ends.
func rtpWorker(t *testing.T, src *RTPSource, sink Sink) *Worker {
	w := &Worker{Name: "rtp", Source: src, Sink: sink, Log: discardLog(),
		ReadTimeout: 10 * time.Second, Backoff: Backoff{Min: 50 * time.Millisecond, Max: 100 * time.Millisecond}}
	runWorker(t, w)
	if src.Addr.Addr().IsMulticast() {
		waitUntil(t, "the source to listen", func() bool {
			return strings.Contains(w.Status().LastError, "waiting for RTP")
		})
		return w
	}
	waitUntil(t, "the source to listen", func() bool {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(src.Addr))
		if err != nil {
			return true // taken: the source has it
		}
		c.Close()
		return false
	})
	return w
}

func TestRTPSourceFrames(t *testing.T) {
	port := freeUDPPort(t)
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	sink := &recordSink{}
	w := rtpWorker(t, &RTPSource{Addr: addr, SDP: h264SDP(t, port)}, sink)
	if st := w.Status(); st.State != StateConnecting {
		t.Fatalf("listening: %+v", st)
	}
	waitUntil(t, "offline, waiting for RTP", func() bool {
		st := w.Status()
		return st.State == StateOffline && st.LastError == fmt.Sprintf("waiting for RTP on udp 127.0.0.1 port %d", port)
	})
	snd := newRTPTestSender(t, addr, 0x1234)
	snd.run(4 * time.Millisecond)
	waitUntil(t, "live with 100 frames", func() bool {
		_, frames, _, _ := sink.snapshot()
		return w.Status().State == StateLive && frames >= 100
	})
	starts, frames, stops, back := sink.snapshot()
	if starts != 1 || stops != 0 || back {
		t.Fatalf("starts %d stops %d, pts went back: %v", starts, stops, back)
	}
	sink.mu.Lock()
	tr := sink.starts[0]
	sink.mu.Unlock()
	if tr.Video.Codec != CodecH264 || tr.Video.SPS == nil || tr.Audio != nil {
		t.Fatalf("tracks %+v %+v", tr.Video, tr.Audio)
	}
	if st := w.Status(); st.PacketsLost != 0 {
		t.Fatalf("%d packets lost on loopback", st.PacketsLost)
	}
	t.Logf("%d frames, timestamps wrapped through 2^32 on the way", frames)
}

// Reordered packets still make every frame; lost ones are counted.
func TestRTPSourceReorderAndLoss(t *testing.T) {
	for _, c := range []struct {
		name                 string
		dropEvery, swapEvery int
	}{
		{"reorder", 0, 7},
		{"loss", 23, 0},
		{"both", 31, 11},
	} {
		t.Run(c.name, func(t *testing.T) {
			port := freeUDPPort(t)
			addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
			sink := &recordSink{}
			src := &RTPSource{Addr: addr, SDP: h264SDP(t, port)}
			w := rtpWorker(t, src, sink)
			snd := newRTPTestSender(t, addr, 0xCAFE)
			snd.dropEvery, snd.swapEvery = c.dropEvery, c.swapEvery
			for range 300 {
				snd.frame()
				time.Sleep(2 * time.Millisecond)
			}
			snd.flush()
			sent, packets, dropped := snd.counts()
			waitUntil(t, "the packets", func() bool { return src.stats.received.Load() == uint64(packets-dropped) })
			time.Sleep(50 * time.Millisecond)
			_, frames, _, back := sink.snapshot()
			lost := w.Status().PacketsLost
			t.Logf("sent %d frames in %d packets, dropped %d; got %d frames, %d packets reported lost", sent, packets, dropped, frames, lost)
			if back {
				t.Fatal("pts went back")
			}
			if dropped == 0 {
				if frames != sent || lost != 0 {
					t.Fatalf("got %d of %d frames, %d lost; want all, none lost", frames, sent, lost)
				}
				return
			}
			// A gap is declared lost when 16 later packets have come (the
			// reorder buffer): the last one may not be counted yet. A
			// reordered packet still on its way at that moment comes too
			// late and is counted lost too.
			most := uint64(dropped)
			if c.swapEvery > 0 {
				most *= 2
			}
			if lost > most || lost < uint64(dropped)-rtpReorderBuffer/uint64(c.dropEvery)-1 {
				t.Fatalf("%d reported lost, %d dropped", lost, dropped)
			}
			if frames < sent*3/4 {
				t.Fatalf("only %d of %d frames", frames, sent)
			}
		})
	}
}

// A hostile sender: garbage, huge datagrams, random payload types and
// SSRCs, RTCP, broken payloads. Nothing crashes, the stream plays, and the
// drops are counted.
func TestRTPSourceGarbage(t *testing.T) {
	port := freeUDPPort(t)
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	sink := &recordSink{}
	src := &RTPSource{Addr: addr, SDP: h264SDP(t, port)}
	w := rtpWorker(t, src, sink)
	rng := rand.New(rand.NewPCG(1, 2))
	grng := rand.New(rand.NewPCG(3, 4)) // the sender's goroutine's
	snd := newRTPTestSender(t, addr, 0xBEEF)
	snd.garble = func(p *rtp.Packet) bool {
		if grng.IntN(20) == 0 { // a broken payload in the real stream
			p.Payload = make([]byte, grng.IntN(1400))
			for i := range p.Payload {
				p.Payload[i] = byte(grng.Uint32())
			}
		}
		return false
	}
	stop := snd.run(4 * time.Millisecond)
	waitUntil(t, "live", func() bool { return w.Status().State == StateLive })

	evil, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer evil.Close()
	sr, _ := (&rtcp.SenderReport{SSRC: 0xBEEF, NTPTime: 1, RTPTime: 2}).Marshal()
	for i := range 20000 {
		var b []byte
		switch i % 6 {
		case 0: // noise
			b = make([]byte, rng.IntN(1500))
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
		case 1: // the largest datagram there is
			b = make([]byte, 65507)
		case 2: // RTP with random payload type, SSRC and sequence
			p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: uint8(rng.IntN(128)), SequenceNumber: uint16(rng.Uint32()),
				Timestamp: rng.Uint32(), SSRC: rng.Uint32(), Marker: rng.IntN(2) == 0}, Payload: []byte{0x7c, 0x85, 1, 2, 3}}
			b, _ = p.Marshal()
		case 3: // the camera's payload type with another SSRC
			p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(i), Timestamp: rng.Uint32(), SSRC: 0xEE11}, Payload: []byte{0x65, 1, 2}}
			b, _ = p.Marshal()
		case 4:
			b = sr
		case 5: // a header that promises more than there is
			b = []byte{0x9f, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0xbe, 0xef, 0, 0, 0, 0}
		}
		evil.Write(b) //nolint:errcheck
		if i%200 == 0 {
			time.Sleep(time.Millisecond) // let the camera's packets in too
		}
	}
	_, before, _, _ := sink.snapshot()
	time.Sleep(300 * time.Millisecond)
	_, after, _, _ := sink.snapshot()
	stop()
	st := w.Status()
	c := src.stats.snapshot()
	t.Logf("received %d, malformed %d, unknown payload type %d, other SSRC %d, RTCP %d; frames %d; lost %d",
		c.received, c.malformed, c.unknownPT, c.otherSSRC, c.rtcp, after, st.PacketsLost)
	if st.State != StateLive || after <= before {
		t.Fatalf("state %s, frames %d then %d: the stream stopped", st.State, before, after)
	}
	if c.malformed == 0 || c.unknownPT == 0 || c.otherSSRC == 0 || c.rtcp == 0 {
		t.Fatalf("drops not counted: %+v", c)
	}
	if starts, _, _, _ := sink.snapshot(); starts != 1 {
		t.Fatalf("%d starts: the garbage restarted the connection", starts)
	}
}

// Cancelling returns at once and frees the port.
func TestRTPSourceCancel(t *testing.T) {
	port := freeUDPPort(t)
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	sink := &recordSink{}
	w := &Worker{Name: "rtp", Source: &RTPSource{Addr: addr, SDP: h264SDP(t, port)}, Sink: sink, Log: discardLog()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	snd := newRTPTestSender(t, addr, 1)
	stop := snd.run(4 * time.Millisecond)
	waitUntil(t, "live", func() bool { return w.Status().State == StateLive })
	start := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return 2 s after cancel")
	}
	stop()
	t.Logf("returned %v after cancel", time.Since(start).Round(time.Microsecond))
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatalf("the port is still taken: %v", err)
	}
	c.Close()
}

// With no sender the watchdog ends the connection, the camera is offline
// and the port is listened on again.
func TestRTPSourceNoSenderRelistens(t *testing.T) {
	port := freeUDPPort(t)
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	sink := &recordSink{}
	w := &Worker{Name: "rtp", Source: &RTPSource{Addr: addr, SDP: h264SDP(t, port)}, Sink: sink, Log: discardLog(),
		ReadTimeout: 300 * time.Millisecond, Backoff: Backoff{Min: 50 * time.Millisecond, Max: 50 * time.Millisecond}}
	runWorker(t, w)
	waitUntil(t, "two reconnects", func() bool { return w.Status().Reconnects >= 2 })
	if st := w.Status(); st.State == StateLive {
		t.Fatalf("live with no sender: %+v", st)
	}
	snd := newRTPTestSender(t, addr, 1)
	stop := snd.run(4 * time.Millisecond)
	waitUntil(t, "live once a sender comes", func() bool { return w.Status().State == StateLive })
	stop()
	waitUntil(t, "offline when it stops", func() bool {
		st := w.Status()
		return st.State == StateOffline && strings.Contains(st.LastError, "no video")
	})
}

// IPv6: rtp://[::1]:PORT.
func TestRTPSourceIPv6(t *testing.T) {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("SKIPPED: no IPv6 loopback: %v", err)
	}
	port := uint16(c.LocalAddr().(*net.UDPAddr).Port)
	c.Close()
	addr := netip.AddrPortFrom(netip.IPv6Loopback(), port)
	sink := &recordSink{}
	w := rtpWorker(t, &RTPSource{Addr: addr, SDP: h264SDP(t, port)}, sink)
	newRTPTestSender(t, addr, 1).run(4 * time.Millisecond)
	waitUntil(t, "live over IPv6", func() bool {
		_, frames, _, _ := sink.snapshot()
		return w.Status().State == StateLive && frames >= 20
	})
}

// A sender that restarts with a new SSRC (and new sequence numbers and
// timestamps) is followed, through a new connection.
func TestRTPSourceSenderRestart(t *testing.T) {
	port := freeUDPPort(t)
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	sink := &recordSink{}
	w := rtpWorker(t, &RTPSource{Addr: addr, SDP: h264SDP(t, port)}, sink)
	a := newRTPTestSender(t, addr, 0xAAAA)
	stopA := a.run(4 * time.Millisecond)
	waitUntil(t, "live", func() bool { return w.Status().State == StateLive })
	stopA()
	b := newRTPTestSender(t, addr, 0xBBBB)
	b.run(4 * time.Millisecond)
	start := time.Now()
	waitUntil(t, "a second connection", func() bool { starts, _, _, _ := sink.snapshot(); return starts == 2 })
	_, n, _, _ := sink.snapshot()
	waitUntil(t, "frames of the new sender", func() bool {
		_, frames, _, _ := sink.snapshot()
		return frames > n+20 && w.Status().State == StateLive
	})
	st := w.Status()
	t.Logf("followed the new sender after %v: %q", time.Since(start).Round(time.Millisecond), st.LastError)
	if !strings.Contains(st.LastError, "sender restarted") || !strings.Contains(st.LastError, "0000BBBB") {
		t.Fatalf("last error %q", st.LastError)
	}
}

// A second source on a port in use fails, and says why.
func TestRTPSourcePortInUse(t *testing.T) {
	port := freeUDPPort(t)
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := &Worker{Name: "rtp", Source: &RTPSource{Addr: addr, SDP: h264SDP(t, port)}, Sink: &recordSink{}, Log: discardLog()}
	runWorker(t, w)
	waitUntil(t, "a failure", func() bool { return w.Status().Reconnects > 0 })
	if st := w.Status(); !strings.Contains(st.LastError, "address already in use") {
		t.Fatalf("last error %q", st.LastError)
	}
}

// audioSink counts audio frames too.
type audioSink struct {
	recordSink
	audio int
}

func (s *audioSink) WriteAudio(int64, time.Time, [][]byte) {
	s.mu.Lock()
	s.audio++
	s.mu.Unlock()
}

// Audio on its own port (as ffmpeg sends it, and as its SDP says).
func TestRTPSourceAudioPort(t *testing.T) {
	port, aport := freeUDPPort(t), freeUDPPort(t)
	for aport == port {
		aport = freeUDPPort(t)
	}
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	sdp := h264SDP(t, port, fmt.Sprintf("m=audio %d RTP/AVP 97", aport), "a=rtpmap:97 opus/48000/2")
	sink := &audioSink{}
	w := rtpWorker(t, &RTPSource{Addr: addr, SDP: sdp}, sink)
	waitUntil(t, "waiting on both ports", func() bool {
		return strings.Contains(w.Status().LastError, fmt.Sprintf("port %d,%d", port, aport))
	})
	snd := newRTPTestSender(t, addr, 1)
	snd.run(4 * time.Millisecond)
	enc := &rtpsimpleaudio.Encoder{PayloadType: 97}
	if err := enc.Init(); err != nil {
		t.Fatal(err)
	}
	ac, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(aport)})
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	waitUntil(t, "audio frames", func() bool {
		p, _ := enc.Encode([]byte{0xfc, 1, 2, 3})
		b, _ := p.Marshal()
		ac.Write(b) //nolint:errcheck
		time.Sleep(5 * time.Millisecond)
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return sink.audio >= 20 && sink.frames >= 20
	})
	sink.mu.Lock()
	tr := sink.starts[0]
	sink.mu.Unlock()
	if tr.Audio == nil || tr.Audio.Codec != CodecOpus {
		t.Fatalf("audio track %+v", tr.Audio)
	}
}

// Which port each media is received on.
func TestRTPSourcePlan(t *testing.T) {
	const head = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n"
	cases := []struct {
		name, sdp string
		want      string // port:payload types of each socket
		err       string
	}{
		{"video only, the URL port wins", head + "m=video 6000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n", "5004:96", ""},
		{"audio on its own port", head + "m=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 5006 RTP/AVP 97\r\na=rtpmap:97 opus/48000/2\r\n", "5004:96 5006:97", ""},
		{"audio on the video's SDP port", head + "m=video 6000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 6000 RTP/AVP 97\r\na=rtpmap:97 opus/48000/2\r\n", "5004:96,97", ""},
		{"audio on the URL port", head + "m=video 6000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 5004 RTP/AVP 97\r\na=rtpmap:97 opus/48000/2\r\n", "5004:96,97", ""},
		{"disabled audio", head + "m=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 opus/48000/2\r\n", "5004:96", ""},
		{"same payload type on one port", head + "m=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 5004 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n", "", "both use payload type 96"},
		{"G.711 is not carried", head + "m=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 5006 RTP/AVP 0\r\n", "5004:96", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &RTPSource{Addr: netip.MustParseAddrPort("127.0.0.1:5004"), SDP: c.sdp}
			desc, ports, err := parseRTPSDP(c.sdp)
			if err != nil {
				t.Fatal(err)
			}
			_, list, err := rtpTracks(desc, func(string) {})
			if err != nil {
				t.Fatal(err)
			}
			socks, err := s.plan(list, ports)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, so := range socks {
				var pts []string
				for pt := range 128 {
					if so.byPT[uint8(pt)] != nil {
						pts = append(pts, fmt.Sprint(pt))
					}
				}
				got = append(got, fmt.Sprintf("%d:%s", so.port, strings.Join(pts, ",")))
			}
			if g := strings.Join(got, " "); g != c.want {
				t.Fatalf("sockets %s, want %s", g, c.want)
			}
		})
	}
}

// Multicast, in a network namespace of its own so that nothing leaves
// this machine: the test runs itself again under unshare --net, where
// the only interface is a loopback with a multicast route.
func TestRTPSourceMulticast(t *testing.T) {
	inNetNS(t, "TestRTPSourceMulticast", multicastInNamespace)
}

func multicastInNamespace(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}

	// Two cameras on two groups and the same port: each gets its own.
	port := freeUDPPort(t)
	g1 := netip.AddrPortFrom(netip.MustParseAddr("239.255.0.1"), port)
	g2 := netip.AddrPortFrom(netip.MustParseAddr("239.255.0.2"), port)
	sink1, sink2 := &recordSink{}, &recordSink{}
	src1 := &RTPSource{Addr: g1, SDP: h264SDP(t, port)}
	src2 := &RTPSource{Addr: g2, SDP: h264SDP(t, port)}
	w1 := rtpWorker(t, src1, sink1)
	w2 := rtpWorker(t, src2, sink2)

	snd := newRTPTestSender(t, g1, 7)
	pc := ipv4.NewPacketConn(snd.conn)
	if err := pc.SetMulticastInterface(lo); err != nil {
		t.Fatal(err)
	}
	if err := pc.SetMulticastLoopback(true); err != nil {
		t.Fatal(err)
	}
	snd.run(4 * time.Millisecond)
	waitUntil(t, "the camera on 239.255.0.1 live", func() bool {
		_, frames, _, _ := sink1.snapshot()
		return w1.Status().State == StateLive && frames >= 50
	})
	time.Sleep(200 * time.Millisecond)
	_, frames1, _, _ := sink1.snapshot()
	_, frames2, _, _ := sink2.snapshot()
	c2 := src2.stats.snapshot()
	t.Logf("group 1: %d frames; group 2: %d frames, %d packets of the other group dropped", frames1, frames2, c2.otherDest)
	if frames2 != 0 || w2.Status().State == StateLive || c2.received != 0 {
		t.Fatalf("the camera on 239.255.0.2 got the other group's stream: %d frames", frames2)
	}

	// IPv6, on an interface named by the zone. Linux does not loop IPv6
	// multicast back on lo: a veth pair, inside this namespace too, takes
	// it from one end to the other.
	for _, args := range [][]string{
		{"link", "add", "rtp0", "type", "veth", "peer", "name", "rtp1"},
		{"link", "set", "rtp0", "up"},
		{"link", "set", "rtp1", "up"},
		{"-6", "addr", "add", "fd00::1/64", "dev", "rtp0", "nodad"},
		{"-6", "addr", "add", "fd00::2/64", "dev", "rtp1", "nodad"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v %s", strings.Join(args, " "), err, out)
		}
	}
	rtp0, err := net.InterfaceByName("rtp0")
	if err != nil {
		t.Fatal(err)
	}
	g6 := netip.AddrPortFrom(netip.MustParseAddr("ff15::1").WithZone("rtp1"), port)
	sink6 := &recordSink{}
	w6 := rtpWorker(t, &RTPSource{Addr: g6, SDP: h264SDP(t, port)}, sink6)
	snd6 := newRTPTestSender(t, netip.AddrPortFrom(g6.Addr().WithZone(""), port), 8)
	if err := ipv6.NewPacketConn(snd6.conn).SetMulticastInterface(rtp0); err != nil {
		t.Fatal(err)
	}
	snd6.run(4 * time.Millisecond)
	waitUntil(t, "the camera on [ff15::1%rtp1] live", func() bool {
		_, frames, _, _ := sink6.snapshot()
		return w6.Status().State == StateLive && frames >= 50
	})
	_, frames6, _, _ := sink6.snapshot()
	t.Logf("[ff15::1%%rtp1]: %d frames", frames6)
	fmt.Println("multicast ok")
}

// A sender whose payload type is not the SDP's: the status says so.
func TestRTPSourceWrongPayloadType(t *testing.T) {
	port := freeUDPPort(t)
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	w := rtpWorker(t, &RTPSource{Addr: addr, SDP: h264SDP(t, port)}, &recordSink{})
	snd := newRTPTestSender(t, addr, 1)
	snd.enc.PayloadType = 97
	snd.run(4 * time.Millisecond)
	want := "payload type 97, which is not in the SDP (it has 96)"
	waitUntil(t, "the status to name the payload type", func() bool { return strings.Contains(w.Status().LastError, want) })
	t.Logf("status: %s", w.Status().LastError)
}
