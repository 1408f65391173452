package agent

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/mamori-dev/mamori/internal/wire"
)

// Files in the data directory. The key never leaves the host.
const (
	keyFile      = "agent.key"
	certFile     = "agent.crt"
	identityFile = "identity.json"
)

// Identity is what enrolment produced: the agent's id and its client
// certificate.
type Identity struct {
	AgentID string `json:"agent_id"`
	Server  string `json:"server"`
	cert    tls.Certificate
}

// LoadCA reads a PEM CA bundle.
func LoadCA(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("ca: %s holds no PEM certificate", path)
	}
	return pool, nil
}

// Enroll returns the identity stored in dir, or, when there is none, enrols
// with the server using token and stores the result (key and certificate
// mode 0600). serverURL is the https:// base URL.
func Enroll(ctx context.Context, dir, serverURL string, roots *x509.CertPool, token, name string, labels map[string]string) (*Identity, error) {
	id, err := loadIdentity(dir)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if token == "" {
		return nil, fmt.Errorf("enrol: %s holds no identity and no enrolment token was given", dir)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	hostname, _ := os.Hostname()
	if name == "" {
		name = hostname
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
	if err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	req := wire.EnrollRequest{
		CSR:      string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})),
		Name:     name,
		Hostname: hostname,
		Labels:   labels,
	}
	var resp wire.EnrollResponse
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	if err := postJSON(ctx, client, serverURL+wire.EnrollPath, token, req, &resp); err != nil {
		return nil, fmt.Errorf("enrol with %s: %w", serverURL, err)
	}
	if resp.AgentID == "" || resp.Certificate == "" {
		return nil, fmt.Errorf("enrol with %s: response lacks agent_id or certificate", serverURL)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair([]byte(resp.Certificate), keyPEM)
	if err != nil {
		return nil, fmt.Errorf("enrol: certificate from %s: %w", serverURL, err)
	}
	id = &Identity{AgentID: resp.AgentID, Server: serverURL, cert: cert}
	if err := writeFileSync(filepath.Join(dir, keyFile), keyPEM); err != nil {
		return nil, err
	}
	if err := writeFileSync(filepath.Join(dir, certFile), []byte(resp.Certificate)); err != nil {
		return nil, err
	}
	meta, _ := json.Marshal(id)
	// identity.json last: its presence means the other two are complete.
	if err := writeFileSync(filepath.Join(dir, identityFile), meta); err != nil {
		return nil, err
	}
	return id, nil
}

func loadIdentity(dir string) (*Identity, error) {
	meta, err := os.ReadFile(filepath.Join(dir, identityFile))
	if err != nil {
		return nil, err
	}
	var id Identity
	if err := json.Unmarshal(meta, &id); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, identityFile), err)
	}
	if id.AgentID == "" {
		return nil, fmt.Errorf("%s: field agent_id: missing", filepath.Join(dir, identityFile))
	}
	id.cert, err = tls.LoadX509KeyPair(filepath.Join(dir, certFile), filepath.Join(dir, keyFile))
	if err != nil {
		return nil, fmt.Errorf("agent identity in %s: %w", dir, err)
	}
	return &id, nil
}

// TLSConfig is the client configuration for the agent's connection:
// server verified against roots, the agent's certificate presented.
func (id *Identity) TLSConfig(roots *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{id.cert}, MinVersion: tls.VersionTLS12}
}

// writeFileSync writes a private file atomically and durably.
func writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// postJSON posts body with a bearer token and decodes a 2xx answer into
// out; other answers become errors carrying the server's message.
func postJSON(ctx context.Context, c *http.Client, url, token string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e wire.ErrorResponse
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s: %s", resp.Status, e.Error)
		}
		return fmt.Errorf("%s", resp.Status)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	return nil
}
