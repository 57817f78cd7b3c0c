package integration

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/schema"
)

// SaveTicket never writes into the write it is given: a local activity's argument is the
// workflow's own memory (the SDK does not copy it), and an attempt abandoned at its timeout
// still runs while the workflow goes on (the race detector caught a RETURNING scan writing a
// ticket's time back). A time with nanoseconds would come back truncated to PostgreSQL's
// microseconds, and stamped ids would show in the caller's slices.
func TestSaveTicketLeavesItsInputAlone(t *testing.T) {
	s := env(t)
	ctx := context.Background()
	p := s.newPeople(t)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Untouched input"})
	var row schema.Ticket
	require.NoError(t, s.db.NewSelect().Model(&row).Where("id = ?", tk.ID).Scan(ctx))

	at := time.Date(2026, 12, 2, 10, 0, 0, 123456789, time.UTC)
	row.Seq++
	row.UpdatedAt = at
	row.ResolvedAt = &at
	w := schema.TicketWrite{Ticket: row,
		Actions: []schema.Action{{ID: 999, Type: "internal", Body: "input", AuthorID: p.agent, CreatedAt: at}}}
	before, err := json.Marshal(w)
	require.NoError(t, err)
	landed, err := schema.SaveTicket(ctx, s.db, w)
	require.NoError(t, err)
	require.True(t, landed)
	after, err := json.Marshal(w)
	require.NoError(t, err)
	require.JSONEq(t, string(before), string(after))
	require.Zero(t, w.Actions[0].TicketID, "the caller's action is not stamped")
	require.Equal(t, 123456789, w.Ticket.ResolvedAt.Nanosecond(), "nothing was scanned back")
}
