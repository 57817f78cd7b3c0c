package integration

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/internal/calendar"
	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// rolloutWithin bounds how long an edit may take to reach a quiet ticket in these tests (a
// handful of tickets; `make bench` measures 10,000).
const rolloutWithin = 30 * time.Second

func (s *stack) addPolicy(t *testing.T, minutes int, hours string, calendarID *string) schema.SLAPolicy {
	t.Helper()
	p := schema.SLAPolicy{ID: uuid.Must(uuid.NewV7()).String(), Name: randomName("policy-"), IsDefault: true, Version: 1,
		Rules:         []schema.SLARule{{ResolutionMinutes: minutes, Hours: hours, CalendarID: calendarID}},
		PauseStatuses: []string{schema.BaseStopped}, WarningMinutes: 0, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	_, err := s.db.NewInsert().Model(&p).Exec(context.Background())
	require.NoError(t, err)
	return p
}

// slaOf is GET /api/v1/tickets/{id}/sla: the solution deadline and the recalculation reasons.
func (s *stack) slaOf(t *testing.T, token string, id int64) (due *time.Time, recalculated []string) {
	t.Helper()
	m := s.call(t, token, "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", id), nil).expect(200).obj()
	if raw, ok := m["solutionDue"].(string); ok {
		d, err := time.Parse(time.RFC3339Nano, raw)
		require.NoError(t, err)
		due = &d
	}
	events, _ := m["events"].([]any)
	for _, e := range events {
		if ev := e.(map[string]any); ev["type"] == "recalculated" && ev["target"] == "resolution" {
			recalculated = append(recalculated, ev["reason"].(string))
		}
	}
	return due, recalculated
}

func (s *stack) waitSLA(t *testing.T, token string, id int64) time.Time {
	t.Helper()
	var due *time.Time
	eventually(t, 15*time.Second, func() bool { due, _ = s.slaOf(t, token, id); return due != nil }, "the SLA applies")
	return *due
}

// An SLA policy edited through the API reaches a quiet open ticket (no change of its own)
// within a bounded time, recorded with its reason, without counting as an update of the
// ticket; a closed ticket is not touched.
func TestSLAPolicyEditReachesAQuietTicket(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour})
	defer s.close()
	p := s.newPeople(t)
	policy := s.addPolicy(t, 600, schema.HoursCalendar, nil)
	quiet := s.createTicket(t, p.agentTok, map[string]any{"subject": "Quiet"})
	closed := s.createTicket(t, p.agentTok, map[string]any{"subject": "Done"})
	opened := quiet.createdAt(t, s)
	require.WithinDuration(t, opened.Add(10*time.Hour), s.waitSLA(t, p.agentTok, quiet.ID), time.Second)
	s.waitSLA(t, p.agentTok, closed.ID)
	s.post(t, p.agentTok, closed.ID, "status", map[string]any{"status": "Canceled"}).expect(200)
	updatedAt := func() time.Time {
		var row schema.Ticket
		require.NoError(t, s.db.NewSelect().Model(&row).Where("id = ?", quiet.ID).Scan(context.Background()))
		return row.UpdatedAt
	}
	before := updatedAt()

	s.call(t, s.admin, "PATCH", "/api/v1/sla-policies/"+policy.ID, map[string]any{
		"rules": []map[string]any{{"condition": "", "firstResponseMinutes": 0, "resolutionMinutes": 300, "hours": "calendar"}}}).expect(200)
	edited := time.Now()
	var due *time.Time
	var reasons []string
	// Wait for the edit's deadline, not for any recalculation: the policy's creation may itself
	// be rolled out to the ticket, recalculating it to the same deadline.
	eventually(t, rolloutWithin, func() bool {
		due, reasons = s.slaOf(t, p.agentTok, quiet.ID)
		return due != nil && due.Sub(opened.Add(5*time.Hour)).Abs() <= time.Second
	}, "the quiet ticket is recalculated from its opening")
	t.Logf("recalculated %s after the edit", time.Since(edited).Round(time.Millisecond))
	require.Contains(t, reasons, "the policy or its calendar was edited")
	require.True(t, before.Equal(updatedAt()), "bookkeeping, not an update")

	var pending int64
	eventually(t, 10*time.Second, func() bool {
		var err error
		pending, err = s.db.NewSelect().Table("config_changes").Where("dispatched_at IS NULL").Count(context.Background())
		require.NoError(t, err)
		return pending == 0
	}, "the change is marked dispatched")
	_, closedReasons := s.slaOf(t, p.agentTok, closed.ID)
	require.Empty(t, closedReasons, "a closed ticket is not touched")
}

