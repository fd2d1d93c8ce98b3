package ingest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
)

// startPublishServer runs a publish server on a free loopback port until
// the test ends.
func startPublishServer(t *testing.T, log *slog.Logger) *PublishServer {
	t.Helper()
	s, err := StartPublishServer("127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *PublishServer) testURL(path string) string {
	return fmt.Sprintf("rtsp://127.0.0.1:%d/%s", s.port, path)
}

// publishWorker runs a worker reading camera name of s until the test ends.
func publishWorker(t *testing.T, s *PublishServer, name, user, pass string) (*Worker, *recordSink) {
	t.Helper()
	sink := &recordSink{}
	w := &Worker{Name: name, Source: s.Source(name, user, pass), Sink: sink, Log: discardLog(),
		Backoff: Backoff{Min: 50 * time.Millisecond, Max: 100 * time.Millisecond}}
	runWorker(t, w)
	return w, sink
}

// testPublisher pushes the demo clip in real time, like ffmpeg -re would.
type testPublisher struct {
	c       *gortsplib.Client
	medi    *description.Media
	forma   *format.H264
	aus     [][][]byte
	paused  atomic.Bool
	stopped chan struct{}
	done    chan struct{}
	sent    atomic.Int64
}

// publish connects to url and starts sending; the error is the server's
// answer to ANNOUNCE, SETUP or RECORD.
func publish(t *testing.T, url string, protocol gortsplib.Protocol) (*testPublisher, error) {
	t.Helper()
	aus, sps, pps, err := demoAccessUnits()
	if err != nil {
		t.Fatal(err)
	}
	p := &testPublisher{
		forma:   &format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: sps, PPS: pps},
		aus:     aus,
		stopped: make(chan struct{}),
		done:    make(chan struct{}),
	}
	p.medi = &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{p.forma}}
	p.c = &gortsplib.Client{Protocol: &protocol}
	if err := p.c.StartRecording(url, &description.Session{Medias: []*description.Media{p.medi}}); err != nil {
		return nil, err
	}
	go p.run()
	t.Cleanup(p.close)
	return p, nil
}

func (p *testPublisher) run() {
	defer close(p.done)
	enc, err := p.forma.CreateEncoder()
	if err != nil {
		return
	}
	tick := time.NewTicker(time.Second / demoFPS)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-p.stopped:
			return
		case <-tick.C:
		}
		if p.paused.Load() {
			continue
		}
		pkts, err := enc.Encode(p.aus[n%len(p.aus)])
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			pkt.Timestamp = uint32(n * 90000 / demoFPS)
			if p.c.WritePacketRTP(p.medi, pkt) != nil {
				return
			}
		}
		p.sent.Add(1)
	}
}

// close disconnects the publisher (TEARDOWN and close, like ffmpeg on q).
func (p *testPublisher) close() {
	select {
	case <-p.stopped:
		return
	default:
	}
	close(p.stopped)
	<-p.done
	p.c.Close()
}

// connected reports whether the server still has the publisher's connection.
func (p *testPublisher) connected(within time.Duration) bool {
	done := make(chan error, 1)
	go func() { done <- p.c.Wait() }()
	select {
	case <-done:
		return false
	case <-time.After(within):
		return true
	}
}

func frames(sink *recordSink) int {
	_, n, _, _ := sink.snapshot()
	return n
}

