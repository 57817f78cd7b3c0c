package workflows

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Histories recorded from real runs (testdata/*.json, exported with `temporal workflow show -o
// json`) must replay against the current code: a change that would break open tickets fails
// here and belongs behind workflow.GetVersion. ticket_run1 is a ticket's whole first life
// (accept, note, a rejected and an accepted status change, edit, unassign, resolve, reopen,
// resolve, auto-close by timer); ticket_run2 is its reopen by update-with-start, then cancel.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/ticket_*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(Ticket, workflow.RegisterOptions{Name: TicketWorkflowType})
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
