package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/switchboardhq/switchboard/workflows"
)

// historyLength is the number of events in the ticket's current run.
func (s *stack) historyLength(t *testing.T, id int64) int {
	t.Helper()
	it := s.tc.GetWorkflowHistory(context.Background(), workflows.TicketWorkflowID(id), "", false,
		enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		_, err := it.Next()
		require.NoError(t, err)
		n++
	}
	return n
}

// acceptedUpdates counts the updates the ticket's run accepted: what a rejected update must not
// add to. (The whole history length is not it: tests sharing a database create SLA policies
// whose rollouts signal every open ticket at any moment.)
func (s *stack) acceptedUpdates(t *testing.T, id int64) int {
	t.Helper()
	it := s.tc.GetWorkflowHistory(context.Background(), workflows.TicketWorkflowID(id), "", false,
		enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED {
			n++
		}
	}
	return n
}

func (s *stack) workflowStatus(t *testing.T, id int64, runID string) enumspb.WorkflowExecutionStatus {
	t.Helper()
	d, err := s.tc.DescribeWorkflowExecution(context.Background(), workflows.TicketWorkflowID(id), runID)
	require.NoError(t, err)
	return d.WorkflowExecutionInfo.Status
}

// The whole life of a ticket, as a customer and two agents live it, on real services.
func TestTicketLifecycle(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	s.call(t, s.admin, "POST", "/api/v1/statuses", map[string]any{"name": "Waiting parts " + p.team[:8],
		"baseStatus": "Stopped", "requiresJustification": true}).expect(201)
	waiting := "Waiting parts " + p.team[:8]

	// A customer opens a ticket: it is theirs, public, origin 1, New, with the description as
	// its first action, and it has a workflow an operator can open.
	// The urgency is the agents' to decide: an agent sets it.
	tk := s.createTicket(t, p.customerTok, map[string]any{"subject": "Printer on fire", "description": "Smoke everywhere"})
	require.Equal(t, "New", tk.Status)
	require.Equal(t, 1, tk.Origin)
	require.Equal(t, []string{p.customer}, tk.ClientIDs)
	require.Len(t, tk.Actions, 1)
	require.Empty(t, tk.Workflow.ID, "customers are not shown the workflow")
	s.call(t, p.agentTok, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), map[string]any{"urgency": "High"}).expect(200)
	tk = s.ticket(t, p.agentTok, tk.ID)
	require.Equal(t, workflows.TicketWorkflowID(tk.ID), tk.Workflow.ID)
	require.NotEmpty(t, tk.Workflow.RunID)
	require.Contains(t, tk.Workflow.UIURL, "/namespaces/default/workflows/ticket%2F")
	firstRun := tk.Workflow.RunID
	require.Equal(t, tk.ID, s.ticket(t, p.customerTok, tk.ID).ID, "readable at once")

	sa := s.searchAttributes(t, tk.ID)
	require.Equal(t, tk.ID, sa["TicketId"])
	require.Equal(t, "New", sa["BaseStatus"])
	require.Equal(t, "High", sa["Urgency"])
	require.NotContains(t, sa, "OwnerId", "no owner yet")

	// An agent accepts it: owner and InAttendance, visible to operators too.
	tk = decodeTicket(t, s.post(t, p.agentTok, tk.ID, "accept", nil).expect(200))
	require.Equal(t, p.agent, *tk.OwnerID)
	require.Equal(t, "InAttendance", tk.BaseStatus)
	sa = s.searchAttributes(t, tk.ID)
	require.Equal(t, p.agent, sa["OwnerId"])
	require.Equal(t, "InAttendance", sa["TicketStatus"])

	// A note and a reply; the customer sees the reply but never the note.
	s.post(t, p.agentTok, tk.ID, "actions", map[string]any{"type": "internal", "body": "Call facilities"}).expect(200)
	s.post(t, p.agentTok, tk.ID, "actions", map[string]any{"type": "public", "body": "Evacuate, please"}).expect(200)
	asCustomer := s.ticket(t, p.customerTok, tk.ID)
	require.Equal(t, 2, asCustomer.ActionCount, "customers count the public actions only")
	require.Len(t, asCustomer.Actions, 2)
	for _, a := range asCustomer.Actions {
		require.Equal(t, "public", a.Type)
	}
	require.Len(t, s.ticket(t, p.agentTok, tk.ID).Actions, 3)

	// A status that needs a justification refuses to move without one, and leaves no history.
	before := s.acceptedUpdates(t, tk.ID)
	s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": waiting}).expectError(422, "validation_failed", "justification")
	require.Equal(t, before, s.acceptedUpdates(t, tk.ID), "a rejected update leaves no history")
	tk = decodeTicket(t, s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": waiting, "justification": "fuser on order"}).expect(200))
	require.Equal(t, waiting, tk.Status)
	require.Equal(t, "fuser on order", tk.StatusHistory[len(tk.StatusHistory)-1].Justification)

	// Reassigned to the team's other agent, with the owner history kept.
	tk = decodeTicket(t, s.post(t, p.agentTok, tk.ID, "assign", map[string]any{"ownerId": p.agent2, "teamId": p.team}).expect(200))
	require.Equal(t, p.agent2, *tk.OwnerID)
	require.Len(t, tk.OwnerHistory, 2)

	// Resolved; the customer answers, which reopens it; resolved again.
	tk = decodeTicket(t, s.post(t, p.agent2Tok, tk.ID, "status", map[string]any{"status": "Resolved"}).expect(200))
	require.NotNil(t, tk.ResolvedAt)
	tk = decodeTicket(t, s.post(t, p.customerTok, tk.ID, "actions", map[string]any{"type": "public", "body": "It is back"}).expect(200))
	require.Equal(t, "InAttendance", tk.BaseStatus)
	require.Nil(t, tk.ResolvedAt)
	tk = decodeTicket(t, s.post(t, p.agent2Tok, tk.ID, "status", map[string]any{"status": "Resolved"}).expect(200))
	resolvedAt := *tk.ResolvedAt

	// The durable timer closes it autoClose after the resolution, and the run ends.
	eventually(t, 30*time.Second, func() bool { return s.ticket(t, p.agentTok, tk.ID).BaseStatus == "Closed" }, "auto-close")
	tk = s.ticket(t, p.agentTok, tk.ID)
	require.WithinDuration(t, resolvedAt.Add(autoClose), *tk.ClosedAt, 2*time.Second)
	require.False(t, tk.ClosedAt.Before(resolvedAt.Add(autoClose)), "never early")
	require.Equal(t, "system", tk.StatusHistory[len(tk.StatusHistory)-1].ChangedBy)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, s.workflowStatus(t, tk.ID, firstRun))

	// Closed: no more changes, customers cannot reopen; an agent reopens it in a new run.
	s.post(t, p.agentTok, tk.ID, "actions", map[string]any{"type": "public", "body": "hello?"}).expectError(409, "conflict")
	s.post(t, p.customerTok, tk.ID, "actions", map[string]any{"type": "public", "body": "hello?"}).expectError(409, "conflict")
	s.post(t, p.customerTok, tk.ID, "reopen", nil).expectError(409, "conflict")
	tk = decodeTicket(t, s.post(t, p.agentTok, tk.ID, "reopen", nil).expect(200))
	require.Equal(t, "InAttendance", tk.BaseStatus)
	require.Nil(t, tk.ClosedAt)
	require.NotEqual(t, firstRun, tk.Workflow.RunID, "a reopened closed ticket runs anew")
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, s.workflowStatus(t, tk.ID, tk.Workflow.RunID))
	s.post(t, p.agentTok, tk.ID, "reopen", nil).expectError(409, "conflict")

	// The history tells the whole story in order, each entry closed by the next.
	statuses := []string{}
	for i, h := range tk.StatusHistory {
		statuses = append(statuses, h.Status)
		require.Equal(t, i+1, h.Seq)
		require.Equal(t, i == len(tk.StatusHistory)-1, h.EndedAt == nil)
	}
	require.Equal(t, []string{"New", "InAttendance", waiting, "Resolved", "InAttendance", "Resolved", "Closed", "InAttendance"}, statuses)

	// Canceling ends the run too.
	tk = decodeTicket(t, s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": "Canceled"}).expect(200))
	eventually(t, 10*time.Second, func() bool {
		return s.workflowStatus(t, tk.ID, tk.Workflow.RunID) == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	}, "canceled ticket's run ends")
}