// A publisher pushes H.264: the worker waits for it, saying where, then
// gets the tracks from the ANNOUNCE and the frames.
func TestPublishH264(t *testing.T) {
	for _, proto := range []gortsplib.Protocol{gortsplib.ProtocolTCP, gortsplib.ProtocolUDP} {
		t.Run(map[gortsplib.Protocol]string{gortsplib.ProtocolTCP: "tcp", gortsplib.ProtocolUDP: "udp"}[proto], func(t *testing.T) {
			s := startPublishServer(t, discardLog())
			if proto == gortsplib.ProtocolUDP && s.srv.UDPRTPAddress == "" {
				t.Skip("the UDP ports next to the random TCP port are taken")
			}
			w, sink := publishWorker(t, s, "cam", "", "")
			waitUntil(t, "waiting for a publisher", func() bool {
				return strings.Contains(w.Status().LastError, "waiting for a publisher at "+s.testURL("cam"))
			})
			if st := w.Status().State; st != StateOffline {
				t.Fatalf("state %s while no one publishes, want offline", st)
			}

			start := time.Now()
			if _, err := publish(t, s.testURL("cam"), proto); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "live with 25 frames", func() bool { return w.Status().State == StateLive && frames(sink) >= 25 })
			t.Logf("live with 25 frames %v after the publisher connected", time.Since(start).Round(time.Millisecond))
			sink.mu.Lock()
			tr := sink.starts[0]
			sink.mu.Unlock()
			if tr.Video == nil || tr.Video.Codec != CodecH264 || tr.Video.SPS == nil || tr.Video.PPS == nil {
				t.Fatalf("tracks %+v: want H.264 with SPS and PPS from the ANNOUNCE", tr.Video)
			}
			if _, _, _, back := sink.snapshot(); back {
				t.Fatal("pts went backwards")
			}
		})
	}
}

