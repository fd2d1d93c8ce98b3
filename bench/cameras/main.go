// Command cameras measures what a camera costs rtsp2hls: CPU and memory of
// the real binary pulling N cameras of 1080p (1920x1080, 25 fps, 4 Mb/s
// H.264, one IDR per second, no B-frames, + AAC 128 kb/s 48 kHz stereo)
// over RTSP/TCP and muxing each to LL-HLS with the defaults (1 s
// segments, 200 ms parts, 7 segments kept), with no viewers.
//
// The clip is made once by ffmpeg (clip.go, kept in a cache directory) and
// served in a loop by this same program started again as a separate
// process (-serve, server.go: gortsplib, one path per camera, out of step,
// one write per RTP packet as a camera sends), so that its CPU is not
// rtsp2hls's; it is measured and printed too. On a 2-core machine it shares the cores
// with rtsp2hls: -remote HOST:PORT uses one started on another machine
// instead (go run ./bench/cameras -serve :8554 -paths 200 there).
//
// For each N (0 first: the baseline) it starts the server and rtsp2hls
// with cameras cam1..camN, waits until all are live (/api/v1/cameras),
// lets them settle, then measures rtsp2hls over a window: CPU (utime+stime
// from /proc/PID/stat), RSS (VmRSS from /proc/PID/status, sampled each
// second: mean and peak), then the Go heap (/metrics, open without users).
// It checks that the streams are real (every camera live, H264 1920x1080
// at ~25 fps with audio, no reconnect or muxer restart in the window, and
// ffprobe decodes 1920x1080 frames from one camera's index.m3u8) and
// prints a table: per camera = (total − total at N=0) / N.
//
//	make build && go run ./bench/cameras -bin bin/rtsp2hls -n 0,50,100,200
//
// (or RTSP2HLS_BENCH=1 go test -count=1 -v -run '^TestCamerasBench$' ./e2e,
// which runs this and fails if a check does.)
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rtsp2hls/rtsp2hls/camera"
)

// Targets of the issue ("Benchmarks and speed", point 2), per camera,
// flat from 50 to 200 cameras; and what another server needs.
const (
	targetMB, targetCPU = 8.0, 0.3
	otherMB, otherCPU   = 24.0, 0.4
)

