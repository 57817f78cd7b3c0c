package workflows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
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
	// outcomeAt is when each outcome was sent.
	outcomeAt []time.Time
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
	// The test environment passes a local activity's argument as is: keep a copy, as the
	// database would, not the workflow's own slices.
	r.Steps, r.Pending = slices.Clone(r.Steps), slices.Clone(r.Pending)
	for i := range r.Steps {
		r.Steps[i].RemindedAt = slices.Clone(r.Steps[i].RemindedAt)
	}
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
	a.outcomeAt = append(a.outcomeAt, a.env.Now().UTC())
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

// result is the finished request; every run also checks that its rows were written in order
// and that the last one is the request as it ended.
func (s *ApprovalSuite) result() schema.ApprovalRequest {
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var r schema.ApprovalRequest
	s.Require().NoError(s.env.GetWorkflowResult(&r))
	rows := s.rowsOf(r.ID)
	s.Require().NotEmpty(rows)
	for i := 1; i < len(rows); i++ {
		s.Greater(rows[i].Seq, rows[i-1].Seq, "row %d", i)
		s.False(rows[i].UpdatedAt.Before(rows[i-1].UpdatedAt), "row %d", i)
	}
	last := rows[len(rows)-1]
	s.Equal(r.State, last.State, "the last write is the request as it ended")
	s.Equal(r.EndedAt, last.EndedAt)
	s.Equal(states(r), states(last))
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

// --- helpers for the tests below

// apAt is the simulated instant d after the start.
func apAt(d time.Duration) time.Time { return apStart.Add(d) }

func approve(who string) DecideInput {
	return DecideInput{Actor: Actor{ID: who, Role: schema.RoleAgent}, Decision: DecisionApprove}
}

func reject(who, comment string) DecideInput {
	return DecideInput{Actor: Actor{ID: who, Role: schema.RoleAgent}, Decision: DecisionReject, Comment: comment}
}

// apDecision is what a decision's caller got, and when.
type apDecision struct {
	err  error
	done bool
	at   time.Time
}

// decide sends in at the simulated offset.
func (s *ApprovalSuite) decide(after time.Duration, in DecideInput) *apDecision {
	d := &apDecision{}
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateDecide, "", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { d.err, d.done, d.at = err, true, s.env.Now().UTC() },
			OnAccept:   func() {},
			OnComplete: func(_ any, err error) { d.err, d.done, d.at = err, true, s.env.Now().UTC() },
		}, in)
	}, after)
	return d
}

// refused asserts that the decision was answered with an error of the type.
func (s *ApprovalSuite) refused(d *apDecision, errorType string) {
	s.Require().True(d.done, "the decision was never answered")
	s.Require().Error(d.err)
	s.Equal(errorType, errType(d.err), d.err.Error())
}

// deactivateAt marks the person inactive at the offset and tells the request.
func (s *ApprovalSuite) deactivateAt(after time.Duration, id string) {
	s.env.RegisterDelayedCallback(func() {
		s.acts.mu.Lock()
		s.acts.people[id].active = false
		s.acts.mu.Unlock()
		s.env.SignalWorkflow(SignalApproversChanged, ApproversChanged{PersonID: id})
	}, after)
}

func (s *ApprovalSuite) run(spec ApprovalSpec) schema.ApprovalRequest {
	s.env.ExecuteWorkflow(Approval, s.input(spec))
	return s.result()
}

func simultaneous(mode string, value int, who ...string) ApprovalSpec {
	spec := ApprovalSpec{Type: ApprovalSimultaneous, Quorum: schema.Quorum{Mode: mode, Value: value}}
	for _, id := range who {
		spec.Approvers = append(spec.Approvers, person(id))
	}
	return spec
}

// noticeLog is who got a notice of the kind and when, as "who@offset", by time then name.
func (s *ApprovalSuite) noticeLog(kind string) []string {
	ns := s.acts.noticesOf(kind)
	slices.SortStableFunc(ns, func(a, b apNotice) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.ApproverID, b.ApproverID)
	})
	out := []string{}
	for _, n := range ns {
		out = append(out, fmt.Sprintf("%s@%s", n.ApproverID, n.at.Sub(apStart)))
	}
	return out
}

// rowsOf are the rows written for the request, in write order.
func (s *ApprovalSuite) rowsOf(id string) []schema.ApprovalRequest {
	s.acts.mu.Lock()
	defer s.acts.mu.Unlock()
	var out []schema.ApprovalRequest
	for _, r := range s.acts.rows {
		if r.ID == id {
			out = append(out, r)
		}
	}
	return out
}

// rowAt is the last row the request wrote at the instant.
func (s *ApprovalSuite) rowAt(id string, at time.Time) schema.ApprovalRequest {
	var last *schema.ApprovalRequest
	for _, r := range s.rowsOf(id) {
		if r.UpdatedAt.Equal(at) {
			last = &r
		}
	}
	s.Require().NotNil(last, "no row written at %s", at)
	return *last
}

// states are the steps' states by approver, in step order, as "who:state".
func states(r schema.ApprovalRequest) []string {
	var out []string
	for _, st := range r.Steps {
		out = append(out, st.ApproverID+":"+st.State)
	}
	return out
}

// outcome is the one outcome the ticket was sent, and when.
func (s *ApprovalSuite) outcome() (RecordApprovalInput, time.Time) {
	s.Require().Len(s.acts.outcomes, 1, "the ticket hears of the outcome exactly once")
	return s.acts.outcomes[0].Record, s.acts.outcomeAt[0]
}

