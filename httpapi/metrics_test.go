package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rtsp2hls/rtsp2hls/camera"
	"github.com/rtsp2hls/rtsp2hls/ingest"
)

// metricCams is a Cameras whose statuses can change; its HLS handler
// answers "hls NAME FILE". The embedded interface (nil) stands for any
// method the tests do not use.
type metricCams struct {
	Cameras
	mu  sync.Mutex
	sts []camera.Status
}

func (c *metricCams) Statuses() []camera.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]camera.Status(nil), c.sts...)
}

func (c *metricCams) set(sts ...camera.Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sts = sts
}

func (c *metricCams) Status(name string) (camera.Status, bool) {
	for _, st := range c.Statuses() {
		if st.Name == name {
			return st, true
		}
	}
	return camera.Status{}, false
}

func (c *metricCams) HLS(name string) (http.Handler, bool) {
	if _, ok := c.Status(name); !ok {
		return nil, false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hls "+name+" "+r.PathValue("file"))
	}), true
}

func (c *metricCams) SubstreamHLS(string) (http.Handler, bool) { return nil, false }

func secretCams() *metricCams {
	c := &metricCams{}
	c.set(
		camera.Status{
			Name: "front", Source: "rtsp://admin:SECRETPW@10.0.0.5:554/stream1", State: ingest.StateLive,
			Frames: 1234, BytesIn: 56789, BytesOut: 98765, Viewers: 3, Reconnects: 2, MuxerRestarts: 1,
			PacketsLost: 7, BitrateIn: 2e6, BitrateOut: 6e6, FPS: 25, UptimeSeconds: 42, Running: true,
			LastError: "dial rtsp://admin:SECRETPW@10.0.0.5: refused",
			Substream: &camera.Status{
				Name: "front/sub", Source: "rtsp://admin:SECRETPW@10.0.0.5:554/stream2", State: ingest.StateOffline,
				Frames: 11, Reconnects: 5,
			},
		},
		camera.Status{Name: "back", Source: "demo", State: ingest.StateIdle, OnDemand: true},
	)
	return c
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func wantLines(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(body, "\n"+l+"\n") {
			t.Errorf("metrics lack %q", l)
		}
	}
}

func TestMetricsCameras(t *testing.T) {
	cams := secretCams()
	m := NewMetrics(cams)
	body := scrape(t, m)
	wantLines(t, body,
		`rtsp2hls_camera_up{camera="front"} 1`,
		`rtsp2hls_camera_up{camera="front/sub"} 0`,
		`rtsp2hls_camera_up{camera="back"} 0`,
		`rtsp2hls_camera_state{camera="front",state="live"} 1`,
		`rtsp2hls_camera_state{camera="front",state="offline"} 0`,
		`rtsp2hls_camera_state{camera="front/sub",state="offline"} 1`,
		`rtsp2hls_camera_state{camera="back",state="idle"} 1`,
		`rtsp2hls_camera_frames_total{camera="front"} 1234`,
		`rtsp2hls_camera_frames_total{camera="front/sub"} 11`,
		`rtsp2hls_camera_bytes_in_total{camera="front"} 56789`,
		`rtsp2hls_camera_bytes_out_total{camera="front"} 98765`,
		`rtsp2hls_camera_viewers{camera="front"} 3`,
		`rtsp2hls_camera_reconnects_total{camera="front"} 2`,
		`rtsp2hls_camera_reconnects_total{camera="front/sub"} 5`,
		`rtsp2hls_camera_muxer_restarts_total{camera="front"} 1`,
		`rtsp2hls_camera_packets_lost_total{camera="front"} 7`,
		`rtsp2hls_camera_bitrate_in_bits_per_second{camera="front"} 2e+06`,
		`rtsp2hls_camera_fps{camera="front"} 25`,
		`rtsp2hls_camera_uptime_seconds{camera="front"} 42`,
		`rtsp2hls_camera_running{camera="front"} 1`,
		`rtsp2hls_camera_running{camera="back"} 0`,
		`# TYPE rtsp2hls_camera_frames_total counter`,
		`# TYPE rtsp2hls_camera_viewers gauge`,
	)
	for _, bad := range []string{"SECRETPW", "rtsp://", "10.0.0.5", "demo"} {
		if strings.Contains(body, bad) {
			t.Errorf("metrics contain %q", bad)
		}
	}
	// The runtime's and the process's, from this registry.
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(body, "\n"+name+" ") {
			t.Errorf("metrics lack %s", name)
		}
	}

	// A camera removed by a reload leaves no series behind.
	cams.set(camera.Status{Name: "back", State: ingest.StateConnecting})
	body = scrape(t, m)
	if strings.Contains(body, `camera="front`) {
		t.Errorf("removed camera still exported")
	}
	wantLines(t, body, `rtsp2hls_camera_state{camera="back",state="connecting"} 1`)
}

