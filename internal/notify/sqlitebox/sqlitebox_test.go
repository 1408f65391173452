package sqlitebox_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mamori-dev/mamori/internal/notify/notifytest"
	"github.com/mamori-dev/mamori/internal/notify/sqlitebox"
)

func TestContract(t *testing.T) {
	box, err := sqlitebox.Open(context.Background(), filepath.Join(t.TempDir(), "outbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	notifytest.OutboxContract(t, box)
}