// Sequential: a job role's stage is decided by one of its holders; the other holder is told
// they are not needed at that instant, and the next stage is asked then.
func (s *ApprovalSuite) TestSequentialRoleStageNeedsOneHolder() {
	s.acts.people["ann"].jobRole = "buyer"
	s.acts.people["bob"].jobRole = "buyer"
	s.decide(time.Hour, approve("bob"))
	s.decide(2*time.Hour, approve("cid"))
	r := s.run(ApprovalSpec{Type: ApprovalSequential,
		Approvers: []schema.ApproverEntry{{Kind: ApproverJobRole, JobRole: "buyer"}, person("cid")}})
	s.Equal([]string{"ann:notNeeded", "bob:approved", "cid:approved"}, states(r))
	s.Equal([]string{"ann@1h0m0s"}, s.noticeLog(NoticeNotNeeded))
	s.Equal(apAt(time.Hour), *s.stepOf(r, "cid").AskedAt)
	s.Equal(apAt(2*time.Hour), *r.EndedAt)
}

// --- quorum

// Quorum any: the first approval decides at its instant; the others are told they are no
// longer needed, at that instant.
func (s *ApprovalSuite) TestQuorumAnyEndsAtTheFirstApproval() {
	d := s.decide(2*time.Hour, approve("bob"))
	r := s.run(simultaneous(QuorumAny, 0, "ann", "bob", "cid"))
	s.NoError(d.err)
	s.Equal(schema.ApprovalApproved, r.State)
	s.Equal(apAt(2*time.Hour), *r.EndedAt)
	s.Equal(apAt(2*time.Hour), s.env.Now().UTC())
	s.Equal([]string{"ann:notNeeded", "bob:approved", "cid:notNeeded"}, states(r))
	s.Equal([]string{"ann@2h0m0s", "cid@2h0m0s"}, s.noticeLog(NoticeNotNeeded))
	rec, at := s.outcome()
	s.True(rec.Approved)
	s.Equal(apAt(2*time.Hour), at)
}

// Quorum all: the request waits for the last approver and ends at that instant, with nobody
// left to tell.
func (s *ApprovalSuite) TestQuorumAllWaitsForEveryApprover() {
	s.decide(time.Hour, approve("ann"))
	s.decide(2*time.Hour, approve("cid"))
	s.decide(3*time.Hour, approve("bob"))
	r := s.run(simultaneous(QuorumAll, 0, "ann", "bob", "cid"))
	s.Equal(schema.ApprovalApproved, r.State)
	s.Equal(apAt(3*time.Hour), *r.EndedAt)
	s.Equal(apAt(3*time.Hour), *s.stepOf(r, "bob").DecidedAt)
	s.Equal([]string{"ann:approved", "bob:approved", "cid:approved"}, states(r))
	s.Empty(s.noticeLog(NoticeNotNeeded))
}

// Quorum count 2 of 4: decided at the second approval; the two others are not needed.
func (s *ApprovalSuite) TestQuorumCountEndsAtTheNthApproval() {
	s.decide(time.Hour, approve("ann"))
	s.decide(3*time.Hour, approve("cid"))
	r := s.run(simultaneous(QuorumCount, 2, "ann", "bob", "cid", "dee"))
	s.Equal(schema.ApprovalApproved, r.State)
	s.Equal(apAt(3*time.Hour), *r.EndedAt)
	s.Equal([]string{"ann:approved", "bob:notNeeded", "cid:approved", "dee:notNeeded"}, states(r))
	s.Equal([]string{"bob@3h0m0s", "dee@3h0m0s"}, s.noticeLog(NoticeNotNeeded))
}

// Quorum percent rounds up: 60% of 4 is 3 approvals, so two are not enough.
func (s *ApprovalSuite) TestQuorumPercentRoundsUp() {
	s.decide(time.Hour, approve("ann"))
	s.decide(2*time.Hour, approve("bob"))
	s.decide(3*time.Hour, approve("cid"))
	r := s.run(simultaneous(QuorumPercent, 60, "ann", "bob", "cid", "dee"))
	s.Equal(schema.ApprovalApproved, r.State)
	s.Equal(apAt(3*time.Hour), *r.EndedAt, "not at 2h: 2 of 4 is under 60%")
	s.Equal([]string{"dee@3h0m0s"}, s.noticeLog(NoticeNotNeeded))
}

// --- rejection

// By default one rejection rejects at its instant, whatever the quorum.
func (s *ApprovalSuite) TestAnyRejectionRejects() {
	s.decide(time.Hour, approve("ann"))
	d := s.decide(2*time.Hour, reject("bob", "too expensive"))
	r := s.run(simultaneous(QuorumAll, 0, "ann", "bob", "cid"))
	s.NoError(d.err)
	s.Equal(schema.ApprovalRejected, r.State)
	s.Equal(apAt(2*time.Hour), *r.EndedAt)
	s.Equal("too expensive", s.stepOf(r, "bob").Comment)
	s.Equal([]string{"ann:approved", "bob:rejected", "cid:notNeeded"}, states(r))
	s.Equal([]string{"cid@2h0m0s"}, s.noticeLog(NoticeNotNeeded))
	rec, at := s.outcome()
	s.False(rec.Approved)
	s.Equal(schema.ApprovalRejected, rec.State)
	s.Equal(apAt(2*time.Hour), at)
}

