package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-dev/mamori/internal/audit"
	"github.com/mamori-dev/mamori/internal/store"
)

// TestMamoriProcess is not a test: with MAMORI_TEST_ARGS set (a JSON list
// of arguments) it runs that mamori command and exits, so that
// TestKillServerDuringAuditedCalls can run a server it kills.
func TestMamoriProcess(t *testing.T) {
	v := os.Getenv("MAMORI_TEST_ARGS")
	if v == "" {
		return
	}
	var args []string
	if err := json.Unmarshal([]byte(v), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// startServer runs mamori server on dir as a child process, with extra
// flags, and returns its URL and the process.
func startServer(t *testing.T, dir string, extra ...string) (string, *exec.Cmd) {
	t.Helper()
	args, _ := json.Marshal(append([]string{"server", "--data", dir, "--listen", "127.0.0.1:0"}, extra...))
	cmd := exec.Command(os.Args[0], "-test.run=^TestMamoriProcess$")
	cmd.Env = append(os.Environ(), "MAMORI_TEST_ARGS="+string(args))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("server process: %v", err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "mamori server listening on ")
	if !ok {
		t.Fatalf("server process said %q", line)
	}
	return url, cmd
}

// TestKillServerDuringAuditedCalls: the server is killed with SIGKILL in the
// middle of 1,000 audited calls; after a restart the log verifies and every
// call answered 2xx is in it.
func TestKillServerDuringAuditedCalls(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	url, proc := startServer(t, dir)
	code, tok, errs := runCmd("user", "add", "--data", dir, "--name", "alice", "--role", "responder")
	if code != 0 {
		t.Fatalf("user add: %s", errs)
	}
	tok = strings.TrimSpace(tok)
	pem, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	post := func(path, body string) (int, string, error) {
		req, _ := http.NewRequest("POST", url+"/api/v1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		var v struct {
			ID string `json:"id"`
		}
		json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		return resp.StatusCode, v.ID + " " + resp.Header.Get("X-Request-Id"), nil
	}
	code, ids, err := post("/incidents", `{"title":"kill test","reason":"test"}`)
	if err != nil || code != 201 {
		t.Fatalf("open: %d %v", code, err)
	}
	incident := strings.Fields(ids)[0]

	const calls, workers, killAfter = 1000, 8, 300
	var (
		mu   sync.Mutex
		ok   []string // request ids answered 2xx
		next atomic.Int64
		wg   sync.WaitGroup
		once sync.Once
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1)
				if n > calls {
					return
				}
				code, ids, err := post("/incidents/"+incident+"/notes", fmt.Sprintf(`{"text":"note %d"}`, n))
				if err != nil || code/100 != 2 {
					continue
				}
				mu.Lock()
				ok = append(ok, strings.Fields(ids)[1])
				done := len(ok) >= killAfter
				mu.Unlock()
				if done {
					once.Do(func() { proc.Process.Kill() })
				}
			}
		}()
	}
	wg.Wait()
	proc.Wait()
	if len(ok) < killAfter || len(ok) >= calls {
		t.Fatalf("%d calls answered 2xx; the kill should land in the middle", len(ok))
	}

	// Restart on the log as the kill left it, then stop cleanly, which
	// signs a checkpoint over it.
	_, proc2 := startServer(t, dir)
	proc2.Process.Signal(os.Interrupt)
	proc2.Wait()
	code, out, errs := runCmd("audit", "verify", "--data", dir)
	if code != 0 {
		t.Fatalf("verify after kill -9: exit %d\n%s%s", code, out, errs)
	}
	var size, signed int64
	fmt.Sscanf(out, "ok: %d entries", &size)
	if i := strings.Index(out, "the latest at "); i >= 0 {
		fmt.Sscanf(out[i:], "the latest at %d entries", &signed)
	}
	if size == 0 || signed != size {
		t.Errorf("after a clean stop the latest checkpoint covers %d of %d entries:\n%s", signed, size, out)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "mamori.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	logged := map[string]bool{}
	err = st.EachAuditEntry(context.Background(), func(e *audit.Entry) error {
		if e.Action == "incident.note" && e.Result == audit.ResultOK {
			logged[e.RequestID] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, id := range ok {
		if !logged[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d calls answered 2xx are not in the audit log", missing, len(ok))
	}
	t.Logf("%d of %d calls answered 2xx before the kill, all in the log (%d notes logged)", len(ok), calls, len(logged))
}
