package schema

import (
	"time"

	"github.com/uptrace/bun"
)

// CallMember is an agent of a call group with the extension calls are sent to.
type CallMember struct {
	AgentID   string `json:"agentId"`
	Extension string `json:"extension"`
}

// CallGroup is a PBX queue: the queueId the PBX sends, its agents in distribution order, and
// the calendar of its opening hours (none: always open).
type CallGroup struct {
	bun.BaseModel `bun:"table:call_groups" json:"-"`

	ID         string       `bun:"id,pk" json:"id"`
	QueueID    int64        `bun:"queue_id" json:"queueId"`
	Name       string       `bun:"name" json:"name"`
	CalendarID *string      `bun:"calendar_id" json:"calendarId"`
	Members    []CallMember `bun:"members,type:jsonb" json:"members"`
	RRNext     int          `bun:"rr_next" json:"-"`
	IsActive   bool         `bun:"is_active" json:"isActive"`
	CreatedAt  time.Time    `bun:"created_at" json:"createdAt"`
	UpdatedAt  time.Time    `bun:"updated_at" json:"updatedAt"`
}

// AgentTelephony is an agent's telephony status.
type AgentTelephony struct {
	bun.BaseModel `bun:"table:agent_telephony" json:"-"`

	PersonID      string    `bun:"person_id,pk" json:"agentId"`
	Online        bool      `bun:"online" json:"online"`
	PhoneOnline   bool      `bun:"phone_online" json:"phoneOnline"`
	CurrentCallID *string   `bun:"current_call_id" json:"currentCallId"`
	UpdatedAt     time.Time `bun:"updated_at" json:"updatedAt"`
}

// Call offer states.
const (
	OfferQueued  = "queued"
	OfferOffered = "offered"
	OfferOngoing = "ongoing"
	OfferEnded   = "ended"
)

// CallOffer is the distribution ledger of one call.
type CallOffer struct {
	bun.BaseModel `bun:"table:call_offers"`

	CallID       string     `bun:"call_id,pk"`
	QueueID      int64      `bun:"queue_id"`
	GroupID      string     `bun:"group_id"`
	ClientNumber string     `bun:"client_number"`
	ReceivedAt   time.Time  `bun:"received_at"`
	Round        []string   `bun:"round,array"`
	Offered      []string   `bun:"offered,array"`
	Extension    *string    `bun:"extension"`
	AgentID      *string    `bun:"agent_id"`
	OfferedAt    *time.Time `bun:"offered_at"`
	State        string     `bun:"state"`
	EndKind      *string    `bun:"end_kind"`
	// LastAnswer is what the PBX was told last: an extension or a code.
	LastAnswer *string   `bun:"last_answer"`
	UpdatedAt  time.Time `bun:"updated_at"`
}

// CallEvent is one entry of a call's timeline.
type CallEvent struct {
	Type      string    `json:"type"`
	At        time.Time `json:"at"`
	Extension string    `json:"extension,omitempty"`
	AgentID   string    `json:"agentId,omitempty"`
	Code      *int      `json:"code,omitempty"`
	Link      string    `json:"link,omitempty"`
	Note      string    `json:"note,omitempty"`
}

// Call is a phone call as its PhoneCall workflow persists it.
type Call struct {
	bun.BaseModel `bun:"table:calls" json:"-"`

	ID             string      `bun:"id,pk" json:"id"`
	QueueID        int64       `bun:"queue_id" json:"queueId"`
	GroupID        string      `bun:"group_id" json:"groupId"`
	ClientNumber   string      `bun:"client_number" json:"clientNumber"`
	CallerID       *string     `bun:"caller_id" json:"callerId"`
	State          string      `bun:"state" json:"state"`
	AgentID        *string     `bun:"agent_id" json:"agentId"`
	Extension      *string     `bun:"extension" json:"extension"`
	ReceivedAt     time.Time   `bun:"received_at" json:"receivedAt"`
	TransferredAt  *time.Time  `bun:"transferred_at" json:"transferredAt"`
	EndedAt        *time.Time  `bun:"ended_at" json:"endedAt"`
	WaitingSeconds *int        `bun:"waiting_seconds" json:"waitingSeconds"`
	TalkSeconds    *int        `bun:"talk_seconds" json:"talkSeconds"`
	Link           *string     `bun:"link" json:"link"`
	TicketID       *int64      `bun:"ticket_id" json:"ticketId"`
	EndReason      *string     `bun:"end_reason" json:"endReason"`
	Events         []CallEvent `bun:"events,type:jsonb" json:"events"`
	Seq            int64       `bun:"seq" json:"version"`
	CreatedAt      time.Time   `bun:"created_at" json:"createdAt"`
	UpdatedAt      time.Time   `bun:"updated_at" json:"updatedAt"`
}
