package workflows

import (
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// A ticket's approvals: the ticket starts each request as an Approval child (abandoned on its
// own continue-as-new, so the request outlives a run; the ticket cancels its open requests when
// it closes), moves to the rule's waiting status, and applies the outcome the request reports.

// approvalsVersion marks runs that start the approvals their rules ask for.
const approvalsVersion = "approvals"

func (w *ticketWorkflow) validateRequestApproval(ctx workflow.Context, in RequestApprovalInput) error {
	if err := checkStaff(in.Actor); err != nil {
		return err
	}
	if err := w.checkOpen(); err != nil {
		return err
	}
	for _, r := range w.st.Approvals {
		if r.Open && r.RuleID == in.Spec.RuleID {
			return Conflict("approval %s of rule %s is still open on ticket %d", r.ID, in.Spec.RuleName, w.st.Ticket.ID)
		}
	}
	return nil
}

func (w *ticketWorkflow) requestApproval(ctx workflow.Context, in RequestApprovalInput) (RequestApprovalResult, error) {
	id, err := w.startApproval(ctx, in.Spec, in.Actor, false, func() error { return w.validateRequestApproval(ctx, in) })
	return RequestApprovalResult{ApprovalID: id, Ticket: w.st.Ticket}, err
}

// startApproval records the request on the ticket (moving it to the waiting status), raises
// approval.requested, and starts the request's workflow.
func (w *ticketWorkflow) startApproval(ctx workflow.Context, spec ApprovalSpec, by Actor, auto bool, check func() error) (string, error) {
	var in ApprovalInput
	err := w.apply(ctx, cause{actor: by}, check, func(now time.Time, wr *schema.TicketWrite) {
		t := &w.st.Ticket
		// Numbered by the change that starts it: unique for the ticket across runs and reopens
		// (a reopened run does not carry the refs of its closed run).
		id := ApprovalID(t.ID, t.Seq+1)
		in = ApprovalInput{ID: id, TicketID: t.ID, RequesterID: requester(*t), RequestedBy: by, Spec: spec,
			PreviousStatus: t.Status, PreviousBase: t.BaseStatus}
		w.st.Approvals = append(w.st.Approvals, ApprovalRef{ID: id, RuleID: spec.RuleID, Open: true, Auto: auto})
		if spec.WaitingStatus != "" && t.Status != spec.WaitingStatus && CheckStatusMove(t.BaseStatus, spec.WaitingBase) == nil {
			w.moveStatus(now, wr, by, spec.WaitingStatus, spec.WaitingBase, "waiting for approval "+id)
		}
	})
	if err != nil {
		return "", err
	}
	w.raise(TriggerEvent{Name: EventApprovalRequested, Actor: by, Changes: map[string]rules.Change{},
		Payload: map[string]any{"approvalId": in.ID, "ruleId": spec.RuleID, "state": schema.ApprovalPending}})
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: ApprovalWorkflowID(in.ID), ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		TypedSearchAttributes: temporal.NewSearchAttributes(SATicketID.ValueSet(in.TicketID),
			SAApprovalState.ValueSet(schema.ApprovalPending)),
	})
	child := workflow.ExecuteChildWorkflow(cctx, ApprovalWorkflowType, in)
	return in.ID, child.GetChildWorkflowExecution().Get(ctx, nil)
}

// requester is whom a ticket is for: its first client, else whoever created it.
func requester(t schema.Ticket) string {
	if len(t.ClientIDs) > 0 {
		return t.ClientIDs[0]
	}
	return t.CreatedBy
}

