// Package events carries live events to agents' clients across API instances: a worker stores
// the event in agent_events and publishes its id with PostgreSQL NOTIFY (whose payload stops at
// 8,000 bytes, so bodies never travel in it); every API instance LISTENs, loads the events of
// the agents it has streams for and hands them to their Server-Sent Events streams. Delivery is best effort: a client that is
// not connected misses the event (the calls API has the state).
package events

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// Channel is the PostgreSQL notification channel.
const Channel = "switchboard_events"

// Event is one event for one agent. Data is the event's JSON payload.
type Event struct {
	ID      int64           `json:"id"`
	AgentID string          `json:"agentId"`
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// keep is how long stored events stay; older ones are removed as new ones are written.
const keep = "1 day"

// Publish stores an event and sends its id (with agent and type, never the data) to every API
// instance, in one statement.
func Publish(ctx context.Context, db *bun.DB, e Event) error {
	_, err := db.NewRaw(`WITH old AS (DELETE FROM agent_events WHERE created_at < now() - ?::interval),
		ev AS (INSERT INTO agent_events (agent_id, type, data) VALUES (?, ?, ?) RETURNING id, agent_id, type)
		SELECT pg_notify(?, json_build_object('id', id, 'agentId', agent_id, 'type', type)::text) FROM ev`,
		keep, e.AgentID, e.Type, string(e.Data), Channel).Exec(ctx)
	return err
}

// TicketChannel carries the id of a ticket whose conversation grew (schema.TicketChannel),
// ChatChannel the id of a chat that changed (schema.SaveChat), and QueuesChannel (no payload)
// that the chat queues' places changed (activities.RecordChatQueue).
const (
	TicketChannel = "switchboard_ticket"
	ChatChannel   = "switchboard_chat"
	QueuesChannel = "switchboard_chat_queues"
)

// Hub fans events out to the streams connected to this instance: agents' events, and wake-ups
// for the streams of a conversation, a ticket's or a chat's (which read what is new from
// PostgreSQL themselves, so a wake-up carries nothing and many coalesce into one).
type Hub struct {
	mu    sync.Mutex
	subs  map[string]map[chan Event]struct{}
	wakes map[string]map[chan struct{}]struct{} // by conversation key (ticketKey, chatKey)
}

// NewHub returns a hub with no subscribers.
func NewHub() *Hub {
	return &Hub{subs: map[string]map[chan Event]struct{}{}, wakes: map[string]map[chan struct{}]struct{}{}}
}

func ticketKey(id int64) string { return "ticket:" + strconv.FormatInt(id, 10) }
func chatKey(id string) string  { return "chat:" + id }

const queuesKey = "queues"

// SubscribeTicket returns wake-ups for a ticket's conversation until cancel is called. The
// channel holds one pending wake-up; more coalesce into it.
func (h *Hub) SubscribeTicket(id int64) (<-chan struct{}, func()) {
	return h.subscribeWake(ticketKey(id))
}

// SubscribeChat returns wake-ups for a chat (a change of its state or transcript) until cancel
// is called, as SubscribeTicket.
func (h *Hub) SubscribeChat(id string) (<-chan struct{}, func()) { return h.subscribeWake(chatKey(id)) }

// SubscribeQueues returns wake-ups for a change of the chat queues, as SubscribeTicket.
func (h *Hub) SubscribeQueues() (<-chan struct{}, func()) { return h.subscribeWake(queuesKey) }

func (h *Hub) subscribeWake(key string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.wakes[key] == nil {
		h.wakes[key] = map[chan struct{}]struct{}{}
	}
	h.wakes[key][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.wakes[key], ch)
		if len(h.wakes[key]) == 0 {
			delete(h.wakes, key)
		}
		h.mu.Unlock()
	}
}

// wake wakes the streams of one conversation, or of every conversation (key ""): after a lost
// connection, notifications may have been missed.
func (h *Hub) wake(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, subs := range h.wakes {
		if key != "" && k != key {
			continue
		}
		for ch := range subs {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// Subscribe returns the events for an agent until cancel is called.
func (h *Hub) Subscribe(agentID string) (<-chan Event, func()) {
	ch := make(chan Event, 16)
	h.mu.Lock()
	if h.subs[agentID] == nil {
		h.subs[agentID] = map[chan Event]struct{}{}
	}
	h.subs[agentID][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[agentID], ch)
		if len(h.subs[agentID]) == 0 {
			delete(h.subs, agentID)
		}
		h.mu.Unlock()
	}
}

// dispatch hands an event to the agent's streams, dropping it for a stream that is not keeping up.
func (h *Hub) dispatch(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[e.AgentID] {
		select {
		case ch <- e:
		default:
		}
	}
}

// Run listens until ctx ends, reconnecting after PostgreSQL goes away.
func (h *Hub) Run(ctx context.Context, db *bun.DB, log *slog.Logger) {
	for ctx.Err() == nil {
		ln := pgdriver.NewListener(db)
		if err := ln.Listen(ctx, Channel, TicketChannel, ChatChannel, QueuesChannel); err != nil {
			log.Warn("events: listen failed; retrying", "err", err)
			_ = ln.Close()
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		h.wake("") // what was notified while not listening is read now
		h.receive(ctx, db, ln, log)
		_ = ln.Close()
	}
}

func (h *Hub) receive(ctx context.Context, db *bun.DB, ln *pgdriver.Listener, log *slog.Logger) {
	for {
		channel, payload, err := ln.Receive(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("events: connection lost; reconnecting", "err", err)
			}
			return
		}
		switch channel {
		case TicketChannel:
			if id, err := strconv.ParseInt(payload, 10, 64); err == nil {
				h.wake(ticketKey(id))
			}
			continue
		case ChatChannel:
			h.wake(chatKey(payload))
			continue
		case QueuesChannel:
			h.wake(queuesKey)
			continue
		}
		var e Event
		if err := json.Unmarshal([]byte(payload), &e); err != nil {
			log.Warn("events: bad payload", "err", err)
			continue
		}
		if !h.wanted(e.AgentID) {
			continue // nobody here listens for this agent: no need to load the event
		}
		if err := h.load(ctx, db, &e); err != nil {
			log.Warn("events: event not loaded; dropped", "id", e.ID, "err", err)
			continue
		}
		h.dispatch(e)
	}
}

func (h *Hub) wanted(agentID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[agentID]) > 0
}

// load reads the event's data by its id.
func (h *Hub) load(ctx context.Context, db *bun.DB, e *Event) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var data string
	if err := db.NewRaw(`SELECT data::text FROM agent_events WHERE id = ?`, e.ID).Scan(ctx, &data); err != nil {
		return err
	}
	e.Data = json.RawMessage(data)
	return nil
}
