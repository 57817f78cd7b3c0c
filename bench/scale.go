package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// The scale figures: events per ticket lifecycle (lifecycle.go), SLA deadlines in a burst and
// spread out next to bare Temporal timers (burst.go, sla.go), and many open tickets with live
// SLA timers on one worker (open_tickets.go).

const backend = "Temporal CLI dev server (SQLite file, WAL) + local PostgreSQL, worker in the bench process"

// scale is what the scale scenarios share: the services, the in-process worker's task queue
// and the API it serves.
type scale struct {
	ctx   context.Context
	db    *bun.DB
	tc    client.Client
	hc    *http.Client
	root  string
	token string
	queue string
	log   *slog.Logger
}

// registerScale registers the baselines the scale scenarios compare against.
func registerScale(w interface {
	RegisterWorkflowWithOptions(any, workflow.RegisterOptions)
}) {
	w.RegisterWorkflowWithOptions(SleepUntil, workflow.RegisterOptions{Name: "BenchSleepUntil"})
	w.RegisterWorkflowWithOptions(BenchEcho, workflow.RegisterOptions{Name: "BenchEcho"})
}

// SleepUntil is the bare-timer baseline: one durable timer until the instant. It returns when
// its timer was armed and the workflow time at which it woke (the start of the task that saw
// the timer fire), as the ticket workflow records the time of a breach.
func SleepUntil(ctx workflow.Context, until time.Time) (Slept, error) {
	armed := workflow.Now(ctx)
	if err := workflow.Sleep(ctx, max(until.Sub(armed), 0)); err != nil {
		return Slept{}, err
	}
	return Slept{Armed: armed, Woke: workflow.Now(ctx)}, nil
}

// Slept is what SleepUntil reports.
type Slept struct{ Armed, Woke time.Time }

// bareTimers starts one SleepUntil per instant (eagerly, as the empty-workflow baseline starts)
// and returns how late each woke; started, if given, is called once all are started. A timer
// armed only after its instant measured its start, not its firing: it is counted and reported.
func (s *scale) bareTimers(dues []time.Time, started func()) ([]time.Duration, error) {
	runs := make([]client.WorkflowRun, len(dues))
	var mu sync.Mutex
	var failed error
	prefix := "bench-timer/" + randomHex() + "/"
	parallel(32, len(dues), func(i int) {
		run, err := s.tc.ExecuteWorkflow(s.ctx, client.StartWorkflowOptions{ID: prefix + strconv.Itoa(i), TaskQueue: s.queue,
			WorkflowExecutionErrorWhenAlreadyStarted: true, EnableEagerStart: true}, "BenchSleepUntil", dues[i])
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed = err
		}
		runs[i] = run
	})
	if failed != nil {
		return nil, failed
	}
	if started != nil {
		started()
	}
	// Collect the results once every timer is due: no long poll for them weighs on the burst
	// (the SLA side reads its breaches from PostgreSQL afterwards as well).
	last := slices.MaxFunc(dues, func(a, b time.Time) int { return a.Compare(b) })
	time.Sleep(time.Until(last) + 2*time.Second)
	late := make([]time.Duration, len(dues))
	armedLate := 0
	parallel(32, len(dues), func(i int) {
		var r Slept
		err := runs[i].Get(s.ctx, &r)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed = err
		}
		if r.Armed.After(dues[i]) {
			armedLate++
		}
		late[i] = r.Woke.Sub(dues[i])
	})
	if armedLate > 0 {
		fmt.Printf("  (%d bare timers were armed only after their instant: the setup overran it)\n", armedLate)
	}
	return late, failed
}

// lateness prints p50/p99/max of a set of delays.
type lateness []time.Duration

func (l lateness) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func (l lateness) max() time.Duration { return l.pct(1) }

func (l lateness) print(label string, extra string) {
	fmt.Printf("  %-34s p50 %8.1f ms   p99 %8.1f ms   max %8.1f ms   %s\n", label, ms(l.pct(0.5)), ms(l.pct(0.99)), ms(l.max()), extra)
}

// breachLateness is how late each recorded breach of the tickets was (recorded minus due).
func (s *scale) breachLateness(ids []int64) (lateness, error) {
	var late []time.Duration
	err := s.db.NewRaw(`SELECT (extract(epoch FROM at - due_at) * 1e9)::bigint FROM sla_events
		WHERE type = 'breached' AND ticket_id IN (?)`, bun.In(ids)).Scan(s.ctx, &late)
	return late, err
}

// createTickets creates n tickets through the API with the body, 32 at a time.
func (s *scale) createTickets(n int, body map[string]any) ([]int64, error) {
	ids := make([]int64, n)
	var mu sync.Mutex
	var failed error
	parallel(32, n, func(i int) {
		var t struct{ ID int64 }
		if err := apiCall(s.hc, s.root, s.token, "POST", "/api/v1/tickets", body, &t); err != nil {
			mu.Lock()
			failed = err
			mu.Unlock()
			return
		}
		ids[i] = t.ID
	})
	return ids, failed
}

// rssKB is this process's resident set size (VmRSS of /proc/self/status), in KiB.
func rssKB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// intEnv is the integer in the environment variable, or def.
func intEnv(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// run runs the scale scenarios that come before the others: lifecycle, sla-burst, sla.
func (s *scale) run(only string, slaTickets int) error {
	for _, b := range []struct {
		name string
		f    func() error
	}{
		{"lifecycle", s.benchLifecycle},
		{"sla-burst", func() error { return s.benchSLABurst(*burstCount) }},
		{"sla", func() error { return s.benchSLA(slaTickets) }},
		{"messenger", s.benchMessengerDelivery},
		{"upload", s.benchUpload},
		{"chat", s.benchChat},
		{"chat-drain", s.benchChatDrain},
		{"chat-delivery", s.benchChatDelivery},
	} {
		if only == "" || only == b.name {
			if err := b.f(); err != nil {
				return fmt.Errorf("%s: %w", b.name, err)
			}
		}
	}
	return nil
}

// runLast runs open-tickets, after every other benchmark: the tickets it leaves open would
// weigh on their figures.
func (s *scale) runLast(only string) error {
	if only == "" || only == "open-tickets" {
		return s.benchOpenTickets(*openTickets)
	}
	return nil
}
