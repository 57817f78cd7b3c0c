package workflows

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
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
}

func (p *pages) SignalOpenTickets(_ context.Context, in RolloutPageInput) (RolloutPage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
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
	env.ExecuteWorkflow(ConfigRolloutWorkflowType, ConfigRolloutInput{Change: ConfigChanged{ChangeID: 9}})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res ConfigRolloutResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 2500, res.Signalled)
	require.Equal(t, []int64{0, 1000, 1000, 2000}, p.asked, "the failed page is retried from its cursor")
}

func TestConfigReason(t *testing.T) {
	require.Equal(t, "SLA policy p1 edited, calendar c1 deleted", ConfigReason([]ConfigChange{
		{Entity: "sla_policies", EntityID: "p1", Op: "UPDATE"}, {Entity: "calendars", EntityID: "c1", Op: "DELETE"}}))
}
