package httpapi

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rtsp2hls/rtsp2hls/config"
)

// Files of the tls: auto certificate, in DataDir/tls.
const (
	autoDir      = "tls"
	autoCertFile = "cert.pem" // the server's certificate, then the authority's
	autoKeyFile  = "key.pem"  // the server's private key (mode 0600)
	autoCAFile   = "ca.pem"   // the authority's certificate: what devices are told to trust
)

// certValidity is the life of an automatic certificate. Apple platforms
// (and Chrome on macOS) refuse TLS server certificates valid for more than
// 825 days even when the user trusts them, so that is the longest that
// works everywhere; rtsp2hls makes a new one when it nears its end.
const certValidity = 825 * 24 * time.Hour

// renewBefore: an automatic certificate this close to expiry is replaced,
// so that it never expires while rtsp2hls runs for a few weeks.
const renewBefore = 30 * 24 * time.Hour

// reloadEvery: given certificate files are looked at this often for a
// renewal (certbot and the like replace them in place).
const reloadEvery = 10 * time.Second

// TLSConfig returns the TLS settings of the HTTPS server for c (which
// must be enabled): the given files, or for tls: auto the certificate
// kept in dataDir/tls, made there on first start. Either way it logs the
// certificate's SHA-256 fingerprint, which is what a browser's certificate
// viewer shows, so that a user can recognise it. For tls: auto it also
// returns the authority's certificate (PEM), the one users install, which
// the server offers for download (Options.CA).
//
// tls: auto makes two certificates, because no single self-signed one is
// trusted everywhere: iPhones and Android let a user trust only a
// certificate authority, and Firefox refuses an authority's certificate as
// a server's. So ca.pem is a small authority, the one certificate users
// install, and cert.pem the server's certificate signed by it, for this
// machine's host names and addresses. The authority's private key is
// never written anywhere: it signs this one certificate and is gone, so
// trusting ca.pem trusts nothing else, exactly like a self-signed
// certificate.
func TLSConfig(c config.TLS, dataDir string, log *slog.Logger) (cfg *tls.Config, caPEM []byte, err error) {
	if log == nil {
		log = slog.Default()
	}
	cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case c.Auto:
		names, addrs := machineNames()
		cert, err := autoCert(filepath.Join(dataDir, autoDir), names, addrs, time.Now(), log)
		if err != nil {
			return nil, nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
		// The chain ends with the authority.
		caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[len(cert.Certificate)-1]})
	case c.Cert != "":
		f := &certFiles{cert: c.Cert, key: c.Key, log: log}
		if err := f.load(); err != nil {
			return nil, nil, err
		}
		cfg.GetCertificate = f.get
	default:
		return nil, nil, errors.New("TLS is not enabled")
	}
	return cfg, caPEM, nil
}

// caFileName is what the authority's certificate is saved as by a browser
// that downloads it from /ca.pem: Windows opens .crt files in its
// certificate dialog, with an Install button.
const caFileName = "rtsp2hls-ca.crt"

// serveCA answers with the authority's certificate, typed so that phones
// offer to install it (iOS as a profile, Android as a CA certificate).
func serveCA(caPEM []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-x509-ca-cert")
		w.Header().Set("Content-Disposition", `attachment; filename="`+caFileName+`"`)
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(caPEM) //nolint:errcheck // the client went away
	}
}

// fingerprint returns the SHA-256 fingerprint of a DER certificate the
// way openssl and browsers print it: upper-case hex pairs joined by ':'.
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// certFiles serves a certificate from files given in the config, reloading
// them when they change, so a renewed certificate is used without a
// restart.
type certFiles struct {
	cert, key string
	log       *slog.Logger

	mu      sync.Mutex
	current *tls.Certificate
	stamp   string    // sizes and times of the files current was read from
	checked time.Time // when the files were last looked at
}

