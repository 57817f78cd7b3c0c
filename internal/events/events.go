// Package events carries live events to agents' clients across API instances: a worker
// publishes with PostgreSQL NOTIFY, every API instance LISTENs and hands each event to the
// Server-Sent Events streams of the agent it is for. Delivery is best effort: a client that is
// not connected misses the event (the calls API has the state).
package events

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// Channel is the PostgreSQL notification channel.
const Channel = "switchboard_events"

// Event is one event for one agent. Data is the event's JSON payload.
type Event struct {
	AgentID string          `json:"agentId"`
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data"`
}

// Publish sends an event to every API instance.
func Publish(ctx context.Context, db *bun.DB, e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return pgdriver.Notify(ctx, db, Channel, string(b))
}

// Hub fans events out to the streams connected to this instance.
type Hub struct {
	mu   sync.Mutex
	subs map[string]map[chan Event]struct{}
}

// NewHub returns a hub with no subscribers.
func NewHub() *Hub { return &Hub{subs: map[string]map[chan Event]struct{}{}} }

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
		if err := ln.Listen(ctx, Channel); err != nil {
			log.Warn("events: listen failed; retrying", "err", err)
			_ = ln.Close()
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		h.receive(ctx, ln, log)
		_ = ln.Close()
	}
}

func (h *Hub) receive(ctx context.Context, ln *pgdriver.Listener, log *slog.Logger) {
	for {
		_, payload, err := ln.Receive(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("events: connection lost; reconnecting", "err", err)
			}
			return
		}
		var e Event
		if err := json.Unmarshal([]byte(payload), &e); err != nil {
			log.Warn("events: bad payload", "err", err)
			continue
		}
		h.dispatch(e)
	}
}
