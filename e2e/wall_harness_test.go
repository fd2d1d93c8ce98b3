package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// webServer is a running rtsp2hls that a test can stop and start again on
// the same port, over HTTP or HTTPS.
type webServer struct {
	URL     string // http://127.0.0.1:PORT or https://...
	Addr    string // 127.0.0.1:PORT
	Config  string // path of the config file
	DataDir string // its dataDir
	// Redirect is the redirectListen address, when the config has the
	// REDIRECT placeholder.
	Redirect string
	HTTPS    bool
	// Client talks to the server. Over HTTPS it skips certificate checks:
	// the harness only needs answers from loopback (tls_test.go checks the
	// certificates themselves).
	Client *http.Client

	cmd  *exec.Cmd
	logs *logBuffer
	done chan error
}

type webOpts struct {
	Port    int    // 0 for a free one
	DataDir string // "" for a temporary directory
}

var tlsKeyRE = regexp.MustCompile(`(?m)^tls:`)

// startWeb writes config with its placeholders filled in (LISTEN: the
// address; DATADIR: the data directory; REDIRECT: another free address)
// and runs rtsp2hls with it until the test ends.
func startWeb(t *testing.T, config string, o webOpts) *webServer {
	t.Helper()
	port := o.Port
	if port == 0 {
		port = freePort(t)
	}
	s := &webServer{Addr: fmt.Sprintf("127.0.0.1:%d", port), DataDir: o.DataDir, logs: &logBuffer{}}
	if s.DataDir == "" {
		s.DataDir = filepath.Join(t.TempDir(), "data")
	}
	if strings.Contains(config, "REDIRECT") {
		s.Redirect = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	}
	s.HTTPS = tlsKeyRE.MatchString(config)
	s.URL = "http://" + s.Addr
	tr := &http.Transport{}
	if s.HTTPS {
		s.URL = "https://" + s.Addr
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // loopback test harness
	}
	s.Client = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	r := strings.NewReplacer("LISTEN", s.Addr, "DATADIR", fmt.Sprintf("%q", s.DataDir), "REDIRECT", s.Redirect)
	s.Config = filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(s.Config, []byte(r.Replace(config)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.kill()
		if strings.Contains(s.logs.String(), "DATA RACE") {
			t.Errorf("the race detector found a data race in rtsp2hls")
		}
		if t.Failed() {
			t.Logf("rtsp2hls log:\n%s", s.logs.String())
		}
		tr.CloseIdleConnections()
	})
	s.start(t)
	return s
}

