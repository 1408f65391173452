package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

func csrPEM(t testing.TB, key any) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "chosen-by-agent"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func TestCA(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, err := loadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, caKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("CA key: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	again, err := loadOrCreateCA(dir)
	if err != nil || !again.cert.Equal(c.cert) {
		t.Fatalf("reloading the CA: %v (same cert: %v)", err, err == nil && again.cert.Equal(c.cert))
	}

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert, _, err := signPEM(c, csrPEM(t, key), "h-1")
	if err != nil {
		t.Fatal(err)
	}
	// The server, not the CSR, names the agent; the cert is for clients.
	if cert.Subject.CommonName != "h-1" || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("agent cert CN %q usage %v", cert.Subject.CommonName, cert.ExtKeyUsage)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: c.pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("agent cert does not verify against the CA: %v", err)
	}

	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for name, in := range map[string][]byte{
		"not pem":   []byte("hello"),
		"wrong pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}),
		"garbage":   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte{1, 2, 3}}),
		"rsa":       csrPEM(t, rsaKey),
		"p384":      csrPEM(t, p384),
	} {
		if _, _, err := signPEM(c, in, "h-2"); err == nil {
			t.Errorf("%s: signed", name)
		}
	}

	sc, err := c.serverCert("127.0.0.1", []string{"mamori.example", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(sc.Certificate[0])
	for _, name := range []string{"127.0.0.1", "mamori.example", "::1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: c.pool, DNSName: name}); err != nil {
			t.Errorf("server cert for %s: %v", name, err)
		}
	}
}

// FuzzSignAgent feeds arbitrary CSR text to the enrolment parser: it must
// refuse with an error, never panic or sign something that is not a P-256
// request.
func FuzzSignAgent(f *testing.F) {
	c, err := loadOrCreateCA(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.Add(csrPEM(f, key))
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		cert, _, err := signPEM(c, in, "h-f")
		if err != nil {
			return
		}
		if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
			t.Errorf("signed a certificate for key %T", cert.PublicKey)
		}
	})
}

func signPEM(c *ca, csrPEM []byte, id string) (*x509.Certificate, []byte, error) {
	csr, err := parseCSR(csrPEM)
	if err != nil {
		return nil, nil, err
	}
	return c.signAgent(csr, id)
}
