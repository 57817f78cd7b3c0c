package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/switchboardhq/switchboard/internal/chatconfig"
	"github.com/switchboardhq/switchboard/schema"
)

// ChatSession workflow type, message names and activity names. The activities are called by
// name (this package does not import activities); activities/chat.go implements them.
const (
	ChatSessionWorkflowType = "ChatSession"

	UpdateChatOffer       = "Offer"
	UpdateChatAccept      = "Accept"
	UpdateChatSendMessage = "SendMessage"
	UpdateChatTransfer    = "Transfer"
	UpdateChatInvite      = "Invite"
	UpdateChatLeave       = "Leave"
	UpdateChatClose       = "Close"
	// The query is QueryState ("State"): it answers a ChatView.

	// ActivityPersistChat writes a ChatWrite (local activity, projection options: it waits out
	// a PostgreSQL outage). Idempotent: keyed by chat id + Version, messages by chat id + Seq.
	ActivityPersistChat = "PersistChat"
	// ActivityNotifyChatDistributor tells the group's distributor a ChatDistributorEvent
	// (regular activity, retried until it lands; events leave in order from ChatState.Outbox).
	ActivityNotifyChatDistributor = "NotifyChatDistributor"
	// ActivityHandOffChatOffline hands a chat that waited longer than queueWait to the offline
	// flow (ChatHandOff). A no-op stub until the offline-flow issue.
	ActivityHandOffChatOffline = "HandOffChatOffline"
	// ActivityChatClosed receives a closed chat with its transcript (ChatClosedInput): the
	// ticket from the transcript is made there. A no-op stub for now.
	ActivityChatClosed = "ChatClosed"
)

// Chat kinds.
const (
	ChatKindCustomer = "customer"
	ChatKindInternal = "internal"
)

// Chat states.
const (
	ChatQueued  = "queued"
	ChatOffered = "offered"
	ChatActive  = "active"
	ChatClosed  = "closed"
	// ChatOffline: the chat reached no agent and is in the offline flow (the YES/NO prompt,
	// then the customer's message window on its ticket).
	ChatOffline = "offline"
)

// Close reasons. Close (the update) takes CloseByAgent, CloseByCustomer or CloseOfflineFlow;
// the workflow's timers close with CloseInactivity and CloseQueueWait.
const (
	CloseByAgent     = "agent"
	CloseByCustomer  = "customer"
	CloseInactivity  = "inactivity"
	CloseQueueWait   = "queue_wait"
	CloseOfflineFlow = "offline_flow"
	// CloseDeclined: in the offline flow the customer answered NO (leave no message).
	CloseDeclined = "declined"
)

// Message roles.
const (
	ChatRoleAgent    = "agent"
	ChatRoleCustomer = "customer"
	ChatRoleSystem   = "system"
)

// Chat event types, recorded in ChatView.Events (and in each ChatWrite).
const (
	ChatEventQueued        = "queued"        // arrived, or back in the queue (transfer to a group, last agent left)
	ChatEventOffered       = "offered"       // offered to AgentID
	ChatEventOfferExpired  = "offer_expired" // AgentID let acceptWithin pass: passed over
	ChatEventAccepted      = "accepted"      // AgentID took it
	ChatEventTransferred   = "transferred"   // to AgentID or GroupID, with Reason
	ChatEventInvited       = "invited"       // AgentID joined by invitation
	ChatEventLeft          = "left"          // AgentID left
	ChatEventWarned        = "inactivity_warning"
	ChatEventClosed        = "closed"                 // with Reason
	ChatEventOffline       = "offline"                // went to the offline flow, with Reason (OfflineOutOfHours, OfflineNoAgent, OfflineQueueWait)
	ChatEventIntake        = "intake_opened"          // the customer answered YES: their messages go to a ticket
	ChatEventTicket        = "ticket"                 // the ticket (Reason: created or merged) the messages go to
	ChatEventIntakeClosed  = "intake_closed"          // the customer's message window ended (Reason: end_command, timeout, customer_closed)
	ChatEventOfflineFailed = "offline_failed"         // a step of the offline flow failed for good (Reason: the error)
	ChatEventWindowClosed  = "whatsapp_window_closed" // 24 hours after a WhatsApp customer's last message
)

