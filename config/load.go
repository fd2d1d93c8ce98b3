package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Limits checked at load time, so a bad value fails at startup with a line
// number instead of later inside the muxer.
const (
	// maxCameraName bounds names because they end up in URLs and paths.
	maxCameraName = 64

	minPartDuration    = 10 * time.Millisecond
	maxSegmentDuration = 60 * time.Second
	maxSegmentCount    = 100
	// Low-Latency HLS needs 7 segments (gohlslib refuses fewer); the other
	// variants need 3 so that a player can buffer.
	minSegmentCountLL = 7
	minSegmentCount   = 3
)

// parseName is the file name used in errors from Parse.
const parseName = "config"

var cameraNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Keys of each mapping, in the order they are listed in errors.
var (
	topKeys = []string{"listen", "tls", "redirectListen", "dataDir", "rtsp", "hls", "cameras", "walls",
		"log", "users", "tokenSecret", "adminListen", "allowOrigins", "frameAncestors", "limits"}
	rtspKeys = []string{"listen"}
	// hlsKeys are in the order of the f* field indexes; "profile" is last.
	hlsKeys    = []string{"variant", "segmentDuration", "partDuration", "segmentCount", "profile"}
	profiles   = []string{ProfileDefault, ProfileLatency}
	cameraKeys = []string{"source", "substream", "transport", "fingerprint", "publishUser", "publishPass", "sdp", "hls",
		"onDemand", "idleTimeout"}
	variants   = []string{string(VariantLowLatency), string(VariantFMP4), string(VariantMPEGTS)}
	transports = []string{string(TransportAuto), string(TransportTCP), string(TransportUDP), string(TransportMulticast)}
)

// Load reads and validates the config file at path. An unreadable file
// yields the error from os.ReadFile (errors.Is(err, fs.ErrNotExist) works);
// a file with mistakes yields an *Error listing all of them. SDP and TLS
// files named by relative paths are read from the directory of path, and
// a relative dataDir is in that directory too.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := parse(path, filepath.Dir(path), data)
	if err != nil {
		return nil, err
	}
	c.Path = path
	return c, nil
}

// Parse validates a config held in memory; errors name the file "config".
// Relative paths (SDP and TLS files, dataDir) are relative to the current
// directory.
func Parse(data []byte) (*Config, error) {
	return parse(parseName, "", data)
}

// Camera returns the camera called name.
func (c *Config) Camera(name string) (Camera, bool) {
	for _, cam := range c.Cameras {
		if cam.Name == name {
			return cam, true
		}
	}
	return Camera{}, false
}

// Redacted returns the source with its passwords hidden, for logs and
// pages: those of every URL in it, including URLs inside an exec command
// ("exec:ffmpeg -i rtsp://u:xxxxx@cam/x ..."). A secret an exec command
// passes some other way (an option, an environment variable) cannot be
// recognised: keep those in a script and exec the script. PublishPass is
// never part of Source.
func (c Camera) Redacted() string {
	return Redact(c.Source)
}

// parse parses data, read from file; relative paths are relative to dir
// ("" for the current directory).
func parse(file, dir string, data []byte) (*Config, error) {
	p := &parser{dir: dir}
	cfg := &Config{Listen: DefaultListen, RTSP: RTSP{Listen: DefaultRTSPListen}, HLS: DefaultHLS,
		DataDir: p.path(DefaultDataDir), Log: DefaultLog, Limits: DefaultLimits}
	if root := p.document(data); root != nil {
		p.top(root, cfg)
	}
	if len(p.problems) > 0 {
		return nil, &Error{File: file, Problems: p.sorted()}
	}
	return cfg, nil
}

// parser walks the YAML node tree by hand rather than decoding into
// structs: that is what gives every message a line, lets unknown keys be
// reported instead of silently ignored, and keeps cameras in file order.
type parser struct {
	dir       string // directory of relative paths
	problems  []Problem
	expanding map[*yaml.Node]bool // mappings being expanded by pairs
	// cameraNames holds every name under cameras:, valid camera or not,
	// so that a wall naming a camera with a mistake is not reported too.
	cameraNames map[string]bool
}

