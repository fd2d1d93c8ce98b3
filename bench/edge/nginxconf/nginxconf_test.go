package nginxconf

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSiteRewritesTheShippedFile(t *testing.T) {
	b, err := os.ReadFile("../../../deploy/nginx/rtsp2hls.conf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s, err := Site(string(b), dir, "127.0.0.1:1111", "127.0.0.1:2222")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"/var/", "/run/", "listen 80;", "127.0.0.1:8080"} {
		if strings.Contains(s, bad) {
			t.Errorf("rendered site still has %q", bad)
		}
	}
	for _, want := range []string{
		"server 127.0.0.1:1111;", "listen 127.0.0.1:2222;",
		"server unix:" + filepath.Join(dir, "tier2.sock") + ";", "listen unix:" + filepath.Join(dir, "tier2.sock") + " backlog=4096;",
		filepath.Join(dir, "cache") + " ", filepath.Join(dir, "cache") + "-reloads ",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("rendered site lacks %q", want)
		}
	}
	if _, err := Site(strings.Replace(string(b), "listen 80;", "listen 8000;", 1), dir, "a:1", "b:2"); err == nil {
		t.Error("a file without the expected listen line was rendered")
	}
}

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		line           string
		server, cache  string
		status, origin int
		upstreamBytes  int64
		blocking       bool
		req, upstream  float64
	}{
		{`1795318791.277 edge 200 MISS 396 0.193 "/cams/demo1/video1_stream.m3u8?_HLS_msn=9&_HLS_part=1" "unix:/tmp/x/tier2.sock" "200" "703" "0.133"`,
			"edge", "MISS", 200, 0, 703, true, 0.193, 0.133},
		{`1795318791.376 edge 200 HIT 396 0.191 "/cams/demo1/video1_stream.m3u8?_HLS_msn=9&_HLS_part=1" "-" "-" "-" "-"`,
			"edge", "HIT", 200, 0, 0, true, 0.191, 0},
		{`1795318789.882 tier2 200 BYPASS 351 0.001 "/cams/demo1/video1_stream.m3u8" "127.0.0.1:41895" "200" "608" "0.001"`,
			"tier2", "BYPASS", 200, 1, 608, false, 0.001, 0.001},
		{`1795318789.9 edge 200 MISS 9000 0.002 "/cams/demo1/abc_video1_part3.mp4" "127.0.0.1:41895, 127.0.0.1:41896" "502, 200" "0, 9100" "0.000, 0.002"`,
			"edge", "MISS", 200, 2, 9100, false, 0.002, 0.002},
	} {
		l, ok := parseLine([]byte(tc.line + "\n"))
		if !ok {
			t.Errorf("not parsed: %s", tc.line)
			continue
		}
		if l.Server != tc.server || l.Cache != tc.cache || l.Status != tc.status || l.OriginRequests() != tc.origin ||
			l.UpstreamBytes != tc.upstreamBytes || l.Blocking() != tc.blocking ||
			math.Abs(l.RequestTime-tc.req) > 1e-9 || math.Abs(l.UpstreamTime-tc.upstream) > 1e-9 {
			t.Errorf("%s:\n got %+v (origin %d, blocking %v)", tc.line, l, l.OriginRequests(), l.Blocking())
		}
	}
	if _, ok := parseLine([]byte("garbage\n")); ok {
		t.Error("garbage parsed")
	}
}
