package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// repoRoot is the module's root, where bin/ lives.
func repoRoot(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err)
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// binary builds the switchboard command once for the tests that run it as a process.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "switchboard-it-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "switchboard")
		out, err := exec.Command("go", "build", "-o", binPath, filepath.Join(repoRoot(t), "cmd", "switchboard")).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// proc is a switchboard process with its output kept for failure messages.
type proc struct {
	cmd *exec.Cmd
	out *safeBuffer
}

type safeBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startProc(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	p := &proc{cmd: cmd, out: &safeBuffer{}}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("output of %v:\n%s", args, p.out.String())
		}
	})
	return p
}

// procEnv is the environment of a switchboard process (worker or api) on the stack's database,
// Temporal address and task queue.
func (s *stack) procEnv(temporalAddr string, more ...string) []string {
	return append([]string{"SWITCHBOARD_DATABASE_URL=" + s.dbURL, "TEMPORAL_ADDRESS=" + temporalAddr,
		"SWITCHBOARD_TASK_QUEUE=" + s.taskQueue, "SWITCHBOARD_LOG_FORMAT=text"}, more...)
}

func (p *proc) kill(t *testing.T) {
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	_ = p.cmd.Wait()
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// The worker is killed with SIGKILL while changes are waiting and a close timer falls due; a new
// worker picks everything up and nothing is lost or applied twice.
func TestWorkerKilledMidway(t *testing.T) {
	temporalAddr, _ := services(t)
	s := newStack(t, stackOptions{worker: false, autoClose: 2 * time.Second})
	defer s.close()
	workerEnv := s.procEnv(temporalAddr)
	w := startProc(t, workerEnv, "worker")
	p := s.newPeople(t)

	a := s.createTicket(t, p.agentTok, map[string]any{"subject": "A", "description": "first"})
	b := s.createTicket(t, p.agentTok, map[string]any{"subject": "B"})
	c := s.createTicket(t, p.agentTok, map[string]any{"subject": "C"})
	resolved := decodeTicket(t, s.post(t, p.agentTok, c.ID, "status", map[string]any{"status": "Resolved"}).expect(200))
	w.kill(t)

	// Changes sent while no worker runs wait for one.
	var wg sync.WaitGroup
	results := make([]*resp, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		results[0] = s.post(t, p.agentTok, a.ID, "actions", map[string]any{"type": "public", "body": "while down"})
	}()
	go func() {
		defer wg.Done()
		results[1] = s.post(t, p.agentTok, b.ID, "assign", map[string]any{"ownerId": p.agent})
	}()
	time.Sleep(3 * time.Second)
	require.Equal(t, "Resolved", s.ticket(t, p.agentTok, c.ID).BaseStatus, "no worker, no close yet")

	startProc(t, workerEnv, "worker")
	wg.Wait()
	results[0].expect(200)
	results[1].expect(200)
	eventually(t, 20*time.Second, func() bool { return s.ticket(t, p.agentTok, c.ID).BaseStatus == "Closed" }, "the overdue close fires")

	got := s.ticket(t, p.agentTok, a.ID)
	require.Equal(t, 2, got.ActionCount)
	require.Len(t, got.Actions, 2)
	require.Equal(t, "while down", got.Actions[1].Body)
	require.Equal(t, p.agent, *s.ticket(t, p.agentTok, b.ID).OwnerID)
	closed := s.ticket(t, p.agentTok, c.ID)
	require.False(t, closed.ClosedAt.Before(resolved.ResolvedAt.Add(2*time.Second)), "never early")
}

// temporalServer runs a private Temporal dev server that the test can kill and restart on the
// same database file.
type temporalServer struct {
	port int
	db   string
	cmd  *exec.Cmd
}

func startTemporal(t *testing.T, port int, db string) *temporalServer {
	t.Helper()
	bin := filepath.Join(repoRoot(t), "bin", "temporal")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the Temporal CLI is not in bin/ (make temporal): %v", err)
	}
	cmd := exec.Command(bin, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", fmt.Sprint(port),
		"--db-filename", db, "--log-level", "error", "--search-attribute", "TicketId=Int",
		"--search-attribute", "TicketStatus=Keyword", "--search-attribute", "BaseStatus=Keyword",
		"--search-attribute", "Urgency=Keyword", "--search-attribute", "OwnerId=Keyword", "--search-attribute", "TeamId=Keyword",
		"--search-attribute", "ChatGroup=Keyword", "--search-attribute", "ChatAgent=Keyword", "--search-attribute", "ChatState=Keyword",
		"--search-attribute", "ApprovalState=Keyword", "--search-attribute", "Approvers=KeywordList")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	require.NoError(t, cmd.Start())
	ts := &temporalServer{port: port, db: db, cmd: cmd}
	t.Cleanup(func() { ts.kill() })
	eventually(t, 60*time.Second, func() bool {
		conn, err := net.DialTimeout("tcp", ts.addr(), time.Second)
		if err == nil {
			conn.Close()
		}
		return err == nil
	}, "the Temporal dev server starts")
	return ts
}

