package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/camera"
	"github.com/rtsp2hls/rtsp2hls/config"
	"github.com/rtsp2hls/rtsp2hls/ingest"
	"golang.org/x/crypto/bcrypt"
)

// Restart makes fakeCameras a Cameras; accessCams records restarts.
func (f fakeCameras) Restart(string) error { return nil }

func (f fakeCameras) Touch(name string) bool { _, ok := f.Status(name); return ok }

// accessCams are cameras a (with a substream), b and c. Their HLS
// handlers answer a playlist for .m3u8 files and record the query they
// were given.
type accessCams struct {
	fakeCameras
	mu        sync.Mutex
	queries   []string
	restarted []string
}

func newAccessCams() *accessCams {
	return &accessCams{fakeCameras: fakeCameras{
		"a": {Name: "a", Source: "rtsp://u:xxxxx@cam/a", State: ingest.StateLive,
			Substream: &camera.Status{Name: "a/sub", State: ingest.StateLive}},
		"b": {Name: "b", Source: "demo", State: ingest.StateLive},
	}}
}

const testPlaylist = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-MAP:URI=\"init.mp4\"\n" +
	"#EXT-X-PART:DURATION=0.2,URI=\"part1.mp4\",INDEPENDENT=YES\n#EXTINF:1.0,\nseg1.mp4\n" +
	"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part2.mp4\"\n"

func (c *accessCams) hls(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.queries = append(c.queries, r.URL.RawQuery)
		c.mu.Unlock()
		file := r.PathValue("file")
		if strings.HasSuffix(file, ".m3u8") {
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
			w.Header().Set("Vary", "Accept-Encoding")
			io.WriteString(w, testPlaylist)
			return
		}
		io.WriteString(w, "hls "+name+" "+file)
	})
}

func (c *accessCams) HLS(name string) (http.Handler, bool) {
	if _, ok := c.fakeCameras[name]; !ok {
		return nil, false
	}
	return c.hls(name), true
}

func (c *accessCams) SubstreamHLS(name string) (http.Handler, bool) {
	if st, ok := c.fakeCameras[name]; !ok || st.Substream == nil {
		return nil, false
	}
	return c.hls(name + "/sub"), true
}

func (c *accessCams) Restart(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.restarted = append(c.restarted, name)
	if name == "b" {
		return errors.New("restart b: dial rtsp://admin:topsecret@10.0.0.9/: refused")
	}
	return nil
}

func (c *accessCams) lastQuery() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queries) == 0 {
		return "<none>"
	}
	return c.queries[len(c.queries)-1]
}

const (
	adminPass  = "admin-PASSWORD-1"
	alicePass  = "alice-PASSWORD-2"
	testSecret = "test-secret-0123456789-abcdefghijklmnop"
)

var (
	hashOnce            sync.Once
	adminHash, aliceHsh string
)

func hashes(t *testing.T) (string, string) {
	t.Helper()
	hashOnce.Do(func() {
		a, err1 := bcrypt.GenerateFromPassword([]byte(adminPass), bcrypt.MinCost)
		b, err2 := bcrypt.GenerateFromPassword([]byte(alicePass), bcrypt.MinCost)
		if err1 != nil || err2 != nil {
			panic("bcrypt")
		}
		adminHash, aliceHsh = string(a), string(b)
	})
	return adminHash, aliceHsh
}

// accessOptions: admin (every camera), alice (camera a only), walls
// front (b, a), bonly (b) and one (a), view links on.
func accessOptions(t *testing.T) Options {
	ah, bh := hashes(t)
	return Options{
		Walls: []config.Wall{
			{Name: "front", Cameras: []string{"b", "a"}},
			{Name: "bonly", Cameras: []string{"b"}},
			{Name: "one", Cameras: []string{"a"}},
		},
		CA: []byte("-----BEGIN CERTIFICATE-----\n"),
		Users: []config.User{
			{Name: "admin", PasswordHash: ah, Cameras: []string{"*"}, Admin: true},
			{Name: "alice", PasswordHash: bh, Cameras: []string{"a"}},
		},
		TokenSecret: testSecret,
		Reload:      func() error { return nil },
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, "rtsp2hls_up 1\n")
		}),
		Version:    "v1.2.3",
		ConfigPath: "/etc/rtsp2hls/config.yml",
		Started:    time.Now().Add(-time.Minute),
	}
}