func main() {
	bin := flag.String("bin", "bin/rtsp2hls", "rtsp2hls binary to measure")
	ns := flag.String("n", "0,50,100,200", "camera counts, one run each (0, the baseline, is added if missing)")
	settle := flag.Duration("settle", 20*time.Second, "wait after every camera is live, before measuring")
	window := flag.Duration("window", 30*time.Second, "measuring window")
	cacheDir := flag.String("cache", "", "where the clip is made and kept (default: the user cache directory, rtsp2hls-bench)")
	keep := flag.Bool("keep", false, "keep the temporary directory (configs and logs)")
	var env []string
	flag.Func("env", "VAR=value added to rtsp2hls's environment (repeatable), e.g. GOGC=100 (rtsp2hls sets 50 when GOGC is unset)", func(v string) error {
		if !strings.Contains(v, "=") {
			return errors.New("want VAR=value")
		}
		env = append(env, v)
		return nil
	})
	jsonOut := flag.Bool("json", false, "also print each run as a line \"CAMERAS-JSON {...}\" (for e2e/cameras_bench_test.go)")
	serverKind := flag.String("server", "gortsplib", "RTSP server of the cameras: gortsplib (its Server and ServerStream) or light (its message types, media written straight: ~15 % less CPU); server.go")
	frames := flag.Bool("frames", false, "with -server light: one write per access unit instead of one per RTP packet (cameras write per packet)")
	remote := flag.String("remote", "", "HOST:PORT of a camera server already running elsewhere (bench/cameras -serve ADDR -paths N on another machine), instead of one started here")
	serveAddr := flag.String("serve", "", "run only the camera server, on this address (how the benchmark starts it; or on another machine, for -remote)")
	paths := flag.Int("paths", 200, "with -serve: the number of cameras")
	clipDir := flag.String("clip", "", "with -serve: the clip's directory (default: made in -cache)")
	flag.Parse()
	log.SetFlags(0)
	raiseFileLimit()
	if *cacheDir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			d = os.TempDir()
		}
		*cacheDir = filepath.Join(d, "rtsp2hls-bench")
	}

	if *serveAddr != "" {
		if *clipDir == "" {
			d, err := makeClip(*cacheDir, func(f string, a ...any) { log.Printf(f, a...) })
			if err != nil {
				log.Fatal(err)
			}
			*clipDir = d
		}
		c, err := loadClip(*clipDir)
		if err != nil {
			log.Fatal(err)
		}
		if err := serve(c, *serverKind, *serveAddr, *paths, *frames); err != nil {
			log.Fatal(err)
		}
		return
	}

	counts, err := parseCounts(*ns)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stat(*bin); err != nil {
		log.Fatalf("%v (make build first, or -bin)", err)
	}
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			log.Fatalf("%s is needed: %v", tool, err)
		}
	}
	dir, err := makeClip(*cacheDir, func(f string, a ...any) { fmt.Printf(f+"\n", a...) })
	if err != nil {
		log.Fatal(err)
	}
	c, err := loadClip(dir)
	if err != nil {
		log.Fatal(err)
	}
	vb, ab := c.bytes()
	secs := float64(len(c.video)) / clipFPS
	fmt.Printf("clip %s: %d frames (%.1f s), video %.2f Mb/s, %d AAC frames %.0f kb/s %d Hz\n",
		dir, len(c.video), secs, float64(vb)*8/secs/1e6, len(c.audio),
		float64(ab)*8/(float64(len(c.audio))*aacSamples/float64(c.aacConf.SampleRate))/1e3, c.aacConf.SampleRate)

	ver, _ := exec.Command(*bin, "-version").Output()
	fmt.Printf("%s; machine: %d CPUs (%s), load average %s\n", strings.TrimSpace(string(ver)), runtime.NumCPU(), cpuModel(), loadAvg())

	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	tmp, err := os.MkdirTemp("", "rtsp2hls-cameras")
	if err != nil {
		log.Fatal(err)
	}
	if *keep {
		fmt.Println("temporary directory kept:", tmp)
	}
	b := &bench{bin: *bin, env: env, self: self, clip: dir, tmp: tmp, settle: *settle, window: *window,
		server: []string{"-server", *serverKind, "-frames=" + strconv.FormatBool(*frames)}, remote: *remote}
	how := "one write per RTP packet"
	if *frames && *serverKind == "light" {
		how = "one write per access unit"
	}
	fmt.Printf("rtsp2hls %s, LL-HLS defaults, RTSP over TCP on loopback, no viewers; per N: all live, %v settle, %v window\n", *bin, *settle, *window)
	if *remote != "" {
		fmt.Printf("RTSP server: %s (already running elsewhere; its CPU is not measured)\n", *remote)
	} else {
		fmt.Printf("RTSP server: %s (%s), a separate process\n", *serverKind, how)
	}
	if len(env) > 0 {
		fmt.Printf("rtsp2hls environment: %s\n", strings.Join(env, " "))
	}
	fmt.Println()

	var runs []result
	failed := false
	for _, n := range counts {
		r, err := b.run(n)
		if err != nil {
			log.Printf("N=%d: %v", n, err)
			failed = true
			if r == nil {
				continue
			}
		}
		runs = append(runs, *r)
		if *jsonOut {
			j, _ := json.Marshal(r)
			fmt.Printf("CAMERAS-JSON %s\n", j)
		}
		time.Sleep(2 * time.Second) // the last run's sockets and memory gone
	}
	fmt.Println()
	printTable(os.Stdout, runs)
	if failed {
		fmt.Println("\nsomething failed: configs and logs kept in", tmp)
		os.Exit(1)
	}
	if !*keep {
		os.RemoveAll(tmp)
	}
}

