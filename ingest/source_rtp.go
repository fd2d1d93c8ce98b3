package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/headers"
	"github.com/bluenviron/gortsplib/v5/pkg/rtpreceiver"
	"github.com/bluenviron/gortsplib/v5/pkg/rtptime"
	"github.com/bluenviron/gortsplib/v5/pkg/sdpunmarshaler"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// RTPSource receives raw RTP over UDP as described by an SDP: the stream
// a camera, ffmpeg (-f rtp) or GStreamer (udpsink) sends to a fixed
// address, with no RTSP around it.
//
// Ports: the video is received on Addr's port, whatever the SDP's m=video
// line says. Another media (audio) is received on the port of its own m=
// line, on the same IP; a media whose m= port equals the video's (in the
// SDP or in Addr) shares the video's socket, and packets are told apart
// by payload type. A media with port 0 is disabled and ignored. The SDP's
// c= addresses are not used: Addr says where to listen, or which
// multicast group to join.
//
// RTCP is neither needed nor listened for: rtsp2hls does not bind port+1
// (which could be another camera's port). RTCP that arrives on an RTP
// port (rtcp-mux) is recognised and ignored.
//
// Each media is locked to the first SSRC it receives; packets of another
// SSRC are dropped while that one is alive. Once it has been silent for
// ssrcTakeover, a new SSRC (a restarted sender) ends the connection, and
// the worker starts a new one, which follows it with fresh timestamps.
type RTPSource struct {
	Addr netip.AddrPort // address to listen on, or multicast group to join
	SDP  string

	// ReorderBuffer is how many packets may wait for a missing one, per
	// media, before it is counted lost and they go on without it: a power
	// of two. Zero means rtpReorderBuffer.
	ReorderBuffer int

	stats    rtpStats  // totals over all connections
	logged   rtpCounts // stats when drops were last logged
	loggedAt time.Time
}

// rtpStats counts what a source received and dropped. Dropped packets
// are never logged one by one: a hostile or broken sender would flood
// the log. The counts are logged at most once a minute, and said in the
// status while nothing else arrives.
type rtpStats struct {
	received  atomic.Uint64 // RTP packets of a carried media, with its SSRC
	malformed atomic.Uint64 // not RTP: too short, wrong version, bad header
	unknownPT atomic.Uint64 // a payload type no carried media has on that port
	otherSSRC atomic.Uint64 // an SSRC other than the media's current one
	rtcp      atomic.Uint64 // RTCP on an RTP port (rtcp-mux), ignored
	otherDest atomic.Uint64 // multicast to another group on the same port
	lastPT    atomic.Uint32 // the last unknown payload type
}

type rtpCounts struct{ received, malformed, unknownPT, otherSSRC, rtcp, otherDest uint64 }

func (s *rtpStats) snapshot() rtpCounts {
	return rtpCounts{s.received.Load(), s.malformed.Load(), s.unknownPT.Load(), s.otherSSRC.Load(), s.rtcp.Load(), s.otherDest.Load()}
}

// dropped counts the packets dropped that were sent to this camera's
// address. Multicast for another group on the same port is not among
// them: the kernel hands it to every socket on the port, it is someone
// else's stream.
func (c rtpCounts) dropped() uint64 { return c.malformed + c.unknownPT + c.otherSSRC }

func (c rtpCounts) sub(o rtpCounts) rtpCounts {
	return rtpCounts{c.received - o.received, c.malformed - o.malformed, c.unknownPT - o.unknownPT,
		c.otherSSRC - o.otherSSRC, c.rtcp - o.rtcp, c.otherDest - o.otherDest}
}

