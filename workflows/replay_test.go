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
// resolve, auto-close by timer); ticket_run2 is its reopen by update-with-start, then cancel;
// ticket_run3_deadline_timer one recorded with the deadline-timer marker (one timer per
// deadline): notes while a manual resolution due date waits, its breach, a resolve whose
// auto-close timer is cancelled by a move back to In attendance, and the second auto-close.
// call_1 is a phone call put through, completed with its ticket as a child and a later recording
// link; call_2 a completion that arrived before its transfer; call_3 a call still ongoing.
// chat_1 is a chat whose offer expires, accepted by the next agent, with a retried message, an
// invitation and a leave, a transfer to another group, then warned and closed for inactivity;
// chat_2 one closed for queue wait and handed to the offline flow; chat_3_run1/run2 a manual
// accept, refused updates, a transfer to an agent, continue-as-new and a close by the customer.
// The offline flow: chat_4_offline_end a chat that started with nobody online, a message, YES,
// NO after YES and //end (the ticket made); chat_5_offline_merge_timeout a text before the YES,
// a message merged into the same customer's open ticket and the window's close by its timer;
// chat_6_reached_agent a live chat whose accept closed that ticket. chat_ticket_archive is the
// ticket's archive workflow, asleep on its 90-day timer. approval_1_notice_during_decision is a
// sequential request recorded before the outbox fix: its first approver decided while their
// notice was being written, and it waits with the next notice queued; approval_2 the same
// request recorded after the fix, through both decisions to its outcome.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 5)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(Ticket, workflow.RegisterOptions{Name: TicketWorkflowType})
			r.RegisterWorkflowWithOptions(PhoneCall, workflow.RegisterOptions{Name: CallWorkflowType})
			r.RegisterWorkflowWithOptions(ChatSession, workflow.RegisterOptions{Name: ChatSessionWorkflowType})
			r.RegisterWorkflowWithOptions(ChatTicketArchive, workflow.RegisterOptions{Name: ChatTicketArchiveWorkflowType})
			r.RegisterWorkflowWithOptions(Approval, workflow.RegisterOptions{Name: ApprovalWorkflowType})
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