// startRuleApprovals starts the requests the evaluation found matching; a rule starts by
// itself at most once per ticket (re-submission after a rejection is by hand).
func (w *ticketWorkflow) startRuleApprovals(ctx workflow.Context, ev TriggerEvent, specs []ApprovalSpec) error {
	if len(specs) == 0 || workflow.GetVersion(ctx, approvalsVersion, workflow.DefaultVersion, 1) < 1 {
		return nil
	}
	for _, spec := range specs {
		if slices.ContainsFunc(w.st.Approvals, func(r ApprovalRef) bool { return r.RuleID == spec.RuleID && (r.Auto || r.Open) }) {
			continue
		}
		_, err := w.startApproval(ctx, spec, Actor{ID: "rule/" + spec.RuleID, Role: "system"}, true, w.checkOpen)
		if err := survive(ctx, "approval rule "+spec.RuleID, err); err != nil {
			return err
		}
	}
	return nil
}

func (w *ticketWorkflow) validateRecordApproval(ctx workflow.Context, in RecordApprovalInput) error {
	for _, r := range w.st.Approvals {
		if r.ID == in.ApprovalID {
			if !r.Open {
				return Conflict("approval %s is already recorded", in.ApprovalID)
			}
			return nil
		}
	}
	return Conflict("ticket %d has no approval %s", w.st.Ticket.ID, in.ApprovalID)
}

// recordApproval applies an outcome: back to the status before the request (or the outcome's),
// when the ticket still waits in the waiting status, and the outcome's note; then the
// approval.<state> event.
func (w *ticketWorkflow) recordApproval(ctx workflow.Context, in RecordApprovalInput) (schema.Ticket, error) {
	by := Actor{ID: ApprovalWorkflowID(in.ApprovalID), Role: "system"}
	err := w.apply(ctx, cause{actor: by}, func() error { return w.validateRecordApproval(ctx, in) }, func(now time.Time, wr *schema.TicketWrite) {
		for i := range w.st.Approvals {
			if w.st.Approvals[i].ID == in.ApprovalID {
				w.st.Approvals[i].Open = false
			}
		}
		t := &w.st.Ticket
		if IsTerminal(t.BaseStatus) {
			return
		}
		status, base := in.Outcome.Status, in.Outcome.BaseStatus
		back := status == "" && in.WaitingStatus != "" && t.Status == in.WaitingStatus
		if back {
			status, base = in.PreviousStatus, in.PreviousBase
		}
		// Back to where it was may be New, which no ChangeStatus reaches: the wait never happened.
		allowed := CheckStatusMove(t.BaseStatus, base) == nil || (back && !IsTerminal(base))
		if status != "" && status != t.Status && allowed {
			w.moveStatus(now, wr, by, status, base, "approval "+in.ApprovalID+" "+in.State)
		}
		if in.Outcome.Note != "" {
			kind := in.Outcome.NoteType
			if kind == "" {
				kind = "internal"
			}
			t.ActionCount++
			wr.Actions = append(wr.Actions, schema.Action{TicketID: t.ID, ID: t.ActionCount, Type: kind, Body: in.Outcome.Note,
				HTML: in.Outcome.NoteHTML, AuthorID: by.ID, Origin: schema.OriginTrigger, CreatedAt: now})
		}
	})
	if err != nil {
		return w.st.Ticket, err
	}
	name := map[string]string{schema.ApprovalApproved: EventApprovalApproved, schema.ApprovalRejected: EventApprovalRejected,
		schema.ApprovalExpired: EventApprovalExpired}[in.State]
	if name != "" {
		w.raise(TriggerEvent{Name: name, Actor: by, Changes: map[string]rules.Change{},
			Payload: map[string]any{"approvalId": in.ApprovalID, "state": in.State, "approved": in.Approved, "reason": in.Reason}})
	}
	return w.st.Ticket, nil
}

// cancelApprovals cancels the open requests of a ticket that closed or was canceled; each
// records itself canceled.
func (w *ticketWorkflow) cancelApprovals(ctx workflow.Context) {
	for i, r := range w.st.Approvals {
		if !r.Open {
			continue
		}
		err := workflow.RequestCancelExternalWorkflow(ctx, ApprovalWorkflowID(r.ID), "").Get(ctx, nil)
		if err != nil {
			workflow.GetLogger(ctx).Warn("approval not canceled", "approval", r.ID, "err", err)
		}
		w.st.Approvals[i].Open = false
	}
}