const (
	// rtpMaxDatagram is the read buffer: the largest UDP payload, so that
	// no datagram is silently truncated.
	rtpMaxDatagram = 65536
	// rtpSocketBuffer is the kernel receive buffer asked for, so that the
	// burst of packets of a large IDR frame is not dropped (the kernel
	// caps it at net.core.rmem_max).
	rtpSocketBuffer = 4 << 20
	// rtpReorderBuffer is the default ReorderBuffer. gortsplib's reorderer
	// waits for a missing packet until this many later ones have come, not
	// for a time: its default of 64 holds a low-rate stream (a 320x240
	// camera sends 30 packets a second, Opus 50) for 1 to 2 s after each
	// loss, which LL-HLS would show as a stall. 16 packets is 30 to 80 ms
	// at usual camera rates, half a second at the lowest, and still more
	// than the reordering of real networks, a few packets.
	rtpReorderBuffer = 16
	// ssrcTakeover is how long a media's SSRC must have been silent before
	// a packet of another SSRC is taken for a restarted sender.
	ssrcTakeover = 2 * time.Second
	// rtpWaitingAfter is how long a connection may receive nothing before
	// the camera is shown offline, waiting for RTP.
	rtpWaitingAfter = time.Second
	// rtpStatsEvery is how often at most the drop counts are logged.
	rtpStatsEvery = time.Minute
)

// errSenderRestarted ends a connection whose sender came back with a new
// SSRC, so that the next one starts its timestamps afresh.
var errSenderRestarted = errors.New("the sender restarted")

// rtpMedia is one carried media of an RTP connection: its depacketizer,
// reorderer and loss counter, and the SSRC it is locked to. It is used by
// the goroutine of its socket only.
type rtpMedia struct {
	track  *rtpTrack
	recv   *rtpreceiver.Receiver
	ssrc   uint32
	locked bool
	last   time.Time // arrival of the last packet of ssrc
}

// rtpSocket is one UDP port of a connection with the medias it carries.
type rtpSocket struct {
	port uint16
	conn net.PacketConn
	// read reads a datagram and says whether it was sent to the camera's
	// address: always for unicast; for multicast, to its group.
	read func(b []byte) (int, bool, error)
	byPT map[uint8]*rtpMedia
}

// Read implements Source.
func (s *RTPSource) Read(ctx context.Context, feed *Feed) error {
	if !s.Addr.IsValid() || s.Addr.Port() == 0 {
		return fmt.Errorf("rtp: invalid address %q", s.Addr)
	}
	desc, ports, err := parseRTPSDP(s.SDP)
	if err != nil {
		return err
	}
	tracks, list, err := rtpTracks(desc, feed.w.skip)
	if err != nil {
		return err
	}
	socks, err := s.plan(list, ports)
	if err != nil {
		return err
	}
	for _, so := range socks {
		if err = s.listen(so); err != nil {
			closeRTPSockets(socks)
			return err
		}
	}
	// Closing the sockets is what ends the reads.
	var closeOnce sync.Once
	closeAll := func() { closeOnce.Do(func() { closeRTPSockets(socks) }) }
	defer closeAll()
	stop := context.AfterFunc(ctx, closeAll)
	defer stop()

	bufSize := s.ReorderBuffer
	if bufSize <= 0 || bufSize&(bufSize-1) != 0 {
		bufSize = rtpReorderBuffer
	}
	for _, so := range socks {
		for _, m := range so.byPT {
			if m.recv != nil {
				continue // already made for another payload type of the same media
			}
			m.recv = &rtpreceiver.Receiver{
				ClockRate:            m.track.Format.ClockRate(),
				UnrealiableTransport: true,
				BufferSize:           bufSize,
				// Receiver reports are not sent (there is no RTCP port);
				// the period only paces an idle goroutine.
				Period:          time.Hour,
				WritePacketRTCP: func(rtcp.Packet) {},
			}
			if err = m.recv.Initialize(); err != nil {
				return err
			}
			defer m.recv.Close()
		}
	}

	if err = feed.Start(tracks); err != nil {
		return err
	}

	var dec rtptime.GlobalDecoder
	dec.Initialize()
	before := s.stats.snapshot()
	errs := make(chan error, len(socks))
	var wg sync.WaitGroup
	for _, so := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.receive(so, feed, &dec)
		}()
	}

	// Wait for the first reader to fail, or for all of them to end
	// (ctx is done: the sockets are closed).
	started := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for running := len(socks); running > 0 && err == nil; {
		select {
		case err = <-errs:
			running--
		case <-tick.C:
			// Connecting for a while first: a sender that restarted is
			// usually back by then, and the reason it went away stays the
			// last error.
			if time.Since(started) >= rtpWaitingAfter && s.stats.received.Load() == before.received {
				feed.Waiting(s.waitingFor(socks, s.stats.snapshot().sub(before)))
			}
			s.logDrops(feed)
		}
	}
	closeAll()
	wg.Wait()
	s.logDrops(feed)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// logDrops logs the packets dropped since the last time, at most once per
