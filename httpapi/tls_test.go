package httpapi

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/config"
)

var (
	testNames = []string{"localhost", "camhost", "camhost.local"}
	testAddrs = []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback, net.ParseIP("192.168.1.20").To4()}
)

// logTo returns a logger writing text lines to b.
func logTo(b *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// caPool reads dir/ca.pem into a pool.
func caPool(t *testing.T, dir string) (*x509.CertPool, *x509.Certificate) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, autoCAFile))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, ca
}

// The first start makes a certificate that a device trusting ca.pem
// accepts for every name and address of the machine; later starts reuse it.
func TestAutoCertMadeAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Now()
	var log bytes.Buffer
	cert, err := autoCert(dir, testNames, testAddrs, now, logTo(&log))
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	fp := fingerprint(leaf.Raw)
	if !strings.Contains(log.String(), "made an HTTPS certificate") || !strings.Contains(log.String(), "sha256="+fp) ||
		!strings.Contains(log.String(), "authority="+filepath.Join(dir, "ca.pem")) {
		t.Errorf("log does not announce the new certificate and its fingerprint %s:\n%s", fp, log.String())
	}
	if strings.Contains(log.String(), "level=WARN") {
		t.Errorf("a first start warns:\n%s", log.String())
	}

	// Files and modes.
	for name, mode := range map[string]os.FileMode{"cert.pem": 0o644, "key.pem": 0o600, "ca.pem": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("%s has mode %v, want 0700", dir, fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("%d files in %s, want 3 (no temporary files left)", len(entries), dir)
	}

	// What the certificate is.
	pool, ca := caPool(t, dir)
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("key is %T, want ECDSA P-256", leaf.PublicKey)
	}
	if leaf.IsCA || !ca.IsCA || !ca.MaxPathLenZero {
		t.Errorf("leaf IsCA %v, authority IsCA %v MaxPathLenZero %v", leaf.IsCA, ca.IsCA, ca.MaxPathLenZero)
	}
	if v := leaf.NotAfter.Sub(leaf.NotBefore); v > 825*24*time.Hour+time.Hour {
		t.Errorf("valid for %v: Apple platforms refuse more than 825 days", v)
	}
	if len(cert.Certificate) != 2 || !bytes.Equal(cert.Certificate[1], ca.Raw) {
		t.Error("the served chain is not the certificate then its authority")
	}
	for _, name := range []string{"localhost", "camhost", "camhost.local", "127.0.0.1", "::1", "192.168.1.20"} {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			t.Errorf("not valid for %s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.example", Roots: pool}); err == nil {
		t.Error("valid for other.example")
	}

	// A later start reuses it, and says so.
	log.Reset()
	again, err := autoCert(dir, testNames, testAddrs, now.Add(time.Hour), logTo(&log))
	if err != nil {
		t.Fatal(err)
	}
	if fingerprint(again.Leaf.Raw) != fp {
		t.Error("a later start made a new certificate")
	}
	if !strings.Contains(log.String(), "msg=\"HTTPS certificate (tls: auto)\"") || !strings.Contains(log.String(), "sha256="+fp) ||
		!strings.Contains(log.String(), "authoritySHA256="+fingerprint(ca.Raw)) || strings.Contains(log.String(), "level=WARN") {
		t.Errorf("log of a later start:\n%s", log.String())
	}

	// A new address is warned about, not acted on: every device would have
	// to trust a new certificate.
	log.Reset()
	moved, err := autoCert(dir, testNames, append(testAddrs, net.ParseIP("10.9.8.7").To4()), now, logTo(&log))
	if err != nil {
		t.Fatal(err)
	}
	if fingerprint(moved.Leaf.Raw) != fp || !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "missing=10.9.8.7") {
		t.Errorf("new address: log\n%s", log.String())
	}
}

