package scope

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The scale benchmark: people appear in one to two records of files on
// ten hosts (name, e-mail, phone, birth date; half of them again with name
// and e-mail in another format), half of them in the master data, plus
// households sharing a phone under different names.
//
//	MAMORI_SCOPE_BENCH_N=10000000 go test -run X -bench Resolve -benchtime 1x ./internal/scope
//
// N is the number of occurrences (default 200000: a fast CI run); people
// are N/5, master rows N/10.

var (
	surnames = []string{"山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤", "吉田", "山本", "松本", "井上", "木村", "林", "斎藤", "清水", "山崎", "森"}
	given    = []string{"太郎", "花子", "一郎", "美咲", "健", "陽菜", "翔", "さくら", "大輔", "結衣", "拓也", "愛", "直樹", "優子", "誠", "恵", "亮", "彩", "修", "真由美"}
	prefs    = []string{"東京都千代田区丸の内", "大阪府大阪市北区梅田", "福岡県福岡市中央区天神", "北海道札幌市中央区北一条西", "愛知県名古屋市中村区名駅"}
)

type benchGen struct {
	people, master int
	buf            []byte
}

func benchN() int {
	if s := os.Getenv("MAMORI_SCOPE_BENCH_N"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 200000
}

func newBenchGen(occurrences int) *benchGen {
	return &benchGen{people: occurrences / 5, master: occurrences / 10}
}

func (g *benchGen) str(parts ...any) string {
	b := g.buf[:0]
	for _, p := range parts {
		switch x := p.(type) {
		case string:
			b = append(b, x...)
		case int:
			b = strconv.AppendInt(b, int64(x), 10)
		}
	}
	g.buf = b
	return string(b)
}

func (g *benchGen) name(i int) string {
	// Unique names (a scrambled suffix keeps neighbours' names apart, as
	// real ones are): the count the resolver must find is then known.
	return surnames[i%len(surnames)] + " " + given[(i/len(surnames))%len(given)] + strconv.FormatUint(uint64(uint32(i)*2654435761), 36)
}

func (g *benchGen) email(i int) string { return g.str("user", i, "@example", i%50, ".jp") }

func (g *benchGen) phone(i int) string {
	// Every 100th person shares the phone of the one before (a household).
	if i%100 == 1 {
		i--
	}
	return g.str("090-", 1000+i/10000%9000, "-", 1000+i%10000)
}

func (g *benchGen) dob(i int) string {
	// Spread over 60 years like real birth dates, not in step with names.
	h := int(uint32(i) * 2246822519 >> 8)
	return g.str(1940+h%60, "-", 1+h/60%12, "-", 1+h/720%28)
}

// feed adds the occurrences of people [from, to) to r.
func (g *benchGen) feed(r *Resolver, srcs []int32, from, to int) int {
	n := 0
	for i := from; i < to; i++ {
		s := srcs[i%len(srcs)]
		rec := i / len(srcs)
		r.Add(s, rec, "person_name", g.name(i))
		r.Add(s, rec, "email", g.email(i))
		r.Add(s, rec, "phone", g.phone(i))
		r.Add(s, rec, "date_of_birth", g.dob(i))
		n += 4
		if i%2 == 0 {
			s2 := srcs[(i*7+3)%len(srcs)]
			rec2 := 1<<30 - 1 - i/len(srcs)
			if j := i % len(srcs); (i*7+3)%len(srcs) == j {
				rec2--
			}
			r.Add(s2, rec2, "person_name", g.name(i))
			r.Add(s2, rec2, "email", g.str("User", i, "@Example", i%50, ".jp"))
			n += 2
		}
	}
	return n
}

func (g *benchGen) sources(r *Resolver, offset int) []int32 {
	var srcs []int32
	for f := 0; f < 1000; f++ {
		srcs = append(srcs, r.Source(Source{Host: "host" + strconv.Itoa(f%10), Path: "/data/export" + strconv.Itoa(f+offset) + ".csv"}))
	}
	return srcs
}

func (g *benchGen) feedMaster(r *Resolver) {
	src := r.Source(Source{Path: "master.csv", Master: true})
	for i := 0; i < g.master; i++ {
		p := i * 2 // every other person
		r.AddMaster(src, i, MasterRow{MName: g.name(p), MEmail: g.email(p), MPhone: g.phone(p),
			MAddress: g.str(prefs[p%len(prefs)], 1+p%9, "-", 1+p/9%20, "-", 1+p/180%30), MLanguage: "ja"})
	}
}

// cpuTime is the process's user and system time: on a shared machine it
// says more than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapMiB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}

func BenchmarkResolve(b *testing.B) {
	n := benchN()
	for b.Loop() {
		g := newBenchGen(n)
		cpu0 := cpuTime()
		start := time.Now()
		r := NewResolver(Options{Key: testKey})
		g.feedMaster(r)
		srcs := g.sources(r, 0)
		// The last 1% of people arrive later (the incremental step).
		main := g.people - g.people/100
		occ := g.feed(r, srcs, 0, main)
		r.Resolve()
		reg := r.Register()
		full := time.Since(start)
		fullCPU := cpuTime() - cpu0
		heap := heapMiB()

		cpu0 = cpuTime()
		start = time.Now()
		more := g.sources(r, 1000)
		inc := g.feed(r, more, main, g.people)
		r.Resolve()
		changed := r.Changed()
		incTime := time.Since(start)
		incCPU := cpuTime() - cpu0

		b.ReportMetric(float64(occ+g.master*4), "occurrences")
		b.ReportMetric(float64(len(reg.People)), "people")
		b.ReportMetric(float64(len(reg.Proposals)), "proposals")
		b.ReportMetric(full.Seconds(), "s/full")
		b.ReportMetric(fullCPU.Seconds(), "cpu-s/full")
		b.ReportMetric(incCPU.Seconds(), "cpu-s/incremental")
		b.ReportMetric(heap, "heap-MiB")
		b.ReportMetric(float64(inc), "inc-occurrences")
		b.ReportMetric(float64(len(changed)), "inc-people")
		b.ReportMetric(incTime.Seconds(), "s/incremental")
		if want := main; len(reg.People) != want {
			b.Errorf("%d people, want %d", len(reg.People), want)
		}
	}
}

// TestBenchCSV writes the benchmark's normalised keys as CSV for the
// PostgreSQL comparison in bench/scope.sh: record id, key kind, key.
func TestBenchCSV(t *testing.T) {
	out := os.Getenv("MAMORI_SCOPE_BENCH_CSV")
	if out == "" {
		t.Skip("MAMORI_SCOPE_BENCH_CSV not set (bench/scope.sh sets it)")
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	g := newBenchGen(benchN())
	line := func(rec int, kind, key string) {
		w.WriteString(strconv.Itoa(rec))
		w.WriteByte(',')
		w.WriteString(kind)
		w.WriteByte(',')
		w.WriteString(key)
		w.WriteByte('\n')
	}
	// The same keys the resolver builds: normalised in Go, grouped in SQL.
	for i := 0; i < g.people-g.people/100; i++ {
		rec := i * 2
		name := NormalizeName(g.name(i))
		line(rec, "email", NormalizeEmail(g.email(i)))
		line(rec, "phone", NormalizePhone(g.phone(i), "JP")+"|"+name)
		line(rec, "name_dob", name+"|"+NormalizeDate(g.dob(i)))
		if i%2 == 0 {
			line(rec+1, "email", NormalizeEmail(g.str("User", i, "@Example", i%50, ".jp")))
		}
	}
	for i := 0; i < g.master; i++ {
		p := i * 2
		rec := -1 - i
		line(rec, "email", NormalizeEmail(g.email(p)))
		line(rec, "phone", NormalizePhone(g.phone(p), "JP")+"|"+NormalizeName(g.name(p)))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}
