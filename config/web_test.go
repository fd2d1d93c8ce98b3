package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Mistakes in tls, redirectListen, dataDir, walls and substreams, each
// reported at its line, all at once.
func TestParseErrorsWeb(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []want
	}{
		// tls.
		{"tls word", "tls: on\n", []want{{1, []string{`tls: "on" must be auto, or a mapping {cert: FILE, key: FILE} (leave tls out to serve plain HTTP)`}}}},
		{"tls bool", "tls: true\n", []want{{1, []string{`tls: "true" must be auto`}}}},
		{"tls case", "tls: Auto\n", []want{{1, []string{`did you mean "auto"?`}}}},
		{"tls list", "tls: [auto]\n", []want{{1, []string{"tls must be auto, or a mapping {cert: FILE, key: FILE}, not a list"}}}},
		{"tls empty mapping", "tls: {}\n", []want{{1, []string{"tls needs cert and key (PEM files), or write tls: auto"}}}},
		{"tls cert only", "tls:\n  cert: a.pem\n", []want{{2, []string{"tls.cert needs tls.key too"}}}},
		{"tls key only", "tls:\n  key: a.key\n", []want{{2, []string{"tls.key needs tls.cert too"}}}},
		{"tls unknown key", "tls:\n  crt: a.pem\n  key: a.key\n", []want{
			{2, []string{`unknown key "crt" in tls (known: cert, key); did you mean "cert"?`}},
			{3, []string{"tls.key needs tls.cert too"}},
		}},
		{"tls empty cert", "tls:\n  cert: \"\"\n  key: a.key\n", []want{{2, []string{"tls.cert is empty (want the path of a PEM file)"}}}},
		{"tls null cert", "tls:\n  cert:\n  key: a.key\n", []want{{2, []string{"tls.cert is empty"}}}},
		{"tls cert list", "tls:\n  cert: [a]\n  key: a.key\n", []want{{2, []string{"tls.cert must be a string, not a list"}}}},
		{"tls missing files", "tls:\n  cert: testdata/nope.pem\n  key: testdata/nope.key\n",
			[]want{{2, []string{`tls: cannot use cert "testdata/nope.pem" with key "testdata/nope.key": no such file or directory`}}}},

		// redirectListen.
		{"redirect without tls", "redirectListen: \":80\"\n", []want{{1, []string{`redirectListen ":80" redirects plain HTTP to HTTPS, so it needs tls (auto, or cert and key)`}}}},
		{"redirect not host:port", "tls: auto\nredirectListen: 80\n", []want{{2, []string{`redirectListen: "80" is not host:port`, `write ":80"`}}}},
		{"redirect list", "tls: auto\nredirectListen: [a]\n", []want{{2, []string{"redirectListen must be a string, not a list"}}}},
		{"redirect same as listen", "listen: \":8443\"\ntls: auto\nredirectListen: \"127.0.0.1:8443\"\n",
			[]want{{3, []string{`redirectListen "127.0.0.1:8443" uses the same port as listen ":8443" (line 1)`}}}},
		{"redirect same as default listen", "tls: auto\nredirectListen: \":8080\"\n",
			[]want{{2, []string{`uses the same port as listen ":8080" (default)`}}}},
		{"redirect same as rtsp", "listen: \":8443\"\ntls: auto\nredirectListen: \":8554\"\ncameras:\n  a: {source: publish}\n",
			[]want{{3, []string{`redirectListen ":8554" uses the same port as rtsp.listen ":8554" (default)`}}}},

		// dataDir.
		{"dataDir empty", "dataDir: \"\"\n", []want{{1, []string{`dataDir is empty (leave it out for "data" beside the config file)`}}}},
		{"dataDir list", "dataDir: [a]\n", []want{{1, []string{"dataDir must be a string, not a list"}}}},

		// walls.
		{"walls list", "walls:\n  - name: a\n", []want{{2, []string{"walls must be a mapping from name to wall, not a list"}}}},
		{"walls scalar", "walls: lobby\n", []want{{1, []string{`walls must be a mapping from name to wall, not "lobby"`}}}},
		{"wall is a list", "cameras:\n  a: {source: demo}\nwalls:\n  w: [a]\n",
			[]want{{4, []string{`wall "w" must be a mapping with the keys cameras, grid, not a list (write cameras: [a, b])`}}}},
		{"wall is a scalar", "walls:\n  w: a\n", []want{{2, []string{`wall "w" must be a mapping with the keys cameras, grid, not "a"`}}}},
		{"wall null", "walls:\n  w:\n", []want{{2, []string{`wall "w": cameras is required`}}}},
		{"wall no cameras key", "walls:\n  w:\n    grid: 2x2\n", []want{{2, []string{`wall "w": cameras is required (a list of camera names)`}}}},
		{"wall unknown key", "cameras:\n  a: {source: demo}\nwalls:\n  w:\n    cameras: [a]\n    gird: 2x2\n",
			[]want{{6, []string{`unknown key "gird" in wall "w" (known: cameras, grid); did you mean "grid"?`}}}},
		{"wall name", "cameras:\n  a: {source: demo}\nwalls:\n  Lobby: {cameras: [a]}\n",
			[]want{{4, []string{`wall name "Lobby" is invalid: names are used in URLs (/walls/NAME)`}}}},
		{"wall cameras empty", "walls:\n  w: {cameras: []}\n", []want{{2, []string{`wall "w": cameras is empty`}}}},
		{"wall cameras null", "walls:\n  w:\n    cameras:\n", []want{{3, []string{`wall "w": cameras is empty`}}}},
		{"wall cameras scalar", "walls:\n  w: {cameras: a}\n", []want{{2, []string{`wall "w": cameras must be a list of camera names such as [lobby, gate], not "a"`}}}},
		{"wall unknown camera", "cameras:\n  lobby: {source: demo}\n  gate: {source: demo}\nwalls:\n  w:\n    cameras:\n      - gate\n      - loby\n",
			[]want{{8, []string{`wall "w": camera "loby" is not in cameras; did you mean "lobby"?`}}}},
		{"wall camera twice", "cameras:\n  a: {source: demo}\nwalls:\n  w:\n    cameras:\n      - a\n      - a\n",
			[]want{{7, []string{`wall "w": camera "a" is listed twice (first at line 6)`}}}},
		{"wall camera not a name", "cameras:\n  a: {source: demo}\nwalls:\n  w: {cameras: [[a]]}\n", []want{{4, []string{`wall "w": cameras item must be a string, not a list`}}}},
		{"wall camera with a mistake", "cameras:\n  a: {source: nope}\nwalls:\n  w: {cameras: [a]}\n",
			[]want{{2, []string{`camera "a": source "nope"`}}}},
		{"grid word", "cameras:\n  a: {source: demo}\nwalls:\n  w: {cameras: [a], grid: big}\n",
			[]want{{4, []string{`wall "w": grid "big" must be COLUMNSxROWS, such as 3x3 or 4x2`}}}},
		{"grid times sign", "cameras:\n  a: {source: demo}\nwalls:\n  w: {cameras: [a], grid: 3×3}\n", []want{{4, []string{"must be COLUMNSxROWS"}}}},
		{"grid zero", "cameras:\n  a: {source: demo}\nwalls:\n  w: {cameras: [a], grid: 0x3}\n", []want{{4, []string{`grid "0x3" is out of range (1x1 to 10x10)`}}}},
		{"grid huge", "cameras:\n  a: {source: demo}\nwalls:\n  w: {cameras: [a], grid: 11x1}\n", []want{{4, []string{"out of range"}}}},
		{"grid too small", "cameras:\n  a: {source: demo}\n  b: {source: demo}\n  c: {source: demo}\nwalls:\n  w:\n    cameras: [a, b, c]\n    grid: 2x1\n",
			[]want{{8, []string{`wall "w": grid 2x1 has room for 2 cameras, not the 3 listed`}}}},
		{"duplicate wall", "cameras:\n  a: {source: demo}\nwalls:\n  w: {cameras: [a]}\n  w: {cameras: [a]}\n",
			[]want{{5, []string{`duplicate wall "w" (first at line 4)`}}}},

		// substream.
		{"substream empty", "cameras:\n  a:\n    source: demo\n    substream:\n", []want{{4, []string{`camera "a": substream is empty (want an rtsp://, rtsps:// or rtp:// URL, demo, publish or exec:COMMAND, or leave the key out)`}}}},
		{"substream list", "cameras:\n  a:\n    source: demo\n    substream: [a]\n", []want{{4, []string{`camera "a": substream must be a string, not a list`}}}},
		{"substream http", "cameras:\n  a:\n    source: demo\n    substream: http://cam/sub\n",
			[]want{{4, []string{`camera "a": substream source "http://cam/sub" must be an rtsp://, rtsps:// or rtp:// URL, demo, publish or exec:COMMAND, not http://`}}}},
		{"substream typo", "cameras:\n  a:\n    source: demo\n    substream: dmeo\n", []want{{4, []string{`did you mean "demo"?`}}}},
		{"transport on demo and demo", "cameras:\n  a:\n    source: demo\n    substream: demo\n    transport: tcp\n",
			[]want{{5, []string{`camera "a": transport is only for rtsp:// and rtsps:// sources (this source is demo, its substream demo)`}}}},
		{"fingerprint for neither", "cameras:\n  a:\n    source: rtsp://cam/main\n    substream: rtsp://cam/sub\n    fingerprint: " + strings.Repeat("ab", 32) + "\n",
			[]want{{5, []string{"fingerprint is only for rtsps:// sources (this source is rtsp://, its substream rtsp://)"}}}},
		{"rtp substream without sdp", "cameras:\n  a:\n    source: demo\n    substream: rtp://0.0.0.0:5004\n",
			[]want{{2, []string{`camera "a": sdp is required for rtp:// sources`}}}},
		{"rtp substream on the source's port", "cameras:\n  a:\n    source: rtp://0.0.0.0:5004\n    substream: rtp://127.0.0.1:5004\n    sdp: testdata/h264.sdp\n",
			[]want{{2, []string{`camera "a": substream "rtp://127.0.0.1:5004" receives on the same port as its source "rtp://0.0.0.0:5004"`}}}},
		{"rtp substream on another camera's port", "cameras:\n  a: {source: \"rtp://0.0.0.0:5004\", sdp: testdata/h264.sdp}\n  b: {source: demo, substream: \"rtp://0.0.0.0:5004\", sdp: testdata/h264.sdp}\n",
			[]want{{3, []string{`camera "b": substream "rtp://0.0.0.0:5004" receives on the same port as camera "a" (line 2), "rtp://0.0.0.0:5004"`}}}},
		{"rtp source on another camera's substream port", "cameras:\n  a: {source: demo, substream: \"rtp://0.0.0.0:5004\", sdp: testdata/h264.sdp}\n  b: {source: \"rtp://0.0.0.0:5004\", sdp: testdata/h264.sdp}\n",
			[]want{{3, []string{`camera "b": source "rtp://0.0.0.0:5004" receives on the same port as camera "a" (line 2), its substream "rtp://0.0.0.0:5004"`}}}},
		{"h265 substream sdp with mpegts", "cameras:\n  a:\n    source: demo\n    substream: rtp://0.0.0.0:5004\n    sdp: testdata/h265.sdp\n    hls: {variant: mpegts}\n",
			[]want{{6, []string{"H.265 video needs variant fmp4 or lowLatency"}}}},
		{"publish substream clashes with listen", "listen: \":8554\"\ncameras:\n  a: {source: demo, substream: publish}\n",
			[]want{{1, []string{`listen ":8554" uses the same port as rtsp.listen ":8554" (default)`}}}},
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

func TestWebDefaults(t *testing.T) {
	cfg := parseOK(t, "cameras:\n  a: {source: demo}\n")
	if cfg.TLS != (TLS{}) || cfg.TLS.Enabled() || cfg.RedirectListen != "" || cfg.Walls != nil {
		t.Errorf("got %+v", cfg)
	}
	if cfg.DataDir != "data" {
		t.Errorf("DataDir = %q, want data (relative to the current directory for Parse)", cfg.DataDir)
	}
	if cfg.Cameras[0].Substream != (Substream{}) {
		t.Errorf("Substream = %+v", cfg.Cameras[0].Substream)
	}
	if _, ok := cfg.Cameras[0].SubstreamCamera(); ok {
		t.Error("SubstreamCamera of a camera without substream")
	}
	for _, src := range []string{"tls:\n", "tls: auto\n", "tls: auto\nredirectListen: \":80\"\n", "tls: auto\nlisten: \":8443\"\nredirectListen: \":8080\"\n"} {
		parseOK(t, src)
	}
	if cfg := parseOK(t, "tls: auto\nlisten: \":443\"\nredirectListen: \":80\"\n"); !cfg.TLS.Auto || !cfg.TLS.Enabled() || cfg.RedirectListen != ":80" {
		t.Errorf("auto: %+v", cfg)
	}
}

func TestWalls(t *testing.T) {
	cfg := parseOK(t, `cameras:
  a: {source: demo}
  b: {source: demo}
  c: {source: demo}
walls:
  entrance:
    cameras: [c, a]
  all:
    cameras:
      - a
      - b
      - c
    grid: 4x1
  one:
    grid:
    cameras: [b]
`)
	want := []Wall{
		{Name: "entrance", Cameras: []string{"c", "a"}, Line: 6},
		{Name: "all", Cameras: []string{"a", "b", "c"}, Grid: Grid{4, 1}, Line: 8},
		{Name: "one", Cameras: []string{"b"}, Line: 14},
	}
	if !reflect.DeepEqual(cfg.Walls, want) {
		t.Errorf("Walls =\n%+v\nwant\n%+v", cfg.Walls, want)
	}
	if w, ok := cfg.Wall("all"); !ok || w.Grid.String() != "4x1" {
		t.Errorf("Wall(all) = %+v, %v", w, ok)
	}
	if _, ok := cfg.Wall("nope"); ok {
		t.Error("Wall(nope) found")
	}
	if s := (Grid{}).String(); s != "" {
		t.Errorf("zero grid = %q", s)
	}
}

// A substream takes any source, and the camera's keys apply to it where
// they fit its kind.
func TestSubstreams(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	cfg := parseOK(t, `cameras:
  hik:
    source: rtsp://admin:secret@10.0.0.2/Streaming/Channels/101
    substream: rtsp://admin:secret@10.0.0.2/Streaming/Channels/102
    transport: tcp
  gate:
    source: rtsps://cam/main
    substream: rtsps://cam/sub
    fingerprint: `+fp+`
  mixed:
    source: demo
    substream: rtsp://cam/sub
    transport: udp
  door:
    source: publish
    substream: publish
    publishUser: phone
    publishPass: s3cret
  rtp:
    source: rtp://0.0.0.0:5004
    substream: rtp://0.0.0.0:5006
    sdp: testdata/h264.sdp
  pi:
    source: "exec:rpicam-vid -o -"
    substream: "exec:rpicam-vid --width 320 -o -"
`)
	h := DefaultHLS
	want := []Camera{
		{Name: "hik/sub", Source: "rtsp://admin:secret@10.0.0.2/Streaming/Channels/102", Kind: KindRTSP, Transport: TransportTCP, HLS: h, Line: 2},
		{Name: "gate/sub", Source: "rtsps://cam/sub", Kind: KindRTSP, Transport: TransportAuto, Fingerprint: fp, HLS: h, Line: 6},
		{Name: "mixed/sub", Source: "rtsp://cam/sub", Kind: KindRTSP, Transport: TransportUDP, HLS: h, Line: 10},
		{Name: "door/sub", Source: "publish", Kind: KindPublish, Transport: TransportAuto, PublishUser: "phone", PublishPass: "s3cret", HLS: h, Line: 14},
		{Name: "rtp/sub", Source: "rtp://0.0.0.0:5006", Kind: KindRTP, Transport: TransportAuto, SDP: h264SDP, SDPVideoCodec: CodecH264, HLS: h, Line: 19},
		{Name: "pi/sub", Source: "exec:rpicam-vid --width 320 -o -", Kind: KindExec, Transport: TransportAuto, Exec: "rpicam-vid --width 320 -o -", HLS: h, Line: 23},
	}
	if len(cfg.Cameras) != len(want) {
		t.Fatalf("%d cameras: %+v", len(cfg.Cameras), cfg.Cameras)
	}
	for i, c := range cfg.Cameras {
		sub, ok := c.SubstreamCamera()
		if !ok || sub != want[i] {
			t.Errorf("camera %s: substream =\n%+v\nwant\n%+v", c.Name, sub, want[i])
		}
	}
	// The camera itself keeps the keys the substream shares.
	if mixed := cfg.Cameras[2]; mixed.Kind != KindDemo || mixed.Transport != TransportUDP || mixed.Substream.Kind != KindRTSP {
		t.Errorf("mixed = %+v", mixed)
	}
	// A new substream is a change of camera.
	a := parseOK(t, "cameras:\n  x: {source: demo, substream: rtsp://cam/1}\n").Cameras[0]
	b := parseOK(t, "cameras:\n  x: {source: demo, substream: rtsp://cam/2}\n").Cameras[0]
	if a == b {
		t.Error("cameras with different substreams are equal")
	}
}

// Relative paths (dataDir, tls files) are relative to the config file.
func TestLoadWebPaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTestCert(t, filepath.Join(dir, "certs", "a.pem"), filepath.Join(dir, "certs", "a.key"))
	writeTestCert(t, filepath.Join(dir, "certs", "b.pem"), filepath.Join(dir, "certs", "b.key"))
	path := filepath.Join(dir, "config.yml")
	load := func(src string) (*Config, error) {
		t.Helper()
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return Load(path)
	}

	cfg, err := load("tls:\n  cert: certs/a.pem\n  key: ./certs/../certs/a.key\n")
	if err != nil {
		t.Fatal(err)
	}
	want := TLS{Cert: filepath.Join(dir, "certs", "a.pem"), Key: filepath.Join(dir, "certs", "a.key")}
	if cfg.TLS != want || !cfg.TLS.Enabled() || cfg.TLS.Auto {
		t.Errorf("TLS = %+v, want %+v", cfg.TLS, want)
	}
	if cfg.DataDir != filepath.Join(dir, "data") {
		t.Errorf("DataDir = %q, want data beside the config", cfg.DataDir)
	}

	if cfg, err = load("dataDir: /var/lib/rtsp2hls\n"); err != nil || cfg.DataDir != "/var/lib/rtsp2hls" {
		t.Errorf("absolute dataDir: %v %+v", err, cfg)
	}
	if cfg, err = load("dataDir: state/rtsp2hls\n"); err != nil || cfg.DataDir != filepath.Join(dir, "state", "rtsp2hls") {
		t.Errorf("relative dataDir: %v %+v", err, cfg)
	}

	// The key of another certificate.
	_, err = load("tls:\n  cert: certs/a.pem\n  key: certs/b.key\n")
	if err == nil || !strings.Contains(err.Error(), path+":2: tls: cannot use cert") || !strings.Contains(err.Error(), "private key does not match public key") {
		t.Errorf("mismatched key: %v", err)
	}
	// Files the wrong way round.
	_, err = load("tls:\n  key: certs/a.pem\n  cert: certs/a.key\n")
	if err == nil || !strings.Contains(err.Error(), path+":3: tls: cannot use cert") {
		t.Errorf("swapped files: %v", err)
	}
}

// writeTestCert writes a self-signed certificate and its key as PEM.
func writeTestCert(t *testing.T, certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
}
