package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// browserReport is what browser/check.mjs prints.
type browserReport struct {
	Videos []struct {
		Camera       string   `json:"camera"`
		FirstFrameMs *float64 `json:"firstFrameMs"`
		Frames       int      `json:"frames"`
		Width        int      `json:"width"`
		Height       int      `json:"height"`
		MaxGapMs     float64  `json:"maxGapMs"`
		MaxGapEndMs  *float64 `json:"maxGapEndMs"`
		LastFrameMs  float64  `json:"lastFrameMs"`
		NowMs        float64  `json:"nowMs"`
		TimeOriginMs float64  `json:"timeOriginMs"`
		Gaps         []struct {
			StartMs float64 `json:"startMs"`
			EndMs   float64 `json:"endMs"`
		} `json:"gaps"`
		LatencyS *float64 `json:"latencyS"`
	} `json:"videos"`
	ConsoleErrors []any  `json:"consoleErrors"`
	PageErrors    []any  `json:"pageErrors"`
	HTTPErrors    []any  `json:"httpErrors"`
	Error         string `json:"error"`
}

// openInBrowser runs headless Chromium on url for the given time and
// returns what every <video> did.
func openInBrowser(t *testing.T, url string, seconds int, screenshot string) browserReport {
	t.Helper()
	need(t, "node", "/usr/bin/chromium")
	needPlaywright(t)
	args := []string{"browser/check.mjs", "--url", url, "--seconds", itoa(seconds)}
	if screenshot != "" {
		os.MkdirAll(filepath.Dir(screenshot), 0o755)
		args = append(args, "--screenshot", screenshot)
	}
	out, err := run(t, time.Duration(seconds+60)*time.Second, "node", args...)
	var rep browserReport
	if jerr := json.Unmarshal([]byte(lastLine(out)), &rep); jerr != nil || err != nil || rep.Error != "" {
		t.Fatalf("check.mjs: %v %v\n%s", err, jerr, out)
	}
	return rep
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// Every <video> on the camera page and on the wall presents new frames,
// and the page logs no error.
func TestBrowserPlaysCameraPageAndWall(t *testing.T) {
	s := startServer(t, `
listen: LISTEN
cameras:
  demo1: { source: demo }
  demo2: { source: demo, hls: { variant: fmp4 } }
  demo3: { source: demo, hls: { variant: mpegts } }
`)
	for _, c := range []string{"demo1", "demo2", "demo3"} {
		s.waitState(t, c, "live", 10*time.Second)
	}
	const seconds = 8
	for _, page := range []struct{ path, shot string }{
		{"/cams/demo1/", "out/camera-demo1.png"},
		{"/", "out/wall.png"},
	} {
		rep := openInBrowser(t, s.URL+page.path, seconds, page.shot)
		want := 1
		if page.path == "/" {
			want = 3
		}
		if len(rep.Videos) != want {
			t.Fatalf("%s: %d videos, want %d", page.path, len(rep.Videos), want)
		}
		for _, v := range rep.Videos {
			ff := -1.0
			if v.FirstFrameMs != nil {
				ff = *v.FirstFrameMs
			}
			t.Logf("%s %s: first frame %.0f ms, %d frames in %d s (%.1f fps), %dx%d, longest gap %.0f ms",
				page.path, v.Camera, ff, v.Frames, seconds, float64(v.Frames)/seconds, v.Width, v.Height, v.MaxGapMs)
			// 25 fps for 8 s is 200 frames; the first second or two go to
			// start-up, so 100 shows the video advancing the whole time.
			if v.Frames < 100 {
				t.Errorf("%s %s: only %d frames presented", page.path, v.Camera, v.Frames)
			}
			if v.Width != 640 || v.Height != 360 {
				t.Errorf("%s %s: video is %dx%d", page.path, v.Camera, v.Width, v.Height)
			}
		}
		if len(rep.ConsoleErrors) > 0 || len(rep.PageErrors) > 0 {
			t.Errorf("%s: console errors %v, page errors %v", page.path, rep.ConsoleErrors, rep.PageErrors)
		}
		if strings.Contains(page.shot, "wall") {
			t.Logf("screenshot of the wall: e2e/%s", page.shot)
		}
	}
}

// The camera dies while the page plays it and comes back: the page picks
// the stream up again by itself, with no reload.
func TestBrowserRecoversWhenCameraReturns(t *testing.T) {
	cam := startGstCamera(t, "--size", "320x240", "--fps", "25")
	s := startServer(t, fmt.Sprintf("listen: LISTEN\ncameras:\n  cam: { source: %q, transport: tcp }\n", cam.URL))
	s.waitState(t, "cam", "live", 15*time.Second)

	const seconds = 22
	report := make(chan browserReport, 1)
	go func() { report <- openInBrowser(t, s.URL+"/cams/cam/", seconds, "") }()

	time.Sleep(7 * time.Second) // playing
	cam.stop()
	s.waitState(t, "cam", "offline", 10*time.Second)
	time.Sleep(2 * time.Second)
	cam.start(t)
	back := time.Now()
	s.waitState(t, "cam", "live", 10*time.Second)
	serverLive := time.Since(back)

	rep := <-report
	if len(rep.Videos) != 1 {
		t.Fatalf("%d videos", len(rep.Videos))
	}
	v := rep.Videos[0]
	if v.MaxGapEndMs == nil {
		t.Fatalf("no gap in the picture while the camera was gone: %+v", v)
	}
	gapEnd := time.UnixMilli(int64(v.TimeOriginMs + *v.MaxGapEndMs))
	t.Logf("picture frozen for %.1f s; camera live in the API %.2f s and new frames in the page %.2f s after the camera was back; %d frames in all",
		v.MaxGapMs/1000, serverLive.Seconds(), gapEnd.Sub(back).Seconds(), v.Frames)
	if stale := v.NowMs - v.LastFrameMs; stale > 1000 {
		t.Fatalf("the video stopped advancing: last frame %.0f ms before the end", stale)
	}
	if gapEnd.Before(back) {
		t.Fatalf("the longest freeze ended before the camera came back: the outage was not seen")
	}
	if rec := gapEnd.Sub(back); rec > 10*time.Second {
		t.Fatalf("picture back only %v after the camera", rec)
	}
}
