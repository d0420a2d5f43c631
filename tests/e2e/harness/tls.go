package harness

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"
)

// TLS is a throw-away PKI for the docker-machine style setup: a CA, a server
// certificate for 127.0.0.1 and a client certificate, written as PEM files
// the daemon's user can read.
type TLS struct {
	// CACert, ServerCert, ServerKey, ClientCert and ClientKey are file paths.
	CACert, ServerCert, ServerKey, ClientCert, ClientKey string
	pool                                                 *x509.CertPool
	client                                               tls.Certificate
}

type keyPair struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

// NewTLS generates the CA and both certificates in a TempDir.
func NewTLS(t testing.TB) *TLS {
	t.Helper()
	dir := TempDir(t)
	ca := issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "dockerd-lite test CA"}, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}, nil)
	srv := issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames: []string{"localhost"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, &ca)
	cli := issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "client"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, &ca)
	x := &TLS{pool: x509.NewCertPool()}
	x.pool.AddCert(ca.cert)
	x.CACert, _ = writePair(t, dir, "ca", ca)
	x.ServerCert, x.ServerKey = writePair(t, dir, "server", srv)
	x.ClientCert, x.ClientKey = writePair(t, dir, "client", cli)
	var err error
	if x.client, err = tls.LoadX509KeyPair(x.ClientCert, x.ClientKey); err != nil {
		t.Fatal(err)
	}
	return x
}

// issue creates a key and a certificate from tmpl, signed by parent (self
// signed when parent is nil).
func issue(t testing.TB, tmpl *x509.Certificate, parent *keyPair) keyPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	signer, signerCert := key, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{cert: cert, der: der, key: key}
}

func writePair(t testing.TB, dir, name string, kp keyPair) (certPath, keyPath string) {
	t.Helper()
	keyDER, err := x509.MarshalECPrivateKey(kp.key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: kp.der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	certPath = WriteFile(t, dir, name+"-cert.pem", certPEM, 0o644)
	keyPath = WriteFile(t, dir, name+"-key.pem", keyPEM, 0o600)
	return certPath, keyPath
}

// DaemonArgs are the flags for a daemon that verifies client certificates.
func (x *TLS) DaemonArgs() []string {
	return []string{"--tlsverify", "--tlscacert", x.CACert, "--tlscert", x.ServerCert, "--tlskey", x.ServerKey}
}

// HTTPClient returns a client that trusts the CA and, when withCert is true,
// presents the client certificate.
func (x *TLS) HTTPClient(withCert bool) *http.Client {
	cfg := &tls.Config{RootCAs: x.pool, MinVersion: tls.VersionTLS12}
	if withCert {
		cfg.Certificates = []tls.Certificate{x.client}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
