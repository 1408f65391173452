package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mamori-dev/mamori/internal/store"
)

// Prefix is where every route's Pattern is mounted.
const Prefix = "/api/v1"

// Route is one API endpoint. The server's route table, a list of them,
// drives the mux, the role check, the OpenAPI document and the tests that
// every route needs a token and is documented.
type Route struct {
	// Method is GET, POST, PUT or DELETE.
	Method string
	// Pattern is the path below Prefix in net/http's ServeMux syntax, e.g.
	// "/hosts/{id}".
	Pattern string
	// Summary is the one-line description in the OpenAPI document.
	Summary string
	// Request and Response are zero values of the Go types of the bodies
	// (e.g. HostView{} or []HostView(nil)); nil for no body. Their JSON
	// schemas are reflected from them.
	Request, Response any
	// Query lists the query parameters the route accepts.
	Query []Param
	// Roles may call the route besides RoleAdmin, which may call every
	// route. An empty list means admin only.
	Roles []Role
	// Handler serves the route; the principal is in its request's context.
	Handler http.HandlerFunc
}

// Param is a query parameter.
type Param struct {
	Name, Description string
}

// PageParams are the query parameters of every list: see ParsePage.
var PageParams = []Param{
	{"after", "return only items after this id (the last id of the previous page)"},
	{"limit", "at most this many items (default 100, at most 1000)"},
}

// Allows reports whether a principal with role may call the route.
func (rt *Route) Allows(role Role) bool {
	if role == RoleAdmin {
		return true
	}
	for _, r := range rt.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// ErrorBody is the JSON body of every non-2xx answer.
type ErrorBody struct {
	Error string `json:"error" doc:"what went wrong"`
}

// WriteJSON answers with code and v as indented JSON.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// The status is out; an encoding or write error cannot be reported
	// to this client any more.
	_ = enc.Encode(v)
}

// Error answers with code and {"error": msg}.
func Error(w http.ResponseWriter, code int, msg string) {
	WriteJSON(w, code, ErrorBody{Error: msg})
}

// ConflictError is a request the current state does not allow: 409.
type ConflictError struct {
	Msg string
	// Allowed lists what would have been accepted instead, e.g. the
	// allowed next states; it is appended to the message.
	Allowed []string
}

func (e *ConflictError) Error() string {
	if len(e.Allowed) == 0 {
		return e.Msg
	}
	return fmt.Sprintf("%s (allowed: %s)", e.Msg, strings.Join(e.Allowed, ", "))
}

// Conflict returns a *ConflictError.
func Conflict(format string, args ...any) error {
	return &ConflictError{Msg: fmt.Sprintf(format, args...)}
}

// InputError is bad input in one field of a request: 400.
type InputError struct {
	// Field names the field, query parameter or path element, e.g.
	// "hosts[2]" or "query parameter limit".
	Field string
	Msg   string
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return "field " + e.Field + ": " + e.Msg
}

