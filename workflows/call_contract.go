package workflows

import (
	"time"

	"github.com/switchboardhq/switchboard/schema"
)

// PhoneCall workflow type, signals and activities.
const (
	CallWorkflowType = "PhoneCall"

	SignalCallOffered     = "CallOffered"
	SignalCallTransferred = "CallTransferred"
	SignalCallEnded       = "CallEnded"
	SignalCallLinkSet     = "CallLinkSet"

	ActivityPersistCall     = "PersistCall"
	ActivityMatchCaller     = "MatchCaller"
	ActivitySetAgentCall    = "SetAgentCall"
	ActivityEndOffer        = "EndOffer"
	ActivityNotifyAgent     = "NotifyAgent"
	ActivityReserveTicket   = "ReserveCallTicket"
	ActivityAddTicketAction = "AddTicketAction"
)

// Defaults of the call's durable timers.
const (
	// DefaultNoEndAfter ends a call that never gets a terminal callback.
	DefaultNoEndAfter = 4 * time.Hour
	// DefaultLinkGrace keeps an ended call's workflow for late callbacks and recording links.
	DefaultLinkGrace = 24 * time.Hour
)

// Call states.
const (
	CallQueued    = "queued"
	CallOffered   = "offered"
	CallOngoing   = "ongoing"
	CallCompleted = "completed"
	CallMissed    = "missed"
	CallCanceled  = "canceled"
	CallNoEnd     = "no_end"
)

// CallWorkflowID is the readable workflow ID of a call: call/<pbx id>.
func CallWorkflowID(pbxID string) string { return "call/" + pbxID }

// CallInput starts a PhoneCall workflow.
type CallInput struct {
	ID             string
	QueueID        int64
	GroupID        string
	ClientNumber   string
	ReceivedAt     time.Time
	NoEndAfter     time.Duration
	LinkGrace      time.Duration
	AutoCloseAfter time.Duration // of the ticket the call creates
}

// CallOfferedSignal is one answer to the PBX's receivedCall: an extension or a code.
type CallOfferedSignal struct {
	Extension string
	AgentID   string
	Code      *int
	Attempt   int
	At        time.Time
}

// CallTransferredSignal is the PBX putting the call through to an agent's extension.
type CallTransferredSignal struct {
	Extension string
	AgentID   string
	At        time.Time
}

// CallEndedSignal is the call's end: completed, missed or canceled.
type CallEndedSignal struct {
	Kind string // CallCompleted, CallMissed or CallCanceled
	Link string
	At   time.Time
}

// CallLinkSetSignal is a recording link sent after the fact (setMadeCallLink).
type CallLinkSetSignal struct{ Link string }

// AgentCallInput puts an agent on a call (CallID set) or takes them off it (CallID empty, and
// only when they are on Of).
type AgentCallInput struct {
	AgentID string
	CallID  string
	Of      string
}

// AgentEvent is what an agent's client is told over its event stream.
type AgentEvent struct {
	AgentID string
	Type    string // call.transferred, call.ended
	Call    schema.Call
}

// TicketActionInput adds an action to a ticket through its workflow.
type TicketActionInput struct {
	TicketID int64
	UpdateID string
	Action   AddActionInput
}

// ticketOrigins maps a call's end to the origin of the ticket it creates.
var ticketOrigins = map[string]int{
	CallCompleted: schema.OriginReceivedCall,
	CallMissed:    schema.OriginLostCall,
	CallCanceled:  schema.OriginDropoutCall,
}
