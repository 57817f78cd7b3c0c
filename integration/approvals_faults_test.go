package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// With the approval tables locked against writes for longer than any timeout of the code, a
// decision through HTTP is answered 200 or 202 (accepted, stored later), never a 5xx; reads
// keep working; once the lock goes the decision is stored once, the next approver is asked
// exactly once and the request finishes as usual. The notifications are locked first, so the
// first approver's notice is still being written when the decision arrives: the next
// approver's notice, queued meanwhile, was once never sent.
func TestApprovalWriteStall(t *testing.T) {
	s := env(t)
	f := s.approvalFixture(t)
	s.approvalRule(t, f, map[string]any{"type": "sequential",
		"approvers": []map[string]any{{"kind": "person", "personId": f.manager}, {"kind": "person", "personId": f.director}}})
	began := time.Now()
	releaseNotices := s.lockTables(t, "EXCLUSIVE", "notifications", "approval_links")
	tk := s.createTicket(t, f.p.agentTok, map[string]any{"subject": "Stalled approval", "tags": []string{f.tag}})
	a := s.awaitApproval(t, tk.ID, 1, f.manager)
	release := s.lockTables(t, "EXCLUSIVE", "approval_requests")
	r := s.decide(t, f.managerTok, a.ID, "approve", "during the stall")
	require.Contains(t, []int{200, 202}, r.status, "a decision the workflow took is never a 5xx: %s", r.body)
	if r.status == 202 {
		got := r.obj()
		require.Equal(t, a.ID, got["approvalId"])
		require.NotEmpty(t, got["updateId"])
	}
	// The same decision again while it is being written is refused as decided, not taken twice.
	again := s.decide(t, f.managerTok, a.ID, "approve", "twice")
	require.Contains(t, []int{409, 202}, again.status, "body: %s", again.body)
	require.Equal(t, "pending", s.approval(t, f.managerTok, a.ID).State, "reads answer during the stall")
	time.Sleep(time.Until(began.Add(stallFor - 5*time.Second))) // the lock outlasts every timeout
	release()
	releaseNotices()

	var links []string
	eventually(t, 2*time.Minute, func() bool { links = s.links(t, f.directorTok); return len(links) >= 1 }, "the director is asked after the stall")
	mid := s.approval(t, s.admin, a.ID)
	require.Len(t, mid.Steps, 2)
	require.Equal(t, "approved", mid.Steps[0].State)
	require.Equal(t, "during the stall", mid.Steps[0].Comment, "the first decision is the one stored")
	s.decide(t, f.directorTok, a.ID, "approve", "").expect(200)
	eventually(t, 30*time.Second, func() bool { return s.ticket(t, f.p.agentTok, tk.ID).Status == "New" }, "the ticket moves on")
	require.Equal(t, "approved", s.approval(t, s.admin, a.ID).State)
	require.Len(t, s.links(t, f.directorTok), 1, "the director is asked exactly once")
	require.Len(t, s.links(t, f.managerTok), 1, "the manager is asked exactly once")
}

