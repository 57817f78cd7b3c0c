// Package schema holds the bun models of Switchboard's records and the writes shared by the API
// and the worker. JSON tags are the API's camelCase names, so one struct serves the table, the
// workflow state and the response.
package schema

import (
	"time"

	"github.com/uptrace/bun"
)

// Base statuses, with Movidesk's names.
const (
	BaseNew          = "New"
	BaseInAttendance = "InAttendance"
	BaseStopped      = "Stopped"
	BaseResolved     = "Resolved"
	BaseClosed       = "Closed"
	BaseCanceled     = "Canceled"
)

// BaseStatuses lists the base statuses in their natural order.
var BaseStatuses = []string{BaseNew, BaseInAttendance, BaseStopped, BaseResolved, BaseClosed, BaseCanceled}

// Origins, with Movidesk's codes.
const (
	OriginWebCustomer  = 1
	OriginWebAgent     = 2
	OriginEmail        = 3
	OriginTrigger      = 4
	OriginChat         = 5
	OriginWebForm      = 8
	OriginAPI          = 9
	OriginScheduled    = 10
	OriginReceivedCall = 13
	OriginMadeCall     = 14
	OriginLostCall     = 15
	OriginDropoutCall  = 16
)

// Origins lists every origin code a ticket or action may carry.
var Origins = []int{1, 2, 3, 4, 5, 8, 9, 10, 13, 14, 15, 16}

// Roles and profiles of a person.
const (
	RoleAdmin    = "admin"
	RoleAgent    = "agent"
	RoleCustomer = "customer"
)

// Person is a person, an organization or a department.
type Person struct {
	bun.BaseModel `bun:"table:persons" json:"-"`

	ID             string   `bun:"id,pk" json:"id"`
	Kind           string   `bun:"kind" json:"kind"`
	Profile        string   `bun:"profile" json:"profile"`
	Role           string   `bun:"role" json:"role"`
	Name           string   `bun:"name" json:"name"`
	Emails         []string `bun:"emails,array" json:"emails"`
	Phones         []string `bun:"phones,array" json:"phones"`
	OrganizationID *string  `bun:"organization_id" json:"organizationId"`
	DepartmentIDs  []string `bun:"department_ids,array" json:"departmentIds"`
	BossID         *string  `bun:"boss_id" json:"bossId"`
	// JobRole is the person's job (from the job_roles list), which approval rules name; it is
	// not the access role.
	JobRole        *string        `bun:"job_role" json:"jobRole"`
	Extension      *string        `bun:"extension" json:"extension"`
	SeesOrgTickets bool           `bun:"sees_org_tickets" json:"seesOrganizationTickets"`
	IsActive       bool           `bun:"is_active" json:"isActive"`
	CustomFields   map[string]any `bun:"custom_fields,type:jsonb" json:"customFields"`
	CreatedAt      time.Time      `bun:"created_at" json:"createdAt"`
	UpdatedAt      time.Time      `bun:"updated_at" json:"updatedAt"`
}

// Team is a group of agents.
type Team struct {
	bun.BaseModel `bun:"table:teams" json:"-"`

	ID       string `bun:"id,pk" json:"id"`
	Name     string `bun:"name" json:"name"`
	IsActive bool   `bun:"is_active" json:"isActive"`
	// VideoSessions says whether the team's agents may open video sessions from a ticket.
	VideoSessions bool      `bun:"video_sessions,default:true" json:"videoSessions"`
	MemberIDs     []string  `bun:"-" json:"memberIds"`
	CreatedAt     time.Time `bun:"created_at" json:"createdAt"`
	UpdatedAt     time.Time `bun:"updated_at" json:"updatedAt"`
}

// TeamMember links an agent to a team.
type TeamMember struct {
	bun.BaseModel `bun:"table:team_members"`

	TeamID   string `bun:"team_id,pk"`
	PersonID string `bun:"person_id,pk"`
}