// Rejection "quorum": rejections are tolerated until the quorum (2 of 4) is out of reach,
// which is the third rejection.
func (s *ApprovalSuite) TestQuorumRejectionEndsWhenTheQuorumIsOutOfReach() {
	s.decide(time.Hour, reject("ann", "no"))
	s.decide(2*time.Hour, reject("bob", "no"))
	s.decide(3*time.Hour, reject("cid", "no"))
	spec := simultaneous(QuorumCount, 2, "ann", "bob", "cid", "dee")
	spec.Rejection = RejectOnQuorum
	r := s.run(spec)
	s.Equal(schema.ApprovalRejected, r.State)
	s.Equal(apAt(3*time.Hour), *r.EndedAt, "1 approval + 1 pending could still make 2 before cid rejected")
	s.Equal([]string{"dee@3h0m0s"}, s.noticeLog(NoticeNotNeeded))
}

// Rejection "quorum": a rejection does not stop the request from reaching its quorum.
func (s *ApprovalSuite) TestQuorumRejectionCanStillBeApproved() {
	s.decide(time.Hour, reject("ann", "no"))
	s.decide(2*time.Hour, approve("bob"))
	s.decide(3*time.Hour, approve("cid"))
	spec := simultaneous(QuorumCount, 2, "ann", "bob", "cid")
	spec.Rejection = RejectOnQuorum
	r := s.run(spec)
	s.Equal(schema.ApprovalApproved, r.State)
	s.Equal(apAt(3*time.Hour), *r.EndedAt)
	s.Equal([]string{"ann:rejected", "bob:approved", "cid:approved"}, states(r))
}

// --- validator

// A rejection needs a comment: the validator refuses it on the field comment, nothing is
// written, and the approver can still decide.
func (s *ApprovalSuite) TestRejectionWithoutCommentIsInvalid() {
	bare := s.decide(time.Hour, reject("ann", "  "))
	s.decide(2*time.Hour, approve("ann"))
	r := s.run(simultaneous(QuorumAny, 0, "ann", "bob"))
	s.refused(bare, ErrTypeInvalid)
	s.Equal("comment", ErrorField(bare.err))
	s.Equal(schema.ApprovalApproved, r.State)
	s.Equal(apAt(2*time.Hour), *s.stepOf(r, "ann").DecidedAt)
	for _, row := range s.rowsOf(r.ID) {
		s.NotEqual(apAt(time.Hour), row.UpdatedAt, "a refused decision writes nothing")
	}
}

// A decision that is neither approve nor reject is refused on the field decision.
func (s *ApprovalSuite) TestUnknownDecisionIsInvalid() {
	odd := s.decide(time.Hour, DecideInput{Actor: Actor{ID: "ann", Role: schema.RoleAgent}, Decision: "maybe"})
	s.decide(2*time.Hour, approve("ann"))
	s.run(simultaneous(QuorumAny, 0, "ann"))
	s.refused(odd, ErrTypeInvalid)
	s.Equal("decision", ErrorField(odd.err))
}

// An approver decides once: a second decision is a Conflict and changes nothing.
func (s *ApprovalSuite) TestSecondDecisionBySameApproverIsAConflict() {
	s.decide(time.Hour, approve("ann"))
	again := s.decide(2*time.Hour, reject("ann", "changed my mind"))
	s.decide(3*time.Hour, approve("bob"))
	r := s.run(simultaneous(QuorumAll, 0, "ann", "bob"))
	s.refused(again, ErrTypeConflict)
	s.Equal(schema.ApprovalApproved, r.State)
	s.Equal(DecisionApprove, s.stepOf(r, "ann").Decision)
	s.Equal(apAt(time.Hour), *s.stepOf(r, "ann").DecidedAt)
	s.Equal(apAt(3*time.Hour), *r.EndedAt)
}

// Sequential: an approver whose stage has moved on decided already; deciding again is a
// Conflict (decided twice), not Forbidden.
func (s *ApprovalSuite) TestSecondDecisionAfterTheStageMovedOnIsAConflict() {
	s.decide(time.Hour, approve("ann"))
	again := s.decide(2*time.Hour, reject("ann", "changed my mind"))
	s.decide(3*time.Hour, approve("bob"))
	r := s.run(ApprovalSpec{Type: ApprovalSequential, Approvers: []schema.ApproverEntry{person("ann"), person("bob")}})
	s.refused(again, ErrTypeConflict)
	s.Equal(DecisionApprove, s.stepOf(r, "ann").Decision)
	s.Equal(apAt(3*time.Hour), *r.EndedAt)
}

// Someone who is not an approver is Forbidden.
func (s *ApprovalSuite) TestNonApproverIsForbidden() {
	zed := s.decide(time.Hour, approve("zed"))
	s.decide(2*time.Hour, approve("ann"))
	r := s.run(simultaneous(QuorumAny, 0, "ann"))
	s.refused(zed, ErrTypeForbidden)
	s.Equal(apAt(2*time.Hour), *r.EndedAt)
	s.Equal([]string{"ann:approved"}, states(r))
}

// --- reminders

