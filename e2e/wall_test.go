package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The wall over HTTPS and HTTP/2: nine real RTSP cameras (GStreamer, each
// a distinct 320x180 stream at 15 fps, the size of a typical substream) on
// one wall in headless Chromium for 60 s. Every tile advances the whole
// time and none stalls. The test prints each tile's first frame, frames per
// second and the latency it shows, and saves a screenshot of the 3x3 wall
// in e2e/out/wall-3x3.png.
func TestWallNineCamerasHTTPS(t *testing.T) {
	const n, seconds = 9, 60
	cams := startGstCamera(t, "--mounts", fmt.Sprint(n), "--size", "320x180", "--fps", "15")
	s := startWeb(t, "listen: LISTEN\ntls: auto\ndataDir: DATADIR\n"+camerasYAML(cams.URL, n), webOpts{})
	s.waitLive(t, camNames(n), 20*time.Second)

	rep := runCheck(t, checkOpts{URL: s.URL + "/", Seconds: seconds, Insecure: true, Screenshot: "out/wall-3x3.png",
		Actions: samplingMarks(seconds, 10)})
	t.Logf("screenshot of the 3x3 wall: e2e/out/wall-3x3.png")
	if len(rep.Videos) != n {
		t.Fatalf("%d videos on the wall, want %d", len(rep.Videos), n)
	}
	checkHTTP2(t, rep)
	figs := wallFigures(rep, seconds)
	logFigures(t, "HTTPS, HTTP/2, 9 tiles of 320x180 at 15 fps, 60 s", figs)
	for i, v := range rep.Videos {
		f := figs[i]
		if v.FirstFrameMs == nil {
			t.Errorf("%s: no frame at all", v.Camera)
			continue
		}
		if v.Width != 320 || v.Height != 180 {
			t.Errorf("%s: video is %dx%d, want 320x180", v.Camera, v.Width, v.Height)
		}
		// Advancing the whole time: frames at most a second apart from the
		// first to the last, and at least 70 % of the camera's 15 fps.
		if f.stalls > 0 {
			t.Errorf("%s: stalled %d times (gaps %v)", v.Camera, f.stalls, v.Gaps)
		}
		if stale := v.NowMs - v.LastFrameMs; stale > 1000 {
			t.Errorf("%s: no new frame in the last %.0f ms", v.Camera, stale)
		}
		if f.fps < 0.7*15 {
			t.Errorf("%s: %.1f fps, want at least 10.5 of the camera's 15", v.Camera, f.fps)
		}
	}
	// The 3x3 layout: three tiles a row, in config order.
	if len(rep.Tiles) == n {
		first := rep.Tiles[0].Rect
		for i, tl := range rep.Tiles {
			if tl.Name != camNames(n)[i] {
				t.Errorf("tile %d is %s, want %s", i, tl.Name, camNames(n)[i])
			}
			row, col := i/3, i%3
			y, x := first.Y+row*first.H, first.X+col*first.W
			if tl.Rect.Y < y || tl.Rect.Y > y+first.H/2 || tl.Rect.X < x || tl.Rect.X > x+first.W/2 || tl.Badge != "live" {
				t.Errorf("tile %s at %+v with badge %q, want row %d column %d, live", tl.Name, tl.Rect, tl.Badge, row, col)
			}
		}
	} else {
		t.Errorf("%d tiles, want %d", len(rep.Tiles), n)
	}
	if len(rep.ConsoleErrors) > 0 || len(rep.PageErrors) > 0 {
		t.Errorf("console errors %v, page errors %v", rep.ConsoleErrors, rep.PageErrors)
	}
}

// checkHTTP2 fails the test unless the page's requests went over HTTP/2.
func checkHTTP2(t *testing.T, rep checkReport) {
	t.Helper()
	h2, h1 := rep.Protocols["h2"], rep.Protocols["http/1.1"]
	t.Logf("requests by protocol: %v", rep.Protocols)
	if h2 == 0 || h1 > 0 {
		t.Errorf("requests by protocol %v, want all over HTTP/2 (h2)", rep.Protocols)
	}
}

// figuresLine formats a run's summary for a side-by-side table.
func figuresLine(label string, ff, fps, lat float64, stalls int) string {
	return fmt.Sprintf("%-44s %8.0f ms %8.1f %8.2f s %7d", label, ff, fps, lat, stalls)
}

// A camera with a substream: its wall tile plays the substream; Enter on
// the tile enlarges it and switches to the main stream, while the other
// tiles stop; Esc goes back to the substream and the other tiles resume.
func TestWallSubstreamSwitch(t *testing.T) {
	main := startGstCamera(t, "--size", "640x360", "--fps", "15")
	sub := startGstCamera(t, "--mounts", "2", "--size", "320x180", "--fps", "15")
	s := startWeb(t, fmt.Sprintf(`listen: LISTEN
cameras:
  door:
    source: %q
    substream: %q
    transport: tcp
  yard: { source: %q, transport: tcp }
`, main.URL, sub.URL+"1", sub.URL+"2"), webOpts{})
	s.waitLive(t, []string{"door", "yard"}, 20*time.Second)

	const seconds, backAt = 24, 16
	rep := runCheck(t, checkOpts{URL: s.URL + "/", Seconds: seconds, Actions: []checkAction{
		{At: 5, Label: "grid", Focus: `[data-tile="door"]`, Key: "Enter"},
		{At: 8, Label: "switched"},
		{At: 13, Label: "enlarged", Key: "Escape"},
		{At: backAt, Label: "back"},
	}})
	grid, switched, enlarged, back := rep.mark(t, "grid"), rep.mark(t, "switched"), rep.mark(t, "enlarged"), rep.mark(t, "back")

	// The grid: the substream only.
	if v := findVideo(grid.Videos, "door", "sub"); v == nil || v.Frames == 0 || v.Width != 320 {
		t.Fatalf("grid: door's tile does not play its 320x180 substream: %+v", v)
	}
	if findVideo(grid.Videos, "door", "main") != nil || grid.Requests["door"] > 0 {
		t.Errorf("grid: the main stream was loaded (%d requests)", grid.Requests["door"])
	}

	// Enlarged: the main stream plays at its own size, the substream and
	// the other tile stop.
	mv := findVideo(enlarged.Videos, "door", "main")
	if mv == nil || mv.Width != 640 || mv.Height != 360 || mv.FirstFrameMs == nil {
		t.Fatalf("enlarged: no 640x360 main stream: %+v", mv)
	}
	t.Logf("main stream's first frame %.0f ms after Enter", mv.TimeOriginMs+*mv.FirstFrameMs-grid.UnixMs)
	if fr := mv.Frames - framesAt(switched, "door", "main"); fr < 5*15*7/10 {
		t.Errorf("enlarged: main stream presented %d frames in the 5 s after the switch", fr)
	}
	if tl := findTile(enlarged.Tiles, "door"); tl == nil || !tl.Enlarged || tl.Rect.W != 1280 {
		t.Errorf("enlarged: door's tile is %+v, want it to fill the 1280 px window", tl)
	}
	for _, st := range []struct{ camera, stream string }{{"door", "sub"}, {"yard", "main"}} {
		v := findVideo(enlarged.Videos, st.camera, st.stream)
		if v == nil || v.Suspended == nil || !*v.Suspended {
			t.Errorf("enlarged: %s's %s stream is not stopped: %+v", st.camera, st.stream, v)
		}
		key := st.camera
		if st.stream == "sub" {
			key += "/sub"
		}
		if n := enlarged.Requests[key] - switched.Requests[key]; n > 2 {
			t.Errorf("enlarged: %d requests for %s while stopped", n, key)
		}
		if fr := v.Frames - framesAt(switched, st.camera, st.stream); fr > 2 {
			t.Errorf("enlarged: %s presented %d frames while stopped", key, fr)
		}
	}

	// Back: the main stream is gone, the others play again from the live
	// edge.
	if findVideo(back.Videos, "door", "main") != nil {
		t.Error("back: the main stream's video is still on the page")
	}
	if n := rep.Requests["door"] - back.Requests["door"]; n > 2 {
		t.Errorf("back: %d more requests for the main stream", n)
	}
	for _, st := range []struct{ camera, stream string }{{"door", "sub"}, {"yard", "main"}} {
		v := findVideo(rep.Videos, st.camera, st.stream)
		fr := v.Frames - framesAt(back, st.camera, st.stream)
		t.Logf("%s %s after Esc: %d frames in %d s, latency %s", st.camera, st.stream, fr, seconds-backAt, fmtLatency(v.PDTLatencyS))
		if fr < (seconds-backAt)*15/2 || *v.Suspended {
			t.Errorf("back: %s %s presented %d frames in %d s (suspended %v)", st.camera, st.stream, fr, seconds-backAt, *v.Suspended)
		}
		if v.PDTLatencyS == nil || *v.PDTLatencyS > 3 {
			t.Errorf("back: %s %s is %s behind live, want it back at the live edge", st.camera, st.stream, fmtLatency(v.PDTLatencyS))
		}
	}
}

// framesAt returns how many frames camera's stream had presented at mark m.
func framesAt(m checkMark, camera, stream string) int {
	if v := findVideo(m.Videos, camera, stream); v != nil {
		return v.Frames
	}
	return 0
}

func findTile(ts []checkTile, name string) *checkTile {
	for i := range ts {
		if ts[i].Name == name {
			return &ts[i]
		}
	}
	return nil
}

func fmtLatency(l *float64) string {
	if l == nil {
		return "unknown"
	}
	return fmt.Sprintf("%.2f s", *l)
}

// The cameras and grid of a wall come from a named wall in the config
// (/walls/NAME) or from the URL (?cams=a,b&grid=4x1), which wins.
func TestWallNamedAndURLParameters(t *testing.T) {
	cams := startGstCamera(t, "--mounts", "3", "--size", "320x180", "--fps", "15")
	s := startWeb(t, "listen: LISTEN\n"+camerasYAML(cams.URL, 3)+`walls:
  front:
    cameras: [cam3, cam1]
    grid: 3x3
  all: { cameras: [cam1, cam2, cam3] }
`, webOpts{})
	s.waitLive(t, camNames(3), 20*time.Second)

	// The API lists the walls; an unknown one is a 404 page.
	var walls []struct {
		Name    string   `json:"name"`
		Cameras []string `json:"cameras"`
		Grid    string   `json:"grid"`
	}
	s.getJSON(t, "/api/v1/walls", &walls)
	if len(walls) != 2 || walls[0].Name != "front" || strings.Join(walls[0].Cameras, ",") != "cam3,cam1" || walls[0].Grid != "3x3" || walls[1].Grid != "" {
		t.Errorf("walls = %+v", walls)
	}
	if resp, err := s.Client.Get(s.URL + "/walls/nosuch"); err != nil || resp.StatusCode != 404 {
		t.Errorf("/walls/nosuch: %v %v, want 404", resp, err)
	} else {
		resp.Body.Close()
	}

	const wallW = 1280 - 2*6 // the 1280 px window less the wall's padding
	tests := []struct {
		path  string
		tiles []string // in order; "" marks a camera the server does not have
		cols  int
		width int // a tile's width, px
	}{
		// 3x3 on a 16:9 window: three rows of 16:9 tiles fit its height.
		{"/walls/front", []string{"cam3", "cam1"}, 3, ((720-44-4*6)/3*16 + 8) / 9},
		{"/?cams=cam2,nosuch,cam1&grid=4x1", []string{"cam2", "nosuch", "cam1"}, 4, (wallW - 3*6) / 4},
		{"/walls/front?cams=cam2&grid=2x1", []string{"cam2"}, 2, (wallW - 6) / 2},
	}
	for _, tt := range tests {
		rep := runCheck(t, checkOpts{URL: s.URL + tt.path, Seconds: 5})
		var names []string
		for _, tl := range rep.Tiles {
			names = append(names, tl.Name)
		}
		if strings.Join(names, ",") != strings.Join(tt.tiles, ",") {
			t.Errorf("%s: tiles %v, want %v", tt.path, names, tt.tiles)
			continue
		}
		for i, tl := range rep.Tiles {
			row, col := i/tt.cols, i%tt.cols
			first := rep.Tiles[0].Rect
			if tl.Rect.Y < first.Y+row*first.H || tl.Rect.X < first.X+col*first.W {
				t.Errorf("%s: tile %s at %+v, want row %d column %d of %d", tt.path, tl.Name, tl.Rect, row, col, tt.cols)
			}
			if tt.width > 0 && (tl.Rect.W < tt.width-3 || tl.Rect.W > tt.width+3) {
				t.Errorf("%s: tile %s is %d px wide, want %d (%d columns)", tt.path, tl.Name, tl.Rect.W, tt.width, tt.cols)
			}
			v := findVideo(rep.Videos, tl.Name, "main")
			if tl.Name == "nosuch" {
				if v != nil || tl.Overlay != "Unknown camera" || rep.Requests["nosuch"] > 0 {
					t.Errorf("%s: unknown camera's tile %+v, video %v, %d requests", tt.path, tl, v != nil, rep.Requests["nosuch"])
				}
				continue
			}
			if v == nil || v.Frames < 15 {
				t.Errorf("%s: %s does not play: %+v", tt.path, tl.Name, v)
			}
		}
		for name, n := range rep.Requests {
			if !strings.Contains(","+strings.Join(tt.tiles, ",")+",", ","+name+",") {
				t.Errorf("%s: %d requests for %s, which is not on the wall", tt.path, n, name)
			}
		}
	}
}

// Tiles out of sight stop loading: those below the fold of a small window
// until they are scrolled to (then they start at the live edge), those
// scrolled away, and all of them in a hidden tab.
func TestWallOffscreenTilesStop(t *testing.T) {
	const n = 9
	cams := startGstCamera(t, "--mounts", fmt.Sprint(n), "--size", "320x180", "--fps", "15")
	s := startWeb(t, "listen: LISTEN\n"+camerasYAML(cams.URL, n), webOpts{})
	s.waitLive(t, camNames(n), 20*time.Second)

	// 400x300: two columns of 191x107 tiles (a phone's layout); rows 1-3
	// show, rows 4-5 (cam7-cam9) are below the fold. At the bottom, row 1
	// (cam1, cam2) is out of sight; row 2 is within the 50 px margin in
	// which tiles keep playing, so that a small scroll does not stop them.
	const seconds, shownAt = 29, 22
	rep := runCheck(t, checkOpts{URL: s.URL + "/", Seconds: seconds, Width: 400, Height: 300, Actions: []checkAction{
		{At: 8, Label: "top", Scroll: refOf(10000)},
		{At: 10, Label: "scrolled"},
		{At: 16, Label: "bottom", Hide: refOf(true)},
		{At: 18, Label: "hidden"},
		{At: shownAt, Label: "hidden long", Hide: refOf(false)},
	}})
	top, scrolled, bottom, hidden, back := rep.mark(t, "top"), rep.mark(t, "scrolled"), rep.mark(t, "bottom"), rep.mark(t, "hidden"), rep.mark(t, "hidden long")
	key := func(i int) string { return camNames(n)[i] }
	streamFrames := func(m checkMark, i int) int { return framesAt(m, key(i), "main") }

	for i := range n {
		v := findVideo(top.Videos, key(i), "main")
		if v == nil {
			t.Fatalf("no video for %s", key(i))
		}
		below := i >= 6
		if v.OnScreen == below {
			t.Fatalf("%s at %+v: on screen %v; the layout is not the one this test expects", key(i), v.Rect, v.OnScreen)
		}
		switch {
		case below && (v.Frames > 0 || top.Requests[key(i)] > 0):
			t.Errorf("%s, below the fold: %d frames, %d requests; want nothing loaded", key(i), v.Frames, top.Requests[key(i)])
		case !below && v.Frames < 4*15:
			t.Errorf("%s, in view: only %d frames", key(i), v.Frames)
		}
	}
	// Scrolled to the bottom: the top rows stop, the bottom ones play.
	for i := range n {
		stopped := i < 2
		req := bottom.Requests[key(i)] - scrolled.Requests[key(i)]
		fr := streamFrames(bottom, i) - streamFrames(scrolled, i)
		if stopped && (req > 1 || fr > 2) {
			t.Errorf("%s, scrolled away: %d requests, %d frames in 6 s; want it stopped", key(i), req, fr)
		}
		if !stopped && fr < 6*15/2 {
			t.Errorf("%s, in view: %d frames in 6 s", key(i), fr)
		}
	}
	for i := 6; i < n; i++ {
		v := findVideo(bottom.Videos, key(i), "main")
		t.Logf("%s scrolled into view: first frame %.0f ms after the scroll, latency %s",
			key(i), v.TimeOriginMs+*v.FirstFrameMs-top.UnixMs, fmtLatency(v.PDTLatencyS))
		if v.PDTLatencyS == nil || *v.PDTLatencyS > 3 {
			t.Errorf("%s: %s behind live after being scrolled to, want the live edge", key(i), fmtLatency(v.PDTLatencyS))
		}
	}
	// A hidden tab loads nothing; shown again, the tiles in view play
	// from the live edge.
	for i := range n {
		if req := back.Requests[key(i)] - hidden.Requests[key(i)]; req > 1 {
			t.Errorf("%s: %d requests in 4 s in a hidden tab", key(i), req)
		}
	}
	for i := 4; i < n; i++ {
		v := findVideo(rep.Videos, key(i), "main")
		fr := v.Frames - streamFrames(back, i)
		if fr < (seconds-shownAt)*15/2 || v.PDTLatencyS == nil || *v.PDTLatencyS > 3 {
			t.Errorf("%s, tab shown again: %d frames in %d s, %s behind live", key(i), fr, seconds-shownAt, fmtLatency(v.PDTLatencyS))
		}
	}
}

// rtsp2hls restarts (a new process on the same port, reusing its
// certificate) while a wall plays over HTTPS: the tiles come back by
// themselves, without a page reload.
func TestWallRecoversAfterServerRestart(t *testing.T) {
	const n = 4
	cams := startGstCamera(t, "--mounts", fmt.Sprint(n), "--size", "320x180", "--fps", "15")
	s := startWeb(t, "listen: LISTEN\ntls: auto\ndataDir: DATADIR\n"+camerasYAML(cams.URL, n), webOpts{})
	s.waitLive(t, camNames(n), 20*time.Second)

	const seconds = 28
	needBrowser(t)
	type result struct {
		rep checkReport
		err error
	}
	report := make(chan result, 1)
	go func() {
		rep, err := checkRun(checkOpts{URL: s.URL + "/", Seconds: seconds, Insecure: true})
		report <- result{rep, err}
	}()
	time.Sleep(10 * time.Second)
	s.stop(t)
	down := time.Now()
	time.Sleep(3 * time.Second)
	s.start(t)
	back := time.Now()
	t.Logf("rtsp2hls down for %v", back.Sub(down).Round(time.Millisecond))

	res := <-report
	if res.err != nil {
		t.Fatal(res.err)
	}
	rep := res.rep
	if len(rep.Videos) != n {
		t.Fatalf("%d videos, want %d", len(rep.Videos), n)
	}
	for _, v := range rep.Videos {
		// The picture is frozen when the server comes back (it was down
		// longer than the player's buffer): that freeze ends with the
		// recovery.
		origin := time.UnixMilli(int64(v.TimeOriginMs))
		backAt := back.Sub(origin).Seconds() * 1000
		var gap *checkGap
		for i, g := range v.Gaps {
			if g.StartMs <= backAt && backAt < g.EndMs {
				gap = &v.Gaps[i]
			}
		}
		if gap == nil {
			t.Errorf("%s: no freeze while the server was down (gaps %v)", v.Camera, v.Gaps)
			continue
		}
		rec := time.Duration((gap.EndMs - backAt) * float64(time.Millisecond))
		t.Logf("%s: picture back %v after rtsp2hls answered again; latency at the end %s", v.Camera, rec.Round(time.Millisecond), fmtLatency(v.PDTLatencyS))
		if stale := v.NowMs - v.LastFrameMs; stale > 1000 {
			t.Errorf("%s: the picture did not come back (last frame %.0f ms before the end)", v.Camera, stale)
		}
		if rec > 10*time.Second {
			t.Errorf("%s: picture back only %v after the server", v.Camera, rec)
		}
	}
	// The second start reused the certificate the first one made.
	logs := s.logs.String()
	if strings.Count(logs, "made an HTTPS certificate") != 1 || !strings.Contains(logs, `msg="HTTPS certificate (tls: auto)"`) {
		t.Errorf("the certificate was not made once and then reused:\n%s", logs)
	}
}