// fileStamp describes the files' versions: it changes when either is
// replaced or rewritten.
func (f *certFiles) fileStamp() string {
	var b strings.Builder
	for _, p := range []string{f.cert, f.key} {
		if fi, err := os.Stat(p); err == nil {
			fmt.Fprintf(&b, "%d/%d;", fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return b.String()
}

func (f *certFiles) load() error {
	stamp := f.fileStamp()
	cert, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return fmt.Errorf("tls: cannot use cert %s with key %s: %w", f.cert, f.key, err)
	}
	f.current, f.stamp, f.checked = &cert, stamp, time.Now()
	logCert(f.log, "HTTPS certificate", cert.Leaf, time.Now(), "file", f.cert)
	return nil
}

// get implements tls.Config.GetCertificate.
func (f *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Since(f.checked) < reloadEvery {
		return f.current, nil
	}
	f.checked = time.Now()
	if f.fileStamp() == f.stamp {
		return f.current, nil
	}
	if err := f.load(); err != nil {
		// Probably caught halfway through a renewal: keep serving the old
		// one, and look again later.
		f.log.Warn("HTTPS certificate files changed but cannot be used; keeping the previous certificate", "err", err)
	}
	return f.current, nil
}

// logCert logs what identifies a certificate, and warns when it is not
// (or soon no longer) valid.
func logCert(log *slog.Logger, msg string, leaf *x509.Certificate, now time.Time, args ...any) {
	args = append(args, "sha256", fingerprint(leaf.Raw), "names", strings.Join(certNames(leaf), ", "),
		"expires", leaf.NotAfter.UTC().Format(time.DateOnly))
	log.Info(msg, args...)
	switch {
	case now.After(leaf.NotAfter):
		log.Warn("the HTTPS certificate has expired: browsers refuse it", "expired", leaf.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(leaf.NotBefore):
		log.Warn("the HTTPS certificate is not valid yet (is the clock right?)", "validFrom", leaf.NotBefore.UTC().Format(time.RFC3339))
	case leaf.NotAfter.Sub(now) < renewBefore:
		log.Warn("the HTTPS certificate expires soon", "expires", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
}

// certNames lists the names and addresses a certificate is for.
func certNames(c *x509.Certificate) []string {
	out := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}

// machineNames returns the names and addresses this machine is reached
// by: its host name (and NAME.local, its mDNS name, for a name without a
// domain), localhost, and the addresses of its interfaces. Link-local
// IPv6 addresses are left out: a browser cannot put their zone in a URL.
func machineNames() ([]string, []net.IP) {
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		h = strings.ToLower(h)
		names = append(names, h)
		if !strings.Contains(h, ".") {
			names = append(names, h+".local")
		}
	}
	addrs := []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}
	if ifs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range ifs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLinkLocalUnicast() {
				continue
			}
			ip := ipn.IP
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			if !slices.ContainsFunc(addrs, ip.Equal) {
				addrs = append(addrs, ip)
			}
		}
	}
	return names, addrs
}

// autoCert returns the certificate kept in dir, first making it if it is
// missing, unusable or near its end. A certificate made for other names
// is kept, with a warning: a new one would have to be trusted again on
// every device.
func autoCert(dir string, names []string, addrs []net.IP, now time.Time, log *slog.Logger) (tls.Certificate, error) {
	certPath, keyPath, caPath := filepath.Join(dir, autoCertFile), filepath.Join(dir, autoKeyFile), filepath.Join(dir, autoCAFile)
	cert, ca, why := loadAuto(certPath, keyPath, caPath, now)
	if why == "" {
		logCert(log, "HTTPS certificate (tls: auto)", cert.Leaf, now, "authority", caPath, "authoritySHA256", fingerprint(ca.Raw))
		if missing := uncovered(cert.Leaf, names, addrs); len(missing) > 0 {
			log.Warn("the HTTPS certificate is not for all of this machine's names: browsers using these will warn; "+
				"to make a new certificate, delete "+dir+" and restart (devices that trust the old one must then trust the new one)",
				"missing", strings.Join(missing, ", "))
		}
		return cert, nil
	}
	if why != "missing" {
		log.Warn("making a new HTTPS certificate; devices that trusted the old one must trust the new one", "dir", dir, "reason", why)
	}
	cert, ca, err := makeAuto(names, addrs, now)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("making the HTTPS certificate: %w", err)
	}
	if err := saveAuto(dir, cert, ca); err != nil {
		return tls.Certificate{}, fmt.Errorf("saving the HTTPS certificate in %s: %w", dir, err)
	}
	logCert(log, "made an HTTPS certificate (tls: auto); to trust it, install this file on your devices",
		cert.Leaf, now, "authority", caPath, "authoritySHA256", fingerprint(ca.Raw))
	return cert, nil
}