// Why a chat went to the offline flow (ChatInput.Offline, ChatEventOffline's Reason).
const (
	OfflineOutOfHours = "out_of_hours" // outside the group's business hours (its calendar, holidays included)
	OfflineNoAgent    = "no_agent"     // no agent of the group online
	OfflineQueueWait  = "queue_wait"   // it waited queueWait in the queue
)

// The offline flow's defaults (per group: ChatGroupSettings.Offline*).
const (
	DefaultOfflinePrompt        = chatconfig.OfflinePrompt
	DefaultOfflineAutoresponder = chatconfig.OfflineAutoresponder
	DefaultIntakeClose          = 10 * time.Minute
	// OfflineEndCommand ends the customer's message window.
	OfflineEndCommand = "//end"
)

// Offline-flow phases (OfflineFlow.Phase).
const (
	OfflinePrompt = "prompt" // waiting for YES or NO
	OfflineIntake = "intake" // YES: the customer's messages go to the ticket
)

// ActivityDeliverOfflineMessages hands customer messages of a chat in the offline flow to its
// ticket (OfflineDelivery → OfflineDelivered): the first call opens the ticket, or merges into
// the customer's open chat ticket; later calls append. Idempotent per chat and message Seq.
// ActivityCloseOfflineIntake records the end of the customer's message window on the ticket.
// ActivityCloseCustomerChatTickets closes the customer's open chat tickets when a live chat
// of theirs reaches an agent (CustomerReachedAgent).
const (
	ActivityDeliverOfflineMessages   = "DeliverOfflineMessages"
	ActivityCloseOfflineIntake       = "CloseOfflineIntake"
	ActivityCloseCustomerChatTickets = "CloseCustomerChatTickets"
)

// OfflineFlow is a chat's progress through the offline flow.
type OfflineFlow struct {
	Reason string
	Phase  string // OfflinePrompt, OfflineIntake
	// PromptedAt is the last prompt's time: silence counts from it (customerInactivity).
	PromptedAt time.Time
	// LastCustomerAt is the customer's last message in the intake (or the YES): the window
	// closes intakeClose after it.
	LastCustomerAt *time.Time `json:",omitempty"`
	// Pending are the Seqs of customer messages not yet on the ticket, in order.
	Pending []int64 `json:",omitempty"`
	// Autoresponded: the out-of-hours autoresponder was sent after the ticket was opened.
	Autoresponded bool `json:",omitempty"`
	// IntakeClosed: //end or the timer ended the window (the chat closes once Pending is empty).
	IntakeClosed string `json:",omitempty"`
}

// OfflineDelivery is customer messages for a chat's ticket.
type OfflineDelivery struct {
	Chat     Chat
	Messages []ChatMessage
	// GroupDepartment is the chat group's department (the ticket's queue scoping).
	GroupDepartment string `json:",omitempty"`
}

// OfflineDelivered answers which ticket took the messages and whether it was merged into (an
// open chat ticket of the customer's) rather than created.
type OfflineDelivered struct {
	TicketID int64
	Merged   bool
}

// OfflineIntakeClosed records that a chat's message window on its ticket ended.
type OfflineIntakeClosed struct {
	ChatID   string
	TicketID int64
	Reason   string
	At       time.Time
}

// CustomerReachedAgent: a live chat of the customer's was accepted by AgentID; their open chat
// tickets close with the reason and the chat recorded.
type CustomerReachedAgent struct {
	ChatID     string
	CustomerID string
	AgentID    string
	At         time.Time
}

// Distributor event types (ChatDistributorEvent.Type). A seat is a place in an agent's limit:
// an agent holds one per active chat they are in, and an offer reserves one.
const (
	// DistributorChatWaiting: the chat waits in GroupID's queue at ArrivedAt (new, transferred
	// to the group, or its last agent left) and wants an offer.
	DistributorChatWaiting = "waiting"
	// DistributorChatOffered: the chat is offered to AgentIDs[0] by a transfer to that agent
	// (offers the distributor made itself are not echoed).
	DistributorChatOffered = "offered"
	// DistributorOfferExpired: AgentIDs[0] let acceptWithin pass; their reserved seat is free,
	// the chat waits again and PassedOver lists who let it pass (offer to someone else first).
	DistributorOfferExpired = "offer_expired"
	// DistributorSeatsTaken: AgentIDs now hold a seat with the chat (accepted, invited); an
	// accepted chat no longer waits.
	DistributorSeatsTaken = "seats_taken"
	// DistributorSeatsFreed: AgentIDs no longer hold a seat with the chat (left, transferred
	// away, closed, an offer withdrawn): their capacity is free again.
	DistributorSeatsFreed = "seats_freed"
	// DistributorChatGone: the chat no longer waits in GroupID's queue (closed while waiting,
	// or transferred to another group).
	DistributorChatGone = "gone"
)

