package config

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// sourceForms lists the accepted source values, for messages.
const sourceForms = "an rtsp://, rtsps:// or rtp:// URL, demo, publish or exec:COMMAND"

// sourceWords are the source values that are plain words.
var sourceWords = []string{SourceDemo, SourcePublish}

// RTPAddr returns the address an rtp:// camera receives on: the IP to
// listen on (possibly 0.0.0.0 or ::) or the multicast group to join, with
// the port and any IPv6 zone. It is the zero AddrPort for other kinds.
func (c Camera) RTPAddr() netip.AddrPort {
	if c.Kind != KindRTP {
		return netip.AddrPort{}
	}
	u, err := url.Parse(c.Source)
	if err != nil {
		return netip.AddrPort{}
	}
	ap, _ := parseRTP(u)
	return ap
}

// isRTSPS reports whether the camera pulls over RTSP with TLS.
func (c Camera) isRTSPS() bool {
	return c.Kind == KindRTSP && len(c.Source) >= len("rtsps:") && strings.EqualFold(c.Source[:len("rtsps:")], "rtsps:")
}

// kindLabel names the camera's kind of source as it is written, for
// messages: "rtsp://", "rtsps://", "rtp://", "demo", "publish", "exec:".
func (c Camera) kindLabel() string {
	switch c.Kind {
	case KindRTSP:
		if c.isRTSPS() {
			return "rtsps://"
		}
		return "rtsp://"
	case KindRTP:
		return "rtp://"
	case KindExec:
		return SourceExecPrefix
	}
	return string(c.Kind)
}

// source checks s, the source of cam, and on success sets cam's Source,
// Kind and Exec. Messages quote s only through redactURL, never with the
// reason url.Parse gives: that reason can quote a piece of the password
// ("invalid port \":pa\" after host").
func (p *parser) source(cam *Camera, s string, line int, prefix string) bool {
	switch {
	case s == SourceDemo:
		cam.Kind = KindDemo
	case s == SourcePublish:
		cam.Kind = KindPublish
	case len(s) >= len(SourceExecPrefix) && strings.EqualFold(s[:len(SourceExecPrefix)], SourceExecPrefix):
		cmd := strings.TrimSpace(s[len(SourceExecPrefix):])
		if cmd == "" {
			p.errorf(line, "%ssource %s has no command (write e.g. exec:rpicam-vid -t 0 --inline -o -)", prefix, quote(s))
			return false
		}
		cam.Kind, cam.Exec = KindExec, cmd
	default:
		kind, ok := p.url(s, line, prefix)
		if !ok {
			return false
		}
		cam.Kind = kind
	}
	cam.Source = s
	return true
}

// url checks a source that is not a plain word, which must be an rtsp://,
// rtsps:// or rtp:// URL.
func (p *parser) url(s string, line int, prefix string) (SourceKind, bool) {
	shown := quote(s)
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		p.errorf(line, "%ssource %s contains white space (percent-encode it as %%20)", prefix, shown)
		return "", false
	}
	if !strings.Contains(s, "://") {
		hint := didYouMean(s, sourceWords)
		if hint == "" {
			hint = " (missing rtsp://?)"
		}
		p.errorf(line, "%ssource %s must be %s%s", prefix, shown, sourceForms, hint)
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil {
		p.errorf(line, "%ssource %s is not a valid URL (in the user name and password, write @ as %%40, / as %%2F, # as %%23, ? as %%3F)", prefix, shown)
		return "", false
	}
	switch u.Scheme {
	case "rtsp", "rtsps":
	case "rtp":
		if _, why := parseRTP(u); why != "" {
			p.errorf(line, "%ssource %s %s", prefix, shown, why)
			return "", false
		}
		return KindRTP, true
	default:
		p.errorf(line, "%ssource %s must be %s, not %s://", prefix, shown, sourceForms, u.Scheme)
		return "", false
	}
	if u.Opaque != "" || u.Hostname() == "" {
		p.errorf(line, "%ssource %s has no host", prefix, shown)
		return "", false
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			p.errorf(line, "%ssource %s has an invalid port (1 to 65535)", prefix, shown)
			return "", false
		}
	}
	return KindRTSP, true
}

// parseRTP parses an rtp://IP:PORT source. On failure it says why, in
// words that follow the quoted source.
func parseRTP(u *url.URL) (netip.AddrPort, string) {
	const hostHelp = "0.0.0.0 or :: to listen on every interface, one of this machine's addresses, or a multicast group such as 239.0.0.1"
	switch {
	case u.User != nil:
		return netip.AddrPort{}, "must not have a user name or password (raw RTP has no login)"
	case u.Opaque != "":
		return netip.AddrPort{}, "has no host (write rtp://IP:PORT)"
	case u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return netip.AddrPort{}, "must be rtp://IP:PORT, with nothing after the port"
	case u.Hostname() == "":
		return netip.AddrPort{}, "has no host (write rtp://0.0.0.0:PORT to listen on every interface)"
	}
	addr, err := netip.ParseAddr(u.Hostname())
	switch {
	case err != nil:
		return netip.AddrPort{}, fmt.Sprintf("has a host that is not an IP address (want %s)", hostHelp)
	case addr.Is6() && !strings.HasPrefix(u.Host, "["):
		// rtp://ff02::1:5004 could be ff02::1 port 5004 or ff02::1:5004
		// with no port.
		return netip.AddrPort{}, "has an IPv6 address without brackets (write e.g. rtp://[ff02::1]:5004)"
	}
	port := u.Port()
	if port == "" {
		return netip.AddrPort{}, "has no port (write e.g. rtp://" + u.Host + ":5004)"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return netip.AddrPort{}, "has an invalid port (1 to 65535)"
	}
	return netip.AddrPortFrom(addr, uint16(n)), ""
}