// Hostile and malformed input on every approval route with a body is a 422 naming the field,
// and leaves the request as it was: still pending, nobody asked again.
func TestApprovalHostileInput(t *testing.T) {
	s := env(t)
	f := s.approvalFixture(t)
	s.approvalRule(t, f, map[string]any{"type": "simultaneous", "quorum": map[string]any{"mode": "all"},
		"approvers": []map[string]any{{"kind": "person", "personId": f.manager}}})
	tk := s.createTicket(t, f.p.agentTok, map[string]any{"subject": "Hostile", "tags": []string{f.tag}})
	a := s.awaitApproval(t, tk.ID, 1, f.manager)
	var links []string
	eventually(t, 10*time.Second, func() bool { links = s.links(t, f.managerTok); return len(links) == 1 }, "the manager's link")

	long := strings.Repeat("x", 5001)
	decisions := []struct {
		name  string
		body  any
		field string
	}{
		{"NUL in the comment", map[string]any{"decision": "reject", "comment": "no\x00"}, "comment"},
		{"bell in the comment", map[string]any{"decision": "approve", "comment": "\x07"}, "comment"},
		{"escape in the decision", map[string]any{"decision": "approve\x1b"}, "decision"},
		{"comment too long", map[string]any{"decision": "approve", "comment": long}, "comment"},
		{"unknown decision", map[string]any{"decision": "APPROVE"}, "decision"},
		{"decision a number", map[string]any{"decision": 1}, "decision"},
		{"unknown key", map[string]any{"decision": "approve", "by": "me"}, "by"},
		{"no decision", map[string]any{}, "decision"},
	}
	for _, c := range decisions {
		t.Run(c.name, func(t *testing.T) {
			s.call(t, f.managerTok, "POST", "/api/v1/approvals/"+a.ID+"/decision", c.body).expectError(422, "validation_failed", c.field)
			s.call(t, "", "POST", links[0], c.body).expectError(422, "validation_failed", c.field)
		})
	}
	// Not JSON at all.
	raw := s.call(t, f.managerTok, "POST", "/api/v1/approvals/"+a.ID+"/decision", `{"decision":`)
	require.Less(t, raw.status, 500, "body: %s", raw.body)
	require.GreaterOrEqual(t, raw.status, 400, "body: %s", raw.body)
	// Hostile path and query parts.
	s.call(t, f.managerTok, "GET", "/api/v1/approvals/"+a.ID+"%00", nil).expectError(422, "validation_failed", "path")
	s.call(t, f.managerTok, "GET", "/api/v1/approvals?state=pending%00", nil).expectError(422, "validation_failed", "state")
	s.call(t, f.managerTok, "GET", "/api/v1/approvals?state=maybe", nil).expectError(422, "validation_failed", "state")

	rules := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"NUL in the name", map[string]any{"name": "r\x00"}, "name"},
		{"name too long", map[string]any{"name": strings.Repeat("n", 201)}, "name"},
		{"NUL in the condition", map[string]any{"name": "r", "condition": "true\x00"}, "condition"},
		{"NUL in a person id", map[string]any{"name": "r", "approvers": []map[string]any{{"kind": "person", "personId": "p\x00"}}}, "approvers[0].personId"},
		{"duration with a NUL", map[string]any{"name": "r", "expireAfter": "1h\x00"}, "expireAfter"},
	}
	for _, c := range rules {
		t.Run(c.name, func(t *testing.T) {
			s.call(t, s.admin, "POST", "/api/v1/approval-rules", c.body).expectError(422, "validation_failed", c.field)
		})
	}
	s.call(t, s.admin, "POST", "/api/v1/job-roles", map[string]any{"name": "Role\x00"}).expectError(422, "validation_failed", "name")
	s.call(t, f.managerTok, "POST", "/api/v1/approval-delegations", map[string]any{"substituteId": f.director,
		"startsAt": "yesterday", "endsAt": time.Now().Add(time.Hour)}).expectError(422, "validation_failed", "startsAt")

	got := s.approval(t, s.admin, a.ID)
	require.Equal(t, "pending", got.State, "nothing refused changed the request")
	require.Len(t, got.Steps, 1)
	require.Equal(t, "pending", got.Steps[0].State)
	require.Len(t, s.links(t, f.managerTok), 1, "nobody was asked again")
	s.decide(t, f.managerTok, a.ID, "approve", "fine").expect(200)
}

// A narrow token held by the approver may read the request but not decide it; agents and
// customers may not touch approval rules or job roles; a customer outside the ticket sees none
// of its requests. No refusal changes the request.
func TestApprovalNarrowTokens(t *testing.T) {
	s := env(t)
	f := s.approvalFixture(t)
	ruleID := s.approvalRule(t, f, map[string]any{"type": "simultaneous", "quorum": map[string]any{"mode": "all"},
		"approvers": []map[string]any{{"kind": "person", "personId": f.manager}}})
	tk := s.createTicket(t, f.p.agentTok, map[string]any{"subject": "Narrow", "tags": []string{f.tag}, "clientIds": []string{f.p.customer}})
	a := s.awaitApproval(t, tk.ID, 1, f.manager)

	readOnly := s.mintOK(t, s.admin, f.manager, "tickets:read")
	require.Equal(t, a.ID, s.approval(t, readOnly, a.ID).ID)
	s.decide(t, readOnly, a.ID, "approve", "").expectError(403, "forbidden")
	s.call(t, readOnly, "POST", fmt.Sprintf("/api/v1/tickets/%d/approvals", tk.ID), map[string]any{"ruleId": ruleID}).expectError(403, "forbidden")
	s.call(t, readOnly, "POST", "/api/v1/approval-delegations", map[string]any{"substituteId": f.director,
		"startsAt": time.Now(), "endsAt": time.Now().Add(time.Hour)}).expectError(403, "forbidden")

	for _, tok := range []string{f.managerTok, f.p.customerTok} {
		s.call(t, tok, "POST", "/api/v1/approval-rules", map[string]any{"name": "mine"}).expectError(403, "forbidden")
		s.call(t, tok, "PATCH", "/api/v1/approval-rules/"+ruleID, map[string]any{"enabled": false}).expectError(403, "forbidden")
		s.call(t, tok, "DELETE", "/api/v1/approval-rules/"+ruleID, nil).expectError(403, "forbidden")
		s.call(t, tok, "POST", "/api/v1/job-roles", map[string]any{"name": "Mine"}).expectError(403, "forbidden")
	}
	s.decide(t, f.p.customerTok, a.ID, "approve", "").expectError(403, "forbidden")

	other := s.newPeople(t) // a customer of another organization
	s.call(t, other.customerTok, "GET", "/api/v1/approvals/"+a.ID, nil).expectError(404, "not_found")
	s.call(t, other.customerTok, "GET", fmt.Sprintf("/api/v1/tickets/%d/approvals", tk.ID), nil).expectError(404, "not_found")
	s.decide(t, other.customerTok, a.ID, "approve", "").expectError(404, "not_found")

	got := s.approval(t, s.admin, a.ID)
	require.Equal(t, "pending", got.State)
	require.Equal(t, "pending", got.Steps[0].State)
	require.True(t, s.call(t, s.admin, "GET", "/api/v1/approval-rules/"+ruleID, nil).expect(200).obj()["enabled"].(bool))
	s.decide(t, f.managerTok, a.ID, "approve", "").expect(200)
}

