package workflows

import (
	"context"
	"time"

	"go.temporal.io/sdk/client"
)

// ChatDistributor workflow type, message names and activity names (activities/chat_distributor.go
// implements the activities).
const (
	ChatDistributorWorkflowType = "ChatDistributor"
	// The query is QueryState ("State"): it answers the ChatDistributorState.

	// SignalChatChanged carries a ChatDistributorEvent from a chat's outbox.
	SignalChatChanged = "ChatChanged"
	// SignalChatConfigChanged carries a ChatConfigChange: groups or agents' presence were
	// written; the distributor reads them again (LoadChatDistribution).
	SignalChatConfigChanged = "ChatConfigChanged"
	// SignalAgentStreamed carries an AgentStream: an agent's event stream opened, is still open
	// (a beat every StreamBeatEvery) or closed.
	SignalAgentStreamed = "AgentStreamed"

	// ActivityLoadChatDistribution reads groups and presence (LoadChatDistributionInput →
	// ChatDistributionConfig).
	ActivityLoadChatDistribution = "LoadChatDistribution"
	// ActivityOfferChat sends the Offer update to a chat (OfferChatRequest → OfferChatResult).
	ActivityOfferChat = "OfferChat"
	// ActivityRequeueChat puts a chat offered to an idle agent back in its group's queue
	// (RequeueChatRequest → bool: requeued).
	ActivityRequeueChat = "RequeueChat"
	// ActivityRecordChatQueue writes changed queue positions (with a wake-up for each chat's
	// streams) and sets the distribution metrics (ChatQueueRecord).
	ActivityRecordChatQueue = "RecordChatQueue"
)

// Presence idle check defaults (SWITCHBOARD_CHAT_IDLE, SWITCHBOARD_CHAT_IDLE_GRACE) and the
// agent stream's beat: a stream is taken as open while its last beat is younger than
// StreamBeatEvery × 2, so an API process killed with -9 (which never says "closed") stops
// counting one minute after its last beat.
const (
	DefaultChatIdle      = 2 * time.Minute
	DefaultChatIdleGrace = 60 * time.Second
	StreamBeatEvery      = 30 * time.Second
	streamAliveFor       = 2 * StreamBeatEvery
)

// ChatDistributorWorkflowID is the one distributor of a task queue: chat-distributor on the
// default queue, chat-distributor/<queue> on another (tests run stacks side by side on one
// Temporal, each on its own queue).
func ChatDistributorWorkflowID(taskQueue string) string {
	if taskQueue == "" || taskQueue == DefaultTaskQueue {
		return "chat-distributor"
	}
	return "chat-distributor/" + taskQueue
}

// SignalChatDistributor signals the distributor of taskQueue, starting it when it does not run
// (signal-with-start: the distributor starts on first need, and a signal is never lost to a
// run that is not there).
func SignalChatDistributor(ctx context.Context, c client.Client, taskQueue, signal string, arg any) error {
	if taskQueue == "" {
		taskQueue = DefaultTaskQueue
	}
	_, err := c.SignalWithStartWorkflow(ctx, ChatDistributorWorkflowID(taskQueue), signal, arg,
		client.StartWorkflowOptions{TaskQueue: taskQueue}, ChatDistributorWorkflowType, ChatDistributorInput{})
	return err
}

// ChatDistributorInput starts a ChatDistributor run.
type ChatDistributorInput struct {
	// State is carried across continue-as-new (nil on the first run: everything is loaded).
	State *ChatDistributorState `json:",omitempty"`
	// MaxEventsPerRun continues-as-new after that many signals even when Temporal does not
	// suggest it yet (0: only when suggested). Tests use it.
	MaxEventsPerRun int `json:",omitempty"`
}

// ChatConfigChange names what was written: groups (created, edited or deleted) and agents whose
// presence changed.
type ChatConfigChange struct {
	GroupIDs []string `json:",omitempty"`
	AgentIDs []string `json:",omitempty"`
}

// AgentStream is a fact about one event stream of an agent. StreamID is chosen by the API per
// connection.
type AgentStream struct {
	AgentID  string
	StreamID string
	Closed   bool `json:",omitempty"`
}

// LoadChatDistributionInput says what to read: everything, or the groups and agents named.
type LoadChatDistributionInput struct {
	All      bool     `json:",omitempty"`
	GroupIDs []string `json:",omitempty"`
	AgentIDs []string `json:",omitempty"`
}

// DistributorGroup is what the distributor needs of a chat group. Limit nil: no limit.
type DistributorGroup struct {
	ID        string
	Automatic bool
	Limit     *int     `json:",omitempty"`
	Members   []string // agent ids in distribution order
}

// DistributorPresence is an agent's chat presence as set through the API.
type DistributorPresence struct {
	AgentID string
	Status  string // online, away, offline
}

// ChatDistributionConfig is what LoadChatDistribution read. A group or agent asked for and not
// found is listed in MissingGroups (deleted) or has no presence (offline).
type ChatDistributionConfig struct {
	Groups        []DistributorGroup
	MissingGroups []string `json:",omitempty"`
	Presence      []DistributorPresence
	// Idle and Grace are the worker's idle settings (zero: the defaults).
	Idle  time.Duration `json:",omitempty"`
	Grace time.Duration `json:",omitempty"`
}

// OfferChatRequest asks OfferChat to offer ChatID to AgentID. OfferID names the offer (the
// update ID, so a retried attempt answers what the first did).
type OfferChatRequest struct {
	ChatID  string
	AgentID string
	OfferID string
}

// OfferChatResult: Offered false means the chat refused (it is not queued any more, or gone).
type OfferChatResult struct {
	Offered bool
}

// RequeueChatRequest puts ChatID, offered to AgentID, back in GroupID's queue.
type RequeueChatRequest struct {
	ChatID  string
	GroupID string
	AgentID string
}

// ChatQueuePosition is a chat's place in its group's queue, from 1; 0: not waiting any more.
type ChatQueuePosition struct {
	ChatID   string
	Position int
}

// ChatQueueRecord is one decision's changes: positions that changed, the queue length of every
// group, the seats of every agent, and the waits (arrival to accept) of chats accepted since the
// last record.
type ChatQueueRecord struct {
	Positions    []ChatQueuePosition `json:",omitempty"`
	QueueLengths map[string]int      `json:",omitempty"`
	AgentSeats   map[string]int      `json:",omitempty"`
	Waits        []time.Duration     `json:",omitempty"`
}
