package camera

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/config"
	"github.com/rtsp2hls/rtsp2hls/ingest"
)

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func status(t *testing.T, s *Set, name string) Status {
	t.Helper()
	st, ok := s.Status(name)
	if !ok {
		t.Fatalf("no camera %s", name)
	}
	return st
}

func serve(h http.Handler, target, ua string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	if ua != "" {
		r.Header.Set("User-Agent", ua)
	}
	h.ServeHTTP(w, r)
	return w
}

func fetch(t *testing.T, s *Set, name, file string) *httptest.ResponseRecorder {
	t.Helper()
	h, ok := s.HLS(name)
	if !ok {
		t.Fatalf("no HLS handler for %s", name)
	}
	return serve(h, "/cams/"+name+"/"+file, "test")
}

// syncBuffer is a log destination the test reads while cameras write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func onDemand(c config.Camera, idle time.Duration) config.Camera {
	c.OnDemand, c.IdleTimeout = true, idle
	return c
}

func TestStatusFields(t *testing.T) {
	s := NewSet("127.0.0.1:0", nil)
	defer s.Close()
	cam := demoCam("a", config.VariantLowLatency)
	cam.Substream = config.Substream{Source: config.SourceDemo, Kind: config.KindDemo}
	if err := s.Apply([]config.Camera{cam}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "live with a bitrate in", func() bool {
		st := status(t, s, "a")
		return st.State == ingest.StateLive && st.BitrateIn > 0 && st.Substream.State == ingest.StateLive
	})
	if w := fetch(t, s, "a", "index.m3u8"); w.Code != http.StatusOK {
		t.Fatalf("index.m3u8: %d %s", w.Code, w.Body)
	}
	pl := fetch(t, s, "a", "video1_stream.m3u8")
	if pl.Code != http.StatusOK {
		t.Fatalf("video1_stream.m3u8: %d %s", pl.Code, pl.Body)
	}
	waitFor(t, "a bitrate out", func() bool { return status(t, s, "a").BitrateOut > 0 })

	st := status(t, s, "a")
	if st.Kind != "demo" || st.Transport != "tcp" || !st.Running || st.OnDemand {
		t.Errorf("kind %q transport %q running %v onDemand %v", st.Kind, st.Transport, st.Running, st.OnDemand)
	}
	if st.LiveSince == nil || st.UptimeSeconds <= 0 || st.LiveSince.After(time.Now()) {
		t.Errorf("liveSince %v uptime %v", st.LiveSince, st.UptimeSeconds)
	}
	if st.Viewers != 1 {
		t.Errorf("viewers = %d, want 1", st.Viewers)
	}
	if st.BytesOut < uint64(pl.Body.Len()) {
		t.Errorf("bytesOut = %d, less than one playlist (%d)", st.BytesOut, pl.Body.Len())
	}
	// The demo sends a 640x360 picture at 25 fps: far more than 10 kbit/s.
	if st.BitrateIn < 10000 {
		t.Errorf("bitrateIn = %v", st.BitrateIn)
	}
	sub := st.Substream
	if sub.Kind != "demo" || sub.Transport != "tcp" || !sub.Running || sub.LiveSince == nil || sub.BitrateIn <= 0 {
		t.Errorf("substream status %+v", sub)
	}
	if sub.Viewers != 0 || sub.BytesOut != 0 {
		t.Errorf("substream: viewers %d bytesOut %d, its HLS was not asked for", sub.Viewers, sub.BytesOut)
	}
}

