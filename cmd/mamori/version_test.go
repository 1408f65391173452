package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	var out, errOut strings.Builder
	if code := run(t.Context(), []string{"version"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "mamori 0.") || !strings.Contains(out.String(), runtime.Version()) {
		t.Errorf("mamori version printed %q", out.String())
	}
	if code := run(t.Context(), []string{"version", "extra"}, &out, &errOut); code != 2 {
		t.Errorf("mamori version extra: exit %d, want 2", code)
	}
}
