package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// firstFrameReport is what browser/firstframe.mjs prints (the parts the
// tests look at).
type firstFrameReport struct {
	Runs []struct {
		FirstFrameMs *float64 `json:"firstFrameMs"`
		StillFrameMs *float64 `json:"stillFrameMs"`
		Still        *struct {
			Error string `json:"error"`
			Left  bool   `json:"left"`
		} `json:"still"`
		Resources []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"resources"`
		Error string `json:"error"`
	} `json:"runs"`
	ConsoleErrors []any  `json:"consoleErrors"`
	PageErrors    []any  `json:"pageErrors"`
	Error         string `json:"error"`
}

// The camera page shows a still of the camera's latest keyframe (first.js,
// fed by the server's first.mp4 that the page's Link header preloads)
// before hls.js has a picture, and removes it once hls.js has one. Checked
// for the built-in demo camera and for an ffmpeg camera with what IP
// cameras send: H.264 High profile with B-frames (frames the decoder
// holds back for reordering), and AAC audio (a rendition of its own, which
// the still leaves out).
func TestBrowserFirstPicture(t *testing.T) {
	need(t, "ffmpeg", "node", "/usr/bin/chromium")
	needPlaywright(t)
	rtspPort := publishRTSPPort(t)
	s := startServer(t, fmt.Sprintf("listen: LISTEN\nrtsp: { listen: \"127.0.0.1:%d\" }\n", rtspPort)+
		"cameras:\n  demo1: { source: demo }\n  av: { source: publish }\n")
	startPublishProc(t, "ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-re",
		"-f", "lavfi", "-i", "testsrc=size=640x360:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-c:v", "libx264", "-profile:v", "high", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac",
		"-f", "rtsp", "-rtsp_transport", "tcp", fmt.Sprintf("rtsp://127.0.0.1:%d/av", rtspPort))
	for _, cam := range []string{"demo1", "av"} {
		t.Run(cam, func(t *testing.T) {
			s.waitState(t, cam, "live", 20*time.Second)
			time.Sleep(2 * time.Second) // a keyframe part is listed
			out, err := run(t, 90*time.Second, "node", "browser/firstframe.mjs", "--url", s.URL+"/cams/"+cam+"/", "--runs", "2", "--settle", "2")
			var rep firstFrameReport
			if jerr := json.Unmarshal([]byte(lastLine(out)), &rep); jerr != nil || err != nil || rep.Error != "" {
				t.Fatalf("firstframe.mjs: %v %v %s\n%s", err, jerr, rep.Error, out)
			}
			if len(rep.ConsoleErrors) > 0 || len(rep.PageErrors) > 0 {
				t.Errorf("console errors %v, page errors %v", rep.ConsoleErrors, rep.PageErrors)
			}
			for i, r := range rep.Runs {
				if r.Error != "" || r.FirstFrameMs == nil {
					t.Fatalf("load %d: no picture from the player: %s", i, r.Error)
				}
				if r.Still == nil {
					t.Fatalf("load %d: first.js did not run", i)
				}
				if r.StillFrameMs == nil {
					t.Fatalf("load %d: no still shown (first.js: %q)", i, r.Still.Error)
				}
				t.Logf("load %d: still at %.0f ms, the player's first frame at %.0f ms (server built with race detector: %v)",
					i, *r.StillFrameMs, *r.FirstFrameMs, raceEnabled)
				if *r.StillFrameMs >= *r.FirstFrameMs {
					t.Errorf("load %d: the still came at %.0f ms, not before the player's picture (%.0f ms)", i, *r.StillFrameMs, *r.FirstFrameMs)
				}
				if r.Still.Left {
					t.Errorf("load %d: the still is still in the page after the player had a picture", i)
				}
				if r.Still.Error != "" {
					t.Errorf("load %d: first.js: %s", i, r.Still.Error)
				}
				// first.js's fetch took the answer the Link header preloaded.
				var got []string
				for _, res := range r.Resources {
					if res.Name == "first.mp4" {
						got = append(got, res.Type)
					}
				}
				if len(got) != 1 || got[0] != "link" {
					t.Errorf("load %d: first.mp4 requested as %v, want once, by the Link preload", i, got)
				}
			}
		})
	}
}