// rtpStatsEvery, whatever the number of connections in between.
func (s *RTPSource) logDrops(feed *Feed) {
	now := s.stats.snapshot()
	d := now.sub(s.logged)
	if d.dropped() == 0 || time.Since(s.loggedAt) < rtpStatsEvery {
		return
	}
	s.logged, s.loggedAt = now, time.Now()
	feed.w.Log.Warn("rtp: dropping packets that are not the camera's stream", "camera", feed.w.Name,
		"received", d.received, "notRTP", d.malformed, "unknownPayloadType", d.unknownPT,
		"lastUnknownPayloadType", s.stats.lastPT.Load(), "otherSSRC", d.otherSSRC)
}

// waitingFor says what a connection that has received nothing waits for,
// and what it dropped instead: most often a sender whose payload type is
// not the SDP's.
func (s *RTPSource) waitingFor(socks []*rtpSocket, d rtpCounts) string {
	msg := "waiting for RTP on " + s.describe(socks)
	var pts []string
	for _, so := range socks {
		for pt := range 128 {
			if so.byPT[uint8(pt)] != nil {
				pts = append(pts, fmt.Sprint(pt))
			}
		}
	}
	if d.unknownPT > 0 {
		msg += fmt.Sprintf("; dropped %d packets of payload type %d, which is not in the SDP (it has %s)",
			d.unknownPT, s.stats.lastPT.Load(), strings.Join(pts, ", "))
	}
	if d.malformed > 0 {
		msg += fmt.Sprintf("; dropped %d datagrams that are not RTP", d.malformed)
	}
	if d.otherSSRC > 0 {
		msg += fmt.Sprintf("; dropped %d packets of another sender", d.otherSSRC)
	}
	if d.otherDest > 0 {
		msg += fmt.Sprintf("; dropped %d packets sent to this port on another address than %s", d.otherDest, s.Addr.Addr())
	}
	return msg
}

// describe says where a connection listens, for the status.
func (s *RTPSource) describe(socks []*rtpSocket) string {
	ports := ""
	for i, so := range socks {
		if i > 0 {
			ports += ","
		}
		ports += fmt.Sprint(so.port)
	}
	what := "udp " + s.Addr.Addr().String()
	if s.Addr.Addr().IsMulticast() {
		what = "multicast group " + s.Addr.Addr().String()
	}
	return fmt.Sprintf("%s port %s", what, ports)
}

// parseRTPSDP parses an SDP into a description, leaving out media that
// cannot be received (port 0, or encrypted), and returns the m= port of
// each remaining media.
func parseRTPSDP(text string) (*description.Session, map[*description.Media]uint16, error) {
	sd, err := sdpunmarshaler.Unmarshal([]byte(text))
	if err != nil {
		return nil, nil, fmt.Errorf("invalid SDP: %w", err)
	}
	var desc description.Session
	if err = desc.Unmarshal2(sd); err != nil {
		return nil, nil, fmt.Errorf("invalid SDP: %w", err)
	}
	ports := map[*description.Media]uint16{}
	var kept []*description.Media
	for i, m := range desc.Medias {
		port := sd.MediaDescriptions[i].MediaName.Port.Value
		if port <= 0 || port > 65535 || m.Profile != headers.TransportProfileAVP {
			continue
		}
		kept = append(kept, m)
		ports[m] = uint16(port)
	}
	desc.Medias = kept
	return &desc, ports, nil
}