// BadInput returns an *InputError for field.
func BadInput(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// TooLargeError is a request body over a limit: 413.
type TooLargeError struct {
	What  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s larger than the limit of %d bytes", e.What, e.Limit)
}

// ForbiddenError is a principal without a role the route needs: 403.
type ForbiddenError struct{ Msg string }

func (e *ForbiddenError) Error() string { return e.Msg }

// Fail answers with the status err maps to (see the package
// documentation). A 500 is logged with the request's id and method and path;
// the client sees only that id, not the internal error.
func Fail(w http.ResponseWriter, r *http.Request, err error) {
	var conflict *ConflictError
	var input *InputError
	var large *TooLargeError
	var forbidden *ForbiddenError
	switch {
	case errors.Is(err, store.ErrNotFound):
		Error(w, http.StatusNotFound, err.Error())
	case errors.As(err, &conflict):
		Error(w, http.StatusConflict, err.Error())
	case errors.As(err, &input):
		Error(w, http.StatusBadRequest, err.Error())
	case errors.As(err, &large):
		Error(w, http.StatusRequestEntityTooLarge, err.Error())
	case errors.As(err, &forbidden):
		Error(w, http.StatusForbidden, err.Error())
	default:
		id := RequestID(r.Context())
		logger(r.Context()).Error("request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
		Error(w, http.StatusInternalServerError, "internal error (request "+id+"; see the server log)")
	}
}

// MaxBody is the default limit of a request body.
const MaxBody = 16 << 20

// DecodeBody decodes the request's JSON body into v: unknown fields, a
// second JSON value after the first, and a body over limit bytes (MaxBody
// when limit is 0) are refused with an error Fail maps to 400 or 413.
func DecodeBody(r *http.Request, limit int64, v any) error {
	if limit <= 0 {
		limit = MaxBody
	}
	if r.ContentLength > limit {
		return &TooLargeError{What: "request body", Limit: limit}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return &InputError{Msg: "request body: " + err.Error()}
	}
	if int64(len(b)) > limit {
		return &TooLargeError{What: "request body", Limit: limit}
	}
	// JSON is UTF-8; encoding/json would turn invalid bytes into U+FFFD
	// and so let two different names collapse into one.
	if !utf8.Valid(b) {
		return &InputError{Msg: "request body: not valid UTF-8"}
	}
	if err := noNUL(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return &InputError{Msg: "request body: empty, want a JSON object"}
		}
		return &InputError{Msg: "request body: " + bodyError(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &InputError{Msg: "request body: unexpected data after the JSON value"}
	}
	return nil
}

// DecodeOptionalBody is DecodeBody for routes whose body may be left out.
func DecodeOptionalBody(r *http.Request, limit int64, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	err := DecodeBody(r, limit, v)
	var input *InputError
	if errors.As(err, &input) && input.Msg == "request body: empty, want a JSON object" {
		return nil
	}
	return err
}

// Page is a list request's paging: items with an id after After, at most
// Limit of them, in id order.
type Page struct {
	After string
	Limit int
}

const (
	// DefaultLimit is the page size when the request names none.
	DefaultLimit = 100
	// MaxLimit is the largest page size.
	MaxLimit = 1000
)

// ParsePage reads the after and limit query parameters.
func ParsePage(r *http.Request) (Page, error) {
	q := r.URL.Query()
	p := Page{After: q.Get("after"), Limit: DefaultLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return p, BadInput("query parameter limit", "%q, want an integer from 1 to %d", v, MaxLimit)
		}
		p.Limit = n
	}
	return p, nil
}

// QueryInt reads a non-negative integer query parameter; def when absent.
func QueryInt(r *http.Request, name string, def int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, BadInput("query parameter "+name, "%q is not a non-negative integer", v)
	}
	return n, nil
}

// Env is what the server hands a capability when it builds it.
type Env struct {
	Store *store.Store
	Log   *slog.Logger
	// DataDir is the server's data directory, where a capability keeps
	// its own keys (e.g. scoping's pii.key).
	DataDir string
	// Now is the server's clock; tests inject one.
	Now func() time.Time
}

// Capability is a part of the server with API routes, e.g. the fleet's
// hosts or the incident workspace.
type Capability interface {
	Routes() []Route
}

// Mounter is a Capability that also serves pages outside Prefix: the web
// console, mounted at "/". The server calls Mount when it builds its
// handler, with that handler (so the pages call the API's routes in
// process, through the same role checks and audit) and the route table
// (so a page can be refused to the roles its route refuses). Paths under
// /api/ stay the API's: an unknown one is still a JSON 404.
type Mounter interface {
	Mount(api http.Handler, routes []Route) http.Handler
}

// Starter is a Capability with background work. The server calls Start
// once, in a goroutine of its own that it waits for before closing the
// store; Start runs until ctx ends. Goroutines Start spawns must end before
// it returns. An error other than ctx's is logged.
type Starter interface {
	Start(ctx context.Context) error
}

// bodyError words a JSON decoding error for the caller: the field and what
// it must hold, without encoding/json's Go struct and type names.
func bodyError(err error) string {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		where := "the body"
		if typ.Field != "" {
			where = "field " + typ.Field
		}
		return fmt.Sprintf("%s: got %s, want %s", where, typ.Value, jsonKind(typ.Type))
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonKind names what a JSON value must be to decode into t.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits() - 1
		return fmt.Sprintf("an integer from %d to %d", -(int64(1) << bits), int64(1)<<bits-1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if t.Bits() == 64 {
			return "an integer from 0 to 18446744073709551615"
		}
		return fmt.Sprintf("an integer from 0 to %d", uint64(1)<<t.Bits()-1)
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "another kind of value"
}

// noNUL refuses a body with a NUL character in any string, naming where:
// PostgreSQL cannot store one in text (the insert would fail as an internal
// error), and no field has a use for it.
func noNUL(b []byte) error {
	if !bytes.Contains(b, []byte(`\u0000`)) {
		return nil // raw NUL bytes are not valid JSON: the decoder says so
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		object bool
		key    string // object: the last key; array: ""
		index  int    // array: the next element's index
		inKey  bool   // object: the next string is a key
	}
	var stack []frame
	where := func(depth int) string {
		var p strings.Builder
		for _, f := range stack[:depth] {
			switch {
			case f.object && p.Len() == 0:
				p.WriteString(f.key)
			case f.object:
				p.WriteString("." + f.key)
			default:
				fmt.Fprintf(&p, "[%d]", f.index-1)
			}
		}
		if p.Len() == 0 {
			return "the body"
		}
		return "field " + p.String()
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // a syntax error is the decoder's to report
		}
		top := len(stack) - 1
		isKey := top >= 0 && stack[top].object && stack[top].inKey
		if s, ok := tok.(string); ok && strings.IndexByte(s, 0) >= 0 {
			if isKey {
				return &InputError{Msg: fmt.Sprintf("request body: %s: a key holds a NUL character (\\u0000)", where(top))}
			}
			if top >= 0 && !stack[top].object {
				stack[top].index++
			}
			return &InputError{Msg: fmt.Sprintf("request body: %s: holds a NUL character (\\u0000)", where(len(stack)))}
		}
		switch {
		case tok == json.Delim('{') || tok == json.Delim('['):
			if top >= 0 {
				if stack[top].object {
					stack[top].inKey = true
				} else {
					stack[top].index++
				}
			}
			stack = append(stack, frame{object: tok == json.Delim('{'), inKey: true})
		case tok == json.Delim('}') || tok == json.Delim(']'):
			stack = stack[:top]
		case isKey:
			stack[top].key, stack[top].inKey = tok.(string), false
		case top >= 0 && stack[top].object:
			stack[top].inKey = true
		case top >= 0:
			stack[top].index++
		}
	}
}
