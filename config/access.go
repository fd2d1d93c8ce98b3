package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
)

// Keys and values of who may use the server, and how it logs: log, users,
// tokenSecret, adminListen, allowOrigins, frameAncestors, limits, and the
// cameras' onDemand and idleTimeout.
var (
	logKeys    = []string{"format", "level", "requests"}
	logFormats = []string{"text", "json"}
	logLevels  = []string{"debug", "info", "warn", "error"}
	userKeys   = []string{"name", "password", "cameras", "admin"}
	limitsKeys = []string{"blockingPerClient", "blockingTotal"}
)

const (
	// MinTokenSecret is the shortest tokenSecret accepted, in characters:
	// the key of an HMAC-SHA256 wants 32 bytes of entropy, and a short
	// secret could be guessed from a view link.
	MinTokenSecret = 32
	// MinIdleTimeout is the shortest idleTimeout of an on-demand camera:
	// players reload playlists every second or so, and a camera that
	// stopped between two reloads would never stay up.
	MinIdleTimeout = time.Second
	// AllCameras in a user's cameras: list lets the user watch every
	// camera (User.MayWatch).
	AllCameras = "*"
	// AnyOrigin in allowOrigins or frameAncestors allows any origin.
	AnyOrigin = "*"
)

// hashPasswordHint says how to get a password hash.
const hashPasswordHint = "run `rtsp2hls hash-password`, type the password, and paste the last line it prints"

// hostRE is a host name or IPv4 address in an origin (IPv6 addresses are
// in brackets, checked by url.Parse).
var hostRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)

// bcryptRE is the form of a bcrypt hash: $2a$, $2b$, $2y$ (or the
// original $2$), a two-digit cost, then 22 characters of salt and 31 of
// hash in bcrypt's base64. bcrypt.Cost checks only the prefix and cost,
// so a hash cut short in a copy and paste would otherwise pass.
var bcryptRE = regexp.MustCompile(`^\$2[aby]?\$[0-9]{2}\$[./A-Za-z0-9]{53}$`)

// log parses the log: mapping over DefaultLog.
func (p *parser) log(n *yaml.Node) Log {
	l := DefaultLog
	n = resolve(n)
	if isNull(n) {
		return l
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "log must be a mapping with the keys %s, not %s", strings.Join(logKeys, ", "), kindName(n))
		return l
	}
	for _, kv := range p.pairs(n, "key") {
		name := "log." + kv.key
		switch kv.key {
		case "format":
			if s, ok := p.oneOf(kv.v, name, logFormats); ok {
				l.Format = s
			}
		case "level":
			if s, ok := p.oneOf(kv.v, name, logLevels); ok {
				l.Level = s
			}
		case "requests":
			if b, ok := p.boolean(kv.v, name); ok {
				l.Requests = b
			}
		default:
			p.unknown(kv.k, "in log", logKeys)
		}
	}
	return l
}

// oneOf returns the string n when it is one of words; set is false when n
// is null (absent) or wrong (reported).
func (p *parser) oneOf(n *yaml.Node, name string, words []string) (s string, set bool) {
	n = resolve(n)
	s, set = p.str(n, name)
	if set && !slices.Contains(words, s) {
		hint := didYouMean(s, words)
		for _, w := range words {
			// Longer or shorter spellings: "warning", "err".
			if hint == "" && len(s) >= 3 && (strings.HasPrefix(strings.ToLower(s), w) || strings.HasPrefix(w, strings.ToLower(s))) {
				hint = fmt.Sprintf("; did you mean %q?", w)
			}
		}
		p.errorf(n.Line, "%s: %s is not one of %s%s", name, quote(s), strings.Join(words, ", "), hint)
		return "", false
	}
	return s, set
}

