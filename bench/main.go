// Command bench measures Switchboard against baselines taken in the same run, on the services
// scripts/bench.sh starts (SWITCHBOARD_TEST_TEMPORAL_ADDRESS, SWITCHBOARD_TEST_DATABASE_URL).
//
// ticket-create: tickets created through the API (HTTP -> validation -> workflow start ->
// row) by N concurrent clients, against starting an empty workflow with the same options on the
// same Temporal server, run by the same worker, at the same concurrency. Both sides pay for the
// workflow's first task, so the ratio is the cost of Switchboard's own work per ticket.
// Target: ratio >= 0.6 at 32 clients.
//
// rules: 1,000 enabled triggers evaluated against one event, compiled once and cached, against
// compiling them each time. Target: under 1 ms per event at the median.
//
// received-call: asterisk_receivedCall latency while 50 simulated calls run at once (each rings,
// is put through or abandoned, talks, ends, and starts over), next to a plain PostgreSQL round
// trip (SELECT 1) at the same concurrency. Target: p99 under 100 ms.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/activities"
	"github.com/switchboardhq/switchboard/api"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/worker"
)

func main() {
	clients := flag.Int("clients", 32, "ticket-create: concurrent clients")
	duration := flag.Duration("duration", 8*time.Second, "ticket-create: measuring time per round and side")
	callTime := flag.Duration("call-duration", 30*time.Second, "received-call: how long calls keep arriving")
	rounds := flag.Int("rounds", 2, "ticket-create: alternating rounds of baseline and API")
	calls := flag.Int("calls", 50, "received-call: simultaneous simulated calls")
	only := flag.String("only", "", "run one benchmark: rules, ticket-create, received-call, sla, sla-burst, lifecycle, messenger, upload, chat, chat-drain, chat-delivery, approvals, config-rollout or open-tickets")
	slaTickets := flag.Int("sla-tickets", 1000, "sla: tickets with deadlines")
	flag.Parse()
	if *only == "" || *only == "rules" {
		if err := benchRules(200); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		if *only == "rules" {
			return
		}
	}
	if err := run(*clients, *duration, *rounds, *calls, *callTime, *slaTickets, *only); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Empty is the baseline workflow: it does nothing.
func Empty(ctx workflow.Context) error { return nil }

type result struct {
	count     int
	failures  int64
	elapsed   time.Duration
	latencies []time.Duration
}

func (r result) rate() float64 { return float64(r.count) / r.elapsed.Seconds() }

func (r result) pct(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.latencies)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func (r *result) add(o result) {
	r.count += o.count
	r.failures += o.failures
	r.elapsed += o.elapsed
	r.latencies = append(r.latencies, o.latencies...)
}

// measure runs op from n goroutines for d and collects every latency.
func measure(n int, d time.Duration, op func() error) result {
	var mu sync.Mutex
	var res result
	var failures atomic.Int64
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(stop) {
				t0 := time.Now()
				if err := op(); err != nil {
					if failures.Add(1) <= 3 {
						fmt.Fprintln(os.Stderr, "bench: operation failed:", err)
					}
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			res.latencies = append(res.latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.count = len(res.latencies)
	res.failures = failures.Load()
	return res
}

func run(clients int, d time.Duration, rounds, calls int, callTime time.Duration, slaTickets int, only string) error {
	temporalAddr, serverURL := os.Getenv("SWITCHBOARD_TEST_TEMPORAL_ADDRESS"), os.Getenv("SWITCHBOARD_TEST_DATABASE_URL")
	if temporalAddr == "" || serverURL == "" {
		return fmt.Errorf("SWITCHBOARD_TEST_TEMPORAL_ADDRESS and SWITCHBOARD_TEST_DATABASE_URL must be set: run `make bench`")
	}
	ctx := context.Background()
	u, err := url.Parse(serverURL)
	if err != nil {
		return err
	}
	name := "sb_bench_" + randomHex()
	u.Path = "/" + name
	if err := schema.EnsureDatabase(ctx, u.String()); err != nil {
		return err
	}
	db := schema.Open(u.String())
	defer func() {
		db.Close()
		admin := schema.Open(serverURL)
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	}()
	if _, err := schema.Migrate(ctx, db); err != nil {
		return err
	}
	start, _ := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
	if _, err := db.ExecContext(ctx, fmt.Sprintf("ALTER SEQUENCE ticket_id_seq RESTART WITH %d", start.Int64()*1000+1)); err != nil {
		return err
	}
	token := api.NewToken()
	if _, err := api.EnsureAdmin(ctx, db, token); err != nil {
		return err
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tc, err := client.Dial(client.Options{HostPort: temporalAddr, Logger: log})
	if err != nil {
		return err
	}
	defer tc.Close()
	queue := "bench-" + randomHex()
	w := worker.New(tc, &activities.Activities{DB: db, Temporal: tc}, worker.DefaultOptions().WithTaskQueue(queue))
	w.RegisterWorkflowWithOptions(Empty, workflow.RegisterOptions{Name: "BenchEmpty"})
	registerScale(w)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	cfg := api.DefaultConfig()
	cfg.TaskQueue = queue
	cfg.RateLimit = 0 // the benchmark's one token makes thousands of requests a minute
	app := api.New(db, tc, cfg, log, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = app.Listener(ln) }()
	defer app.Shutdown()
	root := "http://" + ln.Addr().String()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: max(clients, calls) * 2}, Timeout: 30 * time.Second}
	sc := &scale{ctx: ctx, db: db, tc: tc, hc: hc, root: root, token: token, queue: queue, log: log}
	if err := sc.run(only, slaTickets); err != nil {
		return err
	}
	if only == "" || only == "approvals" {
		if err := sc.benchApprovals(); err != nil {
			return fmt.Errorf("approvals: %w", err)
		}
	}
	if only == "" || only == "config-rollout" {
		if err := benchConfigRollout(ctx, db, tc, hc, root, token, rolloutN()); err != nil {
			return err
		}
	}
	if only == "" || only == "received-call" {
		if err := benchReceivedCall(ctx, db, hc, root, token, calls, callTime); err != nil {
			return err
		}
	}
	if only != "" && only != "ticket-create" { // rules ran before the services were set up
		return sc.runLast(only)
	}

	body := map[string]any{"subject": "Benchmark ticket", "description": "Measured creation", "urgency": "Medium", "tags": []string{"bench"}}
	createTicket := func() error { return apiCall(hc, root, token, "POST", "/api/v1/tickets", body, nil) }
	startEmpty := func() error {
		_, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "bench-empty/" + randomHex() + randomHex(),
			TaskQueue: queue, WorkflowExecutionErrorWhenAlreadyStarted: true, EnableEagerStart: true}, "BenchEmpty")
		return err
	}

	fmt.Printf("ticket-create: %d clients, %d rounds x %s per side; backend: Temporal CLI dev server (SQLite file, WAL) + local PostgreSQL\n",
		clients, rounds, d)
	measure(clients, 2*time.Second, startEmpty) // warm up both paths
	measure(clients, 2*time.Second, createTicket)
	var bare, viaAPI result
	for range rounds {
		bare.add(measure(clients, d, startEmpty))
		viaAPI.add(measure(clients, d, createTicket))
	}
	report := func(label string, r result) {
		fmt.Printf("  %-34s %8.1f /s   p50 %6.1f ms   p99 %6.1f ms   (%d done, %d failed)\n", label, r.rate(),
			ms(r.pct(0.50)), ms(r.pct(0.99)), r.count, r.failures)
	}
	report("baseline: start empty workflow", bare)
	report("API: POST /api/v1/tickets", viaAPI)
	ratio := viaAPI.rate() / bare.rate()
	verdict := "meets"
	if ratio < 0.8 {
		verdict = "MISSES"
	}
	fmt.Printf("  ratio API/baseline: %.2f (%s the 0.8 target)\n\n", ratio, verdict)
	return sc.runLast(only)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func apiCall(hc *http.Client, root, token, method, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, _ := http.NewRequest(method, root+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}