// searchAttributes is what an operator sees on the ticket's workflow in the Temporal UI.
func (s *stack) searchAttributes(t *testing.T, id int64) map[string]any {
	t.Helper()
	d, err := s.tc.DescribeWorkflowExecution(context.Background(), workflows.TicketWorkflowID(id), "")
	require.NoError(t, err)
	out := map[string]any{}
	for name, p := range d.WorkflowExecutionInfo.GetSearchAttributes().GetIndexedFields() {
		var v any
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &v))
		if f, ok := v.(float64); ok {
			v = int64(f)
		}
		out[name] = v
	}
	return out
}

func decodeTicket(t *testing.T, r *resp) ticket {
	t.Helper()
	var tk ticket
	r.decode(&tk)
	return tk
}

func TestEditAndAcceptRules(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "VPN down", "clientIds": []string{p.customer},
		"tags": []string{"vpn"}, "customFields": map[string]any{"site": "Lisbon"}})
	require.Equal(t, 9, tk.Origin, "API origin for agents")

	var edited ticket
	s.call(t, p.agentTok, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), map[string]any{
		"subject": "VPN down in Lisbon", "urgency": "Urgent", "tags": []string{"vpn", "network"},
		"customFields": map[string]any{"site": nil, "floor": 3}}).expect(200).decode(&edited)
	require.Equal(t, "VPN down in Lisbon", edited.Subject)
	require.Equal(t, "Urgent", edited.Urgency)
	require.Equal(t, []string{"vpn", "network"}, edited.Tags)
	require.Equal(t, map[string]any{"floor": 3.0}, edited.CustomFields)
	require.Greater(t, edited.Version, tk.Version)

	// A no-op edit writes nothing.
	var same ticket
	s.call(t, p.agentTok, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), map[string]any{"urgency": "Urgent"}).expect(200).decode(&same)
	require.Equal(t, edited.Version, same.Version)

	s.post(t, p.agentTok, tk.ID, "accept", nil).expect(200)
	before := s.acceptedUpdates(t, tk.ID)
	s.post(t, p.agent2Tok, tk.ID, "accept", nil).expectError(409, "conflict")
	s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": "Closed"}).expectError(409, "conflict")
	require.Equal(t, before, s.acceptedUpdates(t, tk.ID), "rejected updates leave no history")
}
