package e2e

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// llhlsClient follows a camera's media playlist the way an LL-HLS player
// does: blocking reloads with _HLS_msn/_HLS_part, then the new parts.
type llhlsClient struct {
	t       *testing.T
	base    string         // .../cams/NAME/
	parts   map[string]int // part URI -> size
	reloads int
	last    string // last playlist
}

var (
	reMediaSeq = regexp.MustCompile(`#EXT-X-MEDIA-SEQUENCE:(\d+)`)
	rePartURI  = regexp.MustCompile(`#EXT-X-PART:.*URI="([^"]+)"`)
)

func (c *llhlsClient) get(path string) (*http.Response, []byte) {
	c.t.Helper()
	resp, err := http.Get(c.base + path)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	return resp, body
}

// next returns the msn and part index of the part after the last one listed.
func nextPart(pl string) (msn, part int) {
	m := reMediaSeq.FindStringSubmatch(pl)
	seq, _ := strconv.Atoi(m[1])
	lines := strings.Split(pl, "\n")
	segments, trailing := 0, 0
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "#EXTINF"):
			segments++
			trailing = 0
		case strings.HasPrefix(l, "#EXT-X-PART:"):
			trailing++
		}
	}
	return seq + segments, trailing
}

// follow runs for d and returns how many new parts arrived.
func (c *llhlsClient) follow(d time.Duration) {
	c.t.Helper()
	resp, body := c.get("index.m3u8")
	if resp.StatusCode != 200 {
		c.t.Fatalf("index.m3u8: %s", resp.Status)
	}
	media := regexp.MustCompile(`(?m)^[^#\s].*\.m3u8.*$`).FindString(string(body))
	if media == "" {
		c.t.Fatalf("no media playlist in %q", body)
	}
	resp, body = c.get(media)
	if resp.StatusCode != 200 {
		c.t.Fatalf("%s: %s", media, resp.Status)
	}
	pl := string(body)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c.last = pl
		for _, m := range rePartURI.FindAllStringSubmatch(pl, -1) {
			if _, seen := c.parts[m[1]]; seen {
				continue
			}
			r, b := c.get(m[1])
			if r.StatusCode != 200 || len(b) == 0 {
				c.t.Fatalf("part %s: %s, %d bytes", m[1], r.Status, len(b))
			}
			if ct := r.Header.Get("Content-Type"); ct != "video/mp4" {
				c.t.Fatalf("part %s: Content-Type %q", m[1], ct)
			}
			c.parts[m[1]] = len(b)
		}
		msn, part := nextPart(pl)
		start := time.Now()
		r, b := c.get(fmt.Sprintf("%s?_HLS_msn=%d&_HLS_part=%d", media, msn, part))
		if r.StatusCode != 200 {
			c.t.Fatalf("blocking reload msn=%d part=%d: %s %q", msn, part, r.Status, b)
		}
		if w := time.Since(start); w > 3*time.Second {
			c.t.Fatalf("blocking reload took %v", w)
		}
		c.reloads++
		pl = string(b)
	}
}

func TestDemoCameraLowLatencyHLS(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	s := startServer(t, `
listen: LISTEN
hls: { partDuration: 200ms, segmentDuration: 1s }
cameras:
  demo1: { source: demo }
`)
	s.waitState(t, "demo1", "live", 10*time.Second)

	c := &llhlsClient{t: t, base: s.URL + "/cams/demo1/", parts: map[string]int{}}
	c.follow(10 * time.Second)

	for _, tag := range []string{"#EXT-X-PART-INF:PART-TARGET=", "CAN-BLOCK-RELOAD=YES", "#EXT-X-PRELOAD-HINT:", "#EXT-X-PROGRAM-DATE-TIME:"} {
		if !strings.Contains(c.last, tag) {
			t.Errorf("playlist lacks %s:\n%s", tag, c.last)
		}
	}
	// 10 s of 200 ms parts is 50 new parts; allow for start-up.
	t.Logf("10 s of LL-HLS: %d parts, %d blocking reloads", len(c.parts), c.reloads)
	if len(c.parts) < 40 {
		t.Fatalf("got %d parts in 10 s, want at least 40", len(c.parts))
	}
	if c.reloads < 40 {
		t.Fatalf("only %d blocking reloads in 10 s: reloads are not blocking until the next part", c.reloads)
	}

	st := s.camera(t, "demo1")
	if st.Codec != "H264" || st.Width != 640 || st.Height != 360 || st.FPS != 25 {
		t.Fatalf("API status = %+v", st)
	}
}

func TestUnknownCameraAndFileAre404(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	s := startServer(t, "listen: LISTEN\ncameras:\n  demo1: { source: demo }\n")
	s.waitState(t, "demo1", "live", 10*time.Second)
	for _, p := range []string{"/cams/nosuch/", "/cams/nosuch/index.m3u8", "/cams/demo1/nosuch_seg1.mp4",
		"/cams/demo1/nosuch.m3u8", "/api/v1/cameras/nosuch", "/nosuch"} {
		resp, err := http.Get(s.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %s, want 404", p, resp.Status)
		}
	}
}
