package storebox_test

import (
	"context"
	"testing"

	"github.com/mamori-dev/mamori/internal/notify/notifytest"
	"github.com/mamori-dev/mamori/internal/notify/storebox"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		st, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		notifytest.OutboxContract(t, storebox.Box{S: st})
	})
}
