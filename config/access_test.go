package config

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Hashes of "correct horse" (cost 4) and "battery staple" (cost 10).
const (
	testHash   = "$2a$04$d5vogPva6/nAr1XbBCp7QuZGg0D4hRT6noISOHglsa/tA.6pF5S7e"
	testHash10 = "$2a$10$rph8bhD2P1mHmSpdMrkmuOR4/JjK0gVpKlyuIY2hGMqSW4lCk0p8q"
	testSecret = "0123456789abcdefghijklmnopqrstuvwxyz"
)

// The hashes above are what they claim, so that the other packages'
// tests may log in with them.
func TestTestHashes(t *testing.T) {
	if err := bcrypt.CompareHashAndPassword([]byte(testHash), []byte("correct horse")); err != nil {
		t.Error(err)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(testHash10), []byte("battery staple")); err != nil {
		t.Error(err)
	}
}

// Mistakes in log, users, tokenSecret, adminListen, allowOrigins,
// frameAncestors, limits, onDemand and idleTimeout, each reported at its
// line.
func TestParseErrorsAccess(t *testing.T) {
	const cams = "cameras:\n  lobby: {source: demo}\n  gate: {source: demo}\n" // lines 1-3
	tests := []struct {
		name string
		src  string
		want []want
	}{
		// log.
		{"log scalar", "log: json\n", []want{{1, []string{`log must be a mapping with the keys format, level, requests, not "json"`}}}},
		{"log format", "log:\n  format: xml\n", []want{{2, []string{`log.format: "xml" is not one of text, json`}}}},
		{"log format case", "log:\n  format: JSON\n", []want{{2, []string{`did you mean "json"?`}}}},
		{"log level", "log:\n  level: inf\n", []want{{2, []string{`log.level: "inf" is not one of debug, info, warn, error; did you mean "info"?`}}}},
		{"log level list", "log:\n  level: [info]\n", []want{{2, []string{"log.level must be a string, not a list"}}}},
		{"log level warning", "log:\n  level: warning\n", []want{{2, []string{`log.level: "warning" is not one of debug, info, warn, error; did you mean "warn"?`}}}},
		{"log level err", "log:\n  level: ERR\n", []want{{2, []string{`did you mean "error"?`}}}},
		{"log requests yes", "log:\n  requests: yes\n", []want{{2, []string{`log.requests: "yes" is not true or false (write true: yes, no, on and off are not booleans in this file)`}}}},
		{"log requests off", "log:\n  requests: off\n", []want{{2, []string{`log.requests: "off" is not true or false (write false`}}}},
		{"log requests typo", "log:\n  requests: ture\n", []want{{2, []string{`log.requests: "ture" is not true or false; did you mean "true"?`}}}},
		{"log requests list", "log:\n  requests: [true]\n", []want{{2, []string{"log.requests must be true or false, not a list"}}}},
		{"log unknown key", "log:\n  levle: info\n", []want{{2, []string{`unknown key "levle" in log (known: format, level, requests); did you mean "level"?`}}}},

		// users: shape.
		{"users mapping", cams + "users:\n  alice: {password: x}\n", []want{{5, []string{"users must be a list of users (write \"- name: alice\""}}}},
		{"users scalar", "users: alice\n", []want{{1, []string{`users must be a list of users with the keys name, password, cameras, admin, not "alice"`}}}},
		{"user scalar", "users:\n  - alice\n", []want{{2, []string{`user 1 must be a mapping with the keys name, password, cameras, admin, not "alice"`}}}},
		{"user null", "users:\n  -\n", []want{{2, []string{"users has an empty item"}}}},
		{"user unknown key", cams + "users:\n  - name: alice\n    password: \"" + testHash + "\"\n    cameras: [lobby]\n    amdin: true\n",
			[]want{{8, []string{`unknown key "amdin" in user "alice" (known: name, password, cameras, admin); did you mean "admin"?`}}}},
		{"user unknown key before name", cams + "users:\n  - pasword: x\n    name: alice\n    password: \"" + testHash + "\"\n    cameras: [lobby]\n",
			[]want{{5, []string{`unknown key "pasword" in user "alice"`, `did you mean "password"?`}}}},

		// users: name.
		{"user no name", cams + "users:\n  - password: \"" + testHash + "\"\n    cameras: [lobby]\n", []want{{5, []string{"user 1: name is required"}}}},
		{"user null name", cams + "users:\n  - name:\n    password: \"" + testHash + "\"\n    cameras: [lobby]\n", []want{{5, []string{"user 1: name is required"}}}},
		{"user name case", cams + "users:\n  - name: Alice\n    password: \"" + testHash + "\"\n    cameras: [lobby]\n",
			[]want{{5, []string{`user name "Alice" is invalid: it must match ^[a-z0-9][a-z0-9_-]*$`}}}},
		{"user name colon", cams + "users:\n  - name: \"a:b\"\n    password: \"" + testHash + "\"\n    cameras: [lobby]\n",
			[]want{{5, []string{`user name "a:b" is invalid`}}}},
		{"user name long", cams + "users:\n  - name: " + strings.Repeat("a", 65) + "\n    password: \"" + testHash + "\"\n    cameras: [lobby]\n",
			[]want{{5, []string{"is too long (65 characters, at most 64)"}}}},
		{"user name list", cams + "users:\n  - name: [a]\n    password: \"" + testHash + "\"\n    cameras: [lobby]\n",
			[]want{{5, []string{"user 1: name must be a string, not a list"}}}},
		{"duplicate user", cams + "users:\n  - name: alice\n    password: \"" + testHash + "\"\n    cameras: [lobby]\n  - name: alice\n    password: \"" + testHash + "\"\n    cameras: [gate]\n",
			[]want{{8, []string{`duplicate user "alice" (first at line 5)`}}}},
		{"duplicate key in user", cams + "users:\n  - name: alice\n    name: bob\n    password: \"" + testHash + "\"\n    cameras: [lobby]\n",
			[]want{{6, []string{`duplicate key "name" (first at line 5)`}}}},

		// users: password.
		{"user no password", cams + "users:\n  - name: alice\n    cameras: [lobby]\n",
			[]want{{5, []string{`user "alice": password is required: the bcrypt hash of the password (run ` + "`rtsp2hls hash-password`"}}}},
		{"user plain password", cams + "users:\n  - name: alice\n    password: hunter2\n    cameras: [lobby]\n",
			[]want{{6, []string{`user "alice": password must be a bcrypt hash, not the password itself: run ` + "`rtsp2hls hash-password`"}}}},
		{"user empty password", cams + "users:\n  - name: alice\n    password: \"\"\n    cameras: [lobby]\n",
			[]want{{6, []string{`user "alice": password is empty: it must be a bcrypt hash`}}}},
		{"user cut hash", cams + "users:\n  - name: alice\n    password: \"" + testHash[:40] + "\"\n    cameras: [lobby]\n",
			[]want{{6, []string{`user "alice": password is not a whole bcrypt hash (60 characters`}}}},
		{"user hash with a space", cams + "users:\n  - name: alice\n    password: \"" + testHash[:30] + " " + testHash[31:] + "\"\n    cameras: [lobby]\n",
			[]want{{6, []string{"is not a whole bcrypt hash"}}}},
		{"user hash cost", cams + "users:\n  - name: alice\n    password: \"" + strings.Replace(testHash, "$04$", "$03$", 1) + "\"\n    cameras: [lobby]\n",
			[]want{{6, []string{`user "alice": password has a bcrypt cost out of range (4 to 31)`}}}},
		{"user password list", cams + "users:\n  - name: alice\n    password: [x]\n    cameras: [lobby]\n",
			[]want{{6, []string{`user "alice": password must be a string, not a list`}}}},
		{"user without name, plain password", cams + "users:\n  - password: hunter2\n    cameras: [lobby]\n",
			[]want{{5, []string{"user 1: name is required"}}, {5, []string{"user 1: password must be a bcrypt hash"}}}},

		// users: cameras.
		{"user no cameras", cams + "users:\n  - name: alice\n    password: \"" + testHash + "\"\n",
			[]want{{5, []string{`user "alice": cameras is required: the names of the cameras the user may watch, or ["*"] for all`}}}},
		{"user cameras null", cams + "users:\n  - name: alice\n    password: \"" + testHash + "\"\n    cameras:\n",
			[]want{{7, []string{`user "alice": cameras is empty`}}}},
		{"user cameras empty", cams + "users:\n  - name: alice\n    password: \"" + testHash + "\"\n    cameras: []\n",
			[]want{{7, []string{`user "alice": cameras is empty (want a list of camera names, or ["*"] for all)`}}}},
		{"user cameras star scalar", cams + "users:\n  - name: alice\n    password: \"" + testHash + "\"\n    cameras: \"*\"\n",
			[]want{{7, []string{`user "alice": cameras must be a list: write ["*"] for every camera`}}}},
		{"user cameras scalar", cams + "users:\n  - name: alice\n    password: \"" + testHash + "\"\n    cameras: lobby\n",
			[]want{{7, []string{`user "alice": cameras must be a list of camera names, or ["*"] for all, not "lobby"`}}}},
		{"user unknown camera", cams + "users:\n  - name: alice\n    password: \"" + testHash + "\"\n    cameras:\n      - gate\n      - loby\n",
			[]want{{9, []string{`user "alice": camera "loby" is not in cameras; did you mean "lobby"?`}}}},
		{"user camera twice", cams + "users:\n  - name: alice\n    password: \"" + testHash + "\"\n    cameras: [lobby, lobby]\n",
			[]want{{7, []string{`user "alice": camera "lobby" is listed twice (first at line 7)`}}}},
		{"user star and names", cams + "users:\n  - name: alice\n    password: \"" + testHash + "\"\n    cameras: [\"*\", lobby]\n",
			[]want{{7, []string{`user "alice": cameras: "*" already allows every camera`}}}},
		{"user camera item list", cams + "users:\n  - name: alice\n    password: \"" + testHash + "\"\n    cameras: [[lobby]]\n",
			[]want{{7, []string{`user "alice": cameras item must be a string, not a list`}}}},
		{"user camera substream", cams + "users:\n  - name: alice\n    password: \"" + testHash + "\"\n    cameras: [lobby/sub]\n",
			[]want{{7, []string{`camera "lobby/sub" is not in cameras`}}}},
		{"user no cameras configured", "users:\n  - name: alice\n    password: \"" + testHash + "\"\n    cameras: [lobby]\n",
			[]want{{4, []string{`user "alice": camera "lobby" is not in cameras`}}}},

		// users: admin.
		{"user admin yes", cams + "users:\n  - name: alice\n    password: \"" + testHash + "\"\n    cameras: [lobby]\n    admin: yes\n",
			[]want{{8, []string{`user "alice": admin: "yes" is not true or false (write true`}}}},
		{"user admin map", cams + "users:\n  - name: alice\n    password: \"" + testHash + "\"\n    cameras: [lobby]\n    admin: {a: 1}\n",
			[]want{{8, []string{`user "alice": admin must be true or false, not a mapping`}}}},
		{"all user mistakes at once", cams + "users:\n  - name: Alice\n    password: hunter2\n    cameras: [nope]\n    admin: 1\n", []want{
			{5, []string{`user name "Alice" is invalid`}},
			{6, []string{"user 1: password must be a bcrypt hash"}},
			{7, []string{`user 1: camera "nope" is not in cameras`}},
			{8, []string{`user 1: admin: "1" is not true or false (write true)`}},
		}},

		// tokenSecret.
		{"token short", "tokenSecret: abc\n", []want{{1, []string{"tokenSecret is too short (3 characters, at least 32)"}}}},
		{"token 31", "tokenSecret: \"" + testSecret[:31] + "\"\n", []want{{1, []string{"tokenSecret is too short (31 characters, at least 32)"}}}},
		{"token empty", "tokenSecret: \"\"\n", []want{{1, []string{"tokenSecret is empty (leave it out to turn view links off)"}}}},
		{"token list", "tokenSecret: [a]\n", []want{{1, []string{"tokenSecret must be a string, not a list"}}}},

		// adminListen.
		{"admin not host:port", "adminListen: 9091\n", []want{{1, []string{`adminListen: "9091" is not host:port`, `write ":9091"`}}}},
		{"admin no port", "adminListen: \"localhost:\"\n", []want{{1, []string{`adminListen: "localhost:" has no port`}}}},
		{"admin list", "adminListen: [a]\n", []want{{1, []string{"adminListen must be a string, not a list"}}}},
		{"admin same as default listen", "adminListen: \"127.0.0.1:8080\"\n",
			[]want{{1, []string{`adminListen "127.0.0.1:8080" uses the same port as listen ":8080" (default); give the admin listener a port of its own`}}}},
		{"admin same as listen", "listen: \"127.0.0.1:9000\"\nadminListen: \":9000\"\n",
			[]want{{2, []string{`adminListen ":9000" uses the same port as listen "127.0.0.1:9000" (line 1)`}}}},
		{"admin same as rtsp", "adminListen: \":8554\"\ncameras:\n  a: {source: publish}\n",
			[]want{{1, []string{`adminListen ":8554" uses the same port as rtsp.listen ":8554" (default)`}}}},
		{"admin same as redirect", "tls: auto\nredirectListen: \":8081\"\nadminListen: \"127.0.0.1:8081\"\n",
			[]want{{3, []string{`adminListen "127.0.0.1:8081" uses the same port as redirectListen ":8081"`}}}},

		// allowOrigins and frameAncestors.
		{"origins scalar", "allowOrigins: https://a.example\n",
			[]want{{1, []string{`allowOrigins must be a list of origins such as ["https://intranet.example.com"], or ["*"] for any, not "https://a.example"`}}}},
		{"origins star scalar", "allowOrigins: \"*\"\n", []want{{1, []string{`allowOrigins must be a list: write ["*"] to allow any origin`}}}},
		{"origin path", "allowOrigins:\n  - https://a.example/app\n",
			[]want{{2, []string{`allowOrigins: "https://a.example/app" is not an origin (no path, query or fragment): scheme://host or scheme://host:port, with scheme http or https`}}}},
		{"origin slash", "allowOrigins: [\"https://a.example/\"]\n", []want{{1, []string{"(no path: remove the final /)"}}}},
		{"origin query", "allowOrigins: [\"https://a.example?x\"]\n", []want{{1, []string{"no path, query or fragment"}}}},
		{"origin no scheme", "allowOrigins: [a.example]\n", []want{{1, []string{`"a.example" is not an origin (no scheme://)`}}}},
		{"origin ftp", "allowOrigins: [\"ftp://a.example\"]\n", []want{{1, []string{"the scheme must be http or https"}}}},
		{"origin no host", "allowOrigins: [\"https://\"]\n", []want{{1, []string{"(no host)"}}}},
		{"origin wildcard host", "frameAncestors: [\"https://*.example.com\"]\n", []want{{1, []string{`frameAncestors: "https://*.example.com" is not an origin (no wildcards but "*" alone`}}}},
		{"origin bad port", "allowOrigins: [\"https://a.example:99999\"]\n", []want{{1, []string{"invalid port"}}}},
		{"origin empty port", "allowOrigins: [\"https://a.example:\"]\n", []want{{1, []string{"empty port"}}}},
		{"origin bad host", "allowOrigins: [\"https://a_b.example\"]\n", []want{{1, []string{"invalid host"}}}},
		{"origin user", "allowOrigins: [\"https://u:pw@a.example\"]\n", []want{{1, []string{`"https://u:xxxxx@a.example" is not an origin (no user or password)`}}}},
		{"origin self", "frameAncestors: [\"'self'\"]\n", []want{{1, []string{"rtsp2hls's own pages may always frame its pages"}}}},
		{"origin none", "frameAncestors: [\"'none'\"]\n", []want{{1, []string{"leave the key out"}}}},
		{"origin twice", "allowOrigins:\n  - https://a.example\n  - HTTPS://A.example:443\n",
			[]want{{3, []string{`allowOrigins: "https://a.example" is listed twice (first at line 2)`}}}},
		{"origin star and more", "allowOrigins: [\"*\", \"https://a.example\"]\n", []want{{1, []string{`allowOrigins: "*" already allows any origin`}}}},
		{"origin empty item", "frameAncestors:\n  -\n", []want{{2, []string{"frameAncestors has an empty item"}}}},
		{"origin item list", "frameAncestors: [[a]]\n", []want{{1, []string{"frameAncestors item must be a string, not a list"}}}},

		// limits.
		{"limits scalar", "limits: 5\n", []want{{1, []string{`limits must be a mapping with the keys blockingPerClient, blockingTotal, not "5"`}}}},
		{"limits zero", "limits:\n  blockingPerClient: 0\n", []want{{2, []string{"limits.blockingPerClient: 0 must be at least 1"}}}},
		{"limits negative", "limits:\n  blockingTotal: -1\n", []want{{2, []string{"limits.blockingTotal: -1 must be at least 1"}}}},
		{"limits word", "limits:\n  blockingTotal: many\n", []want{{2, []string{`limits.blockingTotal: "many" is not a whole number`}}}},
		{"limits unknown", "limits:\n  blockingPerClinet: 5\n", []want{{2, []string{`unknown key "blockingPerClinet" in limits (known: blockingPerClient, blockingTotal); did you mean "blockingPerClient"?`}}}},
		{"limits per client over total", "limits:\n  blockingPerClient: 300\n  blockingTotal: 200\n",
			[]want{{2, []string{"limits.blockingPerClient 300 is more than limits.blockingTotal 200"}}}},
		{"limits per client over default total", "limits:\n  blockingPerClient: 20000\n",
			[]want{{2, []string{"limits.blockingPerClient 20000 is more than limits.blockingTotal 10000 (default)"}}}},
		{"limits total under default per client", "limits:\n  blockingTotal: 100\n",
			[]want{{2, []string{"limits.blockingPerClient 256 (default) is more than limits.blockingTotal 100"}}}},

		// onDemand and idleTimeout.
		{"onDemand yes", "cameras:\n  a:\n    source: demo\n    onDemand: yes\n",
			[]want{{4, []string{`camera "a": onDemand: "yes" is not true or false (write true: yes, no, on and off are not booleans in this file)`}}}},
		{"onDemand list", "cameras:\n  a:\n    source: demo\n    onDemand: [true]\n", []want{{4, []string{`camera "a": onDemand must be true or false, not a list`}}}},
		{"onDemand publish", "cameras:\n  a:\n    source: publish\n    onDemand: true\n",
			[]want{{4, []string{`camera "a": onDemand is not for publish sources: a publish camera is pushed by its client whenever that client decides, so rtsp2hls can neither start it`}}}},
		{"onDemand publish substream", "cameras:\n  a:\n    source: rtsp://cam/main\n    substream: publish\n    onDemand: true\n",
			[]want{{5, []string{`camera "a": onDemand is not for a camera with a publish substream`}}}},
		{"idleTimeout without onDemand", "cameras:\n  a:\n    source: demo\n    idleTimeout: 30s\n",
			[]want{{4, []string{`camera "a": idleTimeout is only for on-demand cameras: add onDemand: true, or remove idleTimeout`}}}},
		{"idleTimeout with onDemand false", "cameras:\n  a:\n    source: demo\n    onDemand: false\n    idleTimeout: 30s\n",
			[]want{{5, []string{`camera "a": idleTimeout is only for on-demand cameras`}}}},
		{"idleTimeout short", "cameras:\n  a:\n    source: demo\n    onDemand: true\n    idleTimeout: 500ms\n",
			[]want{{5, []string{`camera "a": idleTimeout: 500ms is too short (at least 1s)`}}}},
		{"idleTimeout no unit", "cameras:\n  a:\n    source: demo\n    onDemand: true\n    idleTimeout: 60\n",
			[]want{{5, []string{`camera "a": idleTimeout: 60 has no unit (write 60s or 60ms)`}}}},
		{"idleTimeout word", "cameras:\n  a:\n    source: demo\n    onDemand: true\n    idleTimeout: long\n",
			[]want{{5, []string{`camera "a": idleTimeout: "long" is not a duration`}}}},
		{"idleTimeout with a bad onDemand", "cameras:\n  a:\n    source: demo\n    onDemand: on\n    idleTimeout: 30s\n",
			[]want{{4, []string{`onDemand: "on" is not true or false`}}}},
		{"onDemand typo key", "cameras:\n  a:\n    source: demo\n    ondemand: true\n",
			[]want{{4, []string{`unknown key "ondemand" in camera "a"`, "onDemand, idleTimeout)", `did you mean "onDemand"?`}}}},
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

// Without the new keys, everything is open and logged as before.
func TestAccessDefaults(t *testing.T) {
	for _, src := range []string{"", "cameras:\n  a: {source: demo}\n",
		"log:\nusers:\ntokenSecret:\nadminListen:\nallowOrigins:\nframeAncestors:\nlimits:\n",
		"log: {}\nusers: []\nallowOrigins: []\nframeAncestors: []\nlimits: {}\n",
		"log: {format: , level: , requests: }\nlimits: {blockingPerClient: , blockingTotal: }\n",
	} {
		cfg := parseOK(t, src)
		if cfg.Log != DefaultLog || cfg.Limits != DefaultLimits || cfg.Users != nil || cfg.TokenSecret != "" ||
			cfg.AdminListen != "" || cfg.AllowOrigins != nil || cfg.FrameAncestors != nil {
			t.Errorf("%q: got %+v", src, cfg)
		}
		for _, c := range cfg.Cameras {
			if c.OnDemand || c.IdleTimeout != 0 {
				t.Errorf("%q: camera %+v", src, c)
			}
		}
	}
	if DefaultLog != (Log{Format: "text", Level: "info"}) || DefaultLimits != (Limits{256, 10000}) || DefaultIdleTimeout != time.Minute {
		t.Errorf("defaults changed: %+v %+v %v", DefaultLog, DefaultLimits, DefaultIdleTimeout)
	}

	// A block given in part keeps the defaults of the rest.
	cfg := parseOK(t, "log:\n  level: debug\nlimits:\n  blockingTotal: 500\n")
	if cfg.Log != (Log{Format: "text", Level: "debug"}) || cfg.Limits != (Limits{BlockingPerClient: 256, BlockingTotal: 500}) {
		t.Errorf("partial: %+v %+v", cfg.Log, cfg.Limits)
	}
	cfg = parseOK(t, "log:\n  requests: true\nlimits:\n  blockingPerClient: 10\n")
	if cfg.Log != (Log{Format: "text", Level: "info", Requests: true}) || cfg.Limits != (Limits{BlockingPerClient: 10, BlockingTotal: 10000}) {
		t.Errorf("partial: %+v %+v", cfg.Log, cfg.Limits)
	}
	cfg = parseOK(t, "log:\n  format: json\n")
	if cfg.Log != (Log{Format: "json", Level: "info"}) {
		t.Errorf("partial: %+v", cfg.Log)
	}
}

// A config using every new key.
func TestAccessValid(t *testing.T) {
	cfg := parseOK(t, `listen: ":8443"
tls: auto
redirectListen: ":8080"
log:
  format: json
  level: warn
  requests: true
users:
  - name: alice
    password: "`+testHash+`"
    cameras: ["*"]
    admin: true
  - name: bob
    password: '`+testHash10+`'
    cameras: [lobby, gate]
  - name: "7"
    password: "`+testHash+`"
    cameras:
      - gate
    admin: false
tokenSecret: "`+testSecret+`"
adminListen: "127.0.0.1:9091"
allowOrigins: ["https://intranet.example.com", "HTTP://10.0.0.5:8000", "https://a.example:443", "http://[::1]:80", "http://[fe80::1]:81"]
frameAncestors: ["*"]
limits:
  blockingPerClient: 64
  blockingTotal: 64
cameras:
  lobby:
    source: rtsp://cam/main
    substream: rtsp://cam/sub
    onDemand: true
  gate:
    source: exec:run-camera
    onDemand: "true"
    idleTimeout: 5m
  door:
    source: publish
    onDemand: false
  pattern:
    source: demo
    onDemand:
    idleTimeout:
  pi:
    source: rtp://0.0.0.0:5004
    sdp: testdata/h264.sdp
    onDemand: true
    idleTimeout: 1s
`)
	if cfg.Log != (Log{Format: "json", Level: "warn", Requests: true}) {
		t.Errorf("Log = %+v", cfg.Log)
	}
	wantUsers := []User{
		{Name: "alice", PasswordHash: testHash, Cameras: []string{"*"}, Admin: true, Line: 9},
		{Name: "bob", PasswordHash: testHash10, Cameras: []string{"lobby", "gate"}, Line: 13},
		{Name: "7", PasswordHash: testHash, Cameras: []string{"gate"}, Line: 16},
	}
	if !reflect.DeepEqual(cfg.Users, wantUsers) {
		t.Errorf("Users =\n%+v\nwant\n%+v", cfg.Users, wantUsers)
	}
	if cfg.TokenSecret != testSecret || cfg.AdminListen != "127.0.0.1:9091" {
		t.Errorf("TokenSecret %q, AdminListen %q", cfg.TokenSecret, cfg.AdminListen)
	}
	wantOrigins := []string{"https://intranet.example.com", "http://10.0.0.5:8000", "https://a.example", "http://[::1]", "http://[fe80::1]:81"}
	if !reflect.DeepEqual(cfg.AllowOrigins, wantOrigins) {
		t.Errorf("AllowOrigins = %q, want %q", cfg.AllowOrigins, wantOrigins)
	}
	if !reflect.DeepEqual(cfg.FrameAncestors, []string{AnyOrigin}) {
		t.Errorf("FrameAncestors = %q", cfg.FrameAncestors)
	}
	if cfg.Limits != (Limits{64, 64}) {
		t.Errorf("Limits = %+v", cfg.Limits)
	}
	want := map[string]struct {
		on   bool
		idle time.Duration
	}{
		"lobby":   {true, DefaultIdleTimeout},
		"gate":    {true, 5 * time.Minute},
		"door":    {false, 0},
		"pattern": {false, 0},
		"pi":      {true, time.Second},
	}
	if len(cfg.Cameras) != len(want) {
		t.Fatalf("%d cameras", len(cfg.Cameras))
	}
	for _, c := range cfg.Cameras {
		if w := want[c.Name]; c.OnDemand != w.on || c.IdleTimeout != w.idle {
			t.Errorf("camera %s: OnDemand %v, IdleTimeout %v; want %v, %v", c.Name, c.OnDemand, c.IdleTimeout, w.on, w.idle)
		}
	}
	// The substream of an on-demand camera is on demand too.
	lobby, _ := cfg.Camera("lobby")
	if sub, ok := lobby.SubstreamCamera(); !ok || !sub.OnDemand || sub.IdleTimeout != DefaultIdleTimeout {
		t.Errorf("substream = %+v", sub)
	}

	// Who may watch what.
	alice, bob, seven := cfg.Users[0], cfg.Users[1], cfg.Users[2]
	for _, tt := range []struct {
		u    User
		cam  string
		want bool
	}{
		{alice, "door", true}, {alice, "lobby/sub", true},
		{bob, "lobby", true}, {bob, "lobby/sub", true}, {bob, "door", false},
		{seven, "gate", true}, {seven, "lobby", false},
	} {
		if got := tt.u.MayWatch(tt.cam); got != tt.want {
			t.Errorf("%s.MayWatch(%q) = %v", tt.u.Name, tt.cam, got)
		}
	}
}

// Camera stays comparable, and a change of onDemand or idleTimeout is a
// change of camera.
func TestOnDemandComparable(t *testing.T) {
	a := parseOK(t, "cameras:\n  x: {source: demo}\n").Cameras[0]
	b := parseOK(t, "cameras:\n  x: {source: demo, onDemand: true}\n").Cameras[0]
	c := parseOK(t, "cameras:\n  x: {source: demo, onDemand: true, idleTimeout: 2m}\n").Cameras[0]
	if a == b || b == c {
		t.Errorf("equal cameras: %+v %+v %+v", a, b, c)
	}
	if b2 := parseOK(t, "cameras:\n  x: {source: demo, onDemand: true, idleTimeout: 60s}\n").Cameras[0]; b != b2 {
		t.Errorf("explicit default differs: %+v %+v", b, b2)
	}
}

// A user may name a camera that has a mistake: that one is reported, not
// the user too.
func TestUserOfBadCamera(t *testing.T) {
	got := parseErr(t, "cameras:\n  a: {source: nope}\nusers:\n  - name: u\n    password: \""+testHash+"\"\n    cameras: [a]\n")
	if len(got) != 1 || got[0].Line != 2 {
		t.Errorf("got %+v", got)
	}
}

// Passwords and token secrets are not URLs, so Redact cannot hide them:
// no message may quote them at all, whatever else is wrong around them.
func TestSecretsNotInErrors(t *testing.T) {
	secrets := []string{"hunter2xyz", "correct horse battery", "pa:ss9word", `pa"ss9word`, "12345678912", "$2a$10$tooshort9", "$2a$99$" + strings.Repeat("q", 53),
		"$1$abcdefgh$" + strings.Repeat("w", 48), "yes9secret", strings.Repeat("s", 20) + "9"}
	templates := []string{
		// A plain password instead of the hash, with every other mistake.
		"users:\n  - name: alice\n    password: %q\n    cameras: [\"*\"]\n",
		"users:\n  - name: Alice\n    password: %q\n    cameras: [nope]\n",
		"users:\n  - password: %q\n",
		"users:\n  - name: alice\n    password: %q\n    password: %[1]q\n    cameras: [\"*\"]\n",
		"users:\n  - name: alice\n    password: [%q]\n    cameras: [\"*\"]\n",
		"users:\n  - name: alice\n    password: {%q: 1}\n    cameras: [\"*\"]\n",
		"users:\n  - name: alice\n    pasword: %q\n    cameras: [\"*\"]\n",
		"users:\n  - name: alice\n    password: %q\n    cameras: \"*\"\n    admin: maybe\n",
		"users:\n  alice: {password: %q}\n",
		"users:\n  - name: a\n    password: &p %q\n    cameras: [\"*\"]\n  - name: a\n    password: *p\n    cameras: [\"*\"]\n",
		// A token secret, too short or around other mistakes.
		"tokenSecret: %q\n",
		"tokenSecret: [%q]\n",
		"tokenSecret: {%q: 1}\n",
		"tokenSecret: %q\ntokenSecret: %[1]q\n",
		"tokenSecrt: %q\n",
		"tokenSecret: %q\nlisten: nope\n",
	}
	for _, pw := range secrets {
		for _, tmpl := range templates {
			src := fmt.Sprintf(tmpl, pw)
			_, err := Parse([]byte(src))
			if err == nil {
				if strings.HasPrefix(tmpl, "tokenSecret: %q\n") && len(pw) >= MinTokenSecret {
					continue // a long enough secret is fine
				}
				t.Errorf("no error for\n%s", src)
				continue
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("secret %q leaked from\n%s\ninto\n%v", pw, src, err)
			}
		}
	}
	// A long token secret beside other mistakes is not quoted either.
	src := fmt.Sprintf("tokenSecret: %q\ntokenSecret: %[1]q\nlimits: {blockingTotal: 0}\n", testSecret)
	if _, err := Parse([]byte(src)); err == nil || strings.Contains(err.Error(), testSecret) {
		t.Errorf("token secret in %v", err)
	}
}

// Load reads the new keys from a file too (testdata/valid.yml uses every
// key).
func TestLoadAccess(t *testing.T) {
	cfg, err := Load(filepath.Join("testdata", "valid.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log != (Log{Format: "json", Level: "debug", Requests: true}) || len(cfg.Users) != 2 || !cfg.Users[0].Admin ||
		cfg.TokenSecret == "" || cfg.AdminListen != "127.0.0.1:9091" || len(cfg.AllowOrigins) != 1 || len(cfg.FrameAncestors) != 1 ||
		cfg.Limits != (Limits{128, 5000}) {
		t.Errorf("got %+v", cfg)
	}
	if demo, _ := cfg.Camera("demo1"); !demo.OnDemand || demo.IdleTimeout != 30*time.Second {
		t.Errorf("demo1 = %+v", demo)
	}
}