// req makes a request of h. user "" sends no credentials; hdr are
// header name, value pairs.
func req(t *testing.T, h http.Handler, method, target, user, pass string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	if user != "" {
		r.SetBasicAuth(user, pass)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// allRoutes is every route of Handler, with a request for each.
var allRoutes = []struct{ method, path string }{
	{"GET", "/"},
	{"GET", "/walls/front"},
	{"GET", "/walls/front/"},
	{"GET", "/cams/a"},
	{"GET", "/cams/a/"},
	{"GET", "/cams/a/index.m3u8"},
	{"GET", "/cams/a/part1.mp4"},
	{"GET", "/cams/a/sub/index.m3u8"},
	{"GET", "/assets/app.js"},
	{"GET", "/assets/style.css"},
	{"GET", "/ca.pem"},
	{"GET", "/api/v1/cameras"},
	{"GET", "/api/v1/cameras/a"},
	{"GET", "/api/v1/walls"},
	{"GET", "/api/v1/walls/front"},
	{"GET", "/api/v1/server"},
	{"GET", "/api/v1/nosuch"},
	{"GET", "/metrics"},
	{"GET", "/nosuch"},
	{"HEAD", "/cams/a/index.m3u8"},
	{"POST", "/api/v1/reload"},
	{"POST", "/api/v1/cameras/a/restart"},
	{"POST", "/api/v1/cameras/a/link"},
	{"DELETE", "/api/v1/cameras/a"},
}

func TestEveryRouteNeedsLogin(t *testing.T) {
	h := Handler(newAccessCams(), accessOptions(t))
	for _, rt := range allRoutes {
		for _, cred := range [][2]string{{"", ""}, {"alice", "Wr0ng-Pa55"}, {"nobody", alicePass}, {"alice", ""}} {
			rec := req(t, h, rt.method, rt.path, cred[0], cred[1])
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s %s as %q: %d, want 401", rt.method, rt.path, cred[0], rec.Code)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != `Basic realm="rtsp2hls", charset="UTF-8"` {
				t.Errorf("%s %s: WWW-Authenticate %q", rt.method, rt.path, got)
			}
			if cred[1] != "" && strings.Contains(rec.Body.String(), cred[1]) {
				t.Errorf("%s %s: 401 echoes the password: %q", rt.method, rt.path, rec.Body)
			}
			if strings.HasPrefix(rt.path, "/api/") && !strings.Contains(rec.Body.String(), `"error"`) {
				t.Errorf("%s %s: 401 is not JSON: %q", rt.method, rt.path, rec.Body)
			}
		}
		// And every route opens to the admin (404 for the unknown ones).
		rec := req(t, h, rt.method, rt.path, "admin", adminPass)
		if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
			t.Errorf("%s %s as admin: %d %s", rt.method, rt.path, rec.Code, rec.Body)
		}
	}
	if rec := req(t, h, "GET", "/healthz", "", ""); rec.Code != 200 || rec.Body.String() != "ok\n" {
		t.Errorf("/healthz without login: %d %q", rec.Code, rec.Body)
	}
}

func TestNoUsersIsOpen(t *testing.T) {
	o := accessOptions(t)
	o.Users = nil
	h := Handler(newAccessCams(), o)
	for _, rt := range allRoutes {
		rec := req(t, h, rt.method, rt.path, "", "")
		if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
			t.Errorf("%s %s without users: %d", rt.method, rt.path, rec.Code)
		}
	}
	// A bad token changes nothing when everything is open, and is not
	// passed to the HLS handler.
	cams := newAccessCams()
	h = Handler(cams, o)
	if rec := req(t, h, "GET", "/cams/a/index.m3u8?token=junk&_HLS_msn=3", "", ""); rec.Code != 200 {
		t.Errorf("open server, bad token: %d", rec.Code)
	}
	if q := cams.lastQuery(); q != "_HLS_msn=3" {
		t.Errorf("HLS handler got query %q", q)
	}
}