// A calendar edit (a holiday today and tomorrow) moves a business-hours deadline of a quiet
// ticket.
func TestCalendarEditReachesAQuietTicket(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour})
	defer s.close()
	p := s.newPeople(t)
	allDay := []calendar.Interval{{Start: "00:00", End: "24:00"}}
	week := map[string][]calendar.Interval{}
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
		week[d] = allDay
	}
	cal := schema.Calendar{ID: uuid.Must(uuid.NewV7()).String(), Name: randomName("cal-"), Timezone: "UTC", Week: week,
		Holidays: []calendar.Holiday{}, Exceptions: []calendar.Exception{}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	ctx := context.Background()
	_, err := s.db.NewInsert().Model(&cal).Exec(ctx)
	require.NoError(t, err)
	s.addPolicy(t, 60, schema.HoursBusiness, &cal.ID)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Business hours"})
	first := s.waitSLA(t, p.agentTok, tk.ID)

	today := first.Add(-time.Hour).UTC()
	holidays := []calendar.Holiday{{Date: today.Format(time.DateOnly), Name: "a"}, {Date: today.AddDate(0, 0, 1).Format(time.DateOnly), Name: "b"},
		{Date: today.AddDate(0, 0, 2).Format(time.DateOnly), Name: "c"}}
	_, err = s.db.NewUpdate().Model(&cal).Set("holidays = ?", holidays).Set("updated_at = now()").WherePK().Exec(ctx)
	require.NoError(t, err)
	var due *time.Time
	var reasons []string
	// Wait for the holidays' effect, not for any recalculation: the policy's creation may itself
	// be rolled out to the ticket, recalculating it to the same deadline.
	eventually(t, rolloutWithin, func() bool {
		due, reasons = s.slaOf(t, p.agentTok, tk.ID)
		return due != nil && due.After(first.Add(24*time.Hour))
	}, "the holidays push the deadline")
	require.Contains(t, reasons, "the policy or its calendar was edited")
}

// A trigger's time condition edited from 10 h to 3 s re-arms the timer of a quiet ticket,
// which fires once.
func TestTimeConditionEditRearmsTheTimer(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour})
	defer s.close()
	p := s.newPeople(t)
	ctx := context.Background()
	tr := schema.Trigger{ID: uuid.Must(uuid.NewV7()).String(), Name: "stale", Enabled: true, Events: []string{rules.EventTime},
		Timer: &rules.Timer{After: "10h", From: rules.FromCreatedAt}, Condition: "ticket.subject == 'Waiting'",
		Actions: []rules.Action{{Type: rules.ActionAddTags, Tags: []string{"stale"}}}, Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	_, err := s.db.NewInsert().Model(&tr).Exec(ctx)
	require.NoError(t, err)
	// "seen" shows that the ticket's first evaluations ran (and armed the 10 h timer).
	s.addTrigger(t, "seen", []string{rules.EventCreated}, "", 0, rules.Action{Type: rules.ActionAddTags, Tags: []string{"seen"}})
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Waiting"})
	eventually(t, 10*time.Second, func() bool { return slices.Contains(s.ticket(t, p.agentTok, tk.ID).Tags, "seen") }, "evaluated")
	time.Sleep(time.Second) // and the evaluation of the tag's own change

	// Three seconds from creation (the API refuses under a minute; the database takes it).
	_, err = s.db.NewUpdate().Model(&tr).Set("timer = ?", `{"after":"3s","from":"createdAt"}`).Set("version = 2").WherePK().Exec(ctx)
	require.NoError(t, err)
	eventually(t, rolloutWithin, func() bool { return slices.Contains(s.ticket(t, p.agentTok, tk.ID).Tags, "stale") }, "the re-armed timer fires")
	var ex []schema.TriggerExecution
	for _, e := range s.executions(t, tk.ID) {
		if e.Event == rules.EventTime {
			ex = append(ex, e)
		}
	}
	require.Len(t, ex, 1, "once")
	require.Equal(t, 2, ex[0].TriggerVersion)
}