func (ts *temporalServer) addr() string { return fmt.Sprintf("127.0.0.1:%d", ts.port) }

func (ts *temporalServer) kill() {
	if ts.cmd.ProcessState == nil {
		_ = ts.cmd.Process.Kill()
		_ = ts.cmd.Wait()
	}
}

// While Temporal is down the API answers 503 with Retry-After, and it recovers by itself.
func TestTemporalOutage(t *testing.T) {
	services(t)
	port := freePort(t)
	db := filepath.Join(t.TempDir(), "temporal.db")
	ts := startTemporal(t, port, db)
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour, temporal: ts.addr()})
	defer s.close()
	p := s.newPeople(t)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Before the outage"})

	ts.kill()
	r := s.call(t, p.agentTok, "POST", "/api/v1/tickets", map[string]any{"subject": "During the outage"})
	r.expectError(503, "unavailable")
	require.NotEmpty(t, r.header.Get("Retry-After"))
	r = s.post(t, p.agentTok, tk.ID, "actions", map[string]any{"type": "public", "body": "during"})
	r.expectError(503, "unavailable")
	s.call(t, "", "GET", "/readyz", nil).expect(503)
	s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil).expect(200) // reads need only PostgreSQL

	startTemporal(t, port, db)
	eventually(t, 60*time.Second, func() bool { return s.call(t, "", "GET", "/readyz", nil).status == 200 }, "ready again")
	eventually(t, 60*time.Second, func() bool {
		return s.post(t, p.agentTok, tk.ID, "actions", map[string]any{"type": "public", "body": "after"}).status == 200
	}, "changes flow again through the same worker")
	s.createTicket(t, p.agentTok, map[string]any{"subject": "After the outage"})
	got := s.ticket(t, p.agentTok, tk.ID)
	require.Equal(t, 1, got.ActionCount, "the change refused during the outage was not applied")
}

// proxy forwards TCP to PostgreSQL and can be cut and restored, to take the database away from
// one Switchboard without stopping the shared server.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	addr   string
}

func startProxy(t *testing.T, target, addr string) *proxy {
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target, addr: ln.Addr().String()}
	go p.serve()
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// cut closes the listener and every connection through it.
func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func TestPostgresOutage(t *testing.T) {
	_, serverURL := services(t)
	base := newStack(t, stackOptions{worker: false, autoClose: time.Hour})
	defer base.close()
	u := mustParse(t, base.dbURL)
	px := startProxy(t, u.Host, "127.0.0.1:0")
	u.Host = px.addr
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour, dbURL: u.String()})
	defer s.close()
	_ = serverURL
	p := s.newPeople(t)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Before"})

	px.cut()
	r := s.call(t, p.agentTok, "GET", "/api/v1/tickets", nil)
	r.expectError(503, "unavailable")
	require.NotEmpty(t, r.header.Get("Retry-After"))
	s.call(t, p.agentTok, "POST", "/api/v1/tickets", map[string]any{"subject": "During"}).expectError(503, "unavailable")
	s.call(t, "", "GET", "/readyz", nil).expect(503)

	startProxy(t, px.target, px.addr)
	eventually(t, 30*time.Second, func() bool { return s.call(t, "", "GET", "/readyz", nil).status == 200 }, "ready again")
	s.post(t, p.agentTok, tk.ID, "actions", map[string]any{"type": "public", "body": "after"}).expect(200)
	s.createTicket(t, p.agentTok, map[string]any{"subject": "After"})
}

