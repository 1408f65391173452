package server

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/wire"
)

// CapabilityFunc builds a capability once the server's store is open.
// cmd/mamori lists the capabilities it serves; see the package
// documentation.
type CapabilityFunc func(httpapi.Env) (httpapi.Capability, error)

// fleetRoutes are the routes of the fleet itself, one file per resource.
func (s *Server) fleetRoutes() []httpapi.Route {
	var rs []httpapi.Route
	for _, part := range [][]httpapi.Route{
		s.hostRoutes(), s.detectionRoutes(), s.ruleRoutes(), s.sweepRoutes(), s.collectRoutes(),
		s.auditRoutes(), s.policyRoutes(), s.statsRoutes(),
	} {
		rs = append(rs, part...)
	}
	return append(rs, httpapi.Route{
		Method: "GET", Pattern: "/openapi.json", Summary: "This API's OpenAPI 3 description.",
		Response: map[string]any{}, Roles: httpapi.Roles, Handler: s.getOpenAPI,
	})
}

// Routes is the route table: the fleet's and every capability's.
func (s *Server) Routes() []httpapi.Route { return s.routes }

// Handler is everything the listener serves: gateway, API and, when a
// capability is an httpapi.Mounter (the web console), its pages at "/".
// It may be mounted without Serve; Close then ends the server.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+wire.EnrollPath, s.handleEnroll)
	mux.HandleFunc("GET "+wire.WebSocketPath, s.handleAgent)
	allow := map[string][]string{}
	for i := range s.routes {
		r := &s.routes[i]
		mux.Handle(r.Method+" "+httpapi.Prefix+r.Pattern, s.auditRefusals(r, httpapi.Authorize(s.auth, r)))
		allow[r.Pattern] = append(allow[r.Pattern], r.Method)
	}
	// Errors the mux would answer in plain text are JSON like the rest.
	for pattern, methods := range allow {
		mux.Handle(httpapi.Prefix+pattern, methodNotAllowed(methods))
	}
	notFound := func(w http.ResponseWriter, r *http.Request) {
		httpapi.Error(w, http.StatusNotFound, "no such path: "+r.URL.Path)
	}
	// The agent gateway answers in JSON too.
	mux.Handle(wire.EnrollPath, methodNotAllowed([]string{"POST"}))
	mux.Handle(wire.WebSocketPath, methodNotAllowed([]string{"GET"}))
	mux.HandleFunc("/agent/", notFound)
	h := withLogger(s, refuseNUL(mux))
	mounted := false
	for _, c := range s.caps {
		if m, ok := c.(httpapi.Mounter); ok && !mounted {
			mux.HandleFunc("/api/", notFound)
			mux.Handle("/", m.Mount(h, s.routes))
			mounted = true
		}
	}
	if !mounted {
		mux.HandleFunc("/", notFound)
	}
	return h
}

// refuseNUL answers 400 to a request whose path or query holds a NUL
// character (%00): PostgreSQL cannot compare text with one, so the lookup
// would fail as an internal error, and no id or filter has a use for it.
func refuseNUL(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.IndexByte(r.URL.Path, 0) >= 0 {
			httpapi.Error(w, http.StatusBadRequest, "request path: holds a NUL character (%00)")
			return
		}
		if strings.Contains(r.URL.RawQuery, "%00") || strings.IndexByte(r.URL.RawQuery, 0) >= 0 {
			for k, vs := range r.URL.Query() {
				if strings.IndexByte(k, 0) >= 0 || slices.ContainsFunc(vs, func(v string) bool { return strings.IndexByte(v, 0) >= 0 }) {
					httpapi.Error(w, http.StatusBadRequest, fmt.Sprintf("query parameter %q: holds a NUL character (%%00)", strings.ReplaceAll(k, "\x00", "")))
					return
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}

func methodNotAllowed(methods []string) http.Handler {
	allowed := strings.Join(methods, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allowed)
		httpapi.Error(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed here; allowed: "+allowed)
	})
}

func withLogger(s *Server, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(httpapi.WithLogger(r.Context(), s.log)))
	})
}

// adminToken authenticates the bootstrap admin by the data directory's
// admin.token. Other authenticators (per-user tokens) come from
// capabilities that implement httpapi.Authenticator.
func (s *Server) adminToken(r *http.Request) (httpapi.Principal, error) {
	tok := httpapi.BearerToken(r)
	if tok == "" {
		return httpapi.Principal{}, httpapi.ErrNoCredentials
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.admin)) == 1 {
		return httpapi.BootstrapAdmin, nil
	}
	return httpapi.Principal{}, httpapi.ErrNoCredentials
}

// rejectToken is the last authenticator: a bearer token nobody knew is a
// wrong token.
func rejectToken(r *http.Request) (httpapi.Principal, error) {
	if httpapi.BearerToken(r) != "" {
		return httpapi.Principal{}, httpapi.ErrBadCredentials
	}
	return httpapi.Principal{}, httpapi.ErrNoCredentials
}

// agentCert authenticates an agent by its verified client certificate.
// Agents have no API role, so the API refuses them with 403; the gateway
// checks revocation and the serial itself.
func agentCert(r *http.Request) (httpapi.Principal, error) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return httpapi.Principal{}, httpapi.ErrNoCredentials
	}
	return httpapi.Principal{Kind: httpapi.KindAgent, Name: r.TLS.PeerCertificates[0].Subject.CommonName}, nil
}

func (s *Server) getOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := s.openAPI()
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, doc)
}

func (s *Server) openAPI() (map[string]any, error) {
	return httpapi.Document(httpapi.Info{
		Title: "mamori fleet server API",
		Description: "API of mamori server. Every route needs Authorization: Bearer TOKEN (DIR/admin.token is the bootstrap admin); " +
			"each route lists the roles that may call it. Agents use the separate gateway (/agent/v1/enroll, /agent/v1/ws) described in internal/wire.",
	}, s.routes)
}
