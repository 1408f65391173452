package scopeapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/store/storetest"
)

// benchFile is file k of a synthetic corpus: subjects people (k*n+j) mod
// people, four values each, so each person is in several files.
func benchFile(k, n, people int) scope.FileResult {
	subs := make([]scope.FileSubject, n)
	for j := range subs {
		p := (k*n + j) % people
		subs[j] = subject("", j+1, "person_name", fmt.Sprintf("顧客 %d", p), "email", fmt.Sprintf("user%d@example.jp", p),
			"phone", fmt.Sprintf("+8190%08d", p), "date_of_birth", fmt.Sprintf("19%02d-%02d-%02d", 50+p%50, 1+p%12, 1+p%28))
	}
	return result(fmt.Sprintf("/data/export-%d.csv", k), fmt.Sprintf("%064x", k), subs...)
}

// BenchmarkIngest sends batches of ten files of 100 subjects (4,000
// values) from an agent over mutual TLS and waits for each commit: the
// rate at which the server checks, seals and stores values (SQLite).
func BenchmarkIngest(b *testing.B) {
	f := newFixture(b, "")
	a := f.enrol("bench")
	k := 0
	values := 0
	for b.Loop() {
		batch := make([]scope.FileResult, 10)
		for i := range batch {
			batch[i] = benchFile(k, 100, 1<<30)
			k++
			values += 400
		}
		a.SendResults(batch...)
	}
	b.ReportMetric(float64(values)/b.Elapsed().Seconds(), "values/s")
}

// BenchmarkRegisterBuild builds the register of an incident whose host
// holds 50 files of 1,000 subjects (200,000 values, 25,000 people): read,
// open, resolve; on SQLite and, with MAMORI_TEST_POSTGRES, PostgreSQL.
func BenchmarkRegisterBuild(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchRegisterBuild(b, "") })
	b.Run("postgres", func(b *testing.B) { benchRegisterBuild(b, storetest.TestPostgres(b)) })
}

func benchRegisterBuild(b *testing.B, dsn string) {
	f := newFixture(b, dsn)
	a := f.enrol("bench")
	for k := range 50 {
		a.SendResults(benchFile(k, 1000, 25000))
	}
	var inc struct{ ID string }
	f.must("POST", "/incidents", map[string]any{"title": "bench", "hosts": []string{a.ID}, "reason": "bench"}, &inc)
	var took time.Duration
	for b.Loop() {
		d, people, values, err := f.svc.Rebuild(context.Background(), inc.ID)
		if err != nil || people != 25000 || values != 200000 {
			b.Fatalf("%d people from %d values: %v", people, values, err)
		}
		took += d
	}
	b.ReportMetric(200000/(took.Seconds()/float64(b.N)), "values/s")
}
