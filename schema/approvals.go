package schema

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Approval request states.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalRejected = "rejected"
	ApprovalExpired  = "expired"
	ApprovalCanceled = "canceled"
)

// Step states: pending (asked), approved, rejected,
// notNeeded (the request was decided without it), removed (the approver left: deactivated or no
// longer holding the role), escalated (expired and handed on), canceled (the request ended
// otherwise).
const (
	StepPending   = "pending"
	StepApproved  = "approved"
	StepRejected  = "rejected"
	StepNotNeeded = "notNeeded"
	StepRemoved   = "removed"
	StepEscalated = "escalated"
	StepCanceled  = "canceled"
)

// WildcardApprover is a step's approverId when any agent may decide it.
const WildcardApprover = "*"

// JobRole is an entry of the list of job roles admins maintain (persons.job_role).
type JobRole struct {
	bun.BaseModel `bun:"table:job_roles" json:"-"`

	Name      string    `bun:"name,pk" json:"name"`
	CreatedAt time.Time `bun:"created_at" json:"createdAt"`
}

// ApprovalRule asks for an approval when a ticket event matches its condition (or by hand).
type ApprovalRule struct {
	bun.BaseModel `bun:"table:approval_rules" json:"-"`

	ID            string          `bun:"id,pk" json:"id"`
	Name          string          `bun:"name" json:"name"`
	Enabled       bool            `bun:"enabled" json:"enabled"`
	Position      int             `bun:"position" json:"position"`
	Condition     string          `bun:"condition" json:"condition"`
	Events        []string        `bun:"events,array" json:"events"`
	Type          string          `bun:"type" json:"type"`
	Quorum        Quorum          `bun:"quorum,type:jsonb" json:"quorum"`
	Rejection     string          `bun:"rejection" json:"rejection"`
	Approvers     []ApproverEntry `bun:"approvers,type:jsonb" json:"approvers"`
	WaitingStatus string          `bun:"waiting_status" json:"waitingStatus"`
	OnApproved    ApprovalOutcome `bun:"on_approved,type:jsonb" json:"onApproved"`
	OnRejected    ApprovalOutcome `bun:"on_rejected,type:jsonb" json:"onRejected"`
	Reminders     *Reminders      `bun:"reminders,type:jsonb" json:"reminders"`
	ExpireAfter   string          `bun:"expire_after" json:"expireAfter"`
	CalendarID    string          `bun:"calendar_id" json:"calendarId"`
	OnExpire      string          `bun:"on_expire" json:"onExpire"`
	Version       int             `bun:"version" json:"version"`
	CreatedAt     time.Time       `bun:"created_at" json:"createdAt"`
	UpdatedAt     time.Time       `bun:"updated_at" json:"updatedAt"`
}

// Quorum is how many approvals a simultaneous request needs: all, any, count (value approvers)
// or percent (value % of them, rounded up).
type Quorum struct {
	Mode  string `json:"mode"`
	Value int    `json:"value,omitempty"`
}

// ApproverEntry names approvers: a person, the holders of a job role, the requester's boss,
// the members of a team, or the wildcard (any agent).
type ApproverEntry struct {
	Kind     string `json:"kind"`
	PersonID string `json:"personId,omitempty"`
	JobRole  string `json:"jobRole,omitempty"`
	TeamID   string `json:"teamId,omitempty"`
}

// ApprovalOutcome is what an outcome does to the ticket: the status it moves to (empty: back
// to the one it had before the request) and a note (empty: none) of the note type.
type ApprovalOutcome struct {
	Status   string `json:"status,omitempty"`
	Note     string `json:"note,omitempty"`
	NoteType string `json:"noteType,omitempty"`
}

// Reminders: the first after First, then every Every, at most Max (durations as "4h").
type Reminders struct {
	First string `json:"first"`
	Every string `json:"every,omitempty"`
	Max   int    `json:"max"`
}