// Reminders come ReminderFirst after the ask, then every ReminderEvery, ReminderMax at most;
// a step decided in between gets no more.
func (s *ApprovalSuite) TestRemindersFollowFirstEveryAndMax() {
	s.decide(5*time.Hour, approve("bob"))
	s.decide(20*time.Hour, approve("ann"))
	spec := simultaneous(QuorumAll, 0, "ann", "bob")
	spec.ReminderFirst, spec.ReminderEvery, spec.ReminderMax = 4*time.Hour, 2*time.Hour, 3
	r := s.run(spec)
	s.Equal([]string{"ann@4h0m0s", "bob@4h0m0s", "ann@6h0m0s", "ann@8h0m0s"}, s.noticeLog(NoticeReminder),
		"none after the third, none to bob after he decided")
	s.Equal([]time.Time{apAt(4 * time.Hour), apAt(6 * time.Hour), apAt(8 * time.Hour)}, s.stepOf(r, "ann").RemindedAt)
	s.Equal([]time.Time{apAt(4 * time.Hour)}, s.stepOf(r, "bob").RemindedAt)
	var ns []int
	for _, n := range s.acts.noticesOf(NoticeReminder) {
		if n.ApproverID == "ann" {
			ns = append(ns, n.N)
		}
	}
	s.Equal([]int{1, 2, 3}, ns)
	s.Equal(apAt(20*time.Hour), *r.EndedAt)
}

// Reminders count from each step's own ask: the second stage, asked at 3h, is reminded at 7h;
// the first stage, decided before its first reminder was due, is never reminded.
func (s *ApprovalSuite) TestRemindersCountFromEachAsk() {
	s.decide(3*time.Hour, approve("ann"))
	s.decide(10*time.Hour, approve("bob"))
	spec := ApprovalSpec{Type: ApprovalSequential, Approvers: []schema.ApproverEntry{person("ann"), person("bob")},
		ReminderFirst: 4 * time.Hour, ReminderMax: 1}
	r := s.run(spec)
	s.Equal([]string{"bob@7h0m0s"}, s.noticeLog(NoticeReminder))
	s.Empty(s.stepOf(r, "ann").RemindedAt)
}

// --- expiry

// OnExpire reject: at ExpireAfter the request is expired, its pending steps are not needed and
// the ticket gets the rejected outcome at that instant; the asked link lasted until then.
func (s *ApprovalSuite) TestExpiryRejects() {
	s.decide(time.Hour, approve("ann"))
	spec := simultaneous(QuorumAll, 0, "ann", "bob")
	spec.ExpireAfter, spec.OnExpire = 24*time.Hour, ExpireReject
	spec.OnApproved, spec.OnRejected = OutcomeSpec{Status: "Go"}, OutcomeSpec{Status: "No go"}
	r := s.run(spec)
	s.Equal(schema.ApprovalExpired, r.State)
	s.Equal(apAt(24*time.Hour), *r.ExpiresAt)
	s.Equal(apAt(24*time.Hour), *r.EndedAt)
	s.Equal(apAt(24*time.Hour), s.env.Now().UTC())
	s.Equal([]string{"ann:approved", "bob:notNeeded"}, states(r))
	s.Equal([]string{"bob@24h0m0s"}, s.noticeLog(NoticeNotNeeded))
	for _, n := range s.acts.noticesOf(NoticeAsked) {
		s.Equal(apAt(24*time.Hour), n.LinkUntil)
	}
	rec, at := s.outcome()
	s.Equal(schema.ApprovalExpired, rec.State)
	s.False(rec.Approved)
	s.Equal("No go", rec.Outcome.Status)
	s.Equal(apAt(24*time.Hour), at)
}

// OnExpire approve: still state expired, but the ticket gets the approved outcome.
func (s *ApprovalSuite) TestExpiryApproves() {
	spec := simultaneous(QuorumAll, 0, "ann")
	spec.ExpireAfter, spec.OnExpire = 24*time.Hour, ExpireApprove
	spec.OnApproved, spec.OnRejected = OutcomeSpec{Status: "Go"}, OutcomeSpec{Status: "No go"}
	r := s.run(spec)
	s.Equal(schema.ApprovalExpired, r.State)
	s.Equal(apAt(24*time.Hour), *r.EndedAt)
	rec, at := s.outcome()
	s.True(rec.Approved)
	s.Equal("Go", rec.Outcome.Status)
	s.Equal(apAt(24*time.Hour), at)
}

// With a calendar the expiry is counted in business hours: the fake calendar doubles it, so
// 24h expire at 48h, not at 24h.
func (s *ApprovalSuite) TestExpiryCountsBusinessHoursOfTheCalendar() {
	spec := simultaneous(QuorumAny, 0, "ann")
	spec.ExpireAfter, spec.CalendarID = 24*time.Hour, "office"
	r := s.run(spec)
	s.Equal(apAt(48*time.Hour), *r.ExpiresAt)
	s.Equal(apAt(48*time.Hour), *r.EndedAt)
	s.Equal(apAt(48*time.Hour), s.env.Now().UTC())
	s.Equal(schema.ApprovalExpired, r.State)
}