// parseCounts parses -n, with 0 first.
func parseCounts(s string) ([]int, error) {
	counts := []int{0}
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad -n %q", f)
		}
		if !slices.Contains(counts, n) {
			counts = append(counts, n)
		}
	}
	return counts, nil
}

func raiseFileLimit() {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl) //nolint:errcheck // best effort
	}
}

type bench struct {
	bin, self, clip, tmp string
	env                  []string // added to rtsp2hls's
	server               []string // the RTSP server's flags
	remote               string   // the RTSP server's address, if not started here
	settle, window       time.Duration
}

// result is one run's figures.
type result struct {
	N             int     `json:"n"`
	CPU           float64 `json:"cpu"` // % of one core, whole process
	RSSMB         float64 `json:"rssMB"`
	RSSPeakMB     float64 `json:"rssPeakMB"`
	HeapInuseMB   float64 `json:"heapInuseMB"`
	HeapAllocMB   float64 `json:"heapAllocMB"`
	NextGCMB      float64 `json:"nextGCMB"`
	StackMB       float64 `json:"stackMB"`
	GoSysMB       float64 `json:"goSysMB"`
	LiveMB        float64 `json:"liveMB"`    // live heap at the last GC, from its goal and GOGC
	GOGC          float64 `json:"gogc"`      // as rtsp2hls runs
	AllocMBps     float64 `json:"allocMBps"` // allocated per second (window)
	GCPerMin      float64 `json:"gcPerMin"`  // GC cycles per minute (window)
	Goroutines    float64 `json:"goroutines"`
	ServerCPU     float64 `json:"serverCPU"` // -1: not measured (-remote)
	ServerRSSMB   float64 `json:"serverRSSMB"`
	InMbps        float64 `json:"inMbps"` // mean bitrateIn per camera
	FPSMin        float64 `json:"fpsMin"`
	FPSMax        float64 `json:"fpsMax"`
	Live          int     `json:"live"`
	Checks        string  `json:"checks"` // "ok" or what failed
	Probe         string  `json:"probe"`  // ffprobe of cam1: what it decoded
	WindowSeconds float64 `json:"windowSeconds"`
	Load          string  `json:"load"` // 1-minute load average at the window's start and end
}

