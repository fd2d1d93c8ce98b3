package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var reMediaURI = regexp.MustCompile(`(?m)^[^#\s].*\.m3u8.*$`)

// mediaPlaylist returns the URL of a camera's media playlist.
func mediaPlaylist(t *testing.T, s *server, cam string) string {
	t.Helper()
	resp, body := httpGet(t, s.URL+"/cams/"+cam+"/index.m3u8")
	if resp.StatusCode != 200 {
		t.Fatalf("%s index.m3u8: %s", cam, resp.Status)
	}
	media := reMediaURI.FindString(body)
	if media == "" {
		t.Fatalf("%s: no media playlist in %q", cam, body)
	}
	return s.URL + "/cams/" + cam + "/" + media
}

// segmentPrefix returns the prefix of a camera's segment names, which
// gohlslib draws at random for each muxer it makes: the same prefix means
// the same muxer, and the viewers' playlists go on without a break.
func segmentPrefix(t *testing.T, s *server, cam string) string {
	t.Helper()
	var prefix string
	waitFor(t, 15*time.Second, cam+" to have segments", func() bool {
		resp, body := httpGet(t, mediaPlaylist(t, s, cam))
		if resp.StatusCode != 200 {
			return false
		}
		prefix = firstPrefix(body)
		return prefix != ""
	})
	return prefix
}

var reSegmentURI = regexp.MustCompile(`(?m)^([A-Za-z0-9]+)_[^#\s]*_seg\d+\.(mp4|ts)$`)

func firstPrefix(playlist string) string {
	if m := reSegmentURI.FindStringSubmatch(playlist); m != nil {
		return m[1]
	}
	return ""
}

// watcher follows a camera's playlist with blocking reloads until stop,
// recording every answer that is not a 200 and every prefix seen.
type watcher struct {
	mu       sync.Mutex
	errs     []string
	prefixes map[string]bool
	reloads  int
	stop     chan struct{}
	done     chan struct{}
}

func watch(media string) *watcher {
	w := &watcher{prefixes: map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		url := media
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			resp, err := http.Get(url)
			if err != nil {
				w.fail(err.Error())
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				w.fail(fmt.Sprintf("GET %s: %s", url, resp.Status))
				time.Sleep(100 * time.Millisecond)
				url = media
				continue
			}
			pl := string(body)
			msn, part := nextPart(pl)
			w.mu.Lock()
			w.prefixes[firstPrefix(pl)] = true
			w.reloads++
			w.mu.Unlock()
			url = fmt.Sprintf("%s?_HLS_msn=%d&_HLS_part=%d", media, msn, part)
		}
	}()
	return w
}

func (w *watcher) fail(s string) {
	w.mu.Lock()
	w.errs = append(w.errs, s)
	w.mu.Unlock()
}

func (w *watcher) finish() (errs []string, prefixes []string, reloads int) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	for p := range w.prefixes {
		prefixes = append(prefixes, p)
	}
	return w.errs, prefixes, w.reloads
}

