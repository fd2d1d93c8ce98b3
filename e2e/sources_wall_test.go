package e2e

import (
	"fmt"
	"testing"
	"time"
)

// One camera of every source kind, each from a real peer, on one wall in
// Chromium: every tile shows moving video.
func TestWallShowsEverySourceKind(t *testing.T) {
	need(t, "ffmpeg", "gst-launch-1.0")
	gst := startGstCamera(t, "--size", "320x240", "--fps", "25")
	rtspPort := publishRTSPPort(t)
	rtpPort := rtpFreePort(t)
	rtpStartGst(t, rtpPort)
	exec := "exec:ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=25 " +
		"-c:v libx264 -pix_fmt yuv420p -tune zerolatency -g 25 -f h264 -"
	s := startServer(t, fmt.Sprintf(`
listen: LISTEN
rtsp: { listen: "127.0.0.1:%d" }
cameras:
  rtsp:    { source: %q, transport: tcp }
  publish: { source: publish }
  rtp:
    source: rtp://127.0.0.1:%d
    sdp: |
%s
  exec:    { source: %q }
  demo:    { source: demo }
`, rtspPort, gst.URL, rtpPort, rtpGstSDP(rtpPort), exec))
	startPublishProc(t, "ffmpeg", publishFFmpegArgs(fmt.Sprintf("rtsp://127.0.0.1:%d/publish", rtspPort))...)

	names := []string{"rtsp", "publish", "rtp", "exec", "demo"}
	for _, n := range names {
		s.waitState(t, n, "live", 20*time.Second)
	}
	const seconds = 10
	rep := openInBrowser(t, s.URL+"/", seconds, "out/wall-sources.png")
	seen := map[string]bool{}
	for _, v := range rep.Videos {
		seen[v.Camera] = true
		t.Logf("%-8s first frame %6.0f ms, %3d frames in %d s, %dx%d, longest freeze %.0f ms",
			v.Camera, deref(v.FirstFrameMs), v.Frames, seconds, v.Width, v.Height, v.MaxGapMs)
		// The page shares two cores with five encoders: ask for moving
		// video, not for full frame rate.
		if v.Frames < 50 {
			t.Errorf("%s: only %d frames in %d s", v.Camera, v.Frames, seconds)
		}
		if stale := v.NowMs - v.LastFrameMs; stale > 2000 {
			t.Errorf("%s: frozen for the last %.0f ms", v.Camera, stale)
		}
	}
	for _, n := range names {
		if !seen[n] {
			t.Errorf("no tile plays %s", n)
		}
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}
