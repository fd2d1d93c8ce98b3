package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Keys and limits of the web side: tls, redirectListen and walls.
var (
	tlsKeys  = []string{"cert", "key"}
	wallKeys = []string{"cameras", "grid"}
)

// tlsAuto is the tls: value that makes rtsp2hls use its own certificate.
const tlsAuto = "auto"

// tlsForms lists the accepted tls: values, for messages.
const tlsForms = "auto, or a mapping {cert: FILE, key: FILE}"

// maxGrid bounds each side of a wall's grid: 10x10 tiles are already
// too small to tell anything apart on a large screen.
const maxGrid = 10

var gridRE = regexp.MustCompile(`^([0-9]+)x([0-9]+)$`)

// tls parses the tls: value n. Given files are loaded here, so that a
// missing file, a key of another certificate or a file that is not PEM
// fails at startup with the line that names it.
func (p *parser) tls(n *yaml.Node) TLS {
	n = resolve(n)
	switch {
	case isNull(n):
		return TLS{} // "tls:" with no value: plain HTTP, as with no key
	case n.Kind == yaml.ScalarNode:
		if n.Value == tlsAuto {
			return TLS{Auto: true}
		}
		hint := didYouMean(n.Value, []string{tlsAuto})
		if hint == "" {
			hint = " (leave tls out to serve plain HTTP)"
		}
		p.errorf(n.Line, "tls: %s must be %s%s", quote(n.Value), tlsForms, hint)
		return TLS{}
	case n.Kind != yaml.MappingNode:
		p.errorf(n.Line, "tls must be %s, not %s", tlsForms, kindName(n))
		return TLS{}
	}
	var t TLS
	lines := map[string]int{} // key -> line of its value
	for _, kv := range p.pairs(n, "key") {
		if !slices.Contains(tlsKeys, kv.key) {
			p.unknown(kv.k, "in tls", tlsKeys)
			continue
		}
		name := "tls." + kv.key
		s, set := p.str(kv.v, name)
		switch {
		case !set && !isNull(resolve(kv.v)):
			// not a string: reported
		case !set || strings.TrimSpace(s) == "":
			p.errorf(kv.v.Line, "%s is empty (want the path of a PEM file)", name)
		case kv.key == "cert":
			t.Cert, lines["cert"] = p.path(s), kv.v.Line
		default:
			t.Key, lines["key"] = p.path(s), kv.v.Line
		}
		if lines[kv.key] == 0 {
			lines[kv.key] = -1 // written, but unusable: reported
		}
	}
	switch cl, kl := lines["cert"], lines["key"]; {
	case cl < 0 || kl < 0:
		return TLS{}
	case cl == 0 && kl == 0:
		p.errorf(n.Line, "tls needs cert and key (PEM files), or write tls: auto for a certificate made by rtsp2hls")
		return TLS{}
	case kl == 0:
		p.errorf(cl, "tls.cert needs tls.key too: the PEM file of the certificate's private key")
		return TLS{}
	case cl == 0:
		p.errorf(kl, "tls.key needs tls.cert too: the PEM file of the certificate (and its chain)")
		return TLS{}
	}
	if _, err := tls.LoadX509KeyPair(t.Cert, t.Key); err != nil {
		// The reason of a failed open repeats the path unquoted, where
		// quote would hide a password pasted into the wrong key.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		p.errorf(lines["cert"], "tls: cannot use cert %s with key %s: %v", quote(t.Cert), quote(t.Key), err)
		return TLS{}
	}
	return t
}

