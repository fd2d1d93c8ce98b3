package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/config"
)

func testLimits(perClient, total int) config.Limits {
	return config.Limits{BlockingPerClient: perClient, BlockingTotal: total}
}

// holder is a handler that holds each request until released, or until
// its client goes away.
type holder struct {
	entered chan string // the RemoteAddr of each request let in
	release chan struct{}
}

func newHolder() *holder {
	return &holder{entered: make(chan string, 100), release: make(chan struct{})}
}

func (h *holder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.entered <- r.RemoteAddr
	select {
	case <-h.release:
		io.WriteString(w, "#EXTM3U\n")
	case <-r.Context().Done():
	}
}

// start sends a request for target from remoteAddr through h in its own
// goroutine; the recorder is complete once done is closed.
func start(h http.Handler, target, remoteAddr string) (rec *httptest.ResponseRecorder, done chan struct{}) {
	rec = httptest.NewRecorder()
	done = make(chan struct{})
	req := httptest.NewRequest("GET", target, nil)
	req.RemoteAddr = remoteAddr
	go func() {
		defer close(done)
		h.ServeHTTP(rec, req)
	}()
	return rec, done
}

// serve sends a request that must not be held.
func serve(t *testing.T, h http.Handler, target, remoteAddr string) *httptest.ResponseRecorder {
	t.Helper()
	rec, done := start(h, target, remoteAddr)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("GET %s from %s hangs", target, remoteAddr)
	}
	return rec
}

func waitEntered(t *testing.T, h *holder, n int) {
	t.Helper()
	for range n {
		select {
		case <-h.entered:
		case <-time.After(5 * time.Second):
			t.Fatal("request not let in")
		}
	}
}

func waitIdle(t *testing.T, lim *BlockingLimiter) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for lim.InFlight() != 0 || lim.Clients() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("in flight %d from %d clients after the requests ended", lim.InFlight(), lim.Clients())
		}
		time.Sleep(time.Millisecond)
	}
}

func want429(t *testing.T, rec *httptest.ResponseRecorder, msg string) {
	t.Helper()
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), msg) {
		t.Errorf("got %d Retry-After %q %q; want 429 Retry-After 1 %q", rec.Code, rec.Header().Get("Retry-After"), rec.Body, msg)
	}
}

const blockingURL = "/cams/a/stream.m3u8?_HLS_msn=10&_HLS_part=2"

func TestBlockingPerClient(t *testing.T) {
	hold := newHolder()
	lim := NewBlockingLimiter(testLimits(2, 100))
	h := lim.Limit(hold)
	var dones []chan struct{}
	for range 2 {
		_, done := start(h, blockingURL, "192.0.2.1:1000")
		dones = append(dones, done)
	}
	waitEntered(t, hold, 2)

	// The third from the same address (another port) is turned away at
	// once, while other clients and other requests are served.
	want429(t, serve(t, h, blockingURL, "192.0.2.1:2000"), "from this client")
	_, done := start(h, blockingURL, "192.0.2.2:1000")
	dones = append(dones, done)
	waitEntered(t, hold, 1)
	passthrough := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	for _, target := range []string{"/cams/a/stream.m3u8", "/cams/a/part7.mp4?_HLS_msn=1", "/cams/a/stream.m3u8?x=1"} {
		if rec := serve(t, lim.Limit(passthrough), target, "192.0.2.1:3000"); rec.Code != 200 {
			t.Errorf("%s: %d, want 200: not a blocking request", target, rec.Code)
		}
	}
	if got, _ := lim.Rejected(); got != 1 {
		t.Errorf("rejected over client cap: %d, want 1", got)
	}
	if lim.InFlight() != 3 || lim.Clients() != 2 {
		t.Errorf("in flight %d from %d clients, want 3 from 2", lim.InFlight(), lim.Clients())
	}

	close(hold.release)
	for _, d := range dones {
		<-d
	}
	waitIdle(t, lim)
	// Free again.
	if rec := serve(t, h, blockingURL, "192.0.2.1:2000"); rec.Code != 200 {
		t.Errorf("after release: %d", rec.Code)
	}
}

func TestBlockingTotal(t *testing.T) {
	hold := newHolder()
	lim := NewBlockingLimiter(testLimits(10, 3))
	h := lim.Limit(hold)
	var dones []chan struct{}
	for _, addr := range []string{"192.0.2.1:1", "192.0.2.2:1", "192.0.2.2:2"} {
		_, done := start(h, blockingURL, addr)
		dones = append(dones, done)
	}
	waitEntered(t, hold, 3)
	want429(t, serve(t, h, blockingURL, "192.0.2.9:1"), "on the server")
	if _, got := lim.Rejected(); got != 1 {
		t.Errorf("rejected over total cap: %d, want 1", got)
	}

	// A reload raising the cap lets the next one in.
	lim.SetLimits(testLimits(10, 4))
	_, done := start(h, blockingURL, "192.0.2.9:1")
	dones = append(dones, done)
	waitEntered(t, hold, 1)
	want429(t, serve(t, h, blockingURL, "192.0.2.10:1"), "on the server")

	close(hold.release)
	for _, d := range dones {
		<-d
	}
	waitIdle(t, lim)
}

