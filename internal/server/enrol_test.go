package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store/storetest"
	"github.com/mamori-dev/mamori/internal/wire"
)

func newCSR(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// TestEnrolmentValidation: hostile names get 400 naming the field on both
// backends (never a 500 from the database), and a CSR sent twice gets the
// same host back.
func TestEnrolmentValidation(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ts := startServer(t, t.TempDir(), dsn)
		csr := newCSR(t)
		tests := []struct {
			name string
			req  wire.EnrollRequest
			code int
			err  string
		}{
			{"NUL", wire.EnrollRequest{CSR: csr, Name: "web\x001"}, 400, "field name: holds a NUL character"},
			{"newline", wire.EnrollRequest{CSR: csr, Hostname: "web1\nadmin"}, 400, "field hostname: character U+000A"},
			{"RTL override", wire.EnrollRequest{CSR: csr, Name: "exe.\u202etxt"}, 400, "field name: character U+202E"},
			{"1 MB name", wire.EnrollRequest{CSR: csr, Name: strings.Repeat("a", 1<<20)}, 413, "request body larger than the limit"},
			{"256 bytes", wire.EnrollRequest{CSR: csr, Name: strings.Repeat("a", 256)}, 400, "field name: 256 bytes, at most 255"},
			{"label", wire.EnrollRequest{CSR: csr, Name: "a", Labels: map[string]string{"site": "\x1b[31m"}}, 400, "field labels[site]: character U+001B"},
			{"no name", wire.EnrollRequest{CSR: csr}, 400, "field name: empty, and so is hostname"},
			{"bad CSR", wire.EnrollRequest{CSR: "hello", Name: "a"}, 400, "field csr: no PEM CERTIFICATE REQUEST block"},
		}
		for _, tt := range tests {
			code, body := rawCall(t, ts, ts.EnrollToken(), "POST", wire.EnrollPath, tt.req, nil)
			var e httpapi.ErrorBody
			jsonUnmarshal(body, &e)
			if code != tt.code || !strings.Contains(e.Error, tt.err) {
				t.Errorf("%s: %d %.200s, want %d with %q", tt.name, code, body, tt.code, tt.err)
			}
		}
		// encoding/json would replace the byte; send it raw.
		raw := strings.Replace(string(must(jsonMarshal(wire.EnrollRequest{CSR: csr, Name: "webX"}))), "webX", "web\xff", 1)
		req, _ := http.NewRequest("POST", ts.url+wire.EnrollPath, strings.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+ts.EnrollToken())
		resp, err := ts.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("invalid UTF-8 name: %d, want 400", resp.StatusCode)
		}
		ok := wire.EnrollRequest{CSR: csr, Name: "経理部 PC-01", Hostname: "keiri-01"}
		var first, again wire.EnrollResponse
		if code := apiCall(t, ts.client, ts.url, ts.EnrollToken(), "POST", wire.EnrollPath, ok, &first); code != http.StatusOK {
			t.Fatalf("valid enrolment: %d", code)
		}
		if code := apiCall(t, ts.client, ts.url, ts.EnrollToken(), "POST", wire.EnrollPath, ok, &again); code != http.StatusOK {
			t.Fatalf("replayed enrolment: %d", code)
		}
		if again.AgentID != first.AgentID || again.Certificate != first.Certificate {
			t.Errorf("replayed CSR got host %s, want the existing %s with the same certificate", again.AgentID, first.AgentID)
		}
		var hosts []Host
		ts.api(t, "GET", "/api/v1/hosts", nil, &hosts)
		if len(hosts) != 1 || hosts[0].Name != "経理部 PC-01" {
			t.Errorf("hosts after a replay: %+v, want one", hosts)
		}
		ts.api(t, "POST", "/api/v1/hosts/"+first.AgentID+"/revoke", nil, nil)
		if code, body := rawCall(t, ts, ts.EnrollToken(), "POST", wire.EnrollPath, ok, nil); code != http.StatusConflict || !strings.Contains(string(body), "is revoked; enrol with a new key") {
			t.Errorf("replay after revocation: %d %s", code, body)
		}
	})
}

// TestEnrolmentRateLimit: one address may enrol 20 times at once, then is
// told to retry later; another address is not affected.
func TestEnrolmentRateLimit(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s, err := New(t.Context(), Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	h := s.Handler()
	post := func(addr string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", wire.EnrollPath, strings.NewReader(`{"csr":"x","name":"a"}`))
		r.RemoteAddr = addr
		r.Header.Set("Authorization", "Bearer wrong")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for i := range 20 {
		if w := post("192.0.2.1:1000"); w.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401 (not limited yet)", i, w.Code)
		}
	}
	if w := post("192.0.2.1:1001"); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("21st attempt: %d, Retry-After %q; want 429 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if w := post("192.0.2.2:1000"); w.Code != http.StatusUnauthorized {
		t.Errorf("another address: %d, want 401", w.Code)
	}
	clock.Advance(4 * time.Second)
	if w := post("192.0.2.1:1002"); w.Code != http.StatusUnauthorized {
		t.Errorf("after waiting: %d, want 401", w.Code)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