// An edit that is rolled back records nothing and reaches no ticket: the next committed edit
// is the only recalculation, with its own values.
func TestRolledBackEditChangesNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour})
	defer s.close()
	p := s.newPeople(t)
	ctx := context.Background()
	policy := s.addPolicy(t, 600, schema.HoursCalendar, nil)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Steady"})
	opened := tk.createdAt(t, s)
	s.waitSLA(t, p.agentTok, tk.ID)
	count := func() int64 {
		n, err := s.db.NewSelect().Table("config_changes").Count(ctx)
		require.NoError(t, err)
		return n
	}
	before := count()

	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewUpdate().Model(&policy).Set("rules = ?", []schema.SLARule{{ResolutionMinutes: 60, Hours: schema.HoursCalendar}}).WherePK().Exec(ctx)
		require.NoError(t, err)
		return fmt.Errorf("changed my mind")
	})
	require.EqualError(t, err, "changed my mind")
	require.Equal(t, before, count(), "nothing recorded")

	_, err = s.db.NewUpdate().Model(&policy).Set("rules = ?", []schema.SLARule{{ResolutionMinutes: 300, Hours: schema.HoursCalendar}}).WherePK().Exec(ctx)
	require.NoError(t, err)
	require.Equal(t, before+1, count())
	var due *time.Time
	var reasons []string
	// The policy's creation may itself be rolled out to the ticket (a recalculation to the same
	// deadline), so wait for the committed edit's deadline rather than for any recalculation.
	near := func(d *time.Time, want time.Time) bool { return d != nil && d.Sub(want).Abs() <= time.Second }
	eventually(t, rolloutWithin, func() bool {
		due, reasons = s.slaOf(t, p.agentTok, tk.ID)
		require.False(t, near(due, opened.Add(time.Hour)), "the rolled-back edit never shows")
		return near(due, opened.Add(5*time.Hour))
	}, "recalculated to the committed edit")
	require.NotEmpty(t, reasons)
	time.Sleep(time.Second) // a late recalculation to another deadline would show here
	due, _ = s.slaOf(t, p.agentTok, tk.ID)
	require.True(t, near(due, opened.Add(5*time.Hour)), "still the committed edit: %v", due)
}

// The worker is killed with SIGKILL while a rollout is under way; a new worker finishes it and
// every open ticket is recalculated.
func TestRolloutSurvivesAKilledWorker(t *testing.T) {
	temporalAddr, _ := services(t)
	s := newStack(t, stackOptions{worker: false, autoClose: time.Hour})
	defer s.close()
	workerEnv := s.procEnv(temporalAddr)
	w := startProc(t, workerEnv, "worker")
	p := s.newPeople(t)
	ctx := context.Background()
	const n = 300
	ids := make([]int64, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				var tk ticket
				r := s.call(t, p.agentTok, "POST", "/api/v1/tickets", map[string]any{"subject": fmt.Sprint("bulk ", i)})
				if r.status == 201 {
					r.decode(&tk)
					ids[i] = tk.ID
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	require.NotContains(t, ids, int64(0), "every ticket was created")
	// The policy comes after the tickets, so its creation is itself rolled out to all of them.
	// (Tickets created within moments of a policy's creation were seen, under load, to be
	// evaluated without it and missed by its rollout: an open defect, see the README.)
	policy := s.addPolicy(t, 600, schema.HoursCalendar, nil)
	countWith := func(minutes int) int64 {
		c, err := s.db.NewSelect().Table("tickets").Where("id IN (?)", bun.In(ids)).
			Where("sla_solution_due = created_at + make_interval(mins => ?)", minutes).Count(ctx)
		require.NoError(t, err)
		return c
	}
	// The bounds are generous on purpose: this test is about completeness and exactly-once, not
	// speed (make bench measures the rollout's speed), and a busy machine must not fail it.
	began := time.Now()
	eventually(t, 3*time.Minute, func() bool { return countWith(600) == n }, "every ticket has its SLA")
	t.Logf("the policy's creation reached %d tickets in %s", n, time.Since(began).Round(time.Millisecond))

	_, err := s.db.NewUpdate().Model(&policy).Set("rules = ?", []schema.SLARule{{ResolutionMinutes: 300, Hours: schema.HoursCalendar}}).WherePK().Exec(ctx)
	require.NoError(t, err)
	eventually(t, rolloutWithin, func() bool { return countWith(300) > 0 }, "the rollout starts")
	w.kill(t)
	done := countWith(300)
	t.Logf("worker killed with %d of %d tickets recalculated", done, n)

	startProc(t, workerEnv, "worker")
	began = time.Now()
	eventually(t, 3*time.Minute, func() bool { return countWith(300) == n }, "the new worker finishes the rollout")
	t.Logf("the new worker finished the rollout in %s", time.Since(began).Round(time.Millisecond))
	var twice int
	require.NoError(t, s.db.NewRaw(`SELECT count(*) FROM (SELECT ticket_id FROM sla_events WHERE ticket_id IN (?)
		AND type = 'recalculated' AND target = 'resolution' GROUP BY ticket_id HAVING count(*) > 1) x`, bun.In(ids)).Scan(ctx, &twice))
	require.Zero(t, twice, "each ticket recalculated once")
}

// A ticket created after an edit has committed is evaluated with it even on a worker whose
// cached configuration has not heard of the edit yet (its NOTIFY still on the way). The test
// makes that window as long as it likes: the edit is written with the notifying trigger
// disabled, as if the notification were late, and only the generation is raised.
func TestTicketCreatedAfterAnEditSeesItBeforeTheNotification(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour})
	defer s.close()
	p := s.newPeople(t)
	policy := s.addPolicy(t, 60, schema.HoursCalendar, nil)
	warm := s.createTicket(t, p.agentTok, map[string]any{"subject": "Warms the cache"})
	require.WithinDuration(t, warm.createdAt(t, s).Add(time.Hour), s.waitSLA(t, p.agentTok, warm.ID), time.Second)

	ctx := context.Background()
	require.NoError(t, s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		rules := []schema.SLARule{{ResolutionMinutes: 120, Hours: schema.HoursCalendar}}
		for _, q := range []string{"ALTER TABLE sla_policies DISABLE TRIGGER config_changed"} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		if _, err := tx.NewUpdate().Model((*schema.SLAPolicy)(nil)).Set("rules = ?", rules).Set("version = version + 1").
			Where("id = ?", policy.ID).Exec(ctx); err != nil {
			return err
		}
		for _, q := range []string{"UPDATE config_generation SET gen = gen + 1", "ALTER TABLE sla_policies ENABLE TRIGGER config_changed"} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}))

	fresh := s.createTicket(t, p.agentTok, map[string]any{"subject": "Created after the edit"})
	require.WithinDuration(t, fresh.createdAt(t, s).Add(2*time.Hour), s.waitSLA(t, p.agentTok, fresh.ID), time.Second,
		"the creation's evaluation read the edited policy")
	// The edit itself was never notified: the ticket before it keeps its deadline until a
	// notification or a change of its own, which is what proves the cache was live and stale.
	due, _ := s.slaOf(t, p.agentTok, warm.ID)
	require.WithinDuration(t, warm.createdAt(t, s).Add(time.Hour), *due, time.Second)
}