// OnExpire escalate: at the expiry the pending step is escalated and the approver's superior
// asked with a fresh expiry; the second expiry ends it expired, with the rejected outcome.
func (s *ApprovalSuite) TestExpiryEscalatesOnceThenExpires() {
	s.acts.add("sup", apPerson{})
	s.acts.people["ann"].boss = "sup"
	spec := simultaneous(QuorumAny, 0, "ann")
	spec.ExpireAfter, spec.OnExpire = 24*time.Hour, ExpireEscalate
	r := s.run(spec)
	ann, sup := s.stepOf(r, "ann"), s.stepOf(r, "sup")
	s.Equal(schema.StepEscalated, ann.State)
	s.Equal("did not decide in time", ann.Reason)
	s.Equal(ApproverEscalation, sup.Kind)
	s.Equal(apAt(24*time.Hour), *sup.AskedAt)
	s.Equal("expired after 24h0m0s; escalated to superior", s.stepOf(s.rowAt(r.ID, apAt(24*time.Hour)), "sup").Reason)
	s.Equal(schema.StepNotNeeded, sup.State, "the second expiry ended it")
	s.Equal(apAt(48*time.Hour), *r.ExpiresAt, "a fresh expiry from the escalation")
	s.Equal(apAt(48*time.Hour), *r.EndedAt)
	s.Equal(schema.ApprovalExpired, r.State)
	asked := s.acts.noticesOf(NoticeAsked)
	s.Require().Len(asked, 2)
	s.Equal("sup", asked[1].ApproverID)
	s.Equal(apAt(24*time.Hour), asked[1].at)
	s.Equal(apAt(48*time.Hour), asked[1].LinkUntil)
	rec, at := s.outcome()
	s.False(rec.Approved)
	s.Equal(apAt(48*time.Hour), at)
}

// After an expiry escalation only the escalation decides: the original approver is Forbidden,
// the superior's approval approves at its instant.
func (s *ApprovalSuite) TestEscalatedRequestIsDecidedByTheEscalation() {
	s.acts.add("sup", apPerson{})
	s.acts.people["ann"].boss = "sup"
	late := s.decide(30*time.Hour, approve("ann"))
	s.decide(31*time.Hour, approve("sup"))
	spec := simultaneous(QuorumAny, 0, "ann")
	spec.ExpireAfter, spec.OnExpire = 24*time.Hour, ExpireEscalate
	r := s.run(spec)
	s.refused(late, ErrTypeForbidden)
	s.Equal(schema.ApprovalApproved, r.State)
	s.Equal(apAt(31*time.Hour), *r.EndedAt)
	rec, _ := s.outcome()
	s.True(rec.Approved)
}

// --- approvers who leave

// Sequential: when the pending approver is deactivated the next stage is asked at that instant.
func (s *ApprovalSuite) TestDeactivatedApproverPassesToTheNextStage() {
	s.deactivateAt(2*time.Hour, "ann")
	s.decide(3*time.Hour, approve("bob"))
	r := s.run(ApprovalSpec{Type: ApprovalSequential, Approvers: []schema.ApproverEntry{person("ann"), person("bob")}})
	ann := s.stepOf(r, "ann")
	s.Equal(schema.StepRemoved, ann.State)
	s.Equal("deactivated", ann.Reason)
	s.Equal(apAt(2*time.Hour), *s.stepOf(r, "bob").AskedAt)
	s.Equal([]string{"ann@0s", "bob@2h0m0s"}, s.noticeLog(NoticeAsked))
	s.Equal(schema.ApprovalApproved, r.State)
	s.Equal(apAt(3*time.Hour), *r.EndedAt)
}

// Boss kind: a deactivated boss is replaced by the boss's boss, asked at that instant.
func (s *ApprovalSuite) TestDeactivatedBossIsReplacedByTheirBoss() {
	s.acts.add("req", apPerson{boss: "b1"})
	s.acts.add("b1", apPerson{boss: "b2"})
	s.acts.add("b2", apPerson{})
	s.deactivateAt(2*time.Hour, "b1")
	s.decide(3*time.Hour, approve("b2"))
	r := s.run(ApprovalSpec{Type: ApprovalSequential, Approvers: []schema.ApproverEntry{{Kind: ApproverBoss}}})
	s.Equal([]string{"b1:removed", "b2:approved"}, states(r))
	b2 := s.stepOf(r, "b2")
	s.Equal(ApproverBoss, b2.Kind)
	s.Equal(apAt(2*time.Hour), *b2.AskedAt)
	s.Equal("asked instead of b1 (deactivated)", b2.Reason)
	s.Equal([]string{"b1@0s", "b2@2h0m0s"}, s.noticeLog(NoticeAsked))
	s.Equal(apAt(3*time.Hour), *r.EndedAt)
}

// Nobody left: the request escalates to the leaver's superior, and when the superior leaves
// too, on to the admins (no wildcard in the rule; the chain moves to its next level rather than
// up to the superior's own boss), each at the instant and with its reason.
func (s *ApprovalSuite) TestNobodyLeftEscalatesToSuperiorThenAdmins() {
	s.acts.add("sup", apPerson{boss: "top"})
	s.acts.add("top", apPerson{})
	s.acts.add("adm", apPerson{admin: true})
	s.acts.people["ann"].boss = "sup"
	s.deactivateAt(time.Hour, "ann")
	s.deactivateAt(2*time.Hour, "sup")
	s.decide(3*time.Hour, approve("adm"))
	r := s.run(simultaneous(QuorumAll, 0, "ann"))
	s.Equal([]string{"ann:removed", "sup:removed", "adm:approved"}, states(r))
	sup, adm := s.stepOf(r, "sup"), s.stepOf(r, "adm")
	s.Equal(apAt(time.Hour), *sup.AskedAt)
	s.Equal("nobody left to approve; escalated to superior", s.stepOf(s.rowAt(r.ID, apAt(time.Hour)), "sup").Reason)
	s.Equal("deactivated", sup.Reason, "a step's reason is its last state's")
	s.Equal(apAt(2*time.Hour), *adm.AskedAt)
	s.Equal(ApproverEscalation, adm.Kind)
	s.Equal("nobody left to approve; escalated to admins", adm.Reason)
	s.Equal([]string{"ann@0s", "sup@1h0m0s", "adm@2h0m0s"}, s.noticeLog(NoticeAsked))
	s.Equal(schema.ApprovalApproved, r.State)
	s.Equal(apAt(3*time.Hour), *r.EndedAt)
}

