package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
)

// stallFor is longer than every timeout in the code: the API's update timeout (20 s in these
// stacks, 30 s by default) and a projection attempt's 10 s, which was also the SDK's give-up.
const stallFor = 45 * time.Second

// lockTables holds a real PostgreSQL lock on the tables, in an open transaction, until the
// returned release is called (or stallFor passes, whichever is first).
func (s *stack) lockTables(t *testing.T, mode string, tables ...string) (release func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stallFor)
	tx, err := s.db.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, fmt.Sprintf("LOCK TABLE %s IN %s MODE", strings.Join(tables, ", "), mode))
	require.NoError(t, err)
	released := make(chan struct{})
	go func() {
		<-ctx.Done()
		_ = tx.Rollback()
		close(released)
	}()
	t.Cleanup(cancel)
	return func() { cancel(); <-released }
}

// requireRunning asserts the ticket's workflow is alive.
func (s *stack) requireRunning(t *testing.T, id int64) {
	t.Helper()
	d, err := s.tc.DescribeWorkflowExecution(context.Background(), fmt.Sprintf("ticket/%d", id), "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, d.WorkflowExecutionInfo.Status)
}

type sent struct {
	what   string // a reply's body, or a status
	status int
}

// With the ticket tables locked against writes for longer than any timeout, replies and a status
// change through HTTP answer 200 or 202 — never a 5xx for a change that lands later — and once
// the lock goes every answered change is stored exactly once, actionCount equals the rows, the
// status history agrees with the row, and the ticket takes changes as before.
func TestDurabilityWriteStall(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Write stall", "description": "first", "clientIds": []string{p.customer}})

	// EXCLUSIVE blocks every write and lets reads through, so the API can still load the ticket.
	began := time.Now()
	release := s.lockTables(t, "EXCLUSIVE", "tickets", "ticket_actions", "ticket_status_history")
	var changes []sent
	reply := func(body string) {
		r := s.post(t, p.agentTok, tk.ID, "actions", map[string]any{"type": "public", "body": body})
		changes = append(changes, sent{body, r.status})
		if r.status == 202 {
			got := r.obj()
			require.EqualValues(t, tk.ID, got["ticketId"])
			require.NotEmpty(t, got["updateId"])
		}
	}
	reply("during the stall 1")
	r := s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": "Stopped"})
	changes = append(changes, sent{"Stopped", r.status})
	mid := s.ticket(t, p.agentTok, tk.ID)
	require.Equal(t, mid.ActionCount, len(mid.Actions), "actionCount never counts a row that is not there")
	reply("during the stall 2")
	t.Logf("changes during the %s stall: %+v (after %s)", stallFor, changes, time.Since(began).Round(time.Second))
	release()

	for _, c := range changes {
		require.Contains(t, []int{200, 202}, c.status, "a change the workflow took is never answered 5xx: %+v", c)
	}
	var final ticket
	eventually(t, 2*time.Minute, func() bool {
		final = s.ticket(t, p.agentTok, tk.ID)
		return final.ActionCount == 3 && final.Status == "Stopped"
	}, "every accepted change lands")
	bodies := map[string]int{}
	for _, a := range final.Actions {
		bodies[a.Body]++
	}
	require.Equal(t, map[string]int{"first": 1, "during the stall 1": 1, "during the stall 2": 1}, bodies, "each exactly once")
	require.Equal(t, final.ActionCount, len(final.Actions))
	h := final.StatusHistory
	require.Equal(t, "Stopped", h[len(h)-1].Status)
	require.Nil(t, h[len(h)-1].EndedAt, "the open entry is the row's status")
	for _, e := range h[:len(h)-1] {
		require.NotNil(t, e.EndedAt, "only the last entry is open")
	}

	s.post(t, p.agentTok, tk.ID, "actions", map[string]any{"type": "internal", "body": "after"}).expect(200)
	require.Equal(t, 4, s.ticket(t, p.agentTok, tk.ID).ActionCount)
	s.requireRunning(t, tk.ID)
}

// With what trigger evaluation reads and writes locked for longer than any timeout, the
// ticket's workflow does not fail: changes keep landing during the stall, the stalled
// evaluation applies its trigger's action once the lock is gone (and not before), and the ticket
// is resolved and reopened as usual. (Configuration is cached per worker, so the lock holds the
// evaluation at its write of trigger_executions.)
func TestDurabilityEvaluationStall(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	category := randomName("stall-")
	s.dropTriggersAfter(t, category)
	s.createTrigger(t, map[string]any{"name": "tag " + category, "events": []string{"ticket.action_added"},
		"condition": "ticket.category == '" + category + "'", "actions": []map[string]any{{"type": "add_tags", "tags": []string{"stalled"}}}})
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Evaluation stall", "description": "first",
		"category": category, "clientIds": []string{p.customer}})
	time.Sleep(time.Second) // let the creation's evaluation finish before the lock

	began := time.Now()
	release := s.lockTables(t, "ACCESS EXCLUSIVE", "triggers", "sla_policies", "trigger_executions")
	s.post(t, p.agentTok, tk.ID, "actions", map[string]any{"type": "internal", "body": "evaluation stalls"}).expect(200)
	time.Sleep(15 * time.Second) // past the 10 s after which the evaluation used to fail the workflow
	require.NotContains(t, s.ticket(t, p.agentTok, tk.ID).Tags, "stalled", "the evaluation waits for the lock")
	// A change made meanwhile is taken: stored at once, or accepted (202) and stored after.
	r := s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": "InAttendance"})
	require.Contains(t, []int{200, 202}, r.status, "body: %s", r.body)
	s.requireRunning(t, tk.ID)
	time.Sleep(stallFor - time.Since(began) - time.Second) // and past every other timeout
	s.requireRunning(t, tk.ID)
	release()

	eventually(t, 2*time.Minute, func() bool {
		got := s.ticket(t, p.agentTok, tk.ID)
		return slices.Contains(got.Tags, "stalled") && got.BaseStatus == "InAttendance"
	}, "the stalled evaluation applies its action after the lock, and the change made meanwhile lands")
	s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": "Resolved"}).expect(200)
	s.post(t, p.agentTok, tk.ID, "reopen", nil).expect(200)
	got := s.ticket(t, p.agentTok, tk.ID)
	require.Equal(t, "InAttendance", got.BaseStatus)
	require.Equal(t, 2, got.ActionCount)
	s.requireRunning(t, tk.ID)
}

