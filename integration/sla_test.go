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

// A time condition authored through the API fires on a real server, once, at its deadline.
func TestTimeConditionThroughTheAPI(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour})
	defer s.close()
	p := s.newPeople(t)
	s.call(t, s.admin, "POST", "/api/v1/triggers", map[string]any{"name": "still new after a minute",
		"events": []string{"ticket.time"}, "timer": map[string]any{"after": "1m", "from": "createdAt"},
		"condition": "ticket.category == 'tc' && ticket.baseStatus == 'New'",
		"actions":   []map[string]any{{"type": "add_tags", "tags": []string{"stale"}}}}).expect(201)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Waiting", "category": "tc"})
	eventually(t, 100*time.Second, func() bool { return slices.Contains(s.ticket(t, p.agentTok, tk.ID).Tags, "stale") }, "the time condition fires")
	var ex []schema.TriggerExecution
	require.NoError(t, s.db.NewSelect().Model(&ex).Where("ticket_id = ? AND event = 'ticket.time'", tk.ID).Scan(context.Background()))
	require.Len(t, ex, 1, "once")
	require.False(t, ex[0].At.Before(tk.createdAt(t, s).Add(time.Minute)), "never early")
}

// Editing a policy reaches an open ticket at its next change, recalculated from the opening and
// recorded with its reason, as GET /tickets/{id}/sla shows.
func TestSLAPolicyEditRecalculates(t *testing.T) {
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour})
	defer s.close()
	p := s.newPeople(t)
	policy := s.call(t, s.admin, "POST", "/api/v1/sla-policies", map[string]any{"name": "standard", "isDefault": true,
		"rules": []map[string]any{{"condition": "", "firstResponseMinutes": 0, "resolutionMinutes": 600, "hours": "calendar"}}}).
		expect(201).obj()
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Slow burn"})
	sla := func() map[string]any {
		return s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", tk.ID), nil).expect(200).obj()
	}
	eventually(t, 15*time.Second, func() bool { return sla()["solutionDue"] != nil }, "the SLA applies")
	opened := tk.createdAt(t, s)
	due, err := time.Parse(time.RFC3339Nano, sla()["solutionDue"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, opened.Add(10*time.Hour), due, time.Second)

	s.call(t, s.admin, "PATCH", "/api/v1/sla-policies/"+policy["id"].(string), map[string]any{
		"rules": []map[string]any{{"condition": "", "firstResponseMinutes": 0, "resolutionMinutes": 300, "hours": "calendar"}}}).expect(200)
	s.call(t, p.agentTok, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), map[string]any{"urgency": "High"}).expect(200)
	eventually(t, 15*time.Second, func() bool {
		d, _ := time.Parse(time.RFC3339Nano, sla()["solutionDue"].(string))
		return d.Sub(opened).Round(time.Minute) == 5*time.Hour
	}, "recalculated from the opening")
	var reasons []string
	for _, e := range sla()["events"].([]any) {
		if ev := e.(map[string]any); ev["type"] == "recalculated" {
			reasons = append(reasons, ev["reason"].(string))
		}
	}
	require.NotEmpty(t, reasons)
	require.Contains(t, reasons[0], "edited")
	want := "on_time"
	now := time.Now().UTC()
	if opened.Add(5 * time.Hour).Before(time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)) {
		want = "due_today" // "today" is the UTC day
	}
	require.Equal(t, want, sla()["state"])
}

func (tk ticket) createdAt(t *testing.T, s *stack) time.Time {
	var row schema.Ticket
	require.NoError(t, s.db.NewSelect().Model(&row).Where("id = ?", tk.ID).Scan(context.Background()))
	return row.CreatedAt
}