// A certificate that cannot serve is replaced, with the reason logged.
func TestAutoCertRemade(t *testing.T) {
	now := time.Now()
	otherCA := func(t *testing.T, dir string) {
		_, ca, err := makeAuto(testNames, testAddrs, now)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o644)
	}
	tests := []struct {
		name   string
		spoil  func(t *testing.T, dir string)
		later  time.Duration
		reason string
	}{
		{"corrupt cert", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("garbage"), 0o644) }, 0, "cannot read it"},
		{"key missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "key.pem")) }, 0, "cannot read it"},
		{"authority missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "ca.pem")) }, 0, "cannot read its authority"},
		{"authority not PEM", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "ca.pem"), []byte("x"), 0o644) }, 0, "holds no certificate"},
		{"another authority", otherCA, 0, "is not the authority that signed"},
		{"expires soon", nil, 800 * 24 * time.Hour, "expires on"},
		{"expired", nil, 900 * 24 * time.Hour, "expired on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			first, err := autoCert(dir, testNames, testAddrs, now, logTo(&bytes.Buffer{}))
			if err != nil {
				t.Fatal(err)
			}
			if tt.spoil != nil {
				tt.spoil(t, dir)
			}
			var log bytes.Buffer
			second, err := autoCert(dir, testNames, testAddrs, now.Add(tt.later), logTo(&log))
			if err != nil {
				t.Fatal(err)
			}
			if fingerprint(second.Leaf.Raw) == fingerprint(first.Leaf.Raw) {
				t.Fatal("the certificate was kept")
			}
			if !strings.Contains(log.String(), "making a new HTTPS certificate") || !strings.Contains(log.String(), tt.reason) {
				t.Errorf("log lacks why (%q):\n%s", tt.reason, log.String())
			}
			// What was saved is what is served.
			var again bytes.Buffer
			third, err := autoCert(dir, testNames, testAddrs, now.Add(tt.later), logTo(&again))
			if err != nil || fingerprint(third.Leaf.Raw) != fingerprint(second.Leaf.Raw) {
				t.Errorf("not reused after being remade: %v\n%s", err, again.String())
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	der := []byte("not really a certificate")
	fp := fingerprint(der)
	if !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(fp) {
		t.Fatalf("Fingerprint = %q, want openssl's form", fp)
	}
	sum := sha256.Sum256(der)
	if strings.ReplaceAll(fp, ":", "") != strings.ToUpper(hex.EncodeToString(sum[:])) {
		t.Errorf("Fingerprint = %q is not the SHA-256", fp)
	}
}

// serveTLS runs NewServer with tlsConfig on a loopback port.
func serveTLS(t *testing.T, tlsConfig *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) })
	srv := NewServer(ln.Addr().String(), h, tlsConfig, nil)
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return "https://" + ln.Addr().String()
}

// getProto fetches url with a client trusting pool, speaking HTTP/2 or
// only HTTP/1.1, and returns the protocol the server answered with.
func getProto(t *testing.T, url string, pool *x509.CertPool, h2 bool) string {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(h2)
	tr.Protocols = &p
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != resp.Proto {
		t.Errorf("client saw %s, server %s", resp.Proto, body)
	}
	return resp.Proto
}

// tls: auto serves HTTP/2 (and HTTP/1.1 to clients without it) with a
// certificate that verifies against ca.pem for 127.0.0.1.
func TestTLSConfigAuto(t *testing.T) {
	data := t.TempDir()
	var log bytes.Buffer
	cfg, caPEM, err := TLSConfig(config.TLS{Auto: true}, data, logTo(&log))
	if err != nil {
		t.Fatal(err)
	}
	if onDisk, _ := os.ReadFile(filepath.Join(data, "tls", "ca.pem")); !bytes.Equal(caPEM, onDisk) {
		t.Error("TLSConfig's authority is not ca.pem")
	}
	url := serveTLS(t, cfg)
	pool, _ := caPool(t, filepath.Join(data, "tls"))
	if p := getProto(t, url, pool, true); p != "HTTP/2.0" {
		t.Errorf("protocol %s, want HTTP/2.0", p)
	}
	if p := getProto(t, url, pool, false); p != "HTTP/1.1" {
		t.Errorf("protocol %s, want HTTP/1.1", p)
	}
	if !strings.Contains(log.String(), "sha256=") {
		t.Errorf("no fingerprint in the log:\n%s", log.String())
	}
}

