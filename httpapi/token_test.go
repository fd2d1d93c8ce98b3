package httpapi

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestViewTokenRoundTrip(t *testing.T) {
	secret := []byte(testSecret)
	now := time.Now()
	tok := SignViewToken(secret, "lobby", now.Add(time.Hour))
	if strings.ContainsAny(tok, "=+/ ") || strings.Count(tok, ".") != 1 {
		t.Errorf("token %q is not base64url.base64url", tok)
	}
	cam, exp, err := VerifyViewToken(secret, tok, now)
	if err != nil || cam != "lobby" || exp.Unix() != now.Add(time.Hour).Unix() {
		t.Fatalf("verify: %q %v %v", cam, exp, err)
	}
	if _, _, err := VerifyViewToken(secret, tok, now.Add(time.Hour+time.Second)); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("expired: %v", err)
	}
	if _, _, err := VerifyViewToken([]byte("another-secret-0123456789-abcdefgh"), tok, now); !errors.Is(err, ErrTokenSignature) {
		t.Errorf("other secret: %v", err)
	}
	// Another camera's payload with this signature.
	p64, s64, _ := strings.Cut(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(p64)
	forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "lobby", "vault", 1))) + "." + s64
	if _, _, err := VerifyViewToken(secret, forged, now); !errors.Is(err, ErrTokenSignature) {
		t.Errorf("forged payload: %v", err)
	}
	for _, bad := range []string{"", ".", "abc", tok + "x", "!!." + s64, p64 + ".", strings.Repeat("a", 2000) + "." + s64} {
		if _, _, err := VerifyViewToken(secret, bad, now); err == nil {
			t.Errorf("token %q verified", bad)
		}
	}
	if _, _, err := VerifyViewToken(nil, tok, now); err == nil {
		t.Errorf("no secret: token verified")
	}
}

func TestViewLinks(t *testing.T) {
	cams := newAccessCams()
	h := Handler(cams, accessOptions(t))
	secret := []byte(testSecret)
	tokA := SignViewToken(secret, "a", time.Now().Add(time.Hour))
	q := "token=" + url.QueryEscape(tokA)

	// The page, its assets, its API record and its HLS files.
	rec := req(t, h, "GET", "/cams/a/?"+q, "", "")
	if rec.Code != 200 {
		t.Fatalf("page with token: %d %s", rec.Code, rec.Body)
	}
	page := rec.Body.String()
	for _, ref := range []string{`src="/assets/app.js?` + q + `"`, `href="/assets/style.css?` + q + `"`} {
		if !strings.Contains(page, ref) {
			t.Errorf("page lacks %s", ref)
		}
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("page with token: Cache-Control %q", cc)
	}
	for _, p := range []string{"/cams/a/index.m3u8", "/cams/a/part1.mp4", "/cams/a/sub/index.m3u8", "/api/v1/cameras/a",
		"/assets/app.js", "/assets/style.css", "/assets/favicon.svg"} {
		if rec := req(t, h, "GET", p+"?"+q, "", ""); rec.Code != 200 {
			t.Errorf("GET %s with token: %d %s", p, rec.Code, rec.Body)
		}
	}
	// The redirect to the page keeps the token.
	if rec := req(t, h, "GET", "/cams/a?"+q, "", ""); rec.Code != 301 || rec.Header().Get("Location") != "/cams/a/?"+q {
		t.Errorf("redirect: %d %q", rec.Code, rec.Header().Get("Location"))
	}

	// Camera b is not a's: 404 as for a camera that does not exist.
	for _, p := range []string{"/cams/b/", "/cams/b/index.m3u8", "/cams/b/sub/index.m3u8", "/api/v1/cameras/b", "/cams/a%2Fsub/"} {
		if rec := req(t, h, "GET", p+"?"+q, "", ""); rec.Code != 404 {
			t.Errorf("GET %s with a's token: %d", p, rec.Code)
		}
	}
	// Nor does it open anything else.
	for _, rt := range []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/walls/one"}, {"GET", "/api/v1/cameras"}, {"GET", "/api/v1/walls"}, {"GET", "/api/v1/server"},
		{"GET", "/metrics"}, {"POST", "/api/v1/cameras/a/restart"}, {"POST", "/api/v1/cameras/a/link"}, {"GET", "/ca.pem"},
		{"GET", "/api/v1/cameras/a/restart"},
	} {
		if rec := req(t, h, rt.method, rt.path+"?"+q, "", ""); rec.Code != 401 {
			t.Errorf("%s %s with a token: %d, want 401", rt.method, rt.path, rec.Code)
		}
	}

	// Expired, tampered, signed with another secret, or with view links off.
	expired := SignViewToken(secret, "a", time.Now().Add(-time.Second))
	other := SignViewToken([]byte("another-secret-0123456789-abcdefgh"), "a", time.Now().Add(time.Hour))
	tampered := tokA[:len(tokA)-2] + "xx"
	for name, tok := range map[string]string{"expired": expired, "other secret": other, "tampered": tampered, "junk": "junk"} {
		for _, p := range []string{"/cams/a/", "/cams/a/index.m3u8", "/assets/app.js", "/api/v1/cameras/a"} {
			rec := req(t, h, "GET", p+"?token="+url.QueryEscape(tok), "", "")
			if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s token, GET %s: %d", name, p, rec.Code)
			}
		}
	}
	if rec := req(t, h, "GET", "/cams/a/?token="+url.QueryEscape(expired), "", ""); !strings.Contains(rec.Body.String(), "expired") {
		t.Errorf("expired link: %q", rec.Body)
	}
	// A user logged in gets in with a bad token.
	if rec := req(t, h, "GET", "/cams/a/index.m3u8?token="+url.QueryEscape(expired), "alice", alicePass); rec.Code != 200 {
		t.Errorf("expired token, valid user: %d", rec.Code)
	}
	o := accessOptions(t)
	o.TokenSecret = ""
	h.Update(o)
	if rec := req(t, h, "GET", "/cams/a/?"+q, "", ""); rec.Code != 401 {
		t.Errorf("view links off: %d", rec.Code)
	}
}

