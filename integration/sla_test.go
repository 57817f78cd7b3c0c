package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// A ticket under a 1-minute calendar-hours target breaches one minute after it opens: the
// breach is recorded, its trigger escalates, and the ticket shows the deadline.
func TestSLABreachFiresItsTrigger(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour})
	defer s.close()
	p := s.newPeople(t)
	ctx := context.Background()
	policy := schema.SLAPolicy{ID: uuid.Must(uuid.NewV7()).String(), Name: "fast", IsDefault: true, Version: 1,
		Rules:         []schema.SLARule{{Condition: "ticket.category == 'fast'", ResolutionMinutes: 1, Hours: schema.HoursCalendar}},
		PauseStatuses: []string{schema.BaseStopped}, WarningMinutes: 0, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	_, err := s.db.NewInsert().Model(&policy).Exec(ctx)
	require.NoError(t, err)
	s.addTrigger(t, "escalate", []string{rules.EventSLABreached}, "event.payload.target == 'resolution'", 1,
		rules.Action{Type: rules.ActionSetUrgency, Urgency: "Urgent"}, rules.Action{Type: rules.ActionAddTags, Tags: []string{"breached"}})

	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Quick one", "category": "fast", "urgency": "Low"})
	var got ticket
	eventually(t, 15*time.Second, func() bool {
		var row schema.Ticket
		require.NoError(t, s.db.NewSelect().Model(&row).Where("id = ?", tk.ID).Scan(ctx))
		return row.SLASolutionDue != nil
	}, "the SLA is applied")
	var row schema.Ticket
	require.NoError(t, s.db.NewSelect().Model(&row).Where("id = ?", tk.ID).Scan(ctx))
	opened := row.CreatedAt
	require.WithinDuration(t, opened.Add(time.Minute), *row.SLASolutionDue, time.Second)
	// Operators list the next breaches in the Temporal UI by SlaDue.
	eventually(t, 10*time.Second, func() bool { return s.searchAttributes(t, tk.ID)["SlaDue"] != nil }, "SlaDue published")
	published, err := time.Parse(time.RFC3339Nano, s.searchAttributes(t, tk.ID)["SlaDue"].(string))
	require.NoError(t, err)
	require.True(t, published.Equal(*row.SLASolutionDue), "SlaDue is the deadline: %s vs %s", published, row.SLASolutionDue)

	eventually(t, 100*time.Second, func() bool {
		got = s.ticket(t, p.agentTok, tk.ID)
		return got.Urgency == "Urgent" && slices.Contains(got.Tags, "breached") // two actions, two changes
	}, "the breach's trigger escalates")
	var breach schema.SLAEvent
	require.NoError(t, s.db.NewSelect().Model(&breach).Where("ticket_id = ? AND type = 'breached'", tk.ID).Scan(ctx))
	require.Equal(t, row.SLASolutionDue.UTC(), breach.DueAt.UTC())
	late := breach.At.Sub(*breach.DueAt)
	require.GreaterOrEqual(t, late, time.Duration(0), "never early")
	require.Less(t, late, 5*time.Second, fmt.Sprintf("on time (late by %s)", late))
}
