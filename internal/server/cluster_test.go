package server

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/config"
	"github.com/arcakms/arca/internal/storage/postgres/pgtest"
)

// proc is an arca server process of a cluster test.
type proc struct {
	*node
	name string
	cmd  *exec.Cmd
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// arcaBinary builds cmd/arca once per test binary.
func arcaBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "arca-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "arca")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/arca").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

var listenLine = regexp.MustCompile(`msg="arca listening" addr=(\S+)`)

// startProc starts an arca process on the shared schema and waits until it
// listens.
func startProc(t *testing.T, dir, name, dsn, schema string) *proc {
	t.Helper()
	cfg := filepath.Join(dir, name+".yaml")
	yaml := fmt.Sprintf("listen: 127.0.0.1:0\nnode: %s\nscheduler_interval: 1s\nstorage:\n  type: postgres\n  dsn: %q\n  schema: %s\naudit:\n  path: %s\n  no_sync: true\n",
		name, dsn, schema, filepath.Join(dir, name+"-audit.log"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(arcaBinary(t), "server", "--config", cfg)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: name, cmd: cmd}
	t.Cleanup(func() { p.kill(syscall.SIGTERM) })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case u := <-urls:
		p.node = &node{t: t, url: u, http: newHTTPClient()}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start", name)
	}
	return p
}

// kill stops the process with sig and waits for it.
func (p *proc) kill(sig syscall.Signal) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	_ = p.cmd.Wait()
}