func TestViewLinkPlaylists(t *testing.T) {
	cams := newAccessCams()
	h := Handler(cams, accessOptions(t))
	tok := SignViewToken([]byte(testSecret), "a", time.Now().Add(time.Hour))
	q := "token=" + url.QueryEscape(tok)

	// The token is out of the query the segmenter sees, whatever its place:
	// its shared answers are keyed by the query.
	for target, want := range map[string]string{
		"/cams/a/stream.m3u8?" + q + "&_HLS_msn=5&_HLS_part=2": "_HLS_msn=5&_HLS_part=2",
		"/cams/a/stream.m3u8?_HLS_msn=5&" + q + "&_HLS_part=2": "_HLS_msn=5&_HLS_part=2",
		"/cams/a/part1.mp4?" + q:                               "",
		"/cams/a/sub/stream.m3u8?_HLS_msn=5&_HLS_part=2&" + q:  "_HLS_msn=5&_HLS_part=2",
	} {
		rec := req(t, h, "GET", target, "", "", "Accept-Encoding", "gzip")
		if rec.Code != 200 {
			t.Errorf("GET %s: %d", target, rec.Code)
		}
		if got := cams.lastQuery(); got != want {
			t.Errorf("GET %s: segmenter got query %q, want %q", target, got, want)
		}
	}

	// Every URI of a playlist gets the token.
	rec := req(t, h, "GET", "/cams/a/index.m3u8?"+q, "", "", "Accept-Encoding", "gzip")
	want := strings.NewReplacer(`init.mp4"`, `init.mp4?`+q+`"`, `part1.mp4"`, `part1.mp4?`+q+`"`,
		"seg1.mp4\n", "seg1.mp4?"+q+"\n", `part2.mp4"`, `part2.mp4?`+q+`"`).Replace(testPlaylist)
	if rec.Body.String() != want {
		t.Errorf("playlist:\n%s\nwant:\n%s", rec.Body, want)
	}
	if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(want)) {
		t.Errorf("Content-Length %s, want %d", cl, len(want))
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q", cc)
	}
	// A logged-in user's playlist is the segmenter's, untouched.
	if rec := req(t, h, "GET", "/cams/a/index.m3u8", "alice", alicePass); rec.Body.String() != testPlaylist {
		t.Errorf("user's playlist: %q", rec.Body)
	}
}

func TestTokenizePlaylist(t *testing.T) {
	in := "#EXTM3U\r\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",URI=\"audio.m3u8\"\r\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=1\r\nstream.m3u8?x=1\r\n" +
		"https://cdn.example/seg.mp4\r\n//cdn.example/seg2.mp4\r\nseg3.mp4?token=old\r\n" +
		"#EXT-X-RENDITION-REPORT:URI=\"../b/stream.m3u8\",LAST-MSN=3\r\n\r\nlast.mp4"
	want := "#EXTM3U\r\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",URI=\"audio.m3u8?token=T.k\"\r\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=1\r\nstream.m3u8?x=1&token=T.k\r\n" +
		"https://cdn.example/seg.mp4\r\n//cdn.example/seg2.mp4\r\nseg3.mp4?token=old\r\n" +
		"#EXT-X-RENDITION-REPORT:URI=\"../b/stream.m3u8?token=T.k\",LAST-MSN=3\r\n\r\nlast.mp4?token=T.k"
	if got := string(tokenizePlaylist([]byte(in), "T.k")); got != want {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
}

func TestQueryToken(t *testing.T) {
	for q, want := range map[string][2]string{
		"":                           {"", ""},
		"a=1":                        {"", "a=1"},
		"token=x.y":                  {"x.y", ""},
		"a=1&token=x%2Ey&b=2":        {"x.y", "a=1&b=2"},
		"mytoken=1&b=2":              {"", "mytoken=1&b=2"},
		"_HLS_msn=1&token=t&token=u": {"t", "_HLS_msn=1"},
	} {
		if got := queryToken(q); got != want[0] {
			t.Errorf("queryToken(%q) = %q, want %q", q, got, want[0])
		}
		if got := withoutToken(q); got != want[1] {
			t.Errorf("withoutToken(%q) = %q, want %q", q, got, want[1])
		}
	}
}