// boolean parses true or false (a quoted "true" or "false" too). YAML
// 1.1's yes, no, on and off are strings in YAML 1.2, which yaml.v3
// follows: they are reported rather than guessed at. set is false when n
// is null (absent) or wrong (reported).
func (p *parser) boolean(n *yaml.Node, name string) (b, set bool) {
	n = resolve(n)
	switch {
	case isNull(n):
		return false, false
	case n.Kind != yaml.ScalarNode:
		p.errorf(n.Line, "%s must be true or false, not %s", name, kindName(n))
		return false, false
	case n.ShortTag() == "!!bool" && n.Decode(&b) == nil:
		return b, true
	case n.Value == "true" || n.Value == "false":
		return n.Value == "true", true
	}
	const yaml11 = ": yes, no, on and off are not booleans in this file"
	hint := ""
	switch strings.ToLower(n.Value) {
	case "yes", "y", "on":
		hint = " (write true" + yaml11 + ")"
	case "no", "n", "off":
		hint = " (write false" + yaml11 + ")"
	case "1", "enabled", "enable":
		hint = " (write true)"
	case "0", "disabled", "disable":
		hint = " (write false)"
	default:
		hint = didYouMean(n.Value, []string{"true", "false"})
	}
	p.errorf(n.Line, "%s: %s is not true or false%s", name, quote(n.Value), hint)
	return false, false
}

// users parses the users: list. It runs after cameras, whose names the
// users refer to. None (absent, null or []) means everything is open.
func (p *parser) users(n *yaml.Node) []User {
	n = resolve(n)
	switch {
	case isNull(n):
		return nil
	case n.Kind == yaml.MappingNode:
		p.errorf(n.Line, "users must be a list of users (write \"- name: alice\" with password and cameras under it), not a mapping")
		return nil
	case n.Kind != yaml.SequenceNode:
		p.errorf(n.Line, "users must be a list of users with the keys %s, not %s", strings.Join(userKeys, ", "), kindName(n))
		return nil
	}
	var users []User
	first := map[string]int{} // name -> line of the first user with it
	for i, item := range n.Content {
		u, ok := p.user(resolve(item), i+1)
		if u.Name != "" {
			if l, dup := first[u.Name]; dup {
				p.errorf(u.Line, "duplicate user %s (first at line %d)", quote(u.Name), l)
				ok = false
			} else {
				first[u.Name] = u.Line
			}
		}
		if ok {
			users = append(users, u)
		}
	}
	return users
}

// user parses the users: item n, the index-th. Its Name is set whenever
// the name is valid, for the duplicate check, even if ok is false. The
// password is never quoted in a message, not even in part: it may be a
// real one pasted instead of its hash.
func (p *parser) user(n *yaml.Node, index int) (u User, ok bool) {
	u.Line = n.Line
	switch {
	case isNull(n):
		p.errorf(n.Line, "users has an empty item (want name, password and cameras)")
		return u, false
	case n.Kind != yaml.MappingNode:
		p.errorf(n.Line, "user %d must be a mapping with the keys %s, not %s", index, strings.Join(userKeys, ", "), kindName(n))
		return u, false
	}
	keys := map[string]*pair{}
	var unknown []*yaml.Node // reported once the name is known
	for _, kv := range p.pairs(n, "key") {
		if !slices.Contains(userKeys, kv.key) {
			unknown = append(unknown, kv.k)
			continue
		}
		keys[kv.key] = &kv
	}
	ok = true
	where := fmt.Sprintf("user %d", index)
	if kv := keys["name"]; kv == nil || isNull(resolve(kv.v)) {
		p.errorf(n.Line, "user %d: name is required", index)
		ok = false
	} else if s, set := p.str(kv.v, where+": name"); !set {
		ok = false
	} else if !p.userName(s, resolve(kv.v).Line) {
		ok = false
	} else {
		u.Name = s
		where = "user " + quote(s)
	}
	prefix := where + ": "
	for _, k := range unknown {
		p.unknown(k, "in "+where, userKeys)
		ok = false
	}

	if kv := keys["password"]; kv == nil || isNull(resolve(kv.v)) {
		p.errorf(n.Line, "%spassword is required: the bcrypt hash of the password (%s)", prefix, hashPasswordHint)
		ok = false
	} else if s, set := p.str(kv.v, prefix+"password"); !set {
		ok = false
	} else if !p.passwordHash(s, resolve(kv.v).Line, prefix) {
		ok = false
	} else {
		u.PasswordHash = s
	}

	if kv := keys["cameras"]; kv == nil {
		p.errorf(n.Line, "%scameras is required: the names of the cameras the user may watch, or [\"*\"] for all", prefix)
		ok = false
	} else if cams, good := p.cameraList(*kv, prefix, true); good {
		u.Cameras = cams
	} else {
		ok = false
	}

	if kv := keys["admin"]; kv != nil {
		if b, set := p.boolean(kv.v, prefix+"admin"); set {
			u.Admin = b
		} else if !isNull(resolve(kv.v)) {
			ok = false
		}
	}
	return u, ok
}

