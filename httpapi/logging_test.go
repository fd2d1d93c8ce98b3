package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a log buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRequestLog(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	m := NewMetrics(secretCams())
	h := Wrap(Handler(secretCams(), Options{}), m, NewBlockingLimiter(testLimits(2, 10)), log, true)

	req := httptest.NewRequest("GET", "/cams/front/index.m3u8?token=SECRETTOKEN&_HLS_msn=1", nil)
	req.Header.Set("Authorization", "Bearer SECRETAUTH")
	req.Header.Set("Cookie", "session=SECRETCOOKIE")
	req.RemoteAddr = "198.51.100.7:54321"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/nosuch?token=SECRETTOKEN", nil))

	out := buf.String()
	for _, bad := range []string{"SECRET", "?", "token", "54321"} {
		if strings.Contains(out, bad) {
			t.Errorf("log contains %q:\n%s", bad, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), out)
	}
	var e struct {
		Msg, Method, Path, Route, Remote string
		Status                           int
		Bytes                            int64
		Duration                         int64
	}
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil {
		t.Fatal(err)
	}
	if e.Method != "GET" || e.Path != "/cams/front/index.m3u8" || e.Route != "GET /cams/{name}/{file}" ||
		e.Status != 200 || e.Bytes != int64(len("hls front index.m3u8")) || e.Remote != "198.51.100.7" || e.Duration <= 0 {
		t.Errorf("log line %s", lines[0])
	}
	if err := json.Unmarshal([]byte(lines[1]), &e); err != nil {
		t.Fatal(err)
	}
	if e.Path != "/nosuch" || e.Route != "none" || e.Status != 404 {
		t.Errorf("log line %s", lines[1])
	}
	// The metrics, inside the log, saw the same.
	wantLines(t, scrape(t, m), `rtsp2hls_http_requests_total{code="200",route="GET /cams/{name}/{file}"} 1`)
}

func TestRequestLogOff(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	h := Wrap(http.NotFoundHandler(), nil, nil, log, false)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	if buf.String() != "" {
		t.Errorf("logged with log.requests off: %s", buf.String())
	}
}

// The writer passes on Flush and unwraps for http.ResponseController.
func TestRespWriterFlush(t *testing.T) {
	h := LogRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
		w.(http.Flusher).Flush()
	}), slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !rec.Flushed {
		t.Error("not flushed")
	}
}