// APIToken is a bearer token; only its SHA-256 hash is stored.
type APIToken struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID        string     `bun:"id,pk"`
	PersonID  string     `bun:"person_id"`
	Name      string     `bun:"name"`
	Scopes    []string   `bun:"scopes,array"`
	Hash      []byte     `bun:"hash"`
	CreatedAt time.Time  `bun:"created_at"`
	RevokedAt *time.Time `bun:"revoked_at"`
}

// Status is a ticket status, mapped to a base status.
type Status struct {
	bun.BaseModel `bun:"table:statuses" json:"-"`

	Name                  string    `bun:"name,pk" json:"name"`
	BaseStatus            string    `bun:"base_status" json:"baseStatus"`
	RequiresJustification bool      `bun:"requires_justification" json:"requiresJustification"`
	IsSystem              bool      `bun:"is_system" json:"isSystem"`
	IsActive              bool      `bun:"is_active" json:"isActive"`
	Position              int       `bun:"position" json:"position"`
	CreatedAt             time.Time `bun:"created_at" json:"createdAt"`
	UpdatedAt             time.Time `bun:"updated_at" json:"updatedAt"`
}

// Ticket is the ticket record. The ticket workflow owns it while the ticket is open; this row is
// its projection, written with a rising Seq.
type Ticket struct {
	bun.BaseModel `bun:"table:tickets" json:"-"`

	ID           int64          `bun:"id,pk" json:"id"`
	Protocol     string         `bun:"protocol" json:"protocol"`
	Type         string         `bun:"type" json:"type"`
	Subject      string         `bun:"subject" json:"subject"`
	Category     string         `bun:"category" json:"category"`
	Urgency      string         `bun:"urgency" json:"urgency"`
	Status       string         `bun:"status" json:"status"`
	BaseStatus   string         `bun:"base_status" json:"baseStatus"`
	Origin       int            `bun:"origin" json:"origin"`
	OwnerID      *string        `bun:"owner_id" json:"ownerId"`
	TeamID       *string        `bun:"team_id" json:"teamId"`
	ClientIDs    []string       `bun:"client_ids,array" json:"clientIds"`
	Tags         []string       `bun:"tags,array" json:"tags"`
	CustomFields map[string]any `bun:"custom_fields,type:jsonb" json:"customFields"`
	CreatedBy    string         `bun:"created_by" json:"createdBy"`
	CreatedAt    time.Time      `bun:"created_at" json:"createdAt"`
	UpdatedAt    time.Time      `bun:"updated_at" json:"updatedAt"`
	ResolvedAt   *time.Time     `bun:"resolved_at" json:"resolvedAt"`
	ClosedAt     *time.Time     `bun:"closed_at" json:"closedAt"`
	ActionCount  int            `bun:"action_count" json:"actionCount"`
	ParentID     *int64         `bun:"parent_id" json:"parentId"`
	// SLA: the deadlines the ticket's workflow keeps (see workflows/sla.go).
	SLAPolicyID            *string    `bun:"sla_policy_id" json:"slaPolicyId"`
	SLAResponseDue         *time.Time `bun:"sla_response_due" json:"slaResponseDue"`
	SLASolutionDue         *time.Time `bun:"sla_solution_due" json:"slaSolutionDue"`
	SLASolutionDueIsPaused bool       `bun:"sla_solution_due_is_paused" json:"slaSolutionDueIsPaused"`
	SLARealResponseDate    *time.Time `bun:"sla_real_response_date" json:"slaRealResponseDate"`
	SLAManualBy            *string    `bun:"sla_manual_by" json:"slaManualBy"`
	// Chat: the ticket a closed chat became (origin 5): the chat, its group and widget, the
	// seconds the visitor waited in the queue and the seconds the chat was active.
	ChatID          *string `bun:"chat_id" json:"chatId"`
	ChatGroup       *string `bun:"chat_group" json:"chatGroup"`
	ChatWidget      *string `bun:"chat_widget" json:"chatWidget"`
	ChatWaitingTime *int64  `bun:"chat_waiting_time" json:"chatWaitingTime"`
	ChatTalkTime    *int64  `bun:"chat_talk_time" json:"chatTalkTime"`
	// Version rises with every change the workflow persists (Seq in the table).
	Seq   int64  `bun:"seq" json:"version"`
	RunID string `bun:"run_id" json:"-"` // set by the persisting activity from its own info
}

