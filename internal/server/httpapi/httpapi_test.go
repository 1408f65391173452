package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/store"
)

func TestDecodeBody(t *testing.T) {
	t.Parallel()
	type body struct {
		Name string            `json:"name"`
		TTL  int64             `json:"ttl"`
		Tags map[string]string `json:"tags"`
	}
	tests := []struct {
		in       string
		limit    int64
		wantCode int // 0: no error
		wantMsg  string
	}{
		{`{"name":"a"}`, 0, 0, ""},
		{`{"name":"a"}  ` + "\n", 0, 0, ""},
		{`{"name":"a"}{"name":"b"}`, 0, 400, "unexpected data after the JSON value"},
		{`{"name":"a"} x`, 0, 400, "unexpected data after the JSON value"},
		{`{"nam":"a"}`, 0, 400, `request body: unknown field "nam"`},
		// Field names and kinds in JSON terms, not Go's.
		{`{"ttl":99999999999999999999}`, 0, 400, "request body: field ttl: got number 99999999999999999999, want an integer from -9223372036854775808 to 9223372036854775807"},
		{`{"ttl":1.5}`, 0, 400, "field ttl: got number 1.5, want an integer"},
		{`{"name":7}`, 0, 400, "field name: got number, want a string"},
		{`{"tags":[]}`, 0, 400, "field tags: got array, want an object"},
		{`[1]`, 0, 400, "the body: got array, want an object"},
		{`{"name":`, 0, 400, "request body: unexpected EOF"},
		// PostgreSQL cannot store NUL in text: refused up front, located.
		{`{"name":"a\u0000b"}`, 0, 400, `request body: field name: holds a NUL character (\u0000)`},
		{`{"name":"a","tags":{"k":"v","l":"\u0000"}}`, 0, 400, "field tags.l: holds a NUL character"},
		{`{"tags":{"k\u0000":"v"}}`, 0, 400, "field tags: a key holds a NUL character"},
		{`{"tags":{"k":[1,{"x":["a","\u0000"]}]}}`, 0, 400, "field tags.k[1].x[1]: holds a NUL character"},
		{`{"name":"a\\u0000"}`, 0, 0, ""},
		{``, 0, 400, "empty"},
		{"{\"name\":\"a\xff\"}", 0, 400, "not valid UTF-8"},
		{`{"name":"` + strings.Repeat("a", 100) + `"}`, 64, 413, "limit of 64 bytes"},
		{`{"name":"a"}` + strings.Repeat(" ", 100), 64, 413, "limit of 64 bytes"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tt.in))
		r.ContentLength = -1 // as a chunked upload: the limit must hold without it
		var b body
		err := DecodeBody(r, tt.limit, &b)
		w := httptest.NewRecorder()
		if err != nil {
			Fail(w, r, err)
		}
		code := 0
		if err != nil {
			code = w.Code
		}
		if code != tt.wantCode || (err != nil && !strings.Contains(err.Error(), tt.wantMsg)) {
			t.Errorf("DecodeBody(%.40q): code %d, err %v; want %d with %q", tt.in, code, err, tt.wantCode, tt.wantMsg)
		}
	}
}

func TestFail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		code int
		msg  string
	}{
		{fmt.Errorf("host h-1: %w", store.ErrNotFound), 404, "host h-1: not found"},
		{fmt.Errorf("wrapped: %w", &ConflictError{Msg: "incident is open", Allowed: []string{"contained", "closed"}}), 409, "wrapped: incident is open (allowed: contained, closed)"},
		{BadInput("hosts[2]", "no host %s", "h-9"), 400, "field hosts[2]: no host h-9"},
		{&TooLargeError{What: "bundle", Limit: 10}, 413, "bundle larger than the limit of 10 bytes"},
		{errors.New("disk on fire"), 500, "internal error (request r-x; see the server log)"},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		r = r.WithContext(WithRequestID(r.Context(), "r-x"))
		Fail(w, r, tt.err)
		var got ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if w.Code != tt.code || got.Error != tt.msg {
			t.Errorf("Fail(%v) = %d %q, want %d %q", tt.err, w.Code, got.Error, tt.code, tt.msg)
		}
	}
}

func TestParsePage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		want  Page
		bad   bool
	}{
		{"", Page{Limit: DefaultLimit}, false},
		{"after=h-1&limit=5", Page{After: "h-1", Limit: 5}, false},
		{"limit=0", Page{}, true},
		{"limit=1001", Page{}, true},
		{"limit=x", Page{}, true},
	}
	for _, tt := range tests {
		got, err := ParsePage(httptest.NewRequest("GET", "/?"+tt.query, nil))
		if (err != nil) != tt.bad || (!tt.bad && got != tt.want) {
			t.Errorf("ParsePage(%q) = %+v, %v", tt.query, got, err)
		}
	}
}

