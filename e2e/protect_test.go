package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rtsp2hls/rtsp2hls/httpapi"
)

// recorder makes requests and keeps every answer (status line, headers
// and body) for a leak check.
type recorder struct {
	t   *testing.T
	all strings.Builder
}

// do makes a request, with Basic credentials when user is not "", and
// returns the status and the body.
func (rec *recorder) do(method, url, user, pass string) (int, string) {
	rec.t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		rec.t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		rec.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if rec != nil {
		fmt.Fprintf(&rec.all, "%s %s -> %s\n", method, url, resp.Status)
		resp.Header.Write(&rec.all)
		rec.all.Write(body)
		rec.all.WriteByte('\n')
	}
	return resp.StatusCode, string(body)
}

func hash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// routesOf lists a GET route of every kind for camera cam.
func routesOf(cam string) []string {
	return []string{
		"/", "/walls/all", "/?cams=" + cam, "/cams/" + cam + "/", "/cams/" + cam + "/index.m3u8",
		"/cams/" + cam + "/sub/index.m3u8", "/assets/app.js", "/api/v1/cameras", "/api/v1/cameras/" + cam,
		"/api/v1/walls", "/api/v1/walls/all", "/api/v1/server", "/metrics", "/cams/nope/", "/api/v1/nope",
	}
}

// TestLoginsAndViewLinks: with users: every route but /healthz needs a
// login; a user sees only their cameras; admin routes need an admin; a
// view link opens its camera only, and not once expired.
func TestLoginsAndViewLinks(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	const secret = "view-link-secret-0123456789abcdefgh"
	s := startServer(t, fmt.Sprintf(`listen: LISTEN
tokenSecret: %q
users:
  - {name: alice, password: %q, cameras: ["*"], admin: true}
  - {name: guard, password: %q, cameras: [a]}
walls:
  all: {cameras: [a, b]}
cameras:
  a: {source: demo}
  b: {source: demo}
`, secret, hash(t, "alice-pw"), hash(t, "guard-pw")))
	rec := &recorder{t: t}
	waitFor(t, 15*time.Second, "cameras live", func() bool {
		_, body := rec.do("GET", s.URL+"/api/v1/cameras", "alice", "alice-pw")
		return strings.Count(body, `"state": "live"`) == 2
	})

	for _, path := range routesOf("a") {
		if code, _ := rec.do("GET", s.URL+path, "", ""); code != 401 {
			t.Errorf("GET %s without a login: %d, want 401", path, code)
		}
		if code, _ := rec.do("GET", s.URL+path, "alice", "wrong-pw"); code != 401 {
			t.Errorf("GET %s with a wrong password: %d, want 401", path, code)
		}
	}
	for _, path := range []string{"/api/v1/reload", "/api/v1/cameras/a/restart", "/api/v1/cameras/a/link"} {
		if code, _ := rec.do("POST", s.URL+path, "", ""); code != 401 {
			t.Errorf("POST %s without a login: %d, want 401", path, code)
		}
		if code, _ := rec.do("POST", s.URL+path, "guard", "guard-pw"); code != 403 {
			t.Errorf("POST %s as a non-admin: %d, want 403", path, code)
		}
	}
	if code, _ := rec.do("GET", s.URL+"/healthz", "", ""); code != 200 {
		t.Errorf("/healthz without a login: %d", code)
	}
	if code, _ := rec.do("GET", s.URL+"/cams/b/index.m3u8", "alice", "alice-pw"); code != 200 {
		t.Errorf("alice, camera b: %d", code)
	}
	if code, _ := rec.do("GET", s.URL+"/metrics", "guard", "guard-pw"); code != 403 {
		t.Errorf("guard, /metrics: %d, want 403", code)
	}
	if code, _ := rec.do("GET", s.URL+"/cams/a/index.m3u8", "guard", "guard-pw"); code != 200 {
		t.Errorf("guard, camera a: %d", code)
	}
	for _, path := range []string{"/cams/b/", "/cams/b/index.m3u8", "/api/v1/cameras/b"} {
		if code, _ := rec.do("GET", s.URL+path, "guard", "guard-pw"); code != 404 {
			t.Errorf("guard, GET %s: %d, want 404 (not theirs)", path, code)
		}
	}
	if _, body := rec.do("GET", s.URL+"/api/v1/cameras", "guard", "guard-pw"); strings.Contains(body, `"b"`) {
		t.Errorf("guard's camera list shows b: %s", body)
	}

	// A view link minted by the admin.
	code, body := rec.do("POST", s.URL+"/api/v1/cameras/a/link?ttl=1h", "alice", "alice-pw")
	var link struct{ URL, Token string }
	if code != 200 || json.Unmarshal([]byte(body), &link) != nil || link.Token == "" {
		t.Fatalf("minting a link: %d %s", code, body)
	}
	for _, path := range []string{link.URL, "/cams/a/index.m3u8?token=" + link.Token, "/assets/app.js?token=" + link.Token, "/api/v1/cameras/a?token=" + link.Token} {
		if code, _ := rec.do("GET", s.URL+path, "", ""); code != 200 {
			t.Errorf("view link for a, GET %s: %d, want 200", path, code)
		}
	}
	// Its playlists lead on with the token: follow to a part.
	_, master := rec.do("GET", s.URL+"/cams/a/index.m3u8?token="+link.Token, "", "")
	media := reMediaURI.FindString(master)
	if !strings.Contains(media, "token=") {
		t.Errorf("the playlist of a view link does not carry the token: %q", media)
	}
	if code, _ := rec.do("GET", s.URL+"/cams/a/"+media, "", ""); code != 200 {
		t.Errorf("media playlist by view link: %d", code)
	}
	for _, path := range []string{"/cams/b/?token=" + link.Token, "/cams/b/index.m3u8?token=" + link.Token, "/api/v1/cameras?token=" + link.Token, "/metrics?token=" + link.Token, "/?token=" + link.Token} {
		// Another camera is "no such camera" to the link (404), as to a
		// user who may not watch it; the rest needs a login (401).
		if code, _ := rec.do("GET", s.URL+path, "", ""); code != 401 && code != 404 {
			t.Errorf("view link for a, GET %s: %d, want 401 or 404", path, code)
		}
	}
	expired := httpapi.SignViewToken([]byte(secret), "a", time.Now().Add(-time.Minute))
	forged := httpapi.SignViewToken([]byte("another-secret-0123456789abcdefghij"), "a", time.Now().Add(time.Hour))
	for what, tok := range map[string]string{"expired": expired, "forged": forged} {
		if code, _ := rec.do("GET", s.URL+"/cams/a/index.m3u8?token="+tok, "", ""); code != 401 {
			t.Errorf("%s view link: %d, want 401", what, code)
		}
	}
	for _, pw := range []string{"alice-pw", "guard-pw", "wrong-pw", secret} {
		if strings.Contains(rec.all.String(), pw) || strings.Contains(s.logs.String(), pw) {
			t.Errorf("%q appears in an answer or the log", pw)
		}
	}
}