// path resolves a path written in the config against its directory.
func (p *parser) path(s string) string {
	if filepath.IsAbs(s) || p.dir == "" {
		return filepath.Clean(s)
	}
	return filepath.Join(p.dir, s)
}

// errorf records a problem. Every message goes through Redact as a last
// line of defence: keys and names are quoted back to the user, and someone
// may have pasted a URL in the wrong place.
func (p *parser) errorf(line int, format string, args ...any) {
	if line < 1 {
		line = 1
	}
	p.problems = append(p.problems, Problem{Line: line, Msg: Redact(fmt.Sprintf(format, args...))})
}

// sorted returns the problems in file order without repeats (a value
// reached through several YAML aliases would be reported once per alias).
func (p *parser) sorted() []Problem {
	slices.SortStableFunc(p.problems, func(a, b Problem) int { return a.Line - b.Line })
	out := p.problems[:0]
	seen := make(map[Problem]bool)
	for _, pr := range p.problems {
		if !seen[pr] {
			seen[pr] = true
			out = append(out, pr)
		}
	}
	return out
}

var yamlLineRE = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)

// yamlError turns a yaml.v3 syntax error ("yaml: line 3: ...") into a
// Problem with that line.
func (p *parser) yamlError(err error, data []byte) {
	msg, line := err.Error(), 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	// The usual cause of this one is a tab, which YAML forbids in
	// indentation and which is invisible in most editors.
	if strings.Contains(msg, "cannot start any token") && lineHasTab(data, line) {
		msg += " (tabs are not allowed in YAML indentation; use spaces)"
	}
	p.errorf(line, "invalid YAML: %s", msg)
}

func lineHasTab(data []byte, line int) bool {
	lines := bytes.Split(data, []byte("\n"))
	return line >= 1 && line <= len(lines) && bytes.IndexByte(lines[line-1], '\t') >= 0
}

// document returns the root node of the single document in data, or nil
// when data is empty or broken.
func (p *parser) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) {
			p.yamlError(err, data)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		line := extra.Line
		if len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		p.errorf(line, "only one YAML document is allowed (remove the second ---)")
	case !errors.Is(err, io.EOF):
		p.yamlError(err, data)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

func (p *parser) top(n *yaml.Node, cfg *Config) {
	n = resolve(n)
	if isNull(n) {
		return // an empty file: all defaults, no cameras
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "the file must be a mapping with the keys %s, not %s", strings.Join(topKeys, ", "), kindName(n))
		return
	}
	var hlsNode, camerasNode, wallsNode, usersNode *yaml.Node
	var redirect, admin *pair
	tlsSet := false                    // tls: was given, valid or not
	listenLine, rtspListenLine := 0, 0 // 0: default; -1: invalid
	for _, kv := range p.pairs(n, "key") {
		switch kv.key {
		case "listen":
			if s, ok := p.str(kv.v, "listen"); ok {
				cfg.Listen = s
				if p.checkListen("listen", s, kv.v.Line) {
					listenLine = kv.v.Line
				} else {
					listenLine = -1
				}
			}
		case "tls":
			tlsSet = !isNull(resolve(kv.v))
			cfg.TLS = p.tls(kv.v)
		case "redirectListen":
			redirect = &kv
		case "dataDir":
			if s, ok := p.str(kv.v, "dataDir"); ok {
				if strings.TrimSpace(s) == "" {
					p.errorf(kv.v.Line, "dataDir is empty (leave it out for %s beside the config file)", quote(DefaultDataDir))
				} else {
					cfg.DataDir = p.path(s)
				}
			}
		case "rtsp":
			rtspListenLine = p.rtsp(kv.v, &cfg.RTSP)
		case "hls":
			hlsNode = kv.v
		case "cameras":
			camerasNode = kv.v
		case "walls":
			wallsNode = kv.v
		case "log":
			cfg.Log = p.log(kv.v)
		case "users":
			usersNode = kv.v
		case "tokenSecret":
			cfg.TokenSecret = p.tokenSecret(kv.v)
		case "adminListen":
			admin = &kv
		case "allowOrigins":
			cfg.AllowOrigins = p.origins(kv.v, "allowOrigins")
		case "frameAncestors":
			cfg.FrameAncestors = p.origins(kv.v, "frameAncestors")
		case "limits":
			cfg.Limits = p.limits(kv.v)
		default:
			p.unknown(kv.k, "", topKeys)
		}
	}
	global := p.hls(hlsNode, hlsBlock{HLS: DefaultHLS}, "hls.", "in hls")
	p.checkHLS("hls: ", global)
	cfg.HLS = global.HLS
	cfg.Cameras = p.cameras(camerasNode, global)
	cfg.Walls = p.walls(wallsNode)
	cfg.Users = p.users(usersNode)
	publish := slices.ContainsFunc(cfg.Cameras, func(c Camera) bool {
		return c.Kind == KindPublish || c.Substream.Kind == KindPublish
	})
	if listenLine >= 0 && rtspListenLine >= 0 && publish {
		p.checkListenClash(cfg, listenLine, rtspListenLine)
	}
	if redirect != nil {
		p.redirectListen(cfg, *redirect, tlsSet, listenLine, rtspListenLine, publish)
	}
	if admin != nil {
		p.adminListen(cfg, *admin, listenLine, rtspListenLine, publish)
	}
}