// plan decides which socket each track is received on (see RTPSource).
func (s *RTPSource) plan(list []*rtpTrack, ports map[*description.Media]uint16) ([]*rtpSocket, error) {
	var sdpVideoPort uint16
	for _, t := range list {
		if t.video {
			sdpVideoPort = ports[t.Media]
		}
	}
	var socks []*rtpSocket
	byPort := map[uint16]*rtpSocket{}
	for _, t := range list {
		port := ports[t.Media]
		if t.video || port == sdpVideoPort {
			port = s.Addr.Port()
		}
		so := byPort[port]
		if so == nil {
			so = &rtpSocket{port: port, byPT: map[uint8]*rtpMedia{}}
			byPort[port] = so
			socks = append(socks, so)
		}
		m := &rtpMedia{track: t}
		for _, f := range t.Media.Formats {
			if f != t.Format {
				continue // a codec that is not carried: its packets count as unknown
			}
			pt := f.PayloadType()
			if o := so.byPT[pt]; o != nil {
				return nil, fmt.Errorf("rtp: %s and %s both use payload type %d on port %d; give them different payload types or ports in the SDP",
					o.track.Media.Type, t.Media.Type, pt, port)
			}
			so.byPT[pt] = m
		}
	}
	// The video socket first, so that it is bound first and named first.
	slices.SortStableFunc(socks, func(a, b *rtpSocket) int {
		switch {
		case a.port == s.Addr.Port():
			return -1
		case b.port == s.Addr.Port():
			return 1
		}
		return 0
	})
	return socks, nil
}

// listen opens the socket of so: a unicast listener, or a member of the
// multicast group of s.Addr on the interface the kernel routes it to (the
// IPv6 zone, if any, names the interface).
func (s *RTPSource) listen(so *rtpSocket) error {
	ip := s.Addr.Addr()
	network := "udp4"
	if ip.Is6() && !ip.Is4In6() {
		network = "udp6"
		if ip.IsUnspecified() {
			network = "udp" // [::] takes IPv4 too
		}
	}
	ua := &net.UDPAddr{IP: ip.AsSlice(), Port: int(so.port), Zone: ip.Zone()}
	if !ip.IsMulticast() {
		// No SO_REUSEADDR: a second listener on the same port must fail
		// rather than silently share the packets. UDP has no TIME_WAIT, so
		// the port can be bound again as soon as it is closed.
		c, err := net.ListenUDP(network, ua)
		if err != nil {
			return fmt.Errorf("rtp: cannot listen on udp %s: %w", ua, unwrapOp(err))
		}
		_ = c.SetReadBuffer(rtpSocketBuffer)
		so.conn = c
		so.read = func(b []byte) (int, bool, error) {
			n, _, err := c.ReadFromUDP(b)
			return n, true, err
		}
		return nil
	}

	var ifi *net.Interface
	if ip.Zone() != "" {
		var err error
		if ifi, err = net.InterfaceByName(ip.Zone()); err != nil {
			return fmt.Errorf("rtp: multicast interface %q: %w", ip.Zone(), err)
		}
	}
	// ListenMulticastUDP binds the port on every address (with
	// SO_REUSEADDR, so that other groups, and other programs, can use the
	// same port) and joins the group. The kernel then delivers to the
	// socket every group joined on that port by anyone: each packet's
	// destination is checked, so that two cameras on different groups
	// and the same port do not get each other's packets.
	c, err := net.ListenMulticastUDP(network, ifi, ua)
	if err != nil {
		return fmt.Errorf("rtp: cannot join multicast group %s: %w", ua, unwrapOp(err))
	}
	_ = c.SetReadBuffer(rtpSocketBuffer)
	so.conn = c
	want := ip.WithZone("")
	if ip.Is4() {
		pc := ipv4.NewPacketConn(c)
		if pc.SetControlMessage(ipv4.FlagDst, true) != nil {
			so.read = func(b []byte) (int, bool, error) { n, _, err := c.ReadFromUDP(b); return n, true, err }
			return nil
		}
		so.read = func(b []byte) (int, bool, error) {
			n, cm, _, err := pc.ReadFrom(b)
			if err != nil || cm == nil || cm.Dst == nil {
				return n, true, err
			}
			dst, _ := netip.AddrFromSlice(cm.Dst)
			return n, dst.Unmap() == want, nil
		}
		return nil
	}
	pc := ipv6.NewPacketConn(c)
	if pc.SetControlMessage(ipv6.FlagDst, true) != nil {
		so.read = func(b []byte) (int, bool, error) { n, _, err := c.ReadFromUDP(b); return n, true, err }
		return nil
	}
	so.read = func(b []byte) (int, bool, error) {
		n, cm, _, err := pc.ReadFrom(b)
		if err != nil || cm == nil || cm.Dst == nil {
			return n, true, err
		}
		dst, _ := netip.AddrFromSlice(cm.Dst)
		return n, dst == want, nil
	}
	return nil
}

