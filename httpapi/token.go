package httpapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rtsp2hls/rtsp2hls/player"
)

// View links: /cams/{name}/?token=TOKEN lets whoever has the link watch
// one camera (and its substream) until the token expires, without a user.
// TOKEN is base64url(payload) "." base64url(HMAC-SHA256(secret, payload)),
// both without padding, the payload being JSON {"cam":NAME,"exp":UNIX}.
//
// The camera page carries the token on every request it makes (assets,
// API polls, playlists, parts and segments): the server puts it in the
// page's asset URLs and in the URIs of the playlists it answers to a
// request authorized by a token, and app.js in the URLs it builds.

// tokenParam is the query parameter that carries a view token.
const tokenParam = "token"

// maxTokenLen bounds what is decoded of a token: a real one is about 100
// characters.
const maxTokenLen = 1024

// Errors of VerifyViewToken.
var (
	ErrTokenMalformed = errors.New("malformed view token")
	ErrTokenSignature = errors.New("view token has a bad signature")
	ErrTokenExpired   = errors.New("view token has expired")
)

type tokenPayload struct {
	Cam string `json:"cam"`
	Exp int64  `json:"exp"` // Unix seconds
}

// SignViewToken returns a view token for camera that is valid until
// expires (to the second), signed with secret (config.TokenSecret).
func SignViewToken(secret []byte, camera string, expires time.Time) string {
	payload, _ := json.Marshal(tokenPayload{Cam: camera, Exp: expires.Unix()}) // cannot fail
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(tokenMAC(secret, payload))
}

// VerifyViewToken checks token's signature with secret and its expiry
// against now, and returns the camera it is for and when it expires. The
// signature is compared in constant time, before the payload is looked at.
func VerifyViewToken(secret []byte, token string, now time.Time) (camera string, expires time.Time, err error) {
	if len(secret) == 0 || token == "" || len(token) > maxTokenLen {
		return "", time.Time{}, ErrTokenMalformed
	}
	p64, s64, ok := strings.Cut(token, ".")
	if !ok {
		return "", time.Time{}, ErrTokenMalformed
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p64)
	sig, err2 := enc.DecodeString(s64)
	if err1 != nil || err2 != nil {
		return "", time.Time{}, ErrTokenMalformed
	}
	if !hmac.Equal(sig, tokenMAC(secret, payload)) {
		return "", time.Time{}, ErrTokenSignature
	}
	var p tokenPayload
	if err := json.Unmarshal(payload, &p); err != nil || p.Cam == "" || p.Exp <= 0 {
		return "", time.Time{}, ErrTokenMalformed
	}
	expires = time.Unix(p.Exp, 0)
	if !now.Before(expires) {
		return "", time.Time{}, ErrTokenExpired
	}
	return p.Cam, expires, nil
}

func tokenMAC(secret, payload []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(payload)
	return m.Sum(nil)
}

// queryToken returns the value of the token parameter in a raw query, ""
// when there is none.
func queryToken(rawQuery string) string {
	if !strings.Contains(rawQuery, tokenParam+"=") {
		return "" // the usual case, without parsing
	}
	for q := rawQuery; q != ""; {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if k, v, _ := strings.Cut(kv, "="); k == tokenParam {
			if s, err := url.QueryUnescape(v); err == nil {
				return s
			}
			return v
		}
	}
	return ""
}

// withoutToken returns rawQuery without its token parameters, leaving the
// rest as it was: the segmenter's shared answers are keyed by the query,
// so every viewer's _HLS_msn=5&_HLS_part=1 must read the same.
func withoutToken(rawQuery string) string {
	if !strings.Contains(rawQuery, tokenParam+"=") {
		return rawQuery
	}
	var b strings.Builder
	for q := rawQuery; q != ""; {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if k, _, _ := strings.Cut(kv, "="); k == tokenParam || kv == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv)
	}
	return b.String()
}

// serveCameraPage writes a camera's page. Opened with a view token, the
// page loads its assets with it.
func serveCameraPage(w http.ResponseWriter, r *http.Request) {
	if tok := viewerOf(r).tokenOrEmpty(); tok != "" {
		player.ServeCameraWithToken(w, r, tok)
		return
	}
	player.ServeCamera(w, r)
}

// redirectWithQuery redirects r to path (301), keeping its query: a view
// link's token, a wall's ?cams= and ?grid=.
func redirectWithQuery(w http.ResponseWriter, r *http.Request, path string) {
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, path, http.StatusMovedPermanently)
}

