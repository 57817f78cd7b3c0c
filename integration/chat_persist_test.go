package integration

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/activities"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// PersistChat against PostgreSQL: each write lands once, a retried write adds nothing, and a
// late write of an older version does not undo a newer one.
func TestPersistChatIsIdempotentAndOrdered(t *testing.T) {
	t.Parallel()
	s := env(t)
	ctx := context.Background()
	a := &activities.Activities{DB: s.db}
	now := time.Now().UTC().Truncate(time.Microsecond)
	agent := "agent-1"
	chat := workflows.Chat{ID: uuid.NewString(), Kind: workflows.ChatKindCustomer, State: workflows.ChatQueued, GroupID: "support",
		ArrivedAt: now, CreatedAt: now, Version: 1}
	queued := workflows.ChatWrite{Chat: chat, Events: []workflows.ChatEvent{{Type: workflows.ChatEventQueued, GroupID: "support", At: now}}}
	require.NoError(t, a.PersistChat(ctx, queued))

	active := chat
	active.State, active.AgentID, active.AgentIDs, active.AcceptedAt, active.MessageCount, active.Version =
		workflows.ChatActive, &agent, []string{agent}, &now, 2, 2
	write := workflows.ChatWrite{Chat: active,
		Messages: []workflows.ChatMessage{{Seq: 1, AuthorID: "visitor", Role: "customer", Body: "Hi", CreatedAt: now, ClientMessageID: "m-1"},
			{Seq: 2, AuthorID: agent, Role: "agent", Body: "Hello", HTML: "<p>Hello</p>", CreatedAt: now}},
		Events: []workflows.ChatEvent{{Type: workflows.ChatEventAccepted, AgentID: agent, At: now}}}
	require.NoError(t, a.PersistChat(ctx, write))
	require.NoError(t, a.PersistChat(ctx, write), "a retried write")
	require.NoError(t, a.PersistChat(ctx, queued), "a late write of the older version")

	var row schema.ChatRow
	require.NoError(t, s.db.NewSelect().Model(&row).Where("id = ?", chat.ID).Scan(ctx))
	require.Equal(t, workflows.ChatActive, row.State)
	require.EqualValues(t, 2, row.Version)
	require.Equal(t, []string{agent}, row.AgentIDs)
	var msgs []schema.ChatMessageRow
	require.NoError(t, s.db.NewSelect().Model(&msgs).Where("chat_id = ?", chat.ID).Order("seq").Scan(ctx))
	require.Len(t, msgs, 2)
	require.Equal(t, "m-1", *msgs[0].ClientMessageID)
	require.Nil(t, msgs[1].ClientMessageID)
	n, err := s.db.NewSelect().Model((*schema.ChatEventRow)(nil)).Where("chat_id = ?", chat.ID).Count(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
}
