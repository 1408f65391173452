package loadtest

import (
	"bufio"
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
	"sync"
	"sync/atomic"

	"github.com/mamori-dev/mamori/internal/wire"
)

// identity is one simulated agent's enrolment.
type identity struct {
	Name    string `json:"name"`
	AgentID string `json:"agent_id"`
	Cert    string `json:"cert"`
	Key     string `json:"key"`
	tls     tls.Certificate
}

func (id *identity) load() error {
	c, err := tls.X509KeyPair([]byte(id.Cert), []byte(id.Key))
	if err != nil {
		return fmt.Errorf("identity %s: %w", id.Name, err)
	}
	id.tls = c
	return nil
}

// readIdentities loads a JSON Lines file of identities; a missing file is
// empty.
func readIdentities(path string) ([]*identity, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*identity
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		var id identity
		if err := json.Unmarshal(sc.Bytes(), &id); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if err := id.load(); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, &id)
	}
	return out, sc.Err()
}

func appendIdentities(path string, ids []*identity) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, id := range ids {
		if err := enc.Encode(id); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// enrolAll enrols n agents named prefix-i with a pool of workers.
func enrolAll(ctx context.Context, cfg *Config, first, n, workers int) ([]*identity, error) {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cfg.Roots}, MaxIdleConnsPerHost: workers, DialContext: cfg.dialer().DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	out := make([]*identity, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				id, err := enrolOne(ctx, client, cfg, fmt.Sprintf("%s-%d", cfg.NamePrefix, first+i))
				if err != nil {
					errc <- err
					return
				}
				out[i] = id
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	return out, ctx.Err()
}

func enrolOne(ctx context.Context, client *http.Client, cfg *Config, name string) (*identity, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(wire.EnrollRequest{
		CSR:  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})),
		Name: name, Hostname: name,
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.ServerURL+wire.EnrollPath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+cfg.EnrollToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("enrol %s: %w", name, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("enrol %s: %s: %s", name, resp.Status, bytes.TrimSpace(data))
	}
	var er wire.EnrollResponse
	if err := json.Unmarshal(data, &er); err != nil {
		return nil, fmt.Errorf("enrol %s: %w", name, err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	id := &identity{Name: name, AgentID: er.AgentID, Cert: er.Certificate,
		Key: string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))}
	return id, id.load()
}
