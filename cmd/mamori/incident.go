package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// apiFlags are the flags of every command that talks to the server's API.
type apiFlags struct {
	server, ca, token string
}

func (f *apiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.server, "server", "", "server `URL`, e.g. https://mamori.example:8443")
	fs.StringVar(&f.ca, "ca", "", "PEM `FILE` of the fleet CA that signed the server's certificate")
	fs.StringVar(&f.token, "token", "", "API token: @`FILE` to read it from a file (or the token itself)")
}

// apiClient calls the server's JSON API with a bearer token.
type apiClient struct {
	base  string
	token string
	hc    *http.Client
}

// client checks the flags and builds the client; the error is a usage
// error (exit 2).
func (f *apiFlags) client() (*apiClient, error) {
	if f.server == "" || f.ca == "" || f.token == "" {
		return nil, errors.New("--server, --ca and --token are required")
	}
	u, err := url.Parse(f.server)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("--server %q: want https://HOST:PORT", f.server)
	}
	pem, err := os.ReadFile(f.ca)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate in it", f.ca)
	}
	tok := f.token
	if name, ok := strings.CutPrefix(tok, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("--token: %w", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	if tok == "" {
		return nil, errors.New("--token: empty token")
	}
	return &apiClient{
		base:  strings.TrimSuffix(u.String(), "/") + "/api/v1",
		token: tok,
		hc: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		}},
	}, nil
}

// apiError is a non-2xx answer.
type apiError struct {
	Status int
	Msg    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Msg)
}

// do sends in (if not nil) as JSON and decodes the answer into out (if not
// nil).
func (c *apiClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		return &apiError{Status: resp.StatusCode, Msg: e.Error}
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	return nil
}
