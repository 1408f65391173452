// Package server is the mamori fleet server: its own certificate authority
// and agent enrolment, the agent gateway (one WebSocket per agent over mutual
// TLS, speaking internal/wire), the JSON API under /api/v1, rule bundles,
// sweeps, per-host monitoring levels and the isolation state machine, all
// persisted through internal/store, and the capabilities plugged into it.
//
// One TLS listener serves both the API and the gateway. Agents present the
// client certificate issued at enrolment; API callers present a bearer
// token: DIR/admin.token is the bootstrap admin, and capabilities may add
// authenticators (per-user tokens).
//
// # Routes, roles and the audit actor
//
// Every API endpoint is an httpapi.Route in one table (Server.Routes): the
// fleet's own, one file per resource (hosts.go, detections.go, rules.go,
// sweeps.go, audit.go, policy.go, stats.go), then every capability's. The
// table drives the mux, the role check, the OpenAPI document
// (/api/v1/openapi.json, schemas reflected from the routes' Go types) and
// the tests that every route needs a token and is documented.
//
// Authentication puts an httpapi.Principal into the request context; a
// route lists the roles it allows besides admin, and anyone else is
// refused with 403 naming the roles. The audit actor and role come from
// the principal (httpapi.Audit), never from a request header.
//
// # Adding a capability
//
// A capability (say internal/incident) is a package that imports httpapi
// and store, never this package:
//
//	// Capability builds the incident workspace; cmd/mamori lists it.
//	func Capability(env httpapi.Env) (httpapi.Capability, error) {
//		return &Service{st: env.Store, now: env.Now, log: env.Log}, nil
//	}
//
//	func (s *Service) Routes() []httpapi.Route {
//		return []httpapi.Route{{
//			Method: "POST", Pattern: "/incidents/{id}/state", Summary: "Move an incident to its next state.",
//			Request: StateChange{}, Response: Incident{},
//			Roles: []httpapi.Role{httpapi.RoleResponder}, Handler: s.postState,
//		}}
//	}
//
//	func (s *Service) postState(w http.ResponseWriter, r *http.Request) {
//		var body StateChange
//		if err := httpapi.DecodeBody(r, 0, &body); err != nil {
//			httpapi.Fail(w, r, err) // 400 naming the field, or 413
//			return
//		}
//		ctx := r.Context()
//		err := s.st.InTx(ctx, func(tx *store.Tx) error {
//			if err := tx.SetIncidentState(ctx, r.PathValue("id"), body.State); err != nil {
//				return err // store.ErrNotFound: 404; *httpapi.ConflictError: 409
//			}
//			return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "incident_state", r.PathValue("id"), body.Reason, body.State))
//		})
//		...
//	}
//
// It may also implement httpapi.Starter (background work, run in a
// goroutine the server waits for before closing the store) and
// httpapi.Authenticator (e.g. per-user tokens from the store; tried after
// the bootstrap admin token) and httpapi.Mounter (pages served at "/"
// outside /api/v1, given the server's handler to call API routes in
// process; the web console is the one, and only the first is mounted). Its tables and queries go under
// internal/store as that package's documentation describes. Its response
// types are ordinary Go structs with json tags, plus doc, enum and
// required tags for the OpenAPI document; name them so they do not clash
// with another capability's (the document refuses two types of one name).
// Lists take httpapi.PageParams and page with httpapi.ParsePage (after an
// id, at most limit, in id order).
//
// The capability is served by appending its constructor to the
// capabilities list in its own cmd/mamori file:
//
//	func init() { capabilities = append(capabilities, incident.Capability) }
//
// No file of this package, api route table or query file is edited.
//
// # Lifecycle
//
// New opens the store, builds the capabilities and starts the background
// work under a context that lives until Close; Handler may be mounted
// without Serve. Close is safe at any point and more than once: it stops
// the background work and agent connections, waits for them and closes the
// store. Serve closes the server when its context ends and returns the
// shutdown's errors joined.
//
// # Hostile input
//
// The server runs while an attacker may hold an enrolled host and the
// network. TLS handshakes and request headers must arrive within 10 s,
// requests within a minute, and idle keep-alive connections close after
// at most a minute; one source address may hold 256 connections that are
// not established agent WebSockets (loopback is exempt). Enrolment
// refuses unprintable names, gives a replayed CSR its existing host and
// is rate-limited per address. What agents report is checked before it is
// stored (agentinput.go): findings for sweeps that do not target the host,
// negative sizes and oversized fields are refused, times outside a sane
// window replaced, and each agent's findings are rate-limited by making
// its read loop wait, so they queue on the agent rather than being
// dropped. Bundles and sweeps over the wire limit get 413 at the API.
//
// Scale: a connection costs one goroutine (reading from it) and no
// tickers of its own; writes to an agent happen on the goroutine that has
// something to say. Heartbeats only touch memory, flushed to the
// store in one transaction every few seconds, and finding batches from all
// agents are group-committed by one ingest goroutine.
package server
