package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// latencyReport is what browser/latency.mjs prints.
type latencyReport struct {
	FirstFrameMs *float64  `json:"firstFrameMs"`
	Frames       int       `json:"frames"`
	Decoded      int       `json:"decoded"`
	LatenciesMs  []float64 `json:"latenciesMs"`
	Skipped      int       `json:"skipped"`
	Repeated     int       `json:"repeated"`
	Waiting      []struct {
		AtMs float64 `json:"atMs"`
	} `json:"waiting"`
	Gaps          []any     `json:"gaps"`
	MaxGapMs      float64   `json:"maxGapMs"`
	NowMs         float64   `json:"nowMs"`
	PageLatencyS  []float64 `json:"pageLatencyS"`
	ConsoleErrors []any     `json:"consoleErrors"`
	PageErrors    []any     `json:"pageErrors"`
	HTTPErrors    []any     `json:"httpErrors"`
	Error         string    `json:"error"`
}

// The true capture-to-display latency of the camera page: a camera
// (bench/latency/stampcam) draws each frame's capture time into the
// picture, x264 encodes it with a real-time camera's settings, rtsp2hls
// serves it, and headless Chromium playing /cams/cam/ reads the time back
// from every frame it presents. Same machine, same clock, so
// display time - capture time is the whole delay a viewer sees, the
// encoder's included (as a real camera's is).
//
// Reported for the default LL-HLS profile (1 s segments, 200 ms parts) and a
// low-latency one (100 ms parts). The camera publishes to rtsp2hls over
// RTSP (source: publish): that is the path of real cameras (RTP with its
// timestamps and marker bits), where an exec: camera's raw H.264 on a pipe
// can only be cut into frames when the next frame starts, which adds one
// frame time (33 ms at 30 fps) that no RTSP camera has.
//
//	RTSP2HLS_BENCH=1 go test -count=1 -v -run '^TestLatencyBench$' ./e2e
//
// RTSP2HLS_LATENCY_SECONDS (default 60) sets each run's length;
// RTSP2HLS_LATENCY_SOURCE=exec, or publish,exec, measures the exec: path
// too; RTSP2HLS_LATENCY_PROFILES=default or lowlatency runs one profile;
// RTSP2HLS_LATENCY_RUNS=N loads the page N times in a row per profile
// (where hls.js settles at the start decides much of a run's figure).
// It fails if fewer than 90 % of the presented frames read back, so that
// the figures are from the picture, not from guesses.
func TestLatencyBench(t *testing.T) {
	if os.Getenv("RTSP2HLS_BENCH") != "1" {
		t.Skip("benchmark: set RTSP2HLS_BENCH=1 (make bench) to run it")
	}
	need(t, "ffmpeg", "node", "/usr/bin/chromium")
	needPlaywright(t)
	if raceEnabled {
		t.Log("WARNING: rtsp2hls is built with -race here, which slows it: figures are not comparable")
	}
	seconds := 60
	if v := os.Getenv("RTSP2HLS_LATENCY_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 {
			t.Fatalf("RTSP2HLS_LATENCY_SECONDS=%q: want a number of seconds ≥ 5", v)
		}
		seconds = n
	}
	runs := 1
	if v := os.Getenv("RTSP2HLS_LATENCY_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("RTSP2HLS_LATENCY_RUNS=%q: want a number ≥ 1", v)
		}
		runs = n
	}
	sources := listEnv("RTSP2HLS_LATENCY_SOURCE", "publish")
	profiles := []struct{ name, hls, what string }{
		{"default", "{ segmentDuration: 1s, partDuration: 200ms }", "1 s segments, 200 ms parts"},
		{"lowlatency", "{ segmentDuration: 1s, partDuration: 100ms }", "1 s segments, 100 ms parts"},
	}
	if want := listEnv("RTSP2HLS_LATENCY_PROFILES", ""); len(want) > 0 {
		profiles = slices.DeleteFunc(profiles, func(p struct{ name, hls, what string }) bool { return !slices.Contains(want, p.name) })
	}

	stampcam := filepath.Join(t.TempDir(), "stampcam")
	if out, err := exec.Command("go", "build", "-o", stampcam, "../bench/latency/stampcam").CombinedOutput(); err != nil {
		t.Fatalf("building stampcam: %v\n%s", err, out)
	}
	const camArgs = "-size 640x360 -fps 30"
	enc, _ := exec.Command(stampcam, append(strings.Fields(camArgs), "-describe", "-out", "URL")...).Output()
	t.Logf("camera: stampcam %s, encoder: %s", camArgs, strings.TrimSpace(string(enc)))
	// The camera alone: encoder and an ffmpeg decoder on a pipe, no rtsp2hls.
	if out, err := exec.Command(stampcam, append(strings.Fields(camArgs), "-check", "5s")...).CombinedOutput(); err != nil {
		t.Fatalf("stampcam -check: %v\n%s", err, out)
	} else {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		t.Logf("camera alone (x264 -> ffmpeg decoder, 5 s): %s", lines[len(lines)-1])
	}

	var rows []string
	for _, src := range sources {
		for _, p := range profiles {
			t.Run(src+"-"+p.name, func(t *testing.T) {
				cam := fmt.Sprintf("  cam: { source: publish, hls: %s }\n", p.hls)
				config := "listen: LISTEN\n"
				var rtspPort int
				switch src {
				case "publish":
					rtspPort = publishRTSPPort(t)
					config += fmt.Sprintf("rtsp: { listen: \"127.0.0.1:%d\" }\n", rtspPort)
				case "exec":
					cam = fmt.Sprintf("  cam: { source: %q, hls: %s }\n", "exec:exec "+stampcam+" "+camArgs+" -out -", p.hls)
				default:
					t.Fatalf("RTSP2HLS_LATENCY_SOURCE: %q is neither publish nor exec", src)
				}
				s := startServer(t, config+"cameras:\n"+cam)
				if src == "publish" {
					startPublishProc(t, stampcam, append(strings.Fields(camArgs), "-out", fmt.Sprintf("rtsp://127.0.0.1:%d/cam", rtspPort))...)
				}
				s.waitState(t, "cam", "live", 20*time.Second)
				time.Sleep(3 * time.Second) // a viewer comes to a running stream
				for range runs {
					rep := runLatencyPage(t, s.URL+"/cams/cam/", seconds)
					row, err := latencyRow(src, p.what, seconds, rep)
					t.Log(row)
					if len(rep.Waiting) > 0 || len(rep.Gaps) > 0 {
						t.Logf("waiting events %v, gaps over 1 s %v (ms from navigation); longest gap %.0f ms", rep.Waiting, rep.Gaps, rep.MaxGapMs)
					}
					if err != nil {
						t.Error(err)
					}
					if len(rep.ConsoleErrors) > 0 || len(rep.PageErrors) > 0 {
						t.Logf("console errors %v, page errors %v, HTTP errors %v", rep.ConsoleErrors, rep.PageErrors, rep.HTTPErrors)
					}
					rows = append(rows, row)
				}
			})
		}
	}
	t.Logf("capture-to-display latency, %d s per run, stampcam %s, headless Chromium, camera page /cams/cam/:", seconds, camArgs)
	t.Log("| source | profile | p50 | p95 | min / max | first frame | stalls: waiting / gaps > 1 s | stamps read (of frames presented, fps) | frames skipped | page shows (median) |")
	t.Log("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		t.Log(r)
	}
}