// ApprovalRequest is one request's read model, written by its workflow.
type ApprovalRequest struct {
	bun.BaseModel `bun:"table:approval_requests" json:"-"`

	ID          string         `bun:"id,pk" json:"id"`
	TicketID    int64          `bun:"ticket_id" json:"ticketId"`
	RuleID      string         `bun:"rule_id" json:"ruleId"`
	RuleName    string         `bun:"rule_name" json:"ruleName"`
	State       string         `bun:"state" json:"state"`
	Type        string         `bun:"type" json:"type"`
	Quorum      Quorum         `bun:"quorum,type:jsonb" json:"quorum"`
	Steps       []ApprovalStep `bun:"steps,type:jsonb" json:"steps"`
	Pending     []string       `bun:"pending,array" json:"-"`
	RequestedBy string         `bun:"requested_by" json:"requestedBy"`
	RequesterID string         `bun:"requester_id" json:"requesterId"`
	ExpiresAt   *time.Time     `bun:"expires_at" json:"expiresAt"`
	EndReason   string         `bun:"end_reason" json:"endReason"`
	Seq         int64          `bun:"seq" json:"-"`
	CreatedAt   time.Time      `bun:"created_at" json:"createdAt"`
	UpdatedAt   time.Time      `bun:"updated_at" json:"updatedAt"`
	EndedAt     *time.Time     `bun:"ended_at" json:"endedAt"`
}

// ApprovalStep is one approver asked (or to be asked) by a request.
type ApprovalStep struct {
	ApproverID string      `json:"approverId"`
	Stage      int         `json:"stage"`
	Entry      int         `json:"entry"` // the rule's approver entry (-1: an escalation)
	Kind       string      `json:"kind"`
	State      string      `json:"state"`
	AskedAt    *time.Time  `json:"askedAt"`
	RemindedAt []time.Time `json:"remindedAt"`
	DecidedAt  *time.Time  `json:"decidedAt"`
	Decision   string      `json:"decision,omitempty"`
	Comment    string      `json:"comment,omitempty"`
	DecidedBy  string      `json:"decidedBy,omitempty"`
	OnBehalfOf string      `json:"onBehalfOf,omitempty"`
	ViaLink    bool        `json:"viaLink,omitempty"`
	Reason     string      `json:"reason,omitempty"`
}

// ApprovalLink is a one-time link an approver decides from without a session.
type ApprovalLink struct {
	bun.BaseModel `bun:"table:approval_links" json:"-"`

	TokenHash  string     `bun:"token_hash,pk"`
	RequestID  string     `bun:"request_id"`
	ApproverID string     `bun:"approver_id"`
	DedupeKey  string     `bun:"dedupe_key"`
	ExpiresAt  time.Time  `bun:"expires_at"`
	UsedAt     *time.Time `bun:"used_at"`
	CreatedAt  time.Time  `bun:"created_at,default:current_timestamp"`
}

// ApprovalDelegation lets a substitute decide for a person inside a time window.
type ApprovalDelegation struct {
	bun.BaseModel `bun:"table:approval_delegations" json:"-"`

	ID           string    `bun:"id,pk" json:"id"`
	PersonID     string    `bun:"person_id" json:"personId"`
	SubstituteID string    `bun:"substitute_id" json:"substituteId"`
	StartsAt     time.Time `bun:"starts_at" json:"startsAt"`
	EndsAt       time.Time `bun:"ends_at" json:"endsAt"`
	CreatedAt    time.Time `bun:"created_at" json:"createdAt"`
}

// SaveApprovalRequest writes a request's row unless a newer write (higher seq) is there.
func SaveApprovalRequest(ctx context.Context, db bun.IDB, r *ApprovalRequest) error {
	if r.Steps == nil {
		r.Steps = []ApprovalStep{}
	}
	if r.Pending == nil {
		r.Pending = []string{}
	}
	_, err := db.NewInsert().Model(r).
		On("CONFLICT (id) DO UPDATE").
		Set("state = EXCLUDED.state, steps = EXCLUDED.steps, pending = EXCLUDED.pending, expires_at = EXCLUDED.expires_at").
		Set("end_reason = EXCLUDED.end_reason, seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at, ended_at = EXCLUDED.ended_at").
		Where("approval_request.seq < EXCLUDED.seq").
		Returning("NULL").Exec(ctx)
	return err
}

// TicketApprovals is a ticket's approval requests, oldest first.
func TicketApprovals(ctx context.Context, db bun.IDB, ticketID int64) ([]ApprovalRequest, error) {
	out := []ApprovalRequest{}
	err := db.NewSelect().Model(&out).Where("ticket_id = ?", ticketID).OrderExpr("created_at, id").Scan(ctx)
	return out, err
}