// rtsp parses the rtsp: block into r. It returns the line rtsp.listen was
// set on: 0 when it was not, -1 when it was invalid.
func (p *parser) rtsp(n *yaml.Node, r *RTSP) int {
	n = resolve(n)
	if isNull(n) {
		return 0
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "rtsp must be a mapping with the keys %s, not %s", strings.Join(rtspKeys, ", "), kindName(n))
		return -1
	}
	line := 0
	for _, kv := range p.pairs(n, "key") {
		switch kv.key {
		case "listen":
			if s, ok := p.str(kv.v, "rtsp.listen"); ok {
				r.Listen = s
				if line = kv.v.Line; !p.checkListen("rtsp.listen", s, line) {
					line = -1
				}
			}
		default:
			p.unknown(kv.k, "in rtsp", rtspKeys)
		}
	}
	return line
}

// checkListenClash reports the HTTP and RTSP servers listening on the
// same port, which would fail at startup with "address already in use".
// The lines are where each address was written (0 for a default).
func (p *parser) checkListenClash(cfg *Config, listenLine, rtspLine int) {
	if !sameListenPort(cfg.Listen, cfg.RTSP.Listen) {
		return
	}
	const need = "publish cameras need the RTSP server on a port of its own"
	if rtspLine > 0 {
		p.errorf(rtspLine, "rtsp.listen %s uses the same port as listen %s (%s); %s",
			quote(cfg.RTSP.Listen), quote(cfg.Listen), origin(listenLine), need)
	} else {
		p.errorf(listenLine, "listen %s uses the same port as rtsp.listen %s (%s); %s: set rtsp.listen to another one",
			quote(cfg.Listen), quote(cfg.RTSP.Listen), origin(rtspLine), need)
	}
}

// checkListen reports whether s, the value of the key name, is a usable
// listen address.
func (p *parser) checkListen(name, s string, line int) bool {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		reason := err.Error()
		var ae *net.AddrError
		if errors.As(err, &ae) {
			reason = ae.Err
		}
		hint := ""
		if isDigits(s) {
			hint = fmt.Sprintf(`; write ":%s" to listen on every interface`, s)
		}
		p.errorf(line, "%s: %s is not host:port (%s)%s", name, quote(s), reason, hint)
		return false
	}
	if port == "" {
		p.errorf(line, "%s: %s has no port", name, quote(s))
		return false
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		p.errorf(line, "%s: %s has an invalid port", name, quote(s))
		return false
	}
	return true
}

// The fields of HLS, to track where each came from.
const (
	fVariant = iota
	fSegmentDuration
	fPartDuration
	fSegmentCount
	numFields
)