// latencyRow is the table row of one run, and an error if the stamps did
// not read back from at least 90 % of the presented frames.
func latencyRow(src, profile string, seconds int, rep latencyReport) (string, error) {
	lat := slices.Clone(rep.LatenciesMs)
	slices.Sort(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return -1
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	ff := -1.0
	if rep.FirstFrameMs != nil {
		ff = *rep.FirstFrameMs
	}
	page := "-"
	if len(rep.PageLatencyS) > 0 {
		pl := slices.Clone(rep.PageLatencyS)
		slices.Sort(pl)
		page = fmt.Sprintf("%.2f s", pl[len(pl)/2])
	}
	read, fps := 0.0, 0.0
	if rep.Frames > 0 {
		read = float64(rep.Decoded) / float64(rep.Frames)
		fps = float64(rep.Frames) / ((rep.NowMs - ff) / 1000)
	}
	// A 'waiting' within a second of the first frame is hls.js moving to
	// its place behind the live edge, not a stall a viewer sees.
	early := 0
	for _, w := range rep.Waiting {
		if w.AtMs < ff+1000 {
			early++
		}
	}
	row := fmt.Sprintf("| %s | %s | %.0f ms | %.0f ms | %.0f / %.0f ms | %.0f ms | %d / %d (+%d at start) | %d of %d (%.1f %%, %.1f fps) | %d | %s |",
		src, profile, q(0.5), q(0.95), q(0), q(1), ff, len(rep.Waiting)-early, len(rep.Gaps), early,
		rep.Decoded, rep.Frames, 100*read, fps, rep.Skipped, page)
	switch {
	case rep.Frames == 0:
		return row, fmt.Errorf("no frame presented in %d s", seconds)
	case read < 0.9:
		return row, fmt.Errorf("the stamp read back from only %d of %d presented frames (%.1f %%, want ≥ 90 %%): the figures would not be real",
			rep.Decoded, rep.Frames, 100*read)
	}
	return row, nil
}

// runLatencyPage runs browser/latency.mjs on url for seconds.
func runLatencyPage(t *testing.T, url string, seconds int) latencyReport {
	t.Helper()
	out, err := run(t, time.Duration(seconds+90)*time.Second, "node", "browser/latency.mjs", "--url", url, "--seconds", strconv.Itoa(seconds))
	var rep latencyReport
	if jerr := json.Unmarshal([]byte(lastLine(out)), &rep); jerr != nil || err != nil || rep.Error != "" {
		t.Fatalf("latency.mjs: %v %v %s\n%s", err, jerr, rep.Error, out)
	}
	return rep
}

// listEnv splits a comma-separated environment variable (def when unset).
func listEnv(name, def string) []string {
	v := os.Getenv(name)
	if v == "" {
		v = def
	}
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
