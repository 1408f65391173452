package pe_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/yara/pe"
	"github.com/mamori-dev/mamori/internal/yara/pe/pefacts"
	"github.com/mamori-dev/mamori/internal/yara/pe/petest"
)

// saferwallTestFiles returns the real Windows PE files shipped in the
// saferwall/pe module's test directory, when the module cache has them.
func saferwallTestFiles(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/saferwall/pe").Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Skipf("cannot locate the saferwall/pe module: %v", err)
	}
	dir := filepath.Join(string(bytes.TrimSpace(out)), "test")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("saferwall/pe test files absent: %v", err)
	}
	var files []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".7z") && e.Type().IsRegular() {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	return files
}

// yaraFalse runs yara with one rule per condition and returns the
// conditions yara did not find true.
func yaraFalse(t *testing.T, conds []string, file string) []string {
	t.Helper()
	var src strings.Builder
	src.WriteString("import \"pe\"\n")
	for i, c := range conds {
		fmt.Fprintf(&src, "rule f%d { condition: %s }\n", i, c)
	}
	rules := filepath.Join(t.TempDir(), "facts.yar")
	if err := os.WriteFile(rules, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("yara", "-w", rules, file)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("yara: %v: %s", err, stderr.String())
	}
	matched := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if name, _, ok := strings.Cut(line, " "); ok {
			matched[name] = true
		}
	}
	var missing []string
	for i, c := range conds {
		if !matched[fmt.Sprintf("f%d", i)] {
			missing = append(missing, c)
		}
	}
	return missing
}

// TestAgainstYara checks every value Parse reports against yara's pe
// module on real PE files, built ones, a signed one and mutated ones.
func TestAgainstYara(t *testing.T) {
	if _, err := exec.LookPath("yara"); err != nil {
		t.Skip("yara not on PATH")
	}
	dir := t.TempDir()
	var files []string
	write := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	for i, s := range petest.Samples() {
		write(fmt.Sprintf("built%d.exe", i), s)
	}
	if signed := signWithOsslsigncode(t, dir, petest.Samples()[1]); signed != nil {
		write("signed.exe", signed)
	}
	real := saferwallTestFiles(t)
	files = append(files, real...)
	// Mutations probe the bounds checks: bytes flipped in the headers and
	// directories, or the file cut short.
	r := rand.New(rand.NewPCG(7, 7))
	sources := append(append([]string(nil), files...), real...)
	for i := 0; i < 60; i++ {
		data, err := os.ReadFile(sources[r.IntN(len(sources))])
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 1<<20 {
			continue
		}
		for n := r.IntN(6) + 1; n > 0; n-- {
			data[r.IntN(min(len(data), 4096))] = byte(r.Uint32())
		}
		if r.IntN(3) == 0 {
			data = data[:r.IntN(len(data))]
		}
		write(fmt.Sprintf("mutated%02d", i), data)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, ok := pe.Parse(data)
			if !ok {
				if missing := yaraFalse(t, []string{"pe.is_pe == 0", "not defined pe.machine"}, path); len(missing) > 0 {
					t.Errorf("Parse says not a PE, yara disagrees: %q", missing)
				}
				return
			}
			for _, c := range yaraFalse(t, pefacts.Facts(f), path) {
				t.Errorf("yara disagrees: %s", c)
			}
		})
	}
}

// signWithOsslsigncode signs data with a throw-away certificate, or
// returns nil when osslsigncode is not installed.
func signWithOsslsigncode(t *testing.T, dir string, data []byte) []byte {
	t.Helper()
	if _, err := exec.LookPath("osslsigncode"); err != nil {
		t.Log("osslsigncode not on PATH: no signature test")
		return nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x0badc0de),
		Subject: pkix.Name{
			Country: []string{"DE"}, Organization: []string{"Mamori Test Signer"},
			CommonName: "mamori test \u00e9",
		},
		NotBefore: time.Unix(1600000000, 0), NotAfter: time.Unix(1900000000, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	in, out := filepath.Join(dir, "unsigned.exe"), filepath.Join(dir, "signed.out")
	for p, b := range map[string][]byte{
		certPath: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPath:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		in:       data,
	} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("osslsigncode", "sign", "-certs", certPath, "-key", keyPath, "-in", in, "-out", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("osslsigncode: %v: %s", err, msg)
	}
	signed, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}