// setting records where a field of an hlsBlock got its value.
type setting struct {
	line  int  // line it was written on; 0 for a default
	local bool // written in the block being checked rather than inherited
	bad   bool // written but invalid: already reported, value not used
}

// hlsBlock is an HLS with the origin of each field, so that a mistake
// spanning two fields (partDuration vs segmentDuration) is reported once,
// at a line the user wrote, saying where the other value came from.
type hlsBlock struct {
	HLS
	at [numFields]setting
}

// inherited returns b as the starting point of a camera's own block.
func (b hlsBlock) inherited() hlsBlock {
	for i := range b.at {
		b.at[i].local = false
	}
	return b
}

// hls parses an hls: mapping (n may be nil or null) over base. prefix starts
// messages about a value ("hls.", `camera "x": hls.`); where ends messages
// about an unknown key ("in hls").
func (p *parser) hls(n *yaml.Node, base hlsBlock, prefix, where string) hlsBlock {
	b := base
	n = resolve(n)
	if isNull(n) {
		return b
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "%s must be a mapping with the keys %s, not %s", strings.TrimSuffix(prefix, "."), strings.Join(hlsKeys, ", "), kindName(n))
		return b
	}
	pairs := p.pairs(n, "key")
	// A profile sets the part duration, unless the block sets it too.
	for _, kv := range pairs {
		if kv.key != "profile" || isNull(resolve(kv.v)) {
			continue
		}
		name := prefix + kv.key
		if s, ok := p.str(kv.v, name); !ok {
		} else if !slices.Contains(profiles, s) {
			p.errorf(kv.v.Line, "%s: %s is not one of %s%s", name, quote(s), strings.Join(profiles, ", "), didYouMean(s, profiles))
		} else {
			b.Profile = s
			b.PartDuration = profilePart[s]
			b.at[fPartDuration] = setting{line: kv.v.Line, local: true}
		}
	}
	for _, kv := range pairs {
		if kv.key == "profile" {
			continue
		}
		f := slices.Index(hlsKeys, kv.key)
		if f < 0 {
			p.unknown(kv.k, where, hlsKeys)
			continue
		}
		v := resolve(kv.v)
		if isNull(v) {
			continue // "segmentCount:" with no value keeps the inherited one
		}
		name := prefix + kv.key
		ok := false
		switch f {
		case fVariant:
			var s string
			if s, ok = p.str(v, name); ok {
				if ok = slices.Contains(variants, s); ok {
					b.Variant = Variant(s)
				} else {
					p.errorf(v.Line, "%s: %s is not one of %s%s", name, quote(s), strings.Join(variants, ", "), didYouMean(s, variants))
				}
			}
		case fSegmentDuration:
			var d time.Duration
			if d, ok = p.duration(v, name); ok {
				switch {
				case d <= 0:
					p.errorf(v.Line, "%s: %v must be greater than 0", name, d)
					ok = false
				case d > maxSegmentDuration:
					p.errorf(v.Line, "%s: %v is too long (at most %v)", name, d, maxSegmentDuration)
					ok = false
				default:
					b.SegmentDuration = d
				}
			}
		case fPartDuration:
			var d time.Duration
			if d, ok = p.duration(v, name); ok {
				switch {
				case d <= 0:
					p.errorf(v.Line, "%s: %v must be greater than 0", name, d)
					ok = false
				case d < minPartDuration:
					p.errorf(v.Line, "%s: %v is too short (at least %v)", name, d, minPartDuration)
					ok = false
				default:
					b.PartDuration = d
				}
			}
		case fSegmentCount:
			var c int
			if c, ok = p.integer(v, name); ok {
				switch {
				case c < minSegmentCount || c > maxSegmentCount:
					p.errorf(v.Line, "%s: %d is out of range (%d to %d, and at least %d for %s)",
						name, c, minSegmentCount, maxSegmentCount, minSegmentCountLL, VariantLowLatency)
					ok = false
				default:
					b.SegmentCount = c
				}
			}
		}
		b.at[f] = setting{line: v.Line, local: true, bad: !ok}
	}
	return b
}