// A client that goes away while its blocking request waits frees its
// place, over a real connection.
func TestBlockingClientDisconnect(t *testing.T) {
	hold := newHolder()
	lim := NewBlockingLimiter(testLimits(2, 100))
	srv := httptest.NewServer(lim.Limit(hold))
	defer srv.Close()
	defer close(hold.release)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+blockingURL, nil)
		wg.Go(func() {
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				t.Error("request held was answered")
			}
		})
	}
	waitEntered(t, hold, 2)
	resp, err := http.Get(srv.URL + blockingURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("third: %d, want 429", resp.StatusCode)
	}
	cancel()
	wg.Wait()
	waitIdle(t, lim)
}

func TestBlockingKey(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"192.0.2.1:1", "192.0.2.1:2"},
		{"[::ffff:192.0.2.1]:1", "192.0.2.1:2"},
		{"[2001:db8:1:2::1]:1", "[2001:db8:1:2:ffff::9]:2"}, // one /64
	} {
		if clientKey(c.a) != clientKey(c.b) {
			t.Errorf("%s and %s are different clients", c.a, c.b)
		}
	}
	for _, c := range []struct{ a, b string }{
		{"192.0.2.1:1", "192.0.2.2:1"},
		{"[2001:db8:1:2::1]:1", "[2001:db8:1:3::1]:1"},
	} {
		if clientKey(c.a) == clientKey(c.b) {
			t.Errorf("%s and %s are one client", c.a, c.b)
		}
	}
	for _, c := range []struct {
		target string
		want   bool
	}{
		{"/cams/a/stream.m3u8?_HLS_msn=1", true},
		{"/cams/a/stream.m3u8?_HLS_part=1&_HLS_msn=1", true},
		{"/cams/a/stream.m3u8?%5FHLS%5Fmsn=1", true},
		{"/cams/a/stream.m3u8?_HLS_skip=YES", false},
		{"/cams/a/stream.m3u8", false},
		{"/cams/a/seg1.mp4?_HLS_msn=1", false},
	} {
		if got := isBlocking(httptest.NewRequest("GET", c.target, nil)); got != c.want {
			t.Errorf("isBlocking(%s) = %v", c.target, got)
		}
	}
}

func TestLimitBody(t *testing.T) {
	var readErr error
	h := LimitBody(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, readErr = io.ReadAll(r.Body)
		if mbe := (*http.MaxBytesError)(nil); errors.As(readErr, &mbe) {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		io.WriteString(w, "ok")
	}), 16)

	// Declared too long: 413 without the handler.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/x", strings.NewReader(strings.Repeat("x", 17))))
	if rec.Code != http.StatusRequestEntityTooLarge || readErr != nil {
		t.Errorf("17 bytes: %d, read %v", rec.Code, readErr)
	}
	// Not declared: the handler reads an error past the cap.
	req := httptest.NewRequest("POST", "/api/v1/x", io.MultiReader(strings.NewReader(strings.Repeat("x", 100))))
	req.ContentLength = -1
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || readErr == nil {
		t.Errorf("chunked 100 bytes: %d, read %v", rec.Code, readErr)
	}
	// Within: served.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/x", bytes.NewReader(make([]byte, 16))))
	if rec.Code != 200 {
		t.Errorf("16 bytes: %d", rec.Code)
	}

	// NewServer caps every handler's bodies.
	srv := NewServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}), nil, nil)
	rec = httptest.NewRecorder()
	srv.Handler.ServeHTTP(rec, httptest.NewRequest("POST", "/", bytes.NewReader(make([]byte, MaxBodyBytes+1))))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("NewServer, %d bytes: %d", MaxBodyBytes+1, rec.Code)
	}
}

// No route lists a directory.
func TestNoDirectoryListing(t *testing.T) {
	h := Handler(secretCams(), Options{})
	for _, p := range []string{"/assets/", "/assets/js/", "/assets/..", "/cams/", "/cams/front/sub/", "/walls/", "/api/", "/api/v1/"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		body := rec.Body.String()
		if rec.Code == 200 || strings.Contains(body, "<pre>") {
			t.Errorf("GET %s: %d %.80q", p, rec.Code, body)
		}
	}
}
