package e2e

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// The wall's figures side by side: 9 tiles over HTTP/1.1 (plain HTTP, as a
// browser speaks it: 6 connections per host) and over HTTPS with HTTP/2,
// 16 tiles both ways, and 16 again with a 40 ms network round trip
// emulated by Chromium (loopback has none; Wi-Fi or a VPN does). Each run is 60 s in
// headless Chromium with real RTSP cameras of 320x180 at 15 fps, out of
// step with each other as real cameras are. Reported, not asserted: on a
// 2-core machine many software-decoded tiles can saturate Chromium itself,
// whatever the server does. `make bench` runs it (RTSP2HLS_BENCH=1);
// BENCHMARKS.md has the figures.
func TestWallBench(t *testing.T) {
	if os.Getenv("RTSP2HLS_BENCH") != "1" {
		t.Skip("benchmark: set RTSP2HLS_BENCH=1 (make bench) to run it")
	}
	const seconds = 60
	cams := startGstCamera(t, "--mounts", "16", "--size", "320x180", "--fps", "15")
	var lines []string
	for _, run := range []struct {
		tiles, rttMs int
		https        bool
	}{{9, 0, false}, {9, 0, true}, {16, 0, false}, {16, 0, true}, {16, 40, false}, {16, 40, true}} {
		label := fmt.Sprintf("%d tiles, HTTP/1.1 (plain HTTP)", run.tiles)
		config := "listen: LISTEN\n" + camerasYAML(cams.URL, run.tiles)
		if run.https {
			label = fmt.Sprintf("%d tiles, HTTP/2 (HTTPS)", run.tiles)
			config = "listen: LISTEN\ntls: auto\ndataDir: DATADIR\n" + camerasYAML(cams.URL, run.tiles)
		}
		if run.rttMs > 0 {
			label += fmt.Sprintf(", %d ms RTT", run.rttMs)
		}
		t.Run(fmt.Sprintf("%dtiles-https=%v-rtt=%d", run.tiles, run.https, run.rttMs), func(t *testing.T) {
			s := startWeb(t, config, webOpts{})
			s.waitLive(t, camNames(run.tiles), 20*time.Second)
			rep := runCheck(t, checkOpts{URL: s.URL + "/", Seconds: seconds, Insecure: run.https, LatencyMs: run.rttMs,
				Actions: samplingMarks(seconds, 10)})
			t.Logf("requests by protocol: %v", rep.Protocols)
			ff, fps, lat, stalls := logFigures(t, label, wallFigures(rep, seconds))
			lines = append(lines, figuresLine(label, ff, fps, lat, stalls))
			s.kill()
		})
	}
	t.Logf("%-44s %11s %8s %10s %7s", "60 s, 320x180 at 15 fps", "first frame", "fps", "latency", "stalls")
	t.Logf("%-44s %11s %8s %10s %7s", "", "(median)", "(mean)", "(median)", "(≥1 s)")
	for _, l := range lines {
		t.Log(l)
	}
}
