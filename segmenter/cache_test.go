package segmenter

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/config"
)

// nextPart is what a player asks for after this playlist: the part after
// the last one listed (msn, index within its segment).
func nextPart(t *testing.T, pl string) (msn, part int) {
	t.Helper()
	m := regexp.MustCompile(`#EXT-X-MEDIA-SEQUENCE:(\d+)`).FindStringSubmatch(pl)
	if m == nil {
		t.Fatalf("no media sequence in %q", pl)
	}
	seq, _ := strconv.Atoi(m[1])
	segs := regexp.MustCompile(`(?m)^#EXTINF:`).FindAllStringIndex(pl, -1)
	after := pl
	if len(segs) > 0 {
		after = pl[segs[len(segs)-1][0]:]
	}
	return seq + len(segs), len(regexp.MustCompile(`(?m)^#EXT-X-PART:`).FindAllString(after, -1))
}

// flights records which flight answered each request.
type flights struct {
	mu   sync.Mutex
	seen map[*flight]int
}

func watchFlights(s *Stream) *flights {
	fl := &flights{seen: map[*flight]int{}}
	s.onFlight = func(f *flight) {
		fl.mu.Lock()
		fl.seen[f]++
		fl.mu.Unlock()
	}
	return fl
}

func (fl *flights) requests() (distinct, total int) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	for _, n := range fl.seen {
		total += n
	}
	return len(fl.seen), total
}

func TestConcurrentBlockedReloadsShareOneAnswer(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	pts := feed(s, c, 0, 60, 0)
	msn, part := nextPart(t, get(t, s, "/cams/test/video1_stream.m3u8").Body.String())
	target := "/cams/test/video1_stream.m3u8?_HLS_msn=" + strconv.Itoa(msn) + "&_HLS_part=" + strconv.Itoa(part)

	fl := watchFlights(s)
	const n = 50
	bodies := make([][]byte, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := get(t, s, target)
			codes[i], bodies[i] = w.Code, w.Body.Bytes()
		}()
	}
	// Every request is waiting before the part comes (bounded poll).
	for i := 0; i < 500; i++ {
		if _, total := fl.requests(); total == n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if distinct, total := fl.requests(); distinct != 1 || total != n {
		t.Fatalf("%d waiting requests in %d flights, want %d in 1", total, distinct, n)
	}
	feed(s, c, 60, 70, pts)
	wg.Wait()
	for i := range n {
		if codes[i] != 200 || !bytes.Equal(bodies[i], bodies[0]) {
			t.Fatalf("request %d: code %d, body differs: %v", i, codes[i], !bytes.Equal(bodies[i], bodies[0]))
		}
	}
	if m, p := nextPart(t, string(bodies[0])); m*100+p <= msn*100+part {
		t.Fatalf("answer lacks the part asked for (%d.%d), next is %d.%d", msn, part, m, p)
	}
}

func TestCachedPlaylistInvalidatedByNewPart(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	pts := feed(s, c, 0, 60, 0)
	fl := watchFlights(s)
	a := get(t, s, "/cams/test/video1_stream.m3u8").Body.String()
	b := get(t, s, "/cams/test/video1_stream.m3u8").Body.String()
	if distinct, _ := fl.requests(); distinct != 1 || a != b {
		t.Fatalf("two reloads with no new media: %d renders, same body %v", distinct, a == b)
	}
	feed(s, c, 60, 70, pts) // 400 ms: at least one new part
	after := get(t, s, "/cams/test/video1_stream.m3u8").Body.String()
	if distinct, _ := fl.requests(); distinct != 2 {
		t.Fatalf("reload after new media answered from the old render")
	}
	m0, p0 := nextPart(t, a)
	m1, p1 := nextPart(t, after)
	if m1*100+p1 <= m0*100+p0 {
		t.Fatalf("reload after new media has no new part: %d.%d then %d.%d", m0, p0, m1, p1)
	}
}