// redirectListen checks the redirectListen: key kv. tlsSet says whether
// tls: was given; the lines are those of listen and rtsp.listen (0 for a
// default, -1 when invalid); publish, whether the RTSP server runs.
func (p *parser) redirectListen(cfg *Config, kv pair, tlsSet bool, listenLine, rtspLine int, publish bool) {
	s, ok := p.str(kv.v, "redirectListen")
	if !ok || !p.checkListen("redirectListen", s, kv.v.Line) {
		return
	}
	line := kv.v.Line
	if !tlsSet {
		p.errorf(line, "redirectListen %s redirects plain HTTP to HTTPS, so it needs tls (auto, or cert and key)", quote(s))
		return
	}
	if listenLine >= 0 && sameListenPort(s, cfg.Listen) {
		p.errorf(line, "redirectListen %s uses the same port as listen %s (%s); give the redirect a port of its own",
			quote(s), quote(cfg.Listen), origin(listenLine))
		return
	}
	if publish && rtspLine >= 0 && sameListenPort(s, cfg.RTSP.Listen) {
		p.errorf(line, "redirectListen %s uses the same port as rtsp.listen %s (%s); give the redirect a port of its own",
			quote(s), quote(cfg.RTSP.Listen), origin(rtspLine))
		return
	}
	cfg.RedirectListen = s
}

// sameListenPort reports whether servers listening on a and b (valid
// host:port addresses) would take the same port: the second would fail
// with "address already in use".
func sameListenPort(a, b string) bool {
	h1, p1, _ := net.SplitHostPort(a)
	h2, p2, _ := net.SplitHostPort(b)
	n1, err1 := net.LookupPort("tcp", p1)
	n2, err2 := net.LookupPort("tcp", p2)
	if err1 != nil || err2 != nil || n1 != n2 || n1 == 0 {
		return false // port 0 picks a free port each time
	}
	anyHost := func(h string) bool {
		a, err := netip.ParseAddr(h)
		return h == "" || (err == nil && a.IsUnspecified())
	}
	return h1 == h2 || anyHost(h1) || anyHost(h2)
}

// origin says where a listen address came from: "line 3" or "default".
func origin(line int) string {
	if line == 0 {
		return "default"
	}
	return fmt.Sprintf("line %d", line)
}

// walls parses the walls: mapping. It runs after cameras, whose names the
// walls refer to.
func (p *parser) walls(n *yaml.Node) []Wall {
	n = resolve(n)
	switch {
	case isNull(n):
		return nil
	case n.Kind == yaml.SequenceNode:
		p.errorf(n.Line, "walls must be a mapping from name to wall, not a list (write \"lobby: {cameras: [a, b]}\" rather than \"- name: lobby\")")
		return nil
	case n.Kind != yaml.MappingNode:
		p.errorf(n.Line, "walls must be a mapping from name to wall, not %s", kindName(n))
		return nil
	}
	var walls []Wall
	for _, kv := range p.pairs(n, "wall") {
		if w, ok := p.wall(kv); ok {
			walls = append(walls, w)
		}
	}
	return walls
}

func (p *parser) wall(kv pair) (Wall, bool) {
	name, line := kv.key, kv.k.Line
	ok := p.checkName("wall", " (/walls/NAME)", name, line)
	w := Wall{Name: name, Line: line}
	prefix := fmt.Sprintf("wall %s: ", quote(name))
	v := resolve(kv.v)
	switch {
	case isNull(v):
		p.errorf(line, "%scameras is required (a list of camera names)", prefix)
		return w, false
	case v.Kind == yaml.SequenceNode:
		p.errorf(v.Line, "wall %s must be a mapping with the keys %s, not a list (write cameras: [a, b])", quote(name), strings.Join(wallKeys, ", "))
		return w, false
	case v.Kind != yaml.MappingNode:
		p.errorf(v.Line, "wall %s must be a mapping with the keys %s, not %s", quote(name), strings.Join(wallKeys, ", "), kindName(v))
		return w, false
	}
	var cams *pair
	var grid *yaml.Node
	for _, f := range p.pairs(v, "key") {
		switch f.key {
		case "cameras":
			cams = &f
		case "grid":
			grid = f.v
		default:
			p.unknown(f.k, "in wall "+quote(name), wallKeys)
		}
	}
	if cams == nil {
		p.errorf(line, "%scameras is required (a list of camera names)", prefix)
		return w, false
	}
	names, good := p.wallCameras(*cams, prefix)
	w.Cameras = names
	ok = ok && good
	if g := resolve(grid); !isNull(g) {
		if s, set := p.str(g, prefix+"grid"); !set {
			ok = false
		} else if w.Grid, good = p.grid(s, g.Line, prefix); !good {
			ok = false
		} else if n := w.Grid.Cols * w.Grid.Rows; n < len(names) {
			p.errorf(g.Line, "%sgrid %s has room for %d cameras, not the %d listed", prefix, s, n, len(names))
			ok = false
		}
	}
	return w, ok
}

