package extract

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
)

// benchCSV is a customer list of about n bytes.
func benchCSV(n int) string {
	var b strings.Builder
	b.WriteString("顧客ID,氏名,フリガナ,電話番号,メールアドレス,住所,備考\n")
	family := []string{"山田", "佐藤", "鈴木", "高橋", "田中", "渡辺"}
	given := []string{"太郎", "花子", "一郎", "美咲", "健太", "陽子"}
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%d,%s %s,ヤマダ タロウ,090-%04d-%04d,user%d@example.jp,東京都千代田区千代田%d-%d,\"注文 %d 件\"\n",
			100000+i, family[i%6], given[i/6%6], i%10000, (i*7)%10000, i, i%9+1, i%30+1, i%5)
	}
	return b.String()
}

// benchLog is an application log of about n bytes.
func benchLog(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "2024-05-%02d 12:%02d:%02d INFO order=%d build=4.2.%d user=user%d@example.jp status=200 latency=%dms\n",
			i%28+1, i%60, i%60, 7000000+i, i%100, i, i%500)
	}
	return b.String()
}

// benchLetters is Japanese prose, letters one after another, of about n
// bytes.
func benchLetters(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "山田 太郎 様\n〒１００－%04d\n東京都千代田区千代田%d-%d\n電話：０３－１２３４－%04d\n\n"+
			"拝啓 平素より格別のご高配を賜り、厚く御礼申し上げます。ご注文番号 %d の商品を発送いたしました。\n敬具\n\n",
			i%10000, i%9+1, i%30+1, i%10000, 5000000+i)
	}
	return b.String()
}

func BenchmarkRead(b *testing.B) {
	const size = 4 << 20
	csv, log, letters := benchCSV(size), benchLog(size), benchLetters(size)
	sjis := func(s string) []byte {
		out, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	cases := []struct {
		name, file string
		data       []byte
	}{
		{"csv-utf8", "c.csv", []byte(csv)},
		{"csv-cp932", "c.csv", sjis(csv)},
		{"csv-utf16", "c.csv", utf16le(csv, true)},
		{"log-utf8", "a.log", []byte(log)},
		{"text-utf8", "a.txt", []byte(letters)},
		{"text-cp932", "a.txt", sjis(letters)},
		{"jsonl-utf8", "a.jsonl", []byte(strings.ReplaceAll(strings.ReplaceAll(log, "2024", `{"t":"2024`), "ms\n", "ms\"}\n"))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			fields := 0
			cpu0 := cpuTime()
			for b.Loop() {
				err := Read(context.Background(), c.file, c.data, DefaultLimits, func(r *Record) error {
					fields += len(r.Fields)
					return nil
				}, func(error) {})
				if err != nil {
					b.Fatal(err)
				}
			}
			if fields == 0 {
				b.Fatal("no fields")
			}
			// CPU time, unlike wall time, means something on a shared
			// machine.
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(len(c.data))*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
			}
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