// The binary: bad configuration is refused with every variable named; migrate runs twice;
// serve exposes metrics (HTTP and Temporal SDK) and stops cleanly on SIGTERM.
func TestBinary(t *testing.T) {
	temporalAddr, _ := services(t)
	bin := binary(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	require.NoError(t, err, string(out))

	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "SWITCHBOARD_HTTP_ADDR=8080", "SWITCHBOARD_LOG_LEVEL=loud")
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "SWITCHBOARD_HTTP_ADDR=")
	require.Contains(t, string(out), "SWITCHBOARD_LOG_LEVEL=")

	s := newStack(t, stackOptions{worker: false, autoClose: time.Hour})
	defer s.close()
	port := freePort(t)
	env := []string{"SWITCHBOARD_DATABASE_URL=" + s.dbURL, "TEMPORAL_ADDRESS=" + temporalAddr,
		"SWITCHBOARD_TASK_QUEUE=" + s.taskQueue, fmt.Sprintf("SWITCHBOARD_HTTP_ADDR=127.0.0.1:%d", port),
		"SWITCHBOARD_ADMIN_TOKEN=" + s.admin, "SWITCHBOARD_LOG_FORMAT=text"}
	for range 2 {
		m := exec.Command(bin, "migrate")
		m.Env = append(os.Environ(), env...)
		out, err := m.CombinedOutput()
		require.NoError(t, err, string(out))
	}

	tc := exec.Command(bin, "token", "create", "--person", "admin@switchboard.local", "--name", "cli", "--scopes", "tickets:read")
	tc.Env = append(os.Environ(), env...)
	cliToken, err := tc.Output()
	require.NoError(t, err)

	p := startProc(t, env, "serve")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	other := &stack{base: base, router: openAPIRouter(t, base)}
	eventually(t, 30*time.Second, func() bool {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			conn.Close()
		}
		return err == nil
	}, "serve listens")
	eventually(t, 30*time.Second, func() bool { return other.call(t, "", "GET", "/readyz", nil).status == 200 }, "serve is ready")
	var created ticket
	other.call(t, s.admin, "POST", "/api/v1/tickets", map[string]any{"subject": "Through the binary"}).expect(201).decode(&created)

	// A write waiting out a stalled PostgreSQL (longer than an attempt's 10 s) lands, and its
	// failed attempts show in the SDK's metrics and in the log, named.
	release := s.lockTables(t, "EXCLUSIVE", "ticket_actions")
	time.AfterFunc(13*time.Second, release)
	r := other.call(t, s.admin, "POST", fmt.Sprintf("/api/v1/tickets/%d/actions", created.ID),
		map[string]any{"type": "internal", "body": "during a stall"})
	require.Contains(t, []int{200, 202}, r.status, "%s", r.body)
	eventually(t, 40*time.Second, func() bool {
		return other.ticket(t, s.admin, created.ID).ActionCount == 1
	}, "the stalled write lands")
	require.Regexp(t, `activity attempt failed; it is retried.*activity=PersistTicket`, p.out.String())
	require.Regexp(t, `(?m)^temporal_local_activity_execution_failed[^ ]*activity_type="PersistTicket"[^ ]* [1-9]`, scrape(t, base+"/metrics"))
	minted := strings.TrimSpace(string(cliToken))
	other.call(t, minted, "GET", "/api/v1/tickets", nil).expect(200)
	other.call(t, minted, "POST", "/api/v1/tickets", map[string]any{"subject": "x"}).expectError(403, "forbidden")

	metrics := scrape(t, base+"/metrics")
	require.Contains(t, metrics, `switchboard_http_requests_total{method="POST",route="/api/v1/tickets",status="201"} 1`)
	require.Contains(t, metrics, "temporal_", "Temporal SDK metrics are exported")
	require.Contains(t, metrics, "go_goroutines")

	// make run seeds the demo workspace with the binary: it must work on a fresh database, and
	// a second run leaves it as it is.
	for _, want := range []string{"demo customer token", "already seeded"} {
		out, err := exec.Command(bin, "demo", "--url", base, "--token", s.admin).CombinedOutput()
		require.NoError(t, err, string(out))
		require.Contains(t, string(out), want)
	}

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "a clean exit on SIGTERM")
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	require.Contains(t, p.out.String(), "shutting down")
}

func scrape(t *testing.T, url string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "curl", "-sf", url)
	out, err := cmd.Output()
	if err != nil {
		// curl may be missing; fall back to Go.
		return scrapeGo(t, url)
	}
	return string(out)
}

func scrapeGo(t *testing.T, url string) string {
	res, err := httpGet(url)
	require.NoError(t, err)
	var sb strings.Builder
	sc := bufio.NewScanner(strings.NewReader(res))
	for sc.Scan() {
		sb.WriteString(sc.Text() + "\n")
	}
	return sb.String()
}