// start runs the server (again) and waits until it answers.
func (s *webServer) start(t *testing.T) {
	t.Helper()
	fmt.Fprintf(s.logs, "--- start at %s\n", time.Now().Format(time.TimeOnly))
	s.cmd = exec.Command(binary, "-config", s.Config)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = make(chan error, 1)
	go func(cmd *exec.Cmd, done chan error) { done <- cmd.Wait() }(s.cmd, s.done)
	waitFor(t, 15*time.Second, "rtsp2hls to listen", func() bool {
		resp, err := s.Client.Get(s.URL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// stop ends the server the way a service manager does (SIGTERM) and waits
// for it to exit.
func (s *webServer) stop(t *testing.T) {
	t.Helper()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Errorf("rtsp2hls did not exit within 10 s of SIGTERM")
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

func (s *webServer) kill() {
	if s.cmd != nil {
		s.cmd.Process.Kill()
		<-s.done
		s.cmd = nil
	}
}

func (s *webServer) getJSON(t *testing.T, path string, v any) int {
	t.Helper()
	resp, err := s.Client.Get(s.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode
}

// waitLive waits until every camera named (and its substream, if any) is
// live.
func (s *webServer) waitLive(t *testing.T, names []string, timeout time.Duration) {
	t.Helper()
	var last []cameraStatus
	deadline := time.Now().Add(timeout)
	for {
		s.getJSON(t, "/api/v1/cameras", &last)
		live := map[string]bool{}
		for _, c := range last {
			live[c.Name] = c.State == "live" && (c.Substream == nil || c.Substream.State == "live")
		}
		if !slices.ContainsFunc(names, func(n string) bool { return !live[n] }) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cameras not live after %v: %+v", timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// camNames returns cam1 ... camN.
func camNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("cam%d", i+1)
	}
	return out
}

// camerasYAML is the cameras: block for cam1 ... camN pulled from the
// mounts of a gst_camera.py --mounts camera (base + number).
func camerasYAML(base string, n int) string {
	var b strings.Builder
	b.WriteString("cameras:\n")
	for i, name := range camNames(n) {
		fmt.Fprintf(&b, "  %s: { source: %q, transport: tcp }\n", name, fmt.Sprintf("%s%d", base, i+1))
	}
	return b.String()
}

// The check.mjs report, with what the wall tests look at.
type (
	checkRect struct{ X, Y, W, H int }
	checkGap  struct {
		StartMs float64 `json:"startMs"`
		EndMs   float64 `json:"endMs"`
	}
	checkVideo struct {
		Camera       string     `json:"camera"`
		Stream       string     `json:"stream"`
		FirstFrameMs *float64   `json:"firstFrameMs"`
		Frames       int        `json:"frames"`
		Width        int        `json:"width"`
		Height       int        `json:"height"`
		MaxGapMs     float64    `json:"maxGapMs"`
		Gaps         []checkGap `json:"gaps"`
		LastFrameMs  float64    `json:"lastFrameMs"`
		NowMs        float64    `json:"nowMs"`
		TimeOriginMs float64    `json:"timeOriginMs"`
		LatencyS     *float64   `json:"latencyS"`
		PDTLatencyS  *float64   `json:"pdtLatencyS"`
		ShownLatency string     `json:"shownLatency"`
		Suspended    *bool      `json:"suspended"`
		Suspends     int        `json:"suspends"`
		Rect         checkRect  `json:"rect"`
		OnScreen     bool       `json:"onScreen"`
	}
	checkTile struct {
		Name     string    `json:"name"`
		Badge    string    `json:"badge"`
		Overlay  string    `json:"overlay"`
		Title    string    `json:"title"`
		Rect     checkRect `json:"rect"`
		Enlarged bool      `json:"enlarged"`
	}
	checkMark struct {
		At        float64        `json:"at"`
		Label     string         `json:"label"`
		UnixMs    float64        `json:"unixMs"`
		Videos    []checkVideo   `json:"videos"`
		Tiles     []checkTile    `json:"tiles"`
		Requests  map[string]int `json:"requests"`
		Protocols map[string]int `json:"protocols"`
	}
	checkReport struct {
		Videos        []checkVideo   `json:"videos"`
		RemovedVideos []checkVideo   `json:"removedVideos"`
		Tiles         []checkTile    `json:"tiles"`
		Marks         []checkMark    `json:"marks"`
		Requests      map[string]int `json:"requests"`
		Protocols     map[string]int `json:"protocols"`
		ConsoleErrors []any          `json:"consoleErrors"`
		PageErrors    []any          `json:"pageErrors"`
		HTTPErrors    []any          `json:"httpErrors"`
		Error         string         `json:"error"`
		ActionError   string         `json:"actionError"`
	}
	checkAction struct {
		At     float64 `json:"at"`
		Label  string  `json:"label,omitempty"`
		Focus  string  `json:"focus,omitempty"`
		Click  string  `json:"click,omitempty"`
		Key    string  `json:"key,omitempty"`
		Scroll *int    `json:"scroll,omitempty"`
		Eval   string  `json:"eval,omitempty"`
		Hide   *bool   `json:"hide,omitempty"`
	}
	checkOpts struct {
		URL           string
		Seconds       int
		Screenshot    string // under e2e/, e.g. out/wall.png
		Insecure      bool   // accept rtsp2hls's own certificate
		Width, Height int    // viewport; 0 for check.mjs's 1280x720
		LatencyMs     int    // emulated network round trip added to every request
		User, Pass    string // answer the login prompt (users: in config)
		Actions       []checkAction
	}
)

// runCheck runs browser/check.mjs (headless Chromium) with o.
func runCheck(t *testing.T, o checkOpts) checkReport {
	t.Helper()
	needBrowser(t)
	rep, err := checkRun(o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// needBrowser skips the test (or fails it, in CI) when check.mjs cannot run.
func needBrowser(t *testing.T) {
	t.Helper()
	need(t, "node", "/usr/bin/chromium")
	needPlaywright(t)
}

// checkRun is runCheck for another goroutine than the test's: it neither
// skips nor fails the test, it returns what went wrong.
func checkRun(o checkOpts) (checkReport, error) {
	args := []string{"browser/check.mjs", "--url", o.URL, "--seconds", fmt.Sprint(o.Seconds)}
	if o.Screenshot != "" {
		os.MkdirAll(filepath.Dir(o.Screenshot), 0o755)
		args = append(args, "--screenshot", o.Screenshot)
	}
	if o.Insecure {
		args = append(args, "--insecure")
	}
	if o.Width > 0 {
		args = append(args, "--width", fmt.Sprint(o.Width), "--height", fmt.Sprint(o.Height))
	}
	if o.LatencyMs > 0 {
		args = append(args, "--latency-ms", fmt.Sprint(o.LatencyMs))
	}
	if o.User != "" {
		args = append(args, "--user", o.User, "--password", o.Pass)
	}
	if len(o.Actions) > 0 {
		js, _ := json.Marshal(o.Actions)
		args = append(args, "--actions", string(js))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(o.Seconds+90)*time.Second)
	defer cancel()
	outb, err := exec.CommandContext(ctx, "node", args...).CombinedOutput()
	out := string(outb)
	var rep checkReport
	if jerr := json.Unmarshal([]byte(lastLine(out)), &rep); jerr != nil || err != nil || rep.Error != "" || rep.ActionError != "" {
		return rep, fmt.Errorf("check.mjs: %v %v %s\n%s", err, jerr, rep.ActionError, out)
	}
	return rep, nil
}

// mark returns the mark labelled label.
func (r checkReport) mark(t *testing.T, label string) checkMark {
	t.Helper()
	for _, m := range r.Marks {
		if m.Label == label {
			return m
		}
	}
	t.Fatalf("no mark %q in the report", label)
	return checkMark{}
}

// findVideo returns the video of camera's stream ("main" or "sub").
func findVideo(vs []checkVideo, camera, stream string) *checkVideo {
	for i := range vs {
		if vs[i].Camera == camera && vs[i].Stream == stream {
			return &vs[i]
		}
	}
	return nil
}

func refOf[T any](v T) *T { return &v }

// tileFigures is what a wall run shows for one tile.
type tileFigures struct {
	camera       string
	firstFrameMs float64 // -1 when it never showed a frame
	fps          float64 // frames presented per second after the first
	latencyS     float64 // median of the page's readouts (marks and end), -1 if none
	maxGapMs     float64
	stalls       int // freezes of 1 s or more after the first frame
}

// wallFigures computes per-tile figures of a run of seconds, with the
// page's latency sampled at every mark and at the end.
func wallFigures(rep checkReport, seconds int) []tileFigures {
	var out []tileFigures
	for _, v := range rep.Videos {
		f := tileFigures{camera: v.Camera, firstFrameMs: -1, latencyS: -1, maxGapMs: v.MaxGapMs}
		if v.FirstFrameMs != nil {
			f.firstFrameMs = *v.FirstFrameMs
			if d := float64(seconds) - f.firstFrameMs/1000; d > 0 {
				f.fps = float64(v.Frames) / d
			}
		}
		for _, g := range v.Gaps {
			if g.EndMs-g.StartMs >= 1000 {
				f.stalls++
			}
		}
		var lat []float64
		for _, m := range append(rep.Marks, checkMark{Videos: rep.Videos}) {
			if mv := findVideo(m.Videos, v.Camera, v.Stream); mv != nil && mv.PDTLatencyS != nil {
				lat = append(lat, *mv.PDTLatencyS)
			}
		}
		if len(lat) > 0 {
			slices.Sort(lat)
			f.latencyS = lat[len(lat)/2]
		}
		out = append(out, f)
	}
	return out
}

// logFigures prints the per-tile figures of a run and returns their
// summary: median first frame, mean fps, median latency, stalls in all.
func logFigures(t *testing.T, label string, figs []tileFigures) (ff, fps, lat float64, stalls int) {
	t.Helper()
	var ffs, lats []float64
	t.Logf("%s: %d tiles", label, len(figs))
	t.Logf("  %-6s %12s %8s %9s %10s %7s", "tile", "first frame", "fps", "latency", "worst gap", "stalls")
	for _, f := range figs {
		t.Logf("  %-6s %9.0f ms %8.1f %7.2f s %7.0f ms %7d", f.camera, f.firstFrameMs, f.fps, f.latencyS, f.maxGapMs, f.stalls)
		ffs = append(ffs, f.firstFrameMs)
		if f.latencyS >= 0 {
			lats = append(lats, f.latencyS)
		}
		fps += f.fps
		stalls += f.stalls
	}
	median := func(xs []float64) float64 {
		if len(xs) == 0 {
			return -1
		}
		xs = slices.Clone(xs)
		slices.Sort(xs)
		return xs[len(xs)/2]
	}
	if len(figs) > 0 {
		fps /= float64(len(figs))
	}
	ff, lat = median(ffs), median(lats)
	t.Logf("  %s: median first frame %.0f ms, mean %.1f fps, median latency %.2f s, %d stalls of 1 s or more", label, ff, fps, lat, stalls)
	return ff, fps, lat, stalls
}

// samplingMarks returns unlabelled-action marks every step seconds, to
// sample the page's latency during a run.
func samplingMarks(seconds, step int) []checkAction {
	var out []checkAction
	for at := step; at < seconds; at += step {
		out = append(out, checkAction{At: float64(at), Label: fmt.Sprintf("t%d", at)})
	}
	return out
}