// checkHLS reports mistakes that involve two fields of b, but only when one
// of them was written in b itself: a camera that overrides nothing must not
// repeat a mistake already reported for the global block.
func (p *parser) checkHLS(prefix string, b hlsBlock) {
	describe := func(f int, value any) string {
		s := fmt.Sprintf("%s %v", hlsKeys[f], value)
		switch st := b.at[f]; {
		case st.local:
		case st.line == 0:
			s += " (default)"
		default:
			s += fmt.Sprintf(" (from hls at line %d)", st.line)
		}
		return s
	}
	// line picks the first of fields written in b, or 0 if none was.
	line := func(fields ...int) int {
		for _, f := range fields {
			if b.at[f].bad {
				return 0 // the bad one is already reported
			}
		}
		for _, f := range fields {
			if b.at[f].local {
				return b.at[f].line
			}
		}
		return 0
	}
	if b.Variant != VariantLowLatency {
		// Both checks are about Low-Latency HLS only: the other variants
		// need 3 segments, checked with the value itself, and have no
		// parts (gohlslib reads partDuration for lowLatency alone), so a
		// partDuration left at its default must not fail an fmp4 camera
		// with short segments.
		return
	}
	if l := line(fSegmentCount, fVariant); l > 0 && b.SegmentCount < minSegmentCountLL {
		p.errorf(l, "%s%s is too small for %s (need at least %d)",
			prefix, describe(fSegmentCount, b.SegmentCount), describe(fVariant, b.Variant), minSegmentCountLL)
	}
	if l := line(fPartDuration, fSegmentDuration, fVariant); l > 0 && b.PartDuration >= b.SegmentDuration {
		p.errorf(l, "%s%s must be shorter than %s for %s",
			prefix, describe(fPartDuration, b.PartDuration), describe(fSegmentDuration, b.SegmentDuration), describe(fVariant, b.Variant))
	}
}

func (p *parser) cameras(n *yaml.Node, global hlsBlock) []Camera {
	n = resolve(n)
	if isNull(n) {
		return nil // no cameras is fine: the wall is just empty
	}
	switch n.Kind {
	case yaml.MappingNode:
	case yaml.SequenceNode:
		p.errorf(n.Line, "cameras must be a mapping from name to camera, not a list (write \"lobby:\" rather than \"- name: lobby\")")
		return nil
	default:
		p.errorf(n.Line, "cameras must be a mapping from name to camera, not %s", kindName(n))
		return nil
	}
	var cams []Camera
	p.cameraNames = make(map[string]bool)
	for _, kv := range p.pairs(n, "camera") {
		p.cameraNames[kv.key] = true
		if cam, ok := p.camera(kv, global); ok {
			p.checkRTPClash(cam, cams)
			cams = append(cams, cam)
		}
	}
	return cams
}

// rtpUse is an address a camera receives RTP on, and the key that says so.
type rtpUse struct {
	key, source string // "source" or "substream", and its value
	addr        netip.AddrPort
}

// rtpUses returns the addresses c receives RTP on: its source's and its
// substream's, when they are rtp:// URLs.
func rtpUses(c Camera) []rtpUse {
	var out []rtpUse
	if a := c.RTPAddr(); a.IsValid() {
		out = append(out, rtpUse{"source", c.Source, a})
	}
	if sub, ok := c.SubstreamCamera(); ok {
		if a := sub.RTPAddr(); a.IsValid() {
			out = append(out, rtpUse{"substream", sub.Source, a})
		}
	}
	return out
}

// sameRTPPort reports whether sockets for a and b would take the same
// packets (or the second could not bind).
func sameRTPPort(a, b netip.AddrPort) bool {
	if a.Port() != b.Port() {
		return false
	}
	same := a.Addr() == b.Addr()
	if !a.Addr().IsMulticast() && !b.Addr().IsMulticast() {
		// A socket on 0.0.0.0 or :: takes the port on every address.
		same = same || a.Addr().IsUnspecified() || b.Addr().IsUnspecified()
	}
	return same
}

