package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
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
			[]want{{1, []string{`unknown key "listne" (known: listen, tls, redirectListen, dataDir, rtsp, hls, cameras, walls, log, users, tokenSecret, adminListen, allowOrigins, frameAncestors, limits)`, `did you mean "listen"`}}}},
		{"unknown hls key", `listen: ":8080"
# the global block
hls:
  variant: lowLatency

  segmentCount: 7
  segmentDurtion: 1s
`, []want{{7, []string{`unknown key "segmentDurtion" in hls (known: variant, segmentDuration, partDuration, segmentCount, profile)`}}}},
		{"unknown camera key", "cameras:\n  lobby:\n    source: demo\n    sorce: demo\n",
			[]want{{4, []string{`unknown key "sorce" in camera "lobby"`, "known: source, substream, transport, fingerprint, publishUser, publishPass, sdp, hls"}}}},
		{"unknown camera hls key", "cameras:\n  lobby:\n    source: demo\n    hls:\n      segmentcount: 9\n",
			[]want{{5, []string{`unknown key "segmentcount" in hls of camera "lobby"`, `did you mean "segmentCount"`}}}},
		{"top is a list", "- a\n- b\n", []want{{1, []string{"must be a mapping", "a list"}}}},
		{"hls is a list", "hls:\n  - variant\n", []want{{2, []string{"hls must be a mapping"}}}},
		{"cameras is a list", "cameras:\n  - name: lobby\n    source: demo\n", []want{{2, []string{"cameras must be a mapping", "not a list"}}}},
		{"camera is a scalar", "cameras:\n  lobby: demo\n", []want{{2, []string{`camera "lobby" must be a mapping`}}}},
		{"duplicate camera", "cameras:\n  a:\n    source: demo\n  a:\n    source: demo\n",
			[]want{{4, []string{`duplicate camera "a" (first at line 2)`}}}},
		{"duplicate key", "cameras:\n  a:\n    source: rtsp://cam/x\n    transport: tcp\n    transport: udp\n",
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
		{"transport", "cameras:\n  lobby:\n    source: rtsp://cam/x\n    transport: quic\n", []want{{4, []string{`camera "lobby": transport: "quic" is not one of auto, tcp, udp, multicast`}}}},

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
		{"global mistake reported once", "hls:\n  segmentCount: 5\ncameras:\n  a: {source: demo}\n  b: {source: publish, publishUser: u, publishPass: p}\n",
			[]want{{2, []string{"hls: segmentCount 5 is too small"}}}},

		// rtsp: block.
		{"rtsp scalar", "rtsp: \":8554\"\n", []want{{1, []string{`rtsp must be a mapping with the keys listen, not ":8554"`}}}},
		{"rtsp unknown key", "rtsp:\n  port: 8554\n", []want{{2, []string{`unknown key "port" in rtsp (known: listen)`}}}},
		{"rtsp listen typo", "rtsp:\n  lisen: \":8554\"\n", []want{{2, []string{`unknown key "lisen" in rtsp`, `did you mean "listen"`}}}},
		{"rtsp listen no colon", "rtsp:\n  listen: 8554\n", []want{{2, []string{`rtsp.listen: "8554" is not host:port`, `write ":8554"`}}}},
		{"rtsp listen bad port", "rtsp: {listen: \":70000\"}\n", []want{{1, []string{`rtsp.listen: ":70000" has an invalid port`}}}},
		{"rtsp listen empty port", "rtsp: {listen: \"localhost:\"}\n", []want{{1, []string{`rtsp.listen: "localhost:" has no port`}}}},
		{"rtsp listen list", "rtsp:\n  listen: [a]\n", []want{{2, []string{"rtsp.listen must be a string, not a list"}}}},
		{"rtsp listen clashes", "listen: \":8080\"\nrtsp:\n  listen: \":8080\"\ncameras:\n  cam: {source: publish}\n",
			[]want{{3, []string{`rtsp.listen ":8080" uses the same port as listen ":8080" (line 1); publish cameras need the RTSP server on a port of its own`}}}},
		{"rtsp listen clashes with default listen", "rtsp: {listen: \"127.0.0.1:8080\"}\ncameras:\n  cam: {source: publish}\n",
			[]want{{1, []string{`rtsp.listen "127.0.0.1:8080" uses the same port as listen ":8080" (default)`}}}},
		{"listen clashes with default rtsp", "listen: 127.0.0.1:8554\ncameras:\n  cam: {source: publish}\n",
			[]want{{1, []string{`listen "127.0.0.1:8554" uses the same port as rtsp.listen ":8554" (default)`, "set rtsp.listen to another one"}}}},

		// Source kinds.
		{"source required lists kinds", "cameras:\n  lobby:\n    hls: {}\n",
			[]want{{2, []string{`camera "lobby": source is required (an rtsp://, rtsps:// or rtp:// URL, demo, publish or exec:COMMAND)`}}}},
		{"source word case", "cameras:\n  lobby:\n    source: Demo\n", []want{{3, []string{`source "Demo" must be an rtsp://, rtsps:// or rtp:// URL, demo, publish or exec:COMMAND; did you mean "demo"?`}}}},
		{"source publish typo", "cameras:\n  lobby:\n    source: pubish\n", []want{{3, []string{`did you mean "publish"?`}}}},
		{"exec without command", "cameras:\n  cam:\n    source: \"exec:\"\n", []want{{3, []string{`camera "cam": source "exec:" has no command (write e.g. exec:rpicam-vid -t 0 --inline -o -)`}}}},
		{"exec blank command", "cameras:\n  cam:\n    source: \"exec:   \"\n", []want{{3, []string{`camera "cam": source "exec:   " has no command`}}}},
		{"rtp host name", "cameras:\n  cam:\n    source: rtp://cam.local:5004\n    sdp: testdata/h264.sdp\n",
			[]want{{3, []string{`camera "cam": source "rtp://cam.local:5004" has a host that is not an IP address`, "multicast group"}}}},
		{"rtp no port", "cameras:\n  cam:\n    source: rtp://239.0.0.1\n", []want{{3, []string{`source "rtp://239.0.0.1" has no port (write e.g. rtp://239.0.0.1:5004)`}}}},
		{"rtp empty port", "cameras:\n  cam:\n    source: \"rtp://239.0.0.1:\"\n", []want{{3, []string{`has no port`}}}},
		{"rtp port 0", "cameras:\n  cam:\n    source: rtp://0.0.0.0:0\n", []want{{3, []string{`source "rtp://0.0.0.0:0" has an invalid port (1 to 65535)`}}}},
		{"rtp port big", "cameras:\n  cam:\n    source: rtp://0.0.0.0:65536\n", []want{{3, []string{`has an invalid port (1 to 65535)`}}}},
		{"rtp no host", "cameras:\n  cam:\n    source: rtp://:5004\n", []want{{3, []string{`source "rtp://:5004" has no host (write rtp://0.0.0.0:PORT`}}}},
		{"rtp user info", "cameras:\n  cam:\n    source: rtp://user:s3cret@0.0.0.0:5004\n",
			[]want{{3, []string{`source "rtp://user:xxxxx@0.0.0.0:5004" must not have a user name or password`}}}},
		{"rtp path", "cameras:\n  cam:\n    source: rtp://0.0.0.0:5004/stream\n", []want{{3, []string{`source "rtp://0.0.0.0:5004/stream" must be rtp://IP:PORT, with nothing after the port`}}}},
		{"rtp trailing slash", "cameras:\n  cam:\n    source: rtp://0.0.0.0:5004/\n", []want{{3, []string{"with nothing after the port"}}}},
		{"rtp query", "cameras:\n  cam:\n    source: rtp://0.0.0.0:5004?ttl=1\n", []want{{3, []string{"with nothing after the port"}}}},
		{"rtp ipv6 without brackets", "cameras:\n  cam:\n    source: rtp://ff02::1:5004\n", []want{{3, []string{"IPv6 address without brackets", "rtp://[ff02::1]:5004"}}}},
		{"rtp opaque", "cameras:\n  cam:\n    source: \"rtp:0.0.0.0:5004\"\n", []want{{3, []string{"missing rtsp://?"}}}},

		// Keys that belong to other kinds of source.
		{"transport on demo", "cameras:\n  cam:\n    source: demo\n    transport: tcp\n",
			[]want{{4, []string{`camera "cam": transport is only for rtsp:// and rtsps:// sources (this source is demo)`}}}},
		{"transport on publish", "cameras:\n  cam:\n    transport: udp\n    source: publish\n",
			[]want{{3, []string{`camera "cam": transport is only for rtsp:// and rtsps:// sources (this source is publish)`}}}},
		{"transport on exec", "cameras:\n  cam:\n    source: exec:cat cam.h264\n    transport: tcp\n", []want{{4, []string{"transport is only for", "(this source is exec:)"}}}},
		{"transport on rtp", "cameras:\n  cam:\n    source: rtp://0.0.0.0:5004\n    sdp: testdata/h264.sdp\n    transport: multicast\n",
			[]want{{5, []string{"transport is only for", "(this source is rtp://)"}}}},
		{"fingerprint on rtsp", "cameras:\n  x:\n    source: rtsp://cam/x\n    fingerprint: " + strings.Repeat("ab", 32) + "\n",
			[]want{{4, []string{`camera "x": fingerprint is only for rtsps:// sources (this source is rtsp://)`}}}},
		{"fingerprint on demo", "cameras:\n  x:\n    source: demo\n    fingerprint: abc\n", []want{{4, []string{"fingerprint is only for rtsps:// sources (this source is demo)"}}}},
		{"publishUser on rtsp", "cameras:\n  x:\n    source: rtsp://cam/x\n    publishUser: u\n    publishPass: s3cret\n", []want{
			{4, []string{`camera "x": publishUser is only for publish sources (this source is rtsp://)`}},
			{5, []string{`camera "x": publishPass is only for publish sources (this source is rtsp://)`}},
		}},
		{"sdp on rtsps", "cameras:\n  x:\n    source: rtsps://cam/x\n    sdp: testdata/h264.sdp\n", []want{{4, []string{`camera "x": sdp is only for rtp:// sources (this source is rtsps://)`}}}},
		{"keys checked with a bad source", "cameras:\n  x:\n    source: ftp://cam/x\n    fingerprint: abc\n    transport: quic\n", []want{
			{3, []string{"not ftp://"}}, {4, []string{"fingerprint:", "not a SHA-256 fingerprint"}}, {5, []string{`transport: "quic"`}},
		}},

		// fingerprint.
		{"fingerprint short", "cameras:\n  x:\n    source: rtsps://cam/x\n    fingerprint: AB:CD\n",
			[]want{{4, []string{`camera "x": fingerprint: "AB:CD" is not a SHA-256 fingerprint (64 hex digits, optionally separated by ':', as printed by openssl x509 -noout -fingerprint -sha256)`}}}},
		{"fingerprint not hex", "cameras:\n  x:\n    source: rtsps://cam/x\n    fingerprint: " + strings.Repeat("zz", 32) + "\n", []want{{4, []string{"is not a SHA-256 fingerprint"}}}},
		{"fingerprint sha1", "cameras:\n  x:\n    source: rtsps://cam/x\n    fingerprint: " + strings.Repeat("AB:", 19) + "AB\n",
			[]want{{4, []string{"is a SHA-1 fingerprint (40 hex digits); use the SHA-256 one"}}}},
		{"fingerprint whole openssl line", "cameras:\n  x:\n    source: rtsps://cam/x\n    fingerprint: sha256 Fingerprint=" + strings.Repeat("AB:", 31) + "AB\n",
			[]want{{4, []string{"write only the hex digits after '='"}}}},
		{"fingerprint list", "cameras:\n  x:\n    source: rtsps://cam/x\n    fingerprint: [ab]\n", []want{{4, []string{`camera "x": fingerprint must be a string, not a list`}}}},

		// publishUser and publishPass.
		{"publishUser alone", "cameras:\n  door:\n    source: publish\n    publishUser: phone\n",
			[]want{{4, []string{`camera "door": publishUser needs publishPass too (or neither, to let anyone publish)`}}}},
		{"publishPass alone", "cameras:\n  door:\n    source: publish\n    publishPass: s3cret\n",
			[]want{{4, []string{`camera "door": publishPass needs publishUser too`}}}},
		{"publishPass null", "cameras:\n  door:\n    source: publish\n    publishUser: phone\n    publishPass:\n",
			[]want{{4, []string{`publishUser needs publishPass too`}}}},
		{"publishUser empty", "cameras:\n  door:\n    source: publish\n    publishUser: \"\"\n    publishPass: s3cret\n", []want{{4, []string{`camera "door": publishUser is empty`}}}},
		{"publishPass empty", "cameras:\n  door:\n    source: publish\n    publishUser: phone\n    publishPass: \"\"\n", []want{{5, []string{`camera "door": publishPass is empty`}}}},
		{"publishUser colon", "cameras:\n  door:\n    source: publish\n    publishUser: \"a:b\"\n    publishPass: s3cret\n", []want{{4, []string{`publishUser "a:b" must not contain ':'`}}}},
		{"publishPass list", "cameras:\n  door:\n    source: publish\n    publishUser: phone\n    publishPass: [s3cret]\n", []want{{5, []string{`camera "door": publishPass must be a string, not a list`}}}},

		// sdp.
		{"rtp without sdp", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n",
			[]want{{2, []string{`camera "cam": sdp is required for rtp:// sources`, "a=rtpmap:96 H264/90000"}}}},
		{"sdp null", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp:\n", []want{{4, []string{`camera "cam": sdp is empty (want SDP text, or the path of an SDP file)`}}}},
		{"sdp blank", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp: \" \"\n", []want{{4, []string{`camera "cam": sdp is empty`}}}},
		{"sdp list", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp: [v=0]\n", []want{{4, []string{`camera "cam": sdp must be a string, not a list`}}}},
		{"sdp missing file", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp: testdata/nope.sdp\n",
			[]want{{4, []string{`camera "cam": sdp: cannot read the SDP file "testdata/nope.sdp": no such file or directory`}}}},
		{"sdp directory", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp: testdata\n", []want{{4, []string{`cannot read the SDP file "testdata"`}}}},
		{"sdp bad file", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp: testdata/bad.sdp\n",
			[]want{{4, []string{`camera "cam": sdp file "testdata/bad.sdp" line 4: "m=video 5004 RTP/AVP 96" is not allowed here (an SDP has v=, o=, s= and t= lines, in that order`}}}},
		{"sdp out of order", `cameras:
  cam:
    source: rtp://239.0.0.1:5004
    sdp: |
      v=0
      o=- 0 0 IN IP4 127.0.0.1
      s=Camera

      m=video 5004 RTP/AVP 96
      a=rtpmap:96 H264/90000
`, []want{{9, []string{`camera "cam": sdp: "m=video 5004 RTP/AVP 96" is not allowed here`}}}},
		{"sdp not a line", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp: |\n      v=0\n      o=- 0 0 IN IP4 127.0.0.1\n      hello\n",
			[]want{{7, []string{`sdp: "hello" is not an SDP line (each line is TYPE=VALUE`}}}},
		{"sdp bad value", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp: |\n      v=0\n      o=- 0 0 IN IP4 127.0.0.1\n      s=x\n      t=0 0\n      m=video abc RTP/AVP 96\n",
			[]want{{9, []string{`sdp: "m=video abc RTP/AVP 96" is invalid (invalid port value`, "abc"}}}},
		{"sdp bad number", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp: |\n      v=0\n      o=- x1 0 IN IP4 127.0.0.1\n",
			[]want{{6, []string{`sdp: "o=- x1 0 IN IP4 127.0.0.1" is invalid (unexpected character at column 5)`}}}},
		{"sdp no v=", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp: |\n\n      o=- 0 0 IN IP4 127.0.0.1\n      v=0\n",
			[]want{{6, []string{`sdp: an SDP starts with v=0, not "o=- 0 0 IN IP4 127.0.0.1"`}}}},
		{"sdp quoted", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp: \"v=0\\no=- 0 0 IN IP4 127.0.0.1\\nbad line\\n\"\n",
			[]want{{4, []string{`camera "cam": sdp line 3: "bad line" is not an SDP line`}}}},
		{"sdp folded", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp: >\n      v=0\n      o=- 0 0 IN IP4 127.0.0.1\n",
			[]want{{4, []string{`camera "cam": sdp: a folded block (>) joins the SDP's lines into one; write | instead of >`}}}},
		{"sdp plain continued", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp: v=0\n      o=- 0 0 IN IP4 127.0.0.1\n",
			[]want{{4, []string{`camera "cam": sdp: the SDP is all on one line; write it as a literal block: sdp: |`}}}},
		{"sdp no video", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp: |\n      v=0\n      o=- 0 0 IN IP4 127.0.0.1\n      s=x\n      t=0 0\n      m=audio 5004 RTP/AVP 0\n",
			[]want{{4, []string{`camera "cam": sdp: the SDP has no video; rtp sources need an m=video line with H264 or H265`}}}},
		{"sdp vp8", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp: |\n      v=0\n      o=- 0 0 IN IP4 127.0.0.1\n      s=x\n      t=0 0\n      m=video 5004 RTP/AVP 96 97\n      a=rtpmap:96 VP8/90000\n",
			[]want{{9, []string{`sdp: "m=video 5004 RTP/AVP 96 97" has no H264 or H265 payload (payload type 96 is VP8, payload type 97 has no a=rtpmap line)`}}}},
		{"sdp srtp", "cameras:\n  cam:\n    source: rtp://239.0.0.1:5004\n    sdp: |\n      v=0\n      o=- 0 0 IN IP4 127.0.0.1\n      s=x\n      t=0 0\n      m=video 5004 RTP/SAVP 96\n      a=rtpmap:96 H264/90000\n",
			[]want{{9, []string{`"m=video 5004 RTP/SAVP 96": video over RTP/SAVP is not supported (only RTP/AVP`}}}},

		// H.265 cannot go in MPEG-TS.
		{"h265 with global mpegts", "hls:\n  variant: mpegts\ncameras:\n  x:\n    source: rtp://239.0.0.1:5004\n    sdp: testdata/h265.sdp\n",
			[]want{{6, []string{`camera "x": H.265 video needs variant fmp4 or lowLatency (mpegts carries only H.264 and AAC); variant mpegts is from hls at line 2`}}}},
		{"h265 with camera mpegts", "cameras:\n  x:\n    source: rtp://239.0.0.1:5004\n    sdp: testdata/h265.sdp\n    hls:\n      variant: mpegts\n",
			[]want{{6, []string{`camera "x": H.265 video needs variant fmp4 or lowLatency (mpegts carries only H.264 and AAC)`}}}},

		// rtp cameras that would share a port.
		{"rtp same port", "cameras:\n  a: {source: \"rtp://0.0.0.0:5004\", sdp: testdata/h264.sdp}\n  b: {source: \"rtp://192.168.1.2:5004\", sdp: testdata/h264.sdp}\n",
			[]want{{3, []string{`camera "b": source "rtp://192.168.1.2:5004" receives on the same port as camera "a" (line 2), "rtp://0.0.0.0:5004"`}}}},
		{"rtp same group", "cameras:\n  a: {source: \"rtp://239.0.0.1:5004\", sdp: testdata/h264.sdp}\n  b: {source: \"rtp://239.0.0.1:5004\", sdp: testdata/h264.sdp}\n",
			[]want{{3, []string{`camera "b"`, `same port as camera "a"`}}}},

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
	if cfg.RTSP.Listen != DefaultRTSPListen || DefaultRTSPListen != ":8554" {
		t.Errorf("RTSP.Listen = %q, want %q", cfg.RTSP.Listen, DefaultRTSPListen)
	}
	want := []Camera{{Name: "lobby", Source: "rtsp://cam/stream", Kind: KindRTSP, Transport: TransportAuto, HLS: DefaultHLS, Line: 2}}
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
			return c.HLS == HLS{VariantLowLatency, time.Minute, 10 * time.Millisecond, 100, ""}
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
		{"transports", "cameras:\n  a: {source: rtsp://a, transport: tcp}\n  b: {source: rtsp://b, transport: udp}\n  c: {source: rtsp://c, transport: auto}\n  d: {source: rtsps://d, transport: multicast}\n", func(c *Config) bool {
			return c.Cameras[0].Transport == TransportTCP && c.Cameras[1].Transport == TransportUDP && c.Cameras[2].Transport == TransportAuto &&
				c.Cameras[3].Transport == TransportMulticast
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
	global := HLS{VariantLowLatency, 2 * time.Second, 500 * time.Millisecond, 10, ""}
	if cfg.HLS != global {
		t.Errorf("global HLS = %+v, want %+v", cfg.HLS, global)
	}
	want := map[string]HLS{
		"plain":        global,
		"variant-only": {VariantFMP4, 2 * time.Second, 500 * time.Millisecond, 10, ""},
		"count-only":   {VariantLowLatency, 2 * time.Second, 500 * time.Millisecond, 20, ""},
		"null-block":   global,
		"all":          {VariantMPEGTS, 4 * time.Second, time.Second, 3, ""},
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
	want := Camera{Name: "b", Source: "rtsp://cam-b/x", Kind: KindRTSP, Transport: TransportTCP,
		HLS: HLS{VariantFMP4, 500 * time.Millisecond, DefaultHLS.PartDuration, 3, ""}, Line: 9}
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
	if cfg.Path != path || cfg.Listen != "127.0.0.1:8080" || cfg.RTSP.Listen != ":8554" || len(cfg.Cameras) != 6 {
		t.Errorf("got %+v", cfg)
	}
	// The SDP file is next to the config, not in the current directory.
	if mcast, _ := cfg.Camera("mcast"); mcast.SDP != h264SDP {
		t.Errorf("mcast = %+v", mcast)
	}
	if cfg.DataDir != filepath.Join("testdata", "state") || !cfg.TLS.Auto || cfg.RedirectListen != "127.0.0.1:8081" || len(cfg.Walls) != 1 {
		t.Errorf("got %+v", cfg)
	}
	lobby, _ := cfg.Camera("lobby")
	if lobby.HLS.Variant != VariantFMP4 || lobby.Transport != TransportTCP || lobby.Line != 12 || lobby.Substream.Kind != KindRTSP {
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
	want := path + ":2: unknown key \"segmentDurtion\" in hls (known: variant, segmentDuration, partDuration, segmentCount, profile)"
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
		"rtsp:\n  listen: %q\n",
		"cameras:\n  a:\n    source: publish\n    publishPass: %q\n",
		"cameras:\n  a:\n    source: publish\n    publishUser: \"\"\n    publishPass: %q\n",
		"cameras:\n  a:\n    source: rtsp://cam/x\n    publishUser: u\n    publishPass: %q\n",
		"cameras:\n  a:\n    source: %q\n    publishUser: u\n    publishPass: p\n",
		"cameras:\n  a:\n    source: %q\n    sdp: testdata/h264.sdp\n",
		"cameras:\n  a:\n    source: rtsps://cam/x\n    fingerprint: %q\n",
		"cameras:\n  a:\n    source: rtp://0.0.0.0:5004\n    sdp: %q\n",
		"cameras:\n  a:\n    source: rtp://0.0.0.0:5004\n    sdp: \"v=0\\na=control:%s\\n\"\n",
		"cameras:\n  a:\n    source: \"exec:ffmpeg -i %s -f h264 -\"\n    transport: tcp\n",
		"cameras:\n  a:\n    source: demo\n    substream: %q\n",
		"cameras:\n  a:\n    source: demo\n    substream: %q\n    transport: tcp\n",
		"cameras:\n  a:\n    source: rtp://0.0.0.0:5004\n    substream: %q\n    sdp: testdata/h264.sdp\n",
		"cameras:\n  a: {source: demo}\nwalls:\n  w: {cameras: [%q]}\n",
		"tls: {cert: %q, key: x}\n",
		"dataDir: [%q]\n",
		"tls: auto\nredirectListen: %q\n",
	}
	urls := []string{
		"rtsp://admin:%s@/nohost",
		"http://admin:%s@cam/x",
		"rtsp://admin:%s@cam:99999/x",
		"rtsp://admin:%s@cam/x y",
		"admin:%s@cam/x",
		"rtsp:/admin:%s@cam/x",
		"rtsp://admin:%s@cam:x/",
		"rtp://admin:%s@0.0.0.0:5004",
		"rtp://admin:%s@cam:5004",
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

const h264SDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=Camera\r\nc=IN IP4 239.0.0.1\r\nt=0 0\r\n" +
	"m=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n"

// Each kind of source sets Kind and its own fields, and no others.
func TestSourceKinds(t *testing.T) {
	fp := "AB:CD:" + strings.Repeat("0F:", 29) + "EF"
	cfg := parseOK(t, `rtsp:
  listen: ":9554"
cameras:
  pull:
    source: rtsp://admin:secret@10.0.0.1/x
    transport: multicast
  tls:
    source: rtsps://cam.example/live
    fingerprint: "`+fp+`"
  pattern:
    source: demo
  door:
    source: publish
    publishUser: phone
    publishPass: s3cret
  open:
    source: publish
  mcast:
    source: rtp://239.0.0.1:5004
    sdp: |
      v=0
      o=- 0 0 IN IP4 127.0.0.1
      s=Camera
      c=IN IP4 239.0.0.1
      t=0 0
      m=video 5004 RTP/AVP 96
      a=rtpmap:96 H264/90000
      a=fmtp:96 packetization-mode=1
  pi:
    source: "exec: rpicam-vid -t 0 --inline -o - "
`)
	if cfg.RTSP.Listen != ":9554" {
		t.Errorf("RTSP.Listen = %q", cfg.RTSP.Listen)
	}
	h := DefaultHLS
	want := []Camera{
		{Name: "pull", Source: "rtsp://admin:secret@10.0.0.1/x", Kind: KindRTSP, Transport: TransportMulticast, HLS: h, Line: 4},
		{Name: "tls", Source: "rtsps://cam.example/live", Kind: KindRTSP, Transport: TransportAuto,
			Fingerprint: "abcd" + strings.Repeat("0f", 29) + "ef", HLS: h, Line: 7},
		{Name: "pattern", Source: "demo", Kind: KindDemo, Transport: TransportAuto, HLS: h, Line: 10},
		{Name: "door", Source: "publish", Kind: KindPublish, Transport: TransportAuto, PublishUser: "phone", PublishPass: "s3cret", HLS: h, Line: 12},
		{Name: "open", Source: "publish", Kind: KindPublish, Transport: TransportAuto, HLS: h, Line: 16},
		{Name: "mcast", Source: "rtp://239.0.0.1:5004", Kind: KindRTP, Transport: TransportAuto, SDP: h264SDP, SDPVideoCodec: CodecH264, HLS: h, Line: 18},
		{Name: "pi", Source: "exec: rpicam-vid -t 0 --inline -o - ", Kind: KindExec, Transport: TransportAuto,
			Exec: "rpicam-vid -t 0 --inline -o -", HLS: h, Line: 29},
	}
	if len(cfg.Cameras) != len(want) {
		t.Fatalf("%d cameras, want %d: %+v", len(cfg.Cameras), len(want), cfg.Cameras)
	}
	for i := range want {
		if cfg.Cameras[i] != want[i] {
			t.Errorf("camera %d =\n%+v\nwant\n%+v", i, cfg.Cameras[i], want[i])
		}
	}
}

func TestValidSources(t *testing.T) {
	tests := []struct {
		name, src string
		check     func(Camera) bool
	}{
		{"fingerprint lower, no colons", "source: rtsps://cam\nfingerprint: " + strings.Repeat("a1", 32), func(c Camera) bool {
			return c.Fingerprint == strings.Repeat("a1", 32)
		}},
		{"fingerprint upper", "source: RTSPS://cam\nfingerprint: " + strings.Repeat("A1", 32), func(c Camera) bool {
			return c.Fingerprint == strings.Repeat("a1", 32) && c.Kind == KindRTSP
		}},
		{"fingerprint null", "source: rtsps://cam\nfingerprint:", func(c Camera) bool { return c.Fingerprint == "" }},
		{"rtp any ipv4", "source: rtp://0.0.0.0:5004\nsdp: testdata/h264.sdp", func(c Camera) bool {
			return c.RTPAddr() == netip.MustParseAddrPort("0.0.0.0:5004")
		}},
		{"rtp any ipv6", "source: \"rtp://[::]:5004\"\nsdp: testdata/h264.sdp", func(c Camera) bool {
			return c.RTPAddr() == netip.MustParseAddrPort("[::]:5004")
		}},
		{"rtp unicast", "source: rtp://192.168.1.2:65535\nsdp: testdata/h264.sdp", func(c Camera) bool {
			return c.RTPAddr() == netip.MustParseAddrPort("192.168.1.2:65535")
		}},
		{"rtp ipv6 multicast with zone", "source: \"rtp://[ff02::1%25eth0]:5004\"\nsdp: testdata/h264.sdp", func(c Camera) bool {
			a := c.RTPAddr()
			return a.Addr().IsMulticast() && a.Addr().Zone() == "eth0" && a.Port() == 5004
		}},
		{"rtp upper scheme", "source: RTP://239.0.0.1:1\nsdp: testdata/h264.sdp", func(c Camera) bool { return c.Kind == KindRTP }},
		// A file with CRLF lines, audio first, and the codec in lower case.
		{"sdp file h265", "source: rtp://239.0.0.1:5004\nsdp: testdata/h265.sdp\nhls: {variant: lowLatency}", func(c Camera) bool {
			return c.SDPVideoCodec == CodecH265 && strings.HasPrefix(c.SDP, "v=0\r\n") && strings.HasSuffix(c.SDP, "h265/90000\r\n")
		}},
		{"sdp file normalized", "source: rtp://239.0.0.1:5004\nsdp: testdata/h264.sdp", func(c Camera) bool { return c.SDP == h264SDP }},
		{"sdp quoted with escapes", `source: rtp://239.0.0.1:5004
sdp: "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=Camera\r\nc=IN IP4 239.0.0.1\r\nt=0 0\r\nm=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1"`,
			func(c Camera) bool { return c.SDP == h264SDP }},
		{"sdp second payload type", "source: rtp://239.0.0.1:5004\nsdp: |\n  v=0\n  o=- 0 0 IN IP4 127.0.0.1\n  s=x\n  t=0 0\n  m=video 5004 RTP/AVP 96 97\n  a=rtpmap:96 VP8/90000\n  a=rtpmap:97 H265/90000\nhls: {variant: fmp4}",
			func(c Camera) bool { return c.SDPVideoCodec == CodecH265 }},
		{"h265 with camera fmp4 over global mpegts", "source: rtp://239.0.0.1:5004\nsdp: testdata/h265.sdp\nhls: {variant: fmp4}", func(c Camera) bool {
			return c.HLS.Variant == VariantFMP4
		}},
		{"h264 with mpegts", "source: rtp://239.0.0.1:5004\nsdp: testdata/h264.sdp\nhls: {variant: mpegts}", func(c Camera) bool {
			return c.HLS.Variant == VariantMPEGTS
		}},
		{"exec keeps pipes", "source: \"exec:ffmpeg -i x -f h264 - | cat\"", func(c Camera) bool { return c.Exec == "ffmpeg -i x -f h264 - | cat" }},
		{"exec multi-line", "source: |\n  exec:cd /tmp &&\n  rpicam-vid -o -\n", func(c Camera) bool { return c.Exec == "cd /tmp &&\nrpicam-vid -o -" }},
		{"publish null credentials", "source: publish\npublishUser:\npublishPass:", func(c Camera) bool {
			return c.Kind == KindPublish && c.PublishUser == "" && c.PublishPass == ""
		}},
		{"publish numeric password", "source: publish\npublishUser: 1234\npublishPass: 0012", func(c Camera) bool {
			return c.PublishUser == "1234" && c.PublishPass == "0012"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "hls: {variant: mpegts}\ncameras:\n  cam:\n    " + strings.ReplaceAll(tt.src, "\n", "\n    ") + "\n"
			cfg := parseOK(t, src)
			if len(cfg.Cameras) != 1 || !tt.check(cfg.Cameras[0]) {
				t.Errorf("unexpected config: %+v", cfg.Cameras)
			}
		})
	}
}

// Cameras and servers that do not share what they cannot share.
func TestNoClash(t *testing.T) {
	for _, src := range []string{
		// The RTSP server is started for publish cameras only.
		"listen: \":8554\"\ncameras:\n  a: {source: demo}\n",
		"listen: \":8080\"\nrtsp: {listen: \":8080\"}\n",
		"listen: 127.0.0.1:8554\nrtsp: {listen: \"10.0.0.1:8554\"}\ncameras:\n  a: {source: publish}\n",
		"listen: \":0\"\nrtsp: {listen: \":0\"}\ncameras:\n  a: {source: publish}\n",
		"cameras:\n  a: {source: \"rtp://0.0.0.0:5004\", sdp: testdata/h264.sdp}\n  b: {source: \"rtp://0.0.0.0:5006\", sdp: testdata/h264.sdp}\n",
		"cameras:\n  a: {source: \"rtp://239.0.0.1:5004\", sdp: testdata/h264.sdp}\n  b: {source: \"rtp://239.0.0.2:5004\", sdp: testdata/h264.sdp}\n",
		"cameras:\n  a: {source: \"rtp://10.0.0.1:5004\", sdp: testdata/h264.sdp}\n  b: {source: \"rtp://10.0.0.2:5004\", sdp: testdata/h264.sdp}\n",
	} {
		parseOK(t, src)
	}
}

// Load reads SDP files relative to the config file, wherever the program
// runs from.
func TestLoadSDPFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sdp"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "h265.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sdp", "cam.sdp"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(filepath.Join("testdata", "h264.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yml")
	src := fmt.Sprintf("cameras:\n  a: {source: \"rtp://0.0.0.0:5004\", sdp: sdp/cam.sdp}\n  b: {source: \"rtp://0.0.0.0:5006\", sdp: %q}\n  c: {source: \"rtp://0.0.0.0:5008\", sdp: missing.sdp}\n", abs)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	want := fmt.Sprintf("%s:4: camera \"c\": sdp: cannot read the SDP file %q: no such file or directory", path, filepath.Join(dir, "missing.sdp"))
	if err == nil || err.Error() != want {
		t.Fatalf("Load = %v, want %s", err, want)
	}
	src = strings.Replace(src, "missing.sdp", "./sdp/../sdp/cam.sdp", 1)
	src = strings.Replace(src, "rtp://0.0.0.0:5008", "rtp://239.0.0.1:5008", 1)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, codec := range []string{CodecH265, CodecH264, CodecH265} {
		if c := cfg.Cameras[i]; c.SDPVideoCodec != codec || !strings.HasPrefix(c.SDP, "v=0\r\n") {
			t.Errorf("camera %s: codec %q, SDP %q", c.Name, c.SDPVideoCodec, c.SDP)
		}
	}
}

// A reload decides whether a camera changed with ==, so every field of
// Camera must compare by value: no pointers, slices, maps, funcs,
// channels or interfaces, even nested.
func TestCameraComparable(t *testing.T) {
	var check func(reflect.Type, string)
	check = func(typ reflect.Type, path string) {
		switch typ.Kind() {
		case reflect.Struct:
			for i := range typ.NumField() {
				f := typ.Field(i)
				check(f.Type, path+"."+f.Name)
			}
		case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Uint16:
		default:
			t.Errorf("%s is a %s; Camera must hold only values compared by content", path, typ.Kind())
		}
	}
	check(reflect.TypeFor[Camera](), "Camera")

	// A change in any new field is a change of camera.
	a := parseOK(t, "cameras:\n  x: {source: rtp://0.0.0.0:5004, sdp: testdata/h264.sdp}\n").Cameras[0]
	b := parseOK(t, "cameras:\n  x: {source: rtp://0.0.0.0:5004, sdp: testdata/h265.sdp}\n").Cameras[0]
	if a == b {
		t.Error("cameras with different SDPs are equal")
	}
}

func TestCarriesH265(t *testing.T) {
	for v, want := range map[Variant]bool{VariantLowLatency: true, VariantFMP4: true, VariantMPEGTS: false, "": false} {
		if got := v.CarriesH265(); got != want {
			t.Errorf("%q.CarriesH265() = %v, want %v", v, got, want)
		}
	}
}

// publishPass is not a URL, so Redact cannot hide it: no message may
// quote it at all, whatever else is wrong around it.
func TestPublishPassNotInErrors(t *testing.T) {
	for _, pw := range []string{"s3cret9", "pa:ss9", "pa ss9", "12345679", `pa"ss9`} {
		for _, tmpl := range []string{
			"cameras:\n  a:\n    source: publish\n    publishPass: %q\n",
			"cameras:\n  a:\n    source: publish\n    publishUser: \"\"\n    publishPass: %q\n",
			"cameras:\n  a:\n    source: publish\n    publishUser: \"a:b\"\n    publishPass: %q\n",
			"cameras:\n  a:\n    source: demo\n    publishUser: u\n    publishPass: %q\n",
			"cameras:\n  a:\n    source: nonsense\n    publishUser: u\n    publishPass: %q\n",
			"cameras:\n  a:\n    source: publish\n    publishUser: u\n    publishPass: %q\n    publishPass: %[1]q\n",
			"cameras:\n  a:\n    source: publish\n    publishUser: u\n    publishPass: [%q]\n",
			"cameras:\n  a:\n    source: publish\n    publishUser: u\n    publishPass: {%q: 1}\n",
		} {
			src := fmt.Sprintf(tmpl, pw)
			_, err := Parse([]byte(src))
			if err == nil {
				t.Errorf("no error for\n%s", src)
				continue
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("password %q leaked from\n%s\ninto\n%v", pw, src, err)
			}
		}
	}
}

// hls.profile sets the part duration, which a partDuration in the same
// block overrides; a camera's profile overrides the global one.
func TestHLSProfile(t *testing.T) {
	cfg, err := Parse([]byte(`
hls: {profile: latency}
cameras:
  a: {source: demo}
  b: {source: demo, hls: {profile: default}}
  c: {source: demo, hls: {profile: latency, partDuration: 150ms}}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{"a": 100 * time.Millisecond, "b": 200 * time.Millisecond, "c": 150 * time.Millisecond}
	for _, c := range cfg.Cameras {
		if c.HLS.PartDuration != want[c.Name] {
			t.Errorf("camera %s: part %v, want %v", c.Name, c.HLS.PartDuration, want[c.Name])
		}
	}
	_, err = Parse([]byte("hls: {profile: fast}\n"))
	if err == nil || !strings.Contains(err.Error(), `config:1: hls.profile: "fast" is not one of default, latency`) {
		t.Errorf("bad profile: %v", err)
	}
}
