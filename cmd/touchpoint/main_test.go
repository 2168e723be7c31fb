package main_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// These tests run the real binary as a user would.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "touchpoint-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "touchpoint")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type node struct {
	cmd    *exec.Cmd
	addr   string
	stderr *output // stdout and stderr together
}

// output collects a process's output; tests read it while it runs.
type output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// start runs touchpoint serve and waits until /readyz answers.
func start(t *testing.T, storeArgs []string, extra ...string) *node {
	t.Helper()
	return startWithin(t, 30*time.Second, storeArgs, extra...)
}

// startWithin is start with another bound on the wait.
func startWithin(t *testing.T, wait time.Duration, storeArgs []string, extra ...string) *node {
	t.Helper()
	n := &node{addr: freeAddr(t), stderr: &output{}}
	args := append([]string{"serve", "--addr", n.addr}, storeArgs...)
	n.cmd = exec.Command(binary(t), append(args, extra...)...)
	n.cmd.Stderr = n.stderr
	n.cmd.Stdout = n.stderr
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.cmd.Process.Kill(); n.cmd.Wait() })
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + n.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return n
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("server did not get ready:\n%s", n.stderr)
	return nil
}

func cli(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("touchpoint %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

func call(t *testing.T, method, url, auth, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	json.Unmarshal(b, &v)
	return resp.StatusCode, v
}

func stores(t *testing.T, fn func(t *testing.T, storeArgs []string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, []string{"--data", t.TempDir()}) })
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(storetest.EnvPostgres) == "" {
			t.Skip(storetest.EnvPostgres + " is not set")
		}
		fn(t, []string{"--db", storetest.PostgresURL(t)})
	})
}

// Every event acknowledged with 2xx survives a SIGKILL right after, whether
// it was journaled (the default on SQLite) or stored before the answer.
func TestAcknowledgedEventsSurviveSIGKILL(t *testing.T) {
	for _, mode := range []string{"journal", "sync"} {
		t.Run(mode, func(t *testing.T) { ackedEventsSurviveSIGKILL(t, mode == "journal") })
	}
}

