package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// markedProcs returns the pids of live processes whose command line holds
// marker, with argv[0] among names (any when names is empty).
func markedProcs(marker string, names ...string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cmdline, []byte(marker)) {
			continue // gone, or a zombie (empty command line), or not ours
		}
		argv0 := filepath.Base(string(bytes.SplitN(cmdline, []byte{0}, 2)[0]))
		if len(names) == 0 || containsString(names, argv0) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A Raspberry Pi camera without the Pi: ffmpeg encoding a test pattern in
// real time to raw H.264 on stdout, as rpicam-vid does. The camera goes
// live and decodes; ffmpeg killed from outside takes it offline and
// rtsp2hls runs it again; on SIGTERM no ffmpeg is left behind.
func TestExecFFmpegCamera(t *testing.T) {
	need(t, "ffmpeg", "ffprobe")
	// Every process of this test carries the marker, so the test finds
	// (and kills) only its own.
	marker := fmt.Sprintf("rtsp2hls-e2e-exec-%d-%d", os.Getpid(), time.Now().UnixNano())
	t.Cleanup(func() { // after the server's cleanup: kill what a failed test left
		for _, pid := range markedProcs(marker) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	command := "echo 'opening rtsp://admin:hunter2@127.0.0.1/cam' >&2; " +
		"exec ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=25 " +
		"-c:v libx264 -pix_fmt yuv420p -tune zerolatency -g 25 -bsf:v h264_metadata=aud=insert " +
		"-metadata comment=" + marker + " -f h264 -"
	start := time.Now()
	s := startServer(t, fmt.Sprintf("listen: LISTEN\ncameras:\n  pi: { source: %q }\n", "exec:"+command))
	st := s.waitState(t, "pi", "live", 20*time.Second)
	t.Logf("live %v after rtsp2hls was started", time.Since(start).Round(time.Millisecond))
	if st.Codec != "H264" || st.Width != 320 || st.Height != 240 {
		t.Fatalf("status = %+v, want H264 320x240", st)
	}
	size, frames := ffprobeFrames(t, s.URL+"/cams/pi/index.m3u8")
	t.Logf("ffprobe decoded %d frames of %s", frames, size)
	if size != "320x240" || frames < 25 {
		t.Fatalf("decoded %d frames of %s, want ≥25 of 320x240", frames, size)
	}

	// ffmpeg dies (the camera cable is pulled, the encoder crashes).
	pids := markedProcs(marker, "ffmpeg")
	if len(pids) != 1 {
		t.Fatalf("%d ffmpeg processes with the marker, want 1", len(pids))
	}
	syscall.Kill(pids[0], syscall.SIGKILL)
	killed := time.Now()
	st = s.waitState(t, "pi", "offline", 10*time.Second)
	t.Logf("offline %v after ffmpeg was killed: %q", time.Since(killed).Round(time.Millisecond), st.LastError)
	if !strings.HasPrefix(st.LastError, "command killed by signal 9") {
		t.Errorf("lastError = %q, want the command killed by signal 9", st.LastError)
	}
	st = s.waitState(t, "pi", "live", 20*time.Second)
	t.Logf("live again %v after ffmpeg was killed", time.Since(killed).Round(time.Millisecond))
	frames0 := st.Frames
	waitFor(t, 10*time.Second, "frames from the new ffmpeg", func() bool {
		st = s.camera(t, "pi")
		return st.Frames >= frames0+25
	})
	if st.Reconnects < 1 {
		t.Errorf("reconnects = %d, want ≥ 1", st.Reconnects)
	}
	if again := markedProcs(marker, "ffmpeg"); len(again) != 1 || again[0] == pids[0] {
		t.Errorf("ffmpeg processes %v, want one new one", again)
	}

	// Clean shutdown: rtsp2hls ends the command's process group.
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("SIGTERM: exit %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10 s after SIGTERM")
	}
	if left := markedProcs(marker); len(left) > 0 {
		t.Fatalf("processes left after rtsp2hls exited: %v", left)
	}

	logs := s.logs.String()
	if strings.Contains(logs, "hunter2") || strings.Contains(st.LastError, "hunter2") {
		t.Errorf("the password appears in the log or the status")
	}
	if !strings.Contains(logs, "admin:xxxxx@127.0.0.1") {
		t.Errorf("the command's stderr is not in the log:\n%s", logs)
	}
}
