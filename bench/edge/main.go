// Command edge measures nginx as a caching edge in front of rtsp2hls: how
// many requests and bytes reach rtsp2hls (the origin) per second while K
// LL-HLS viewers watch one camera through nginx, and how much later than
// the first viewer each viewer gets a part.
//
// It starts the real rtsp2hls binary with a `source: demo` camera (LL-HLS
// defaults: 1 s segments, 200 ms parts) and nginx with the shipped
// deploy/nginx/rtsp2hls.conf (its cache directories, log, socket, upstream
// and listen addresses moved into a temporary directory and onto loopback
// by bench/edge/nginxconf; nothing else changed unless a flag says so),
// runs the viewers of bench/loadgen against nginx for each K and prints a
// table. Origin requests are rtsp2hls's own count (its /metrics); how they
// split into playlists and media comes from nginx's log.
//
//	go run ./bench/edge -bin bin/rtsp2hls -k 10,100,500,1000,2000 -d 20s
//
// Variants, to compare with what is shipped:
//
//	-playlists origin             playlists straight to rtsp2hls, not cached (no collapse)
//	-reload-locks 250ms           one lock for blocking reloads (timeout 250 ms), no second tier
//	-reload-locks 190ms,60ms      the two tiers' lock timeouts
//	-reload-set 'proxy_cache_lock_age 100ms'   a directive set in both playlist locations (repeatable)
//	-part-lock-timeout 20ms       the media location's lock timeout
//	-direct                       no edge: viewers go to rtsp2hls itself (the part lag without it)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rtsp2hls/rtsp2hls/bench/edge/nginxconf"
	"github.com/rtsp2hls/rtsp2hls/bench/loadgen"
)

// cleanups run before the program exits, also on a fatal error (log.Fatal
// would leave rtsp2hls and nginx running, holding the caller's pipes).
var cleanups []func()

