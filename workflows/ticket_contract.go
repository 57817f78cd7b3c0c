package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/switchboardhq/switchboard/schema"
)

// DefaultTaskQueue is the task queue every Switchboard workflow and activity runs on unless
// SWITCHBOARD_TASK_QUEUE says otherwise.
const DefaultTaskQueue = "switchboard"

// Ticket workflow type, message names and activity names.
const (
	TicketWorkflowType = "Ticket"

	UpdateAssign       = "Assign"
	UpdateAccept       = "Accept"
	UpdateChangeStatus = "ChangeStatus"
	UpdateAddAction    = "AddAction"
	UpdateSetFields    = "SetFields"
	UpdateReopen       = "Reopen"
	QueryState         = "State"

	// ActivityPersistTicket is Activities.PersistTicket, called by name so that this package
	// does not import the activities package.
	ActivityPersistTicket = "PersistTicket"
)

// ReopenWait is how long a run started to reopen a closed ticket waits for its Reopen update.
const ReopenWait = time.Minute

// DefaultAutoCloseAfter is how long a resolved ticket waits before it closes by itself.
const DefaultAutoCloseAfter = 7 * 24 * time.Hour

// Search attributes the ticket workflow keeps current, so operators can find tickets in the
// Temporal UI. SearchAttributeTypes lists them with their types for registration.
var (
	SATicketID     = temporal.NewSearchAttributeKeyInt64("TicketId")
	SATicketStatus = temporal.NewSearchAttributeKeyKeyword("TicketStatus")
	SABaseStatus   = temporal.NewSearchAttributeKeyKeyword("BaseStatus")
	SAUrgency      = temporal.NewSearchAttributeKeyKeyword("Urgency")
	SAOwnerID      = temporal.NewSearchAttributeKeyKeyword("OwnerId")
	SATeamID       = temporal.NewSearchAttributeKeyKeyword("TeamId")
	SASlaDue       = temporal.NewSearchAttributeKeyTime("SlaDue")
)

// SearchAttributeTypes maps each search attribute to the type name the Temporal CLI and the
// operator service use.
var SearchAttributeTypes = map[string]string{
	"TicketId": "Int", "TicketStatus": "Keyword", "BaseStatus": "Keyword", "Urgency": "Keyword",
	"OwnerId": "Keyword", "TeamId": "Keyword", "SlaDue": "Datetime",
	"ApprovalState": "Keyword", "Approvers": "KeywordList", // the Approval's (approval_contract.go)
	"ChatGroup": "Keyword", "ChatAgent": "Keyword", "ChatState": "Keyword", // the ChatSession's (chat_contract.go)
}

// TicketStartOptions starts a new ticket's workflow: refused when one with the ID runs already,
// eagerly executed by a worker in the same process when there is one, with the search
// attributes set from the start (so the first workflow task need not upsert them).
func TicketStartOptions(t schema.Ticket, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID: TicketWorkflowID(t.ID), TaskQueue: taskQueue,
		WorkflowExecutionErrorWhenAlreadyStarted: true, EnableEagerStart: true,
		TypedSearchAttributes: temporal.NewSearchAttributes(searchAttributeUpdates(t)...),
	}
}

// searchAttributeUpdates is the ticket's search attributes; empty keywords are unset. SlaDue is
// the nearest unmet deadline, published only for tickets with an SLA.
func searchAttributeUpdates(t schema.Ticket) []temporal.SearchAttributeUpdate {
	u := []temporal.SearchAttributeUpdate{
		SATicketID.ValueSet(t.ID), SATicketStatus.ValueSet(t.Status), SABaseStatus.ValueSet(t.BaseStatus),
		keywordOrUnset(SAUrgency, t.Urgency), keywordOrUnset(SAOwnerID, deref(t.OwnerID)),
		keywordOrUnset(SATeamID, deref(t.TeamID)),
	}
	if hasSLA(t) {
		if due := nearestDue(t); due != nil {
			u = append(u, SASlaDue.ValueSet(*due))
		} else {
			u = append(u, SASlaDue.ValueUnset())
		}
	}
	return u
}

func keywordOrUnset(k temporal.SearchAttributeKeyKeyword, v string) temporal.SearchAttributeUpdate {
	if v == "" {
		return k.ValueUnset()
	}
	return k.ValueSet(v)
}

// TicketWorkflowID is the readable workflow ID of a ticket: ticket/123.
func TicketWorkflowID(id int64) string { return "ticket/" + strconv.FormatInt(id, 10) }

// Actor is who asks for a change. Role is admin, agent, customer or system.
type Actor struct {
	ID   string
	Role string
}

// SystemActor makes the changes the workflow decides by itself (auto-close).
var SystemActor = Actor{ID: "system", Role: "system"}

