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

	"github.com/bluenviron/gortsplib/v5/pkg/auth"

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
	demo, err := startDemo(discardLog(), aus, sps, pps, demoOptions{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
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

// User name and password in the camera URL answer the camera's challenge,
// basic or digest; a wrong password is a clear failed attempt.
func TestRTSPAuthFromURL(t *testing.T) {
	aus, sps, pps, err := demoAccessUnits()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		name    string
		methods []auth.VerifyMethod
	}{
		{"basic", []auth.VerifyMethod{auth.VerifyMethodBasic}},
		{"digest MD5", []auth.VerifyMethod{auth.VerifyMethodDigestMD5}},
		{"digest SHA-256", []auth.VerifyMethod{auth.VerifyMethodDigestSHA256}},
	} {
		t.Run(m.name, func(t *testing.T) {
			// (No ':' in the password: gortsplib's server splits Basic
			// credentials on every ':'.)
			demo, err := startDemo(discardLog(), aus[:25], sps, pps, demoOptions{User: "admin", Pass: "p@ss#w0rd", AuthMethods: m.methods})
			if err != nil {
				t.Fatal(err)
			}
			defer demo.Close()
			hostPath := strings.TrimPrefix(demo.URL(), "rtsp://")

			good := &Worker{Name: "good", Sink: &recordSink{}, Log: discardLog(),
				Source: &RTSPSource{URL: "rtsp://admin:p%40ss%23w0rd@" + hostPath, Transport: config.TransportTCP}}
			runWorker(t, good)
			waitUntil(t, "live with credentials", func() bool { return good.Status().State == StateLive })

			bad := &Worker{Name: "bad", Sink: &recordSink{}, Log: discardLog(),
				Source: &RTSPSource{URL: "rtsp://admin:wrong@" + hostPath, Transport: config.TransportTCP}}
			runWorker(t, bad)
			waitUntil(t, "a refused attempt", func() bool { return bad.Status().Reconnects > 0 })
			st := bad.Status()
			if st.State == StateLive || !strings.Contains(st.LastError, "401") || strings.Contains(st.LastError, "wrong") {
				t.Fatalf("wrong password: state %s, last error %q (want a 401, without the password)", st.State, st.LastError)
			}
		})
	}
}
