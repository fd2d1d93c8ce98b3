package e2e

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/bench/edge/nginxconf"
	"github.com/rtsp2hls/rtsp2hls/bench/loadgen"
)

// TestEdgeCollapsesBlockingReloads puts nginx with the shipped
// deploy/nginx/rtsp2hls.conf in front of rtsp2hls (a demo camera), the
// file's cache directories, log, socket and addresses moved into a
// temporary directory and onto loopback (bench/edge/nginxconf, as the edge
// benchmark does), and checks what the file promises:
//
//   - a plain playlist request is neither cached nor locked, it reaches
//     rtsp2hls; a part fetched twice is a cache hit; a blocking reload is
//     cached as rtsp2hls says (max-age=1), one entry whatever the client's
//     Accept-Encoding (unzipped for a client that does not take gzip);
//   - 20 LL-HLS viewers (bench/loadgen) following the camera through nginx
//     for 8 s all get every part, without an error, while the blocking
//     reloads that reach rtsp2hls are about one per distinct part asked
//     (counted from nginx's log, where each request that reached rtsp2hls
//     has its address as upstream), far below the viewers' reloads; and
//     rtsp2hls's own count of requests (/metrics) agrees that it served a
//     small fraction of what the viewers asked.
//
// It needs nginx (Debian: apt-get install nginx-light).
func TestEdgeCollapsesBlockingReloads(t *testing.T) {
	s, edge, logPath := startEdge(t)
	const playlist = "/cams/demo1/video1_stream.m3u8"

	// Request by request.
	plain := func() (string, http.Header) {
		t.Helper()
		resp, body := httpGet(t, edge+playlist)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s through the edge: %s", playlist, resp.Status)
		}
		return body, resp.Header
	}
	body, h := plain()
	if _, h2 := plain(); h.Get("X-Cache") != "BYPASS" || h2.Get("X-Cache") != "BYPASS" || h2.Get("Cache-Control") != "no-cache" {
		t.Errorf("a plain playlist request twice: X-Cache %q then %q, Cache-Control %q; want BYPASS (not cached), no-cache",
			h.Get("X-Cache"), h2.Get("X-Cache"), h2.Get("Cache-Control"))
	}
	parts := regexp.MustCompile(`URI="([^"]+_part(\d+)\.mp4)"`).FindAllStringSubmatch(body, -1)
	if len(parts) == 0 {
		t.Fatalf("no part in the playlist:\n%s", body)
	}
	last := parts[len(parts)-1]
	partURL := edge + "/cams/demo1/" + last[1]
	httpGet(t, partURL)
	if resp, _ := httpGet(t, partURL); resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "HIT" {
		t.Errorf("a part fetched twice: %s, X-Cache %q; want 200, HIT", resp.Status, resp.Header.Get("X-Cache"))
	}
	// A blocking reload for the last part listed (it exists: answered at
	// once), asked for gzip, then without Accept-Encoding.
	msn, part := lastPart(t, body)
	reload := fmt.Sprintf("%s%s?_HLS_msn=%d&_HLS_part=%d", edge, playlist, msn, part)
	raw := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	get := func(gz bool) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, reload, nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		resp, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			if r, err = gzip.NewReader(resp.Body); err != nil {
				t.Fatal(err)
			}
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	r1, b1 := get(true)
	r2, b2 := get(false)
	switch {
	case r1.StatusCode != 200 || r2.StatusCode != 200:
		t.Errorf("blocking reload %s: %s then %s", reload, r1.Status, r2.Status)
	case r1.Header.Get("Cache-Control") != "public, max-age=1":
		t.Errorf("blocking reload: Cache-Control %q, want rtsp2hls's \"public, max-age=1\"", r1.Header.Get("Cache-Control"))
	case r1.Header.Get("X-Cache") != "MISS" || r2.Header.Get("X-Cache") != "HIT":
		t.Errorf("the same blocking reload twice (gzip, then without Accept-Encoding): X-Cache %q then %q, want MISS then HIT",
			r1.Header.Get("X-Cache"), r2.Header.Get("X-Cache"))
	case r2.Header.Get("Content-Encoding") != "" || !strings.HasPrefix(b2, "#EXTM3U") || b1 != b2:
		t.Errorf("blocking reload without Accept-Encoding: Content-Encoding %q, body %.40q; want the same playlist as with gzip, unzipped",
			r2.Header.Get("Content-Encoding"), b2)
	}

	// Viewers.
	_, off, _ := nginxconf.ReadLog(logPath, 0) // what came before is not counted
	m0 := originRequests(t, s.URL)
	r := loadgen.Run(context.Background(), loadgen.Config{
		PlaylistURL: edge + playlist, Viewers: 20, Duration: 8 * time.Second, Warmup: 2 * time.Second,
	})
	m1 := originRequests(t, s.URL)
	t.Log(r)
	lines := readEdgeLog(t, edge, logPath, off)

	if r.Errors != 0 {
		t.Errorf("viewers: %d failed requests", r.Errors)
	}
	if r.Published < 12 {
		t.Errorf("only %d parts published in the counted 4 s", r.Published)
	}
	if r.Complete != r.Viewers {
		t.Errorf("%d of %d viewers missed parts (least: %.0f %%)", r.Viewers-r.Complete, r.Viewers, 100*r.GotMin)
	}
	var viewerReqs, viewerReloads, viaTier2, originReloads, originAll int
	distinct := map[string]bool{}
	bad := map[int]int{}
	for _, l := range lines {
		n := l.OriginRequests()
		originAll += n
		if l.Blocking() {
			originReloads += n
		}
		if l.Server != "edge" {
			continue
		}
		viewerReqs++
		if l.Status != 200 && l.Status != 499 { // 499: a viewer gone at the end of the run
			bad[l.Status]++
		}
		if l.Blocking() {
			viewerReloads++
			distinct[l.URI] = true
			if len(l.Upstream) > 0 && n == 0 {
				viaTier2++
			}
		}
	}
	t.Logf("edge log: %d viewer requests, of which %d blocking reloads for %d distinct parts (%d handed to the second tier); "+
		"reached rtsp2hls: %d requests, %d of them blocking reloads; rtsp2hls counted %.0f requests on /cams/",
		viewerReqs, viewerReloads, len(distinct), viaTier2, originAll, originReloads, m1-m0)
	if len(bad) > 0 {
		t.Errorf("answers other than 200 to viewers, by status: %v", bad)
	}
	if viewerReloads < 10*len(distinct) {
		t.Fatalf("%d blocking reloads for %d distinct parts from 20 viewers: the viewers did not follow the camera", viewerReloads, len(distinct))
	}
	// Collapsed: about one request per distinct part reaches rtsp2hls. A
	// part more than 50 ms late (a loaded machine) lets that part's
	// waiters through, hence the slack; without the collapse it would be
	// every viewer's reload.
	if originReloads > 3*len(distinct)+10 || 4*originReloads > viewerReloads {
		t.Errorf("%d blocking reloads reached rtsp2hls for %d distinct parts asked (%d reloads from the viewers): not collapsed",
			originReloads, len(distinct), viewerReloads)
	}
	if 4*(m1-m0) > float64(viewerReqs) {
		t.Errorf("rtsp2hls served %.0f requests on /cams/ while the viewers made %d through the edge: the edge does not cache", m1-m0, viewerReqs)
	}
}