// serveHLS serves a camera's HLS file with h. The token parameter is
// taken out of the query first. When a view token authorized the
// request, the URIs in a playlist get the token added, so that every
// player (Safari's own HLS included) asks for the next files with it.
func serveHLS(w http.ResponseWriter, r *http.Request, h http.Handler) {
	if q := withoutToken(r.URL.RawQuery); q != r.URL.RawQuery {
		r = r.WithContext(r.Context()) // a shallow copy: path values stay
		u := *r.URL
		u.RawQuery = q
		r.URL = &u
	}
	// The segmenter sets Vary of its own, which must not drop CORS's.
	vary := w.Header()["Vary"]
	tok := viewerOf(r).tokenOrEmpty()
	if tok == "" || !strings.HasSuffix(r.URL.Path, ".m3u8") {
		if len(vary) > 0 {
			w = &varyWriter{ResponseWriter: w, vary: vary}
		}
		h.ServeHTTP(w, r)
		return
	}
	// The playlist is rewritten, so have it uncompressed.
	if r.Header.Get("Accept-Encoding") != "" {
		r = r.WithContext(r.Context())
		r.Header = r.Header.Clone()
		r.Header.Del("Accept-Encoding")
	}
	rec := &playlistRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	body := rec.body.Bytes()
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	if rec.code == http.StatusOK && rec.header.Get("Content-Encoding") == "" {
		body = tokenizePlaylist(body, tok)
		rec.header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	dst := w.Header()
	for k, v := range rec.header {
		dst[k] = v
	}
	addVary(dst, vary)
	// A playlist with a token in it is for this viewer alone.
	dst.Set("Cache-Control", "private, no-store")
	w.WriteHeader(rec.code)
	if r.Method != http.MethodHead {
		w.Write(body) //nolint:errcheck // the client went away
	}
}

// playlistRecorder holds a playlist answer until it is complete.
type playlistRecorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (p *playlistRecorder) Header() http.Header { return p.header }

func (p *playlistRecorder) WriteHeader(code int) {
	if p.code == 0 {
		p.code = code
	}
}

func (p *playlistRecorder) Write(b []byte) (int, error) {
	if p.code == 0 {
		p.code = http.StatusOK
	}
	return p.body.Write(b)
}

// tokenizePlaylist adds token to every relative URI of an M3U8 playlist:
// the URI lines, and the URI="..." attributes of tags (EXT-X-MAP,
// EXT-X-PART, EXT-X-PRELOAD-HINT, EXT-X-RENDITION-REPORT, EXT-X-MEDIA).
func tokenizePlaylist(pl []byte, token string) []byte {
	param := tokenParam + "=" + url.QueryEscape(token)
	out := make([]byte, 0, len(pl)+len(pl)/4)
	for len(pl) > 0 {
		line := pl
		var rest []byte
		if i := bytes.IndexByte(pl, '\n'); i >= 0 {
			line, rest = pl[:i+1], pl[i+1:]
		} else {
			rest = nil
		}
		pl = rest
		body := bytes.TrimRight(line, "\r\n")
		eol := line[len(body):]
		switch {
		case len(bytes.TrimSpace(body)) == 0:
			out = append(out, line...)
		case body[0] == '#':
			for {
				i := bytes.Index(body, []byte(`URI="`))
				if i < 0 {
					break
				}
				i += len(`URI="`)
				j := bytes.IndexByte(body[i:], '"')
				if j < 0 {
					break
				}
				out = append(out, body[:i]...)
				out = appendTokenURI(out, string(body[i:i+j]), param)
				body = body[i+j:]
			}
			out = append(out, body...)
			out = append(out, eol...)
		default:
			out = appendTokenURI(out, string(bytes.TrimSpace(body)), param)
			out = append(out, eol...)
		}
	}
	return out
}

// appendTokenURI appends uri with param added to its query, or as is when
// it is absolute (another server: never send it the token) or already
// carries a token.
func appendTokenURI(out []byte, uri, param string) []byte {
	if uri == "" || strings.HasPrefix(uri, "//") || hasScheme(uri) || queryToken(queryOf(uri)) != "" {
		return append(out, uri...)
	}
	out = append(out, uri...)
	if strings.Contains(uri, "?") {
		out = append(out, '&')
	} else {
		out = append(out, '?')
	}
	return append(out, param...)
}

func queryOf(uri string) string {
	_, q, _ := strings.Cut(uri, "?")
	return q
}

// hasScheme reports whether uri starts with a URL scheme ("https:").
func hasScheme(uri string) bool {
	for i, c := range uri {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case c == ':':
			return i > 0
		default:
			return false
		}
	}
	return false
}

// varyWriter adds Vary values set before a handler that sets Vary itself
// (replacing the slice) back when it writes its header.
type varyWriter struct {
	http.ResponseWriter
	vary  []string
	wrote bool
}

func (v *varyWriter) WriteHeader(code int) {
	if !v.wrote {
		v.wrote = true
		addVary(v.ResponseWriter.Header(), v.vary)
	}
	v.ResponseWriter.WriteHeader(code)
}

func (v *varyWriter) Write(b []byte) (int, error) {
	if !v.wrote {
		v.WriteHeader(http.StatusOK)
	}
	return v.ResponseWriter.Write(b)
}

func (v *varyWriter) Unwrap() http.ResponseWriter { return v.ResponseWriter }

// addVary adds the values of vary that h's Vary lacks.
func addVary(h http.Header, vary []string) {
	have := h["Vary"]
	for _, want := range vary {
		if !slices.Contains(have, want) {
			h["Vary"] = append(h["Vary"], want)
			have = h["Vary"]
		}
	}
}