// Action is one entry of a ticket's timeline: a public reply or an internal note.
type Action struct {
	bun.BaseModel `bun:"table:ticket_actions" json:"-"`

	TicketID  int64     `bun:"ticket_id,pk" json:"-"`
	ID        int       `bun:"id,pk" json:"id"`
	Type      string    `bun:"type" json:"type"`
	Body      string    `bun:"body" json:"body"`
	AuthorID  string    `bun:"author_id" json:"authorId"`
	Origin    int       `bun:"origin" json:"origin"`
	CreatedAt time.Time `bun:"created_at" json:"createdAt"`
	// Kind is what the message is (MessageKinds); HTML its body rendered and sanitized.
	Kind        string          `bun:"kind,nullzero,default:'text'" json:"kind"`
	HTML        string          `bun:"html" json:"html"`
	Attachments []AttachmentRef `bun:"attachments,type:jsonb,nullzero,default:'[]'" json:"attachments"`
	// ClientID is the sender's own id for the message: sending it again is a no-op.
	ClientID *string `bun:"client_id" json:"clientMessageId,omitempty"`
	// WriteSeq is the ticket write that added it (set by SaveTicket): the conversation's order.
	WriteSeq int64 `bun:"write_seq" json:"-"`
}

// Message kinds. An update is not sent: it is a status or owner change as the conversation
// shows it.
const (
	KindText          = "text"
	KindVoice         = "voice"
	KindAssistantLink = "assistant_link"
	KindVideoSession  = "video_session"
	KindUpdate        = "update"
)

// MessageKinds are the kinds a message may be sent as.
var MessageKinds = []string{KindText, KindVoice, KindAssistantLink, KindVideoSession}

// AttachmentRef is a file a message carries, as its readers see it.
type AttachmentRef struct {
	ID          string `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
}

// StatusChange is one entry of a ticket's status history.
type StatusChange struct {
	bun.BaseModel `bun:"table:ticket_status_history" json:"-"`

	TicketID      int64      `bun:"ticket_id,pk" json:"-"`
	Seq           int        `bun:"seq,pk" json:"seq"`
	Status        string     `bun:"status" json:"status"`
	BaseStatus    string     `bun:"base_status" json:"baseStatus"`
	Justification string     `bun:"justification" json:"justification"`
	ChangedBy     string     `bun:"changed_by" json:"changedBy"`
	StartedAt     time.Time  `bun:"started_at" json:"startedAt"`
	EndedAt       *time.Time `bun:"ended_at" json:"endedAt"`
	WriteSeq      int64      `bun:"write_seq" json:"-"`
}

// OwnerChange is one entry of a ticket's owner history.
type OwnerChange struct {
	bun.BaseModel `bun:"table:ticket_owner_history" json:"-"`

	TicketID  int64      `bun:"ticket_id,pk" json:"-"`
	Seq       int        `bun:"seq,pk" json:"seq"`
	OwnerID   *string    `bun:"owner_id" json:"ownerId"`
	TeamID    *string    `bun:"team_id" json:"teamId"`
	ChangedBy string     `bun:"changed_by" json:"changedBy"`
	StartedAt time.Time  `bun:"started_at" json:"startedAt"`
	EndedAt   *time.Time `bun:"ended_at" json:"endedAt"`
	WriteSeq  int64      `bun:"write_seq" json:"-"`
}

// AuditEntry records a configuration change: who changed what, and when.
type AuditEntry struct {
	bun.BaseModel `bun:"table:audit_log"`

	ID       int64     `bun:"id,pk,autoincrement"`
	ActorID  string    `bun:"actor_id"`
	Entity   string    `bun:"entity"`
	EntityID string    `bun:"entity_id"`
	Action   string    `bun:"action"`
	Before   any       `bun:"before,type:jsonb"`
	After    any       `bun:"after,type:jsonb"`
	At       time.Time `bun:"at,default:current_timestamp"`
}