// TestEdgeCollapsesPastNginxUseCounter: 1,200 viewers at once ask the
// edge for the same next part (one blocking reload, not yet answerable),
// and only the first goes on to rtsp2hls; the others wait on the cache
// lock. nginx counts the requests for a cache entry in 10 bits: without
// proxy_cache_min_uses 0 in the shipped file, the 1,024th request for an
// entry not yet cached is taken for one below proxy_cache_min_uses and
// passes the lock (uncached), so every part a second request reached
// rtsp2hls once more than 1,023 viewers watched through one nginx.
//
// Whether a request waited is read from nginx's log: the time it took
// minus the time its upstream took. The holder of the lock and a request
// let past it go on at once; a waiter goes on, if at all, after its lock
// timeout (190 ms).
func TestEdgeCollapsesPastNginxUseCounter(t *testing.T) {
	s, edge, logPath := startEdge(t)
	const playlist = "/cams/demo1/video1_stream.m3u8"
	const viewers = 1200

	host := strings.TrimPrefix(edge, "http://")
	conns := make([]net.Conn, viewers)
	for i := range conns {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatalf("connection %d to the edge: %v", i, err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		conns[i] = c
	}
	_, off, _ := nginxconf.ReadLog(logPath, 0)

	// Wait, at rtsp2hls itself, for a part to come out: the one after it
	// is then a part duration (200 ms) away, time enough for all the
	// requests to reach nginx before it exists.
	_, pl := httpGet(t, s.URL+playlist)
	msn, part := nextPart(pl)
	_, pl = httpGet(t, fmt.Sprintf("%s%s?_HLS_msn=%d&_HLS_part=%d", s.URL, playlist, msn, part))
	msn, part = nextPart(pl)
	uri := fmt.Sprintf("%s?_HLS_msn=%d&_HLS_part=%d", playlist, msn, part)
	req := []byte("GET " + uri + " HTTP/1.1\r\nHost: " + host + "\r\nAccept-Encoding: gzip\r\n\r\n")
	for i, c := range conns {
		if _, err := c.Write(req); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	status := make(chan string, viewers)
	for _, c := range conns {
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				status <- err.Error()
				return
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				status <- err.Error()
				return
			}
			status <- resp.Status
		}()
	}
	answers := map[string]int{}
	for range conns {
		answers[<-status]++
	}
	if answers["200 OK"] != viewers {
		t.Errorf("%d identical blocking reloads at once through the edge, answered: %v; want all 200 OK", viewers, answers)
	}

	lines := readEdgeLog(t, edge, logPath, off)
	var wentOn, reached, total int
	for _, l := range lines {
		if l.URI != uri {
			continue
		}
		reached += l.OriginRequests()
		if l.Server != "edge" {
			continue
		}
		total++
		if len(l.Upstream) > 0 && l.RequestTime-l.UpstreamTime < 0.1 {
			wentOn++
		}
	}
	t.Logf("%d requests for %s in the edge's log: %d went on without waiting on the lock; %d reached rtsp2hls", total, uri, wentOn, reached)
	if total != viewers {
		t.Fatalf("%d of the %d requests in the edge's log", total, viewers)
	}
	if wentOn != 1 {
		t.Errorf("%d of %d identical blocking reloads went past the edge's cache lock without waiting, want 1 (the lock's holder)", wentOn, viewers)
	}
	// Waiters reach rtsp2hls only if the part is more than 50 ms late (a
	// loaded machine); without the lock it would be every request.
	if reached > 10 {
		t.Errorf("%d of %d identical blocking reloads reached rtsp2hls: not collapsed", reached, viewers)
	}
}

