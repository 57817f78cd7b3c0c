package integration

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// approvalJSON is the subset of an approval request the tests read.
type approvalJSON struct {
	ID        string `json:"id"`
	TicketID  int64  `json:"ticketId"`
	RuleID    string `json:"ruleId"`
	State     string `json:"state"`
	EndReason string `json:"endReason"`
	Steps     []struct {
		ApproverID string      `json:"approverId"`
		Stage      int         `json:"stage"`
		Kind       string      `json:"kind"`
		State      string      `json:"state"`
		AskedAt    *time.Time  `json:"askedAt"`
		RemindedAt []time.Time `json:"remindedAt"`
		DecidedAt  *time.Time  `json:"decidedAt"`
		Decision   string      `json:"decision"`
		Comment    string      `json:"comment"`
		DecidedBy  string      `json:"decidedBy"`
		OnBehalfOf string      `json:"onBehalfOf"`
		ViaLink    bool        `json:"viaLink"`
		Reason     string      `json:"reason"`
	} `json:"steps"`
}

// approvalFixture is a job role with its holder, a director, the requester's team mates, a
// waiting status on base Stopped and the tag that makes a ticket match the fixture's rules.
type approvalFixture struct {
	p                       people
	tag, role, waiting      string
	manager, director       string
	managerTok, directorTok string
}

func (s *stack) approvalFixture(t *testing.T) approvalFixture {
	t.Helper()
	f := approvalFixture{p: s.newPeople(t), tag: randomName("appr")}
	f.role = "Manager " + f.tag
	s.call(t, s.admin, "POST", "/api/v1/job-roles", map[string]any{"name": f.role}).expect(201)
	f.waiting = "Awaiting approval " + f.tag
	s.call(t, s.admin, "POST", "/api/v1/statuses", map[string]any{"name": f.waiting, "baseStatus": "Stopped"}).expect(201)
	mk := func(name string, extra map[string]any) (string, string) {
		body := map[string]any{"name": name + " " + f.tag, "profile": "agent"}
		for k, v := range extra {
			body[k] = v
		}
		id := s.call(t, s.admin, "POST", "/api/v1/persons", body).expect(201).obj()["id"].(string)
		tok := s.call(t, s.admin, "POST", "/api/v1/persons/"+id+"/tokens", map[string]any{"name": "test"}).expect(201).obj()["token"].(string)
		return id, tok
	}
	f.manager, f.managerTok = mk("Mona", map[string]any{"jobRole": f.role})
	f.director, f.directorTok = mk("Dirk", nil)
	return f
}

// rule creates an approval rule matching tickets tagged with the fixture's tag, deleted when
// the test ends (the stack is shared: other tests' tickets must not match).
func (s *stack) approvalRule(t *testing.T, f approvalFixture, body map[string]any) string {
	t.Helper()
	rule := map[string]any{"name": "rule " + randomName(""), "condition": fmt.Sprintf("%q in ticket.tags", f.tag),
		"events": []string{"ticket.created"}, "waitingStatus": f.waiting}
	for k, v := range body {
		rule[k] = v
	}
	id := s.call(t, s.admin, "POST", "/api/v1/approval-rules", rule).expect(201).obj()["id"].(string)
	if s == shared { // a stack of the test's own goes with it
		t.Cleanup(func() { s.call(t, s.admin, "DELETE", "/api/v1/approval-rules/"+id, nil) })
	}
	return id
}

func (s *stack) approvalsOf(t *testing.T, token string, ticketID int64) []approvalJSON {
	t.Helper()
	var out struct {
		Data []approvalJSON `json:"data"`
	}
	s.call(t, token, "GET", fmt.Sprintf("/api/v1/tickets/%d/approvals", ticketID), nil).expect(200).decode(&out)
	return out.Data
}

func (s *stack) approval(t *testing.T, token, id string) approvalJSON {
	t.Helper()
	var a approvalJSON
	s.call(t, token, "GET", "/api/v1/approvals/"+id, nil).expect(200).decode(&a)
	return a
}

func (s *stack) decide(t *testing.T, token, id, decision, comment string) *resp {
	t.Helper()
	return s.call(t, token, "POST", "/api/v1/approvals/"+id+"/decision", map[string]any{"decision": decision, "comment": comment})
}

