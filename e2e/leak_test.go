package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCredentialsNeverLeak configures cameras and users with distinctive
// secrets, drives every route, a view link, reloads (good and bad), camera
// faults and a refused publisher, with debug and request logging on, and
// greps every answer and the whole log for the secrets: zero hits.
func TestCredentialsNeverLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	need(t, "ffmpeg")
	const (
		camPw    = "LeakCamPw7731"
		subPw    = "LeakSubPw2290"
		execPw   = "LeakExecPw3391"
		pubPw    = "LeakPubPw5512"
		alicePw  = "LeakAlicePw8842"
		guardPw  = "LeakGuardPw1199"
		wrongPw  = "LeakWrongPw4455"
		tokenKey = "LeakTokenSecret-0123456789abcdefghij"
	)
	closed := freePort(t) // nothing listens: the cameras there fail
	rtspPort := publishRTSPPort(t)
	aliceHash, guardHash := hash(t, alicePw), hash(t, guardPw)
	cfg := func(path string, extra string) string {
		return fmt.Sprintf(`listen: LISTEN
log: {level: debug, requests: true}
tokenSecret: %q
rtsp: {listen: "127.0.0.1:%d"}
users:
  - {name: alice, password: %q, cameras: ["*"], admin: true}
  - {name: guard, password: %q, cameras: [pushed]}
walls:
  all: {cameras: [gate, pushed, piped, demo1]}
cameras:
  gate:
    source: "rtsp://admin:%s@127.0.0.1:%d/%s"
    substream: "rtsp://admin:%s@127.0.0.1:%d/sub"
    transport: tcp
  pushed: {source: publish, publishUser: cam, publishPass: %q}
  piped:
    source: "exec:ffmpeg -hide_banner -loglevel error -rtsp_transport tcp -i rtsp://viewer:%s@127.0.0.1:%d/x -c copy -f h264 -"
  demo1: {source: demo}
%s`, tokenKey, rtspPort, aliceHash, guardHash, camPw, closed, path, subPw, closed, pubPw, execPw, closed, extra)
	}
	s := startServer(t, cfg("stream1", ""))
	rec := &recorder{t: t}
	get := func(path, user, pw string) (int, string) { return rec.do("GET", s.URL+path, user, pw) }

	// A publisher with the right password, and one with a wrong one.
	pub := startPublishProc(t, "ffmpeg", publishFFmpegArgs(fmt.Sprintf("rtsp://cam:%s@127.0.0.1:%d/pushed", pubPw, rtspPort))...)
	bad := startPublishProc(t, "ffmpeg", publishFFmpegArgs(fmt.Sprintf("rtsp://cam:%s@127.0.0.1:%d/pushed", wrongPw, rtspPort))...)
	waitFor(t, 20*time.Second, "pushed and demo1 live, gate offline", func() bool {
		_, body := get("/api/v1/cameras", "alice", alicePw)
		return strings.Count(body, `"state": "live"`) >= 2 && strings.Contains(body, `"state": "offline"`)
	})
	waitFor(t, 10*time.Second, "the bad publisher to be refused", func() bool { return !bad.running() })
	_ = pub

	// Every route, as each kind of client.
	for _, cam := range []string{"gate", "pushed", "piped", "demo1"} {
		for _, path := range routesOf(cam) {
			get(path, "alice", alicePw)
			get(path, "guard", guardPw)
			get(path, "alice", wrongPw)
			get(path, "", "")
		}
	}
	// HLS all the way down: master, media, blocking reload, a part.
	for _, cam := range []string{"pushed", "demo1"} {
		_, master := get("/cams/"+cam+"/index.m3u8", "alice", alicePw)
		media := reMediaURI.FindString(master)
		_, pl := get("/cams/"+cam+"/"+media, "alice", alicePw)
		msn, part := nextPart(pl)
		get(fmt.Sprintf("/cams/%s/%s?_HLS_msn=%d&_HLS_part=%d", cam, media, msn, part), "alice", alicePw)
		if m := rePartURI.FindStringSubmatch(pl); m != nil {
			get("/cams/"+cam+"/"+m[1], "alice", alicePw)
		}
	}
	// A view link, and what it opens.
	_, body := rec.do("POST", s.URL+"/api/v1/cameras/demo1/link?ttl=1h", "alice", alicePw)
	token := between(body, `"token": "`, `"`)
	get("/cams/demo1/?token="+token, "", "")
	_, master := get("/cams/demo1/index.m3u8?token="+token, "", "")
	get("/cams/demo1/"+reMediaURI.FindString(master), "", "")
	get("/api/v1/cameras/demo1?token="+token, "", "")
	get("/cams/gate/?token="+token, "", "")

	// Admin writes: restart, a good reload (the camera moves), a bad one
	// (the password pasted under a misspelt key), one by SIGHUP.
	rec.do("POST", s.URL+"/api/v1/cameras/gate/restart", "alice", alicePw)
	writeConfig(t, s, cfg("stream2", ""))
	rec.do("POST", s.URL+"/api/v1/reload", "alice", alicePw)
	writeConfig(t, s, cfg("stream2", fmt.Sprintf("  typo: {sorce: \"rtsp://admin:%s@127.0.0.1/x\"}\n", camPw)))
	code, _ := rec.do("POST", s.URL+"/api/v1/reload", "alice", alicePw)
	if code != 400 {
		t.Errorf("reload of a bad file: %d, want 400", code)
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(2 * time.Second) // the file watcher sees it too
	get("/metrics", "alice", alicePw)
	get("/api/v1/cameras", "alice", alicePw)

	// -check on the bad file prints its mistakes.
	out, _ := runOut(binary, "-check", "-config", s.Path)
	rec.all.WriteString(out)

	everything := rec.all.String() + s.logs.String()
	if !strings.Contains(s.logs.String(), "config problem") || !strings.Contains(everything, "xxxxx@127.0.0.1") {
		t.Fatalf("the test did not drive what it should (no rejected reload, or no redacted source shown)")
	}
	hits := 0
	for _, secret := range []string{camPw, subPw, execPw, pubPw, alicePw, guardPw, wrongPw, tokenKey, aliceHash, guardHash} {
		if n := strings.Count(everything, secret); n > 0 {
			hits += n
			i := strings.Index(everything, secret)
			t.Errorf("%q appears %d times, first in: %q", secret, n, everything[max(0, i-200):min(len(everything), i+100)])
		}
	}
	t.Logf("%d requests, %d bytes of answers and %d bytes of log searched for 10 secrets: %d hits",
		strings.Count(rec.all.String(), " -> "), rec.all.Len(), len(s.logs.String()), hits)
	if os.Getenv("RTSP2HLS_LEAK_DUMP") != "" {
		os.WriteFile(os.Getenv("RTSP2HLS_LEAK_DUMP"), []byte(everything), 0o644)
	}
}

func between(s, from, to string) string {
	_, after, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, to)
	return v
}

// runOut runs a command and returns its combined output.
func runOut(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