// checkRTPClash reports an rtp:// camera (or substream) that would
// receive on the same address and port as an earlier one, or as its own
// source: the second could not bind, or the two would get each other's
// packets.
func (p *parser) checkRTPClash(cam Camera, earlier []Camera) {
	own := rtpUses(cam)
	for i, a := range own {
		for _, b := range own[:i] {
			if sameRTPPort(a.addr, b.addr) {
				p.errorf(cam.Line, "camera %s: substream %s receives on the same port as its source %s; give the substream a port of its own",
					quote(cam.Name), quote(a.source), quote(b.source))
				return
			}
		}
		for _, e := range earlier {
			for _, b := range rtpUses(e) {
				if !sameRTPPort(a.addr, b.addr) {
					continue
				}
				whose := ""
				if b.key == "substream" {
					whose = "its substream "
				}
				p.errorf(cam.Line, "camera %s: %s %s receives on the same port as camera %s (line %d), %s%s; give each rtp:// camera its own port",
					quote(cam.Name), a.key, quote(a.source), quote(e.Name), e.Line, whose, quote(b.source))
				return
			}
		}
	}
}

// checkName reports whether name is fit for URLs, and says why not at line.
// kind is "camera" or "wall"; url shows where the name appears, if not
// obvious.
func (p *parser) checkName(kind, url, name string, line int) bool {
	switch {
	case len(name) > maxCameraName:
		p.errorf(line, "%s name %s is too long (%d characters, at most %d)", kind, quote(name), len(name), maxCameraName)
		return false
	case !cameraNameRE.MatchString(name):
		p.errorf(line, "%s name %s is invalid: names are used in URLs%s and must match %s (lowercase letters, digits, '_' and '-', starting with a letter or digit)",
			kind, quote(name), url, cameraNameRE)
		return false
	}
	return true
}

func (p *parser) camera(kv pair, global hlsBlock) (Camera, bool) {
	name, line := kv.key, kv.k.Line
	ok := p.checkName("camera", "", name, line)
	cam := Camera{Name: name, Transport: TransportAuto, HLS: global.HLS, Line: line}
	prefix := fmt.Sprintf("camera %s: ", quote(name))
	v := resolve(kv.v)
	if isNull(v) {
		p.errorf(line, "%ssource is required (%s)", prefix, sourceForms)
		return cam, false
	}
	if v.Kind != yaml.MappingNode {
		p.errorf(v.Line, "camera %s must be a mapping with the keys %s, not %s", quote(name), strings.Join(cameraKeys, ", "), kindName(v))
		return cam, false
	}
	// The source decides which other keys apply, and may come after them.
	keys := make(map[string]*pair)
	var order []*pair
	for _, f := range p.pairs(v, "key") {
		if !slices.Contains(cameraKeys, f.key) {
			p.unknown(f.k, "in camera "+quote(name), cameraKeys)
			continue
		}
		keys[f.key] = &f
		order = append(order, &f)
	}
	if f := keys["source"]; f == nil {
		p.errorf(line, "%ssource is required (%s)", prefix, sourceForms)
		ok = false
	} else if fv := resolve(f.v); isNull(fv) {
		p.errorf(f.k.Line, "%ssource is empty (want %s)", prefix, sourceForms)
		ok = false
	} else if s, set := p.str(fv, prefix+"source"); !set || !p.source(&cam, s, fv.Line, prefix) {
		ok = false
	}
	if f := keys["substream"]; f != nil && !p.substream(&cam, *f, prefix) {
		ok = false
	}

	var hlsNode *yaml.Node
	sdpLine := 0
	for _, f := range order {
		if !p.applies(cam, *f, prefix) {
			ok = false
			continue
		}
		switch f.key {
		case "transport":
			s, set := p.str(f.v, prefix+"transport")
			switch {
			case !set:
			case slices.Contains(transports, s):
				cam.Transport = Transport(s)
			default:
				p.errorf(f.v.Line, "%stransport: %s is not one of %s%s", prefix, quote(s), strings.Join(transports, ", "), didYouMean(s, transports))
				ok = false
			}
		case "fingerprint":
			if fp, good := p.fingerprint(f.v, prefix); good {
				cam.Fingerprint = fp
			} else if !isNull(resolve(f.v)) {
				ok = false
			}
		case "sdp":
			sdpLine = resolve(f.v).Line
			if text, codec, good := p.sdp(resolve(f.v), prefix); good {
				cam.SDP, cam.SDPVideoCodec = text, codec
			} else {
				ok = false
			}
		case "hls":
			hlsNode = f.v
		}
	}
	if (keys["publishUser"] != nil || keys["publishPass"] != nil) && (cam.Kind == KindPublish || cam.Kind == "" || cam.Substream.Kind == KindPublish) {
		if !p.publishAuth(&cam, keys["publishUser"], keys["publishPass"], prefix) {
			ok = false
		}
	}
	if !p.onDemand(&cam, keys["onDemand"], keys["idleTimeout"], prefix) {
		ok = false
	}
	if (cam.Kind == KindRTP || cam.Substream.Kind == KindRTP) && keys["sdp"] == nil {
		p.errorf(line, "%ssdp is required for rtp:// sources: the SDP text, or the path of an SDP file, naming the stream's codec (such as %s)", prefix, sdpExample)
		ok = false
	}

	b := p.hls(hlsNode, global.inherited(), prefix+"hls.", "in hls of camera "+quote(name))
	p.checkHLS(prefix, b)
	cam.HLS = b.HLS
	if cam.SDPVideoCodec == CodecH265 {
		p.checkH265(b, sdpLine, prefix)
	}
	return cam, ok
}