// TicketInput starts a ticket workflow run.
type TicketInput struct {
	State TicketState
	// Pending is a write to persist before anything else: the creation of the ticket.
	Pending *schema.TicketWrite `json:",omitempty"`
	// Events are trigger events not yet evaluated when the previous run continued as new.
	Events []TriggerEvent `json:",omitempty"`
	// AwaitReopen starts a new run of a closed or canceled ticket that waits for the Reopen
	// update sent with it (update-with-start), and ends again if none comes.
	AwaitReopen    bool `json:",omitempty"`
	AutoCloseAfter time.Duration
	// Creator is who created the ticket (the actor of its ticket.created event).
	Creator Actor `json:",omitempty"`
	// MaxChangesPerRun makes the run continue-as-new after that many changes even when Temporal
	// does not suggest it yet (0: only when suggested). Tests use it.
	MaxChangesPerRun int `json:",omitempty"`
	// ConfigGeneration is the configuration generation the creation's evaluation must see
	// (schema.ReserveTicket): edits committed before the ticket was created apply to it even
	// on a worker whose cache has not heard of them yet.
	ConfigGeneration int64 `json:",omitempty"`
}

// TicketState is the whole state of a ticket workflow, carried across continue-as-new.
type TicketState struct {
	Ticket schema.Ticket
	// Status and Owner are the open entries of the status and owner histories.
	Status schema.StatusChange
	Owner  schema.OwnerChange
	// LastPublicActionAt is when the last public reply was added.
	LastPublicActionAt *time.Time `json:",omitempty"`
	// Timers are the time conditions to keep timers for; Fired the ones that fired, by
	// trigger, version and moment, so that each fires once per moment.
	Timers []TimerSpec `json:",omitempty"`
	Fired  []string    `json:",omitempty"`
	// SLA is the ticket's deadlines' bookkeeping.
	SLA SLAState
	// Approvals are the approval requests the ticket started, open or done.
	Approvals []ApprovalRef `json:",omitempty"`
}

// CreateTicket is a new ticket, fully resolved and validated by the API.
type CreateTicket struct {
	ID           int64
	Type         string
	Subject      string
	Category     string
	Urgency      string
	Status       string
	BaseStatus   string
	Origin       int
	OwnerID      *string
	TeamID       *string
	ClientIDs    []string
	Tags         []string
	CustomFields map[string]any
	Description  string
	// DescriptionType is the first action's type: public (the default) or internal.
	DescriptionType string
	CreatedBy       string
	CreatedAt       time.Time
	ParentID        *int64
}

// NewTicket builds the initial state of a ticket and the write that creates it. The API and the
// workflow both persist that write (whichever lands first wins; the other is a no-op).
func NewTicket(c CreateTicket) (TicketState, schema.TicketWrite) {
	t := schema.Ticket{
		ID: c.ID, Protocol: Protocol(c.ID, c.CreatedAt), Type: c.Type, Subject: c.Subject,
		Category: c.Category, Urgency: c.Urgency, Status: c.Status, BaseStatus: c.BaseStatus,
		Origin: c.Origin, OwnerID: c.OwnerID, TeamID: c.TeamID, ClientIDs: orEmpty(c.ClientIDs),
		Tags: orEmpty(c.Tags), CustomFields: c.CustomFields, CreatedBy: c.CreatedBy,
		CreatedAt: c.CreatedAt, UpdatedAt: c.CreatedAt, Seq: 1, ParentID: c.ParentID,
	}
	if t.CustomFields == nil {
		t.CustomFields = map[string]any{}
	}
	st := TicketState{Ticket: t}
	w := schema.TicketWrite{}
	if c.Description != "" {
		kind := "public"
		if c.DescriptionType == "internal" {
			kind = "internal"
		} else {
			st.LastPublicActionAt = &t.CreatedAt
		}
		st.Ticket.ActionCount = 1
		w.Actions = []schema.Action{{TicketID: c.ID, ID: 1, Type: kind, Body: c.Description,
			AuthorID: c.CreatedBy, Origin: c.Origin, CreatedAt: c.CreatedAt}}
	}
	st.Status = schema.StatusChange{TicketID: c.ID, Seq: 1, Status: c.Status, BaseStatus: c.BaseStatus,
		ChangedBy: c.CreatedBy, StartedAt: c.CreatedAt}
	w.Statuses = []schema.StatusChange{st.Status}
	if c.OwnerID != nil || c.TeamID != nil {
		st.Owner = schema.OwnerChange{TicketID: c.ID, Seq: 1, OwnerID: c.OwnerID, TeamID: c.TeamID,
			ChangedBy: c.CreatedBy, StartedAt: c.CreatedAt}
		w.Owners = []schema.OwnerChange{st.Owner}
	}
	if c.BaseStatus == schema.BaseResolved {
		st.Ticket.ResolvedAt = &t.CreatedAt
	}
	w.Ticket = st.Ticket
	return st, w
}