func TestOnDemandStartsOnRequestAndIdles(t *testing.T) {
	logs := &syncBuffer{}
	s := NewSet("127.0.0.1:0", slog.New(slog.NewTextHandler(logs, nil)))
	defer s.Close()
	if err := s.Apply([]config.Camera{onDemand(demoCam("a", config.VariantLowLatency), 500*time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	st := status(t, s, "a")
	if st.State != ingest.StateIdle || st.Running || !st.OnDemand || st.LiveSince != nil {
		t.Fatalf("before any request: %+v", st)
	}

	// The first playlist request starts the camera and waits for its
	// first segment: the player gets a playlist, not an error.
	w := fetch(t, s, "a", "index.m3u8")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "#EXT-X-STREAM-INF") {
		t.Fatalf("first request: %d %s\n%s", w.Code, w.Body, logs)
	}
	if st := status(t, s, "a"); !st.Running || st.State != ingest.StateLive {
		t.Fatalf("after the first request: state %s running %v", st.State, st.Running)
	}
	first := s.cams["a"].main.done

	// Requests keep it running (the same run: its worker was not
	// stopped); without them it goes idle, its connection closed.
	for range 8 {
		if w := fetch(t, s, "a", "video1_stream.m3u8"); w.Code != http.StatusOK {
			t.Fatalf("playlist: %d", w.Code)
		}
		time.Sleep(100 * time.Millisecond) // a player's reload interval, well within IdleTimeout
	}
	select {
	case <-first:
		t.Fatal("stopped while requested")
	default:
	}
	waitFor(t, "idle", func() bool {
		st := status(t, s, "a")
		return st.State == ingest.StateIdle && !st.Running
	})
	select {
	case <-first:
	default:
		t.Fatal("idle camera's worker still runs")
	}
	if !strings.Contains(logs.String(), "state=idle reason=\"no requests for 500ms\"") {
		t.Errorf("no idle line with its reason in the log:\n%s", logs)
	}

	// The next request starts it again.
	if w := fetch(t, s, "a", "index.m3u8"); w.Code != http.StatusOK {
		t.Fatalf("request after idle: %d %s", w.Code, w.Body)
	}
	if st := status(t, s, "a"); !st.Running || st.State != ingest.StateLive {
		t.Fatalf("after the next request: state %s running %v", st.State, st.Running)
	}
}

// The camera page starts an on-demand camera too.
func TestTouch(t *testing.T) {
	s := NewSet("127.0.0.1:0", nil)
	defer s.Close()
	if err := s.Apply([]config.Camera{onDemand(demoCam("a", config.VariantLowLatency), time.Minute),
		demoCam("b", config.VariantLowLatency)}); err != nil {
		t.Fatal(err)
	}
	if s.Touch("zz") {
		t.Error("Touch of an unknown camera reported true")
	}
	if !s.Touch("b") || !status(t, s, "b").Running {
		t.Error("Touch(b) of an always-on camera")
	}
	if status(t, s, "a").Running {
		t.Fatal("on-demand camera runs before any request")
	}
	if !s.Touch("a") {
		t.Fatal("Touch(a) = false")
	}
	if !status(t, s, "a").Running {
		t.Fatal("Touch did not start the on-demand camera")
	}
	waitFor(t, "a live", func() bool { return status(t, s, "a").State == ingest.StateLive })
}

// An on-demand camera's substream runs only while its own HLS is asked
// for: a wall of substreams does not pull the main streams.
func TestOnDemandSubstreamOnItsOwn(t *testing.T) {
	s := NewSet("127.0.0.1:0", nil)
	defer s.Close()
	cam := onDemand(demoCam("a", config.VariantLowLatency), time.Minute)
	cam.Substream = config.Substream{Source: config.SourceDemo, Kind: config.KindDemo}
	if err := s.Apply([]config.Camera{cam}); err != nil {
		t.Fatal(err)
	}
	sub, _ := s.SubstreamHLS("a")
	if w := serve(sub, "/cams/a/sub/index.m3u8", "test"); w.Code != http.StatusOK {
		t.Fatalf("substream playlist: %d %s", w.Code, w.Body)
	}
	st := status(t, s, "a")
	if st.Running || st.State != ingest.StateIdle || !st.Substream.Running || !st.Substream.OnDemand {
		t.Fatalf("main running %v (%s), substream running %v", st.Running, st.State, st.Substream.Running)
	}
}

// A camera that does not come up: the first playlist request waits the
// start's bound, then gets a 503 that says so.
func TestOnDemandCameraThatNeverComesUp(t *testing.T) {
	s := NewSet("127.0.0.1:0", nil)
	defer s.Close()
	s.startWait = time.Second
	h := config.DefaultHLS
	h.SegmentDuration, h.PartDuration = 100*time.Millisecond, 20*time.Millisecond // MaxWait 300 ms
	dead := config.Camera{Name: "dead", Source: "rtsp://127.0.0.1:1/none", Kind: config.KindRTSP,
		Transport: config.TransportTCP, HLS: h, OnDemand: true, IdleTimeout: time.Minute}
	if err := s.Apply([]config.Camera{dead}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	w := fetch(t, s, "dead", "index.m3u8")
	waited := time.Since(start)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" ||
		!strings.Contains(w.Body.String(), "did not come up") {
		t.Fatalf("answer %d (Retry-After %q) %q", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if waited < s.startWait {
		t.Errorf("answered after %v, before the start's bound of %v", waited, s.startWait)
	}
	st := status(t, s, "dead")
	if !st.Running || st.State == ingest.StateLive || st.State == ingest.StateIdle || st.LastError == "" {
		t.Errorf("status %+v", st)
	}

	// The bound counts from the start: later requests are answered at
	// the usual MaxWait.
	if w := fetch(t, s, "dead", "index.m3u8"); w.Code != http.StatusServiceUnavailable ||
		!strings.Contains(w.Body.String(), "not live") {
		t.Fatalf("later request: %d %q", w.Code, w.Body)
	}
}

// A client that goes away while waiting for a starting camera ends its
// request.
func TestStartWaitEndsWithClient(t *testing.T) {
	s := NewSet("127.0.0.1:0", nil)
	defer s.Close()
	dead := config.Camera{Name: "dead", Source: "rtsp://127.0.0.1:1/none", Kind: config.KindRTSP,
		Transport: config.TransportTCP, HLS: config.DefaultHLS, OnDemand: true, IdleTimeout: time.Minute}
	if err := s.Apply([]config.Camera{dead}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.cams["dead"])
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/cams/dead/index.m3u8", nil)
	client := &http.Client{Timeout: 300 * time.Millisecond}
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d while the camera cannot start", resp.StatusCode)
	}
	// The server's handler returns: Close waits for every request.
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the request is still held after its client left")
	}
}

func TestRestart(t *testing.T) {
	logs := &syncBuffer{}
	s := NewSet("127.0.0.1:0", slog.New(slog.NewTextHandler(logs, nil)))
	defer s.Close()
	if err := s.Apply([]config.Camera{demoCam("a", config.VariantLowLatency),
		onDemand(demoCam("idle", config.VariantLowLatency), time.Minute)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "live", func() bool { return status(t, s, "a").State == ingest.StateLive })
	cam := s.cams["a"]
	old := cam.main.done
	before := time.Now()

	if err := s.Restart("a"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-old:
	default:
		t.Fatal("the old connection was not closed")
	}
	if s.cams["a"] != cam {
		t.Fatal("Restart replaced the camera")
	}
	waitFor(t, "live again", func() bool {
		st := status(t, s, "a")
		return st.State == ingest.StateLive && st.LiveSince.After(before)
	})
	if !strings.Contains(logs.String(), `state=connecting reason="restart requested"`) {
		t.Errorf("no restart line in the log:\n%s", logs)
	}
	// The player gets the new stream.
	if w := fetch(t, s, "a", "index.m3u8"); w.Code != http.StatusOK {
		t.Fatalf("after restart: %d %s", w.Code, w.Body)
	}

	if err := s.Restart("idle"); err != nil {
		t.Fatal(err)
	}
	if st := status(t, s, "idle"); st.Running || st.State != ingest.StateIdle {
		t.Errorf("restart of an idle on-demand camera: running %v state %s", st.Running, st.State)
	}
	if err := s.Restart("zz"); !errors.Is(err, ErrNoCamera) {
		t.Errorf("Restart(zz) = %v, want ErrNoCamera", err)
	}
}

// Reload: an unchanged on-demand camera keeps running as it was; a
// changed one restarts idle.
func TestApplyOnDemand(t *testing.T) {
	s := NewSet("127.0.0.1:0", nil)
	defer s.Close()
	a, b := onDemand(demoCam("a", config.VariantLowLatency), time.Minute), onDemand(demoCam("b", config.VariantLowLatency), time.Minute)
	if err := s.Apply([]config.Camera{a, b}); err != nil {
		t.Fatal(err)
	}
	s.Touch("a")
	s.Touch("b")
	ca := s.cams["a"]
	waitFor(t, "a live", func() bool { return status(t, s, "a").State == ingest.StateLive })

	changed := b
	changed.IdleTimeout = 2 * time.Minute
	if err := s.Apply([]config.Camera{a, changed}); err != nil {
		t.Fatal(err)
	}
	if s.cams["a"] != ca || !status(t, s, "a").Running || status(t, s, "a").State != ingest.StateLive {
		t.Error("unchanged on-demand camera was touched by the reload")
	}
	if st := status(t, s, "b"); st.Running || st.State != ingest.StateIdle {
		t.Errorf("changed on-demand camera: running %v state %s, want idle", st.Running, st.State)
	}
}

func TestViewers(t *testing.T) {
	s := NewSet("127.0.0.1:0", nil)
	defer s.Close()
	if err := s.Apply([]config.Camera{demoCam("a", config.VariantLowLatency)}); err != nil {
		t.Fatal(err)
	}
	h, _ := s.HLS("a")
	for _, ua := range []string{"Firefox", "Safari", "Firefox", "Safari"} {
		if w := serve(h, "/cams/a/index.m3u8", ua); w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	if n := status(t, s, "a").Viewers; n != 2 {
		t.Errorf("viewers = %d, want 2 (two user agents from one address)", n)
	}
}

func TestMeter(t *testing.T) {
	var m meter
	t0 := time.Unix(1000, 0)
	if in, out := m.rates(sample{at: t0, in: 100}); in != 0 || out != 0 {
		t.Errorf("no samples: %v %v", in, out)
	}
	for i := range 10 {
		m.add(sample{at: t0.Add(time.Duration(i) * time.Second), in: uint64(i) * 1000, out: uint64(i) * 500})
	}
	// The oldest kept is at 5 s; at 10 s the counts are 10000 and 5000.
	in, out := m.rates(sample{at: t0.Add(10 * time.Second), in: 10000, out: 5000})
	if in != 8000 || out != 4000 {
		t.Errorf("rates = %v, %v; want 8000, 4000 bit/s", in, out)
	}
	// Nothing new for 10 s: the window no longer holds any traffic.
	for i := 10; i < 20; i++ {
		m.add(sample{at: t0.Add(time.Duration(i) * time.Second), in: 10000, out: 5000})
	}
	if in, out := m.rates(sample{at: t0.Add(20 * time.Second), in: 10000, out: 5000}); in != 0 || out != 0 {
		t.Errorf("rates after traffic stopped = %v, %v", in, out)
	}
}