// A completed call whose recording link is 8 KiB (bigger than a PostgreSQL NOTIFY payload) ends,
// makes its ticket, and the agent's stream still gets the call.ended event.
func TestDurabilityLongRecordingLink(t *testing.T) {
	s := env(t)
	p := s.newPBX(t, nil)
	s.setStatus(t, p.agentTok, p.agent, true, true)
	screen := s.stream(t, p.agentTok)
	id := newCallID()
	s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", fmt.Sprint(p.queue), "clientNumber", digits(p.caller), "id", id, "callDate", "2018-5-1T17:00:00").expect(200)
	s.pbx(t, p.pbxToken, "asterisk_transferedCall", "id", id, "branchLine", "5252", "transferDate", "2018-5-1T17:02:00").expect(200)
	require.Equal(t, "call.transferred", screen.next(t))

	link := "https://rec.example/" + strings.Repeat("a", 8192-len("https://rec.example/"))
	s.pbx(t, p.pbxToken, "asterisk_completedCall", "id", id, "link", link, "completedDate", "2018-5-1T17:20:00").expect(200)
	require.Equal(t, "call.ended", screen.next(t))
	call := s.callState(t, id, "completed")
	require.Equal(t, link, call["link"])
	tk := s.ticket(t, p.agentTok, int64(call["ticketId"].(float64)))
	require.Contains(t, tk.Actions[0].Body, link)
}