// The wait for an approval pauses the ticket's SLA where its policy pauses in the waiting
// status, and the solution deadline moves by the wait exactly, to the second: the applied
// deadline plus the time between the pause and the resume the decision caused.
func TestApprovalPausesSLAToTheSecond(t *testing.T) {
	s := env(t)
	f := s.approvalFixture(t)
	category := "sla-approval-" + f.tag
	s.call(t, s.admin, "POST", "/api/v1/sla-policies", map[string]any{"name": "Approval SLA " + f.tag,
		"rules":         []any{map[string]any{"condition": fmt.Sprintf("ticket.category == %q", category), "firstResponseMinutes": 0, "resolutionMinutes": 480, "hours": "calendar"}},
		"pauseStatuses": []string{f.waiting}}).expect(201)
	s.approvalRule(t, f, map[string]any{"type": "simultaneous", "quorum": map[string]any{"mode": "any"},
		"approvers": []map[string]any{{"kind": "person", "personId": f.manager}}})
	tk := s.createTicket(t, f.p.agentTok, map[string]any{"subject": "Timed wait", "category": category, "tags": []string{f.tag}})
	a := s.awaitApproval(t, tk.ID, 1, f.manager)
	time.Sleep(2500 * time.Millisecond) // a wait with a fraction of a second in it
	s.decide(t, f.managerTok, a.ID, "approve", "").expect(200)
	eventually(t, 20*time.Second, func() bool { return s.ticket(t, f.p.agentTok, tk.ID).Status == "New" }, "the ticket moves on")

	type slaEvent struct {
		Type   string     `json:"type"`
		Target *string    `json:"target"`
		DueAt  *time.Time `json:"dueAt"`
		At     time.Time  `json:"at"`
	}
	var sla struct {
		SolutionDue *time.Time `json:"solutionDue"`
		IsPaused    bool       `json:"isPaused"`
		Events      []slaEvent `json:"events"`
	}
	eventually(t, 20*time.Second, func() bool {
		s.call(t, s.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", tk.ID), nil).expect(200).decode(&sla)
		return !sla.IsPaused && sla.SolutionDue != nil
	}, "the SLA resumes after the decision")
	var applied, paused, resumed *slaEvent
	for i, e := range sla.Events {
		switch {
		case e.Type == "applied" && e.Target != nil && *e.Target == "resolution" && applied == nil:
			applied = &sla.Events[i]
		case e.Type == "paused" && paused == nil:
			paused = &sla.Events[i]
		case e.Type == "resumed" && resumed == nil:
			resumed = &sla.Events[i]
		}
	}
	require.NotNil(t, applied, "events: %+v", sla.Events)
	require.NotNil(t, paused, "events: %+v", sla.Events)
	require.NotNil(t, resumed, "events: %+v", sla.Events)
	wait := resumed.At.Sub(paused.At)
	require.Greater(t, wait, 2500*time.Millisecond)
	t.Logf("applied due %s, paused %s, resumed %s (wait %s), due now %s", applied.DueAt, paused.At, resumed.At, wait, sla.SolutionDue)
	// Within 50 ms, so that a pause counted in whole seconds (losing the wait's fraction) fails.
	require.WithinDuration(t, applied.DueAt.Add(wait), *sla.SolutionDue, 50*time.Millisecond,
		"the deadline moves by the wait (%s), to the second", wait)

	// The pause is the waiting status's time in the history, to the second.
	var spans []struct {
		StartedAt time.Time
		EndedAt   *time.Time
	}
	require.NoError(t, s.db.NewRaw("SELECT started_at, ended_at FROM ticket_status_history WHERE ticket_id = ? AND status = ? ORDER BY seq",
		tk.ID, f.waiting).Scan(t.Context(), &spans))
	require.Len(t, spans, 1)
	require.NotNil(t, spans[0].EndedAt)
	require.InDelta(t, spans[0].EndedAt.Sub(spans[0].StartedAt).Seconds(), wait.Seconds(), 1, "the pause equals the wait")
}