// wallCameras checks a wall's list of cameras: names of configured
// cameras, each once.
func (p *parser) wallCameras(kv pair, prefix string) ([]string, bool) {
	return p.cameraList(kv, prefix, false)
}

// cameraList parses a list of names of configured cameras, each listed
// once: the cameras of a wall, or of a user, where allowAll lets "*"
// alone stand for every camera.
func (p *parser) cameraList(kv pair, prefix string, allowAll bool) ([]string, bool) {
	v := resolve(kv.v)
	want := "a list of camera names"
	if allowAll {
		want += `, or ["*"] for all`
	}
	switch {
	case isNull(v):
		p.errorf(kv.k.Line, "%scameras is empty (want %s)", prefix, want)
		return nil, false
	case allowAll && v.Kind == yaml.ScalarNode && v.Value == AllCameras:
		p.errorf(v.Line, "%scameras must be a list: write [\"*\"] for every camera", prefix)
		return nil, false
	case v.Kind != yaml.SequenceNode:
		if !allowAll {
			want += " such as [lobby, gate]"
		}
		p.errorf(v.Line, "%scameras must be %s, not %s", prefix, want, kindName(v))
		return nil, false
	case len(v.Content) == 0:
		p.errorf(v.Line, "%scameras is empty (want %s)", prefix, want)
		return nil, false
	}
	known := slices.Sorted(maps.Keys(p.cameraNames))
	ok := true
	var names []string
	first := map[string]int{}
	for _, item := range v.Content {
		item = resolve(item)
		s, set := p.str(item, prefix+"cameras item")
		switch {
		case !set:
			if isNull(item) {
				p.errorf(item.Line, "%scameras has an empty item", prefix)
			}
			ok = false
		case !p.cameraNames[s] && !(allowAll && s == AllCameras):
			p.errorf(item.Line, "%scamera %s is not in cameras%s", prefix, quote(s), didYouMean(s, known))
			ok = false
		case first[s] > 0:
			p.errorf(item.Line, "%scamera %s is listed twice (first at line %d)", prefix, quote(s), first[s])
			ok = false
		default:
			first[s] = item.Line
			names = append(names, s)
		}
	}
	if ok && len(names) > 1 && slices.Contains(names, AllCameras) {
		p.errorf(v.Line, "%scameras: \"*\" already allows every camera; write [\"*\"] alone, or only names", prefix)
		ok = false
	}
	return names, ok
}

// grid parses a wall's grid: COLUMNSxROWS.
func (p *parser) grid(s string, line int, prefix string) (Grid, bool) {
	m := gridRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		p.errorf(line, "%sgrid %s must be COLUMNSxROWS, such as 3x3 or 4x2", prefix, quote(s))
		return Grid{}, false
	}
	cols, err1 := strconv.Atoi(m[1])
	rows, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil || cols < 1 || rows < 1 || cols > maxGrid || rows > maxGrid {
		p.errorf(line, "%sgrid %s is out of range (1x1 to %dx%d)", prefix, quote(s), maxGrid, maxGrid)
		return Grid{}, false
	}
	return Grid{Cols: cols, Rows: rows}, true
}
