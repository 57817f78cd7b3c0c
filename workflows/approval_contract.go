package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// Approval workflow type, message names and activity names.
const (
	ApprovalWorkflowType = "Approval"

	// UpdateDecide is an approver's decision (DecideInput).
	UpdateDecide = "Decide"
	// SignalApproversChanged: a person asked by the request was deactivated or changed job
	// role or team (ApproversChanged); the request checks its pending approvers again.
	SignalApproversChanged = "ApproversChanged"

	// On the ticket: an agent asks for an approval (RequestApprovalInput), and a request
	// reports its outcome (RecordApprovalInput).
	UpdateRequestApproval = "RequestApproval"
	UpdateRecordApproval  = "RecordApproval"

	ActivityResolveApprovers       = "ResolveApprovers"
	ActivityResolveEscalation      = "ResolveEscalation"
	ActivityPersistApproval        = "PersistApproval"
	ActivityNotifyApprover         = "NotifyApprover"
	ActivityApprovalExpiry         = "ApprovalExpiry"
	ActivityRecordApprovalOnTicket = "RecordApprovalOnTicket"
)

// Approval kinds, types, quorum modes, rejection modes and expiry outcomes.
const (
	ApproverPerson   = "person"
	ApproverJobRole  = "jobRole"
	ApproverBoss     = "boss"
	ApproverTeam     = "team"
	ApproverWildcard = "wildcard"
	// ApproverEscalation marks steps added by an escalation (the removed approver's superior,
	// or the admins).
	ApproverEscalation = "escalation"

	ApprovalSequential   = "sequential"
	ApprovalSimultaneous = "simultaneous"

	QuorumAll     = "all"
	QuorumAny     = "any"
	QuorumCount   = "count"
	QuorumPercent = "percent"

	// RejectOnAny: one rejection rejects; RejectOnQuorum: go on until the quorum can no longer
	// be met.
	RejectOnAny    = "any"
	RejectOnQuorum = "quorum"

	ExpireApprove  = "approve"
	ExpireReject   = "reject"
	ExpireEscalate = "escalate"

	DecisionApprove = "approve"
	DecisionReject  = "reject"
)

// Trigger events an approval raises on its ticket.
const (
	EventApprovalRequested = rules.EventApprovalRequested
	EventApprovalApproved  = rules.EventApprovalApproved
	EventApprovalRejected  = rules.EventApprovalRejected
	EventApprovalExpired   = rules.EventApprovalExpired
)

// Search attributes of an Approval workflow (besides TicketId): its state and the approvers
// it waits for, so operators find every open approval in the Temporal UI.
var (
	SAApprovalState = temporal.NewSearchAttributeKeyKeyword("ApprovalState")
	SAApprovers     = temporal.NewSearchAttributeKeyKeywordList("Approvers")
)

// ApprovalWorkflowID is the readable workflow ID of a request: approval/123-4.
func ApprovalWorkflowID(id string) string { return "approval/" + id }

// ApprovalID is the id of the request started by a ticket's change number n: 123-4.
func ApprovalID(ticketID, n int64) string { return fmt.Sprintf("%d-%d", ticketID, n) }

// ApprovalSpec is an approval rule as a request uses it, frozen when the request starts (an
// edit of the rule applies to later requests), its statuses resolved to their base.
type ApprovalSpec struct {
	RuleID    string
	RuleName  string
	Type      string
	Quorum    schema.Quorum
	Rejection string
	Approvers []schema.ApproverEntry
	// WaitingStatus (and its base) is where the ticket waits; empty: it stays where it is.
	WaitingStatus, WaitingBase string
	OnApproved, OnRejected     OutcomeSpec
	// Reminders: none when ReminderMax is 0.
	ReminderFirst, ReminderEvery time.Duration
	ReminderMax                  int
	// ExpireAfter (0: never), counted in business hours of CalendarID when set.
	ExpireAfter time.Duration
	CalendarID  string
	OnExpire    string
}

// OutcomeSpec is an outcome's effect on the ticket, its status resolved.
type OutcomeSpec struct {
	Status, BaseStatus    string
	RequiresJustification bool
	Note, NoteType        string
	// NoteHTML is Note rendered and sanitized, as a message shows it.
	NoteHTML string `json:",omitempty"`
}

// ApprovalInput starts an Approval workflow run.
type ApprovalInput struct {
	ID       string
	TicketID int64
	// RequesterID is whom the ticket is for (its first client, else its creator): the boss
	// kind follows this person's bossId.
	RequesterID string
	RequestedBy Actor
	Spec        ApprovalSpec
	// Previous is the ticket's status before it moved to the waiting status, where an outcome
	// without a status of its own returns it.
	PreviousStatus, PreviousBase string
	// State is set when a run continues as new.
	State *ApprovalState `json:",omitempty"`
}

