// Package player holds the browser side of rtsp2hls: the wall page, the
// single-camera page and their static assets (CSS, JS and the bundled
// hls.js), all embedded in the binary so a deployment is one file.
//
// hls.min.js is not committed: the build copies it from node_modules into
// assets/ before `go build` (see package.json). The embed pattern covers the
// whole assets directory so the package still compiles without it; pages
// then fall back to native HLS (Safari) and HasHLSJS reports false.
package player

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"
)

//go:embed assets
var embedded embed.FS

//go:embed pages/wall.html
var wallHTML []byte

//go:embed pages/camera.html
var cameraHTML []byte

// assetPrefix is where the server mounts Assets(); the pages refer to it.
const assetPrefix = "/assets/"

// hlsJSName is the file the build copies from node_modules/hls.js/dist.
const hlsJSName = "hls.min.js"

// asset is one embedded file with what is needed to answer for it.
type asset struct {
	data        []byte
	etag        string
	contentType string
}

// assets is built once at init: the embedded FS is immutable, so hashing and
// typing every file up front makes each request a map lookup.
var assets = loadAssets()

// contentTypes pins the types of the files we ship, rather than relying on
// the host's mime tables (which differ between distros and Windows).
var contentTypes = map[string]string{
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".json": "application/json",
	".map":  "application/json",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
}

func loadAssets() map[string]asset {
	sub, err := fs.Sub(embedded, "assets")
	if err != nil {
		panic(err) // "assets" is a constant, valid path
	}
	out := make(map[string]asset)
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		out[p] = asset{data: data, etag: etagOf(data), contentType: typeOf(p)}
		return nil
	})
	if err != nil {
		panic(err) // embedded files are always readable
	}
	return out
}

func etagOf(data []byte) string {
	sum := sha256.Sum256(data)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

func typeOf(name string) string {
	ext := path.Ext(name)
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	// Files without an extension (assets/README) are text; never let the
	// browser sniff something else out of them.
	return "text/plain; charset=utf-8"
}

// HasHLSJS reports whether hls.min.js was copied into assets/ before the
// build. Without it only browsers with native HLS (Safari) can play.
func HasHLSJS() bool {
	_, ok := assets[hlsJSName]
	return ok
}

// Assets returns a handler for GET/HEAD requests under /assets/. It strips
// the prefix itself, so it can be mounted as is at "GET /assets/". Unknown
// files and directories are 404: there is no listing.
//
// Responses carry a strong ETag and Cache-Control: no-cache, so a browser
// revalidates on every load (a cheap 304) and an upgraded binary's assets
// show up at once instead of after some max-age.
func Assets() http.Handler {
	return http.HandlerFunc(serveAsset)
}

func serveAsset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, assetPrefix)
	name = strings.TrimPrefix(name, "/") // also tolerate being mounted under StripPrefix
	a, ok := assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	// ServeContent answers If-None-Match (304), Range and HEAD for us; the
	// zero modtime keeps Last-Modified out, the ETag is the validator.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
}

// page is an HTML page with its validator, computed once.
type page struct {
	data    []byte
	etag    string
	private bool // for one viewer: Cache-Control: private, no-store
}

var (
	wallPage   = newPage(wallHTML)
	cameraPage = newPage(cameraHTML)
)

// hlsJSTag is how the pages load hls.js; see newPage.
var hlsJSTag = []byte(`<script src="` + assetPrefix + hlsJSName + `" defer></script>`)

// newPage drops the hls.js script tag from a build without hls.min.js: a
// request that can only 404 would just put errors in every browser console.
func newPage(html []byte) page {
	if !HasHLSJS() {
		html = bytes.Replace(html, hlsJSTag, nil, 1)
	}
	return page{data: html, etag: etagOf(html)}
}

// ServeWall writes the wall page: every camera in a grid.
func ServeWall(w http.ResponseWriter, r *http.Request) {
	servePage(w, r, wallPage)
}

// ServeCamera writes the page of one camera. The page takes the camera's
// name from location.pathname (/cams/{name}/), so the same bytes serve every
// camera; the caller checks that the camera exists first.
func ServeCamera(w http.ResponseWriter, r *http.Request) {
	preloadFirst(w, "")
	servePage(w, r, cameraPage)
}

// preloadFirst has the browser ask for the camera's first picture (the
// segmenter's first.mp4, shown by assets/first.js) as soon as it has the
// page's headers, before it has parsed a line of the page. first.js then
// fetches the same URL and gets this response.
func preloadFirst(w http.ResponseWriter, token string) {
	u := "first.mp4"
	if token != "" {
		u += "?token=" + url.QueryEscape(token)
	}
	w.Header().Add("Link", "<"+u+">; rel=preload; as=fetch; crossorigin=anonymous")
}

// assetRef is a reference to an asset in a page's markup.
var assetRef = regexp.MustCompile(`((?:src|href)="` + assetPrefix + `[^"?#]*)"`)

// ServeCameraWithToken writes the page of one camera opened with a view
// link (/cams/{name}/?token=...): its references to the assets carry the
// token, which the server wants for every request. The page is for this
// viewer alone, never stored.
func ServeCameraWithToken(w http.ResponseWriter, r *http.Request, token string) {
	if token == "" {
		ServeCamera(w, r)
		return
	}
	preloadFirst(w, token)
	q := html.EscapeString("?token=" + url.QueryEscape(token))
	data := assetRef.ReplaceAll(cameraPage.data, []byte(`${1}`+strings.ReplaceAll(q, "$", "$$")+`"`))
	servePage(w, r, page{data: data, etag: etagOf(data), private: true})
}

func servePage(w http.ResponseWriter, r *http.Request, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if p.private {
		h.Set("Cache-Control", "private, no-store")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("ETag", p.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(p.data))
}