// run measures n cameras.
func (b *bench) run(n int) (*result, error) {
	r := &result{N: n, Checks: "ok"}
	dir := filepath.Join(b.tmp, fmt.Sprintf("n%d", n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	fmt.Printf("== N=%d\n", n)

	var srv *process
	rtspAddr := b.remote
	if n > 0 && rtspAddr == "" {
		var err error
		srv, rtspAddr, err = b.startServer(dir, n)
		if err != nil {
			return nil, err
		}
		defer srv.stop()
	}

	addr := freeAddr()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "listen: %q\n", addr)
	if n > 0 {
		cfg.WriteString("cameras:\n")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&cfg, "  cam%d: { source: \"rtsp://%s/cam%d\", transport: tcp }\n", i, rtspAddr, i)
		}
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o644); err != nil {
		return nil, err
	}
	app, err := start(filepath.Join(dir, "rtsp2hls.log"), false, b.env, b.bin, "-config", cfgPath)
	if err != nil {
		return nil, err
	}
	defer app.stop()
	base := "http://" + addr
	if !waitFor(15*time.Second, func() bool { return httpOK(base + "/healthz") }) {
		return nil, fmt.Errorf("rtsp2hls does not answer (log: %s)", app.logPath)
	}
	t0 := time.Now()
	var before []camera.Status
	if n > 0 {
		timeout := 30*time.Second + time.Duration(n)*200*time.Millisecond
		ok := waitFor(timeout, func() bool {
			before, err = cameras(base)
			return err == nil && countLive(before) == n
		})
		if !ok {
			return nil, fmt.Errorf("%d of %d cameras live after %v (log: %s)", countLive(before), n, timeout, app.logPath)
		}
		fmt.Printf("   all %d live after %.1f s\n", n, time.Since(t0).Seconds())
	}
	time.Sleep(b.settle)
	if n > 0 {
		if before, err = cameras(base); err != nil {
			return nil, err
		}
	}

	// The window: nothing but /proc is read (the Go runtime's counters
	// just before and after).
	m0, _ := metrics(base)
	t0 = time.Now()
	load0 := loadAvg()
	a0, s0, w0 := procCPU(app.pid()), srv.cpu(), time.Now()
	var rss []float64
	for end := w0.Add(b.window); time.Now().Before(end); {
		time.Sleep(time.Second)
		rss = append(rss, vmRSS(app.pid()))
	}
	wall := time.Since(w0).Seconds()
	r.WindowSeconds = wall
	r.Load = load0 + " → " + loadAvg()
	r.CPU = 100 * (procCPU(app.pid()) - a0).Seconds() / wall
	if srv != nil {
		r.ServerCPU = 100 * (srv.cpu() - s0).Seconds() / wall
		r.ServerRSSMB = vmRSS(srv.pid())
	} else if n > 0 {
		r.ServerCPU = -1
	}
	for _, v := range rss {
		r.RSSMB += v / float64(len(rss))
		r.RSSPeakMB = max(r.RSSPeakMB, v)
	}

	// After the window: the Go runtime's figures (3 scrapes, mean) and the
	// checks.
	var ms []map[string]float64
	for i := range 3 {
		if i > 0 {
			time.Sleep(time.Second)
		}
		if m, err := metrics(base); err == nil {
			if len(ms) == 0 && m0 != nil {
				d := time.Since(t0).Seconds()
				r.AllocMBps = (m["go_memstats_alloc_bytes_total"] - m0["go_memstats_alloc_bytes_total"]) / 1e6 / d
				r.GCPerMin = (m["go_gc_duration_seconds_count"] - m0["go_gc_duration_seconds_count"]) * 60 / d
			}
			ms = append(ms, m)
		}
	}
	mean := func(k string) float64 {
		var s float64
		for _, m := range ms {
			s += m[k]
		}
		return s / float64(max(len(ms), 1))
	}
	r.HeapInuseMB = mean("go_memstats_heap_inuse_bytes") / 1e6
	r.HeapAllocMB = mean("go_memstats_heap_alloc_bytes") / 1e6
	r.NextGCMB = mean("go_memstats_next_gc_bytes") / 1e6
	r.StackMB = mean("go_memstats_stack_inuse_bytes") / 1e6
	r.GoSysMB = mean("go_memstats_sys_bytes") / 1e6
	r.Goroutines = mean("go_goroutines")
	r.GOGC = mean("go_gc_gogc_percent")
	if r.GOGC > 0 {
		// The heap goal is live + (live + stacks + globals) × GOGC/100.
		r.LiveMB = (r.NextGCMB - r.StackMB*r.GOGC/100) / (1 + r.GOGC/100)
	}

	fmt.Printf("   rtsp2hls: CPU %.1f %%, RSS %.0f MB (peak %.0f), heap in use %.0f MB", r.CPU, r.RSSMB, r.RSSPeakMB, r.HeapInuseMB)
	if srv != nil {
		fmt.Printf("; RTSP server: CPU %.1f %%, RSS %.0f MB", r.ServerCPU, r.ServerRSSMB)
	}
	fmt.Printf("; load average %s\n", r.Load)
	if n == 0 {
		return r, nil
	}
	after, err := cameras(base)
	if err != nil {
		return r, err
	}
	var problems []string
	r.FPSMin = 1e9
	byName := map[string]camera.Status{}
	for _, st := range before {
		byName[st.Name] = st
	}
	for _, st := range after {
		if st.State == "live" {
			r.Live++
		}
		r.FPSMin, r.FPSMax = min(r.FPSMin, st.FPS), max(r.FPSMax, st.FPS)
		r.InMbps += st.BitrateIn / 1e6 / float64(len(after))
		var bad []string
		if st.State != "live" {
			bad = append(bad, "state "+string(st.State))
		}
		if st.Codec != "H264" || st.Width != clipWidth || st.Height != clipHeight {
			bad = append(bad, fmt.Sprintf("%s %dx%d", st.Codec, st.Width, st.Height))
		}
		if st.FPS < clipFPS-1.5 || st.FPS > clipFPS+1.5 {
			bad = append(bad, fmt.Sprintf("%.1f fps", st.FPS))
		}
		if st.Audio == "" {
			bad = append(bad, "no audio")
		}
		if was, ok := byName[st.Name]; ok && (st.Reconnects != was.Reconnects || st.MuxerRestarts != was.MuxerRestarts) {
			bad = append(bad, fmt.Sprintf("reconnects %d→%d, muxer restarts %d→%d in the window",
				was.Reconnects, st.Reconnects, was.MuxerRestarts, st.MuxerRestarts))
		}
		if len(bad) > 0 {
			problems = append(problems, st.Name+": "+strings.Join(bad, ", "))
		}
	}
	if len(after) != n {
		problems = append(problems, fmt.Sprintf("%d cameras in the API, want %d", len(after), n))
	}
	fmt.Printf("   API: %d/%d live, %.1f–%.1f fps, in %.2f Mb/s per camera, audio %q\n",
		r.Live, n, r.FPSMin, r.FPSMax, r.InMbps, after[0].Audio)
	r.Probe, err = probe(base + "/cams/cam1/index.m3u8")
	fmt.Printf("   ffprobe cam1/index.m3u8: %s\n", r.Probe)
	if err != nil {
		problems = append(problems, "ffprobe: "+err.Error())
	}
	if len(problems) > 0 {
		if len(problems) > 5 {
			problems = append(problems[:5], fmt.Sprintf("and %d more", len(problems)-5))
		}
		r.Checks = strings.Join(problems, "; ")
		return r, errors.New(r.Checks)
	}
	return r, nil
}

