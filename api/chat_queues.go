package api

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// Supervisors (whoever may edit the configuration: admins) see every chat group's queue length
// on their /api/v1/stream as `chat.queues` events: one when the stream opens, then one each time
// a length changes. The distributor's queue record NOTIFYs events.QueuesChannel when a place
// changes; each supervisor stream then reads the lengths from the visitors' places
// (chats.queue_position), so what a supervisor sees is what the visitors see.

type chatQueueLength struct {
	GroupID string `json:"groupId" bun:"group_id"`
	Name    string `json:"name" bun:"name"`
	Length  int    `json:"length" bun:"length"`
}

type chatQueuesEvent struct {
	Queues []chatQueueLength `json:"queues"`
}

// chatQueueLengths are every chat group's waiting chats (queued, or offered and not yet
// accepted), by group name.
func (s *Server) chatQueueLengths(ctx context.Context) ([]chatQueueLength, error) {
	out := []chatQueueLength{}
	err := s.db.NewRaw(`SELECT g.id AS group_id, g.name, count(c.id) AS length
		FROM chat_groups g LEFT JOIN chats c ON c.group_id = g.id AND c.state IN ('queued', 'offered') AND c.queue_position IS NOT NULL
		GROUP BY g.id, g.name ORDER BY g.name`).Scan(ctx, &out)
	if isNoRows(err) {
		err = nil
	}
	return out, err
}

// queueWatch produces a supervisor stream's chat.queues events, only when the lengths changed.
type queueWatch struct {
	s    *Server
	last []chatQueueLength
	sent bool
}

// next is the event data to send, or nil when nothing changed (or the read failed: the next
// change reads again).
func (q *queueWatch) next(ctx context.Context) []byte {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	lengths, err := q.s.chatQueueLengths(ctx)
	if err != nil {
		q.s.log.Warn("reading the chat queue lengths failed", "err", err)
		return nil
	}
	if q.sent && slices.Equal(lengths, q.last) {
		return nil
	}
	q.last, q.sent = lengths, true
	data, _ := json.Marshal(chatQueuesEvent{Queues: lengths})
	return data
}
