package workflows

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/schema"
)

var apStart = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC) // a Monday

// apPerson is someone in the fake directory the approval activities read.
type apPerson struct {
	active  bool
	jobRole string
	boss    string
	teams   []string
	admin   bool
}

// apActs stands in for the approval activities: a directory of people, and a record of every
// notice (with its simulated instant), every row written and every outcome sent to the ticket.
type apActs struct {
	mu       sync.Mutex
	env      *testsuite.TestWorkflowEnvironment
	people   map[string]*apPerson
	order    []string // directory order (names sort like ids here)
	notices  []apNotice
	rows     []schema.ApprovalRequest
	outcomes []RecordOnTicketInput
}

type apNotice struct {
	ApprovalNotice
	at time.Time
}

func (a *apActs) add(id string, p apPerson) {
	p.active = true
	a.people[id] = &p
	a.order = append(a.order, id)
}

func (a *apActs) ResolveApprovers(_ context.Context, in ResolveInput) (ResolveResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	res := ResolveResult{Inactive: []string{}}
	for _, e := range in.Entries {
		var ids []string
		switch e.Kind {
		case ApproverPerson:
			if p := a.people[e.PersonID]; p != nil && p.active {
				ids = []string{e.PersonID}
			}
		case ApproverJobRole, ApproverTeam:
			for _, id := range a.order {
				p := a.people[id]
				if p.active && (p.jobRole == e.JobRole && e.Kind == ApproverJobRole || e.Kind == ApproverTeam && slices.Contains(p.teams, e.TeamID)) {
					ids = append(ids, id)
				}
			}
		case ApproverBoss:
			if b := a.superior(in.RequesterID, nil); b != "" {
				ids = []string{b}
			}
		case ApproverWildcard:
			ids = []string{schema.WildcardApprover}
		}
		res.Entries = append(res.Entries, ResolvedEntry{PersonIDs: ids, Reason: "nobody"})
	}
	for _, id := range in.Check {
		if p := a.people[id]; p != nil && !p.active {
			res.Inactive = append(res.Inactive, id)
		}
	}
	return res, nil
}

func (a *apActs) superior(of string, exclude []string) string {
	for p := a.people[of]; p != nil && p.boss != ""; p = a.people[p.boss] {
		if b := a.people[p.boss]; b != nil && b.active && !slices.Contains(exclude, p.boss) {
			return p.boss
		}
	}
	return ""
}

func (a *apActs) ResolveEscalation(_ context.Context, in EscalationInput) (EscalationResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for level := max(in.Level, 1); level <= 3; level++ {
		switch {
		case level == 1:
			if b := a.superior(in.After, in.Exclude); b != "" {
				return EscalationResult{PersonIDs: []string{b}, Kind: "superior", Level: 1}, nil
			}
		case level == 2 && in.Wildcard:
			return EscalationResult{PersonIDs: []string{schema.WildcardApprover}, Kind: "wildcard", Level: 2}, nil
		case level == 3:
			var ids []string
			for _, id := range a.order {
				if p := a.people[id]; p.admin && p.active && !slices.Contains(in.Exclude, id) {
					ids = append(ids, id)
				}
			}
			if len(ids) > 0 {
				return EscalationResult{PersonIDs: ids, Kind: "admins", Level: 3}, nil
			}
		}
	}
	return EscalationResult{Level: 4}, nil
}

func (a *apActs) PersistApproval(_ context.Context, r schema.ApprovalRequest) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rows = append(a.rows, r)
	return nil
}

func (a *apActs) NotifyApprover(_ context.Context, n ApprovalNotice) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.notices = append(a.notices, apNotice{n, a.env.Now().UTC()})
	return nil
}

func (a *apActs) ApprovalExpiry(_ context.Context, in ApprovalExpiryInput) (time.Time, error) {
	return in.From.Add(2 * in.After), nil // the fake calendar is open half the time
}

func (a *apActs) RecordApprovalOnTicket(_ context.Context, in RecordOnTicketInput) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.outcomes = append(a.outcomes, in)
	return nil
}