func fatalf(format string, args ...any) {
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	log.Fatalf(format, args...)
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, "; ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	bin := flag.String("bin", "bin/rtsp2hls", "rtsp2hls binary to start")
	nginxBin := flag.String("nginx", "nginx", "nginx binary")
	conf := flag.String("conf", "deploy/nginx/rtsp2hls.conf", "the edge configuration to measure")
	ks := flag.String("k", "10,100,500,1000,2000", "viewer counts, one run each")
	dur := flag.Duration("d", 20*time.Second, "length of each run")
	warmup := flag.Duration("warmup", 3*time.Second, "start of each run not counted")
	workers := flag.Int("workers", 2, "nginx worker processes")
	playlists := flag.String("playlists", "shipped", "playlists: shipped (as in -conf) or origin (straight to rtsp2hls, not cached: nothing collapsed)")
	reloadLocks := flag.String("reload-locks", "", `blocking reloads' lock timeouts: "T" (one tier, straight to rtsp2hls) or "T1,T2" (two tiers); empty: as in -conf`)
	var reloadSet listFlag
	flag.Var(&reloadSet, "reload-set", `"directive value" set in both playlist locations, e.g. "proxy_cache_lock_age 100ms" (repeatable)`)
	partLock := flag.String("part-lock-timeout", "", "proxy_cache_lock_timeout for parts and segments (e.g. 5s, 20ms); empty: as in -conf")
	originYAML := flag.String("origin-yaml", "",
		"top-level YAML added to rtsp2hls's config. With -playlists origin or -direct and none given, limits: { blockingPerClient: 10000 }: "+
			"behind an edge that does not collapse, every viewer's blocking reload reaches rtsp2hls from the edge's address (deploy/nginx/README.md)")
	hlsOpts := flag.String("hls", "", `the camera's hls block, e.g. "partDuration: 100ms" (empty: defaults)`)
	keep := flag.Bool("keep", false, "keep the temporary directory (configs, nginx log)")
	direct := flag.Bool("direct", false, "viewers go to rtsp2hls itself, not through nginx: the part lag without the edge, for comparison")
	jsonOut := flag.Bool("json", false, "also print each run as a line \"EDGE-JSON {...}\" (for e2e/edge_bench_test.go)")
	flag.Parse()

	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl) //nolint:errcheck // best effort
	}
	nginxPath, err := exec.LookPath(*nginxBin)
	if err != nil {
		log.Fatalf("nginx not found (%v): apt-get install nginx-light", err)
	}
	if (*playlists == "origin" || *direct) && *originYAML == "" {
		*originYAML = "limits: { blockingPerClient: 10000 }"
	}

	dir, err := os.MkdirTemp("", "rtsp2hls-edge")
	if err != nil {
		log.Fatal(err)
	}
	if *keep {
		fmt.Println("temporary directory kept:", dir)
	} else {
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	}

	// The origin.
	origin := freeAddr()
	cfg := dir + "/config.yml"
	camera := "  demo1: { source: demo }\n"
	if *hlsOpts != "" {
		camera = "  demo1: { source: demo, hls: { " + *hlsOpts + " } }\n"
	}
	must(os.WriteFile(cfg, []byte("listen: \""+origin+"\"\n"+*originYAML+"\ncameras:\n"+camera), 0o644))
	srv := exec.Command(*bin, "-config", cfg)
	srv.Stderr = os.Stderr
	srv.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} // if we are killed
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	cleanups = append(cleanups, func() { stop(srv) })

	// The edge.
	edge := freeAddr()
	b, err := os.ReadFile(*conf)
	if err != nil {
		fatalf("%v", err)
	}
	site, err := nginxconf.Site(string(b), dir, origin, edge)
	if err == nil {
		site, err = variant(site, *playlists, *reloadLocks, reloadSet, *partLock)
	}
	if err != nil {
		fatalf("%s: %v", *conf, err)
	}
	ng, err := nginxconf.Start(nginxPath, dir, site, *workers, os.Stderr)
	if err != nil {
		fatalf("%v", err)
	}
	cleanups = append(cleanups, ng.Stop)

	playlist := "/cams/demo1/video1_stream.m3u8"
	if !waitLive("http://"+origin+playlist, 15*time.Second) || !waitLive("http://"+edge+playlist, 5*time.Second) {
		fatalf("not live: %s", playlist)
	}
	checkCaching(edge, playlist)

	fmt.Printf("\norigin: %s pid %d (demo camera 640x360 25 fps, %s; config: %q); edge: nginx %s, %d workers, conf %s, %s\n",
		*bin, srv.Process.Pid, map[bool]string{true: "hls: " + *hlsOpts, false: "LL-HLS defaults"}[*hlsOpts != ""], *originYAML,
		nginxVersion(nginxPath), *workers, *conf, policyName(*playlists, *reloadLocks, reloadSet, *partLock, *direct))
	fmt.Printf("viewers: bench/loadgen, HTTP/1.1 keep-alive, one connection each, %v per run, counted after %v; load average before: %s\n\n",
		*dur, *warmup, loadAvg())
	fmt.Println("| viewers | viewer req/s | origin req/s | of which blocking reloads | media, plain playlists | origin MB/s | viewer MB/s | viewer reloads via tier 2 | part lag p50 | p99 | parts got (min / avg) | errors | origin CPU | nginx CPU |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")

	logPath := nginxconf.LogPath(dir)
	var logOff int64
	for _, f := range strings.Split(*ks, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k <= 0 {
			fatalf("bad -k %q", f)
		}
		o0, n0, t0 := procCPU(srv.Process.Pid), groupCPU(ng.Pid()), time.Now()
		// rtsp2hls's own count of the requests it answered, at the end of
		// the warm-up and at the end of the run.
		m0 := make(chan float64, 1)
		go func() { time.Sleep(*warmup); m0 <- originHLSRequests(origin) }()
		target := edge
		if *direct {
			target = origin
		}
		r := loadgen.Run(context.Background(), loadgen.Config{
			PlaylistURL: "http://" + target + playlist, Viewers: k, Duration: *dur, Warmup: *warmup,
		})
		t1 := time.Now()
		originN := originHLSRequests(origin) - <-m0
		wall := t1.Sub(t0).Seconds()
		oc := (procCPU(srv.Process.Pid) - o0).Seconds() / wall
		nc := (groupCPU(ng.Pid()) - n0).Seconds() / wall
		time.Sleep(1500 * time.Millisecond) // the log is flushed every second
		lines, off, err := nginxconf.ReadLog(logPath, logOff)
		if err != nil {
			fatalf("%v", err)
		}
		logOff = off
		st := count(lines, t0.Add(*warmup), t1)
		if *direct {
			st.requests = int64(originN) // the viewers' requests all went to rtsp2hls
		}
		w := t1.Sub(t0.Add(*warmup)).Seconds()
		tier2 := 0.0
		if st.viewerReloads > 0 {
			tier2 = float64(st.tier2) / float64(st.viewerReloads)
		}
		fmt.Printf("| %d | %.0f | %.1f | %.1f | %.1f | %.3f | %.2f | %.0f %% | %v | %v | %.1f %% / %.1f %% | %d (edge non-200: %d) | %.0f %% | %.0f %% |\n",
			k, float64(st.requests)/w, originN/w, float64(st.originReloads)/w, float64(st.origin-st.originReloads)/w,
			float64(st.originBytes)/w/1e6, float64(st.sentBytes)/w/1e6, 100*tier2,
			r.P50.Round(time.Millisecond), r.P99.Round(time.Millisecond),
			100*r.GotMin, 100*r.GotAvg, r.Errors, st.non200, 100*oc, 100*nc)
		if *jsonOut {
			b, _ := json.Marshal(map[string]any{
				"viewers": k, "viewerReqPerS": float64(st.requests) / w, "originReqPerS": originN / w,
				"originLogReqPerS": float64(st.origin) / w, "originReloadsPerS": float64(st.originReloads) / w,
				"originOtherPerS": float64(st.origin-st.originReloads) / w, "originMBPerS": float64(st.originBytes) / w / 1e6,
				"tier2Share": tier2, "lagP50Ms": r.P50.Milliseconds(), "lagP99Ms": r.P99.Milliseconds(),
				"gotMin": r.GotMin, "errors": r.Errors, "edgeNon200": st.non200, "published": r.Published,
			})
			fmt.Printf("EDGE-JSON %s\n", b)
		}
		time.Sleep(2 * time.Second) // let the run's connections close
	}
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
}

