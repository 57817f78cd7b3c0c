package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// pages stands in for the open tickets in PostgreSQL: ids 1..n, a page at a time, and fails
// the given attempt once (a worker killed mid-page).
type pages struct {
	mu     sync.Mutex
	n      int64
	asked  []int64
	failAt int
	// tails are the CreatedSince of each tail page asked for (which this stand-in answers
	// with no tickets).
	tails []time.Time
}

func (p *pages) SignalOpenTickets(_ context.Context, in RolloutPageInput) (RolloutPage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if in.CreatedSince != nil {
		p.tails = append(p.tails, *in.CreatedSince)
		return RolloutPage{Done: true}, nil
	}
	p.asked = append(p.asked, in.After)
	if len(p.asked) == p.failAt {
		return RolloutPage{}, errors.New("worker lost")
	}
	last := min(in.After+int64(in.Limit), p.n)
	return RolloutPage{Last: last, Signalled: int(last - in.After), Done: last-in.After < int64(in.Limit)}, nil
}

// The rollout walks the open tickets page by page from the cursor it keeps, retries a page that
// failed from the same cursor, and signals every ticket once per successful page.
func TestConfigRolloutPagesFromItsCursor(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	p := &pages{n: 2500, failAt: 2}
	env.RegisterWorkflowWithOptions(ConfigRollout, workflow.RegisterOptions{Name: ConfigRolloutWorkflowType})
	env.RegisterActivityWithOptions(p.SignalOpenTickets, activity.RegisterOptions{Name: ActivitySignalOpenTickets})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalChangesRecorded, ConfigChanged{ChangeID: 9}) }, 0)
	var started []time.Time
	env.SetOnActivityStartedListener(func(*activity.Info, context.Context, converter.EncodedValues) {
		started = append(started, env.Now())
	})
	begin := env.Now()
	env.ExecuteWorkflow(ConfigRolloutWorkflowType, ConfigRolloutInput{})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res ConfigRolloutResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 2500, res.Signalled)
	require.Equal(t, []int64{0, 1000, 1000, 2000}, p.asked, "the failed page is retried from its cursor")

	// The tail: RolloutTailDelay after the last page, the tickets created since a minute
	// before the pass began, once.
	require.Len(t, p.tails, 1)
	require.WithinDuration(t, begin.Add(-RolloutTailWindow), p.tails[0], time.Second)
	last, tail := started[len(started)-2], started[len(started)-1]
	require.Equal(t, RolloutTailDelay, tail.Sub(last).Round(time.Second))
}

func TestConfigReason(t *testing.T) {
	require.Equal(t, "SLA policy p1 edited, calendar c1 deleted", ConfigReason([]ConfigChange{
		{Entity: "sla_policies", EntityID: "p1", Op: "UPDATE"}, {Entity: "calendars", EntityID: "c1", Op: "DELETE"}}))
}

// slowPages is pages that also records which change each page rolled out.
type slowPages struct {
	pages
	changes []int64
}

func (p *slowPages) SignalOpenTickets(ctx context.Context, in RolloutPageInput) (RolloutPage, error) {
	p.mu.Lock()
	if in.CreatedSince == nil {
		p.changes = append(p.changes, in.Change.ChangeID)
	}
	p.mu.Unlock()
	return p.pages.SignalOpenTickets(ctx, in)
}

// Edits recorded while a pass runs are rolled out together by one more pass from the first
// ticket, whatever their number; then the rollout ends.
func TestConfigRolloutCoalescesEditsMadeDuringAPass(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	p := &slowPages{pages: pages{n: 2500}}
	env.RegisterWorkflowWithOptions(ConfigRollout, workflow.RegisterOptions{Name: ConfigRolloutWorkflowType})
	env.RegisterActivityWithOptions(p.SignalOpenTickets, activity.RegisterOptions{Name: ActivitySignalOpenTickets})
	signal := func(id int64) {
		env.SignalWorkflow(SignalChangesRecorded, ConfigChanged{ChangeID: id, Reason: fmt.Sprintf("edit %d", id)})
	}
	env.RegisterDelayedCallback(func() { signal(1) }, 0)
	// Three edits are recorded while the first pass's second page runs.
	env.SetOnActivityStartedListener(func(_ *activity.Info, _ context.Context, _ converter.EncodedValues) {
		p.mu.Lock()
		n := len(p.asked)
		p.mu.Unlock()
		if n == 1 {
			signal(2)
			signal(3)
			signal(4)
		}
	})
	env.ExecuteWorkflow(ConfigRolloutWorkflowType, ConfigRolloutInput{})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res ConfigRolloutResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, []int64{0, 1000, 2000, 0, 1000, 2000}, p.asked, "two passes, each from the first ticket")
	require.Equal(t, []int64{1, 1, 1, 4, 4, 4}, p.changes, "the second pass carries the last of the three edits")
	require.Equal(t, 5000, res.Signalled)
	require.Len(t, p.tails, 2, "each pass has its tail")
}

func TestConfigChangedMerge(t *testing.T) {
	a := ConfigChanged{}.Merge(ConfigChanged{ChangeID: 3, Reason: "SLA policy p edited"})
	require.Equal(t, ConfigChanged{ChangeID: 3, Reason: "SLA policy p edited"}, a)
	b := a.Merge(ConfigChanged{ChangeID: 5, Reason: "calendar c edited"})
	require.Equal(t, ConfigChanged{ChangeID: 5, Reason: "SLA policy p edited; calendar c edited"}, b)
	long := ConfigChanged{ChangeID: 1, Reason: strings.Repeat("x", 1000)}.Merge(ConfigChanged{ChangeID: 9, Reason: "y"})
	require.Equal(t, "configuration edits up to change 9", long.Reason)
}