// loadAuto reads the automatic certificate. why is "" when it can be used,
// "missing" when there is none yet, or else why it cannot.
func loadAuto(certPath, keyPath, caPath string, now time.Time) (cert tls.Certificate, ca *x509.Certificate, why string) {
	_, errCert := os.Stat(certPath)
	_, errKey := os.Stat(keyPath)
	_, errCA := os.Stat(caPath)
	if errors.Is(errCert, os.ErrNotExist) && errors.Is(errKey, os.ErrNotExist) && errors.Is(errCA, os.ErrNotExist) {
		return cert, nil, "missing"
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return cert, nil, "cannot read it: " + err.Error()
	}
	data, err := os.ReadFile(caPath)
	if err != nil {
		return cert, nil, "cannot read its authority: " + err.Error()
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return cert, nil, caPath + " holds no certificate"
	}
	if ca, err = x509.ParseCertificate(block.Bytes); err != nil {
		return cert, nil, "cannot read its authority: " + err.Error()
	}
	if err := cert.Leaf.CheckSignatureFrom(ca); err != nil {
		return cert, nil, caPath + " is not the authority that signed " + certPath
	}
	switch {
	case now.After(cert.Leaf.NotAfter):
		return cert, nil, "it expired on " + cert.Leaf.NotAfter.UTC().Format(time.DateOnly)
	case cert.Leaf.NotAfter.Sub(now) < renewBefore:
		return cert, nil, "it expires on " + cert.Leaf.NotAfter.UTC().Format(time.DateOnly)
	case now.Before(cert.Leaf.NotBefore):
		return cert, nil, "it is not valid before " + cert.Leaf.NotBefore.UTC().Format(time.RFC3339) + " (was the clock wrong?)"
	}
	return cert, ca, ""
}

// uncovered returns the names and addresses a certificate is not for.
func uncovered(leaf *x509.Certificate, names []string, addrs []net.IP) []string {
	var out []string
	for _, n := range names {
		if leaf.VerifyHostname(n) != nil {
			out = append(out, n)
		}
	}
	for _, a := range addrs {
		if !slices.ContainsFunc(leaf.IPAddresses, a.Equal) {
			out = append(out, a.String())
		}
	}
	return out
}

// makeAuto makes an authority and a server certificate signed by it, for
// names and addrs, both valid from an hour before now (clocks differ) for
// certValidity. The authority's key is dropped on return.
func makeAuto(names []string, addrs []net.IP, now time.Time) (tls.Certificate, *x509.Certificate, error) {
	host := "rtsp2hls"
	if len(names) > 1 {
		host = names[1] // after localhost: the host name
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		// The name a user sees when installing it and in trust settings.
		Subject:               pkix.Name{CommonName: "rtsp2hls on " + host, Organization: []string{"rtsp2hls"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: host, Organization: []string{"rtsp2hls"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              names,
		IPAddresses:           addrs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key, Leaf: leaf}, ca, nil
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}

// saveAuto writes the certificates and key to dir, each file replaced
// whole (written aside, then renamed), the key readable by its owner only.
func saveAuto(dir string, cert tls.Certificate, ca *x509.Certificate) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return err
	}
	var chain bytes.Buffer
	for _, der := range cert.Certificate {
		pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: der}) //nolint:errcheck // a bytes.Buffer does not fail
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{autoKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600},
		{autoCertFile, chain.Bytes(), 0o644},
		{autoCAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o644},
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// writeFile replaces path by data atomically: a crash leaves the old file
// or the new one, never half of one.
func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing to remove
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// RedirectHandler answers every request with a redirect to the same URL
// on the HTTPS server, which listens on httpsPort of the host the client
// asked for, except /ca.pem when caPEM is given: a device that trusts
// nothing yet can fetch the certificate to trust over plain HTTP without
// a warning in the way (it is public; what makes trusting it safe is
// comparing its fingerprint with the one rtsp2hls logs).
//
// The redirect is 301 with Cache-Control: no-store: permanent for clients
// that follow it now, but not remembered by browsers, which would
// otherwise keep sending people to HTTPS on that port after the config
// changes (tls turned off, the plain listener moved).
func RedirectHandler(httpsPort int, caPEM []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if caPEM != nil && r.URL.Path == "/ca.pem" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			serveCA(caPEM)(w, r)
			return
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		if host == "" {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "this server speaks HTTPS on port "+strconv.Itoa(httpsPort), http.StatusBadRequest)
			return
		}
		if httpsPort != 443 {
			host = net.JoinHostPort(host, strconv.Itoa(httpsPort))
		} else if strings.Contains(host, ":") {
			host = "[" + host + "]" // an IPv6 address
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusMovedPermanently)
	})
}
