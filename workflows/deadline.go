package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// deadlineTimerVersion marks runs whose waits keep one timer per deadline. Before it, every wait
// went through workflow.AwaitWithTimeout, which in SDK v1.50 leaves its timer running when the
// condition wins (the SDK flag that would cancel it is off by default): a ticket woken by fifty
// updates while its SLA was eight hours away held fifty timers, and all fifty fired together at
// the deadline — fifty workflow tasks and history events for one breach, and a distributor woken
// by every chat event piled up timers by the thousand (its 1,000-chat test exposed it).
const deadlineTimerVersion = "deadline-timer"

// deadline is the one durable timer a workflow's main loop waits on. A wait for the instant the
// timer already counts to reuses it; a wait for another instant cancels it and starts one for
// the new instant. So the history holds one TimerStarted per distinct deadline, and a timer
// left behind never fires.
type deadline struct {
	legacy bool // a run recorded before deadlineTimerVersion: replay its AwaitWithTimeout calls
	at     time.Time
	timer  workflow.Future
	cancel workflow.CancelFunc
}

// newDeadline decides once per run, at its start, which way this run waits.
func newDeadline(ctx workflow.Context) *deadline {
	v := workflow.GetVersion(ctx, deadlineTimerVersion, workflow.DefaultVersion, 1)
	return &deadline{legacy: v == workflow.DefaultVersion}
}

// await blocks until cond holds (woke) or the instant at is reached (not woke), like
// workflow.AwaitWithTimeout(at − now, cond), with cond winning when both hold.
func (d *deadline) await(ctx workflow.Context, at time.Time, cond func() bool) (woke bool, err error) {
	if d.legacy {
		return workflow.AwaitWithTimeout(ctx, max(at.Sub(workflow.Now(ctx)), 0), cond)
	}
	if d.timer == nil || !d.at.Equal(at) {
		d.stop()
		var tctx workflow.Context
		tctx, d.cancel = workflow.WithCancel(ctx)
		d.at, d.timer = at, workflow.NewTimer(tctx, max(at.Sub(workflow.Now(ctx)), 0))
	}
	if err := workflow.Await(ctx, func() bool { return cond() || d.timer.IsReady() }); err != nil {
		return false, err
	}
	if cond() {
		return true, nil
	}
	// Fired: the next wait, even for the same instant, counts afresh.
	d.timer, d.cancel = nil, nil
	return false, nil
}

// stop cancels the pending timer, if any: the loop no longer waits for its instant.
func (d *deadline) stop() {
	if d.cancel != nil && d.timer != nil && !d.timer.IsReady() {
		d.cancel()
	}
	d.timer, d.cancel = nil, nil
}