// userName checks a user's name: the rules of camera names, which keep
// ':' (the separator of HTTP Basic credentials) and odd characters out of
// logs and headers.
func (p *parser) userName(name string, line int) bool {
	switch {
	case len(name) > maxCameraName:
		p.errorf(line, "user name %s is too long (%d characters, at most %d)", quote(name), len(name), maxCameraName)
		return false
	case !cameraNameRE.MatchString(name):
		p.errorf(line, "user name %s is invalid: it must match %s (lowercase letters, digits, '_' and '-', starting with a letter or digit), like camera names",
			quote(name), cameraNameRE)
		return false
	}
	return true
}

// passwordHash checks that s is a bcrypt hash. s is never quoted: when it
// is not a hash it is most likely the password itself.
func (p *parser) passwordHash(s string, line int, prefix string) bool {
	switch {
	case s == "":
		p.errorf(line, "%spassword is empty: it must be a bcrypt hash: %s", prefix, hashPasswordHint)
		return false
	case !strings.HasPrefix(s, "$2"):
		p.errorf(line, "%spassword must be a bcrypt hash, not the password itself: %s", prefix, hashPasswordHint)
		return false
	case !bcryptRE.MatchString(s):
		p.errorf(line, "%spassword is not a whole bcrypt hash (60 characters: $2a$, the cost such as 10, $ and 53 more; was it cut short?): %s",
			prefix, hashPasswordHint)
		return false
	}
	if _, err := bcrypt.Cost([]byte(s)); err != nil {
		// The cost is the only part left to be wrong; it is no secret,
		// but the error's text is not quoted all the same.
		p.errorf(line, "%spassword has a bcrypt cost out of range (%d to %d): %s", prefix, bcrypt.MinCost, bcrypt.MaxCost, hashPasswordHint)
		return false
	}
	return true
}

// tokenSecret parses the tokenSecret: value n. The secret is never
// quoted, not even its length being the only thing said about it.
func (p *parser) tokenSecret(n *yaml.Node) string {
	n = resolve(n)
	s, set := p.str(n, "tokenSecret")
	switch {
	case !set:
		return ""
	case s == "":
		p.errorf(n.Line, "tokenSecret is empty (leave it out to turn view links off)")
		return ""
	case utf8.RuneCountInString(s) < MinTokenSecret:
		p.errorf(n.Line, "tokenSecret is too short (%d characters, at least %d): use a long random string, such as the output of `openssl rand -base64 33`",
			utf8.RuneCountInString(s), MinTokenSecret)
		return ""
	}
	return s
}

// adminListen checks the adminListen: key kv against the other listeners:
// the lines are those of listen and rtsp.listen (0 for a default, -1 when
// invalid); publish, whether the RTSP server runs. It runs after
// redirectListen is set.
func (p *parser) adminListen(cfg *Config, kv pair, listenLine, rtspLine int, publish bool) {
	s, ok := p.str(kv.v, "adminListen")
	if !ok || !p.checkListen("adminListen", s, kv.v.Line) {
		return
	}
	line := kv.v.Line
	const own = "give the admin listener a port of its own"
	switch {
	case listenLine >= 0 && sameListenPort(s, cfg.Listen):
		p.errorf(line, "adminListen %s uses the same port as listen %s (%s); %s",
			quote(s), quote(cfg.Listen), origin(listenLine), own)
	case publish && rtspLine >= 0 && sameListenPort(s, cfg.RTSP.Listen):
		p.errorf(line, "adminListen %s uses the same port as rtsp.listen %s (%s); %s",
			quote(s), quote(cfg.RTSP.Listen), origin(rtspLine), own)
	case cfg.RedirectListen != "" && sameListenPort(s, cfg.RedirectListen):
		p.errorf(line, "adminListen %s uses the same port as redirectListen %s; %s",
			quote(s), quote(cfg.RedirectListen), own)
	default:
		cfg.AdminListen = s
	}
}

