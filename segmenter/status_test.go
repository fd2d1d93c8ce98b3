package segmenter

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/config"
	"github.com/rtsp2hls/rtsp2hls/ingest"
)

func getAs(t *testing.T, h http.Handler, target, remote, ua string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.RemoteAddr = remote
	if ua != "" {
		r.Header.Set("User-Agent", ua)
	}
	h.ServeHTTP(w, r)
	return w
}

func TestViewersCounted(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	feed(s, c, 0, 60, 0)
	now := time.Unix(1000, 0)
	s.viewers.now = func() time.Time { return now }

	for _, target := range []string{"/cams/test/index.m3u8", "/cams/test/video1_stream.m3u8"} {
		getAs(t, s, target, "10.0.0.1:4000", "Firefox")
		getAs(t, s, target, "10.0.0.1:4001", "Safari")
	}
	if n := s.Viewers(); n != 2 {
		t.Fatalf("viewers = %d, want 2 (two user agents at one address)", n)
	}
	getAs(t, s, "/cams/test/index.m3u8", "[2001:db8::1]:4000", "Firefox")
	if n := s.Viewers(); n != 3 {
		t.Fatalf("viewers = %d, want 3 (a second address)", n)
	}
	// Media files are not counted: a viewer is whoever follows the playlist.
	seg := firstSegment(t, getAs(t, s, "/cams/test/video1_stream.m3u8", "10.0.0.1:4000", "Firefox").Body.String())
	getAs(t, s, "/cams/test/"+seg, "10.0.0.9:1", "curl")
	if n := s.Viewers(); n != 3 {
		t.Fatalf("viewers = %d after a media file request, want 3", n)
	}

	now = now.Add(ViewerWindow - time.Second)
	getAs(t, s, "/cams/test/video1_stream.m3u8", "10.0.0.1:4000", "Firefox")
	now = now.Add(2 * time.Second)
	if n := s.Viewers(); n != 1 {
		t.Fatalf("viewers = %d, want 1: only Firefox at 10.0.0.1 fetched within %v", n, ViewerWindow)
	}
	now = now.Add(ViewerWindow)
	if n := s.Viewers(); n != 0 {
		t.Fatalf("viewers = %d after everyone left", n)
	}
}

// firstSegment returns the first media file name in a playlist.
func firstSegment(t *testing.T, pl string) string {
	t.Helper()
	for _, line := range strings.Split(pl, "\n") {
		if strings.HasSuffix(line, ".mp4") && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	t.Fatalf("no segment in %q", pl)
	return ""
}

// The memory held for viewers is bounded however many clients come, and
// expired ones make room.
func TestViewersBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	v := &viewers{now: func() time.Time { return now }}
	r := httptest.NewRequest(http.MethodGet, "/index.m3u8", nil)
	for i := range maxViewers + 100 {
		r.RemoteAddr = "10.1." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256) + ":1"
		v.saw(r)
	}
	if n := v.count(); n != maxViewers || len(v.seen) != maxViewers {
		t.Fatalf("count %d, held %d, want both %d", n, len(v.seen), maxViewers)
	}
	now = now.Add(ViewerWindow + time.Second)
	r.RemoteAddr = "10.2.0.0:1"
	v.saw(r)
	if n := v.count(); n != 1 || len(v.seen) != 1 {
		t.Fatalf("after expiry: count %d, held %d, want 1", n, len(v.seen))
	}
}

func TestRemoteHost(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1:4000":      "10.0.0.1",
		"[2001:db8::1]:4000": "2001:db8::1",
		"10.0.0.1":           "10.0.0.1",
		"":                   "",
	} {
		if got := remoteHost(in); got != want {
			t.Errorf("remoteHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBytesOut(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	feed(s, c, 0, 60, 0)
	total := 0
	for _, f := range []string{"index.m3u8", "video1_stream.m3u8", "video1_stream.m3u8", "nosuch.mp4"} {
		w := get(t, s, "/cams/test/"+f)
		if w.Code == http.StatusOK {
			total += w.Body.Len()
		}
	}
	if got := s.Info().BytesOut; got != uint64(total) || total == 0 {
		t.Fatalf("BytesOut = %d, the files served were %d bytes", got, total)
	}
}

// Counting bytes and viewers costs the shared answer no allocation.
func TestServeCountsWithoutAllocating(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	feed(s, c, 0, 60, 0)
	r := httptest.NewRequest(http.MethodGet, "/cams/test/video1_stream.m3u8", nil)
	r.Header.Set("User-Agent", "Firefox")
	w := &discardWriter{h: http.Header{}}
	s.ServeHTTP(w, r) // renders the shared answer once
	if n := testing.AllocsPerRun(100, func() { s.ServeHTTP(w, r) }); n != 0 {
		t.Fatalf("%v allocations per request", n)
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// While a source is starting, the first playlist request waits for the
// first segment beyond MaxWait, and gets it.
func TestStartingPlaylistWaitsForFirstSegment(t *testing.T) {
	c := loadClip(t, "160x90")
	hls := config.HLS{Variant: config.VariantLowLatency, SegmentDuration: 100 * time.Millisecond,
		PartDuration: 20 * time.Millisecond, SegmentCount: 7} // MaxWait 300 ms
	s := NewStream("test", hls, discard())
	defer s.Close()
	s.Starting(time.Minute)
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- get(t, s, "/cams/test/index.m3u8") }()

	// The camera connects after MaxWait has passed.
	time.Sleep(2 * s.MaxWait())
	select {
	case w := <-done:
		t.Fatalf("answered %d before the camera came up", w.Code)
	default:
	}
	if err := s.Start(ingest.Tracks{Video: &ingest.VideoTrack{Codec: ingest.CodecH264, SPS: c.sps, PPS: c.pps}}); err != nil {
		t.Fatal(err)
	}
	feed(s, c, 0, 60, 0)
	w := <-done
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "#EXT-X-STREAM-INF") {
		t.Fatalf("first playlist: %d %q", w.Code, w.Body)
	}
}

func TestStartingWaitEndsWithClient(t *testing.T) {
	s := NewStream("test", testHLS(config.VariantLowLatency), discard())
	defer s.Close()
	s.Starting(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest(http.MethodGet, "/cams/test/index.m3u8", nil).WithContext(ctx)
	done := make(chan struct{})
	go func() { s.ServeHTTP(httptest.NewRecorder(), r); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("handler still waiting after the client went away")
	}
}

func TestStartingBoundAnswers503(t *testing.T) {
	s := NewStream("test", config.HLS{Variant: config.VariantLowLatency, SegmentDuration: 100 * time.Millisecond,
		PartDuration: 20 * time.Millisecond, SegmentCount: 7}, discard())
	defer s.Close()
	const bound = time.Second
	s.Starting(bound)
	start := time.Now()
	w := get(t, s, "/cams/test/index.m3u8")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || w.Body.String() != notUp+"\n" {
		t.Fatalf("answer %d (Retry-After %q) %q", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if el := time.Since(start); el < bound-50*time.Millisecond {
		t.Fatalf("answered after %v, before the bound %v", el, bound)
	}
}