// With publishUser/publishPass a publisher must give them; a wrong or
// missing password is 401, and the password never reaches the log.
func TestPublishAuth(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(b)
	}), nil))
	s := startPublishServer(t, log)
	w, sink := publishWorker(t, s, "sec", "alice", "s3cret")

	for _, c := range []struct{ name, userinfo string }{
		{"no credentials", ""},
		{"wrong password", "alice:hunter2@"},
		{"wrong user", "bob:s3cret@"},
	} {
		_, err := publish(t, strings.Replace(s.testURL("sec"), "rtsp://", "rtsp://"+c.userinfo, 1), gortsplib.ProtocolTCP)
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("%s: err = %v, want 401", c.name, err)
		}
	}
	if n := frames(sink); n != 0 || w.Status().State == StateLive {
		t.Fatalf("refused publishers got through: %d frames", n)
	}

	if _, err := publish(t, strings.Replace(s.testURL("sec"), "rtsp://", "rtsp://alice:s3cret@", 1), gortsplib.ProtocolTCP); err != nil {
		t.Fatalf("right credentials: %v", err)
	}
	waitUntil(t, "live", func() bool { return w.Status().State == StateLive && frames(sink) > 0 })

	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), "s3cret") || strings.Contains(logs.String(), "hunter2") {
		t.Fatalf("a password is in the log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "wrong user or password") {
		t.Errorf("the wrong password is not logged as such:\n%s", logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// A second publisher on a busy camera is refused with a reason it can
// print, and the first one is not disturbed.
func TestPublishSecondPublisherRefused(t *testing.T) {
	s := startPublishServer(t, discardLog())
	w, sink := publishWorker(t, s, "cam", "", "")
	first, err := publish(t, s.testURL("cam"), gortsplib.ProtocolTCP)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "live", func() bool { return w.Status().State == StateLive && frames(sink) >= 5 })

	for _, proto := range []gortsplib.Protocol{gortsplib.ProtocolTCP, gortsplib.ProtocolUDP} {
		_, err = publish(t, s.testURL("cam"), proto)
		if err == nil || !strings.Contains(err.Error(), "409") || !strings.Contains(err.Error(), `camera "cam" already has a publisher`) {
			t.Fatalf("second publisher: err = %v, want 409 camera \"cam\" already has a publisher", err)
		}
	}
	before := frames(sink)
	time.Sleep(500 * time.Millisecond)
	if after := frames(sink); after < before+5 {
		t.Fatalf("the first publisher stalled after the refusal: %d frames, then %d", before, after)
	}
	if !first.connected(100 * time.Millisecond) {
		t.Fatal("the first publisher was disconnected")
	}
	if st := w.Status(); st.State != StateLive || st.Reconnects != 0 {
		t.Fatalf("camera %s with %d reconnects, want live with none", st.State, st.Reconnects)
	}
}

// Paths that are not publish cameras are 404, with a hint for case.
func TestPublishUnknownPath(t *testing.T) {
	s := startPublishServer(t, discardLog())
	publishWorker(t, s, "cam", "", "")
	for path, want := range map[string]string{
		"nope": `404 (no camera "nope" with source publish on this server)`,
		"":     `404 (no camera "" with source publish`,
		"Cam":  `did you mean "cam"?`,
	} {
		_, err := publish(t, s.testURL(path), gortsplib.ProtocolTCP)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("/%s: err = %v, want %s", path, err, want)
		}
	}
}

// A player is told that this server only takes streams in.
func TestPublishServerIsNotAPlayerServer(t *testing.T) {
	s := startPublishServer(t, discardLog())
	publishWorker(t, s, "cam", "", "")
	c := &gortsplib.Client{}
	u, err := base.ParseURL(s.testURL("cam"))
	if err != nil {
		t.Fatal(err)
	}
	c.Scheme, c.Host = u.Scheme, u.Host
	if err = c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _, err = c.Describe(u)
	if err == nil || !strings.Contains(err.Error(), "405") || !strings.Contains(err.Error(), "only takes publishers") {
		t.Fatalf("DESCRIBE: err = %v, want 405 ... only takes publishers", err)
	}
}

// The publisher leaves: the read ends, the camera goes offline saying so,
// and the next publisher is taken by the next read.
func TestPublishDisconnectAndNewPublisher(t *testing.T) {
	s := startPublishServer(t, discardLog())
	w, sink := publishWorker(t, s, "cam", "", "")
	first, err := publish(t, s.testURL("cam"), gortsplib.ProtocolTCP)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "live", func() bool { return w.Status().State == StateLive && frames(sink) >= 5 })

	first.close()
	waitUntil(t, "offline after the publisher left", func() bool {
		st := w.Status()
		return st.State == StateOffline && st.Reconnects == 1
	})
	waitUntil(t, "waiting again", func() bool { return strings.Contains(w.Status().LastError, "waiting for a publisher") })

	if _, err = publish(t, s.testURL("cam"), gortsplib.ProtocolTCP); err != nil {
		t.Fatalf("second publisher after the first left: %v", err)
	}
	before := frames(sink)
	waitUntil(t, "live again", func() bool { return w.Status().State == StateLive && frames(sink) >= before+5 })
	if starts, _, stops, _ := sink.snapshot(); starts != 2 || stops != 1 {
		t.Fatalf("sink got %d starts and %d stops, want 2 and 1", starts, stops)
	}
}

// The read that ends says why: the first sink Stop carries it.
func TestPublishDisconnectReason(t *testing.T) {
	s := startPublishServer(t, discardLog())
	_, sink := publishWorker(t, s, "cam", "", "")
	p, err := publish(t, s.testURL("cam"), gortsplib.ProtocolTCP)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "frames", func() bool { return frames(sink) > 0 })
	p.close()
	waitUntil(t, "stop", func() bool { _, _, stops, _ := sink.snapshot(); return stops == 1 })
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if got := sink.stops[0].Error(); got != "publisher disconnected" {
		t.Fatalf("stop reason %q, want publisher disconnected", got)
	}
}

