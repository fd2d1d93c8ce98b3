// Package e2e tests rtsp2hls from the outside: the real binary, real
// cameras (GStreamer, ffmpeg), real players (ffmpeg, Chromium).
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/camera"
)

// binary is rtsp2hls built once for all tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rtsp2hls-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "rtsp2hls")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "../cmd/rtsp2hls")...)
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building rtsp2hls:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// need skips the test when a tool is missing, loudly, except in CI where a
// missing tool is a broken setup and fails the test.
func need(t *testing.T, tools ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required in CI but not installed", tool)
			}
			t.Skipf("SKIPPED: %s is not installed (.ci/run installs it)", tool)
		}
	}
}

// needPlaywright skips the test when e2e/browser's playwright-core is not
// installed (fails under CI=true, where it must be).
func needPlaywright(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("browser/node_modules/playwright-core"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("playwright-core is not installed in e2e/browser (make test installs it)")
		}
		t.Skip("SKIPPED: playwright-core not installed: run `cd e2e/browser && npm ci`")
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// logBuffer collects a process's output for the test log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// server is a running rtsp2hls.
type server struct {
	URL  string
	Path string // the config file
	cmd  *exec.Cmd
	logs *logBuffer
	done chan error
}

// startServer writes config (with LISTEN replaced by a free address) and
// runs rtsp2hls with it until the test ends.
func startServer(t *testing.T, config string) *server {
	t.Helper()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	path := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(config, "LISTEN", addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &server{URL: "http://" + addr, Path: path, logs: &logBuffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(binary, "-config", path)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.done
		if strings.Contains(s.logs.String(), "DATA RACE") {
			t.Errorf("the race detector found a data race in rtsp2hls")
		}
		if t.Failed() {
			t.Logf("rtsp2hls log:\n%s", s.logs.String())
		}
	})
	waitFor(t, 10*time.Second, "rtsp2hls to listen", func() bool {
		resp, err := http.Get(s.URL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return s
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cameraStatus is the API's JSON of a camera.
type cameraStatus = camera.Status

func (s *server) camera(t *testing.T, name string) cameraStatus {
	t.Helper()
	var st cameraStatus
	s.getJSON(t, "/api/v1/cameras/"+name, &st)
	return st
}

func (s *server) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func (s *server) waitState(t *testing.T, name, state string, timeout time.Duration) cameraStatus {
	t.Helper()
	var st cameraStatus
	waitFor(t, timeout, name+" to be "+state, func() bool {
		st = s.camera(t, name)
		return string(st.State) == state
	})
	return st
}

// gstCamera is GStreamer's RTSP server playing a live test pattern.
type gstCamera struct {
	URL  string
	port int
	args []string
	cmd  *exec.Cmd
	logs *logBuffer
}

func startGstCamera(t *testing.T, args ...string) *gstCamera {
	t.Helper()
	need(t, "/usr/bin/python3", "gst-launch-1.0")
	c := &gstCamera{port: freePort(t), args: args}
	c.start(t)
	t.Cleanup(c.stop)
	return c
}

func (c *gstCamera) start(t *testing.T) {
	t.Helper()
	c.logs = &logBuffer{}
	args := append([]string{"testdata/gst_camera.py", "--port", fmt.Sprint(c.port)}, c.args...)
	c.cmd = exec.Command("/usr/bin/python3", args...)
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stderr = c.logs
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- u
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case c.URL = <-ready:
	case <-time.After(15 * time.Second):
		t.Fatalf("GStreamer camera did not start: %s", c.logs.String())
	}
}

func (c *gstCamera) stop() {
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Kill()
		c.cmd.Wait()
		c.cmd = nil
	}
}

// run runs a command with a timeout and returns its combined output.
func run(t *testing.T, timeout time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

func httpGet(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
