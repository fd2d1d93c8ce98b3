package ingest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/config"
)

// selfSigned makes a camera-like self-signed certificate and returns it
// with its SHA-256 fingerprint.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "IPC"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, hex.EncodeToString(sum[:])
}

// An rtsps:// camera with a self-signed certificate is trusted exactly
// when its fingerprint is configured.
func TestRTSPSFingerprint(t *testing.T) {
	cert, fp := selfSigned(t)
	aus, sps, pps, err := demoAccessUnits()
	if err != nil {
		t.Fatal(err)
	}
	demo, err := startDemo(discardLog(), aus, sps, pps, &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	if !strings.HasPrefix(demo.URL(), "rtsps://") {
		t.Fatalf("URL %s", demo.URL())
	}
	wrong := strings.Repeat("0", 64)
	cases := []struct {
		name, fingerprint, wantErr string
	}{
		{"pinned", fp, ""},
		{"wrong fingerprint", wrong, "fingerprint"},
		{"no fingerprint: normal verification", "", "certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sink := &recordSink{}
			w := &Worker{Name: "c", Sink: sink, Log: discardLog(),
				Source: &RTSPSource{URL: demo.URL(), Transport: config.TransportTCP, Fingerprint: c.fingerprint}}
			runWorker(t, w)
			if c.wantErr == "" {
				waitUntil(t, "live over rtsps", func() bool { return w.Status().State == StateLive })
				return
			}
			waitUntil(t, "a failed attempt", func() bool { return w.Status().Reconnects > 0 })
			st := w.Status()
			if st.State == StateLive || !strings.Contains(st.LastError, c.wantErr) {
				t.Fatalf("state %s, last error %q; want an error about %s", st.State, st.LastError, c.wantErr)
			}
		})
	}
}