func writeConfig(t *testing.T, s *server, text string) {
	t.Helper()
	addr := strings.TrimPrefix(s.URL, "http://")
	if err := os.WriteFile(s.Path, []byte(strings.ReplaceAll(text, "LISTEN", addr)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func status(t *testing.T, s *server, path string) int {
	t.Helper()
	resp, _ := httpGet(t, s.URL+path)
	return resp.StatusCode
}

// TestReloadOnFileChange: the file changes on disk; an added camera
// starts, a removed one stops, a changed one restarts (new muxer), and an
// unchanged one is not touched: same muxer, and a viewer following it
// through the reload sees no error and no new segment names.
func TestReloadOnFileChange(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	s := startServer(t, `listen: LISTEN
cameras:
  keep: {source: demo}
  change: {source: demo}
  gone: {source: demo}
`)
	for _, c := range []string{"keep", "change", "gone"} {
		s.waitState(t, c, "live", 15*time.Second)
	}
	keepBefore := segmentPrefix(t, s, "keep")
	changeBefore := segmentPrefix(t, s, "change")
	w := watch(mediaPlaylist(t, s, "keep"))
	time.Sleep(time.Second)

	writeConfig(t, s, `listen: LISTEN
cameras:
  keep: {source: demo}
  change: {source: demo, hls: {segmentCount: 8}}
  added: {source: demo}
`)
	waitFor(t, 10*time.Second, "the reload", func() bool { return status(t, s, "/api/v1/cameras/added") == 200 })
	s.waitState(t, "added", "live", 15*time.Second)
	if code := status(t, s, "/api/v1/cameras/gone"); code != 404 {
		t.Errorf("removed camera: API answers %d, want 404", code)
	}
	if code := status(t, s, "/cams/gone/index.m3u8"); code != 404 {
		t.Errorf("removed camera: playlist answers %d, want 404", code)
	}
	s.waitState(t, "change", "live", 15*time.Second)
	if after := segmentPrefix(t, s, "change"); after == changeBefore {
		t.Errorf("changed camera kept its muxer (prefix %s)", after)
	}
	time.Sleep(2 * time.Second) // the viewer of keep goes on past the reload
	if after := segmentPrefix(t, s, "keep"); after != keepBefore {
		t.Errorf("unchanged camera got a new muxer: prefix %s, was %s", after, keepBefore)
	}
	errs, prefixes, reloads := w.finish()
	if len(errs) > 0 || len(prefixes) != 1 || reloads < 10 {
		t.Errorf("viewer of the unchanged camera: errors %q, prefixes %v, %d reloads; want no error, one prefix", errs, prefixes, reloads)
	}
	t.Logf("unchanged camera: prefix %s before and after, viewer made %d blocking reloads without an error", keepBefore, reloads)
}

// TestBadReloadKeepsRunningConfig: a new file with mistakes is logged
// with its line numbers, and the cameras go on as before; SIGHUP reloads.
func TestBadReloadKeepsRunningConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	s := startServer(t, `listen: LISTEN
cameras:
  one: {source: demo}
`)
	s.waitState(t, "one", "live", 15*time.Second)
	before := segmentPrefix(t, s, "one")

	writeConfig(t, s, `listen: LISTEN
cameras:
  one: {source: demo}
  two: {source: demo, transprot: tcp}
`)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "the rejected reload", func() bool {
		return strings.Contains(s.logs.String(), "config not reloaded")
	})
	logs := s.logs.String()
	if !strings.Contains(logs, s.Path+":4") || !strings.Contains(logs, "transprot") {
		t.Errorf("the log does not name the mistake with its line (%s:4, transprot):\n%s", s.Path, logs)
	}
	if code := status(t, s, "/api/v1/cameras/two"); code != 404 {
		t.Errorf("camera from the rejected file: %d, want 404", code)
	}
	if st := s.camera(t, "one"); st.State != "live" {
		t.Errorf("camera one is %s after a rejected reload", st.State)
	}
	if after := segmentPrefix(t, s, "one"); after != before {
		t.Errorf("camera one restarted on a rejected reload (prefix %s, was %s)", after, before)
	}

	// Fixed, and reloaded by SIGHUP.
	writeConfig(t, s, `listen: LISTEN
cameras:
  one: {source: demo}
  two: {source: demo, hls: {segmentCount: 8}}
`)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "camera two", func() bool { return status(t, s, "/api/v1/cameras/two") == 200 })
	s.waitState(t, "two", "live", 15*time.Second)
	if !strings.Contains(s.logs.String(), "why=SIGHUP") {
		t.Errorf("no reload by SIGHUP in the log")
	}
}

// TestCheckFlag: rtsp2hls -check validates like nginx -t.
func TestCheckFlag(t *testing.T) {
	dir := t.TempDir()
	good, bad := dir+"/good.yml", dir+"/bad.yml"
	os.WriteFile(good, []byte("cameras:\n  a: {source: demo}\n"), 0o644)
	os.WriteFile(bad, []byte("cameras:\n  a: {source: demo}\n  b:\n    source: rtsp://u:CheckSecret9@cam/\n    transport: tpc\n"), 0o644)

	out, err := exec.Command(binary, "-check", "-config", good).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "is valid") {
		t.Errorf("-check on a good file: %v %s", err, out)
	}
	out, err = exec.Command(binary, "-check", "-config", bad).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("-check on a bad file: exit %v, want 1", err)
	}
	if !strings.Contains(string(out), bad+":5:") || !strings.Contains(string(out), "tpc") {
		t.Errorf("-check does not name the mistake with its line:\n%s", out)
	}
	if strings.Contains(string(out), "CheckSecret9") {
		t.Errorf("-check printed a password:\n%s", out)
	}
}