// origins parses allowOrigins or frameAncestors (name): a list of origins,
// or "*" alone for any. Origins are returned as browsers send them in the
// Origin header: scheme and host in lower case, without a default port.
func (p *parser) origins(n *yaml.Node, name string) []string {
	n = resolve(n)
	const want = `a list of origins such as ["https://intranet.example.com"], or ["*"] for any`
	switch {
	case isNull(n):
		return nil
	case n.Kind == yaml.ScalarNode && n.Value == AnyOrigin:
		p.errorf(n.Line, "%s must be a list: write [\"*\"] to allow any origin", name)
		return nil
	case n.Kind != yaml.SequenceNode:
		p.errorf(n.Line, "%s must be %s, not %s", name, want, kindName(n))
		return nil
	}
	ok := true
	var out []string
	first := map[string]int{}
	for _, item := range n.Content {
		item = resolve(item)
		s, set := p.str(item, name+" item")
		if !set {
			if isNull(item) {
				p.errorf(item.Line, "%s has an empty item", name)
			}
			ok = false
			continue
		}
		o, good := p.origin(s, item.Line, name)
		switch {
		case !good:
			ok = false
		case first[o] > 0:
			p.errorf(item.Line, "%s: %s is listed twice (first at line %d)", name, quote(o), first[o])
			ok = false
		default:
			first[o] = item.Line
			out = append(out, o)
		}
	}
	if ok && len(out) > 1 && slices.Contains(out, AnyOrigin) {
		p.errorf(n.Line, "%s: \"*\" already allows any origin; write [\"*\"] alone, or only origins", name)
		ok = false
	}
	if !ok {
		return nil
	}
	return out
}

// origin checks one origin of allowOrigins or frameAncestors (name) and
// returns it in the form browsers send.
func (p *parser) origin(s string, line int, name string) (string, bool) {
	if s == AnyOrigin {
		return s, true
	}
	const form = "scheme://host or scheme://host:port, with scheme http or https"
	bad := func(why string) (string, bool) {
		p.errorf(line, "%s: %s is not an origin (%s): %s", name, quote(s), why, form)
		return "", false
	}
	switch strings.ToLower(s) {
	case "'self'", "self":
		if name == "frameAncestors" {
			return bad("rtsp2hls's own pages may always frame its pages; list only other origins")
		}
		return bad("pages served by rtsp2hls itself need no CORS")
	case "'none'", "none":
		return bad("leave the key out to allow no other origin")
	}
	if !strings.Contains(s, "://") {
		return bad("no scheme://")
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("not a URL")
	}
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	switch {
	case scheme != "http" && scheme != "https":
		return bad("the scheme must be http or https")
	case u.User != nil:
		return bad("no user or password")
	case host == "":
		return bad("no host")
	case strings.Contains(host, "*"):
		return bad(`no wildcards but "*" alone, for any origin`)
	case !hostRE.MatchString(host) && !strings.HasPrefix(u.Host, "["):
		return bad("invalid host")
	case u.Path == "/" && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery:
		return bad("no path: remove the final /")
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return bad("no path, query or fragment")
	case strings.HasSuffix(u.Host, ":"):
		return bad("empty port")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return bad("invalid port")
		}
		if (scheme == "https" && n == 443) || (scheme == "http" && n == 80) {
			port = "" // browsers leave the default port out
		} else {
			port = strconv.Itoa(n)
		}
	}
	h := host
	switch {
	case port != "":
		h = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"):
		h = "[" + host + "]" // IPv6
	}
	return scheme + "://" + h, true
}