// checkH265 reports a camera known to send H.265 whose variant cannot
// carry it. The line is that of the camera's own variant, or else of its
// sdp, which is what says H.265.
func (p *parser) checkH265(b hlsBlock, sdpLine int, prefix string) {
	st := b.at[fVariant]
	if b.Variant.CarriesH265() || st.bad {
		return
	}
	line, from := sdpLine, ""
	switch {
	case st.local:
		line = st.line
	case st.line == 0:
		from = fmt.Sprintf("; variant %s is the default", b.Variant)
	default:
		from = fmt.Sprintf("; variant %s is from hls at line %d", b.Variant, st.line)
	}
	p.errorf(line, "%sH.265 video needs variant %s or %s (%s carries only H.264 and AAC)%s",
		prefix, VariantFMP4, VariantLowLatency, VariantMPEGTS, from)
}

// pair is one key: value of a mapping.
type pair struct {
	key  string
	k, v *yaml.Node
}

// pairs returns the entries of mapping n in order, reporting duplicate
// keys (which yaml.v3 lets through when decoding into a Node) and
// expanding YAML merge keys ("<<: *defaults"), where keys written in the
// mapping win over merged ones and earlier merges win over later ones.
// noun names the keys in the duplicate message ("key", "camera").
func (p *parser) pairs(n *yaml.Node, noun string) []pair {
	// A mapping can merge itself ("a: &x {<<: *x}"), which the YAML
	// parser accepts; expanding it again would never end.
	if p.expanding[n] {
		return nil
	}
	if p.expanding == nil {
		p.expanding = make(map[*yaml.Node]bool)
	}
	p.expanding[n] = true
	defer delete(p.expanding, n)

	var out []pair
	index := make(map[string]int) // key -> position in out
	fromMerge := make(map[string]bool)
	add := func(kv pair, merged bool) {
		i, dup := index[kv.key]
		switch {
		case !dup:
			index[kv.key] = len(out)
			fromMerge[kv.key] = merged
			out = append(out, kv)
		case merged:
			// Keep what was written in the mapping or merged earlier.
		case fromMerge[kv.key]:
			out[i] = kv
			fromMerge[kv.key] = false
		default:
			p.errorf(kv.k.Line, "duplicate %s %s (first at line %d)", noun, quote(kv.key), out[i].k.Line)
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			for _, m := range p.mergeSources(v) {
				if p.expanding[m] {
					p.errorf(k.Line, "merge (<<) includes the mapping it is in")
					continue
				}
				for _, kv := range p.pairs(m, noun) {
					add(kv, true)
				}
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, "a %s must be a plain name, not %s", noun, kindName(k))
			continue
		}
		add(pair{key: k.Value, k: k, v: v}, false)
	}
	return out
}