// TestThreeNodesOnOneDatabase runs three arca processes on one PostgreSQL
// schema: any node serves any request, a rotation on one is used by the
// others within a second, concurrent rotations on all three make exactly
// one version each, and when the leader is killed another node takes over
// the scheduled work.
func TestThreeNodesOnOneDatabase(t *testing.T) {
	t.Parallel()
	dsn, schema := pgtest.DSN(t), pgtest.Schema(t)
	dir := t.TempDir()
	nodes := []*proc{startProc(t, dir, "node-1", dsn, schema), startProc(t, dir, "node-2", dsn, schema), startProc(t, dir, "node-3", dsn, schema)}
	n1 := nodes[0]
	init := n1.must(200, "POST", "/v1/sys/init", map[string]int{"shares": 1, "threshold": 1})
	share := init.body["shares"].([]any)[0]
	for _, n := range nodes {
		n.token = init.str("root_token")
		n.must(200, "POST", "/v1/sys/unseal", map[string]any{"share": share})
	}
	n1.must(201, "POST", "/v1/keys", map[string]string{"name": "shared"})
	pt := base64.StdEncoding.EncodeToString([]byte("hello"))
	encrypt := func(n *proc) (float64, string) {
		r := n.must(200, "POST", "/v1/keys/shared/encrypt", map[string]string{"plaintext": pt})
		return r.body["key_version"].(float64), r.str("ciphertext")
	}
	var cts []string
	for _, n := range nodes {
		v, ct := encrypt(n) // each node now caches version 1
		if v != 1 {
			t.Fatalf("%s encrypted with version %v", n.name, v)
		}
		cts = append(cts, ct)
	}

	// A rotation on node 1 reaches the caches of nodes 2 and 3 within 1 s.
	n1.must(200, "POST", "/v1/keys/shared/rotate", nil)
	rotated := time.Now()
	for _, n := range nodes[1:] {
		for {
			if v, _ := encrypt(n); v == 2 {
				break
			}
			if time.Since(rotated) > time.Second {
				t.Fatalf("%s still encrypts with version 1 after %v", n.name, time.Since(rotated))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Logf("rotation seen by every node after %v", time.Since(rotated))
	// Every node decrypts every node's ciphertext.
	for _, n := range nodes {
		for _, ct := range cts {
			n.must(200, "POST", "/v1/keys/shared/decrypt", map[string]string{"ciphertext": ct})
		}
	}

	// Concurrent rotations on all three nodes: one new version each.
	const perNode = 5
	var wg sync.WaitGroup
	for _, n := range nodes {
		for range perNode {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r := n.call("POST", "/v1/keys/shared/rotate", nil); r.status != 200 {
					t.Errorf("%s rotate: %d %s", n.name, r.status, r.raw)
				}
			}()
		}
	}
	wg.Wait()
	want := 2 + 3*perNode
	// Node 3 serves key metadata from its cache, which a rotation on
	// another node updates through the change notification: the newest
	// version must reach it within the same second, and no more versions
	// than rotations may ever appear.
	rotated = time.Now()
	for {
		key := nodes[2].must(200, "GET", "/v1/keys/shared", nil)
		v := int(key.body["primary_version"].(float64))
		if v == want {
			break
		}
		if v > want || time.Since(rotated) > time.Second {
			t.Fatalf("primary version %v after %d rotations, want %d", v, 3*perNode+1, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	versions := nodes[1].must(200, "GET", "/v1/keys/shared/versions?limit=1000", nil)
	if got := len(versions.body["versions"].([]any)); got != want {
		t.Fatalf("%d versions, want %d", got, want)
	}

	// Usage bounds hold across nodes: each takes its own blocks of a
	// version's shared counter, so no version encrypts more than its bound
	// however the encryptions are spread, and taking blocks (a storage
	// write, seen by every node) does not wear a version out faster.
	nodes[0].must(201, "POST", "/v1/keys", map[string]any{"name": "bounded", "usage_bound": 40})
	nodes[0].must(201, "POST", "/v1/keys", map[string]any{"name": "steady"})
	perVersion := map[float64]int{}
	var mu sync.Mutex
	for i, n := range nodes {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 30 {
					r := n.must(200, "POST", "/v1/keys/bounded/encrypt", map[string]string{"plaintext": pt})
					s := n.must(200, "POST", "/v1/keys/steady/encrypt", map[string]string{"plaintext": pt})
					mu.Lock()
					perVersion[r.body["key_version"].(float64)]++
					if v := s.body["key_version"].(float64); v != 1 {
						t.Errorf("node %d: the steady key was rotated to %v", i+1, v)
					}
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	for v, count := range perVersion {
		if count > 40 {
			t.Fatalf("version %v did %d encryptions, over its bound of 40 (%v)", v, count, perVersion)
		}
	}
	if len(perVersion) < 360/40 {
		t.Fatalf("360 encryptions under a bound of 40 used only versions %v", perVersion)
	}

	// Exactly one leader; kill it and another takes over the scheduled
	// work: activating a key at its activate_at.
	leader := func(among []*proc) *proc {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			var leaders []*proc
			for _, n := range among {
				h := n.call("GET", "/v1/health", nil)
				if h.str("storage") != "ok" || h.str("node") != n.name {
					t.Fatalf("%s health: %s", n.name, h.raw)
				}
				if h.str("role") == "leader" {
					leaders = append(leaders, n)
				}
			}
			if len(leaders) == 1 {
				return leaders[0]
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatal("no single leader")
		return nil
	}
	old := leader(nodes)
	old.kill(syscall.SIGKILL)
	var rest []*proc
	for _, n := range nodes {
		if n != old {
			rest = append(rest, n)
		}
	}
	killed := time.Now()
	next := leader(rest)
	t.Logf("%s killed; %s leads after %v", old.name, next.name, time.Since(killed))
	at := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)
	rest[0].must(201, "POST", "/v1/keys", map[string]string{"name": "later", "activate_at": at})
	deadline := time.Now().Add(20 * time.Second)
	for rest[1].must(200, "GET", "/v1/keys/later", nil).str("state") != "active" {
		if time.Now().After(deadline) {
			t.Fatal("the key was not activated on time after the leader died")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The activation is in the new leader's audit log.
	b, err := os.ReadFile(filepath.Join(dir, next.name+"-audit.log"))
	if err != nil || !regexp.MustCompile(`"operation":"key.lifecycle.activate.scheduled"`).Match(b) {
		t.Fatalf("the scheduled activation is not in %s's audit log (%v)", next.name, err)
	}
}

// TestDatabaseOutage: with PostgreSQL unreachable mid-run, writes fail fast
// with 503 storage_unavailable (changing nothing), health says so, and
// everything works again, without a restart, once the database is back.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	proxy := pgtest.StartProxy(t)
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Storage = config.Storage{Type: "postgres", DSN: pgtest.Via(t, proxy.Addr()), Schema: pgtest.Schema(t), Timeout: 2 * time.Second}
	n := startWith(t, dir, cfg, Options{})
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "before"})
	pt := base64.StdEncoding.EncodeToString([]byte("x"))
	n.must(200, "POST", "/v1/keys/before/encrypt", map[string]string{"plaintext": pt})

	proxy.Cut()
	start := time.Now()
	wantError(t, n.call("POST", "/v1/keys", map[string]string{"name": "during"}), 503, "storage_unavailable")
	wantError(t, n.call("POST", "/v1/keys/before/rotate", nil), 503, "storage_unavailable")
	// Every request authenticates against the database: with the default
	// (no grace period), encryption stops too rather than trusting a
	// token that may have been revoked meanwhile.
	wantError(t, n.call("POST", "/v1/keys/before/encrypt", map[string]string{"plaintext": pt}), 503, "storage_unavailable")
	if h := n.call("GET", "/v1/health", nil); h.status != 503 || h.str("storage") != "unreachable" || h.body["sealed"] != false {
		t.Fatalf("health during the outage: %d %s", h.status, h.raw)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("failing took %v", d)
	}

	proxy.Restore()
	n.waitHealthy()
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "after"})
	n.must(200, "POST", "/v1/keys/before/rotate", nil)
	n.must(200, "POST", "/v1/keys/after/encrypt", map[string]string{"plaintext": pt})
	wantError(t, n.call("GET", "/v1/keys/during", nil), 404, "key_not_found")
}

// TestDatabaseOutageGrace: with storage.outage_grace, credentials and keys
// used just before the outage keep working for cryptography, marked in the
// audit trail; everything else, and any credential not seen before, fails
// as storage_unavailable; after the grace period cryptography stops too.
func TestDatabaseOutageGrace(t *testing.T) {
	t.Parallel()
	proxy := pgtest.StartProxy(t)
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Storage = config.Storage{Type: "postgres", DSN: pgtest.Via(t, proxy.Addr()), Schema: pgtest.Schema(t), Timeout: 2 * time.Second, OutageGrace: 3 * time.Second}
	n := startWith(t, dir, cfg, Options{})
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "k"})
	pt := base64.StdEncoding.EncodeToString([]byte("x"))
	ct := n.must(200, "POST", "/v1/keys/k/encrypt", map[string]string{"plaintext": pt}).str("ciphertext")
	// A second token that is created but never used before the outage.
	n.must(201, "POST", "/v1/identities", map[string]any{"name": "app", "type": "service", "roles": []map[string]string{{"role": "crypto-user"}}})
	unseen := n.must(201, "POST", "/v1/identities/app/tokens", map[string]string{"ttl": "1h"}).str("token")

	proxy.Cut()
	outage := time.Now()
	n.must(200, "POST", "/v1/keys/k/encrypt", map[string]string{"plaintext": pt})
	n.must(200, "POST", "/v1/decrypt", map[string]string{"ciphertext": ct})
	wantError(t, n.call("POST", "/v1/keys", map[string]string{"name": "during"}), 503, "storage_unavailable")
	wantError(t, n.callWith("POST", "/v1/keys/k/encrypt", unseen, "application/json", map[string]string{"plaintext": pt}), 503, "storage_unavailable")
	time.Sleep(time.Until(outage.Add(3500 * time.Millisecond)))
	wantError(t, n.call("POST", "/v1/keys/k/encrypt", map[string]string{"plaintext": pt}), 503, "storage_unavailable")

	proxy.Restore()
	n.waitHealthy()
	n.must(200, "POST", "/v1/keys/k/encrypt", map[string]string{"plaintext": pt})
	b, err := os.ReadFile(cfg.Audit.Path)
	if err != nil || !bytes.Contains(b, []byte(`"auth_method":"token+outage"`)) {
		t.Fatalf("the audit trail does not mark requests served during the outage (%v)", err)
	}
}

// waitHealthy waits until the node's health is 200 again.
func (n *node) waitHealthy() {
	n.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for n.call("GET", "/v1/health", nil).status != 200 {
		if time.Now().After(deadline) {
			n.t.Fatal("no recovery")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