// Defaults of the group's timeouts (the chat-groups API fills them in; the workflow uses these
// when a duration is zero).
const (
	DefaultAcceptWithin       = 60 * time.Second
	DefaultCustomerInactivity = 10 * time.Minute
	DefaultQueueWait          = 5 * time.Minute
	// DefaultInactivityWarningLead is the longest lead of the inactivity warning.
	DefaultInactivityWarningLead = time.Minute
	// MaxChatMessageChars bounds a message's body.
	MaxChatMessageChars = 10000
)

// Search attributes the ChatSession workflow keeps current (registered with the ticket's in
// SearchAttributeTypes), so operators find a chat in the Temporal UI by its group, the agent in
// charge (or the one it is offered to) and its state.
var (
	SAChatGroup = temporal.NewSearchAttributeKeyKeyword("ChatGroup")
	SAChatAgent = temporal.NewSearchAttributeKeyKeyword("ChatAgent")
	SAChatState = temporal.NewSearchAttributeKeyKeyword("ChatState")
)

// ChatWorkflowID is the readable workflow ID of a chat session: chat/<uuid>.
func ChatWorkflowID(id string) string { return "chat/" + id }

// ChatGroupSettings is what the workflow needs of its group: how it is distributed and its
// timeouts. A zero duration takes the default.
type ChatGroupSettings struct {
	// Manual: the group's distribution is not automatic, so any member may accept a queued
	// chat (first accept wins). The API checks membership before sending Accept.
	Manual             bool          `json:",omitempty"`
	AcceptWithin       time.Duration `json:",omitempty"`
	CustomerInactivity time.Duration `json:",omitempty"`
	QueueWait          time.Duration `json:",omitempty"`
	// InactivityWarning is how long before the inactivity close the system warns the visitor.
	// Zero: InactivityWarningLead(CustomerInactivity).
	InactivityWarning time.Duration `json:",omitempty"`
	// The offline flow's texts and the customer's message window (empty/zero: the defaults).
	OfflinePrompt        string        `json:",omitempty"`
	OfflineAutoresponder string        `json:",omitempty"`
	IntakeClose          time.Duration `json:",omitempty"`
	// Department is the group's department: a chat ticket of the group is seen by its agents.
	Department string `json:",omitempty"`
}

// InactivityWarningLead is the default lead of the inactivity warning: one minute before the
// close, or a fifth of the inactivity time when that is shorter (2m of inactivity: warned at
// 1m36s, closed at 2m).
func InactivityWarningLead(inactivity time.Duration) time.Duration {
	return min(DefaultInactivityWarningLead, inactivity/5)
}

func (g ChatGroupSettings) withDefaults() ChatGroupSettings {
	if g.AcceptWithin <= 0 {
		g.AcceptWithin = DefaultAcceptWithin
	}
	if g.CustomerInactivity <= 0 {
		g.CustomerInactivity = DefaultCustomerInactivity
	}
	if g.QueueWait <= 0 {
		g.QueueWait = DefaultQueueWait
	}
	if g.OfflinePrompt == "" {
		g.OfflinePrompt = DefaultOfflinePrompt
	}
	if g.OfflineAutoresponder == "" {
		g.OfflineAutoresponder = DefaultOfflineAutoresponder
	}
	if g.IntakeClose <= 0 {
		g.IntakeClose = DefaultIntakeClose
	}
	if g.InactivityWarning <= 0 || g.InactivityWarning >= g.CustomerInactivity {
		g.InactivityWarning = InactivityWarningLead(g.CustomerInactivity)
	}
	return g
}