// awaitApproval waits until the ticket has n requests and the last one is pending with a step
// asked of approver.
func (s *stack) awaitApproval(t *testing.T, ticketID int64, n int, approver string) approvalJSON {
	t.Helper()
	var all []approvalJSON
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		all = s.approvalsOf(t, s.admin, ticketID)
		if len(all) < n {
			continue
		}
		for _, st := range all[n-1].Steps {
			if st.ApproverID == approver && st.State == "pending" {
				return all[n-1]
			}
		}
	}
	t.Fatalf("not within 20s: ticket %d's approval %d asks %s; its approvals: %+v", ticketID, n, approver, all)
	return approvalJSON{}
}

var linkPattern = regexp.MustCompile(`/approval-links/[A-Za-z0-9_-]+`)

// links are the decision links in a person's notifications, oldest first. Each notification
// carries the instant it was written (it was once the zero time).
func (s *stack) links(t *testing.T, token string) []string {
	t.Helper()
	var out struct {
		Data []struct {
			Message   string    `json:"message"`
			CreatedAt time.Time `json:"createdAt"`
		} `json:"data"`
	}
	s.call(t, token, "GET", "/api/v1/notifications?limit=100", nil).expect(200).decode(&out)
	var links []string
	for i := len(out.Data) - 1; i >= 0; i-- {
		n := out.Data[i]
		require.WithinDuration(t, time.Now(), n.CreatedAt, 10*time.Minute, "createdAt of %q", n.Message)
		if l := linkPattern.FindString(n.Message); l != "" {
			links = append(links, l)
		}
	}
	return links
}

// A rule matching on creation: the ticket waits in the waiting status; the job role's holder
// is asked first and the director only after; a non-approver, a second decision and a second
// use of a link are refused; the director decides from their link with no session; the ticket
// returns to its status with the note, and a trigger sees approval.approved.
func TestApprovalSequentialOnCreation(t *testing.T) {
	s := env(t)
	f := s.approvalFixture(t)
	ruleID := s.approvalRule(t, f, map[string]any{"type": "sequential",
		"approvers":  []map[string]any{{"kind": "jobRole", "jobRole": f.role}, {"kind": "person", "personId": f.director}},
		"onApproved": map[string]any{"note": "Approved by the managers", "noteType": "internal"}})
	trig := s.call(t, s.admin, "POST", "/api/v1/triggers", map[string]any{"name": "on approval " + f.tag,
		"events": []string{"approval.approved"}, "condition": fmt.Sprintf("%q in ticket.tags", f.tag),
		"actions": []map[string]any{{"type": "notify_agents", "agentIds": []string{f.p.agent2}, "message": "approved {{.id}}"}}}).
		expect(201).obj()["id"].(string)
	defer s.call(t, s.admin, "DELETE", "/api/v1/triggers/"+trig, nil)

	tk := s.createTicket(t, f.p.agentTok, map[string]any{"subject": "New laptop", "tags": []string{f.tag}})
	a := s.awaitApproval(t, tk.ID, 1, f.manager)
	require.Equal(t, ruleID, a.RuleID)
	require.Equal(t, f.waiting, s.ticket(t, f.p.agentTok, tk.ID).Status)
	require.Len(t, a.Steps, 1, "the director is asked only after the manager")

	var inbox struct {
		Data []approvalJSON `json:"data"`
	}
	s.call(t, f.managerTok, "GET", "/api/v1/approvals?approverId=me&state=pending", nil).expect(200).decode(&inbox)
	require.Len(t, inbox.Data, 1)
	require.Equal(t, a.ID, inbox.Data[0].ID)

	s.decide(t, f.p.agent2Tok, a.ID, "approve", "").expectError(403, "forbidden")
	s.decide(t, f.directorTok, a.ID, "approve", "").expectError(403, "forbidden") // not their turn
	s.decide(t, f.managerTok, a.ID, "approve", "fine").expect(200)
	s.decide(t, f.managerTok, a.ID, "approve", "again").expectError(409, "conflict")

	var links []string
	eventually(t, 10*time.Second, func() bool { links = s.links(t, f.directorTok); return len(links) == 1 }, "the director's link")
	var view map[string]any
	s.call(t, "", "GET", links[0], nil).expect(200).decode(&view)
	require.Equal(t, a.ID, view["approvalId"])
	s.call(t, "", "POST", links[0], map[string]any{"decision": "reject"}).expectError(422, "validation_failed", "comment")
	s.call(t, "", "POST", links[0], map[string]any{"decision": "approve"}).expect(200)
	s.call(t, "", "POST", links[0], map[string]any{"decision": "approve"}).expectError(409, "conflict")
	s.call(t, "", "GET", "/approval-links/not-a-real-token", nil).expectError(401, "unauthorized")

	eventually(t, 20*time.Second, func() bool { return s.ticket(t, f.p.agentTok, tk.ID).Status == "New" }, "the ticket returns to New")
	done := s.approval(t, s.admin, a.ID)
	require.Equal(t, "approved", done.State)
	require.Len(t, done.Steps, 2)
	require.Equal(t, f.director, done.Steps[1].ApproverID)
	require.True(t, done.Steps[1].ViaLink)
	require.True(t, done.Steps[1].AskedAt.After(*done.Steps[0].DecidedAt) || done.Steps[1].AskedAt.Equal(*done.Steps[0].DecidedAt))
	got := s.ticket(t, f.p.agentTok, tk.ID)
	require.Equal(t, "Approved by the managers", got.Actions[len(got.Actions)-1].Body)
	eventually(t, 20*time.Second, func() bool {
		var n struct {
			Data []struct {
				Message   string    `json:"message"`
				CreatedAt time.Time `json:"createdAt"`
			} `json:"data"`
		}
		s.call(t, f.p.agent2Tok, "GET", "/api/v1/notifications", nil).expect(200).decode(&n)
		for _, m := range n.Data {
			if m.Message == fmt.Sprintf("approved %d", tk.ID) {
				require.WithinDuration(t, time.Now(), m.CreatedAt, 10*time.Minute, "a trigger's notification's createdAt")
				return true
			}
		}
		return false
	}, "the trigger on approval.approved notifies")
	var full map[string]any
	s.call(t, f.p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil).expect(200).decode(&full)
	require.Len(t, full["approvals"], 1)
}

