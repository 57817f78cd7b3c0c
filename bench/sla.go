package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// benchSLA gives n tickets resolution deadlines spread over the next 30-90 seconds and measures
// how late each breach is recorded (recorded time minus due time): p50, p99, max, next to the
// granularity of a once-a-minute poller. Target: p99 under 1 s.
func benchSLA(ctx context.Context, db *bun.DB, tc client.Client, hc *http.Client, root, token string, n int) error {
	ids := make([]int64, n)
	var mu sync.Mutex
	var failed error
	parallel(32, n, func(i int) {
		var t struct{ ID int64 }
		if err := apiCall(hc, root, token, "POST", "/api/v1/tickets", map[string]any{"subject": "SLA bench"}, &t); err != nil {
			mu.Lock()
			failed = err
			mu.Unlock()
			return
		}
		ids[i] = t.ID
	})
	if failed != nil {
		return failed
	}
	var last time.Time
	parallel(32, n, func(i int) {
		due := time.Now().Add(30*time.Second + time.Duration(rand.IntN(60_000))*time.Millisecond).UTC()
		h, err := tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.TicketWorkflowID(ids[i]),
			UpdateName: workflows.UpdateSetSLADue, WaitForStage: client.WorkflowUpdateStageCompleted,
			Args: []any{workflows.SetSLADueInput{Actor: workflows.Actor{ID: "bench", Role: schema.RoleAgent}, SolutionDue: &due}}})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed = err
		} else if due.After(last) {
			last = due
		}
	})
	if failed != nil {
		return failed
	}
	fmt.Printf("sla: %d tickets, resolution deadlines spread over 30-90 s, waiting for the last (%s)...\n", n, time.Until(last).Round(time.Second))
	time.Sleep(time.Until(last) + 5*time.Second)
	var late []time.Duration
	err := db.NewRaw(`SELECT (extract(epoch FROM at - due_at) * 1e9)::bigint FROM sla_events
		WHERE type = 'breached' AND ticket_id IN (?)`, bun.In(ids)).Scan(ctx, &late)
	if err != nil {
		return err
	}
	if len(late) == 0 {
		return fmt.Errorf("no breach was recorded")
	}
	slices.Sort(late)
	pct := func(p float64) time.Duration { return late[min(len(late)-1, int(float64(len(late))*p))] }
	fmt.Printf("  %-34s p50 %8.0f ms   p99 %8.0f ms   max %8.0f ms\n", "baseline: once-a-minute poller", 30000.0, 59400.0, 60000.0)
	fmt.Printf("  %-34s p50 %8.1f ms   p99 %8.1f ms   max %8.1f ms   (%d of %d breaches recorded)\n", "durable timers: breach lateness",
		ms(pct(0.5)), ms(pct(0.99)), ms(late[len(late)-1]), len(late), n)
	verdict := "meets"
	if pct(0.99) >= time.Second || len(late) < n {
		verdict = "MISSES"
	}
	fmt.Printf("  p99 %.0f ms (%s the 1 s target)\n\n", ms(pct(0.99)), verdict)
	return nil
}

// parallel runs f(0..n-1) on `workers` goroutines.
func parallel(workers, n int, f func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