// Nobody left, and the rule names the wildcard: after the superior the wildcard seat is next
// (before the admins), and any agent decides it.
func (s *ApprovalSuite) TestNobodyLeftEscalatesToTheWildcardBeforeAdmins() {
	s.acts.add("sup", apPerson{})
	s.acts.add("adm", apPerson{admin: true})
	s.acts.people["ann"].boss = "sup"
	s.decide(30*time.Minute, approve("zed")) // fills the first stage's wildcard seat
	s.deactivateAt(time.Hour, "ann")
	s.deactivateAt(2*time.Hour, "sup")
	s.decide(3*time.Hour, approve("yan"))
	r := s.run(ApprovalSpec{Type: ApprovalSequential, Approvers: []schema.ApproverEntry{{Kind: ApproverWildcard}, person("ann")}})
	s.Equal([]string{"*:approved", "ann:removed", "sup:removed", "*:approved"}, states(r))
	seat := r.Steps[3]
	s.Equal(ApproverEscalation, seat.Kind)
	s.Equal(apAt(2*time.Hour), *seat.AskedAt)
	s.Equal("nobody left to approve; escalated to wildcard", seat.Reason)
	s.Equal("yan", seat.DecidedBy)
	s.Equal(apAt(3*time.Hour), *r.EndedAt)
	s.Equal([]string{"ann@30m0s", "sup@1h0m0s"}, s.noticeLog(NoticeAsked), "the admins were never asked")
}

// With nobody to escalate to at all, the request ends expired at the instant the last approver
// left.
func (s *ApprovalSuite) TestNobodyAtAllExpiresTheRequest() {
	s.deactivateAt(time.Hour, "ann")
	r := s.run(simultaneous(QuorumAll, 0, "ann"))
	s.Equal(schema.ApprovalExpired, r.State)
	s.Equal(apAt(time.Hour), *r.EndedAt)
	s.Equal("nobody left to approve; nobody to escalate to", r.EndReason)
	rec, at := s.outcome()
	s.Equal(schema.ApprovalExpired, rec.State)
	s.False(rec.Approved)
	s.Equal(apAt(time.Hour), at)
}

// An entry that names nobody active when the request starts is recorded with its reason, and
// a request with nobody to ask nor to escalate to ends at once.
func (s *ApprovalSuite) TestRequestWithNobodyToAskEndsAtOnce() {
	r := s.run(simultaneous(QuorumAll, 0, "ghost"))
	s.Require().Len(r.Steps, 1)
	s.Equal(schema.StepRemoved, r.Steps[0].State)
	s.Equal("nobody to ask: nobody", r.Steps[0].Reason)
	s.Equal(schema.ApprovalExpired, r.State)
	s.Equal(apStart, *r.EndedAt)
	s.Empty(s.acts.noticesOf(NoticeAsked))
}

// --- delegation

// Inside the delegation's window the substitute decides for the delegator; the step records
// both, and the delegator cannot decide that seat again.
func (s *ApprovalSuite) TestDelegateDecidesInsideTheWindow() {
	in := approve("sam")
	in.For = []Delegation{{PersonID: "ann", From: apAt(time.Hour), Until: apAt(3 * time.Hour)}}
	d := s.decide(2*time.Hour, in)
	self := s.decide(150*time.Minute, reject("ann", "not this"))
	s.decide(4*time.Hour, approve("bob"))
	r := s.run(simultaneous(QuorumAll, 0, "ann", "bob"))
	s.NoError(d.err)
	s.refused(self, ErrTypeConflict) // her seat is decided, by her substitute
	ann := s.stepOf(r, "ann")
	s.Equal(schema.StepApproved, ann.State)
	s.Equal("sam", ann.DecidedBy)
	s.Equal("ann", ann.OnBehalfOf)
	s.Equal(apAt(2*time.Hour), *ann.DecidedAt)
	s.Equal(apAt(4*time.Hour), *r.EndedAt)
}

// Outside its window (before From, and at Until: the window is [From, Until)) a delegation
// gives nothing: Forbidden.
func (s *ApprovalSuite) TestDelegationOutsideItsWindowIsForbidden() {
	in := approve("sam")
	in.For = []Delegation{{PersonID: "ann", From: apAt(time.Hour), Until: apAt(3 * time.Hour)}}
	early := s.decide(59*time.Minute, in)
	late := s.decide(3*time.Hour, in)
	s.decide(4*time.Hour, approve("ann"))
	r := s.run(simultaneous(QuorumAny, 0, "ann"))
	s.refused(early, ErrTypeForbidden)
	s.refused(late, ErrTypeForbidden)
	s.Equal("ann", s.stepOf(r, "ann").DecidedBy)
	s.Empty(s.stepOf(r, "ann").OnBehalfOf)
	s.Equal(apAt(4*time.Hour), *r.EndedAt)
}

