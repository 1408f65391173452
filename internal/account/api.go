package account

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// Service is the accounts capability of the server: the users API for
// admins, and authentication by user token.
type Service struct {
	st  *store.Store
	now func() time.Time
	log *slog.Logger
}

// Capability builds the service; cmd/mamori serves it.
func Capability(env httpapi.Env) (httpapi.Capability, error) {
	return &Service{st: env.Store, now: env.Now, log: env.Log}, nil
}

// Authenticate recognises a user token; any other bearer token is left to
// the next authenticator.
func (s *Service) Authenticate(r *http.Request) (httpapi.Principal, error) {
	tok := httpapi.BearerToken(r)
	if !LooksLikeToken(tok) {
		return httpapi.Principal{}, httpapi.ErrNoCredentials
	}
	u, err := ByToken(r.Context(), s.st, tok)
	if errors.Is(err, store.ErrNotFound) {
		return httpapi.Principal{}, fmt.Errorf("unknown, revoked or disabled user token: %w", httpapi.ErrBadCredentials)
	}
	if err != nil {
		return httpapi.Principal{}, err
	}
	return httpapi.Principal{Kind: httpapi.KindUser, Name: u.Name, Roles: []httpapi.Role{httpapi.Role(u.Role)}}, nil
}

// Routes are admin only.
func (s *Service) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Pattern: "/users", Summary: "List users by name.", Response: []User(nil),
			Query: httpapi.PageParams, Handler: s.list},
		{Method: "POST", Pattern: "/users", Summary: "Add a user; the answer carries its API token, shown this once.",
			Request: NewUser{}, Response: UserToken{}, Handler: s.add},
		{Method: "GET", Pattern: "/users/{name}", Summary: "One user.", Response: User{}, Handler: s.get},
		{Method: "POST", Pattern: "/users/{name}/disable", Summary: "Disable a user: its tokens stop working.",
			Request: UserChange{}, Response: User{}, Handler: s.disable(true)},
		{Method: "POST", Pattern: "/users/{name}/enable", Summary: "Enable a disabled user again.",
			Request: UserChange{}, Response: User{}, Handler: s.disable(false)},
		{Method: "POST", Pattern: "/users/{name}/token", Summary: "Mint a new API token for a user, revoking its older ones; shown this once.",
			Request: UserChange{}, Response: UserToken{}, Handler: s.token},
	}
}

// NewUser is the body of POST /users.
type NewUser struct {
	Name   string `json:"name" doc:"a-z, 0-9, '.', '_', '-'; 1 to 64"`
	Role   string `json:"role" doc:"admin, responder, privacy, auditor or viewer"`
	Reason string `json:"reason"`
}

// UserChange is the body of a change that only needs its reason.
type UserChange struct {
	Reason string `json:"reason"`
}

// UserToken is a user with a freshly minted token.
type UserToken struct {
	User  User   `json:"user"`
	Token string `json:"token" doc:"the API token: shown once, only its hash is stored"`
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	p, err := httpapi.ParsePage(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	us, err := List(r.Context(), s.st, p.After, p.Limit)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, us)
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	u, err := Get(r.Context(), s.st, r.PathValue("name"))
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, u)
}

func (s *Service) add(w http.ResponseWriter, r *http.Request) {
	var body NewUser
	if err := httpapi.DecodeBody(r, 0, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := ValidName(body.Name); err != nil {
		httpapi.Fail(w, r, httpapi.BadInput("name", "%v", err))
		return
	}
	role, err := ParseRole(body.Role)
	if err != nil {
		httpapi.Fail(w, r, httpapi.BadInput("role", "%v", err))
		return
	}
	ctx := r.Context()
	p, _ := httpapi.PrincipalFrom(ctx)
	u := User{Name: body.Name, Role: role, CreatedAt: s.now().UTC().Truncate(time.Millisecond), CreatedBy: p.Actor()}
	var tok string
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if tok, err = Add(ctx, tx, u); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "user.add", u.Name, body.Reason, "role="+string(role)))
	})
	if errors.Is(err, ErrExists) {
		err = httpapi.Conflict("%v", err)
	}
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, UserToken{User: u, Token: tok})
}

func (s *Service) disable(disabled bool) http.HandlerFunc {
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		var body UserChange
		if err := httpapi.DecodeOptionalBody(r, 0, &body); err != nil {
			httpapi.Fail(w, r, err)
			return
		}
		ctx, name := r.Context(), r.PathValue("name")
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			if err := SetDisabled(ctx, tx, name, disabled); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), action, name, body.Reason, ""))
		})
		if err != nil {
			httpapi.Fail(w, r, err)
			return
		}
		s.get(w, r)
	}
}

func (s *Service) token(w http.ResponseWriter, r *http.Request) {
	var body UserChange
	if err := httpapi.DecodeOptionalBody(r, 0, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ctx, name := r.Context(), r.PathValue("name")
	var tok string
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if tok, err = MintToken(ctx, tx, name, s.now()); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "user.token", name, body.Reason, ""))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	u, err := Get(ctx, s.st, name)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, UserToken{User: u, Token: tok})
}

// LocalAudit is the audit entry of a change made with mamori user on the
// server's data directory: the actor is "local" (whoever can read the
// database), under the admin role.
func LocalAudit(now time.Time, action, target, reason, detail string) store.AuditEntry {
	return store.AuditEntry{At: now, Actor: "local", Role: string(Admin), Action: action, Target: target,
		Reason: reason, Detail: detail, Result: "ok"}
}
