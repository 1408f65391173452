package strmatch

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// usrBinSample reads regular files from /usr/bin up to limit bytes.
func usrBinSample(b *testing.B, limit int) [][]byte {
	ents, err := os.ReadDir("/usr/bin")
	if err != nil {
		b.Skip("/usr/bin not readable")
	}
	var out [][]byte
	total := 0
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		d, err := os.ReadFile(filepath.Join("/usr/bin", e.Name()))
		if err != nil {
			continue
		}
		out = append(out, d)
		total += len(d)
		if total >= limit {
			break
		}
	}
	return out
}

// BenchmarkCompileSigBase measures compiling every string of signature-base.
func BenchmarkCompileSigBase(b *testing.B) {
	ps := sigBasePatterns(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(ps); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanSigBaseUsrBin scans 64 MB of /usr/bin with every string of
// signature-base on one goroutine; MB/s is the figure to compare.
func BenchmarkScanSigBaseUsrBin(b *testing.B) {
	ps := sigBasePatterns(b)
	s, err := Compile(ps)
	if err != nil {
		b.Fatal(err)
	}
	files := usrBinSample(b, 64<<20)
	var total int64
	for _, f := range files {
		total += int64(len(f))
	}
	b.SetBytes(total)
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		for _, f := range files {
			s.Scan(f, func(Match) {})
		}
	}
	// On a shared machine wall time says little; CPU time is comparable
	// with `yara -p 1`'s user time.
	b.ReportMetric(float64(total)*float64(b.N)/(1<<20)/(cpuTime()-start).Seconds(), "cpu-MB/s")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