// ApprovalState is the whole state of a request, carried across continue-as-new.
type ApprovalState struct {
	Request schema.ApprovalRequest
	// Stage is the stage being decided; Stages how many the spec has (sequential: one per
	// approver entry; simultaneous: one).
	Stage int
	// Escalation: the stage is handed to its escalation steps (any one of them decides the
	// request); Level is the escalation chain's level reached (1 superior, 2 wildcard, 3 admins).
	Escalation bool
	Level      int
	// ExpiryEscalated: the expiry has handed the request on once already.
	ExpiryEscalated bool
	// Outbox is notices still to send (asked, no longer needed).
	Outbox []ApprovalNotice `json:",omitempty"`
	// Reported: the ticket has been told the outcome.
	Reported bool
}

// DecideInput is one decision. The API names the delegations the caller holds (delegators and
// windows); the workflow checks them against its own clock.
type DecideInput struct {
	Deadline
	Actor    Actor
	Decision string
	Comment  string
	// For lets the caller decide for someone who delegated to them, inside the window.
	For []Delegation `json:",omitempty"`
	// ApproverID, from a link, is the one approver the link was for (the actor is that approver).
	ViaLink bool `json:",omitempty"`
}

// Delegation is a window in which a substitute may decide for a person.
type Delegation struct {
	PersonID string
	From     time.Time
	Until    time.Time
}

// ApproversChanged names a person who was deactivated, or whose job role or teams changed.
type ApproversChanged struct {
	PersonID string
}

// ResolveInput asks who the approver entries name now, and which of the people in Check are
// inactive.
type ResolveInput struct {
	TicketID    int64
	RequesterID string
	Entries     []schema.ApproverEntry
	Check       []string `json:",omitempty"`
}

// ResolvedEntry is who one entry names (empty: nobody active), with a reason when nobody.
type ResolvedEntry struct {
	PersonIDs []string
	Reason    string `json:",omitempty"`
}

// ResolveResult is each entry's people, in the entries' order, and the people of Check who are
// inactive.
type ResolveResult struct {
	Entries  []ResolvedEntry
	Inactive []string `json:",omitempty"`
}

// EscalationInput asks whom to escalate to, from Level on: 1 the first active superior of
// After not in Exclude, 2 the wildcard (when the rule names it), 3 the active admins not in
// Exclude.
type EscalationInput struct {
	After    string
	Exclude  []string
	Level    int
	Wildcard bool
}

// EscalationResult is the first level from the one asked with somebody: its people (the
// wildcard: "*") and its name; nobody when no level has anyone.
type EscalationResult struct {
	PersonIDs []string
	Kind      string // superior, wildcard or admins
	Level     int
}

// ApprovalNotice is a notification to an approver: asked (with a one-time link), reminded (the
// n-th time) or no longer needed. Key makes it once only.
type ApprovalNotice struct {
	RequestID  string
	TicketID   int64
	ApproverID string
	Kind       string // asked, reminder, notNeeded
	N          int
	Message    string
	// LinkUntil is when an asked notice's link stops working.
	LinkUntil time.Time
}

// Notice kinds.
const (
	NoticeAsked     = "asked"
	NoticeReminder  = "reminder"
	NoticeNotNeeded = "notNeeded"
)

// ApprovalExpiryInput computes when a request expires: After from From, in business hours of
// CalendarID when set.
type ApprovalExpiryInput struct {
	From       time.Time
	After      time.Duration
	CalendarID string
}

// RequestApprovalInput asks the ticket for a request by the rule (resolved by the API or by
// the evaluation).
type RequestApprovalInput struct {
	Deadline
	Actor Actor
	Spec  ApprovalSpec
}

// RequestApprovalResult is the request started.
type RequestApprovalResult struct {
	ApprovalID string
	Ticket     schema.Ticket
}

// RecordApprovalInput is a request's outcome, for its ticket to apply.
type RecordApprovalInput struct {
	ApprovalID string
	State      string // approved, rejected, expired
	// Approved says which outcome an expiry took.
	Approved bool
	Outcome  OutcomeSpec
	// PreviousStatus is where the ticket returns when the outcome names no status.
	PreviousStatus, PreviousBase string
	WaitingStatus                string
	// Reason is why the request ended.
	Reason string
}

// RecordOnTicketInput is RecordApprovalInput addressed to its ticket, sent by an activity.
type RecordOnTicketInput struct {
	TicketID int64
	Record   RecordApprovalInput
}

// ApprovalRef is a ticket's note of a request it started.
type ApprovalRef struct {
	ID     string
	RuleID string
	Open   bool
	// Auto: started by the rule's own events (a rule starts by itself once per ticket).
	Auto bool `json:",omitempty"`
}