func TestMetricsHTTPRoutes(t *testing.T) {
	cams := secretCams()
	m := NewMetrics(cams)
	// A middleware inside Wrap that hands the mux a copy of the request,
	// as an auth check adding to the context would.
	inner := Handler(cams, Options{})
	copying := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), struct{}{}, 1)))
	})
	srv := httptest.NewServer(Wrap(copying, m, NewBlockingLimiter(testLimits(2, 10)), nil, false))
	defer srv.Close()
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/healthz", 200},
		{"GET", "/healthz", 200},
		{"GET", "/cams/front/index.m3u8?token=SECRETTOKEN", 200},
		{"GET", "/cams/nosuch/index.m3u8", 404},
		{"GET", "/api/v1/cameras/nosuch", 404},
		{"GET", "/no/such/route/12345", 404},
		{"POST", "/healthz", 405},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.code)
		}
	}
	body := scrape(t, m)
	wantLines(t, body,
		`rtsp2hls_http_requests_total{code="200",route="GET /healthz"} 2`,
		`rtsp2hls_http_requests_total{code="200",route="GET /cams/{name}/{file}"} 1`,
		`rtsp2hls_http_requests_total{code="404",route="GET /cams/{name}/{file}"} 1`,
		`rtsp2hls_http_requests_total{code="404",route="GET /api/v1/cameras/{name}"} 1`,
		`rtsp2hls_http_requests_total{code="404",route="none"} 1`,
		`rtsp2hls_http_requests_total{code="405",route="none"} 1`,
		`rtsp2hls_http_request_duration_seconds_count{route="GET /healthz"} 2`,
		`rtsp2hls_http_blocking_requests_in_flight 0`,
		`rtsp2hls_http_blocking_limit{cap="client"} 2`,
		`rtsp2hls_http_blocking_limit{cap="total"} 10`,
	)
	for _, bad := range []string{"SECRETTOKEN", "nosuch", "12345"} {
		if strings.Contains(body, bad) {
			t.Errorf("metrics contain %q", bad)
		}
	}
}

// A request whose client goes away before anything is written counts as
// 499, and the blocking gauge goes back to zero.
func TestMetricsClientGone(t *testing.T) {
	m := NewMetrics(&metricCams{})
	lim := NewBlockingLimiter(testLimits(2, 10))
	entered := make(chan struct{})
	h := Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Pattern = "GET /cams/{name}/{file}"
		entered <- struct{}{}
		<-r.Context().Done()
	}), m, lim, nil, false)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := httptest.NewRequest("GET", "/cams/a/p.m3u8?_HLS_msn=3&_HLS_part=1", nil).WithContext(ctx)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}()
	<-entered
	wantLines(t, scrape(t, m), `rtsp2hls_http_blocking_requests_in_flight 1`, `rtsp2hls_http_blocking_clients 1`)
	cancel()
	<-done
	wantLines(t, scrape(t, m),
		`rtsp2hls_http_requests_total{code="499",route="GET /cams/{name}/{file}"} 1`,
		`rtsp2hls_http_blocking_requests_in_flight 0`,
		`rtsp2hls_http_blocking_clients 0`,
	)
}

func TestMetricsConcurrent(t *testing.T) {
	m := NewMetrics(&metricCams{})
	h := m.Instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Pattern = "GET /x"
		w.WriteHeader(200 + len(r.URL.Path)%5)
	}))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/"+strings.Repeat("a", (i+j)%5), nil))
			}
		})
	}
	wg.Wait()
	body := scrape(t, m)
	if n := strings.Count(body, `rtsp2hls_http_requests_total{code="20`); n != 5 {
		t.Errorf("%d series of codes, want 5", n)
	}
	wantLines(t, body, `rtsp2hls_http_request_duration_seconds_count{route="GET /x"} 1600`)
}

// discardWriter is a ResponseWriter that costs nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

var benchBody = []byte("#EXTM3U\n")

func BenchmarkInstrument(b *testing.B) {
	m := NewMetrics(&metricCams{})
	h := m.Instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(benchBody)
	}))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		r := httptest.NewRequest("GET", "/cams/a/index.m3u8", nil)
		r.Pattern = "GET /cams/{name}/{file}"
		for pb.Next() {
			h.ServeHTTP(w, r)
		}
	})
}

// BenchmarkWrap is the whole chain but the log, for blocking requests
// from many clients.
func BenchmarkWrap(b *testing.B) {
	m := NewMetrics(&metricCams{})
	lim := NewBlockingLimiter(testLimits(1<<20, 1<<30))
	h := Wrap(recordRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Pattern = "GET /cams/{name}/{file}"
		w.Write(benchBody)
	})), m, lim, nil, false)
	var n sync.Mutex
	next := 0
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		n.Lock()
		next++
		addr := "10.0.0." + string(rune('0'+next%10)) + ":5000"
		n.Unlock()
		w := &discardWriter{h: http.Header{}}
		r := httptest.NewRequest("GET", "/cams/a/index.m3u8?_HLS_msn=100&_HLS_part=2", nil)
		r.RemoteAddr = addr
		for pb.Next() {
			h.ServeHTTP(w, r)
		}
	})
}
