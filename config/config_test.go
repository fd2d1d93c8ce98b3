package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// parseErr parses src, which must be invalid, and returns its problems.
func parseErr(t *testing.T, src string) []Problem {
	t.Helper()
	cfg, err := Parse([]byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded, want an error; got %+v", cfg)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error is %T, want *Error: %v", err, err)
	}
	if e.File != "config" {
		t.Errorf("File = %q, want %q", e.File, "config")
	}
	// Every line of the message is FILE:LINE: msg, matching Problems.
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(e.Problems) {
		t.Fatalf("%d lines in Error() for %d problems:\n%v", len(lines), len(e.Problems), err)
	}
	for i, p := range e.Problems {
		if want := fmt.Sprintf("config:%d: %s", p.Line, p.Msg); lines[i] != want {
			t.Errorf("line %d of Error() = %q, want %q", i, lines[i], want)
		}
	}
	return e.Problems
}

func parseOK(t *testing.T, src string) *Config {
	t.Helper()
	cfg, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

// want is one expected problem: its line and words its message must hold.
type want struct {
	line int
	has  []string
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []want
	}{
		// Unknown keys and shapes.
		{"unknown top key", "listne: \":8080\"\n",
			[]want{{1, []string{`unknown key "listne" (known: listen, hls, cameras)`, `did you mean "listen"`}}}},
		{"unknown hls key", `listen: ":8080"
# the global block
hls:
  variant: lowLatency

  segmentCount: 7
  segmentDurtion: 1s
`, []want{{7, []string{`unknown key "segmentDurtion" in hls (known: variant, segmentDuration, partDuration, segmentCount)`}}}},
		{"unknown camera key", "cameras:\n  lobby:\n    source: demo\n    sorce: demo\n",
			[]want{{4, []string{`unknown key "sorce" in camera "lobby"`, "known: source, transport, hls"}}}},
		{"unknown camera hls key", "cameras:\n  lobby:\n    source: demo\n    hls:\n      segmentcount: 9\n",
			[]want{{5, []string{`unknown key "segmentcount" in hls of camera "lobby"`, `did you mean "segmentCount"`}}}},
		{"top is a list", "- a\n- b\n", []want{{1, []string{"must be a mapping", "a list"}}}},
		{"hls is a list", "hls:\n  - variant\n", []want{{2, []string{"hls must be a mapping"}}}},
		{"cameras is a list", "cameras:\n  - name: lobby\n    source: demo\n", []want{{2, []string{"cameras must be a mapping", "not a list"}}}},
		{"camera is a scalar", "cameras:\n  lobby: demo\n", []want{{2, []string{`camera "lobby" must be a mapping`}}}},
		{"duplicate camera", "cameras:\n  a:\n    source: demo\n  a:\n    source: demo\n",
			[]want{{4, []string{`duplicate camera "a" (first at line 2)`}}}},
		{"duplicate key", "cameras:\n  a:\n    source: demo\n    transport: tcp\n    transport: udp\n",
			[]want{{5, []string{`duplicate key "transport" (first at line 4)`}}}},
		{"cameras is a scalar", "cameras: lobby\n", []want{{1, []string{`cameras must be a mapping`, `"lobby"`}}}},
		{"merge of a scalar", "cameras:\n  a: &x demo\n  b:\n    <<: *x\n    source: demo\n",
			[]want{{2, []string{`camera "a" must be a mapping`}}, {2, []string{"merge (<<) needs a mapping"}}}},
		{"merge list with a scalar", "cameras:\n  a:\n    source: demo\n    <<: [x]\n", []want{{4, []string{"merge (<<) needs mappings"}}}},
		{"non-scalar key", "cameras:\n  ? [a, b]\n  : {source: demo}\n", []want{{2, []string{"plain name"}}}},

		// YAML itself.
		{"syntax", "hls:\n  variant: fmp4\n   bad: [\n", []want{{3, []string{"invalid YAML"}}}},
		{"tab", "hls:\n\tvariant: fmp4\n", []want{{2, []string{"invalid YAML", "tabs"}}}},
		{"broken second document", "listen: \":1\"\n---\nlisten: [\n", []want{{3, []string{"invalid YAML"}}}},
		{"segmentDuration map", "hls:\n  segmentDuration: {a: 1}\n", []want{{2, []string{"hls.segmentDuration must be a duration"}}}},
		{"two documents", "listen: \":1\"\n---\nlisten: \":2\"\n", []want{{3, []string{"only one YAML document"}}}},

		// listen.
		{"listen no colon", "listen: 8080\n", []want{{1, []string{`listen: "8080" is not host:port`, `":8080"`}}}},
		{"listen host only", "listen: localhost\n", []want{{1, []string{`listen: "localhost" is not host:port`}}}},
		{"listen bad port", "listen: \":99999\"\n", []want{{1, []string{"invalid port"}}}},
		{"listen empty port", "listen: \"localhost:\"\n", []want{{1, []string{"no port"}}}},
		{"listen list", "listen: [a]\n", []want{{1, []string{"listen must be a string"}}}},

		// Field types and ranges, global block.
		{"segmentCount abc", "hls:\n  segmentCount: abc\n", []want{{2, []string{"hls.segmentCount", `"abc" is not a whole number`}}}},
		{"segmentCount float", "hls:\n  segmentCount: 7.5\n", []want{{2, []string{"hls.segmentCount", "whole number"}}}},
		{"segmentCount map", "hls:\n  segmentCount: {a: 1}\n", []want{{2, []string{"hls.segmentCount must be a whole number"}}}},
		{"segmentCount too small", "hls:\n  segmentCount: 2\n", []want{{2, []string{"hls.segmentCount", "out of range", "3 to 100"}}}},
		{"segmentCount too big", "hls:\n  segmentCount: 101\n", []want{{2, []string{"hls.segmentCount", "out of range"}}}},
		{"segmentCount low for LL", "hls:\n  segmentCount: 5\n", []want{{2, []string{"segmentCount 5 is too small", "lowLatency", "at least 7"}}}},
		{"segmentDuration word", "hls:\n  segmentDuration: fast\n", []want{{2, []string{"hls.segmentDuration", `"fast" is not a duration`}}}},
		{"segmentDuration no unit", "hls:\n  segmentDuration: 2\n", []want{{2, []string{"hls.segmentDuration", "no unit", "2s"}}}},
		{"segmentDuration zero", "hls:\n  segmentDuration: 0s\n", []want{{2, []string{"hls.segmentDuration", "greater than 0"}}}},
		{"segmentDuration negative", "hls:\n  segmentDuration: -1s\n", []want{{2, []string{"hls.segmentDuration", "greater than 0"}}}},
		{"segmentDuration too long", "hls:\n  segmentDuration: 61s\n", []want{{2, []string{"hls.segmentDuration", "too long", "1m0s"}}}},
		{"partDuration too short", "hls:\n  partDuration: 5ms\n", []want{{2, []string{"hls.partDuration", "too short", "10ms"}}}},
		{"partDuration zero", "hls:\n  partDuration: 0s\n", []want{{2, []string{"hls.partDuration", "greater than 0"}}}},
		{"part not shorter than segment", "hls:\n  segmentDuration: 1s\n  partDuration: 1s\n",
			[]want{{3, []string{"partDuration 1s must be shorter than segmentDuration 1s"}}}},
		{"default part vs short segment", "hls:\n  segmentDuration: 150ms\n",
			[]want{{2, []string{"partDuration 200ms (default) must be shorter than segmentDuration 150ms"}}}},
		{"variant", "hls:\n  variant: hls\n", []want{{2, []string{"hls.variant", `"hls" is not one of lowLatency, fmp4, mpegts`}}}},
		{"variant case", "hls:\n  variant: LowLatency\n", []want{{2, []string{`did you mean "lowLatency"`}}}},

		// Camera names.
		{"name upper", "cameras:\n  Lobby:\n    source: demo\n", []want{{2, []string{`camera name "Lobby" is invalid`, "^[a-z0-9][a-z0-9_-]*$"}}}},
		{"name dash first", "cameras:\n  -x:\n    source: demo\n", []want{{2, []string{`camera name "-x" is invalid`}}}},
		{"name space", "cameras:\n  my cam:\n    source: demo\n", []want{{2, []string{`camera name "my cam" is invalid`}}}},
		{"name too long", "cameras:\n  " + strings.Repeat("a", 65) + ":\n    source: demo\n", []want{{2, []string{"too long", "65 characters", "at most 64"}}}},

		// Sources and transports.
		{"no source", "cameras:\n  lobby:\n    transport: tcp\n", []want{{2, []string{`camera "lobby": source is required`}}}},
		{"null camera", "cameras:\n  lobby:\n", []want{{2, []string{`camera "lobby": source is required`}}}},
		{"empty source", "cameras:\n  lobby:\n    source:\n", []want{{3, []string{`camera "lobby": source is empty`}}}},
		{"http source", "cameras:\n  lobby:\n    source: http://cam/x\n", []want{{3, []string{`camera "lobby"`, "rtsp://", "not http://"}}}},
		{"garbage source", "cameras:\n  lobby:\n    source: garbage\n", []want{{3, []string{`camera "lobby"`, `"garbage"`, "missing rtsp://"}}}},
		{"source without scheme", "cameras:\n  lobby:\n    source: 192.168.1.10:554/stream\n", []want{{3, []string{`camera "lobby"`, "missing rtsp://"}}}},
		{"source no host", "cameras:\n  lobby:\n    source: rtsp:///stream\n", []want{{3, []string{`camera "lobby"`, "has no host"}}}},
		{"source port only", "cameras:\n  lobby:\n    source: rtsp://:554/stream\n", []want{{3, []string{`camera "lobby"`, "has no host"}}}},
		{"source opaque", "cameras:\n  lobby:\n    source: \"rtsp:cam\"\n", []want{{3, []string{`camera "lobby"`, "missing rtsp://"}}}},
		{"source port 0", "cameras:\n  lobby:\n    source: rtsp://cam:0/x\n", []want{{3, []string{`camera "lobby"`, "invalid port (1 to 65535)"}}}},
		{"source port big", "cameras:\n  lobby:\n    source: rtsp://cam:70000/x\n", []want{{3, []string{`camera "lobby"`, "invalid port (1 to 65535)"}}}},
		{"source space", "cameras:\n  lobby:\n    source: rtsp://cam/my stream\n", []want{{3, []string{`camera "lobby"`, "white space"}}}},
		{"source list", "cameras:\n  lobby:\n    source: [a]\n", []want{{3, []string{`camera "lobby": source must be a string`}}}},
		{"transport", "cameras:\n  lobby:\n    source: demo\n    transport: quic\n", []want{{4, []string{`camera "lobby": transport: "quic" is not one of auto, tcp, udp`}}}},

		// Camera hls overrides.
		{"camera segmentCount abc", "cameras:\n  lobby:\n    source: demo\n    hls:\n      segmentCount: abc\n",
			[]want{{5, []string{`camera "lobby": hls.segmentCount: "abc" is not a whole number`}}}},
		{"camera hls scalar", "cameras:\n  lobby:\n    source: demo\n    hls: fmp4\n", []want{{4, []string{`camera "lobby": hls must be a mapping`}}}},
		{"camera variant makes count too small", `hls:
  variant: fmp4
  segmentCount: 3
cameras:
  ok:
    source: demo
  lobby:
    source: demo
    hls:
      variant: lowLatency
`, []want{{10, []string{`camera "lobby": segmentCount 3 (from hls at line 3) is too small for variant lowLatency`}}}},
		{"camera short segment vs inherited part", "hls:\n  partDuration: 300ms\ncameras:\n  lobby:\n    source: demo\n    hls: {segmentDuration: 250ms}\n",
			[]want{{6, []string{`camera "lobby": partDuration 300ms (from hls at line 2) must be shorter than segmentDuration 250ms`}}}},
		{"global mistake reported once", "hls:\n  segmentCount: 5\ncameras:\n  a: {source: demo}\n  b: {source: demo, transport: tcp}\n",
			[]want{{2, []string{"hls: segmentCount 5 is too small"}}}},

		// Everything at once: all problems, in file order.
		{"many", `listen: nope
hls:
  segmentCount: x
cameras:
  Bad:
    source: demo
  good:
    source: ftp://h/
    transport: tcp
    extra: 1
`, []want{
			{1, []string{"listen"}},
			{3, []string{"hls.segmentCount"}},
			{5, []string{`camera name "Bad"`}},
			{8, []string{`camera "good"`, "ftp://"}},
			{10, []string{`unknown key "extra"`}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErr(t, tt.src)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(got), len(tt.want), (&Error{File: "config", Problems: got}).Error())
			}
			for i, w := range tt.want {
				if got[i].Line != w.line {
					t.Errorf("problem %d at line %d, want %d: %s", i, got[i].Line, w.line, got[i].Msg)
				}
				for _, s := range w.has {
					if !strings.Contains(got[i].Msg, s) {
						t.Errorf("problem %d = %q, want it to contain %q", i, got[i].Msg, s)
					}
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	cfg := parseOK(t, "cameras:\n  lobby:\n    source: rtsp://cam/stream\n")
	if cfg.Path != "" {
		t.Errorf("Path = %q, want empty for Parse", cfg.Path)
	}
	if cfg.Listen != DefaultListen {
		t.Errorf("Listen = %q, want %q", cfg.Listen, DefaultListen)
	}
	if cfg.HLS != DefaultHLS {
		t.Errorf("HLS = %+v, want %+v", cfg.HLS, DefaultHLS)
	}
	want := []Camera{{Name: "lobby", Source: "rtsp://cam/stream", Transport: TransportAuto, HLS: DefaultHLS, Line: 2}}
	if !reflect.DeepEqual(cfg.Cameras, want) {
		t.Errorf("Cameras = %+v, want %+v", cfg.Cameras, want)
	}
}

// Files with no cameras are valid: the wall is just empty.
func TestNoCameras(t *testing.T) {
	for _, src := range []string{"", "# nothing yet\n", "cameras:\n", "cameras: {}\n", "listen: \":9000\"\nhls: {}\n"} {
		cfg := parseOK(t, src)
		if len(cfg.Cameras) != 0 || cfg.HLS != DefaultHLS {
			t.Errorf("%q: got %+v", src, cfg)
		}
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		name, src string
		check     func(*Config) bool
	}{
		{"listen host", "listen: 127.0.0.1:9000\n", func(c *Config) bool { return c.Listen == "127.0.0.1:9000" }},
		{"listen ipv6", "listen: \"[::1]:9000\"\n", func(c *Config) bool { return c.Listen == "[::1]:9000" }},
		{"listen port 0", "listen: \":0\"\n", func(c *Config) bool { return c.Listen == ":0" }},
		{"listen null keeps default", "listen:\n", func(c *Config) bool { return c.Listen == DefaultListen }},
		{"fmp4 with 3 segments", "hls: {variant: fmp4, segmentCount: 3}\n", func(c *Config) bool { return c.HLS.SegmentCount == 3 }},
		// Parts exist only in Low-Latency HLS, so their length does not
		// matter for the other variants.
		{"mpegts with short segments", "hls: {variant: mpegts, segmentDuration: 100ms}\n", func(c *Config) bool {
			return c.HLS.SegmentDuration == 100*time.Millisecond
		}},
		{"quoted count", "hls: {segmentCount: \"8\"}\n", func(c *Config) bool { return c.HLS.SegmentCount == 8 }},
		{"hex count", "hls: {segmentCount: 0x10}\n", func(c *Config) bool { return c.HLS.SegmentCount == 16 }},
		{"bounds", "hls: {segmentDuration: 60s, partDuration: 10ms, segmentCount: 100}\n", func(c *Config) bool {
			return c.HLS == HLS{VariantLowLatency, time.Minute, 10 * time.Millisecond, 100}
		}},
		{"name 64 chars", "cameras:\n  " + strings.Repeat("a", 64) + ": {source: demo}\n", func(c *Config) bool { return len(c.Cameras) == 1 }},
		{"odd names", "cameras:\n  0: {source: demo}\n  a_b-c: {source: demo}\n", func(c *Config) bool {
			return c.Cameras[0].Name == "0" && c.Cameras[1].Name == "a_b-c"
		}},
		{"sources", `cameras:
  a: {source: "rtsp://10.0.0.1/x"}
  b: {source: "rtsps://user:p%40ss@cam.example:322/live?ch=1"}
  c: {source: "RTSP://cam"}
  d: {source: "rtsp://[fe80::1]:554/x"}
  e: {source: "rtsp://user@cam/x"}
`, func(c *Config) bool { return len(c.Cameras) == 5 }},
		{"transports", "cameras:\n  a: {source: demo, transport: tcp}\n  b: {source: demo, transport: udp}\n  c: {source: demo, transport: auto}\n", func(c *Config) bool {
			return c.Cameras[0].Transport == TransportTCP && c.Cameras[1].Transport == TransportUDP && c.Cameras[2].Transport == TransportAuto
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if cfg := parseOK(t, tt.src); !tt.check(cfg) {
				t.Errorf("unexpected config: %+v", cfg)
			}
		})
	}
}

func TestOverrideMerge(t *testing.T) {
	cfg := parseOK(t, `hls:
  segmentDuration: 2s
  partDuration: 500ms
  segmentCount: 10
cameras:
  plain:
    source: demo
  variant-only:
    source: demo
    hls:
      variant: fmp4
  count-only:
    source: demo
    hls: { segmentCount: 20 }
  null-block:
    source: demo
    hls:
  all:
    source: demo
    hls: { variant: mpegts, segmentDuration: 4s, partDuration: 1s, segmentCount: 3 }
`)
	global := HLS{VariantLowLatency, 2 * time.Second, 500 * time.Millisecond, 10}
	if cfg.HLS != global {
		t.Errorf("global HLS = %+v, want %+v", cfg.HLS, global)
	}
	want := map[string]HLS{
		"plain":        global,
		"variant-only": {VariantFMP4, 2 * time.Second, 500 * time.Millisecond, 10},
		"count-only":   {VariantLowLatency, 2 * time.Second, 500 * time.Millisecond, 20},
		"null-block":   global,
		"all":          {VariantMPEGTS, 4 * time.Second, time.Second, 3},
	}
	if len(cfg.Cameras) != len(want) {
		t.Fatalf("%d cameras, want %d", len(cfg.Cameras), len(want))
	}
	for _, c := range cfg.Cameras {
		if c.HLS != want[c.Name] {
			t.Errorf("camera %q: HLS = %+v, want %+v", c.Name, c.HLS, want[c.Name])
		}
	}
}

func TestCameraOrder(t *testing.T) {
	cfg := parseOK(t, `cameras:
  zeta:
    source: demo
  alpha:
    source: demo

  mid:
    source: demo
`)
	var names []string
	var lines []int
	for _, c := range cfg.Cameras {
		names = append(names, c.Name)
		lines = append(lines, c.Line)
	}
	if want := []string{"zeta", "alpha", "mid"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names = %v, want %v", names, want)
	}
	if want := []int{2, 4, 7}; !reflect.DeepEqual(lines, want) {
		t.Errorf("lines = %v, want %v", lines, want)
	}
	if c, ok := cfg.Camera("alpha"); !ok || c.Name != "alpha" {
		t.Errorf("Camera(alpha) = %+v, %v", c, ok)
	}
	if _, ok := cfg.Camera("nope"); ok {
		t.Error("Camera(nope) found")
	}
}

// Anchors and merge keys let cameras share settings.
func TestAnchors(t *testing.T) {
	cfg := parseOK(t, `hls: &fast
  variant: fmp4
  segmentDuration: 500ms
  segmentCount: 3
cameras:
  a: &base
    source: rtsp://cam-a/x
    transport: tcp
  b:
    <<: *base
    source: rtsp://cam-b/x
    hls: *fast
`)
	b, _ := cfg.Camera("b")
	want := Camera{Name: "b", Source: "rtsp://cam-b/x", Transport: TransportTCP,
		HLS: HLS{VariantFMP4, 500 * time.Millisecond, DefaultHLS.PartDuration, 3}, Line: 9}
	if b != want {
		t.Errorf("b = %+v, want %+v", b, want)
	}

	// With a list of merges, the first to set a key wins.
	cfg = parseOK(t, `cameras:
  a: &tcp {source: "rtsp://a/x", transport: tcp}
  b: &udp {source: "rtsp://b/x", transport: udp}
  c:
    <<: [*udp, *tcp]
`)
	if c, _ := cfg.Camera("c"); c.Source != "rtsp://b/x" || c.Transport != TransportUDP {
		t.Errorf("c = %+v", c)
	}

	got := parseErr(t, "cameras:\n  a: &x\n    source: demo\n    <<: *x\n")
	if len(got) != 1 || got[0].Line != 4 || !strings.Contains(got[0].Msg, "merge") {
		t.Errorf("self merge: %+v", got)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join("testdata", "valid.yml")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Path != path || cfg.Listen != "127.0.0.1:8080" || len(cfg.Cameras) != 2 {
		t.Errorf("got %+v", cfg)
	}
	lobby, _ := cfg.Camera("lobby")
	if lobby.HLS.Variant != VariantFMP4 || lobby.Transport != TransportTCP || lobby.Line != 9 {
		t.Errorf("lobby = %+v", lobby)
	}
	if got, want := lobby.Redacted(), "rtsp://admin:xxxxx@192.168.1.10:554/stream1"; got != want {
		t.Errorf("Redacted() = %q, want %q", got, want)
	}

	// Errors are prefixed with the path, and never show the password.
	path = filepath.Join("testdata", "invalid.yml")
	_, err = Load(path)
	var e *Error
	if !errors.As(err, &e) || e.File != path {
		t.Fatalf("Load(%s) = %v, want an *Error for that file", path, err)
	}
	want := path + ":2: unknown key \"segmentDurtion\" in hls (known: variant, segmentDuration, partDuration, segmentCount)"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %q, want prefix %q", err, want)
	}
	if !strings.Contains(err.Error(), path+`:5: camera "door": source "rtsp://u:xxxxx@/nohost" has no host`) {
		t.Errorf("error lacks the source problem: %v", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error shows the password: %v", err)
	}

	_, err = Load(filepath.Join(t.TempDir(), "missing.yml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}

// The lead's config.yml at the repository root must stay valid.
func TestRepoConfig(t *testing.T) {
	path := filepath.Join("..", "config.yml")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		t.Skip("no config.yml at the repository root yet")
	}
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
}

// A password must not leak through any error, however malformed the URL
// around it and wherever in the file it was pasted.
func TestPasswordNotInErrors(t *testing.T) {
	passwords := []string{"s3cret", "pa/ss9", "pa#ss9", "pa:ss9", "p@ss9", "pa ss9", "pa?ss9", `pa"ss9`, "pa%zz9", "pa\\ss9"}
	templates := []string{
		"cameras:\n  a:\n    source: %q\n",
		"cameras:\n  a: %q\n",
		"cameras:\n  %q: {source: demo}\n",
		"listen: %q\n",
		"hls:\n  variant: %q\n",
		"%q: 1\n",
	}
	urls := []string{
		"rtsp://admin:%s@/nohost",
		"http://admin:%s@cam/x",
		"rtsp://admin:%s@cam:99999/x",
		"rtsp://admin:%s@cam/x y",
		"admin:%s@cam/x",
		"rtsp:/admin:%s@cam/x",
		"rtsp://admin:%s@cam:x/",
	}
	for _, pw := range passwords {
		for _, u := range urls {
			for _, tmpl := range templates {
				src := fmt.Sprintf(tmpl, fmt.Sprintf(u, pw))
				_, err := Parse([]byte(src))
				if err == nil {
					continue // e.g. the password made a valid URL
				}
				if msg := err.Error(); strings.Contains(msg, pw) {
					t.Errorf("password %q leaked from\n%s\ninto\n%s", pw, src, msg)
				}
			}
		}
	}
}