// ChatInput starts a ChatSession workflow run.
type ChatInput struct {
	ID         string
	Kind       string // ChatKindCustomer or ChatKindInternal
	GroupID    string
	WidgetID   string `json:",omitempty"`
	CustomerID string `json:",omitempty"`
	// TicketID: the chat was started from this ticket (and joins it when it closes).
	TicketID *int64 `json:",omitempty"`
	// Channel (schema.ChannelWeb when empty) and the customer's address on it.
	Channel        string `json:",omitempty"`
	ChannelContact string `json:",omitempty"`
	// StartedBy is the agent who started the chat (from a ticket, or an internal chat): the chat
	// starts active with them instead of queued. Required for internal chats.
	StartedBy string `json:",omitempty"`
	Group     ChatGroupSettings
	// ArrivedAt is the chat's place in the queue (zero: the workflow's start).
	ArrivedAt time.Time
	// Offline starts the chat in the offline flow with this reason (OfflineOutOfHours,
	// OfflineNoAgent): the API found the group closed or nobody online.
	Offline string `json:",omitempty"`
	// MaxChangesPerRun makes the run continue-as-new after that many changes even when Temporal
	// does not suggest it yet (0: only when suggested). Tests use it.
	MaxChangesPerRun int `json:",omitempty"`
	// State is the chat carried across continue-as-new (nil on the first run).
	State *ChatState `json:",omitempty"`
}

// Chat is the chat's shape as the API shows it.
type Chat struct {
	ID            string     `json:"id"`
	Kind          string     `json:"kind"`
	State         string     `json:"state"`
	GroupID       string     `json:"groupId"`
	WidgetID      *string    `json:"widgetId"`
	AgentID       *string    `json:"agentId"`  // the agent in charge (active chats)
	AgentIDs      []string   `json:"agentIds"` // every agent in the chat (in charge and invited)
	CustomerID    *string    `json:"customerId"`
	TicketID      *int64     `json:"ticketId"`
	QueuePosition int        `json:"queuePosition"` // set by the distributor; 0 here
	CloseReason   *string    `json:"closeReason"`
	CreatedAt     time.Time  `json:"createdAt"`
	ClosedAt      *time.Time `json:"closedAt"`
	// ArrivedAt orders the queue: kept through transfers to a group.
	ArrivedAt time.Time `json:"arrivedAt"`
	// OfferedTo is the agent the chat is offered to (state offered), since OfferedAt.
	OfferedTo *string    `json:"offeredTo"`
	OfferedAt *time.Time `json:"offeredAt"`
	// PassedOver are the agents who let an offer expire in the current group, in order.
	PassedOver []string   `json:"passedOver"`
	AcceptedAt *time.Time `json:"acceptedAt"`
	// MessageCount is the last message's Seq.
	MessageCount int64 `json:"messageCount"`
	// Version rises with every write (PersistChat upserts only newer versions).
	Version int64 `json:"version"`
	// Channel is where the customer writes from (schema.ChannelWeb, schema.ChannelWhatsApp);
	// ChannelContact their address there.
	Channel        string  `json:"channel,omitempty"`
	ChannelContact *string `json:"channelContact,omitempty"`
}

// ChatMessage is one entry of the transcript; immutable once written.
type ChatMessage struct {
	Seq             int64                  `json:"seq"` // the conversation's number, from 1
	AuthorID        string                 `json:"authorId"`
	Role            string                 `json:"role"` // agent, customer or system
	Body            string                 `json:"body"`
	HTML            string                 `json:"html,omitempty"`
	Attachments     []schema.AttachmentRef `json:"attachments,omitempty"`
	ClientMessageID string                 `json:"clientMessageId,omitempty"`
	CreatedAt       time.Time              `json:"createdAt"`
}