// Simultaneous with quorum any: the first rejection without a comment is refused, the
// rejection with one rejects at once, the other approver is no longer needed, the ticket moves
// to the rule's rejection status; the agent re-submits (a new request, the old one kept), and
// a second submission while that one is open is a 409.
func TestApprovalRejectedAndResubmitted(t *testing.T) {
	s := env(t)
	f := s.approvalFixture(t)
	ruleID := s.approvalRule(t, f, map[string]any{"type": "simultaneous", "quorum": map[string]any{"mode": "all"},
		"approvers":  []map[string]any{{"kind": "person", "personId": f.manager}, {"kind": "person", "personId": f.director}},
		"onRejected": map[string]any{"status": "Canceled", "note": "Rejected", "noteType": "public"}})
	tk := s.createTicket(t, f.p.agentTok, map[string]any{"subject": "Trip", "tags": []string{f.tag}})
	a := s.awaitApproval(t, tk.ID, 1, f.director)
	require.Len(t, a.Steps, 2, "both asked at once")

	s.decide(t, f.managerTok, a.ID, "reject", "  ").expectError(422, "validation_failed", "comment")
	s.decide(t, f.managerTok, a.ID, "maybe", "").expectError(422, "validation_failed", "decision")
	s.decide(t, f.managerTok, a.ID, "reject", "too expensive").expect(200)
	done := s.approval(t, s.admin, a.ID)
	require.Equal(t, "rejected", done.State)
	for _, st := range done.Steps {
		if st.ApproverID == f.director {
			require.Equal(t, "notNeeded", st.State)
		}
	}
	s.decide(t, f.directorTok, a.ID, "approve", "").expectError(409, "conflict")
	eventually(t, 20*time.Second, func() bool { return s.ticket(t, f.p.agentTok, tk.ID).BaseStatus == "Canceled" }, "rejection cancels the ticket")

	// Canceled ends the ticket: re-submission needs it open again.
	s.post(t, f.p.agentTok, tk.ID, "approvals", map[string]any{"ruleId": ruleID}).expectError(409, "conflict")
	s.post(t, f.p.agentTok, tk.ID, "reopen", nil).expect(200)
	var second approvalJSON
	s.post(t, f.p.agentTok, tk.ID, "approvals", map[string]any{"ruleId": ruleID}).expect(201).decode(&second)
	require.NotEqual(t, a.ID, second.ID)
	require.Equal(t, "pending", second.State)
	s.post(t, f.p.agentTok, tk.ID, "approvals", map[string]any{"ruleId": ruleID}).expectError(409, "conflict")
	s.post(t, f.p.agentTok, tk.ID, "approvals", map[string]any{"ruleId": "nope"}).expectError(422, "validation_failed", "ruleId")
	s.post(t, f.p.customerTok, tk.ID, "approvals", map[string]any{"ruleId": ruleID}).expectError(403, "forbidden")
	require.Len(t, s.approvalsOf(t, s.admin, tk.ID), 2, "the old request is kept")
}

