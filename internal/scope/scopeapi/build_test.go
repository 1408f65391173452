package scopeapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

// The register built from values read in batches on a goroutine of their
// own is the one built value by value from each file in turn: the same
// sources in the same order, people, proposals and counts. The corpus has
// two hosts, archive members, flags, a file of parts stored out of order,
// a file without values (the last) and people across files; the second
// incident holds one host only.
func TestBuildMatchesPerFile(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn)
		a, b := f.enrol("build1"), f.enrol("build2")
		for k := range 6 {
			a.SendResults(benchFile(k, 40, 70))
		}
		zip := result("/data/export.zip", sha('a'),
			subject("export.zip!a.csv", 1, "person_name", "佐藤 花子", "email", "hanako@example.jp"),
			subject("export.zip!a.csv", 2, "person_name", "顧客 3", "phone", "090-0000-0003"),
			subject("export.zip!b.csv", 1, "email", "user5@example.jp", "my_number", "123456789018"),
			subject("", 1, "person_name", "鈴木 一郎"))
		zip.Flags = []scope.FileFlag{{Member: "export.zip!b.csv", Flag: "special_care", Terms: []string{"病歴"}},
			{Member: "export.zip!c.csv", Flag: "credentials"}}
		empty := result("/data/empty.csv", sha('e'))
		empty.Masked, empty.Categories = 3, map[string]int{"email": 3}
		empty.Flags = []scope.FileFlag{{Flag: "credentials"}}
		p1 := streamed("/data/crm.csv", sha('c'), 1, subject("", 2, "phone", "+819012345678"), subject("", 3, "email", "user7@example.jp"))
		p0 := streamed("/data/crm.csv", sha('c'), 0, subject("", 1, "email", "user9@example.jp"), subject("", 2, "person_name", "顧客 11"))
		b.SendResults(zip)
		b.SendResults(p1)
		b.SendResults(p0)
		for k := 6; k < 9; k++ {
			b.SendResults(benchFile(k, 40, 70))
		}
		// Last, so that its flag goes in after every value.
		b.SendResults(empty)
		// Sources: a's 6 files; b's archive (itself, a.csv, b.csv and
		// c.csv flagged), crm.csv, 3 files and empty.csv.
		for i, c := range []struct {
			hosts   []string
			sources int
		}{{[]string{a.ID, b.ID}, 15}, {[]string{b.ID}, 9}} {
			var inc struct{ ID string }
			f.must("POST", "/incidents", map[string]any{"title": fmt.Sprint("build ", i), "hosts": c.hosts, "reason": "test"}, &inc)
			got, want, err := f.svc.BuildAndReference(context.Background(), inc.ID)
			if err != nil {
				t.Fatal(err)
			}
			var reg struct{ Sources []scope.Source }
			if err := json.Unmarshal(got, &reg); err != nil || len(reg.Sources) != c.sources {
				t.Errorf("incident %d: %d sources, want %d (%v): %+v", i, len(reg.Sources), c.sources, err, reg.Sources)
			}
			if diff := cmp.Diff(string(got), string(want)); diff != "" {
				t.Errorf("incident %d: register differs from the per-file build (-got +want):\n%s", i, diff)
			}
		}
	})
}