func ackedEventsSurviveSIGKILL(t *testing.T, journaled bool) {
	stores(t, func(t *testing.T, storeArgs []string) {
		journal := []string{"--ingest-journal", "off"}
		if journaled {
			journal = []string{"--ingest-journal", t.TempDir()}
		}
		n := start(t, storeArgs, journal...)
		token := strings.TrimSpace(cli(t, append([]string{"token", "create", "--role", "admin", "--name", "kill-test"}, storeArgs...)...))
		if !strings.HasPrefix(token, "tp_") || strings.Contains(token, "\n") {
			t.Fatalf("token create printed %q, want the token alone", token)
		}
		bearer := "Bearer " + token
		st, cp := call(t, "POST", "http://"+n.addr+"/api/v1/contact-points", bearer, `{"kind":"website","name":"Web shop"}`)
		if st != 201 || cp["write_key"] == nil {
			t.Fatalf("create contact point: %d %v", st, cp)
		}
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(cp["write_key"].(string)+":"))

		// Four senders post batches as fast as they can; the process is
		// killed while they are at it.
		var mu sync.Mutex
		acked := map[string]bool{}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					var b strings.Builder
					b.WriteString(`{"batch":[`)
					var ids []string
					for j := 0; j < 20; j++ {
						id := fmt.Sprintf("m-%d-%d-%d", w, i, j)
						ids = append(ids, id)
						if j > 0 {
							b.WriteByte(',')
						}
						fmt.Fprintf(&b, `{"type":"page","messageId":%q,"anonymousId":"visitor-%d-%d","name":"Home"}`, id, w, j)
					}
					b.WriteString(`]}`)
					req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+n.addr+"/v1/batch", strings.NewReader(b.String()))
					req.Header.Set("Authorization", basic)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 200 {
						mu.Lock()
						for _, id := range ids {
							acked[id] = true
						}
						mu.Unlock()
					}
				}
			}(w)
		}
		time.Sleep(1500 * time.Millisecond)
		n.cmd.Process.Signal(syscall.SIGKILL)
		n.cmd.Wait()
		cancel()
		wg.Wait()
		if len(acked) == 0 {
			t.Fatalf("no batch was acknowledged before the kill:\n%s", n.stderr)
		}

		n2 := start(t, storeArgs, journal...)
		// A journaled batch is stored after the restart, while the node
		// already serves: wait until the journal's backlog is stored.
		var stats map[string]any
		for deadline := time.Now().Add(60 * time.Second); ; {
			var st int
			st, stats = call(t, "GET", "http://"+n2.addr+"/api/v1/stats", bearer, "")
			if st != 200 {
				t.Fatalf("stats after restart: %d %v", st, stats)
			}
			backlog, ok := stats["ingest_backlog"].(float64)
			if ok != journaled {
				t.Fatalf("stats after restart: %v; want ingest_backlog only when journaling", stats)
			}
			if backlog == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the journal's backlog was not stored within a minute: %v\n%s", stats, n2.stderr)
			}
			time.Sleep(50 * time.Millisecond)
		}
		got := int(stats["interactions"].(float64))
		if got < len(acked) {
			t.Fatalf("after SIGKILL %d interactions stored, but %d were acknowledged", got, len(acked))
		}
		// And each acknowledged event by its message id, read from the store itself.
		n2.cmd.Process.Signal(syscall.SIGTERM)
		n2.cmd.Wait()
		cfg := store.Config{DataDir: storeArgs[1]}
		if storeArgs[0] == "--db" {
			cfg = store.Config{URL: storeArgs[1]}
		}
		db, err := store.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query(context.Background(), "SELECT external_id FROM interactions WHERE source LIKE 'segment:%'")
		if err != nil {
			t.Fatal(err)
		}
		stored := map[string]bool{}
		for rows.Next() {
			var id string
			rows.Scan(&id)
			stored[id] = true
		}
		rows.Close()
		for id := range acked {
			if !stored[id] {
				t.Fatalf("acknowledged event %s is missing after SIGKILL", id)
			}
		}
		// Each visitor is one customer, also when its first events were
		// resolved before the kill and stored after it.
		var visitors int
		if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM identifiers WHERE kind = 'anonymous_id'").Scan(&visitors); err != nil {
			t.Fatal(err)
		}
		if customers := int(stats["customers"].(float64)); customers != visitors || visitors == 0 {
			t.Fatalf("%d customers for %d visitors", customers, visitors)
		}
		t.Logf("%d events acknowledged before SIGKILL, %d stored after restart", len(acked), got)
	})
}

// SIGTERM lets a request in flight finish before the process exits.
func TestGracefulShutdown(t *testing.T) {
	n := start(t, []string{"--data", t.TempDir()})
	// A slow client: the request is sent but its body trickles in.
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+n.addr+"/v1/batch", pr)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	pw.Write([]byte(`{"batch":[`))
	time.Sleep(200 * time.Millisecond)
	n.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	pw.Write([]byte(`]}`))
	pw.Close()
	code := <-done
	// No write key: the server answers 401, which shows it finished the request.
	if code != 401 {
		t.Fatalf("in-flight request got %d during shutdown, want the server's own 401", code)
	}
	if err := n.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, n.stderr)
	}
}

func TestCLIErrorsArePlain(t *testing.T) {
	cmd := exec.Command(binary(t), "token", "create", "--role", "wizard", "--name", "x", "--data", t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--role must be one of") {
		t.Fatalf("bad role: %v %s", err, out)
	}
	cmd = exec.Command(binary(t), "serve", "--db", "mysql://x")
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "postgres://") {
		t.Fatalf("bad db url: %v %s", err, out)
	}
}
