// Command edge measures nginx as a caching edge in front of rtsp2hls: how
// many requests and bytes reach rtsp2hls (the origin) per second while K
// LL-HLS viewers watch one camera through nginx.
//
// It starts the real rtsp2hls binary with a `source: demo` camera (LL-HLS
// defaults: 1 s segments, 200 ms parts) and nginx with the shipped
// deploy/nginx/rtsp2hls.conf (its cache, log, upstream and listen
// addresses moved into a temporary directory and onto loopback; nothing
// else changed unless a flag says so), runs the viewers of bench/loadgen
// against nginx for each K and prints a table. Origin requests are counted
// from nginx's own log: a line whose $upstream_addr is not "-" went to
// rtsp2hls.
//
//	go run ./bench/edge -bin bin/rtsp2hls -k 10,100,500,1000,2000 -d 20s
//
// -playlists lock measures the configuration's commented-out alternative,
// which collapses the LL-HLS blocking reloads at the edge: answers to
// ?_HLS_msn= requests are cached for 1 s (as if rtsp2hls sent
// Cache-Control: max-age=1 on them; today it sends no-cache) behind
// proxy_cache_lock, with -playlist-lock-timeout.
package main

import (
	"bufio"
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
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rtsp2hls/rtsp2hls/bench/loadgen"
)