// A publisher that stops sending video is cut off by the worker's stall
// watchdog: the read closes its session, and a new publisher works.
func TestPublishStalledPublisherDisconnected(t *testing.T) {
	s := startPublishServer(t, discardLog())
	sink := &recordSink{}
	w := &Worker{Name: "cam", Source: s.Source("cam", "", ""), Sink: sink, Log: discardLog(),
		ReadTimeout: 600 * time.Millisecond, Backoff: Backoff{Min: 50 * time.Millisecond, Max: 100 * time.Millisecond}}
	runWorker(t, w)
	p, err := publish(t, s.testURL("cam"), gortsplib.ProtocolTCP)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "live", func() bool { return w.Status().State == StateLive })

	p.paused.Store(true) // connected, sending nothing
	waitUntil(t, "the connection to end", func() bool { _, _, stops, _ := sink.snapshot(); return stops == 1 })
	done := make(chan error, 1)
	go func() { done <- p.c.Wait() }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("the stalled publisher is still connected")
	}
	sink.mu.Lock()
	reason := sink.stops[0].Error()
	sink.mu.Unlock()
	if !strings.Contains(reason, "no video for") {
		t.Fatalf("stop reason %q, want no video for ...", reason)
	}

	if _, err = publish(t, s.testURL("cam"), gortsplib.ProtocolTCP); err != nil {
		t.Fatalf("new publisher after the stalled one: %v", err)
	}
	waitUntil(t, "live again", func() bool { return w.Status().State == StateLive })
}

// A publisher may arrive while the camera's worker is not reading (before
// it starts, between attempts, during a reload): it is held for the next
// read rather than refused.
func TestPublishBeforeReadStarts(t *testing.T) {
	s := startPublishServer(t, discardLog())
	src := s.Source("cam", "", "")
	if _, err := publish(t, s.testURL("cam"), gortsplib.ProtocolTCP); err != nil {
		t.Fatalf("publisher before the first read: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	sink := &recordSink{}
	w := &Worker{Name: "cam", Source: src, Sink: sink, Log: discardLog()}
	runWorker(t, w)
	waitUntil(t, "live", func() bool { return w.Status().State == StateLive && frames(sink) >= 5 })
}

// When the camera stops (removed, or restarted by a reload), its publisher
// is disconnected and the path is no longer taken.
func TestPublishCameraStopped(t *testing.T) {
	s := startPublishServer(t, discardLog())
	sink := &recordSink{}
	w := &Worker{Name: "cam", Source: s.Source("cam", "", ""), Sink: sink, Log: discardLog()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	p, err := publish(t, s.testURL("cam"), gortsplib.ProtocolTCP)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "live", func() bool { return w.Status().State == StateLive })
	cancel()
	<-done
	if p.connected(2 * time.Second) {
		t.Fatal("the publisher of a stopped camera is still connected")
	}
	if _, err = publish(t, s.testURL("cam"), gortsplib.ProtocolTCP); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("publishing to a stopped camera: err = %v, want 404", err)
	}
}

// Garbage is answered 400 and breaks nothing: the server goes on taking
// publishers.
func TestPublishBadAnnounce(t *testing.T) {
	s := startPublishServer(t, discardLog())
	w, sink := publishWorker(t, s, "cam", "", "")

	for name, sdp := range map[string]string{
		"garbage":  "this is not an SDP\r\n\x00\xff",
		"no video": "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\na=control:trackID=0\r\n",
	} {
		status := rawAnnounce(t, s, "cam", sdp)
		if !strings.HasPrefix(status, "RTSP/1.0 400") {
			t.Fatalf("%s: answer %q, want 400", name, status)
		}
		t.Logf("%s: %s", name, status)
	}
	// A client that is not RTSP at all.
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port))
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("\x16\x03\x01 not rtsp \r\n\r\n"))
	c.Close()

	if _, err := publish(t, s.testURL("cam"), gortsplib.ProtocolTCP); err != nil {
		t.Fatalf("good publisher after bad ones: %v", err)
	}
	waitUntil(t, "live", func() bool { return w.Status().State == StateLive && frames(sink) >= 5 })
}

// rawAnnounce sends one ANNOUNCE with body sdp and returns the status line.
func rawAnnounce(t *testing.T, s *PublishServer, path, sdp string) string {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "ANNOUNCE %s RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		s.testURL(path), len(sdp), sdp)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return strings.TrimSpace(line)
}