// startServer starts the RTSP server of n cameras, this program with
// -serve, and returns its address.
func (b *bench) startServer(dir string, n int) (*process, string, error) {
	args := append([]string{"-serve", "127.0.0.1:0", "-paths", strconv.Itoa(n), "-clip", b.clip}, b.server...)
	p, err := start(filepath.Join(dir, "rtsp-server.log"), true, nil, b.self, args...)
	if err != nil {
		return nil, "", err
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(p.stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				lines <- a
			}
		}
	}()
	select {
	case a := <-lines:
		return p, a, nil
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, "", fmt.Errorf("RTSP server not ready after 30 s (log: %s)", p.logPath)
	}
}

// process is a child process, its stderr to a log file.
type process struct {
	cmd     *exec.Cmd
	stdout  io.Reader
	logPath string
	done    chan struct{}
}

// start starts name, with env added to ours; its stderr (and its stdout
// unless pipe) goes to the file logPath.
func start(logPath string, pipe bool, env []string, name string, args ...string) (*process, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	p := &process{cmd: exec.Command(name, args...), logPath: logPath, done: make(chan struct{})}
	// Killed with us, whatever ends us.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p.cmd.Stderr = lf
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	if !pipe {
		p.cmd.Stdout = lf
	} else {
		out, err := p.cmd.StdoutPipe()
		if err != nil {
			lf.Close()
			return nil, err
		}
		p.stdout = out
	}
	if err := p.cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	go func() {
		p.cmd.Wait() //nolint:errcheck // the log says why
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int {
	if p == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

func (p *process) cpu() time.Duration {
	if p == nil {
		return 0
	}
	return procCPU(p.pid())
}

// stop ends the process with SIGTERM (SIGKILL after 10 s) and waits.
func (p *process) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may be gone
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill() //nolint:errcheck // it may be gone
		<-p.done
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

func waitFor(d time.Duration, ok func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		if ok() {
			return true
		}
	}
	return ok()
}

var client = &http.Client{Timeout: 10 * time.Second}

func httpOK(url string) bool {
	r, err := client.Get(url)
	if err != nil {
		return false
	}
	r.Body.Close()
	return r.StatusCode == http.StatusOK
}

func cameras(base string) ([]camera.Status, error) {
	r, err := client.Get(base + "/api/v1/cameras")
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	var sts []camera.Status
	if err := json.NewDecoder(r.Body).Decode(&sts); err != nil {
		return nil, err
	}
	return sts, nil
}

func countLive(sts []camera.Status) int {
	n := 0
	for _, st := range sts {
		if st.State == "live" {
			n++
		}
	}
	return n
}

// metrics returns the unlabelled series of /metrics.
func metrics(base string) (map[string]float64, error) {
	r, err := client.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", r.Status)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' || strings.Contains(l, "{") {
			continue
		}
		name, v, ok := strings.Cut(l, " ")
		if !ok {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			m[name] = f
		}
	}
	return m, sc.Err()
}

// probe has ffprobe read the camera's HLS (multivariant playlist, as a
// player starts): its streams, and 10 decoded video frames, which must be
// 1920x1080.
func probe(url string) (string, error) {
	out, err := exec.Command("timeout", "30", "ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height,sample_rate,channels",
		"-of", "compact=p=0", url).Output()
	if err != nil {
		return "", fmt.Errorf("streams: %v", err)
	}
	var uniq []string // the multivariant playlist lists the streams once per program
	for _, f := range strings.Fields(string(out)) {
		if !slices.Contains(uniq, f) {
			uniq = append(uniq, f)
		}
	}
	streams := strings.Join(uniq, " ")
	if !strings.Contains(streams, "codec_name=h264") || !strings.Contains(streams, "codec_name=aac") {
		return streams, fmt.Errorf("want h264 and aac streams, got %s", streams)
	}
	out, err = exec.Command("timeout", "30", "ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#10",
		"-show_entries", "frame=width,height", "-of", "csv=p=0", url).Output()
	if err != nil {
		return streams, fmt.Errorf("frames: %v", err)
	}
	frames := strings.Fields(string(out))
	good := 0
	for _, f := range frames {
		if strings.TrimSuffix(f, ",") == fmt.Sprintf("%d,%d", clipWidth, clipHeight) {
			good++
		}
	}
	desc := fmt.Sprintf("%s; %d frames decoded, %d of them %dx%d", streams, len(frames), good, clipWidth, clipHeight)
	if len(frames) == 0 || good != len(frames) {
		return desc, errors.New(desc)
	}
	return desc, nil
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

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func verdict(ok bool) string {
	if ok {
		return "within the target"
	}
	return "OVER the target"
}

// loadAvg is the 1-minute load average: the machine should be quiet.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// vmRSS is the resident memory of pid in MB (10^6 bytes).
func vmRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024 / 1e6
		}
	}
	return 0
}