// The fields of Limits, to tell where each came from.
const (
	lPerClient = iota
	lTotal
)

// limits parses the limits: mapping over DefaultLimits.
func (p *parser) limits(n *yaml.Node) Limits {
	l := DefaultLimits
	n = resolve(n)
	if isNull(n) {
		return l
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "limits must be a mapping with the keys %s, not %s", strings.Join(limitsKeys, ", "), kindName(n))
		return l
	}
	var at [2]setting
	for _, kv := range p.pairs(n, "key") {
		f := slices.Index(limitsKeys, kv.key)
		if f < 0 {
			p.unknown(kv.k, "in limits", limitsKeys)
			continue
		}
		v := resolve(kv.v)
		if isNull(v) {
			continue
		}
		name := "limits." + kv.key
		i, ok := p.integer(v, name)
		if ok && i < 1 {
			p.errorf(v.Line, "%s: %d must be at least 1", name, i)
			ok = false
		}
		at[f] = setting{line: v.Line, local: true, bad: !ok}
		switch {
		case !ok:
		case f == lPerClient:
			l.BlockingPerClient = i
		default:
			l.BlockingTotal = i
		}
	}
	if at[lPerClient].bad || at[lTotal].bad || l.BlockingPerClient <= l.BlockingTotal {
		return l
	}
	describe := func(f, v int) string {
		s := fmt.Sprintf("limits.%s %d", limitsKeys[f], v)
		if !at[f].local {
			s += " (default)"
		}
		return s
	}
	line := at[lPerClient].line
	if line == 0 {
		line = at[lTotal].line
	}
	p.errorf(line, "%s is more than %s: one client cannot have more than all of them",
		describe(lPerClient, l.BlockingPerClient), describe(lTotal, l.BlockingTotal))
	return DefaultLimits
}

// onDemand sets cam.OnDemand and cam.IdleTimeout from the camera's
// onDemand and idleTimeout keys (either may be missing). It runs once the
// camera's source and substream are known.
func (p *parser) onDemand(cam *Camera, on, idle *pair, prefix string) bool {
	ok, onDemand, onBad := true, false, false
	if on != nil {
		var set bool
		onDemand, set = p.boolean(on.v, prefix+"onDemand")
		onBad = !set && !isNull(resolve(on.v))
		ok = !onBad
	}
	if onDemand {
		// A pushed stream comes when its client decides: there is nothing
		// to start at the first viewer, nor to stop after the last one.
		switch {
		case cam.Kind == KindPublish:
			p.errorf(resolve(on.v).Line, "%sonDemand is not for publish sources: a publish camera is pushed by its client whenever that client decides, so rtsp2hls can neither start it at the first viewer nor stop it after the last", prefix)
			ok = false
		case cam.Substream.Kind == KindPublish:
			p.errorf(resolve(on.v).Line, "%sonDemand is not for a camera with a publish substream: the substream is pushed by its client whenever that client decides, so rtsp2hls can neither start it at the first viewer nor stop it after the last", prefix)
			ok = false
		}
	}
	timeout := DefaultIdleTimeout
	if idle != nil {
		if v := resolve(idle.v); !isNull(v) {
			d, good := p.duration(v, prefix+"idleTimeout")
			switch {
			case !good:
				ok = false
			case d < MinIdleTimeout:
				p.errorf(v.Line, "%sidleTimeout: %v is too short (at least %v)", prefix, d, MinIdleTimeout)
				ok = false
			case !onDemand && !onBad:
				p.errorf(idle.k.Line, "%sidleTimeout is only for on-demand cameras: add onDemand: true, or remove idleTimeout", prefix)
				ok = false
			default:
				timeout = d
			}
		}
	}
	if ok && onDemand {
		cam.OnDemand, cam.IdleTimeout = true, timeout
	}
	return ok
}