// Rules are validated on save, every problem under its field, the condition with its position.
func TestApprovalRuleValidation(t *testing.T) {
	s := env(t)
	r := s.call(t, s.admin, "POST", "/api/v1/approval-rules", map[string]any{"name": "", "condition": "ticket.urgency ==",
		"events": []string{"ticket.deleted"}, "type": "parallel", "approvers": []map[string]any{{"kind": "person"},
			{"kind": "jobRole", "jobRole": "No such role"}, {"kind": "wizard"}, {"kind": "team", "teamId": "t", "personId": "p"}},
		"quorum": map[string]any{"mode": "percent", "value": 150}, "reminders": map[string]any{"first": "soon", "max": 0},
		"expireAfter": "10s", "onExpire": "shrug", "waitingStatus": "No such status"})
	r.expectError(422, "validation_failed")
	_, fields := r.apiError()
	for _, f := range []string{"name", "condition", "events[0]", "type", "approvers[0].personId", "approvers[2].kind",
		"approvers[3].personId", "quorum.value", "reminders.first", "reminders.max", "expireAfter", "onExpire"} {
		require.Contains(t, fields, f)
	}
	require.Contains(t, fields["condition"], "column")
	ok := s.call(t, s.admin, "POST", "/api/v1/approval-rules", map[string]any{"name": "valid " + randomName(""),
		"type": "simultaneous", "quorum": map[string]any{"mode": "count", "value": 1}, "approvers": []map[string]any{{"kind": "wildcard"}}}).
		expect(201).obj()
	defer s.call(t, s.admin, "DELETE", "/api/v1/approval-rules/"+ok["id"].(string), nil)
	require.Equal(t, []any{}, ok["events"], "no events: by hand only")
	s.call(t, s.admin, "PATCH", "/api/v1/approval-rules/"+ok["id"].(string), map[string]any{"quorum": map[string]any{"mode": "any", "value": 2}}).
		expectError(422, "validation_failed", "quorum.value")
	s.call(t, s.admin, "PATCH", "/api/v1/approval-rules/"+ok["id"].(string), map[string]any{"reminders": map[string]any{"first": "1h", "max": 1, "extra": 1}}).
		expectError(422, "validation_failed", "reminders.extra")
	s.call(t, s.admin, "POST", "/api/v1/persons", map[string]any{"name": "X", "profile": "agent", "jobRole": "No such role"}).
		expectError(422, "validation_failed", "jobRole")
}

// The worker is killed with SIGKILL between the two approvals of a sequential request, right
// after the first decision moved the request on: a new worker finishes what was under way.
// Each approver is asked exactly once (one step, one notification with one link), the second
// is not skipped, and the request ends approved once.
func TestApprovalAcrossAKilledWorker(t *testing.T) {
	temporalAddr, _ := services(t)
	s := newStack(t, stackOptions{worker: false})
	defer s.close()
	workerEnv := s.procEnv(temporalAddr)
	w := startProc(t, workerEnv, "worker")
	f := s.approvalFixture(t)
	s.approvalRule(t, f, map[string]any{"type": "sequential",
		"approvers": []map[string]any{{"kind": "person", "personId": f.manager}, {"kind": "person", "personId": f.director}}})
	tk := s.createTicket(t, f.p.agentTok, map[string]any{"subject": "Kill me", "tags": []string{f.tag}})
	a := s.awaitApproval(t, tk.ID, 1, f.manager)
	s.decide(t, f.managerTok, a.ID, "approve", "").expect(200)
	w.kill(t)
	startProc(t, workerEnv, "worker")

	var links []string
	eventually(t, 30*time.Second, func() bool { links = s.links(t, f.directorTok); return len(links) >= 1 }, "the director is asked")
	s.call(t, "", "POST", links[0], map[string]any{"decision": "approve"}).expect(200)
	eventually(t, 30*time.Second, func() bool { return s.ticket(t, f.p.agentTok, tk.ID).Status == "New" }, "the ticket moves on")

	done := s.approval(t, s.admin, a.ID)
	require.Equal(t, "approved", done.State)
	require.Len(t, done.Steps, 2, "each approver asked once")
	require.Len(t, s.links(t, f.directorTok), 1, "one notification for the director")
	require.Len(t, s.links(t, f.managerTok), 1, "one notification for the manager")
	var changes []string
	require.NoError(t, s.db.NewRaw("SELECT justification FROM ticket_status_history WHERE ticket_id = ? ORDER BY seq", tk.ID).Scan(t.Context(), &changes))
	require.Equal(t, []string{"", "waiting for approval " + a.ID, "approval " + a.ID + " approved"}, changes, "one wait, one return")
}