// With config_changes and config_generation locked for longer than every timeout in the code,
// an SLA policy edit through the API gives up with a 503 and Retry-After, and leaves nothing
// behind (no half edit); once the lock goes the same edit lands and reaches the quiet open ticket
// through its rollout.
func TestConfigEditUnderAHeldLockIsRolledOutAfterIt(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour})
	defer s.close()
	p := s.newPeople(t)
	policy := s.addPolicy(t, 60, schema.HoursCalendar, nil)
	quiet := s.createTicket(t, p.agentTok, map[string]any{"subject": "Quiet under a lock"})
	opened := quiet.createdAt(t, s)
	require.WithinDuration(t, opened.Add(time.Hour), s.waitSLA(t, p.agentTok, quiet.ID), time.Second)
	edit := func(minutes int) *resp {
		return s.call(t, s.admin, "PATCH", "/api/v1/sla-policies/"+policy.ID, map[string]any{
			"rules": []map[string]any{{"condition": "", "firstResponseMinutes": 0, "resolutionMinutes": minutes, "hours": "calendar"}}})
	}

	release := s.lockTables(t, "EXCLUSIVE", "config_changes", "config_generation")
	began := time.Now()
	r := edit(120)
	t.Logf("the edit answered %d after %s", r.status, time.Since(began).Round(time.Millisecond))
	r.expectError(503, "unavailable")
	require.NotEmpty(t, r.header.Get("Retry-After"))
	time.Sleep(time.Until(began.Add(stallFor - 5*time.Second))) // the lock outlasts every timeout
	release()
	var row schema.SLAPolicy
	require.NoError(t, s.db.NewSelect().Model(&row).Where("id = ?", policy.ID).Scan(context.Background()))
	require.Equal(t, 60, row.Rules[0].ResolutionMinutes, "the refused edit did not land")
	require.Equal(t, 1, row.Version)
	due, reasons := s.slaOf(t, p.agentTok, quiet.ID)
	require.WithinDuration(t, opened.Add(time.Hour), *due, time.Second)
	require.Empty(t, reasons, "nothing was rolled out for it")

	edit(120).expect(200)
	eventually(t, 3*time.Minute, func() bool {
		due, _ := s.slaOf(t, p.agentTok, quiet.ID)
		return due != nil && due.Sub(opened.Add(2*time.Hour)).Abs() <= time.Second
	}, "the edit made after the lock reaches the ticket")
}
