package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mamori-dev/mamori/internal/server"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
)

// newTestServer serves the fleet and every registered capability on a
// fresh data directory, with one user per role; it returns their tokens.
func newTestServer(t *testing.T) (*server.Server, *httptest.Server, string, map[httpapi.Role]string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	srv, err := server.New(context.Background(), server.Config{DataDir: dir, Listen: "127.0.0.1:0", Capabilities: capabilities})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	tokens := map[httpapi.Role]string{}
	for _, role := range httpapi.Roles {
		var out, errb bytes.Buffer
		name := "u-" + string(role)
		if code := run(context.Background(), []string{"user", "add", "--data", dir, "--name", name, "--role", string(role)}, &out, &errb); code != 0 {
			t.Fatalf("user add %s: exit %d: %s", name, code, errb.String())
		}
		tokens[role] = strings.TrimSpace(out.String())
	}
	return srv, ts, dir, tokens
}

func call(t *testing.T, ts *httptest.Server, token, method, path, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestRoutesByRole walks every route of the table for every role: a role
// the route does not list is refused with 403 and a JSON error naming the
// role; a role it lists gets past the role check. The OpenAPI document
// lists the same roles.
func TestRoutesByRole(t *testing.T) {
	srv, ts, _, tokens := newTestServer(t)
	wildcard := regexp.MustCompile(`\{[^}]+\}`)
	var doc struct {
		Paths map[string]map[string]struct {
			Roles []string `json:"x-roles"`
		} `json:"paths"`
	}
	if code, b := call(t, ts, tokens[httpapi.RoleViewer], "GET", "/api/v1/openapi.json", ""); code != 200 || json.Unmarshal(b, &doc) != nil {
		t.Fatalf("openapi.json: %d", code)
	}
	routes := srv.Routes()
	if len(routes) < 30 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, rt := range routes {
		path := httpapi.Prefix + wildcard.ReplaceAllString(rt.Pattern, "x-1")
		body := ""
		if rt.Method != "GET" {
			body = "{}"
		}
		for _, role := range httpapi.Roles {
			code, b := call(t, ts, tokens[role], rt.Method, path, body)
			if !rt.Allows(role) {
				var e httpapi.ErrorBody
				if code != http.StatusForbidden || json.Unmarshal(b, &e) != nil || !strings.Contains(e.Error, "has role "+string(role)+";") {
					t.Errorf("%s %s as %s: %d %s, want 403 naming the role", rt.Method, rt.Pattern, role, code, b)
				}
				continue
			}
			if code == http.StatusForbidden || code == http.StatusUnauthorized {
				t.Errorf("%s %s as %s: %d %s, want the route to run", rt.Method, rt.Pattern, role, code, b)
			}
		}
		op, ok := doc.Paths[httpapi.Prefix+rt.Pattern][strings.ToLower(rt.Method)]
		want := []string{"admin"}
		for _, r := range rt.Roles {
			want = append(want, string(r))
		}
		if !ok || !slices.Equal(op.Roles, want) {
			t.Errorf("%s %s: OpenAPI roles %v, want %v", rt.Method, rt.Pattern, op.Roles, want)
		}
	}
}
