package e2e

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ffprobeFrames decodes frames of an HLS URL with ffmpeg's HLS reader and
// returns "WIDTHxHEIGHT" and the number of video frames decoded.
func ffprobeFrames(t *testing.T, url string) (size string, frames int) {
	t.Helper()
	out, err := run(t, 60*time.Second, "ffprobe", "-v", "error", "-rw_timeout", "10000000",
		"-select_streams", "v:0", "-read_intervals", "%+3",
		"-count_frames", "-show_entries", "stream=width,height,nb_read_frames", "-of", "csv=p=0", url)
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", url, err, out)
	}
	var w, h int
	fields := strings.Split(strings.TrimSpace(lastLine(out)), ",")
	if len(fields) < 3 {
		t.Fatalf("ffprobe output %q", out)
	}
	fmt.Sscan(fields[0], &w)
	fmt.Sscan(fields[1], &h)
	fmt.Sscan(fields[2], &frames)
	return fmt.Sprintf("%dx%d", w, h), frames
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// Each variant serves what a real decoder reads.
func TestVariantsDecodeWithFFprobe(t *testing.T) {
	need(t, "ffprobe")
	s := startServer(t, `
listen: LISTEN
cameras:
  ll:   { source: demo }
  fmp4: { source: demo, hls: { variant: fmp4 } }
  ts:   { source: demo, hls: { variant: mpegts } }
`)
	for _, cam := range []string{"ll", "fmp4", "ts"} {
		s.waitState(t, cam, "live", 10*time.Second)
	}
	for _, cam := range []string{"ll", "fmp4", "ts"} {
		t.Run(cam, func(t *testing.T) {
			size, frames := ffprobeFrames(t, s.URL+"/cams/"+cam+"/index.m3u8")
			t.Logf("%s: ffprobe decoded %d frames of %s", cam, frames, size)
			if size != "640x360" || frames < 25 {
				t.Fatalf("decoded %d frames of %s, want ≥25 of 640x360", frames, size)
			}
		})
	}
}

// A camera no one here wrote: GStreamer's RTSP server, pulled over each
// transport, with Opus audio passed through.
func TestGStreamerCamera(t *testing.T) {
	need(t, "ffprobe")
	cam := startGstCamera(t, "--size", "320x240", "--fps", "15", "--audio", "opus")
	s := startServer(t, fmt.Sprintf(`
listen: LISTEN
cameras:
  gst:    { source: %q, transport: auto }
  gsttcp: { source: %q, transport: tcp }
  gstudp: { source: %q, transport: udp }
`, cam.URL, cam.URL, cam.URL))
	for _, name := range []string{"gst", "gsttcp", "gstudp"} {
		st := s.waitState(t, name, "live", 15*time.Second)
		if st.Audio != "Opus" {
			t.Errorf("%s: audio = %q, want Opus passed through", name, st.Audio)
		}
		t.Run(name, func(t *testing.T) {
			size, frames := ffprobeFrames(t, s.URL+"/cams/"+name+"/index.m3u8")
			t.Logf("%s: ffprobe decoded %d frames of %s", name, frames, size)
			if size != "320x240" || frames < 15 {
				t.Fatalf("decoded %d frames of %s, want ≥15 of 320x240", frames, size)
			}
		})
	}
}

