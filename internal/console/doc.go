// Package console is mamori's web console: server-rendered pages for the
// incident team, served by `mamori server` at "/" on the API's port.
//
// It owns the login (user name and argon2id password from internal/account),
// browser sessions, the pages and their templates and static files (CSS, a
// small script and the vendored htmx, see static/htmx.LICENSE).
//
// # How pages get their data and act
//
// A page never reads the store for what the API serves: it calls the API
// route in process, through the server's own handler, as the logged-in
// user. The console is an httpapi.Authenticator that recognises only such
// in-process requests (the principal rides in a context value nobody
// outside this package can set), so every page and every button goes
// through the same role table, validation, state machine and audit trail
// as a curl call with the user's token. A page is refused with 403 up
// front when its user's role may not call the route it shows.
//
// # Safety
//
// Sessions are random ids in a cookie marked HttpOnly, Secure and
// SameSite=Strict, kept in memory (a server restart logs everybody out),
// ending after IdleTimeout without a page view (polling does not count)
// or MaxAge in all. Logins are rate-limited per address and per user name.
// Every state change is a POST that passes http.CrossOriginProtection and
// carries the session's CSRF token. Every answer carries a
// Content-Security-Policy that allows scripts, styles and images from the
// console's own origin only: there is no inline script or style.
package console
