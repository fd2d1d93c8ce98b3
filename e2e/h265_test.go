package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// H.265 goes through untouched: GStreamer sends x265 over RTP, and the
// LL-HLS output decodes as HEVC of the camera's size.
func TestH265PassesThrough(t *testing.T) {
	need(t, "gst-launch-1.0", "ffprobe")
	port := rtpFreePort(t)
	rtpStartSender(t, "gst-launch-1.0", "-q",
		"videotestsrc", "is-live=true", "!", "video/x-raw,width=320,height=240,framerate=25/1",
		"!", "x265enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=25",
		"!", "rtph265pay", "config-interval=1", "pt=96",
		"!", "udpsink", "host=127.0.0.1", fmt.Sprintf("port=%d", port))
	s := startServer(t, fmt.Sprintf(`
listen: LISTEN
cameras:
  hevc:
    source: rtp://127.0.0.1:%d
    sdp: |
      v=0
      o=- 0 0 IN IP4 127.0.0.1
      s=x265
      c=IN IP4 127.0.0.1
      t=0 0
      m=video %d RTP/AVP 96
      a=rtpmap:96 H265/90000
`, port, port))
	st := s.waitState(t, "hevc", "live", 20*time.Second)
	if st.Codec != "H265" || st.Width != 320 || st.Height != 240 {
		t.Fatalf("status %+v, want H265 320x240", st)
	}
	out, err := run(t, 60*time.Second, "ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", s.URL+"/cams/hevc/index.m3u8")
	if err != nil || strings.TrimSpace(lastLine(out)) != "hevc,320,240" {
		t.Fatalf("ffprobe: %v %q, want hevc,320,240", err, out)
	}
	size, frames := ffprobeFrames(t, s.URL+"/cams/hevc/index.m3u8")
	t.Logf("ffprobe decoded %d HEVC frames of %s", frames, size)
	if size != "320x240" || frames < 25 {
		t.Fatalf("decoded %d frames of %s", frames, size)
	}
}

// H.265 into an mpegts camera cannot work: the camera says why instead of
// failing quietly.
func TestH265IntoMPEGTSIsAClearError(t *testing.T) {
	need(t, "ffmpeg")
	rtspPort := publishRTSPPort(t)
	s := startServer(t, fmt.Sprintf(`
listen: LISTEN
rtsp: { listen: "127.0.0.1:%d" }
cameras:
  ts: { source: publish, hls: { variant: mpegts } }
`, rtspPort))
	startPublishProc(t, "ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-re",
		"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
		"-c:v", "libx265", "-pix_fmt", "yuv420p", "-x265-params", "log-level=error",
		"-f", "rtsp", "-rtsp_transport", "tcp", fmt.Sprintf("rtsp://127.0.0.1:%d/ts", rtspPort))
	waitFor(t, 20*time.Second, "the camera to report the codec problem", func() bool {
		return strings.Contains(s.camera(t, "ts").LastError, "H.265 video needs variant fmp4 or lowLatency")
	})
	if st := s.camera(t, "ts"); st.State == "live" {
		t.Fatalf("state %s", st.State)
	}
}
