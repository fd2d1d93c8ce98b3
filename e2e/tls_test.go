package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// verifyingClient trusts only pool, and speaks HTTP/2 when h2 is set
// (HTTP/1.1 otherwise), never following redirects.
func verifyingClient(pool *x509.CertPool, h2 bool) *http.Client {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(h2)
	return &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, Protocols: &p},
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// certFingerprint is a certificate's SHA-256 as openssl prints it.
func certFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// tlsGet fetches url and returns the protocol, the server's certificate and
// the response.
func tlsGet(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var sha256LogRE = regexp.MustCompile(` sha256=([0-9A-F:]{95})`)

// tls: auto makes a certificate on first start that a client trusting
// data/tls/ca.pem accepts for 127.0.0.1, serves every route over HTTP/2
// with it, logs its fingerprint, and reuses it after a restart. The plain
// listener redirects to HTTPS.
func TestHTTPSAutoCertificate(t *testing.T) {
	s := startWeb(t, `listen: LISTEN
tls: auto
dataDir: DATADIR
redirectListen: REDIRECT
cameras:
  demo1: { source: demo }
`, webOpts{})
	dir := filepath.Join(s.DataDir, "tls")
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	if fi, err := os.Stat(filepath.Join(dir, "key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key.pem: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	h2 := verifyingClient(pool, true)

	resp, _ := tlsGet(t, h2, s.URL+"/healthz")
	if resp.Proto != "HTTP/2.0" || resp.StatusCode != 200 {
		t.Fatalf("/healthz: %s %s, want 200 over HTTP/2", resp.Proto, resp.Status)
	}
	served := certFingerprint(resp.TLS.PeerCertificates[0].Raw)
	m := sha256LogRE.FindStringSubmatch(s.logs.String())
	if m == nil || m[1] != served {
		t.Errorf("the log does not give the served certificate's fingerprint %s:\n%s", served, s.logs.String())
	}
	t.Logf("certificate %s, logged as %s", served, m[1])

	// Every route: page, API, HLS.
	s.waitLive(t, []string{"demo1"}, 10*time.Second)
	for _, path := range []string{"/", "/cams/demo1/", "/api/v1/cameras", "/cams/demo1/index.m3u8", "/assets/app.js"} {
		if resp, _ := tlsGet(t, h2, s.URL+path); resp.StatusCode != 200 || resp.Proto != "HTTP/2.0" {
			t.Errorf("%s: %s %s", path, resp.Proto, resp.Status)
		}
	}
	// Clients without HTTP/2 get HTTP/1.1.
	if resp, _ := tlsGet(t, verifyingClient(pool, false), s.URL+"/healthz"); resp.Proto != "HTTP/1.1" {
		t.Errorf("an HTTP/1.1 client got %s", resp.Proto)
	}

	// Plain HTTP on redirectListen sends browsers to HTTPS, path and query
	// kept.
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ = tlsGet(t, plain, "http://"+s.Redirect+"/cams/demo1/?x=1")
	if want := s.URL + "/cams/demo1/?x=1"; resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
		t.Errorf("redirect: %s to %q, want 301 to %q", resp.Status, resp.Header.Get("Location"), want)
	}
	if resp, _ := tlsGet(t, h2, resp.Header.Get("Location")); resp.StatusCode != 200 {
		t.Errorf("following the redirect: %s", resp.Status)
	}

	// The certificate to install is offered for download, over HTTPS and
	// over plain HTTP (for a phone that trusts nothing yet).
	for _, url := range []string{s.URL + "/ca.pem", "http://" + s.Redirect + "/ca.pem"} {
		c := h2
		if strings.HasPrefix(url, "http:") {
			c = plain
		}
		resp, body := tlsGet(t, c, url)
		if resp.StatusCode != 200 || body != string(caPEM) || resp.Header.Get("Content-Type") != "application/x-x509-ca-cert" {
			t.Errorf("%s: %s %s, %d bytes; want ca.pem", url, resp.Status, resp.Header.Get("Content-Type"), len(body))
		}
	}

	// A restart reuses the certificate.
	s.stop(t)
	s.start(t)
	resp, _ = tlsGet(t, verifyingClient(pool, true), s.URL+"/healthz")
	if again := certFingerprint(resp.TLS.PeerCertificates[0].Raw); again != served {
		t.Errorf("after a restart the certificate is %s, was %s", again, served)
	}
	if n := strings.Count(s.logs.String(), "made an HTTPS certificate"); n != 1 {
		t.Errorf("certificate made %d times in two starts", n)
	}
}

// tls: {cert, key} serves the given certificate over HTTP/2.
func TestHTTPSGivenFiles(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	der := writeServerCert(t, certPath, keyPath)
	s := startWeb(t, "listen: LISTEN\ntls:\n  cert: "+certPath+"\n  key: "+keyPath+"\ncameras:\n  demo1: { source: demo }\n", webOpts{})
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	resp, _ := tlsGet(t, verifyingClient(pool, true), s.URL+"/api/v1/cameras")
	if resp.Proto != "HTTP/2.0" || resp.StatusCode != 200 {
		t.Fatalf("%s %s, want 200 over HTTP/2", resp.Proto, resp.Status)
	}
	if got := certFingerprint(resp.TLS.PeerCertificates[0].Raw); got != certFingerprint(der) {
		t.Errorf("served %s, want the given certificate %s", got, certFingerprint(der))
	}
	logs := s.logs.String()
	if !strings.Contains(logs, "file="+certPath) || !strings.Contains(logs, "sha256="+certFingerprint(der)) {
		t.Errorf("the log does not name the certificate and its fingerprint:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "tls")); err == nil {
		t.Error("given files, yet a certificate was made in the data directory")
	}
	if resp, _ := tlsGet(t, verifyingClient(pool, true), s.URL+"/ca.pem"); resp.StatusCode != 404 {
		t.Errorf("/ca.pem with given files: %s, want 404", resp.Status)
	}
}

// writeServerCert writes a self-signed certificate for 127.0.0.1 and its
// key, and returns the certificate.
func writeServerCert(t *testing.T, certPath, keyPath string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "rtsp2hls test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
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
	return der
}