// TestOnDemandCamera: an on-demand camera is idle until asked for, the
// first playlist request waits for it and gets a playlist, and it stops
// after its idle timeout.
func TestOnDemandCamera(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	s := startServer(t, `listen: LISTEN
cameras:
  lazy: {source: demo, onDemand: true, idleTimeout: 2s}
`)
	time.Sleep(time.Second)
	if st := s.camera(t, "lazy"); st.State != "idle" || st.Running {
		t.Fatalf("before any viewer: state %s, running %v; want idle", st.State, st.Running)
	}
	start := time.Now()
	resp, body := httpGet(t, s.URL+"/cams/lazy/index.m3u8")
	if resp.StatusCode != 200 || !strings.Contains(body, "#EXTM3U") {
		t.Fatalf("first playlist request: %s %q", resp.Status, body)
	}
	t.Logf("first playlist of an idle on-demand camera after %v", time.Since(start).Round(time.Millisecond))
	c := &llhlsClient{t: t, base: s.URL + "/cams/lazy/", parts: map[string]int{}}
	c.follow(2 * time.Second)
	if len(c.parts) < 5 {
		t.Errorf("viewer got %d parts in 2 s", len(c.parts))
	}
	if st := s.camera(t, "lazy"); st.State != "live" || !st.Running {
		t.Errorf("while watched: state %s, running %v", st.State, st.Running)
	}
	s.waitState(t, "lazy", "idle", 10*time.Second)
	if !strings.Contains(s.logs.String(), "camera=lazy state=idle") {
		t.Errorf("no log line for the idle stop")
	}
	// And again.
	if resp, _ := httpGet(t, s.URL+"/cams/lazy/index.m3u8"); resp.StatusCode != 200 {
		t.Errorf("after the idle stop: %s", resp.Status)
	}
}

// TestHashPassword: rtsp2hls hash-password prints a bcrypt hash of the
// password on stdin as its last line.
func TestHashPassword(t *testing.T) {
	cmd := exec.Command(binary, "hash-password")
	cmd.Stdin = strings.NewReader("correct horse\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	if err := bcrypt.CompareHashAndPassword([]byte(last), []byte("correct horse")); err != nil {
		t.Fatalf("last line %q is not the hash of the password: %v", last, err)
	}
	cmd = exec.Command(binary, "hash-password")
	cmd.Stdin = strings.NewReader("")
	if err := cmd.Run(); err == nil {
		t.Errorf("hash-password with no password succeeded")
	}
}