func TestCacheKeyedByQuery(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	pts := feed(s, c, 0, 60, 0)
	msn, part := nextPart(t, get(t, s, "/cams/test/video1_stream.m3u8").Body.String())
	// An existing part, answered at once, then the next one after new media.
	old := get(t, s, "/cams/test/video1_stream.m3u8?_HLS_msn="+strconv.Itoa(msn-1)+"&_HLS_part=0")
	if old.Code != 200 {
		t.Fatalf("existing part: %d", old.Code)
	}
	feed(s, c, 60, 70, pts)
	w := get(t, s, "/cams/test/video1_stream.m3u8?_HLS_msn="+strconv.Itoa(msn)+"&_HLS_part="+strconv.Itoa(part))
	if m, p := nextPart(t, w.Body.String()); w.Code != 200 || m*100+p <= msn*100+part {
		t.Fatalf("new key answered %d without the part asked for (%d.%d; next %d.%d)", w.Code, msn, part, m, p)
	}
	// A delta update (_HLS_skip) is not the full playlist of the same msn/part.
	d := get(t, s, "/cams/test/video1_stream.m3u8?_HLS_msn="+strconv.Itoa(msn)+"&_HLS_part="+strconv.Itoa(part)+"&_HLS_skip=YES")
	if d.Code != 200 || bytes.Equal(d.Body.Bytes(), w.Body.Bytes()) {
		t.Fatalf("skip request: code %d, same body as the full playlist", d.Code)
	}
	// Parts are files of their own: a part's flight is not a playlist's.
	uri := regexp.MustCompile(`URI="([^"]+_part\d+\.mp4)"`).FindStringSubmatch(w.Body.String())
	if uri == nil {
		t.Fatalf("no part in %s", w.Body.String())
	}
	p1, p2 := get(t, s, "/cams/test/"+uri[1]), get(t, s, "/cams/test/"+uri[1])
	if p1.Code != 200 || !bytes.Equal(p1.Body.Bytes(), p2.Body.Bytes()) || bytes.HasPrefix(p1.Body.Bytes(), []byte("#EXTM3U")) {
		t.Fatalf("part %s: code %d", uri[1], p1.Code)
	}
}

func TestGzipAndPlainFromOneRender(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	feed(s, c, 0, 100, 0)
	plain := get(t, s, "/cams/test/video1_stream.m3u8")
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/cams/test/video1_stream.m3u8", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	s.ServeHTTP(w, r)
	if w.Header().Get("Content-Encoding") != "gzip" || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("encodings: gzip request %q, plain request %q", w.Header().Get("Content-Encoding"), plain.Header().Get("Content-Encoding"))
	}
	if w.Header().Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
		t.Fatalf("Content-Length %s for %d bytes", w.Header().Get("Content-Length"), w.Body.Len())
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if !bytes.Equal(got, plain.Body.Bytes()) {
		t.Fatal("gzip body inflates to something else than the plain body")
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, c := range []struct {
		headers []string
		want    bool
	}{
		{nil, false},
		{[]string{"gzip"}, true},
		{[]string{"br, gzip;q=0.8"}, true},
		{[]string{" deflate , br"}, false},
		{[]string{"br", "gzip"}, true},
		{[]string{"gzipx, xgzip"}, false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Accept-Encoding"] = c.headers
		if got := acceptsGzip(r); got != c.want {
			t.Errorf("Accept-Encoding %q: %v, want %v", c.headers, got, c.want)
		}
	}
}

// An answer to a blocking reload may be kept by a cache for a second (so
// an edge collapses a crowd's reloads); a plain playlist request may not.
func TestBlockingAnswerCacheable(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	feed(s, c, 0, 60, 0)
	plain := get(t, s, "/cams/test/video1_stream.m3u8")
	if cc := plain.Header().Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("plain media playlist: Cache-Control %q, want no-cache", cc)
	}
	msn, part := nextPart(t, plain.Body.String())
	// The part before the next one is there already: no wait.
	if part > 0 {
		part--
	} else {
		msn--
	}
	w := get(t, s, "/cams/test/video1_stream.m3u8?_HLS_msn="+strconv.Itoa(msn)+"&_HLS_part="+strconv.Itoa(part))
	if w.Code != 200 {
		t.Fatalf("blocking reload: %d", w.Code)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=1" {
		t.Errorf("blocking reload: Cache-Control %q, want public, max-age=1", cc)
	}
}