// Protocol is the ticket's human reference: creation date and number, e.g. 20261121-000042.
func Protocol(id int64, created time.Time) string {
	return fmt.Sprintf("%s-%06d", created.UTC().Format("20060102"), id)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// AssignInput changes the owner and/or the team. A nil field stays as it is; an empty string
// clears it. The API has checked that the agent and team exist and are active.
type AssignInput struct {
	Deadline
	Actor   Actor
	OwnerID *string
	TeamID  *string
}

// AcceptInput is an agent taking an unowned ticket.
type AcceptInput struct {
	Deadline
	Actor Actor
}

// ChangeStatusInput moves the ticket to a status. The API resolved BaseStatus and
// RequiresJustification from the status configuration.
type ChangeStatusInput struct {
	Deadline
	Actor                 Actor
	Status                string
	BaseStatus            string
	RequiresJustification bool
	Justification         string
}

// AddActionInput adds a reply or a note to the timeline.
type AddActionInput struct {
	Deadline
	Actor  Actor
	Type   string
	Body   string
	Origin int
	// The messenger's parts of a message: its kind (default text), its body rendered and
	// sanitized (by the sender's side, so the workflow does no rendering), the files it
	// carries (checked by the sender against the ticket's uploads) and the client's id.
	Kind        string                 `json:",omitempty"`
	HTML        string                 `json:",omitempty"`
	Attachments []schema.AttachmentRef `json:",omitempty"`
	ClientID    *string                `json:",omitempty"`
	// RequireOwner: staff may send a public message only on a ticket they own (accepted or
	// assigned); internal notes are open to every agent.
	RequireOwner bool `json:",omitempty"`
	// Video is the video session a video_session message opens, stored with the message.
	Video *schema.VideoOpened `json:",omitempty"`
}

// SetFieldsInput edits ticket fields; nil fields are left as they are. CustomFields is merged:
// a key set to nil is removed.
type SetFieldsInput struct {
	Deadline
	Actor        Actor
	Subject      *string
	Category     *string
	Urgency      *string
	Type         *string
	Tags         *[]string
	CustomFields map[string]any
	// Chat records the chat a ticket was joined by (its transcript added to the ticket): the
	// ticket's chat fields then name the latest such chat. Set by the chat's hand-over only.
	Chat *TicketChat `json:",omitempty"`
}

// TicketChat is a ticket's chat fields (schema.Ticket's Chat*).
type TicketChat struct {
	ID          string
	Group       *string
	Widget      *string
	WaitingTime *int64
	TalkTime    *int64
}

// ReopenInput reopens a resolved ticket, or a closed or canceled one in a new run started with
// AwaitReopen.
type ReopenInput struct {
	Deadline
	Actor Actor
}

// Error types of rejected updates, mapped by the API to 409 and 422.
const (
	ErrTypeConflict = "Conflict"
	ErrTypeInvalid  = "Invalid"
)

// Conflict is a change that the ticket's current state does not allow.
func Conflict(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeConflict, nil)
}

// Invalid is a change with a bad field; the field name travels as the error's detail.
func Invalid(field, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeInvalid, nil, field)
}

// allowedMoves lists, per base status, the base statuses ChangeStatus may move a ticket to.
// Closed is reached only from Resolved (directly or by the auto-close timer); New is only where a
// ticket starts; Closed and Canceled end the workflow and come back only through reopen.
var allowedMoves = map[string][]string{
	schema.BaseNew:          {schema.BaseNew, schema.BaseInAttendance, schema.BaseStopped, schema.BaseResolved, schema.BaseCanceled},
	schema.BaseInAttendance: {schema.BaseInAttendance, schema.BaseStopped, schema.BaseResolved, schema.BaseCanceled},
	schema.BaseStopped:      {schema.BaseStopped, schema.BaseInAttendance, schema.BaseResolved, schema.BaseCanceled},
	schema.BaseResolved:     {schema.BaseResolved, schema.BaseInAttendance, schema.BaseStopped, schema.BaseClosed, schema.BaseCanceled},
}

// CheckStatusMove says whether a ticket in base status from may move to base status to.
func CheckStatusMove(from, to string) error {
	allowed, open := allowedMoves[from]
	if !open {
		return Conflict("ticket is %s; reopen it before changing its status", from)
	}
	if !slices.Contains(allowed, to) {
		return Conflict("a ticket in base status %s cannot move to base status %s (allowed: %v)", from, to, allowed)
	}
	return nil
}

// IsTerminal says whether a base status ends the ticket's workflow.
func IsTerminal(base string) bool { return base == schema.BaseClosed || base == schema.BaseCanceled }

// ErrorField returns the field named by an Invalid error, if any.
func ErrorField(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.HasDetails() {
		var field string
		if appErr.Details(&field) == nil {
			return field
		}
	}
	return ""
}