// --- wildcard

// Any agent fills the wildcard seat; nobody is notified for it.
func (s *ApprovalSuite) TestAnyAgentDecidesTheWildcardSeat() {
	s.decide(time.Hour, approve("zed"))
	r := s.run(ApprovalSpec{Type: ApprovalSimultaneous, Quorum: schema.Quorum{Mode: QuorumAny},
		Approvers: []schema.ApproverEntry{{Kind: ApproverWildcard}}})
	seat := s.stepOf(r, schema.WildcardApprover)
	s.Equal("zed", seat.DecidedBy)
	s.Equal(apAt(time.Hour), *seat.DecidedAt)
	s.Equal(schema.ApprovalApproved, r.State)
	s.Empty(s.acts.notices)
}

// A customer cannot fill the wildcard seat, nor an agent through a link.
func (s *ApprovalSuite) TestCustomerAndLinkCannotDecideTheWildcardSeat() {
	cust := s.decide(time.Hour, DecideInput{Actor: Actor{ID: "cus", Role: schema.RoleCustomer}, Decision: DecisionApprove})
	link := approve("zed")
	link.ViaLink = true
	viaLink := s.decide(2*time.Hour, link)
	s.decide(3*time.Hour, approve("zed"))
	r := s.run(ApprovalSpec{Type: ApprovalSimultaneous, Quorum: schema.Quorum{Mode: QuorumAny},
		Approvers: []schema.ApproverEntry{{Kind: ApproverWildcard}}})
	s.refused(cust, ErrTypeForbidden)
	s.refused(viaLink, ErrTypeForbidden)
	s.Equal(apAt(3*time.Hour), *r.EndedAt)
	s.False(r.Steps[0].ViaLink)
}

// --- cancellation

// Canceling the request (its ticket closed) marks it and its pending steps canceled at that
// instant, writes that as the last row, and tells the ticket nothing.
func (s *ApprovalSuite) TestCancelMarksTheRequestCanceled() {
	s.decide(time.Hour, approve("ann"))
	s.env.RegisterDelayedCallback(s.env.CancelWorkflow, 2*time.Hour)
	spec := simultaneous(QuorumAll, 0, "ann", "bob")
	spec.ExpireAfter = 24 * time.Hour
	r := s.run(spec)
	s.Equal(schema.ApprovalCanceled, r.State)
	s.Equal(apAt(2*time.Hour), *r.EndedAt)
	s.Equal(apAt(2*time.Hour), s.env.Now().UTC(), "not at the expiry")
	s.Equal([]string{"ann:approved", "bob:canceled"}, states(r))
	rows := s.rowsOf(r.ID)
	last := rows[len(rows)-1]
	s.Equal(schema.ApprovalCanceled, last.State)
	s.Equal(apAt(2*time.Hour), *last.EndedAt)
	s.Empty(last.Pending)
	s.Empty(s.acts.outcomes)
}

// Every write of a request carries a higher Seq than the one before (the row's upsert drops
// older writes), also across asks, reminders, decisions and the end.
func (s *ApprovalSuite) TestRowsHaveStrictlyIncreasingSeq() {
	s.decide(5*time.Hour, approve("ann"))
	s.decide(5*time.Hour+30*time.Minute, approve("bob"))
	spec := ApprovalSpec{Type: ApprovalSequential, Approvers: []schema.ApproverEntry{person("ann"), person("bob")},
		ReminderFirst: time.Hour, ReminderEvery: time.Hour, ReminderMax: 2}
	r := s.run(spec)
	var seqs []int64
	for _, row := range s.rowsOf(r.ID) {
		seqs = append(seqs, row.Seq)
	}
	// begin, two reminders of ann, ann's decision, bob's decision
	s.Equal([]int64{1, 2, 3, 4, 5}, seqs)
}

// --- the ticket's side

// ticketEnv replaces the suite's environment by one running a Ticket (ticket_test.go's fakes),
// whose requests run as real Approval children against the same fake directory.
func (s *ApprovalSuite) ticketEnv() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(start)
	s.acts.env = s.env
	w := &writes{}
	s.env.RegisterWorkflowWithOptions(Ticket, workflow.RegisterOptions{Name: TicketWorkflowType})
	s.env.RegisterWorkflowWithOptions(Approval, workflow.RegisterOptions{Name: ApprovalWorkflowType})
	s.env.RegisterActivityWithOptions(w.PersistTicket, activity.RegisterOptions{Name: ActivityPersistTicket})
	s.env.RegisterActivityWithOptions(w.EvaluateTriggers, activity.RegisterOptions{Name: ActivityEvaluateTriggers})
	s.env.RegisterActivity(s.acts)
}

// apTicketCall is what a ticket update's caller got.
type apTicketCall struct {
	value         any
	err, rejected error
}

// ticketUpdate sends the update to the ticket at the offset from the ticket's start; arg is
// called then, so it may use what happened before.
func (s *ApprovalSuite) ticketUpdate(after time.Duration, name string, arg func() any) *apTicketCall {
	c := &apTicketCall{}
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(name, fmt.Sprint(name, after), &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { c.rejected = err },
			OnAccept:   func() {},
			OnComplete: func(v any, err error) { c.value, c.err = v, err },
		}, arg())
	}, after)
	return c
}

