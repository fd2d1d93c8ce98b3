package e2e

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// publishRTSPPort returns a free TCP port for rtsp.listen whose UDP pair
// (the even port at or below it, and the next) is free too, so that
// publishers sending RTP over UDP can be taken.
func publishRTSPPort(t *testing.T) int {
	t.Helper()
	for range 50 {
		port := freePort(t)
		rtp := port &^ 1
		a, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", rtp))
		if err != nil {
			continue
		}
		b, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", rtp+1))
		a.Close()
		if err != nil {
			continue
		}
		b.Close()
		return port
	}
	t.Fatal("no free RTSP port with free UDP ports next to it")
	return 0
}

// publishProc is a publishing process (ffmpeg, gst-launch-1.0), killed
// when the test ends.
type publishProc struct {
	cmd  *exec.Cmd
	logs *logBuffer
	done chan struct{}
	err  error
}

func startPublishProc(t *testing.T, name string, args ...string) *publishProc {
	t.Helper()
	p := &publishProc{cmd: exec.Command(name, args...), logs: &logBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.logs.String())
		}
	})
	return p
}

func (p *publishProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// publishFFmpegArgs is the README's ffmpeg command, pushing a 320x240
// test pattern at 25 fps to url over TCP.
func publishFFmpegArgs(url string) []string {
	return []string{"-hide_banner", "-nostdin", "-nostats", "-re",
		"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-tune", "zerolatency", "-g", "25",
		"-f", "rtsp", "-rtsp_transport", "tcp", url}
}

func publishDecodes(t *testing.T, s *server, name string) {
	t.Helper()
	size, frames := ffprobeFrames(t, s.URL+"/cams/"+name+"/index.m3u8")
	t.Logf("%s: ffprobe decoded %d frames of %s", name, frames, size)
	if size != "320x240" || frames < 25 {
		t.Fatalf("%s: decoded %d frames of %s, want ≥25 of 320x240", name, frames, size)
	}
}

// ffmpeg pushes to a publish camera, with and without credentials; a wrong
// password is refused with 401.
func TestPublishFFmpeg(t *testing.T) {
	need(t, "ffmpeg", "ffprobe")
	port := publishRTSPPort(t)
	s := startServer(t, fmt.Sprintf(`
listen: LISTEN
rtsp: { listen: "127.0.0.1:%d" }
cameras:
  cam: { source: publish }
  sec: { source: publish, publishUser: alice, publishPass: s3cret }
`, port))
	st := s.waitState(t, "cam", "offline", 5*time.Second)
	want := fmt.Sprintf("waiting for a publisher at rtsp://127.0.0.1:%d/cam", port)
	if st.LastError != want {
		t.Errorf("lastError %q, want %q", st.LastError, want)
	}

	out, err := run(t, 15*time.Second, "ffmpeg", publishFFmpegArgs(fmt.Sprintf("rtsp://alice:wrong@127.0.0.1:%d/sec", port))...)
	if err == nil || !strings.Contains(out, "401") {
		t.Fatalf("wrong password: ffmpeg %v, want an exit with 401:\n%s", err, out)
	}

	start := time.Now()
	startPublishProc(t, "ffmpeg", publishFFmpegArgs(fmt.Sprintf("rtsp://127.0.0.1:%d/cam", port))...)
	startPublishProc(t, "ffmpeg", publishFFmpegArgs(fmt.Sprintf("rtsp://alice:s3cret@127.0.0.1:%d/sec", port))...)
	for _, name := range []string{"cam", "sec"} {
		s.waitState(t, name, "live", 15*time.Second)
		t.Logf("%s: live %v after ffmpeg started", name, time.Since(start).Round(time.Millisecond))
	}
	for _, name := range []string{"cam", "sec"} {
		publishDecodes(t, s, name)
	}
	if strings.Contains(s.logs.String(), "s3cret") || strings.Contains(s.logs.String(), "alice:wrong") {
		t.Errorf("a publish password is in the log")
	}
}

// GStreamer's rtspclientsink, with its default transports (RTP over UDP).
func TestPublishGStreamer(t *testing.T) {
	need(t, "gst-launch-1.0", "ffprobe")
	port := publishRTSPPort(t)
	s := startServer(t, fmt.Sprintf(`
listen: LISTEN
rtsp: { listen: "127.0.0.1:%d" }
cameras:
  cam2: { source: publish }
`, port))
	s.waitState(t, "cam2", "offline", 5*time.Second)
	start := time.Now()
	startPublishProc(t, "gst-launch-1.0", "-q", "videotestsrc", "is-live=true",
		"!", "video/x-raw,width=320,height=240,framerate=25/1",
		"!", "x264enc", "tune=zerolatency", "key-int-max=25",
		"!", "rtspclientsink", fmt.Sprintf("location=rtsp://127.0.0.1:%d/cam2", port))
	s.waitState(t, "cam2", "live", 15*time.Second)
	t.Logf("cam2: live %v after gst-launch-1.0 started", time.Since(start).Round(time.Millisecond))
	publishDecodes(t, s, "cam2")
	if !strings.Contains(s.logs.String(), "transport=UDP") {
		t.Errorf("rtspclientsink did not publish over UDP, its default")
	}
}

// A second publisher on a busy camera gives up with a message that says
// why, and the first one plays on undisturbed.
func TestPublishSecondPublisherRefused(t *testing.T) {
	need(t, "ffmpeg", "ffprobe")
	port := publishRTSPPort(t)
	s := startServer(t, fmt.Sprintf(`
listen: LISTEN
rtsp: { listen: "127.0.0.1:%d" }
cameras:
  cam: { source: publish }
`, port))
	url := fmt.Sprintf("rtsp://127.0.0.1:%d/cam", port)
	first := startPublishProc(t, "ffmpeg", publishFFmpegArgs(url)...)
	s.waitState(t, "cam", "live", 15*time.Second)

	out, err := run(t, 15*time.Second, "ffmpeg", publishFFmpegArgs(url)...)
	if err == nil {
		t.Fatalf("the second ffmpeg exited 0:\n%s", out)
	}
	const msg = `method ANNOUNCE failed: 409 camera "cam" already has a publisher`
	if !strings.Contains(out, msg) {
		t.Fatalf("the second ffmpeg does not say %q:\n%s", msg, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "409") {
			t.Logf("second ffmpeg: %s", strings.TrimSpace(l))
		}
	}

	if !first.running() {
		t.Fatalf("the first ffmpeg exited: %v", first.err)
	}
	if st := s.camera(t, "cam"); st.State != "live" || st.Reconnects != 0 {
		t.Fatalf("camera %s with %d reconnects after the refusal, want live with none", st.State, st.Reconnects)
	}
	publishDecodes(t, s, "cam")
}

// The README's way for a program (OpenCV) to publish its own frames: raw
// BGR frames piped into ffmpeg. testdata/publish_pipe.py runs the README's
// ffmpeg command with frames made of plain bytes (no OpenCV or numpy here).
func TestPublishPythonPipe(t *testing.T) {
	need(t, "python3", "ffmpeg", "ffprobe")
	port := publishRTSPPort(t)
	s := startServer(t, fmt.Sprintf(`
listen: LISTEN
rtsp: { listen: "127.0.0.1:%d" }
cameras:
  annotated: { source: publish, publishUser: bot, publishPass: pw123 }
`, port))
	start := time.Now()
	startPublishProc(t, "python3", "testdata/publish_pipe.py",
		fmt.Sprintf("rtsp://bot:pw123@127.0.0.1:%d/annotated", port), "--size", "320x240", "--fps", "25")
	s.waitState(t, "annotated", "live", 15*time.Second)
	t.Logf("annotated: live %v after the script started", time.Since(start).Round(time.Millisecond))
	publishDecodes(t, s, "annotated")
}
