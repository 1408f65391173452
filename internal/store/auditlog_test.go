package store

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mamori-dev/mamori/internal/audit"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

// TestAuditLogMigratesForward: a database from before the audit log, with
// hosts, detections and entries in the old audit table, migrates to the
// accounts, incidents and audit-log schema; the old entries become the
// first leaves of the log, in order, once.
func TestAuditLogMigratesForward(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		old, err := open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := old.Migrate(ctx, 202611292045); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`INSERT INTO hosts (id, name, enrolled_at) VALUES ('h-1', 'fs01', 1000)`,
			`INSERT INTO detections (host_id, finding_id, type, seen_at, received_at) VALUES ('h-1', 'f1', 'yara', 1000, 1000)`,
			`INSERT INTO audit (at, actor, action, target, reason, detail) VALUES (1764400000000, 'admin', 'isolate', 'h-1', 'ransomware', 'none -> requested')`,
			`INSERT INTO audit (at, actor, role, action, target, reason, detail, request_id, result) VALUES (1764400001000, 'admin', 'admin', 'monitoring', 'fleet', 'campaign', 'heightened', 'r-1', 'ok')`,
			`INSERT INTO audit (at, actor, action, target) VALUES (1764400002000, 'agent:h-1', 'isolation_status', 'h-1')`,
		} {
			if _, err := old.w.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		old.Close()

		for range 2 { // the second open converts nothing more
			s, err := Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			es, err := s.AuditEntries(ctx, "", 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			want := []audit.Entry{
				{Index: 0, Time: fromMS(1764400000000).UTC(), Actor: "admin", Action: "isolate", Target: "h-1", Reason: "ransomware", Detail: "none -> requested", Result: "ok"},
				{Index: 1, Time: fromMS(1764400001000).UTC(), Actor: "admin", Role: "admin", Action: "monitoring", Target: "fleet", Reason: "campaign", Detail: "heightened", RequestID: "r-1", Result: "ok"},
				{Index: 2, Time: fromMS(1764400002000).UTC(), Actor: "agent:h-1", Action: "isolation_status", Target: "h-1", Result: "ok"},
			}
			if diff := cmp.Diff(es, want, cmpopts.IgnoreFields(audit.Entry{}, "ID", "Prev", "Hash")); diff != "" {
				t.Errorf("converted entries (-got +want):\n%s", diff)
			}
			v, _ := audit.NewVerifier(nil, nil)
			for i := range es {
				if err := v.Add(&es[i]); err != nil {
					t.Errorf("converted log: %v", err)
				}
			}
			var n int
			if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit`).Scan(&n); err != nil || n != 0 {
				t.Errorf("old audit table: %d rows, %v; want emptied", n, err)
			}
			if h, err := s.Host(ctx, "h-1"); err != nil || h.Name != "fs01" {
				t.Errorf("host after migration: %+v, %v", h, err)
			}
			for _, q := range []string{"incident-list", "user-list"} {
				rows, err := s.Query(ctx, q, "", 10)
				if q == "incident-list" {
					rows, err = s.Query(ctx, q, "", "", 10)
				}
				if err != nil {
					t.Errorf("%s after migration: %v", q, err)
					continue
				}
				rows.Close()
			}
			s.Close()
		}
	})
}