// Re-submission: while a request of a rule is open the ticket refuses another (Conflict); once
// its outcome is recorded (here its expiry at 1h2m, which the test forwards as the
// RecordApprovalOnTicket activity would) an agent may ask again, which starts a new Approval
// child with a new id at that instant. Canceling the ticket then cancels that request.
func (s *ApprovalSuite) TestTicketTakesTheSameRuleAgainOnlyAfterTheOutcome() {
	s.ticketEnv()
	spec := ApprovalSpec{RuleID: "r1", RuleName: "Purchase", Type: ApprovalSequential, Approvers: []schema.ApproverEntry{person("ann")},
		Rejection: RejectOnAny, ExpireAfter: time.Hour, OnExpire: ExpireReject,
		WaitingStatus: "Awaiting approval", WaitingBase: schema.BaseStopped}
	ask := func() any { return RequestApprovalInput{Actor: agent, Spec: spec} }
	s.ticketUpdate(time.Minute, UpdateAccept, func() any { return AcceptInput{Actor: agent} })
	first := s.ticketUpdate(2*time.Minute, UpdateRequestApproval, ask)
	twice := s.ticketUpdate(3*time.Minute, UpdateRequestApproval, ask)
	record := s.ticketUpdate(65*time.Minute, UpdateRecordApproval, func() any {
		s.Require().Len(s.acts.outcomes, 1, "the first request expired by now")
		return s.acts.outcomes[0].Record
	})
	again := s.ticketUpdate(70*time.Minute, UpdateRequestApproval, ask)
	s.ticketUpdate(80*time.Minute, UpdateChangeStatus, func() any {
		return ChangeStatusInput{Actor: agent, Status: schema.BaseCanceled, BaseStatus: schema.BaseCanceled}
	})
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())

	s.Require().NoError(first.err)
	firstID := first.value.(RequestApprovalResult).ApprovalID
	s.Equal("Awaiting approval", first.value.(RequestApprovalResult).Ticket.Status)
	s.Require().Error(twice.rejected)
	s.Equal(ErrTypeConflict, errType(twice.rejected))
	s.Require().NoError(record.err)
	s.Equal(schema.BaseInAttendance, record.value.(schema.Ticket).Status, "back where it was before the request")
	s.Require().NoError(again.err)
	againID := again.value.(RequestApprovalResult).ApprovalID
	s.NotEqual(firstID, againID)

	rows := s.rowsOf(firstID)
	s.Require().NotEmpty(rows)
	s.Equal(start.Add(2*time.Minute), rows[0].CreatedAt)
	s.Equal(schema.ApprovalExpired, rows[len(rows)-1].State)
	s.Equal(start.Add(62*time.Minute), *rows[len(rows)-1].EndedAt)
	rows = s.rowsOf(againID)
	s.Require().NotEmpty(rows)
	s.Equal(start.Add(70*time.Minute), rows[0].CreatedAt)
	s.Equal(start.Add(70*time.Minute), *s.stepOf(rows[0], "ann").AskedAt)
	// The ticket's close cancels the open request. (The test environment completes a canceled
	// child at once, without running its cancellation, so the canceled row itself is checked
	// by TestCancelMarksTheRequestCanceled.)
	s.True(temporal.IsCanceledError(s.env.GetWorkflowErrorByID(ApprovalWorkflowID(againID))))
	s.Equal(start.Add(80*time.Minute), s.env.Now().UTC())
	s.Len(s.acts.outcomes, 1, "a canceled request reports nothing")
	var st TicketState
	v, err := s.env.QueryWorkflow(QueryState)
	s.Require().NoError(err)
	s.Require().NoError(v.Get(&st))
	s.Equal([]ApprovalRef{{ID: firstID, RuleID: "r1"}, {ID: againID, RuleID: "r1"}}, st.Approvals, "both closed")
}

// A wait may start from New, which no status change reaches: an outcome naming no status still
// takes the ticket back there, at the instant it is recorded.
func (s *ApprovalSuite) TestTicketReturnsToNewAfterTheWait() {
	s.ticketEnv()
	spec := ApprovalSpec{RuleID: "r1", RuleName: "Purchase", Type: ApprovalSequential, Approvers: []schema.ApproverEntry{person("ann")},
		Rejection: RejectOnAny, ExpireAfter: time.Hour, OnExpire: ExpireApprove,
		WaitingStatus: "Awaiting approval", WaitingBase: schema.BaseStopped}
	req := s.ticketUpdate(time.Minute, UpdateRequestApproval, func() any { return RequestApprovalInput{Actor: agent, Spec: spec} })
	rec := s.ticketUpdate(2*time.Hour, UpdateRecordApproval, func() any { // the child expired at 1h1m
		s.Require().Len(s.acts.outcomes, 1)
		return s.acts.outcomes[0].Record
	})
	s.ticketUpdate(3*time.Hour, UpdateChangeStatus, func() any {
		return ChangeStatusInput{Actor: agent, Status: schema.BaseCanceled, BaseStatus: schema.BaseCanceled}
	})
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(req.err)
	s.Equal(schema.BaseStopped, req.value.(RequestApprovalResult).Ticket.BaseStatus)
	s.Require().NoError(rec.err)
	s.Equal(schema.BaseNew, s.acts.outcomes[0].Record.PreviousStatus)
	t := rec.value.(schema.Ticket)
	s.Equal(schema.BaseNew, t.Status)
	s.Equal(schema.BaseNew, t.BaseStatus)
	s.Equal(start.Add(2*time.Hour), t.UpdatedAt)
}
