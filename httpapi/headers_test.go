package httpapi

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestSecurityHeaders(t *testing.T) {
	o := accessOptions(t)
	o.Users = nil
	h := Handler(newAccessCams(), o)
	for _, p := range []string{"/", "/walls/front", "/cams/a/", "/api/v1/cameras", "/cams/zz/", "/assets/app.js"} {
		rec := req(t, h, "GET", p, "", "")
		hd := rec.Header()
		csp := hd.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "media-src 'self' blob:", "worker-src 'self' blob:",
			"frame-ancestors 'self'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: CSP %q allows unsafe things", p, csp)
		}
		if got := hd.Get("X-Frame-Options"); got != "SAMEORIGIN" {
			t.Errorf("GET %s: X-Frame-Options %q", p, got)
		}
		if got := hd.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q", p, got)
		}
		if got := hd.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("GET %s: Referrer-Policy %q", p, got)
		}
	}
	// HLS files: the headers that matter for any answer, not the page's.
	rec := req(t, h, "GET", "/cams/a/index.m3u8", "", "")
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("HLS headers: %v", rec.Header())
	}
	// 401 answers have them too.
	rec = req(t, Handler(newAccessCams(), accessOptions(t)), "GET", "/cams/a/", "", "")
	if rec.Code != 401 || rec.Header().Get("Content-Security-Policy") == "" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("401 headers: %d %v", rec.Code, rec.Header())
	}

	// Other sites allowed to frame the pages.
	o.FrameAncestors = []string{"https://intranet.example", "https://bad.example; script-src *"}
	h.Update(o)
	rec = req(t, h, "GET", "/cams/a/", "", "")
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.HasSuffix(csp, "frame-ancestors 'self' https://intranet.example") {
		t.Errorf("CSP with frameAncestors: %q", csp)
	}
	if got := rec.Header().Get("X-Frame-Options"); got != "" {
		t.Errorf("X-Frame-Options with frameAncestors: %q", got)
	}
	o.FrameAncestors = []string{"*"}
	h.Update(o)
	if csp := req(t, h, "GET", "/", "", "").Header().Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors *") {
		t.Errorf("CSP with frameAncestors *: %q", csp)
	}
}

func TestCORS(t *testing.T) {
	o := accessOptions(t)
	cams := newAccessCams()
	h := Handler(cams, o)
	// None by default.
	rec := req(t, h, "GET", "/cams/a/index.m3u8", "alice", alicePass, "Origin", "https://other.example")
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("no allowOrigins: ACAO %q", got)
	}
	rec = req(t, h, "OPTIONS", "/cams/a/index.m3u8", "", "", "Origin", "https://other.example", "Access-Control-Request-Method", "GET")
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" || rec.Code == 204 {
		t.Errorf("no allowOrigins, preflight: %d, ACAO %q", rec.Code, got)
	}

	o.AllowOrigins = []string{"https://ok.example"}
	h.Update(o)
	rec = req(t, h, "GET", "/cams/a/index.m3u8", "alice", alicePass, "Origin", "https://ok.example")
	hd := rec.Header()
	if hd.Get("Access-Control-Allow-Origin") != "https://ok.example" || hd.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("allowed origin: %v", hd)
	}
	// The segmenter's Vary stays, and so does Origin.
	if v := hd.Values("Vary"); !slices.Contains(v, "Origin") || !slices.Contains(v, "Accept-Encoding") {
		t.Errorf("Vary %q", v)
	}
	rec = req(t, h, "GET", "/api/v1/cameras", "alice", alicePass, "Origin", "https://evil.example")
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" || !slices.Contains(rec.Header().Values("Vary"), "Origin") {
		t.Errorf("other origin: ACAO %q, Vary %q", got, rec.Header().Values("Vary"))
	}

	// Preflight: no login needed, GET and HEAD only, allowed origins only.
	rec = req(t, h, "OPTIONS", "/cams/a/index.m3u8", "", "", "Origin", "https://ok.example",
		"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization,range")
	hd = rec.Header()
	if rec.Code != 204 || hd.Get("Access-Control-Allow-Origin") != "https://ok.example" ||
		hd.Get("Access-Control-Allow-Headers") != "Authorization, Range" || hd.Get("Access-Control-Allow-Methods") != "GET, HEAD" {
		t.Errorf("preflight: %d %v", rec.Code, hd)
	}
	for _, c := range [][2]string{{"https://ok.example", "POST"}, {"https://evil.example", "GET"}} {
		rec = req(t, h, "OPTIONS", "/api/v1/reload", "", "", "Origin", c[0], "Access-Control-Request-Method", c[1])
		if rec.Code != 403 || rec.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight %s from %s: %d %v", c[1], c[0], rec.Code, rec.Header())
		}
	}

	// "*": any origin, echoed, without credentials.
	o.AllowOrigins = []string{"*"}
	h.Update(o)
	rec = req(t, h, "GET", "/api/v1/cameras/a", "alice", alicePass, "Origin", "https://any.example")
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://any.example" || rec.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("any origin: %v", rec.Header())
	}
	if got := rec.Header().Get("Access-Control-Expose-Headers"); got != serverTimeHeader {
		t.Errorf("Expose-Headers %q", got)
	}
}

func TestAssetsNoTraversal(t *testing.T) {
	o := accessOptions(t)
	o.Users = nil
	h := Handler(newAccessCams(), o)
	for _, target := range []string{
		"/assets/",
		"/assets",
		"/assets/../server.go",
		"/assets/../../go.mod",
		"/assets/%2e%2e/%2e%2e/go.mod",
		"/assets/%2e%2e%2f%2e%2e%2fgo.mod",
		"/assets/..%2f..%2fgo.mod",
		"/assets/..%5c..%5cgo.mod",
		"/assets/.%2e/player.go",
		"/assets/%2fetc%2fpasswd",
		"/assets//etc/passwd",
		"/assets/./app.js/../../player.go",
		"/assets/app.js/",
		"/assets/assets/app.js",
		"/cams/%2e%2e/assets/app.js",
	} {
		r := httptest.NewRequest("GET", target, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.String()
		switch {
		case rec.Code == http.StatusMovedPermanently || rec.Code == http.StatusTemporaryRedirect:
			// The mux sends unclean paths to their clean form, which is
			// then asked for afresh (and is outside /assets/).
			if loc := rec.Header().Get("Location"); strings.Contains(loc, "..") {
				t.Errorf("GET %s: redirect to %q", target, loc)
			}
			continue
		case rec.Code != 404 && rec.Code != 400:
			t.Errorf("GET %s: %d, want 404 or 400", target, rec.Code)
		}
		for _, leak := range []string{"module github.com", "package ", "root:", "<html", "<a href"} {
			if strings.Contains(body, leak) {
				t.Errorf("GET %s: body has %q: %.80q", target, leak, body)
			}
		}
	}
}
