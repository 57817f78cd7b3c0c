package schema

import (
	"encoding/json"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/internal/chatconfig"
)

// ChatGroup is a live-chat group: its agents in distribution order, how chats are distributed,
// its business hours (no calendar: always open), an optional department and its timeouts, in
// seconds. Its JSON is the API's shape (ChatGroupJSON).
type ChatGroup struct {
	bun.BaseModel `bun:"table:chat_groups"`

	ID                    string  `bun:"id,pk"`
	Name                  string  `bun:"name"`
	DisplayName           string  `bun:"display_name"`
	Automatic             bool    `bun:"automatic"`
	MaxConcurrentPerAgent *int    `bun:"max_concurrent_per_agent"`
	CalendarID            *string `bun:"calendar_id"`
	DepartmentID          *string `bun:"department_id"`
	AcceptWithinSeconds   int     `bun:"accept_within_seconds"`
	InactivitySeconds     int     `bun:"customer_inactivity_seconds"`
	QueueWaitSeconds      int     `bun:"queue_wait_seconds"`
	// The offline flow: nil texts are the defaults (chatconfig.OfflinePrompt, ...).
	OfflinePrompt        *string           `bun:"offline_prompt"`
	OfflineAutoresponder *string           `bun:"offline_autoresponder"`
	IntakeCloseSeconds   int               `bun:"intake_close_seconds"`
	Version              int               `bun:"version"`
	CreatedAt            time.Time         `bun:"created_at"`
	UpdatedAt            time.Time         `bun:"updated_at"`
	Members              []ChatGroupMember `bun:"-"`
}

// ChatGroupMember is an agent of a chat group at its place in the group's order.
type ChatGroupMember struct {
	bun.BaseModel `bun:"table:chat_group_members"`

	GroupID  string `bun:"group_id,pk"`
	AgentID  string `bun:"agent_id,pk"`
	Position int    `bun:"position"`
}

// ChatGroupJSON is a chat group as the API answers it.
type ChatGroupJSON struct {
	ID           string                `json:"id"`
	Name         string                `json:"name"`
	DisplayName  string                `json:"displayName"`
	Members      []ChatMemberJSON      `json:"members"`
	Distribution ChatDistributionJSON  `json:"distribution"`
	CalendarID   *string               `json:"calendarId"`
	DepartmentID *string               `json:"departmentId"`
	Timeouts     ChatGroupTimeoutsJSON `json:"timeouts"`
	Offline      ChatGroupOfflineJSON  `json:"offline"`
	Version      int                   `json:"version"`
	CreatedAt    time.Time             `json:"createdAt"`
	UpdatedAt    time.Time             `json:"updatedAt"`
}

// ChatMemberJSON is a member as the API answers it.
type ChatMemberJSON struct {
	AgentID string `json:"agentId"`
}

// ChatDistributionJSON is how a group's chats are distributed; no limit is null.
type ChatDistributionJSON struct {
	Automatic             bool `json:"automatic"`
	MaxConcurrentPerAgent *int `json:"maxConcurrentPerAgent"`
}

// ChatGroupTimeoutsJSON are a group's timeouts as the configuration writes durations.
type ChatGroupTimeoutsJSON struct {
	AcceptWithin       string `json:"acceptWithin"`
	CustomerInactivity string `json:"customerInactivity"`
	QueueWait          string `json:"queueWait"`
}

// ChatGroupOfflineJSON is a group's offline flow: the texts in effect (the defaults when the
// group set none) and the message window's close.
type ChatGroupOfflineJSON struct {
	Prompt        string `json:"prompt"`
	Autoresponder string `json:"autoresponder"`
	IntakeClose   string `json:"intakeClose"`
}

// OfflineTexts are the group's offline-flow texts in effect.
func (g *ChatGroup) OfflineTexts() (prompt, autoresponder string) {
	prompt, autoresponder = chatconfig.OfflinePrompt, chatconfig.OfflineAutoresponder
	if g.OfflinePrompt != nil {
		prompt = *g.OfflinePrompt
	}
	if g.OfflineAutoresponder != nil {
		autoresponder = *g.OfflineAutoresponder
	}
	return prompt, autoresponder
}

// JSON is the group in the API's shape.
func (g *ChatGroup) JSON() ChatGroupJSON {
	members := make([]ChatMemberJSON, len(g.Members))
	for i, m := range g.Members {
		members[i] = ChatMemberJSON{AgentID: m.AgentID}
	}
	secs := func(n int) string { return chatconfig.FormatDuration(time.Duration(n) * time.Second) }
	return ChatGroupJSON{ID: g.ID, Name: g.Name, DisplayName: g.DisplayName, Members: members,
		Distribution: ChatDistributionJSON{Automatic: g.Automatic, MaxConcurrentPerAgent: g.MaxConcurrentPerAgent},
		CalendarID:   g.CalendarID, DepartmentID: g.DepartmentID,
		Timeouts: ChatGroupTimeoutsJSON{AcceptWithin: secs(g.AcceptWithinSeconds),
			CustomerInactivity: secs(g.InactivitySeconds), QueueWait: secs(g.QueueWaitSeconds)},
		Offline: g.offlineJSON(secs(g.IntakeCloseSeconds)),
		Version: g.Version, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}
}

func (g *ChatGroup) offlineJSON(intakeClose string) ChatGroupOfflineJSON {
	prompt, auto := g.OfflineTexts()
	return ChatGroupOfflineJSON{Prompt: prompt, Autoresponder: auto, IntakeClose: intakeClose}
}

// MarshalJSON answers the API's shape.
func (g ChatGroup) MarshalJSON() ([]byte, error) { return json.Marshal(g.JSON()) }

// ChatWidget is what a site embeds: its public key, the groups a visitor may choose from, the
// origins it may be embedded on (CORS) and a welcome text.
type ChatWidget struct {
	bun.BaseModel `bun:"table:chat_widgets" json:"-"`

	ID             string    `bun:"id,pk" json:"id"`
	Name           string    `bun:"name" json:"name"`
	Key            string    `bun:"key" json:"key"`
	GroupIDs       []string  `bun:"group_ids,array" json:"groupIds"`
	AllowedOrigins []string  `bun:"allowed_origins,array" json:"allowedOrigins"`
	Welcome        string    `bun:"welcome" json:"welcome"`
	Version        int       `bun:"version" json:"version"`
	CreatedAt      time.Time `bun:"created_at" json:"createdAt"`
	UpdatedAt      time.Time `bun:"updated_at" json:"updatedAt"`
}

// Agent chat presence statuses.
const (
	ChatOnline  = "online"
	ChatAway    = "away"
	ChatOffline = "offline"
)

// ChatPresenceStatuses are the statuses an agent's chat presence may have.
var ChatPresenceStatuses = []string{ChatOnline, ChatAway, ChatOffline}

// AgentChatPresence is whether an agent takes chats. LastStreamAt is when the agent last had an
// event stream open (the idle check of chat distribution reads it).
type AgentChatPresence struct {
	bun.BaseModel `bun:"table:agent_chat_presence" json:"-"`

	AgentID      string     `bun:"agent_id,pk" json:"agentId"`
	Status       string     `bun:"status" json:"status"`
	UpdatedAt    *time.Time `bun:"updated_at" json:"updatedAt"`
	LastStreamAt *time.Time `bun:"last_stream_at" json:"lastStreamAt"`
}