// noticesOf are the notices of a kind, in order.
func (a *apActs) noticesOf(kind string) []apNotice {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []apNotice
	for _, n := range a.notices {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

type ApprovalSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env  *testsuite.TestWorkflowEnvironment
	acts *apActs
}

func TestApproval(t *testing.T) { suite.Run(t, new(ApprovalSuite)) }

func (s *ApprovalSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(apStart)
	s.acts = &apActs{env: s.env, people: map[string]*apPerson{}}
	s.env.RegisterWorkflowWithOptions(Approval, workflow.RegisterOptions{Name: ApprovalWorkflowType})
	s.env.RegisterActivity(s.acts)
	for _, id := range []string{"ann", "bob", "cid", "dee"} {
		s.acts.add(id, apPerson{})
	}
}

func person(id string) schema.ApproverEntry {
	return schema.ApproverEntry{Kind: ApproverPerson, PersonID: id}
}

func (s *ApprovalSuite) input(spec ApprovalSpec) ApprovalInput {
	spec.RuleID, spec.RuleName = "r1", "Purchase"
	if spec.Rejection == "" {
		spec.Rejection = RejectOnAny
	}
	if spec.OnExpire == "" {
		spec.OnExpire = ExpireReject
	}
	return ApprovalInput{ID: "7-2", TicketID: 7, RequesterID: "req", RequestedBy: Actor{ID: "ann", Role: "agent"},
		Spec: spec, PreviousStatus: "New", PreviousBase: "New"}
}

// decideAt sends a decision at the simulated offset and records the error the caller got.
func (s *ApprovalSuite) decideAt(after time.Duration, who, decision, comment string, got *error) {
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateDecide, "", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { *got = err },
			OnAccept:   func() {},
			OnComplete: func(_ any, err error) { *got = err },
		}, DecideInput{Actor: Actor{ID: who, Role: "agent"}, Decision: decision, Comment: comment})
	}, after)
}

func (s *ApprovalSuite) result() schema.ApprovalRequest {
	s.True(s.env.IsWorkflowCompleted())
	s.NoError(s.env.GetWorkflowError())
	var r schema.ApprovalRequest
	s.NoError(s.env.GetWorkflowResult(&r))
	return r
}

func (s *ApprovalSuite) stepOf(r schema.ApprovalRequest, who string) schema.ApprovalStep {
	for _, st := range r.Steps {
		if st.ApproverID == who {
			return st
		}
	}
	s.Failf("no step", "no step for %s in %+v", who, r.Steps)
	return schema.ApprovalStep{}
}

// Sequential: bob is asked only once ann approved, at that instant; the request ends approved
// at bob's decision and the ticket hears of it once.
func (s *ApprovalSuite) TestSequentialAsksInOrder() {
	var e1, e2, early error
	s.decideAt(10*time.Minute, "bob", DecisionApprove, "", &early)
	s.decideAt(time.Hour, "ann", DecisionApprove, "", &e1)
	s.decideAt(3*time.Hour, "bob", DecisionApprove, "ok", &e2)
	s.env.ExecuteWorkflow(Approval, s.input(ApprovalSpec{Type: ApprovalSequential, Approvers: []schema.ApproverEntry{person("ann"), person("bob")}}))
	r := s.result()
	s.ErrorContains(early, "not bob's turn")
	s.NoError(e1)
	s.NoError(e2)
	s.Equal(schema.ApprovalApproved, r.State)
	s.Equal(apStart, *s.stepOf(r, "ann").AskedAt)
	s.Equal(apStart.Add(time.Hour), *s.stepOf(r, "bob").AskedAt)
	s.Equal(apStart.Add(3*time.Hour), *r.EndedAt)
	s.Equal("ok", s.stepOf(r, "bob").Comment)
	asked := s.acts.noticesOf(NoticeAsked)
	s.Len(asked, 2)
	s.Equal("ann", asked[0].ApproverID)
	s.Equal(apStart, asked[0].at)
	s.Equal("bob", asked[1].ApproverID)
	s.Equal(apStart.Add(time.Hour), asked[1].at)
	s.Require().Len(s.acts.outcomes, 1)
	s.True(s.acts.outcomes[0].Record.Approved)
}