// unwrapOp drops the "listen udp4 0.0.0.0:5004:" prefix the net package
// puts on errors, which the caller's message says already.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

func closeRTPSockets(socks []*rtpSocket) {
	for _, so := range socks {
		if so.conn != nil {
			so.conn.Close()
		}
	}
}

// receive reads one socket until it is closed or its sender restarts.
func (s *RTPSource) receive(so *rtpSocket, feed *Feed, dec *rtptime.GlobalDecoder) error {
	buf := make([]byte, rtpMaxDatagram)
	for {
		n, ours, err := so.read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("rtp: receiving on port %d: %w", so.port, unwrapOp(err))
		}
		if !ours {
			s.stats.otherDest.Add(1)
			continue
		}
		if err = s.datagram(so, buf[:n], feed, dec); err != nil {
			return err
		}
	}
}

// datagram handles one UDP payload. Anything that is not an RTP packet of
// a carried media and its current SSRC is counted and dropped.
func (s *RTPSource) datagram(so *rtpSocket, b []byte, feed *Feed, dec *rtptime.GlobalDecoder) error {
	if len(b) < 12 || b[0]>>6 != 2 {
		s.stats.malformed.Add(1)
		return nil
	}
	if b[1] >= 192 && b[1] <= 223 {
		// RTCP sent to the RTP port (rtcp-mux). RFC 5761 keeps RTP
		// payload types off 64 to 95 so that this byte, RTCP's packet
		// type, tells the two apart.
		s.stats.rtcp.Add(1)
		return nil
	}
	m := so.byPT[b[1]&0x7f]
	if m == nil {
		s.stats.unknownPT.Add(1)
		s.stats.lastPT.Store(uint32(b[1] & 0x7f))
		return nil
	}
	// The packet is kept (reorder buffer, depacketizer) after the read
	// buffer is reused: it gets its own copy.
	pkt := &rtp.Packet{}
	if err := pkt.Unmarshal(bytes.Clone(b)); err != nil {
		s.stats.malformed.Add(1)
		return nil
	}
	now := time.Now()
	switch {
	case !m.locked:
		m.ssrc, m.locked = pkt.SSRC, true
	case pkt.SSRC != m.ssrc:
		if now.Sub(m.last) < ssrcTakeover {
			s.stats.otherSSRC.Add(1)
			return nil
		}
		return fmt.Errorf("%w: %s SSRC %08X after %s of silence from SSRC %08X",
			errSenderRestarted, m.track.Media.Type, pkt.SSRC, now.Sub(m.last).Round(100*time.Millisecond), m.ssrc)
	}
	m.last = now
	s.stats.received.Add(1)
	if m.track.video {
		feed.Alive()
	}

	f := m.track.Format
	pkts, lost := m.recv.ProcessPacket2(pkt, now, f.PTSEqualsDTS(pkt))
	if lost > 0 {
		feed.PacketsLost(lost)
	}
	for _, p := range pkts {
		pts, ok := dec.Decode(f, p)
		m.track.packet(feed, p, pts, ok)
	}
	return nil
}