// variant applies the flags' changes to the rendered site.
func variant(s, playlists, reloadLocks string, set []string, partLock string) (string, error) {
	var err error
	if partLock != "" {
		if s, err = setInLocation(s, `\.(mp4|ts)$`, 0, "proxy_cache_lock_timeout "+partLock); err != nil {
			return "", err
		}
	}
	switch playlists {
	case "shipped":
	case "origin":
		a, b, err := locationSpan(s, `\.m3u8$`, 0)
		if err != nil {
			return "", err
		}
		return s[:a] + "location ~ ^/cams/[^/]+/(sub/)?[^/]+\\.m3u8$ {\n        proxy_pass http://rtsp2hls_origin;\n    }" + s[b:], nil
	default:
		return "", fmt.Errorf("-playlists %q: want shipped or origin", playlists)
	}
	if reloadLocks != "" {
		ts := strings.Split(reloadLocks, ",")
		switch len(ts) {
		case 1:
			// One tier: the edge's playlist location goes to rtsp2hls itself.
			a, b, err := locationSpan(s, `\.m3u8$`, 0)
			if err != nil {
				return "", err
			}
			loc := s[a:b]
			if strings.Count(loc, "proxy_pass http://rtsp2hls_reloads_tier2;") != 1 {
				return "", fmt.Errorf("the edge's playlist location does not proxy_pass to rtsp2hls_reloads_tier2")
			}
			s = s[:a] + strings.Replace(loc, "http://rtsp2hls_reloads_tier2;", "http://rtsp2hls_origin;", 1) + s[b:]
		case 2:
		default:
			return "", fmt.Errorf("-reload-locks %q: want T or T1,T2", reloadLocks)
		}
		for i, t := range ts {
			if s, err = setInLocation(s, `\.m3u8$`, i, "proxy_cache_lock_timeout "+strings.TrimSpace(t)); err != nil {
				return "", err
			}
		}
	}
	for _, d := range set {
		for i := range 2 {
			if s, err = setInLocation(s, `\.m3u8$`, i, d); err != nil {
				return "", err
			}
		}
	}
	return s, nil
}

// locationSpan finds the n-th (from 0) location block whose line ends in
// marker and returns its start and end (after the closing brace).
func locationSpan(s, marker string, n int) (int, int, error) {
	from := 0
	for i := 0; ; i++ {
		j := strings.Index(s[from:], marker+" {")
		if j < 0 {
			return 0, 0, fmt.Errorf("no location %d ending in %s", n, marker)
		}
		j += from
		if i < n {
			from = j + 1
			continue
		}
		start := strings.LastIndex(s[:j], "location ")
		end := strings.Index(s[j:], "\n    }")
		if start < 0 || end < 0 {
			return 0, 0, fmt.Errorf("cannot delimit location %d ending in %s", n, marker)
		}
		return start, j + end + len("\n    }"), nil
	}
}

// setInLocation sets "directive value" in the n-th location ending in
// marker: replaces the directive's line if there is one, else adds it.
func setInLocation(s, marker string, n int, directive string) (string, error) {
	a, b, err := locationSpan(s, marker, n)
	if err != nil {
		return "", err
	}
	name, _, _ := strings.Cut(strings.TrimSpace(directive), " ")
	re := regexp.MustCompile(`(?m)^(\s*)` + regexp.QuoteMeta(name) + `\s+[^;]*;`)
	loc := s[a:b]
	if re.MatchString(loc) {
		loc = re.ReplaceAllString(loc, "${1}"+strings.TrimSpace(directive)+";")
	} else {
		loc = strings.TrimSuffix(loc, "\n    }") + "\n        " + strings.TrimSpace(directive) + ";\n    }"
	}
	return s[:a] + loc + s[b:], nil
}

