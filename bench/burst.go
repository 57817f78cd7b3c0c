package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

var (
	burstCount = flag.Int("burst", 1000, "sla-burst: deadlines (and bare timers) falling inside one second")
	burstLead  = flag.Duration("burst-lead", 60*time.Second, "sla-burst: how far ahead the burst is set up")
)

// benchSLABurst: n SLA deadlines falling inside the same second (as after a bulk import or a
// calendar edit), breach lateness p50/p99/max, next to n bare Temporal timers falling inside
// one second, measured first in the same run on the same worker. Target: breach p99 under 5 s.
func (s *scale) benchSLABurst(n int) error {
	fmt.Printf("sla-burst: %d deadlines inside one second; backend: %s\n", n, backend)
	within := func(at time.Time) []time.Time {
		dues := make([]time.Time, n)
		for i := range dues {
			dues[i] = at.Add(time.Duration(rand.IntN(1000)) * time.Millisecond).UTC()
		}
		return dues
	}
	// The instant is burstLead ahead, so that every timer is set before it: a setup that
	// overruns it would measure the setup, and is reported.
	overrun := func(what string, at time.Time) {
		if left := time.Until(at); left < 5*time.Second {
			fmt.Printf("  (%s left %.1f s before the burst: the figures include setup; raise -burst-lead)\n", what, left.Seconds())
		}
	}
	at := time.Now().Add(*burstLead).Truncate(time.Second)
	bare, err := s.bareTimers(within(at), func() { overrun("starting the timers", at) })
	if err != nil {
		return err
	}
	ids, err := s.createTickets(n, map[string]any{"subject": "SLA burst bench"})
	if err != nil {
		return err
	}
	at = time.Now().Add(*burstLead).Truncate(time.Second)
	if err := s.setDues(ids, within(at)); err != nil {
		return err
	}
	overrun("setting the deadlines", at)
	time.Sleep(time.Until(at) + 2*time.Second)
	late, err := s.waitBreaches(ids, 180*time.Second)
	if err != nil {
		return err
	}
	lateness(bare).print("baseline: bare timers", fmt.Sprintf("(%d timers)", len(bare)))
	late.print("SLA breaches", fmt.Sprintf("(%d of %d breaches recorded)", len(late), n))
	verdict := "meets"
	if late.pct(0.99) >= 5*time.Second || len(late) < n {
		verdict = "MISSES"
	}
	fmt.Printf("  breach p99 %.0f ms (%s the 5 s target); p99 breach/bare: %.2f\n\n", ms(late.pct(0.99)), verdict,
		float64(late.pct(0.99))/float64(max(lateness(bare).pct(0.99), time.Millisecond)))
	return nil
}

// setDues sets each ticket's resolution deadline by hand, 32 at a time.
func (s *scale) setDues(ids []int64, dues []time.Time) error {
	var mu sync.Mutex
	var failed error
	parallel(32, len(ids), func(i int) {
		due := dues[i]
		h, err := s.tc.UpdateWorkflow(s.ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.TicketWorkflowID(ids[i]),
			UpdateName: workflows.UpdateSetSLADue, WaitForStage: client.WorkflowUpdateStageCompleted,
			Args: []any{workflows.SetSLADueInput{Actor: workflows.Actor{ID: "bench", Role: schema.RoleAgent}, SolutionDue: &due}}})
		if err == nil {
			err = h.Get(s.ctx, nil)
		}
		if err != nil {
			mu.Lock()
			failed = err
			mu.Unlock()
		}
	})
	return failed
}

// waitBreaches waits until every ticket's breach is recorded, or up to patience, and returns
// the lateness of those recorded.
func (s *scale) waitBreaches(ids []int64, patience time.Duration) (lateness, error) {
	deadline := time.Now().Add(patience)
	for {
		late, err := s.breachLateness(ids)
		if err != nil || len(late) >= len(ids) || time.Now().After(deadline) {
			return late, err
		}
		time.Sleep(500 * time.Millisecond)
	}
}
