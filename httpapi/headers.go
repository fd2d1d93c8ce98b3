package httpapi

import (
	"net/http"
	"strings"

	"github.com/rtsp2hls/rtsp2hls/config"
)

// Security headers. Every answer gets X-Content-Type-Options: nosniff and
// Referrer-Policy: no-referrer (a view link's token is in the page's URL:
// it must not travel to other sites in a Referer). Every answer but the
// HLS files (which no browser renders as a document) gets the Content
// Security Policy and, unless config frameAncestors lets other sites
// frame the pages, X-Frame-Options: SAMEORIGIN.
//
// The policy allows the pages what they use and nothing more: scripts,
// styles, images and fetches from the server itself (no inline script or
// style), and blob: for the media and the worker of hls.js (MediaSource
// URLs, and its transmuxing worker).
const cspBase = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors "

type securityHeaders struct {
	csp          string
	frameOptions bool // X-Frame-Options: SAMEORIGIN, when only 'self' may frame
}

func newSecurityHeaders(frameAncestors []string) securityHeaders {
	anc := []string{"'self'"}
	for _, a := range frameAncestors {
		if a == config.AnyOrigin {
			anc = []string{"*"}
			break
		}
		// An origin has no space, ';' or ','; a value with any would
		// change the policy (config checks them; this is a backstop).
		if a != "" && !strings.ContainsAny(a, " \t\r\n;,'\"") {
			anc = append(anc, a)
		}
	}
	return securityHeaders{
		csp:          cspBase + strings.Join(anc, " "),
		frameOptions: len(anc) == 1,
	}
}

// set puts the headers for an answer to path into h.
func (s securityHeaders) set(h http.Header, path string) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if hlsFile(path) {
		return
	}
	h.Set("Content-Security-Policy", s.csp)
	if s.frameOptions {
		h.Set("X-Frame-Options", "SAMEORIGIN")
	}
}

// hlsFile reports whether path is that of an HLS file (/cams/NAME/FILE,
// /cams/NAME/sub/FILE), not of a camera's page (/cams/NAME/).
func hlsFile(path string) bool {
	rest, ok := strings.CutPrefix(path, "/cams/")
	if !ok {
		return false
	}
	_, file, _ := strings.Cut(rest, "/")
	return file != ""
}

// corsPolicy is config allowOrigins: which other sites' pages may read
// the server's answers (HLS files, API) with their scripts. With none, no
// answer has CORS headers and browsers keep other origins out.
type corsPolicy struct {
	any     bool            // "*": any origin, without credentials
	origins map[string]bool // origins allowed with credentials
}

func newCORS(allow []string) corsPolicy {
	var c corsPolicy
	for _, o := range allow {
		if o == config.AnyOrigin {
			c.any = true
			continue
		}
		if c.origins == nil {
			c.origins = map[string]bool{}
		}
		c.origins[strings.TrimSuffix(o, "/")] = true
	}
	return c
}

// handle sets the CORS headers of the answer to r, and answers r itself
// when it is a preflight (OPTIONS with Access-Control-Request-Method),
// returning true. Only GET and HEAD are allowed across origins, with the
// request headers Authorization and Range. A matched origin is echoed
// (never "*"), and allowed credentials only when config lists it.
func (c corsPolicy) handle(w http.ResponseWriter, r *http.Request) bool {
	if !c.any && len(c.origins) == 0 {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	explicit := origin != "" && c.origins[origin]
	allowed := explicit || (origin != "" && c.any)
	method := r.Header.Get("Access-Control-Request-Method")
	if r.Method == http.MethodOptions && origin != "" && method != "" {
		h.Set("Cache-Control", "no-store")
		if !allowed || (method != http.MethodGet && method != http.MethodHead) {
			http.Error(w, "cross-origin request not allowed", http.StatusForbidden)
			return true
		}
		c.allow(h, origin, explicit)
		h.Set("Access-Control-Allow-Methods", "GET, HEAD")
		h.Set("Access-Control-Allow-Headers", "Authorization, Range")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	if allowed {
		c.allow(h, origin, explicit)
		h.Set("Access-Control-Expose-Headers", serverTimeHeader)
	}
	return false
}

func (c corsPolicy) allow(h http.Header, origin string, credentials bool) {
	h.Set("Access-Control-Allow-Origin", origin)
	if credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}