func policyName(playlists, reloadLocks string, set []string, partLock string, direct bool) string {
	s := "as shipped"
	switch {
	case playlists == "origin":
		s = "playlists straight to rtsp2hls, not cached"
	case reloadLocks != "":
		s = "blocking reloads' lock timeouts " + reloadLocks
		if !strings.Contains(reloadLocks, ",") {
			s += " (one tier)"
		}
	}
	for _, d := range set {
		s += ", " + d
	}
	if direct {
		s = "not used: viewers go to rtsp2hls directly"
	}
	if partLock != "" {
		s += ", parts' proxy_cache_lock_timeout " + partLock
	}
	return s
}

// checkCaching asserts what the edge is for: a part fetched twice is a
// cache hit the second time, and a blocking reload through the edge works.
func checkCaching(edge, playlist string) {
	body, _, err := get("http://" + edge + playlist)
	if err != nil {
		fatalf("%v", err)
	}
	m := regexp.MustCompile(`URI="([^"]+_part\d+\.mp4)"`).FindAllStringSubmatch(body, -1)
	if len(m) == 0 {
		fatalf("no part in the playlist:\n%s", body)
	}
	part := "http://" + edge + playlist[:strings.LastIndexByte(playlist, '/')+1] + m[len(m)-1][1]
	get(part) //nolint:errcheck // warms the cache
	_, h, err := get(part)
	if err != nil {
		fatalf("%v", err)
	}
	if h.Get("X-Cache") != "HIT" {
		fatalf("a part fetched twice through the edge: X-Cache %q, want HIT (Cache-Control %q)", h.Get("X-Cache"), h.Get("Cache-Control"))
	}
	seq := regexp.MustCompile(`#EXT-X-MEDIA-SEQUENCE:(\d+)`).FindStringSubmatch(body)
	n, _ := strconv.Atoi(seq[1])
	segs := strings.Count(body, "#EXTINF")
	t := time.Now()
	_, h, err = get(fmt.Sprintf("http://%s%s?_HLS_msn=%d&_HLS_part=0", edge, playlist, n+segs+1))
	if err != nil {
		fatalf("blocking reload through the edge: %v", err)
	}
	fmt.Printf("edge check: part twice -> second X-Cache HIT; blocking reload for the next segment answered in %v (X-Cache %s, Cache-Control %q)\n",
		time.Since(t).Round(time.Millisecond), h.Get("X-Cache"), h.Get("Cache-Control"))
}

func get(url string) (string, http.Header, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), resp.Header, err
}

type logStats struct {
	requests, viewerReloads, tier2 int64 // viewers' requests, their blocking reloads, those handed to tier 2
	origin, originReloads, non200  int64
	originBytes, sentBytes         int64
}

// count sums the log lines that ended in [from, to]. A viewer's request
// is an "edge" line; a request to rtsp2hls is an upstream entry of any
// line that is not the second tier's socket. 499 (the viewer closed the
// connection: the run's end) is not counted as an error.
func count(lines []nginxconf.Line, from, to time.Time) logStats {
	var st logStats
	lo, hi := float64(from.UnixMilli())/1000, float64(to.UnixMilli())/1000
	for _, l := range lines {
		if l.Time < lo || l.Time > hi {
			continue
		}
		if n := int64(l.OriginRequests()); n > 0 {
			st.origin += n
			st.originBytes += l.UpstreamBytes
			if l.Blocking() {
				st.originReloads += n
			}
		}
		if l.Server != "edge" {
			continue
		}
		st.requests++
		st.sentBytes += l.Sent
		if l.Status != 200 && l.Status != 499 {
			st.non200++
		}
		if l.Blocking() {
			st.viewerReloads++
			if len(l.Upstream) > 0 && l.OriginRequests() == 0 {
				st.tier2++
			}
		}
	}
	return st
}

// originHLSRequests is rtsp2hls's count of the requests it answered on
// /cams/ (playlists, parts, segments, init), from its /metrics.
func originHLSRequests(origin string) float64 {
	body, _, err := get("http://" + origin + "/metrics")
	if err != nil {
		fatalf("%v", err)
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

func nginxVersion(path string) string {
	out, _ := exec.Command(path, "-v").CombinedOutput()
	s := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may be gone
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }() //nolint:errcheck // we only wait for it to end
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill() //nolint:errcheck // last resort
		<-done
	}
}

func must(err error) {
	if err != nil {
		fatalf("%v", err)
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("%v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitLive(url string, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return true
			}
		}
	}
	return false
}

// procCPU is utime+stime of pid, from /proc/PID/stat (clock ticks of 10 ms).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64) // field 14 of the whole line
	k, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	return time.Duration(u+k) * 10 * time.Millisecond
}

// groupCPU is procCPU of pid and of its children (nginx's master and
// workers).
func groupCPU(pid int) time.Duration {
	total := procCPU(pid)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if ppid, _ := strconv.Atoi(f[1]); ppid == pid {
			total += procCPU(child)
		}
	}
	return total
}