func TestAuthorize(t *testing.T) {
	t.Parallel()
	users := map[string]Principal{
		"admin-token":  BootstrapAdmin,
		"viewer-token": {Kind: KindUser, Name: "vera", Roles: []Role{RoleViewer}},
	}
	auth := AuthenticatorFunc(func(r *http.Request) (Principal, error) {
		tok := BearerToken(r)
		if tok == "" {
			return Principal{}, ErrNoCredentials
		}
		if p, ok := users[tok]; ok {
			return p, nil
		}
		return Principal{}, ErrBadCredentials
	})
	rt := &Route{Method: "PUT", Pattern: "/hosts/{id}/monitoring", Roles: []Role{RoleResponder},
		Handler: func(w http.ResponseWriter, r *http.Request) {
			p, _ := PrincipalFrom(r.Context())
			WriteJSON(w, 200, map[string]string{"actor": p.Actor(), "role": string(RoleFrom(r.Context()))})
		}}
	tests := []struct {
		header string
		code   int
		body   string
	}{
		{"", 401, "missing or wrong token"},
		{"Bearer nope", 401, "wrong or disabled credentials"},
		{"Bearer admin-token", 200, ""},
		{"bearer admin-token", 200, ""},
		{"BEARER admin-token", 200, ""},
		{"Basic admin-token", 401, "missing or wrong token"},
		{"Bearer viewer-token", 403, "vera has role viewer; PUT /api/v1/hosts/{id}/monitoring needs role admin or responder"},
	}
	h := Authorize(auth, rt)
	for _, tt := range tests {
		r := httptest.NewRequest("PUT", "/", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var got ErrorBody
		json.Unmarshal(w.Body.Bytes(), &got)
		if w.Code != tt.code || got.Error != tt.body {
			t.Errorf("%q: %d %q, want %d %q", tt.header, w.Code, got.Error, tt.code, tt.body)
		}
		if w.Header().Get("X-Request-Id") == "" {
			t.Errorf("%q: no X-Request-Id", tt.header)
		}
	}
}

type sample struct {
	ID     string            `json:"id" doc:"the id" required:"true"`
	Level  string            `json:"level" enum:"normal,heightened"`
	Labels map[string]string `json:"labels,omitempty"`
	Child  *sampleChild      `json:"child"`
	Skip   string            `json:"-"`
}

type sampleChild struct {
	N []int64 `json:"n"`
}

func TestDocument(t *testing.T) {
	t.Parallel()
	doc, err := Document(Info{Title: "t"}, []Route{
		{Method: "GET", Pattern: "/samples", Response: []sample(nil), Query: PageParams, Roles: []Role{RoleViewer}},
		{Method: "POST", Pattern: "/samples/{id}", Request: sample{}, Response: sample{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(doc["components"].(map[string]any)["schemas"])
	var got map[string]any
	json.Unmarshal(b, &got)
	want := map[string]any{
		"ErrorBody": map[string]any{"type": "object", "properties": map[string]any{"error": map[string]any{"type": "string", "description": "what went wrong"}}},
		"sample": map[string]any{"type": "object", "required": []any{"id"}, "properties": map[string]any{
			"id":     map[string]any{"type": "string", "description": "the id"},
			"level":  map[string]any{"type": "string", "enum": []any{"normal", "heightened"}},
			"labels": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
			"child":  map[string]any{"allOf": []any{map[string]any{"$ref": "#/components/schemas/sampleChild"}}, "nullable": true},
		}},
		"sampleChild": map[string]any{"type": "object", "properties": map[string]any{"n": map[string]any{"type": "array", "items": map[string]any{"type": "integer"}}}},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("schemas (-got +want):\n%s", diff)
	}
	op := doc["paths"].(map[string]any)["/api/v1/samples"].(map[string]any)["get"].(map[string]any)
	if diff := cmp.Diff(op["x-roles"], []string{"admin", "viewer"}); diff != "" {
		t.Errorf("roles (-got +want):\n%s", diff)
	}
}

func TestDocumentRefusesNameClash(t *testing.T) {
	t.Parallel()
	type ErrorBody struct{ X int }
	_, err := Document(Info{}, []Route{{Method: "GET", Pattern: "/x", Response: ErrorBody{}}})
	if err == nil || !strings.Contains(err.Error(), "two types named ErrorBody") {
		t.Errorf("err = %v, want a name clash", err)
	}
}