func main() {
	bin := flag.String("bin", "bin/rtsp2hls", "rtsp2hls binary to start")
	nginxBin := flag.String("nginx", "nginx", "nginx binary")
	conf := flag.String("conf", "deploy/nginx/rtsp2hls.conf", "the edge configuration to measure")
	ks := flag.String("k", "10,100,500,1000,2000", "viewer counts, one run each")
	dur := flag.Duration("d", 20*time.Second, "length of each run")
	warmup := flag.Duration("warmup", 3*time.Second, "start of each run not counted")
	workers := flag.Int("workers", 2, "nginx worker processes")
	playlists := flag.String("playlists", "shipped", "playlist policy: shipped (the location in force in -conf) or lock (its commented-out block that collapses blocking reloads)")
	plLock := flag.Duration("playlist-lock-timeout", 250*time.Millisecond, "with -playlists lock: proxy_cache_lock_timeout for playlists")
	partLock := flag.String("part-lock-timeout", "", "proxy_cache_lock_timeout for parts and segments (e.g. 5s, 50ms); empty: as in -conf")
	originYAML := flag.String("origin-yaml", "limits: { blockingPerClient: 10000 }",
		"top-level YAML added to rtsp2hls's config. Behind an edge every viewer has the edge's address, and as shipped "+
			"each viewer's blocking reload reaches rtsp2hls: its per-client cap must allow them all (deploy/nginx/README.md)")
	hlsOpts := flag.String("hls", "", `the camera's hls block, e.g. "partDuration: 100ms" (empty: defaults)`)
	keep := flag.Bool("keep", false, "keep the temporary directory (configs, nginx log)")
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

	dir, err := os.MkdirTemp("", "rtsp2hls-edge")
	if err != nil {
		log.Fatal(err)
	}
	if *keep {
		fmt.Println("temporary directory kept:", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	// The origin.
	origin := freeAddr()
	cfg := filepath.Join(dir, "config.yml")
	camera := "  demo1: { source: demo }\n"
	if *hlsOpts != "" {
		camera = "  demo1: { source: demo, hls: { " + *hlsOpts + " } }\n"
	}
	must(os.WriteFile(cfg, []byte("listen: \""+origin+"\"\n"+*originYAML+"\ncameras:\n"+camera), 0o644))
	srv := exec.Command(*bin, "-config", cfg)
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer stop(srv)

	// The edge.
	edge := freeAddr()
	site, err := renderSite(*conf, dir, origin, edge, *playlists, *plLock, *partLock)
	if err != nil {
		log.Fatal(err)
	}
	must(os.WriteFile(filepath.Join(dir, "rtsp2hls.conf"), []byte(site), 0o644))
	must(os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(mainConf(dir, *workers)), 0o644))
	for _, d := range []string{"cache", "tmp", "logs"} {
		must(os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	ngArgs := []string{"-p", dir, "-c", filepath.Join(dir, "nginx.conf")}
	if out, err := exec.Command(nginxPath, append(ngArgs, "-t")...).CombinedOutput(); err != nil {
		log.Fatalf("nginx -t: %v\n%s", err, out)
	}
	ng := exec.Command(nginxPath, append(ngArgs, "-g", "daemon off;")...)
	ng.Stdout, ng.Stderr = os.Stderr, os.Stderr
	if err := ng.Start(); err != nil {
		log.Fatal(err)
	}
	defer stop(ng)

	playlist := "/cams/demo1/video1_stream.m3u8"
	if !waitLive("http://"+origin+playlist, 15*time.Second) || !waitLive("http://"+edge+playlist, 5*time.Second) {
		log.Fatal("not live: ", playlist)
	}
	checkCaching(edge, playlist)

	fmt.Printf("\norigin: %s pid %d (demo camera 640x360 25 fps%s; %s); edge: nginx %s, %d workers, conf %s, playlists %s\n",
		*bin, srv.Process.Pid, map[bool]string{true: ", hls: " + *hlsOpts, false: ", LL-HLS defaults"}[*hlsOpts != ""], *originYAML,
		nginxVersion(nginxPath), *workers, *conf, policyName(*playlists, *plLock, *partLock))
	fmt.Printf("viewers: bench/loadgen, HTTP/1.1 keep-alive, one connection each, %v per run, counted after %v\n\n", *dur, *warmup)
	fmt.Println("| viewers | viewer req/s | origin req/s | playlists | parts+other | origin MB/s | viewer MB/s | hit ratio | part lag p50 | p99 | parts got (min / avg) | errors | origin CPU | nginx CPU |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")

	logPath := filepath.Join(dir, "logs", "edge.log")
	var logOff int64
	for _, f := range strings.Split(*ks, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k <= 0 {
			log.Fatalf("bad -k %q", f)
		}
		o0, n0, t0 := procCPU(srv.Process.Pid), groupCPU(ng.Process.Pid), time.Now()
		r := loadgen.Run(context.Background(), loadgen.Config{
			PlaylistURL: "http://" + edge + playlist, Viewers: k, Duration: *dur, Warmup: *warmup,
		})
		t1 := time.Now()
		wall := t1.Sub(t0).Seconds()
		oc := (procCPU(srv.Process.Pid) - o0).Seconds() / wall
		nc := (groupCPU(ng.Process.Pid) - n0).Seconds() / wall
		time.Sleep(1500 * time.Millisecond) // the log is flushed every second
		var st logStats
		st, logOff = readLog(logPath, logOff, t0.Add(*warmup), t1)
		w := t1.Sub(t0.Add(*warmup)).Seconds()
		hit := 0.0
		if st.requests > 0 {
			hit = 1 - float64(st.origin)/float64(st.requests)
		}
		fmt.Printf("| %d | %.0f | %.1f | %.1f | %.1f | %.3f | %.2f | %.1f %% | %v | %v | %.1f %% / %.1f %% | %d (edge non-200: %d) | %.0f %% | %.0f %% |\n",
			k, float64(st.requests)/w, float64(st.origin)/w, float64(st.originPlaylists)/w,
			float64(st.origin-st.originPlaylists)/w, float64(st.originBytes)/w/1e6, float64(st.sentBytes)/w/1e6,
			100*hit, r.P50.Round(time.Millisecond), r.P99.Round(time.Millisecond),
			100*r.GotMin, 100*r.GotAvg, r.Errors, st.non200, 100*oc, 100*nc)
		if *jsonOut {
			b, _ := json.Marshal(map[string]any{
				"viewers": k, "viewerReqPerS": float64(st.requests) / w, "originReqPerS": float64(st.origin) / w,
				"originPlaylistsPerS": float64(st.originPlaylists) / w, "originOtherPerS": float64(st.origin-st.originPlaylists) / w,
				"originMBPerS": float64(st.originBytes) / w / 1e6, "lagP50Ms": r.P50.Milliseconds(), "lagP99Ms": r.P99.Milliseconds(),
				"gotMin": r.GotMin, "errors": r.Errors, "edgeNon200": st.non200, "published": r.Published,
			})
			fmt.Printf("EDGE-JSON %s\n", b)
		}
		time.Sleep(2 * time.Second) // let the run's connections close
	}
}

// renderSite moves the shipped configuration's cache, log, upstream and
// listen addresses into dir and onto loopback, and applies the policy
// flags. Each line it changes must be there exactly once, so a change to
// the shipped file cannot silently leave the benchmark measuring something
// else.
func renderSite(path, dir, origin, edge, playlists string, plLock time.Duration, partLock string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := string(b)
	for _, r := range [][2]string{
		{"/var/cache/nginx/rtsp2hls", filepath.Join(dir, "cache")},
		{"server 127.0.0.1:8080;", "server " + origin + ";"},
		{"listen 80;", "listen " + edge + ";"},
		{"/var/log/nginx/rtsp2hls-edge.log", filepath.Join(dir, "logs", "edge.log")},
	} {
		if n := strings.Count(s, r[0]); n != 1 {
			return "", fmt.Errorf("%s: %q appears %d times, want once", path, r[0], n)
		}
		s = strings.Replace(s, r[0], r[1], 1)
	}
	if partLock != "" {
		s, err = replaceInLocation(s, `\.(mp4|ts)$`, "proxy_cache_lock_timeout", partLock)
		if err != nil {
			return "", err
		}
	}
	switch playlists {
	case "shipped":
	case "lock":
		// The shipped alternative: drop the playlist location in force and
		// uncomment the one between the markers.
		a, b, err := locationSpan(s, `\.m3u8$`)
		if err != nil {
			return "", err
		}
		s = s[:a] + s[b:]
		const open, shut = "#>>> collapse blocking reloads\n", "#<<< collapse blocking reloads\n"
		i, j := strings.Index(s, open), strings.Index(s, shut)
		if i < 0 || j < i {
			return "", fmt.Errorf("%s: no block between %q and %q", path, strings.TrimSpace(open), strings.TrimSpace(shut))
		}
		lines := strings.SplitAfter(s[i+len(open):j], "\n")
		for n, l := range lines {
			t := strings.TrimLeft(l, " ")
			lines[n] = l[:len(l)-len(t)] + strings.TrimPrefix(t, "#")
		}
		s = s[:i] + strings.Join(lines, "") + s[j:]
		s, err = replaceInLocation(s, `\.m3u8$`, "proxy_cache_lock_timeout", fmt.Sprintf("%dms", plLock.Milliseconds()))
		if err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("-playlists %q: want shipped or lock", playlists)
	}
	return s, nil
}

// locationSpan finds the location block whose line contains marker and
// returns its start and end (after the closing brace).
func locationSpan(s, marker string) (int, int, error) {
	i := strings.Index(s, marker+" {")
	if i < 0 {
		return 0, 0, fmt.Errorf("no location ending in %s", marker)
	}
	start := strings.LastIndex(s[:i], "location ")
	end := strings.Index(s[i:], "\n    }")
	if start < 0 || end < 0 {
		return 0, 0, fmt.Errorf("cannot delimit the location ending in %s", marker)
	}
	return start, i + end + len("\n    }"), nil
}

func replaceLocation(s, marker, block string) (string, error) {
	a, b, err := locationSpan(s, marker)
	if err != nil {
		return "", err
	}
	return s[:a] + block + s[b:], nil
}

func replaceInLocation(s, marker, directive, value string) (string, error) {
	a, b, err := locationSpan(s, marker)
	if err != nil {
		return "", err
	}
	re := regexp.MustCompile(`(?m)^(\s*)` + regexp.QuoteMeta(directive) + `\s+[^;]*;`)
	loc := s[a:b]
	if !re.MatchString(loc) {
		return "", fmt.Errorf("no %s in the location ending in %s", directive, marker)
	}
	loc = re.ReplaceAllString(loc, "${1}"+directive+" "+value+";")
	return s[:a] + loc + s[b:], nil
}

func policyName(playlists string, plLock time.Duration, partLock string) string {
	s := "as shipped"
	if playlists == "lock" {
		s = fmt.Sprintf("blocking reloads cached 1 s behind proxy_cache_lock (timeout %v)", plLock)
	}
	if partLock != "" {
		s += ", parts' proxy_cache_lock_timeout " + partLock
	}
	return s
}

// mainConf is the nginx.conf around the site: everything nginx writes is
// under dir, so it runs without touching the system's nginx.
func mainConf(dir string, workers int) string {
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n" // else workers become nobody and cannot write dir
	}
	t := filepath.Join(dir, "tmp")
	return user + fmt.Sprintf(`worker_processes %d;
pid %s;
error_log %s warn;
worker_rlimit_nofile 65536;
events {
    worker_connections 16384;
}
http {
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65s;
    keepalive_requests 1000000;
    client_body_temp_path %s/body;
    proxy_temp_path %s/proxy;
    fastcgi_temp_path %s/fastcgi;
    uwsgi_temp_path %s/uwsgi;
    scgi_temp_path %s/scgi;
    include %s;
}
`, workers, filepath.Join(dir, "nginx.pid"), filepath.Join(dir, "logs", "error.log"), t, t, t, t, t,
		filepath.Join(dir, "rtsp2hls.conf"))
}

// checkCaching asserts what the edge is for: a part fetched twice is a
// cache hit the second time, and a blocking reload through the edge works.
func checkCaching(edge, playlist string) {
	body, _, err := get("http://" + edge + playlist)
	if err != nil {
		log.Fatal(err)
	}
	m := regexp.MustCompile(`URI="([^"]+_part\d+\.mp4)"`).FindAllStringSubmatch(body, -1)
	if len(m) == 0 {
		log.Fatalf("no part in the playlist:\n%s", body)
	}
	part := "http://" + edge + playlist[:strings.LastIndexByte(playlist, '/')+1] + m[len(m)-1][1]
	get(part) //nolint:errcheck // warms the cache
	_, h, err := get(part)
	if err != nil {
		log.Fatal(err)
	}
	if h.Get("X-Cache") != "HIT" {
		log.Fatalf("a part fetched twice through the edge: X-Cache %q, want HIT (Cache-Control %q)", h.Get("X-Cache"), h.Get("Cache-Control"))
	}
	seq := regexp.MustCompile(`#EXT-X-MEDIA-SEQUENCE:(\d+)`).FindStringSubmatch(body)
	n, _ := strconv.Atoi(seq[1])
	segs := strings.Count(body, "#EXTINF")
	t := time.Now()
	_, h, err = get(fmt.Sprintf("http://%s%s?_HLS_msn=%d&_HLS_part=0", edge, playlist, n+segs+1))
	if err != nil {
		log.Fatal("blocking reload through the edge: ", err)
	}
	fmt.Printf("edge check: part twice -> second X-Cache %s; blocking reload for the next segment answered in %v (X-Cache %s, Cache-Control %q)\n",
		"HIT", time.Since(t).Round(time.Millisecond), h.Get("X-Cache"), h.Get("Cache-Control"))
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
	requests, origin, originPlaylists, non200 int64
	originBytes, sentBytes                    int64
}

// readLog reads the edge log from off and counts the lines logged in
// [from, to]. It returns the counts and the offset it read to.
//
// Line: $msec $status $upstream_cache_status $upstream_addr $upstream_status
// $upstream_bytes_received $body_bytes_sent $request_time
// $upstream_response_time "$request_uri"
func readLog(path string, off int64, from, to time.Time) (logStats, int64) {
	var st logStats
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		log.Fatal(err)
	}
	lo, hi := float64(from.UnixMilli())/1000, float64(to.UnixMilli())/1000
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			break // a partial last line is read next time
		}
		off += int64(len(line))
		fs := strings.Fields(line)
		if len(fs) < 10 {
			continue
		}
		t, _ := strconv.ParseFloat(fs[0], 64)
		if t < lo || t > hi {
			continue
		}
		st.requests++
		if fs[1] != "200" {
			st.non200++
		}
		sent, _ := strconv.ParseInt(fs[6], 10, 64)
		st.sentBytes += sent
		if fs[3] == "-" {
			continue
		}
		// One entry per upstream contacted ("a, b" or "a : b" when nginx
		// tried more than one).
		for _, v := range strings.FieldsFunc(fs[5], func(r rune) bool { return r == ',' || r == ':' }) {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				st.originBytes += n
			}
		}
		st.origin++
		if strings.Contains(fs[9], ".m3u8") {
			st.originPlaylists++
		}
	}
	return st, off
}

func nginxVersion(path string) string {
	out, _ := exec.Command(path, "-v").CombinedOutput()
	s := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
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
		log.Fatal(err)
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
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
