package agent

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/mamori-dev/mamori/internal/testutil"
)

// TestAgentServerURLForms: a base URL with a trailing slash enrols and
// connects like one without; a refused enrolment reads as one error, with
// no package prefix in front of it.
func TestAgentServerURLForms(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end fleet test")
	}
	f := startServer(t, t.TempDir(), testutil.ListenerFile(t))
	ctx := context.Background()
	_, err := New(ctx, Config{ServerURL: f.url + "/", Roots: f.roots, EnrollToken: "wrong", DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if want := "enrol with " + f.url + ": 401 Unauthorized: missing or wrong enrolment token"; err == nil || err.Error() != want {
		t.Errorf("wrong token: %v, want %q", err, want)
	}
	a, err := New(ctx, Config{ServerURL: f.url + "/", Roots: f.roots, EnrollToken: f.enroll, DataDir: filepath.Join(t.TempDir(), "a"), Name: "slash", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); a.Run(rctx) }()
	defer func() { cancel(); <-done; a.Close() }()
	testutil.Eventually(t, "agent online", func() bool { return f.hosts()["slash"].Online })
}
