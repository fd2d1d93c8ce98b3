package player

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// mux mounts the handlers the way the server does.
func mux() *http.ServeMux {
	m := http.NewServeMux()
	m.Handle("GET /assets/", Assets())
	m.HandleFunc("GET /{$}", ServeWall)
	m.HandleFunc("GET /cams/{name}/{$}", ServeCamera)
	return m
}

func get(t *testing.T, h http.Handler, target string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestAssetsContentTypes(t *testing.T) {
	h := mux()
	for path, want := range map[string]string{
		"/assets/app.js":      "text/javascript; charset=utf-8",
		"/assets/style.css":   "text/css; charset=utf-8",
		"/assets/favicon.svg": "image/svg+xml",
		"/assets/README":      "text/plain; charset=utf-8",
	} {
		rec := get(t, h, path)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d, want 200", path, rec.Code)
			continue
		}
		if got := rec.Header().Get("Content-Type"); got != want {
			t.Errorf("%s: Content-Type %q, want %q", path, got, want)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("%s: Cache-Control %q, want no-cache", path, got)
		}
		if rec.Header().Get("ETag") == "" {
			t.Errorf("%s: no ETag", path)
		}
		if rec.Body.Len() == 0 {
			t.Errorf("%s: empty body", path)
		}
	}
}

func TestAssetsHLSJS(t *testing.T) {
	rec := get(t, mux(), "/assets/hls.min.js")
	if !HasHLSJS() {
		if rec.Code != http.StatusNotFound {
			t.Fatalf("hls.min.js not embedded but served with %d", rec.Code)
		}
		t.Skip("hls.min.js not embedded (run: cd player && npm ci && cp node_modules/hls.js/dist/hls.min.js assets/)")
	}
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if rec.Body.Len() < 100000 {
		t.Errorf("hls.min.js is only %d bytes", rec.Body.Len())
	}
}

func TestAssetsNotFound(t *testing.T) {
	h := mux()
	for _, path := range []string{
		"/assets/",
		"/assets/nope.js",
		"/assets/../player.go",
		"/assets/%2e%2e/player.go",
		"/assets/assets/app.js",
		"/assets/app.js/",
	} {
		rec := get(t, h, path)
		// ServeMux cleans ".." paths with a redirect; anything but a 200
		// with content is fine there, a listing or a file is not.
		if rec.Code == http.StatusOK {
			t.Errorf("%s: status 200, want 404; body %.80q", path, rec.Body.String())
		}
	}
	// Straight into the handler, bypassing ServeMux's path cleaning.
	for _, path := range []string{"/assets/", "/assets/nope.js", "/assets/../player.go", "/assets/."} {
		rec := get(t, Assets(), path)
		if rec.Code != http.StatusNotFound {
			t.Errorf("handler %s: status %d, want 404", path, rec.Code)
		}
	}
}

func TestAssetsRevalidation(t *testing.T) {
	h := mux()
	first := get(t, h, "/assets/app.js")
	etag := first.Header().Get("ETag")
	second := get(t, h, "/assets/app.js", "If-None-Match", etag)
	if second.Code != http.StatusNotModified {
		t.Fatalf("If-None-Match %s: status %d, want 304", etag, second.Code)
	}
}

func TestAssetsMethod(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "/assets/app.js", nil)
	rec := httptest.NewRecorder()
	Assets().ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: status %d, want 405", rec.Code)
	}
	req = httptest.NewRequest(http.MethodHead, "/assets/app.js", nil)
	rec = httptest.NewRecorder()
	Assets().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("HEAD: status %d, %d body bytes", rec.Code, rec.Body.Len())
	}
}

var (
	srcRE      = regexp.MustCompile(`(?i)(?:src|href)\s*=\s*"([^"]*)"`)
	externalRE = regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
)

func TestPages(t *testing.T) {
	h := mux()
	for _, path := range []string{"/", "/cams/demo1/"} {
		rec := get(t, h, path)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", path, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s: Cache-Control %q", path, cc)
		}
		body := rec.Body.String()
		for _, want := range []string{`src="/assets/app.js"`, `href="/assets/style.css"`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: page lacks %s", path, want)
			}
		}
		// hls.js is referenced exactly when it is there to be served.
		if got := strings.Contains(body, `src="/assets/hls.min.js"`); got != HasHLSJS() {
			t.Errorf("%s: page references hls.min.js: %v, embedded: %v", path, got, HasHLSJS())
		}
		if HasHLSJS() && strings.Index(body, `src="/assets/hls.min.js"`) > strings.Index(body, `src="/assets/app.js"`) {
			t.Errorf("%s: hls.min.js must load before app.js", path)
		}
		// Every referenced URL is ours: the pages must work on a LAN
		// without internet access.
		for _, m := range srcRE.FindAllStringSubmatch(body, -1) {
			u := m[1]
			if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
				t.Errorf("%s: reference %q is not a local absolute path", path, u)
				continue
			}
			if strings.HasPrefix(u, "/assets/") {
				if r := get(t, h, u); r.Code != http.StatusOK {
					t.Errorf("%s: referenced %s answers %d", path, u, r.Code)
				}
			}
		}
		if m := externalRE.FindString(body); m != "" {
			t.Errorf("%s: external URL %q in page", path, m)
		}
	}
}