// printTable prints the runs against the baseline (the run with N=0).
func printTable(w io.Writer, runs []result) {
	var base *result
	for i := range runs {
		if runs[i].N == 0 {
			base = &runs[i]
		}
	}
	if base == nil {
		fmt.Fprintln(w, "no baseline (N=0) run: no per-camera figures")
		return
	}
	fmt.Fprintf(w, "per camera = (total − total at N=0) / N; marginal = change from the previous N, per camera added.\n")
	fmt.Fprintf(w, "targets per camera: ≤ %.0f MB and ≤ %.1f %% of one core, flat from 50 to 200 (another server: %.0f MB, %.1f %%)\n\n",
		targetMB, targetCPU, otherMB, otherCPU)
	fmt.Fprintln(w, "| cameras | rtsp2hls CPU (% of one core) | per camera | marginal | RSS | per camera | marginal | RSS peak | Go heap in use | per camera | goroutines | RTSP server CPU | in per camera | checks |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	prev := base
	for i := range runs {
		r := &runs[i]
		if r.N == 0 {
			fmt.Fprintf(w, "| 0 (baseline) | %.2f %% | | | %.1f MB | | | %.1f MB | %.1f MB | | %.0f | | | |\n",
				r.CPU, r.RSSMB, r.RSSPeakMB, r.HeapInuseMB, r.Goroutines)
			continue
		}
		n := float64(r.N)
		dn := float64(r.N - prev.N)
		marg := func(a, b float64) string {
			if dn <= 0 {
				return ""
			}
			return fmt.Sprintf("%.2f", (a-b)/dn)
		}
		srvCPU := "elsewhere"
		if r.ServerCPU >= 0 {
			srvCPU = fmt.Sprintf("%.1f %%", r.ServerCPU)
		}
		fmt.Fprintf(w, "| %d | %.1f %% | %.3f %% | %s %% | %.0f MB | %.2f MB | %s MB | %.0f MB | %.0f MB | %.2f MB | %.0f | %s | %.2f Mb/s | %s |\n",
			r.N, r.CPU, (r.CPU-base.CPU)/n, marg(r.CPU, prev.CPU), r.RSSMB, (r.RSSMB-base.RSSMB)/n, marg(r.RSSMB, prev.RSSMB),
			r.RSSPeakMB, r.HeapInuseMB, (r.HeapInuseMB-base.HeapInuseMB)/n, r.Goroutines, srvCPU, r.InMbps, r.Checks)
		prev = r
	}
	fmt.Fprintln(w)
	var first *result // the first run of 50 cameras or more, for flatness
	for i := range runs {
		r := &runs[i]
		if r.N == 0 {
			continue
		}
		mb, cpu := (r.RSSMB-base.RSSMB)/float64(r.N), (r.CPU-base.CPU)/float64(r.N)
		fmt.Fprintf(w, "N=%d: %.1f MB per camera (%s %.0f MB; other server %.0f MB), %.2f %% of a core (%s %.1f %%; other server %.1f %%)",
			r.N, mb, verdict(mb <= targetMB), targetMB, otherMB, cpu, verdict(cpu <= targetCPU), targetCPU, otherCPU)
		if first == nil && r.N >= 50 {
			first = r
		}
		if first != nil && r != first {
			fmb, fcpu := (first.RSSMB-base.RSSMB)/float64(first.N), (first.CPU-base.CPU)/float64(first.N)
			fmt.Fprintf(w, "; against N=%d: memory ×%.2f, CPU ×%.2f per camera", first.N, mb/fmb, cpu/fcpu)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Go runtime (/metrics): heap figures after the window (mean of 3 scrapes), allocation and GC over it;")
	fmt.Fprintln(w, "live heap = what the last GC kept, from its goal (next GC) and GOGC; per camera above the baseline:")
	fmt.Fprintln(w, "| cameras | GOGC | heap in use | live heap | next GC goal | allocated | GC cycles | stacks | 8 s of media at the rate in |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range runs {
		if r.N == 0 {
			continue
		}
		n := float64(r.N)
		fmt.Fprintf(w, "| %d | %.0f | %.2f MB | %.2f MB | %.2f MB | %.2f MB/s | %.1f /min | %.3f MB | %.2f MB |\n", r.N, r.GOGC,
			(r.HeapInuseMB-base.HeapInuseMB)/n, (r.LiveMB-base.LiveMB)/n, (r.NextGCMB-base.NextGCMB)/n,
			(r.AllocMBps-base.AllocMBps)/n, r.GCPerMin, (r.StackMB-base.StackMB)/n, r.InMbps*8 /* s */ /8 /* bits */)
	}
}
