package workflows

import (
	"slices"

	"github.com/switchboardhq/switchboard/schema"
)

// The arithmetic of a request, with no workflow in it: which steps make up the stage being
// decided, how many approvals it needs, and whether its outcome is certain yet.
//
// A sequential request has one stage per approver entry, decided by one approval: a person or
// a boss is one approver; a job role, a team or the wildcard names several people (or anyone),
// any one of whom decides for the entry. A simultaneous request is one stage in which every
// person named is an approver (the wildcard one more, filled by whoever decides it first), and
// the quorum counts them. An escalation hands the stage to its escalation steps: any one of them
// decides.

// stageCounts is the stage's steps by state.
type stageCounts struct {
	approved, rejected, pending, seats int
}

// counts counts the steps of stage (only escalation steps, when escalated).
func counts(steps []schema.ApprovalStep, stage int, escalated bool) stageCounts {
	var c stageCounts
	for _, s := range steps {
		if s.Stage != stage || (escalated && s.Kind != ApproverEscalation) {
			continue
		}
		switch s.State {
		case schema.StepApproved:
			c.approved++
		case schema.StepRejected:
			c.rejected++
		case schema.StepPending:
			c.pending++
		default:
			continue // removed, escalated, notNeeded: no longer a seat
		}
		c.seats++
	}
	return c
}

// needed is how many approvals the stage needs out of seats.
func needed(spec ApprovalSpec, seats int, escalated bool) int {
	if escalated || spec.Type == ApprovalSequential {
		return min(1, seats)
	}
	switch spec.Quorum.Mode {
	case QuorumAny:
		return min(1, seats)
	case QuorumCount:
		return min(spec.Quorum.Value, seats)
	case QuorumPercent:
		return min((seats*spec.Quorum.Value+99)/100, seats)
	}
	return seats // all
}

// stageOutcome says whether the stage is decided: approved, rejected, or "" (not yet). A stage
// with no seat left is neither: the caller moves on or escalates.
func stageOutcome(spec ApprovalSpec, c stageCounts, escalated bool) string {
	if c.seats == 0 {
		return ""
	}
	need := needed(spec, c.seats, escalated)
	switch {
	case c.approved >= need:
		return schema.ApprovalApproved
	case c.rejected > 0 && (spec.Rejection != RejectOnQuorum || escalated):
		return schema.ApprovalRejected
	case c.approved+c.pending < need:
		return schema.ApprovalRejected
	}
	return ""
}

// stages is how many stages the spec has.
func stages(spec ApprovalSpec) int {
	if spec.Type == ApprovalSequential {
		return len(spec.Approvers)
	}
	return 1
}

// pendingApprovers is who the request waits for, in step order, without repeats.
func pendingApprovers(steps []schema.ApprovalStep) []string {
	out := []string{}
	for _, s := range steps {
		if s.State == schema.StepPending && !slices.Contains(out, s.ApproverID) {
			out = append(out, s.ApproverID)
		}
	}
	return out
}

// askedBefore says whether person was asked by the request already.
func askedBefore(steps []schema.ApprovalStep, person string) bool {
	return slices.ContainsFunc(steps, func(s schema.ApprovalStep) bool { return s.ApproverID == person && s.AskedAt != nil })
}