// keyKinds says which kinds of source each kind-specific camera key is
// for: ok says whether the key applies to a camera, and what names those
// sources in messages.
//
// A key applies when it is for the kind of the camera's source or of its
// substream: the two share the camera's keys.
var keyKinds = map[string]struct {
	ok   func(Camera) bool
	what string
}{
	"transport":   {func(c Camera) bool { return c.Kind == KindRTSP || c.Substream.Kind == KindRTSP }, "rtsp:// and rtsps:// sources"},
	"fingerprint": {func(c Camera) bool { return c.isRTSPS() || c.subIsRTSPS() }, "rtsps:// sources"},
	"publishUser": {func(c Camera) bool { return c.Kind == KindPublish || c.Substream.Kind == KindPublish }, "publish sources"},
	"publishPass": {func(c Camera) bool { return c.Kind == KindPublish || c.Substream.Kind == KindPublish }, "publish sources"},
	"sdp":         {func(c Camera) bool { return c.Kind == KindRTP || c.Substream.Kind == KindRTP }, "rtp:// sources"},
}

// subIsRTSPS reports whether the camera's substream is pulled over RTSP
// with TLS.
func (c Camera) subIsRTSPS() bool {
	sub, ok := c.SubstreamCamera()
	return ok && sub.isRTSPS()
}

// substream checks the substream: value of cam (kv) and on success sets
// cam.Substream. It takes any source value source does.
func (p *parser) substream(cam *Camera, kv pair, prefix string) bool {
	v := resolve(kv.v)
	if isNull(v) {
		p.errorf(kv.k.Line, "%ssubstream is empty (want %s, or leave the key out)", prefix, sourceForms)
		return false
	}
	s, set := p.str(v, prefix+"substream")
	if !set {
		return false
	}
	var sub Camera
	if !p.source(&sub, s, v.Line, prefix+"substream ") {
		return false
	}
	cam.Substream = Substream{Source: sub.Source, Kind: sub.Kind, Exec: sub.Exec}
	return true
}

// applies reports whether the camera key kv may be set for cam, reporting
// it when not. A camera whose source is missing or invalid (Kind "") has
// been reported already: its keys are checked for themselves.
func (p *parser) applies(cam Camera, kv pair, prefix string) bool {
	k, ok := keyKinds[kv.key]
	if !ok || cam.Kind == "" || k.ok(cam) {
		return true
	}
	what := "this source is " + cam.kindLabel()
	if sub, ok := cam.SubstreamCamera(); ok {
		what = fmt.Sprintf("this source is %s, its substream %s", cam.kindLabel(), sub.kindLabel())
	}
	p.errorf(kv.k.Line, "%s%s is only for %s (%s)", prefix, kv.key, k.what, what)
	return false
}

// fingerprint parses the fingerprint: value v into 64 lowercase hex
// digits.
func (p *parser) fingerprint(v *yaml.Node, prefix string) (string, bool) {
	name := prefix + "fingerprint"
	s, set := p.str(v, name)
	if !set {
		return "", false
	}
	const how = "openssl x509 -noout -fingerprint -sha256"
	digits := strings.ReplaceAll(strings.TrimSpace(s), ":", "")
	_, err := hex.DecodeString(digits)
	switch {
	case err == nil && len(digits) == 64:
		return strings.ToLower(digits), true
	case strings.Contains(s, "="):
		p.errorf(v.Line, "%s: %s: write only the hex digits after '=' (as printed by %s)", name, quote(s), how)
	case err == nil && len(digits) == 40:
		p.errorf(v.Line, "%s: %s is a SHA-1 fingerprint (40 hex digits); use the SHA-256 one (64 hex digits), as printed by %s", name, quote(s), how)
	default:
		p.errorf(v.Line, "%s: %s is not a SHA-256 fingerprint (64 hex digits, optionally separated by ':', as printed by %s)", name, quote(s), how)
	}
	return "", false
}

// publishAuth sets the publish credentials of cam from the publishUser and
// publishPass keys (either may be missing). The password is never quoted.
func (p *parser) publishAuth(cam *Camera, user, pass *pair, prefix string) bool {
	ok := true
	var u, pw string
	var hasUser, hasPass bool
	if user != nil {
		if u, hasUser = p.str(user.v, prefix+"publishUser"); hasUser {
			switch {
			case u == "":
				p.errorf(user.v.Line, "%spublishUser is empty", prefix)
				ok = false
			case strings.ContainsRune(u, ':'):
				p.errorf(user.v.Line, "%spublishUser %s must not contain ':'", prefix, quote(u))
				ok = false
			}
		} else if !isNull(resolve(user.v)) {
			ok = false // not a string: reported
		}
	}
	if pass != nil {
		if pw, hasPass = p.str(pass.v, prefix+"publishPass"); hasPass && pw == "" {
			p.errorf(pass.v.Line, "%spublishPass is empty", prefix)
			ok = false
		} else if !hasPass && !isNull(resolve(pass.v)) {
			ok = false
		}
	}
	switch {
	case !ok:
	case hasUser && !hasPass:
		p.errorf(user.k.Line, "%spublishUser needs publishPass too (or neither, to let anyone publish)", prefix)
		ok = false
	case hasPass && !hasUser:
		p.errorf(pass.k.Line, "%spublishPass needs publishUser too (or neither, to let anyone publish)", prefix)
		ok = false
	default:
		cam.PublishUser, cam.PublishPass = u, pw
	}
	return ok
}