// TestAssetsNoExternalURLs keeps our own JS and CSS free of CDN references
// (hls.min.js is third-party and has URLs in comments and strings).
func TestAssetsNoExternalURLs(t *testing.T) {
	for _, name := range []string{"app.js", "style.css"} {
		rec := get(t, Assets(), "/assets/"+name)
		b, _ := io.ReadAll(rec.Body)
		if m := externalRE.Find(b); m != nil {
			t.Errorf("%s: external URL %q", name, m)
		}
	}
}

func TestPageConditional(t *testing.T) {
	first := get(t, http.HandlerFunc(ServeWall), "/")
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on wall page")
	}
	if rec := get(t, http.HandlerFunc(ServeWall), "/", "If-None-Match", etag); rec.Code != http.StatusNotModified {
		t.Fatalf("wall with matching ETag: %d, want 304", rec.Code)
	}
	// The two pages must not share a validator.
	if get(t, http.HandlerFunc(ServeCamera), "/cams/x/").Header().Get("ETag") == etag {
		t.Fatal("wall and camera pages have the same ETag")
	}
}

func TestPagesExposeDataCamera(t *testing.T) {
	// The e2e check finds the players by this attribute.
	rec := get(t, Assets(), "/assets/app.js")
	if !strings.Contains(rec.Body.String(), "data-camera") {
		t.Fatal("app.js does not set data-camera on the videos")
	}
}

// TestPagesNoInlineCode keeps the pages within the server's Content
// Security Policy, which allows no inline script, style or handler.
func TestPagesNoInlineCode(t *testing.T) {
	inline := regexp.MustCompile(`(?i)<script(\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=|javascript:`)
	scriptTag := regexp.MustCompile(`(?i)<script[^>]*>`)
	for _, html := range [][]byte{wallHTML, cameraHTML} {
		if m := inline.Find(html); m != nil {
			t.Errorf("inline code in a page: %q", m)
		}
		for _, tag := range scriptTag.FindAll(html, -1) {
			if !strings.Contains(string(tag), ` src="/assets/`) {
				t.Errorf("script without src: %q", tag)
			}
		}
	}
}

func TestCameraPageWithToken(t *testing.T) {
	const tok = "eyJjYW0iOiJhIn0.c2ln-_x"
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ServeCameraWithToken(w, r, tok) })
	rec := get(t, h, "/cams/a/?token="+tok)
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	refs := srcRE.FindAllStringSubmatch(body, -1)
	if len(refs) < 3 {
		t.Fatalf("page has %d references", len(refs))
	}
	for _, m := range refs {
		if strings.HasPrefix(m[1], "/assets/") && !strings.HasSuffix(m[1], "?token="+tok) {
			t.Errorf("asset reference %q lacks the token", m[1])
		}
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "private, no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	// Without a token, the usual page.
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ServeCameraWithToken(w, r, "") })
	if get(t, plain, "/cams/a/").Body.String() != get(t, http.HandlerFunc(ServeCamera), "/cams/a/").Body.String() {
		t.Error("empty token: not the usual page")
	}
	// The token is escaped for the URL and the markup.
	odd := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ServeCameraWithToken(w, r, `a"b&c$1`) })
	if b := get(t, odd, "/cams/a/").Body.String(); !strings.Contains(b, `app.js?token=a%22b%26c%241"`) {
		t.Errorf("odd token not escaped: %s", b)
	}
}

// The camera page has the browser fetch the first picture (first.mp4) from
// its headers, and runs first.js, which shows it, before hls.js.
func TestCameraPagePreloadsFirstPicture(t *testing.T) {
	rec := get(t, http.HandlerFunc(ServeCamera), "/cams/a/")
	if l := rec.Header().Get("Link"); l != "<first.mp4>; rel=preload; as=fetch; crossorigin=anonymous" {
		t.Errorf("Link %q", l)
	}
	body := rec.Body.String()
	js := strings.Index(body, `src="/assets/first.js"`)
	if js < 0 {
		t.Fatal("camera page does not load first.js")
	}
	if hls := strings.Index(body, `src="/assets/hls.min.js"`); HasHLSJS() && hls < js {
		t.Error("first.js must come before hls.min.js")
	}
	if get(t, mux(), "/assets/first.js").Code != http.StatusOK {
		t.Error("first.js is not served")
	}
	// With a view link, the preload carries the token, as first.js's own
	// request will (it must be the same URL to take the preloaded answer).
	const tok = "eyJjYW0iOiJhIn0.c2ln-_x"
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ServeCameraWithToken(w, r, tok) })
	if l := get(t, h, "/cams/a/?token="+tok).Header().Get("Link"); l != "<first.mp4?token="+tok+">; rel=preload; as=fetch; crossorigin=anonymous" {
		t.Errorf("with a token: Link %q", l)
	}
	// The wall does not use it.
	if l := get(t, mux(), "/").Header().Get("Link"); l != "" {
		t.Errorf("wall: Link %q", l)
	}
}