// Given files are served, and a renewal replacing them is picked up
// without a restart.
func TestTLSConfigFiles(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	write := func() *x509.CertPool {
		cert, ca, err := makeAuto(testNames, testAddrs, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		tmp := t.TempDir()
		if err := saveAuto(tmp, cert, ca); err != nil {
			t.Fatal(err)
		}
		for from, to := range map[string]string{"cert.pem": certPath, "key.pem": keyPath} {
			b, _ := os.ReadFile(filepath.Join(tmp, from))
			if err := writeFile(to, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		pool, _ := caPool(t, tmp)
		return pool
	}
	pool1 := write()
	var log bytes.Buffer
	cfg, caPEM, err := TLSConfig(config.TLS{Cert: certPath, Key: keyPath}, "", logTo(&log))
	if err != nil || caPEM != nil {
		t.Fatalf("TLSConfig: %v, authority %q", err, caPEM)
	}
	if !strings.Contains(log.String(), "file="+certPath) || !strings.Contains(log.String(), "sha256=") {
		t.Errorf("log:\n%s", log.String())
	}
	url := serveTLS(t, cfg)
	if p := getProto(t, url, pool1, true); p != "HTTP/2.0" {
		t.Errorf("protocol %s", p)
	}

	if _, _, err := TLSConfig(config.TLS{Cert: filepath.Join(dir, "nope.pem"), Key: keyPath}, "", nil); err == nil {
		t.Error("TLSConfig with a missing file succeeded")
	}

	// Renewed in place: served once the files have been looked at again.
	// (The same certFiles as TLSConfig's, made here to reach its clock.)
	f := &certFiles{cert: certPath, key: keyPath, log: logTo(&log)}
	if err := f.load(); err != nil {
		t.Fatal(err)
	}
	url = serveTLS(t, &tls.Config{GetCertificate: f.get})
	getProto(t, url, pool1, true)
	pool2 := write()
	getProto(t, url, pool1, true) // not looked at again yet
	f.mu.Lock()
	f.checked = time.Time{}
	f.mu.Unlock()
	getProto(t, url, pool2, true)

	// Half-written files keep the previous certificate in service.
	os.WriteFile(keyPath, []byte("half"), 0o600)
	f.mu.Lock()
	f.checked = time.Time{}
	f.mu.Unlock()
	log.Reset()
	getProto(t, url, pool2, true)
	if !strings.Contains(log.String(), "keeping the previous certificate") {
		t.Errorf("log:\n%s", log.String())
	}
}

// Plain HTTP speaks HTTP/1.1 and h2c.
func TestPlainServerSpeaksH2C(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) })
	srv := NewServer(ln.Addr().String(), h, nil, nil)
	go srv.Serve(ln)
	defer srv.Close()
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &p}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Proto != "HTTP/2.0" {
		t.Errorf("h2c client got %s", resp.Proto)
	}
}

func TestRedirectHandler(t *testing.T) {
	tests := []struct {
		host, uri string
		port      int
		want      string
	}{
		{"cams.example:8080", "/cams/a/?x=1", 8443, "https://cams.example:8443/cams/a/?x=1"},
		{"cams.example", "/", 8443, "https://cams.example:8443/"},
		{"cams.example:80", "/walls/front", 443, "https://cams.example/walls/front"},
		{"192.168.1.20:8080", "/", 8443, "https://192.168.1.20:8443/"},
		{"[::1]:8080", "/api/v1/cameras", 8443, "https://[::1]:8443/api/v1/cameras"},
		{"[fd00::1]", "/", 443, "https://[fd00::1]/"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "http://x"+tt.uri, nil)
		r.Host = tt.host
		w := httptest.NewRecorder()
		RedirectHandler(tt.port, nil).ServeHTTP(w, r)
		if w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != tt.want || w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s%s: %d to %q (Cache-Control %q), want 301 to %q", tt.host, tt.uri, w.Code, w.Header().Get("Location"), w.Header().Get("Cache-Control"), tt.want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = ""
	w := httptest.NewRecorder()
	RedirectHandler(8443, nil).ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "HTTPS on port 8443") {
		t.Errorf("no host: %d %q", w.Code, w.Body.String())
	}

	// The certificate to trust is there over plain HTTP, for a phone that
	// trusts nothing yet; without one, /ca.pem is redirected like the rest.
	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	w = httptest.NewRecorder()
	RedirectHandler(8443, ca).ServeHTTP(w, httptest.NewRequest("GET", "http://cams.example/ca.pem", nil))
	if w.Code != 200 || w.Body.String() != string(ca) || w.Header().Get("Content-Type") != "application/x-x509-ca-cert" ||
		!strings.Contains(w.Header().Get("Content-Disposition"), "rtsp2hls-ca.crt") {
		t.Errorf("/ca.pem on the redirect listener: %d %v %q", w.Code, w.Header(), w.Body.String())
	}
	w = httptest.NewRecorder()
	RedirectHandler(8443, nil).ServeHTTP(w, httptest.NewRequest("GET", "http://cams.example/ca.pem", nil))
	if w.Code != http.StatusMovedPermanently {
		t.Errorf("/ca.pem without a CA: %d", w.Code)
	}
}