func TestUserSeesOnlyTheirCameras(t *testing.T) {
	h := Handler(newAccessCams(), accessOptions(t))
	alice := func(path string) *httptest.ResponseRecorder { return req(t, h, "GET", path, "alice", alicePass) }
	for _, p := range []string{"/cams/a/", "/cams/a/index.m3u8", "/cams/a/sub/index.m3u8", "/api/v1/cameras/a",
		"/walls/front", "/walls/one", "/api/v1/walls/one", "/", "/assets/app.js", "/api/v1/server"} {
		if rec := alice(p); rec.Code != 200 {
			t.Errorf("alice GET %s: %d %s", p, rec.Code, rec.Body)
		}
	}
	// b exists, but alice is told what she would be told of a camera
	// that does not: its name does not leak.
	for _, p := range []string{"/cams/b/", "/cams/b/index.m3u8", "/cams/b/sub/index.m3u8", "/cams/b/x.mp4",
		"/api/v1/cameras/b", "/walls/bonly", "/api/v1/walls/bonly"} {
		rec := alice(p)
		nx := alice(strings.Replace(p, "b", "zz", 1))
		if rec.Code != 404 || nx.Code != 404 || rec.Body.String() != nx.Body.String() {
			t.Errorf("alice GET %s: %d %q; unknown: %d %q", p, rec.Code, rec.Body, nx.Code, nx.Body)
		}
	}
	var list []camera.Status
	json.Unmarshal(alice("/api/v1/cameras").Body.Bytes(), &list)
	if len(list) != 1 || list[0].Name != "a" {
		t.Errorf("alice's camera list: %+v", list)
	}
	var walls []wallJSON
	json.Unmarshal(alice("/api/v1/walls").Body.Bytes(), &walls)
	want := []wallJSON{{"front", []string{"a"}, ""}, {"one", []string{"a"}, ""}}
	if !slices.EqualFunc(walls, want, func(a, b wallJSON) bool { return a.Name == b.Name && slices.Equal(a.Cameras, b.Cameras) }) {
		t.Errorf("alice's walls: %+v, want %+v", walls, want)
	}
	var front wallJSON
	json.Unmarshal(alice("/api/v1/walls/front").Body.Bytes(), &front)
	if !slices.Equal(front.Cameras, []string{"a"}) {
		t.Errorf("alice's wall front: %+v", front)
	}
	// The admin sees everything.
	json.Unmarshal(req(t, h, "GET", "/api/v1/cameras", "admin", adminPass).Body.Bytes(), &list)
	if len(list) != 2 {
		t.Errorf("admin's camera list: %+v", list)
	}
}