// The camera dies and comes back: the state goes offline, then live, and
// new parts flow, with no restart of rtsp2hls.
func TestCameraKilledAndRestarted(t *testing.T) {
	cam := startGstCamera(t, "--size", "320x240", "--fps", "25")
	s := startServer(t, fmt.Sprintf(`
listen: LISTEN
cameras:
  cam: { source: %q, transport: tcp }
`, cam.URL))
	s.waitState(t, "cam", "live", 15*time.Second)
	c := &llhlsClient{t: t, base: s.URL + "/cams/cam/", parts: map[string]int{}}
	c.follow(2 * time.Second)
	before := len(c.parts)

	for round := 1; round <= 2; round++ {
		cam.stop()
		st := s.waitState(t, "cam", "offline", 10*time.Second)
		t.Logf("round %d: camera killed, state offline: %q", round, st.LastError)
		if st.LastError == "" {
			t.Errorf("offline without a last error")
		}
		time.Sleep(time.Second)
		cam.start(t)
		back := time.Now()
		s.waitState(t, "cam", "live", 10*time.Second)
		t.Logf("round %d: live again %v after the camera restarted", round, time.Since(back).Round(time.Millisecond))

		c.follow(2 * time.Second)
		if len(c.parts) <= before {
			t.Fatalf("round %d: no new parts after the camera came back", round)
		}
		before = len(c.parts)
	}
	if st := s.camera(t, "cam"); st.Reconnects < 2 {
		t.Fatalf("reconnects = %d, want ≥ 2", st.Reconnects)
	}
}

// Passwords never leave the server: not in the API, not in the log.
func TestPasswordNeverShown(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	port := freePort(t) // nothing listens: the camera fails and its error is kept
	s := startServer(t, fmt.Sprintf(`
listen: LISTEN
cameras:
  secret: { source: "rtsp://admin:hunter2@127.0.0.1:%d/stream", transport: tcp }
`, port))
	st := s.waitState(t, "secret", "offline", 10*time.Second)
	time.Sleep(time.Second) // a retry or two
	resp, body := httpGet(t, s.URL+"/api/v1/cameras")
	if resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	for where, text := range map[string]string{"API": body, "log": s.logs.String(), "lastError": st.LastError} {
		if strings.Contains(text, "hunter2") {
			t.Errorf("the password appears in the %s: %s", where, text)
		}
	}
	if !strings.Contains(body, "admin:xxxxx@127.0.0.1") {
		t.Errorf("API does not show the redacted source: %s", body)
	}
}

func TestVersionAndCleanShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	out, err := exec.Command(binary, "-version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "rtsp2hls ") {
		t.Fatalf("-version: %v %q", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		s := startServer(t, "listen: LISTEN\ncameras:\n  demo1: { source: demo }\n")
		s.waitState(t, "demo1", "live", 10*time.Second)
		// A viewer is blocked in an LL-HLS reload while the server stops.
		c := &llhlsClient{t: t, base: s.URL + "/cams/demo1/", parts: map[string]int{}}
		c.follow(time.Second)
		start := time.Now()
		s.cmd.Process.Signal(sig)
		select {
		case err := <-s.done:
			s.done <- err // for the cleanup
			if err != nil {
				t.Fatalf("%v: exit %v\n%s", sig, err, s.logs.String())
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%v: still running after 5 s", sig)
		}
		t.Logf("%v: clean exit in %v", sig, time.Since(start).Round(time.Millisecond))
	}
}

// G.711 audio cannot go into HLS: it is skipped with one warning naming the
// codec (not one per reconnect), and the video plays.
func TestUnsupportedAudioSkippedOnce(t *testing.T) {
	need(t, "ffprobe")
	cam := startGstCamera(t, "--size", "320x240", "--fps", "15", "--audio", "pcmu")
	s := startServer(t, fmt.Sprintf("listen: LISTEN\ncameras:\n  cam: { source: %q, transport: tcp }\n", cam.URL))
	if st := s.waitState(t, "cam", "live", 15*time.Second); st.Audio != "" {
		t.Fatalf("audio = %q, want none", st.Audio)
	}
	cam.stop()
	s.waitState(t, "cam", "offline", 10*time.Second)
	cam.start(t)
	s.waitState(t, "cam", "live", 10*time.Second)

	size, frames := ffprobeFrames(t, s.URL+"/cams/cam/index.m3u8")
	if size != "320x240" || frames < 15 {
		t.Fatalf("decoded %d frames of %s", frames, size)
	}
	logs := s.logs.String()
	if n := strings.Count(logs, "skipping track"); n != 1 {
		t.Fatalf("%d skip warnings after a reconnect, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, "codec=G711") {
		t.Fatalf("the warning does not name the codec:\n%s", logs)
	}
}