// readEdgeLog returns the lines of the edge's log from offset off on, up
// to about now. Each nginx worker writes its lines at least every second
// (buffer=64k flush=1s): once a request made now is in the log, one more
// second brings the other worker's.
func readEdgeLog(t *testing.T, edge, logPath string, off int64) []nginxconf.Line {
	t.Helper()
	marker := fmt.Sprintf("/cams/demo1/no-such-file-%d.mp4", time.Now().UnixNano())
	httpGet(t, edge+marker)
	var lines []nginxconf.Line
	read := func() bool {
		var more []nginxconf.Line
		more, off, _ = nginxconf.ReadLog(logPath, off)
		found := false
		for _, l := range more {
			if l.URI == marker {
				found = true
				continue
			}
			lines = append(lines, l)
		}
		return found
	}
	waitFor(t, 10*time.Second, "nginx to write its log", read)
	time.Sleep(1200 * time.Millisecond)
	read()
	return lines
}

// startEdge starts rtsp2hls with a demo camera and nginx with the shipped
// deploy/nginx/rtsp2hls.conf in front of it (bench/edge/nginxconf), and
// returns rtsp2hls, the edge's base URL and the edge's log.
func startEdge(t *testing.T) (s *server, edge, logPath string) {
	t.Helper()
	ngx := "nginx"
	if _, err := exec.LookPath(ngx); err != nil {
		if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
			ngx = "/usr/sbin/nginx" // not in a non-root user's PATH on Debian
		}
	}
	need(t, ngx)
	ngx, _ = exec.LookPath(ngx)

	s = startServer(t, `
listen: LISTEN
cameras:
  demo1: { source: demo }
`)
	s.waitState(t, "demo1", "live", 15*time.Second)

	conf, err := os.ReadFile("../deploy/nginx/rtsp2hls.conf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if len(dir) > 80 { // the second tier's unix socket is in it
		if dir, err = os.MkdirTemp("/tmp", "edge"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	edgeAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	site, err := nginxconf.Site(string(conf), dir, strings.TrimPrefix(s.URL, "http://"), edgeAddr)
	if err != nil {
		t.Fatal(err)
	}
	out := &logBuffer{}
	ng, err := nginxconf.Start(ngx, dir, site, 2, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ng.Stop()
		if t.Failed() {
			t.Logf("nginx output:\n%s\nnginx error log:\n%s", out.String(), ng.ErrorLog())
		}
	})
	edge = "http://" + edgeAddr
	waitFor(t, 10*time.Second, "the edge to serve the playlist", func() bool {
		resp, err := http.Get(edge + "/cams/demo1/video1_stream.m3u8")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return s, edge, nginxconf.LogPath(dir)
}

// lastPart returns the media sequence number of the segment of the last
// part listed in the playlist, and the part's index in it.
func lastPart(t *testing.T, pl string) (msn, part int) {
	t.Helper()
	m := regexp.MustCompile(`#EXT-X-MEDIA-SEQUENCE:(\d+)`).FindStringSubmatch(pl)
	if m == nil {
		t.Fatalf("no media sequence in the playlist:\n%s", pl)
	}
	seg, _ := strconv.Atoi(m[1])
	idx := 0
	msn, part = -1, -1
	for _, l := range strings.Split(pl, "\n") {
		switch {
		case strings.HasPrefix(l, "#EXTINF:"):
			seg++
			idx = 0
		case strings.HasPrefix(l, "#EXT-X-PART:"):
			msn, part = seg, idx
			idx++
		}
	}
	if part < 0 {
		t.Fatalf("no part in the playlist:\n%s", pl)
	}
	return msn, part
}

// originRequests is rtsp2hls's count of the requests it answered on
// /cams/ (its /metrics, open without users).
func originRequests(t *testing.T, base string) float64 {
	t.Helper()
	resp, body := httpGet(t, base+"/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	total := 0.0
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "rtsp2hls_http_requests_total{") && strings.Contains(l, `route="GET /cams/{name}/{file}"`) {
			v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
			if err == nil {
				total += v
			}
		}
	}
	return total
}