// mergeSources returns the mappings named by the value of a "<<" key: one
// mapping or a list of them.
func (p *parser) mergeSources(v *yaml.Node) []*yaml.Node {
	v = resolve(v)
	switch v.Kind {
	case yaml.MappingNode:
		return []*yaml.Node{v}
	case yaml.SequenceNode:
		var ms []*yaml.Node
		for _, m := range v.Content {
			if m = resolve(m); m.Kind == yaml.MappingNode {
				ms = append(ms, m)
			} else {
				p.errorf(m.Line, "merge (<<) needs mappings, not %s", kindName(m))
			}
		}
		return ms
	}
	p.errorf(v.Line, "merge (<<) needs a mapping or a list of mappings, not %s", kindName(v))
	return nil
}

func (p *parser) unknown(k *yaml.Node, where string, known []string) {
	if where != "" {
		where = " " + where
	}
	p.errorf(k.Line, "unknown key %s%s (known: %s)%s", quote(k.Value), where, strings.Join(known, ", "), didYouMean(k.Value, known))
}

// str returns the text of a scalar. set is false when n is null (the key
// is treated as absent) or not a scalar (reported).
func (p *parser) str(n *yaml.Node, name string) (s string, set bool) {
	n = resolve(n)
	switch {
	case isNull(n):
		return "", false
	case n.Kind != yaml.ScalarNode:
		p.errorf(n.Line, "%s must be a string, not %s", name, kindName(n))
		return "", false
	}
	return n.Value, true
}

// duration parses a Go duration string ("1s", "200ms").
func (p *parser) duration(n *yaml.Node, name string) (time.Duration, bool) {
	if n.Kind != yaml.ScalarNode {
		p.errorf(n.Line, "%s must be a duration such as 1s or 200ms, not %s", name, kindName(n))
		return 0, false
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		if tag := n.ShortTag(); tag == "!!int" || tag == "!!float" {
			p.errorf(n.Line, "%s: %s has no unit (write %ss or %sms)", name, n.Value, n.Value, n.Value)
		} else {
			p.errorf(n.Line, "%s: %s is not a duration (write e.g. 1s, 1.5s or 200ms)", name, quote(n.Value))
		}
		return 0, false
	}
	return d, true
}

// integer parses a whole number; a quoted "7" is accepted too.
func (p *parser) integer(n *yaml.Node, name string) (int, bool) {
	if n.Kind == yaml.ScalarNode {
		var i int
		if n.ShortTag() == "!!int" && n.Decode(&i) == nil {
			return i, true
		}
		if i, err := strconv.Atoi(n.Value); err == nil {
			return i, true
		}
		p.errorf(n.Line, "%s: %s is not a whole number", name, quote(n.Value))
		return 0, false
	}
	p.errorf(n.Line, "%s must be a whole number, not %s", name, kindName(n))
	return 0, false
}

// quote quotes a value from the file for a message. Any value may be a
// URL pasted in the wrong place, with or without its scheme, so it goes
// through redactURL first.
func quote(s string) string {
	return strconv.Quote(redactURL(s))
}

// resolve follows YAML aliases (*name) to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return quote(n.Value)
	}
	return "empty"
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// didYouMean suggests the known word closest to got, for typos and wrong
// case ("segmentduration", "lowlatency").
func didYouMean(got string, known []string) string {
	best, bestDist := "", 0
	for _, k := range known {
		if strings.EqualFold(got, k) {
			return fmt.Sprintf("; did you mean %q?", k)
		}
		limit := max(1, min(3, len(k)/4))
		if d := editDistance(strings.ToLower(got), strings.ToLower(k)); d <= limit && (best == "" || d < bestDist) {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// editDistance is the optimal string alignment distance between a and b:
// Levenshtein plus swaps of adjacent letters, the commonest typo.
func editDistance(a, b string) int {
	// d[i][j] is the distance between a[:i] and b[:j].
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