// TestAdminListen: with adminListen the admin routes are served there
// (no login needed) and not on listen.
func TestAdminListen(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	admin := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	s := startServer(t, fmt.Sprintf(`listen: LISTEN
adminListen: %q
users:
  - {name: alice, password: %q, cameras: ["*"], admin: true}
cameras:
  a: {source: demo}
`, admin, hash(t, "alice-pw")))
	rec := &recorder{t: t}
	for _, r := range []struct{ method, path string }{{"GET", "/metrics"}, {"POST", "/api/v1/reload"}, {"POST", "/api/v1/cameras/a/restart"}} {
		if code, _ := rec.do(r.method, s.URL+r.path, "alice", "alice-pw"); code != 404 {
			t.Errorf("%s %s on listen: %d, want 404", r.method, r.path, code)
		}
		if code, _ := rec.do(r.method, "http://"+admin+r.path, "", ""); code != 200 {
			t.Errorf("%s %s on adminListen: %d, want 200", r.method, r.path, code)
		}
	}
	if code, _ := rec.do("GET", "http://"+admin+"/cams/a/index.m3u8", "", ""); code != 404 {
		t.Errorf("HLS on adminListen: %d, want 404 (admin routes only)", code)
	}
}

// TestOpenFilesLimitRaised: started with a soft limit of 1024 open files,
// rtsp2hls raises it to the hard limit.
func TestOpenFilesLimitRaised(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max <= 1024 {
		t.Skipf("the hard limit is %d: nothing to raise", lim.Max)
	}
	cfg := filepath.Join(t.TempDir(), "config.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("listen: 127.0.0.1:%d\n", freePort(t))), 0o644)
	cmd := exec.Command("/bin/sh", "-c", `ulimit -S -n 1024 && exec "$0" -config "$1"`, binary, cfg)
	logs := &logBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var soft string
	waitFor(t, 10*time.Second, "rtsp2hls to start", func() bool {
		if !strings.Contains(logs.String(), "open files limit") {
			return false
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/limits", cmd.Process.Pid))
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); strings.HasPrefix(l, "Max open files") && len(f) >= 5 {
				soft = f[3]
			}
		}
		return true
	})
	if soft != fmt.Sprint(lim.Max) {
		t.Errorf("soft open-files limit %s, want the hard limit %d", soft, lim.Max)
	}
}

// TestBrowserWithLogin: with users, the wall plays in Chromium after the
// login prompt (answered as a person would), showing only the user's
// cameras; a view link plays its camera with no login at all.
func TestBrowserWithLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	needBrowser(t)
	const secret = "view-link-secret-0123456789abcdefgh"
	s := startServer(t, fmt.Sprintf(`listen: LISTEN
tokenSecret: %q
users:
  - {name: alice, password: %q, cameras: [a, b], admin: true}
cameras:
  a: {source: demo}
  b: {source: demo}
  c: {source: demo}
`, secret, hash(t, "alice-pw")))
	rep := runCheck(t, checkOpts{URL: s.URL + "/", Seconds: 6, User: "alice", Pass: "alice-pw"})
	var names []string
	for _, tile := range rep.Tiles {
		names = append(names, tile.Name)
	}
	if strings.Join(names, ",") != "a,b" {
		t.Errorf("alice's wall shows %v, want [a b]", names)
	}
	for _, v := range rep.Videos {
		if v.Frames < 10 {
			t.Errorf("wall tile %s: %d frames", v.Camera, v.Frames)
		}
	}
	if len(rep.Videos) != 2 || len(rep.ConsoleErrors)+len(rep.PageErrors)+len(rep.HTTPErrors) > 0 {
		t.Errorf("wall with login: %d videos, console %v, page %v, http %v", len(rep.Videos), rep.ConsoleErrors, rep.PageErrors, rep.HTTPErrors)
	}

	token := httpapi.SignViewToken([]byte(secret), "b", time.Now().Add(time.Hour))
	rep = runCheck(t, checkOpts{URL: s.URL + "/cams/b/?token=" + token, Seconds: 5})
	if len(rep.Videos) != 1 || rep.Videos[0].Frames < 10 || len(rep.ConsoleErrors)+len(rep.PageErrors)+len(rep.HTTPErrors) > 0 {
		t.Errorf("view link page: %+v", rep)
	} else {
		t.Logf("view link without login: first frame %.0f ms, %d frames", *rep.Videos[0].FirstFrameMs, rep.Videos[0].Frames)
	}
}

// TestJSONLogs: log: {format: json} writes one JSON object per line.
func TestJSONLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	s := startServer(t, `listen: LISTEN
log: {format: json, level: debug}
cameras:
  a: {source: demo}
`)
	s.waitState(t, "a", "live", 15*time.Second)
	lines := strings.Split(strings.TrimSpace(s.logs.String()), "\n")
	states := 0
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if rec["msg"] == "camera state" && rec["camera"] == "a" {
			states++
		}
	}
	if states < 2 {
		t.Errorf("%d camera state lines for a, want connecting and live:\n%s", states, s.logs.String())
	}
}
