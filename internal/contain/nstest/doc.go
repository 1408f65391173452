// Package nstest builds throwaway Linux network namespaces for tests of
// host containment: a namespace per role, joined by a veth pair with
// addresses from the benchmarking range 198.18.0.0/15 and the documentation
// prefix 2001:db8::/32, and helpers to listen, dial and run commands inside
// one. It is for tests only; it runs the iproute2 `ip` command and needs
// root.
//
// Its own tests are the end-to-end containment scenario: the real
// `mamori server` and `mamori agent` on either side of a veth pair, driven
// through the API (TestContainment), and the API-call-to-rules-active
// benchmark (BenchmarkAPIIsolateRelease).
package nstest