// ChatEvent is one fact of the chat's life (ChatEvent* types).
type ChatEvent struct {
	Type    string    `json:"type"`
	AgentID string    `json:"agentId,omitempty"`
	GroupID string    `json:"groupId,omitempty"`
	By      string    `json:"by,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
}

// ChatView is what the State query answers: the chat, its transcript and its events.
type ChatView struct {
	Chat     Chat          `json:"chat"`
	Messages []ChatMessage `json:"messages"`
	Events   []ChatEvent   `json:"events"`
}

// ChatState is the whole state of a ChatSession workflow, carried across continue-as-new.
type ChatState struct {
	Chat     Chat
	Messages []ChatMessage
	Events   []ChatEvent
	Group    ChatGroupSettings
	// WaitingSince is when the chat last entered a queue (start, transfer to a group, last
	// agent left): queueWait counts from it. Offers do not reset it.
	WaitingSince time.Time
	// ActiveSince is when the chat last became active.
	ActiveSince *time.Time `json:",omitempty"`
	// Last messages of each side (system messages count for neither).
	LastAgentMessageAt    *time.Time `json:",omitempty"`
	LastCustomerMessageAt *time.Time `json:",omitempty"`
	// WarnedFor is the start of the inactivity period the visitor was last warned about.
	WarnedFor *time.Time `json:",omitempty"`
	// Outbox are distributor events not yet delivered, in order; NoteSeq numbers them.
	Outbox  []ChatDistributorEvent `json:",omitempty"`
	NoteSeq int64                  `json:",omitempty"`
	// Finished: the close's hand-off and ChatClosed ran (a closed run only finishes them).
	Finished bool `json:",omitempty"`
	// Offline is the offline flow's progress (nil: the chat never went there).
	Offline *OfflineFlow `json:",omitempty"`
	// OfflineVersion: the run knows the offline flow (runs recorded before it close at
	// queueWait and hand the chat to the stub instead).
	OfflineVersion bool `json:",omitempty"`
	// ReachedAgent is the first accept of a customer chat, not yet told to
	// CloseCustomerChatTickets; ReachedAgentTold: it was (once per chat).
	ReachedAgent     *CustomerReachedAgent `json:",omitempty"`
	ReachedAgentTold bool                  `json:",omitempty"`
	// WindowClosedFor is the customer message whose WhatsApp window closed (its time): the
	// close is recorded once per message.
	WindowClosedFor *time.Time `json:",omitempty"`
}

// ChatWrite is one change of a chat, as PersistChat receives it: the chat as it is after the
// change, the messages and events the change added.
type ChatWrite struct {
	Chat     Chat
	Messages []ChatMessage `json:",omitempty"`
	Events   []ChatEvent   `json:",omitempty"`
}

// ChatDistributorEvent tells the distributor of GroupID what happened to a chat. Seq numbers a
// chat's events from 1: delivery is at least once (a retried activity, an event resent by the
// next run after continue-as-new), so the distributor ignores a Seq it has seen.
type ChatDistributorEvent struct {
	Seq        int64
	Type       string // Distributor* constants
	ChatID     string
	GroupID    string
	AgentIDs   []string  `json:",omitempty"`
	ArrivedAt  time.Time // the chat's place in the queue
	PassedOver []string  `json:",omitempty"`
	At         time.Time
}

// ChatHandOff hands a chat to the offline flow.
type ChatHandOff struct {
	Chat     Chat
	Messages []ChatMessage
}

// ChatClosedInput is a closed chat with its transcript.
type ChatClosedInput struct {
	Chat     Chat
	Messages []ChatMessage
	Events   []ChatEvent
}

// OfferChatInput is the distributor offering a queued chat to an agent.
type OfferChatInput struct {
	Deadline
	AgentID string
}

// AcceptChatInput is an agent taking the chat: the agent it is offered to, or (manual
// distribution) any member while it is queued.
type AcceptChatInput struct {
	Deadline
	AgentID string
}

// SendChatMessageInput adds a message. HTML is the body rendered and sanitized by the sender's
// side; attachments were checked by it. A repeated ClientMessageID from the same author answers
// the first message and adds nothing.
type SendChatMessageInput struct {
	Deadline
	AuthorID        string
	Role            string
	Body            string
	HTML            string                 `json:",omitempty"`
	Attachments     []schema.AttachmentRef `json:",omitempty"`
	ClientMessageID string                 `json:",omitempty"`
}

// TransferChatInput moves the chat to an agent (offered to them) or to a group (queued there at
// its original arrival time). Group is the target group's settings (with GroupID).
type TransferChatInput struct {
	Deadline
	By      string
	AgentID string             `json:",omitempty"`
	GroupID string             `json:",omitempty"`
	Group   *ChatGroupSettings `json:",omitempty"`
	Reason  string             `json:",omitempty"`
	// OnlyIfOfferedTo makes the transfer happen only while the chat is still offered to this
	// agent, checked under the workflow's lock: the distributor's requeue of an idle agent's
	// offers, which an accept landing first must win.
	OnlyIfOfferedTo string `json:",omitempty"`
}

// InviteChatInput adds an agent to the chat.
type InviteChatInput struct {
	Deadline
	By      string
	AgentID string
}

// LeaveChatInput takes an agent out of the chat.
type LeaveChatInput struct {
	Deadline
	AgentID string
}

// CloseChatInput closes the chat: Reason is CloseByAgent, CloseByCustomer or CloseOfflineFlow.
type CloseChatInput struct {
	Deadline
	By     string
	Reason string
}