func TestAdminRoutes(t *testing.T) {
	cams := newAccessCams()
	o := accessOptions(t)
	var reloads atomic.Int32
	o.Reload = func() error { reloads.Add(1); return nil }
	h := Handler(cams, o)
	admin := []struct{ method, path string }{
		{"POST", "/api/v1/reload"},
		{"POST", "/api/v1/cameras/a/restart"},
		{"POST", "/api/v1/cameras/a/link?ttl=10m"},
		{"GET", "/metrics"},
	}
	for _, rt := range admin {
		rec := req(t, h, rt.method, rt.path, "alice", alicePass)
		if rec.Code != http.StatusForbidden {
			t.Errorf("alice %s %s: %d, want 403", rt.method, rt.path, rec.Code)
		}
		if rt.path != "/metrics" && !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("alice %s %s: 403 not JSON: %q", rt.method, rt.path, rec.Body)
		}
		if rec := req(t, h, rt.method, rt.path, "admin", adminPass); rec.Code != 200 {
			t.Errorf("admin %s %s: %d %s", rt.method, rt.path, rec.Code, rec.Body)
		}
	}
	if reloads.Load() != 1 || !slices.Equal(cams.restarted, []string{"a"}) {
		t.Errorf("reloads %d, restarted %v", reloads.Load(), cams.restarted)
	}
	if rec := req(t, h, "GET", "/metrics", "admin", adminPass); rec.Body.String() != "rtsp2hls_up 1\n" {
		t.Errorf("metrics: %q", rec.Body)
	}

	// Errors, in JSON, without passwords.
	rec := req(t, h, "POST", "/api/v1/cameras/b/restart", "admin", adminPass)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "topsecret") || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Errorf("failed restart: %d %q", rec.Code, rec.Body)
	}
	if rec := req(t, h, "POST", "/api/v1/cameras/zz/restart", "admin", adminPass); rec.Code != 404 {
		t.Errorf("restart of an unknown camera: %d", rec.Code)
	}
	// A write from another site's page (CSRF) is refused.
	if rec := req(t, h, "POST", "/api/v1/reload", "admin", adminPass, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"); rec.Code != 403 {
		t.Errorf("cross-site reload: %d", rec.Code)
	}

	o.Reload = func() error {
		return &config.Error{File: "config.yml", Problems: []config.Problem{{Line: 3, Msg: "cameras.x: bad source"}}}
	}
	h.Update(o)
	rec = req(t, h, "POST", "/api/v1/reload", "admin", adminPass)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"error": "config.yml:3: cameras.x: bad source"`) {
		t.Errorf("reload of a bad config: %d %s", rec.Code, rec.Body)
	}
	o.Reload = func() error { return errors.New("open rtsp://u:pw12345@h/: boom") }
	h.Update(o)
	rec = req(t, h, "POST", "/api/v1/reload", "admin", adminPass)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "pw12345") {
		t.Errorf("failed reload: %d %s", rec.Code, rec.Body)
	}
	o.Reload, o.Metrics = nil, nil
	h.Update(o)
	if rec := req(t, h, "POST", "/api/v1/reload", "admin", adminPass); rec.Code != 404 {
		t.Errorf("reload without Reload: %d", rec.Code)
	}
	if rec := req(t, h, "GET", "/metrics", "admin", adminPass); rec.Code != 404 {
		t.Errorf("metrics without Metrics: %d", rec.Code)
	}
}

func TestAdminListen(t *testing.T) {
	cams := newAccessCams()
	o := accessOptions(t)
	o.AdminListen = "127.0.0.1:9091"
	main := Handler(cams, o)
	adm := AdminHandler(cams, o)
	for _, rt := range []struct{ method, path string }{
		{"POST", "/api/v1/reload"},
		{"POST", "/api/v1/cameras/a/restart"},
		{"POST", "/api/v1/cameras/a/link"},
		{"GET", "/metrics"},
	} {
		if rec := req(t, main, rt.method, rt.path, "admin", adminPass); rec.Code != 404 {
			t.Errorf("main %s %s: %d, want 404", rt.method, rt.path, rec.Code)
		}
		if rec := req(t, adm, rt.method, rt.path, "", ""); rec.Code != 200 {
			t.Errorf("admin listener %s %s: %d %s", rt.method, rt.path, rec.Code, rec.Body)
		}
	}
	// The admin listener has no pages, HLS or viewer API.
	for _, p := range []string{"/", "/cams/a/", "/cams/a/index.m3u8", "/assets/app.js", "/api/v1/cameras"} {
		if rec := req(t, adm, "GET", p, "", ""); rec.Code != 404 {
			t.Errorf("admin listener GET %s: %d", p, rec.Code)
		}
	}
	if rec := req(t, adm, "GET", "/healthz", "", ""); rec.Code != 200 {
		t.Errorf("admin listener /healthz: %d", rec.Code)
	}
	var info serverJSON
	rec := req(t, adm, "GET", "/api/v1/server", "", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &info); err != nil || info.Version != "v1.2.3" ||
		info.ConfigPath != "/etc/rtsp2hls/config.yml" || info.UptimeSeconds < 59 || info.Started.IsZero() {
		t.Errorf("server info: %s (%v)", rec.Body, err)
	}
}

func TestMintViewLink(t *testing.T) {
	h := Handler(newAccessCams(), accessOptions(t))
	rec := req(t, h, "POST", "/api/v1/cameras/a/link?ttl=2h", "admin", adminPass)
	var link linkJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &link); err != nil || rec.Code != 200 {
		t.Fatalf("link: %d %s", rec.Code, rec.Body)
	}
	if d := time.Until(link.Expires); d < 2*time.Hour-time.Minute || d > 2*time.Hour {
		t.Errorf("expires in %v", d)
	}
	if link.URL != "/cams/a/?token="+link.Token {
		t.Errorf("url %q", link.URL)
	}
	cam, exp, err := VerifyViewToken([]byte(testSecret), link.Token, time.Now())
	if err != nil || cam != "a" || !exp.Equal(link.Expires) {
		t.Errorf("minted token: %q %v %v", cam, exp, err)
	}
	if rec := req(t, h, "GET", link.URL, "", ""); rec.Code != 200 {
		t.Errorf("minted link: %d", rec.Code)
	}
	for _, ttl := range []string{"0s", "-1h", "soon", "9000h"} {
		if rec := req(t, h, "POST", "/api/v1/cameras/a/link?ttl="+ttl, "admin", adminPass); rec.Code != 400 {
			t.Errorf("ttl %s: %d", ttl, rec.Code)
		}
	}
	if rec := req(t, h, "POST", "/api/v1/cameras/zz/link", "admin", adminPass); rec.Code != 404 {
		t.Errorf("link to an unknown camera: %d", rec.Code)
	}
	o := accessOptions(t)
	o.TokenSecret = ""
	h.Update(o)
	rec = req(t, h, "POST", "/api/v1/cameras/a/link", "admin", adminPass)
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "tokenSecret") {
		t.Errorf("link without a secret: %d %s", rec.Code, rec.Body)
	}
}

func TestAPIErrorsAreJSON(t *testing.T) {
	h := Handler(newAccessCams(), accessOptions(t))
	cases := []struct {
		method, path string
		code         int
		allow        string
	}{
		{"GET", "/api/v1/nosuch", 404, ""},
		{"GET", "/api/", 404, ""},
		{"GET", "/api/v2/cameras", 404, ""},
		{"DELETE", "/api/v1/cameras", 405, "GET, HEAD"},
		{"POST", "/api/v1/cameras/a", 405, "GET, HEAD"},
		{"GET", "/api/v1/reload", 405, "POST"},
		{"PUT", "/api/v1/cameras/a/restart", 405, "POST"},
	}
	for _, c := range cases {
		rec := req(t, h, c.method, c.path, "admin", adminPass)
		var e apiError
		if rec.Code != c.code || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == "" {
			t.Errorf("%s %s: %d %q, want %d with JSON", c.method, c.path, rec.Code, rec.Body, c.code)
		}
		if got := rec.Header().Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
}

func TestHotUpdate(t *testing.T) {
	o := accessOptions(t)
	users := o.Users
	o.Users = nil
	h := Handler(newAccessCams(), o)
	if rec := req(t, h, "GET", "/api/v1/cameras", "", ""); rec.Code != 200 {
		t.Fatalf("open: %d", rec.Code)
	}
	o.Users = users
	o.Walls = append(o.Walls, config.Wall{Name: "new", Cameras: []string{"a"}})
	h.Update(o)
	if rec := req(t, h, "GET", "/api/v1/cameras", "", ""); rec.Code != 401 {
		t.Errorf("after adding users: %d", rec.Code)
	}
	if rec := req(t, h, "GET", "/walls/new", "alice", alicePass); rec.Code != 200 {
		t.Errorf("new wall: %d", rec.Code)
	}
	// A user dropped by a reload is out at once, remembered login or not.
	o.Users = users[:1]
	h.Update(o)
	if rec := req(t, h, "GET", "/", "alice", alicePass); rec.Code != 401 {
		t.Errorf("removed user: %d", rec.Code)
	}
}

func TestCredentialsNeverLeave(t *testing.T) {
	o := accessOptions(t)
	h := Handler(newAccessCams(), o)
	secrets := []string{adminPass, alicePass, testSecret, o.Users[0].PasswordHash, o.Users[1].PasswordHash}
	for _, rt := range allRoutes {
		for _, who := range [][2]string{{"admin", adminPass}, {"alice", alicePass}, {"", ""}} {
			rec := req(t, h, rt.method, rt.path, who[0], who[1])
			all := rec.Body.String()
			for k, v := range rec.Header() {
				all += k + strings.Join(v, ",")
			}
			for _, s := range secrets {
				if strings.Contains(all, s) {
					t.Errorf("%s %s as %q: answer holds a secret", rt.method, rt.path, who[0])
				}
			}
		}
	}
}

func TestPasswordChecksAreRemembered(t *testing.T) {
	h := Handler(newAccessCams(), accessOptions(t))
	var calls atomic.Int32
	h.verify.compare = func(hash, pw []byte) error {
		calls.Add(1)
		return bcrypt.CompareHashAndPassword(hash, pw)
	}
	for i := range 5 {
		if rec := req(t, h, "GET", "/cams/a/index.m3u8", "alice", alicePass); rec.Code != 200 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("5 requests: %d bcrypt checks, want 1", n)
	}
	// Failures are remembered too, for a while.
	for range 5 {
		req(t, h, "GET", "/", "alice", "guess")
		req(t, h, "GET", "/", "mallory", "guess")
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("10 failed requests: %d bcrypt checks in all, want 3", n)
	}
	// A new password hash (reload) is checked afresh.
	o := accessOptions(t)
	nh, _ := bcrypt.GenerateFromPassword([]byte("guess"), bcrypt.MinCost)
	o.Users[1].PasswordHash = string(nh)
	h.Update(o)
	if rec := req(t, h, "GET", "/", "alice", "guess"); rec.Code != 200 {
		t.Errorf("new password: %d", rec.Code)
	}
	if rec := req(t, h, "GET", "/", "alice", alicePass); rec.Code != 401 {
		t.Errorf("old password after the change: %d", rec.Code)
	}
	// After the remembered time, check again.
	v := h.verify
	base := time.Now()
	v.now = func() time.Time { return base.Add(okTTL + time.Second) }
	before := calls.Load()
	req(t, h, "GET", "/", "alice", "guess")
	if calls.Load() != before+1 {
		t.Errorf("expired login not checked again")
	}
}

func TestConcurrentLoginsShareOneCheck(t *testing.T) {
	h := Handler(newAccessCams(), accessOptions(t))
	var calls atomic.Int32
	release := make(chan struct{})
	h.verify.compare = func(hash, pw []byte) error {
		calls.Add(1)
		<-release
		return bcrypt.CompareHashAndPassword(hash, pw)
	}
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range codes {
		wg.Go(func() { codes[i] = req(t, h, "GET", "/api/v1/cameras", "alice", alicePass).Code })
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("20 concurrent requests: %d bcrypt checks", n)
	}
	for i, c := range codes {
		if c != 200 {
			t.Errorf("request %d: %d", i, c)
		}
	}
}

func TestPasswordChecksAreBounded(t *testing.T) {
	v := newVerifier()
	v.wait = 50 * time.Millisecond
	var running, most atomic.Int32
	block := make(chan struct{})
	v.compare = func([]byte, []byte) error {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-block
		running.Add(-1)
		return bcrypt.ErrMismatchedHashAndPassword
	}
	var wg sync.WaitGroup
	var busy atomic.Int32
	for i := range 10 {
		wg.Go(func() {
			_, err := v.check(context.Background(), "u", "guess"+string(rune('a'+i)), noSuchUserHash)
			if errors.Is(err, errBusy) {
				busy.Add(1)
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	close(block)
	wg.Wait()
	if most.Load() > bcryptSlots {
		t.Errorf("%d bcrypt checks at once, want at most %d", most.Load(), bcryptSlots)
	}
	if busy.Load() != 10-bcryptSlots {
		t.Errorf("%d checks turned away, want %d", busy.Load(), 10-bcryptSlots)
	}
}

func TestBusyLoginIs503(t *testing.T) {
	h := Handler(newAccessCams(), accessOptions(t))
	h.verify.wait = time.Millisecond
	for range bcryptSlots {
		h.verify.slots <- struct{}{}
	}
	rec := req(t, h, "GET", "/", "alice", alicePass)
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Errorf("all slots taken: %d", rec.Code)
	}
}
