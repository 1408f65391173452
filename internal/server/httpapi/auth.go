package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/store"
)

// Role is a set of powers a user has; routes list the roles they allow.
type Role string

// The roles. RoleAdmin may call every route.
const (
	RoleAdmin     Role = "admin"
	RoleResponder Role = "responder"
	RolePrivacy   Role = "privacy"
	RoleAuditor   Role = "auditor"
	RoleViewer    Role = "viewer"
)

// Roles lists every role, in the order above.
var Roles = []Role{RoleAdmin, RoleResponder, RolePrivacy, RoleAuditor, RoleViewer}

// Kind is what a principal is.
type Kind string

const (
	KindUser  Kind = "user"
	KindAgent Kind = "agent"
	// KindSystem is the server itself acting on a policy or an automatic
	// rule, e.g. auto-isolation.
	KindSystem Kind = "system"
)

// Principal is who makes a request: the audit actor and the roles that
// decide which routes it may call.
type Principal struct {
	Kind  Kind
	Name  string
	Roles []Role
}

// Actor is how the audit trail names the principal: a user by name, an
// agent as agent:ID, the system by its rule's name.
func (p Principal) Actor() string {
	if p.Kind == KindAgent {
		return "agent:" + p.Name
	}
	return p.Name
}

// Role is the principal's first role that route allows, or "" when none is:
// the role the audit trail records the call under.
func (p Principal) Role(rt *Route) Role {
	for _, r := range p.Roles {
		if rt.Allows(r) {
			return r
		}
	}
	return ""
}

// BootstrapAdmin is the principal of the data directory's admin.token.
var BootstrapAdmin = Principal{Kind: KindUser, Name: "admin", Roles: []Role{RoleAdmin}}

type ctxKey int

const (
	principalKey ctxKey = iota
	requestIDKey
	roleKey
	loggerKey
)

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFrom returns the principal in ctx; ok is false when there is
// none (a request that was not authenticated).
func PrincipalFrom(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey).(Principal)
	return p, ok
}

// WithRole returns ctx carrying the role a call is made under.
func WithRole(ctx context.Context, r Role) context.Context {
	return context.WithValue(ctx, roleKey, r)
}

// RoleFrom is the role the current call is made under, "" outside a route.
func RoleFrom(ctx context.Context) Role {
	r, _ := ctx.Value(roleKey).(Role)
	return r
}

// WithRequestID returns ctx carrying a request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID is the id of the request ctx belongs to, "" outside one.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// NewRequestID returns a fresh random request id.
func NewRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return "r-" + hex.EncodeToString(b[:])
}

// WithLogger returns ctx carrying the logger Fail logs 500s to.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey, l)
}

func logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// ErrNoCredentials is what an Authenticator returns for a request that
// carries no credentials it knows, so the next one may try.
var ErrNoCredentials = errors.New("no credentials")

// ErrBadCredentials is what an Authenticator returns for credentials of
// its kind that are wrong (an unknown or disabled token): 401.
var ErrBadCredentials = errors.New("wrong or disabled credentials")

// Authenticator finds the principal a request speaks for. It returns
// ErrNoCredentials when the request carries nothing it knows,
// ErrBadCredentials (possibly wrapped) when it carries credentials of its
// kind that are not valid, and any other error for a failure to check
// (answered 500).
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (Principal, error)

func (f AuthenticatorFunc) Authenticate(r *http.Request) (Principal, error) { return f(r) }

// Chain tries each authenticator in order; the first that does not answer
// ErrNoCredentials decides.
type Chain []Authenticator

func (c Chain) Authenticate(r *http.Request) (Principal, error) {
	for _, a := range c {
		p, err := a.Authenticate(r)
		if errors.Is(err, ErrNoCredentials) {
			continue
		}
		return p, err
	}
	return Principal{}, ErrNoCredentials
}

// BearerToken returns the token of an "Authorization: Bearer TOKEN" header
// (the scheme is matched case-insensitively), or "" when there is none.
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// Authorize is the middleware of one route: it authenticates the request
// with a, refuses it with 401 when it names nobody and 403 (naming the
// roles the route allows) when the principal has none of them, and
// otherwise calls the route's handler with the principal, its role for
// this route and a request id in the context.
func Authorize(a Authenticator, rt *Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if RequestID(ctx) == "" {
			ctx = WithRequestID(ctx, NewRequestID())
		}
		w.Header().Set("X-Request-Id", RequestID(ctx))
		r = r.WithContext(ctx)
		p, err := a.Authenticate(r)
		switch {
		case errors.Is(err, ErrNoCredentials) || errors.Is(err, ErrBadCredentials):
			w.Header().Set("WWW-Authenticate", `Bearer realm="mamori"`)
			msg := "missing or wrong token"
			if errors.Is(err, ErrBadCredentials) {
				msg = err.Error()
			}
			Error(w, http.StatusUnauthorized, msg)
			return
		case err != nil:
			Fail(w, r, err)
			return
		}
		role := p.Role(rt)
		if role == "" {
			Fail(w, r, &ForbiddenError{Msg: forbidden(p, rt)})
			return
		}
		ctx = WithRole(WithPrincipal(ctx, p), role)
		rt.Handler(w, r.WithContext(ctx))
	})
}

func forbidden(p Principal, rt *Route) string {
	allowed := []string{string(RoleAdmin)}
	for _, r := range rt.Roles {
		allowed = append(allowed, string(r))
	}
	have := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		have[i] = string(r)
	}
	haveText := "no role"
	if len(have) > 0 {
		haveText = "role " + strings.Join(have, ", ")
	}
	return p.Actor() + " has " + haveText + "; " + rt.Method + " " + Prefix + rt.Pattern + " needs role " + strings.Join(allowed, " or ")
}

// Audit is the audit entry of an action taken in ctx: the actor and role
// come from the principal the request was authenticated as (never from a
// header), the request id from the request.
func Audit(ctx context.Context, at time.Time, action, target, reason, detail string) store.AuditEntry {
	p, _ := PrincipalFrom(ctx)
	role := string(RoleFrom(ctx))
	if role == "" && p.Kind != KindUser {
		role = string(p.Kind)
	}
	return store.AuditEntry{At: at, Actor: p.Actor(), Role: role, Action: action, Target: target,
		Reason: reason, Detail: detail, RequestID: RequestID(ctx)}
}
