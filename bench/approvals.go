package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

var (
	approvalCount  = flag.Int("approvals", 1000, "approvals: open approval requests whose first reminder falls due inside one window")
	approvalSLA    = flag.Int("approvals-sla", 500, "approvals: SLA deadlines falling due inside the same window, measured alongside")
	approvalWindow = flag.Duration("approvals-window", time.Minute, "approvals: the window the first reminders (and the SLA deadlines) fall due in")
	approvalMargin = flag.Duration("approvals-margin", 30*time.Second, "approvals: time between the last request's planned asking and the first reminder falling due")
)

// benchApprovals: n open approval requests (a rule asking one agent, started by the rule on
// ticket.created: tickets created through the API with the rule's tag, paced evenly over the
// window) whose one reminder each (reminders.first = window + margin, max 1) falls due inside
// the same window, next to SLA resolution deadlines set to fall due inside that window too, on
// the same worker at the same time. Reminders sent exactly once (one notifications row per
// request, dedupe key approval/<request>/<approver>/reminder/1, and one remindedAt on its step)
// and their lateness (written minus askedAt + first), p50/p99/max, next to the SLA breaches'
// (recorded minus due). Target: exactly once, and reminder p99 under 1 s (the sla target).
func (s *scale) benchApprovals() error {
	n, nSLA, window, margin := *approvalCount, *approvalSLA, *approvalWindow, *approvalMargin
	first := window + margin
	tag := "bench-approval-" + randomHex()
	call := func(method, path string, body, out any) error {
		return apiCall(s.hc, s.root, s.token, method, path, body, out)
	}

	var approver struct{ ID string }
	if err := call("POST", "/api/v1/persons", map[string]any{"name": "Approver " + tag, "profile": "agent"}, &approver); err != nil {
		return err
	}
	rule := map[string]any{"name": "Bench " + tag, "condition": fmt.Sprintf("%q in ticket.tags", tag), "events": []string{"ticket.created"},
		"type": "simultaneous", "quorum": map[string]any{"mode": "all"},
		"approvers": []any{map[string]any{"kind": "person", "personId": approver.ID}},
		"reminders": map[string]any{"first": first.String(), "max": 1}}
	var created struct{ ID string }
	if err := call("POST", "/api/v1/approval-rules", rule, &created); err != nil {
		return err
	}
	fmt.Printf("approvals: %d requests (one agent each, reminders.first %s, max 1) whose reminder falls due inside %s, next to %d SLA deadlines inside the same %s; backend: %s\n",
		n, first, window, nSLA, window, backend)

	// The SLA tickets first, so that their creation does not slow the requests' asking. The
	// requests are then asked evenly over the window from start, so their reminders fall due
	// evenly over [start+first, start+first+window); the SLA deadlines are spread the same way,
	// set while the first requests are asked.
	slaIDs, err := s.createTickets(nSLA, map[string]any{"subject": "SLA next to approvals"})
	if err != nil {
		return err
	}
	start := time.Now().Add(2 * time.Second)
	due0 := start.Add(first)
	dues := make([]time.Time, nSLA)
	for i := range dues {
		dues[i] = due0.Add(time.Duration((float64(i) + 0.5) * float64(window) / float64(nSLA))).UTC()
	}
	var wg sync.WaitGroup
	var slaErr error
	var slaSet time.Time
	wg.Add(1)
	go func() {
		defer wg.Done()
		slaErr = s.setDues(slaIDs, dues)
		slaSet = time.Now()
	}()
	ids, createdAt, err := s.pacedTickets(n, start, window, map[string]any{"subject": "Approval bench", "tags": []string{tag}})
	if err != nil {
		return err
	}
	wg.Wait()
	if slaErr != nil {
		return slaErr
	}
	if left := due0.Sub(slaSet); left < 5*time.Second {
		fmt.Printf("  (the SLA deadlines were set %.1f s before the first fell due: the figures include setup; raise -approvals-margin)\n", left.Seconds())
	}
	reqs, err := s.awaitApprovals(ids, 60*time.Second)
	if err != nil {
		return err
	}
	var asked []time.Time
	var lag lateness // asked minus the ticket's creation (its POST answered)
	for _, r := range reqs {
		if st := approvalStep(r); st != nil && st.AskedAt != nil {
			asked = append(asked, *st.AskedAt)
			if c, ok := createdAt[r.TicketID]; ok {
				lag = append(lag, st.AskedAt.Sub(c))
			}
		}
	}
	if len(asked) < n {
		return fmt.Errorf("%d of %d requests were asked (a pending step with askedAt) within 60 s", len(asked), n)
	}
	lo, hi := slices.MinFunc(asked, time.Time.Compare), slices.MaxFunc(asked, time.Time.Compare)
	fmt.Printf("  requests asked over %.1f s (after their ticket's POST answered: p50 %.0f ms, p99 %.0f ms, max %.0f ms); reminders due from %s to %s\n",
		hi.Sub(lo).Seconds(), ms(lag.pct(0.5)), ms(lag.pct(0.99)), ms(lag.max()), lo.Add(first).Format("15:04:05.0"), hi.Add(first).Format("15:04:05.0"))
	if hi.Sub(lo) > window+2*time.Second {
		fmt.Printf("  (the requests took longer than the window to ask: their reminders fall due over %.1f s, not %s)\n", hi.Sub(lo).Seconds(), window)
	}
	if left := due0.Sub(hi); left < 5*time.Second {
		fmt.Printf("  (the last request was asked %.1f s before the first reminder: the figures include setup; raise -approvals-margin)\n", left.Seconds())
	}
	last := hi.Add(first)
	if d := due0.Add(window); d.After(last) {
		last = d
	}
	time.Sleep(time.Until(last) + 2*time.Second)

	rem, err := s.awaitReminders(ids, n, 60*time.Second)
	if err != nil {
		return err
	}
	late, err := s.waitBreaches(slaIDs, 30*time.Second)
	if err != nil {
		return err
	}
	time.Sleep(3 * time.Second) // a reminder sent twice would show by now: count again
	if rem, err = s.approvalReminders(ids); err != nil {
		return err
	}
	if reqs, err = s.approvalRequests(ids); err != nil {
		return err
	}
	if err := reportApprovals(reqs, rem, late, n, nSLA, first); err != nil {
		return err
	}
	if err := s.checkApprovalView(reqs[0]); err != nil {
		return err
	}
	paths, err := s.reminderPaths(reqs, first, 200)
	if err != nil {
		return err
	}
	printPaths(paths)
	fmt.Println()
	return nil
}

// pacedTickets creates n tickets through the API with the body, the i-th at start + i·over/n
// (32 in flight at most): what it takes to ask for approvals at an even rate.
func (s *scale) pacedTickets(n int, start time.Time, over time.Duration, body map[string]any) ([]int64, map[int64]time.Time, error) {
	ids := make([]int64, n)
	created := make(map[int64]time.Time, n)
	var mu sync.Mutex
	var failed error
	slots := make(chan struct{}, 32)
	var wg sync.WaitGroup
	behind := 0
	for i := range n {
		at := start.Add(time.Duration(float64(i) * float64(over) / float64(n)))
		time.Sleep(time.Until(at))
		select {
		case slots <- struct{}{}:
		default:
			behind++ // every slot busy: this one starts late
			slots <- struct{}{}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			var t struct{ ID int64 }
			if err := apiCall(s.hc, s.root, s.token, "POST", "/api/v1/tickets", body, &t); err != nil {
				mu.Lock()
				failed = err
				mu.Unlock()
				return
			}
			mu.Lock()
			ids[i], created[t.ID] = t.ID, time.Now()
			mu.Unlock()
		}()
	}
	wg.Wait()
	if behind > 0 {
		fmt.Printf("  (%d of %d tickets waited for one of the 32 clients: creation fell behind its pace)\n", behind, n)
	}
	return ids, created, failed
}

// approvalRequests are the stored requests of the tickets.
func (s *scale) approvalRequests(ids []int64) ([]schema.ApprovalRequest, error) {
	var reqs []schema.ApprovalRequest
	err := s.db.NewSelect().Model(&reqs).Where("ticket_id IN (?)", bun.In(ids)).Scan(s.ctx)
	return reqs, err
}

// awaitApprovals waits until every ticket has its request stored with its step asked.
func (s *scale) awaitApprovals(ids []int64, patience time.Duration) ([]schema.ApprovalRequest, error) {
	deadline := time.Now().Add(patience)
	for {
		reqs, err := s.approvalRequests(ids)
		askedAll := len(reqs) >= len(ids)
		for _, r := range reqs {
			if st := approvalStep(r); st == nil || st.AskedAt == nil {
				askedAll = false
			}
		}
		if err != nil || askedAll || time.Now().After(deadline) {
			return reqs, err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// approvalStep is a request's one step (the bench's rule asks one person).
func approvalStep(r schema.ApprovalRequest) *schema.ApprovalStep {
	if len(r.Steps) == 0 {
		return nil
	}
	return &r.Steps[0]
}

// reminderRow is one approval reminder as written to notifications.
type reminderRow struct {
	DedupeKey string
	CreatedAt time.Time
}

// approvalReminders are the reminder notifications written for the tickets' requests.
func (s *scale) approvalReminders(ids []int64) ([]reminderRow, error) {
	var rows []reminderRow
	err := s.db.NewRaw(`SELECT dedupe_key, created_at FROM notifications
		WHERE ticket_id IN (?) AND dedupe_key LIKE 'approval/%/reminder/%'`, bun.In(ids)).Scan(s.ctx, &rows)
	return rows, err
}

// awaitReminders waits until n reminders are written for the tickets, or up to patience.
func (s *scale) awaitReminders(ids []int64, n int, patience time.Duration) ([]reminderRow, error) {
	deadline := time.Now().Add(patience)
	for {
		rows, err := s.approvalReminders(ids)
		if err != nil || len(rows) >= n || time.Now().After(deadline) {
			return rows, err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// reportApprovals prints exactly-once, the reminders' lateness next to the SLA breaches', and
// the verdict.
func reportApprovals(reqs []schema.ApprovalRequest, rows []reminderRow, breaches lateness, n, nSLA int, first time.Duration) error {
	due := map[string]time.Time{}
	var byStep lateness // remindedAt (the workflow's time once the notice is written) minus due
	stepsReminded, stepsTwice := 0, 0
	for _, r := range reqs {
		st := approvalStep(r)
		if st == nil || st.AskedAt == nil {
			continue
		}
		due[r.ID] = st.AskedAt.Add(first)
		switch len(st.RemindedAt) {
		case 0:
		case 1:
			stepsReminded++
			byStep = append(byStep, st.RemindedAt[0].Sub(due[r.ID]))
		default:
			stepsTwice++
			stepsReminded++
			byStep = append(byStep, st.RemindedAt[0].Sub(due[r.ID]))
		}
	}
	perRequest := map[string]int{}
	var written lateness // notifications.created_at minus due
	badTime, stray, early := 0, 0, 0
	for _, row := range rows {
		parts := strings.Split(row.DedupeKey, "/") // approval/<request>/<approver>/reminder/<n>
		if len(parts) != 5 {
			stray++
			continue
		}
		id := parts[1]
		perRequest[id]++
		d, ok := due[id]
		switch {
		case !ok:
			stray++
		case row.CreatedAt.Year() < 2000:
			badTime++
		default:
			if row.CreatedAt.Before(d) {
				early++
			}
			written = append(written, row.CreatedAt.Sub(d))
		}
	}
	dup := 0
	for _, c := range perRequest {
		if c > 1 {
			dup++
		}
	}
	once := len(rows) == n && len(perRequest) == n && dup == 0 && stray == 0 && stepsReminded == n && stepsTwice == 0
	fmt.Printf("  reminders written: %d rows for %d of %d requests; requests reminded more than once: %d; steps with remindedAt: %d (twice: %d)\n",
		len(rows), len(perRequest), n, dup, stepsReminded, stepsTwice)
	if stray > 0 {
		fmt.Printf("  (%d reminder rows name no request of the bench, or a malformed key)\n", stray)
	}
	if early > 0 {
		fmt.Printf("  (%d reminders were written before they were due)\n", early)
	}
	reminders, source := written, "notifications.created_at"
	if badTime > 0 {
		fmt.Printf("  (%d of %d reminder rows have created_at %s: the insert writes the zero time over the column's DEFAULT now(); lateness from the steps' remindedAt instead)\n",
			badTime, len(rows), "0001-01-01")
		reminders, source = byStep, "remindedAt"
	}
	if len(reminders) == 0 {
		return fmt.Errorf("no reminder was recorded")
	}
	if len(breaches) == 0 {
		return fmt.Errorf("no breach was recorded")
	}
	breaches.print("SLA breaches", fmt.Sprintf("(%d of %d breaches recorded)", len(breaches), nSLA))
	reminders.print("approval reminders", fmt.Sprintf("(%d of %d, %s minus askedAt+first)", len(reminders), n, source))
	if source != "remindedAt" {
		byStep.print("  recorded on the step (remindedAt)", fmt.Sprintf("(%d)", len(byStep)))
	}
	ratio := float64(reminders.pct(0.99)) / float64(max(breaches.pct(0.99), time.Millisecond))
	yes := map[bool]string{true: "yes", false: "NO"}[once]
	verdict := "meets"
	if !once || reminders.pct(0.99) >= time.Second || len(reminders) < n {
		verdict = "MISSES"
	}
	fmt.Printf("  exactly-once: %s; reminder p99 %.0f ms vs SLA breach p99 %.0f ms (ratio %.2f); %s the target (exactly once, p99 under 1 s)\n",
		yes, ms(reminders.pct(0.99)), ms(breaches.pct(0.99)), ratio, verdict)
	return nil
}

// reminderPath is where one reminder's lateness went, from its workflow's history: the timer
// firing after the due instant, the workflow task that saw it and ran, the NotifyApprover activity
// waiting for a worker and writing, and the workflow task that recorded remindedAt.
type reminderPath struct{ fired, sawFire, ran, queued, wrote, recorded time.Duration }

// reminderPaths reads the histories of up to sample requests, evenly chosen, 16 at a time.
func (s *scale) reminderPaths(reqs []schema.ApprovalRequest, first time.Duration, sample int) ([]reminderPath, error) {
	step := max(1, len(reqs)/max(sample, 1))
	var pick []schema.ApprovalRequest
	for i := 0; i < len(reqs); i += step {
		pick = append(pick, reqs[i])
	}
	var mu sync.Mutex
	var out []reminderPath
	var failed error
	parallel(16, len(pick), func(i int) {
		r := pick[i]
		st := approvalStep(r)
		if st == nil || st.AskedAt == nil {
			return
		}
		p, ok, err := s.reminderPath(workflows.ApprovalWorkflowID(r.ID), st.AskedAt.Add(first))
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed = err
		}
		if ok {
			out = append(out, p)
		}
	})
	return out, failed
}

func (s *scale) reminderPath(workflowID string, due time.Time) (reminderPath, bool, error) {
	it := s.tc.GetWorkflowHistory(s.ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var fired, saw, scheduled, started, completed time.Time
	var activity int64
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return reminderPath{}, false, err
		}
		at := ev.GetEventTime().AsTime()
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			if fired.IsZero() {
				fired = at
			}
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			switch {
			case !fired.IsZero() && saw.IsZero():
				saw = at
			case !completed.IsZero():
				return reminderPath{fired: fired.Sub(due), sawFire: saw.Sub(fired), ran: scheduled.Sub(saw), queued: started.Sub(scheduled),
					wrote: completed.Sub(started), recorded: at.Sub(completed)}, true, nil
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if !fired.IsZero() && activity == 0 && ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == workflows.ActivityNotifyApprover {
				scheduled, activity = at, ev.GetEventId()
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if activity != 0 && ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId() == activity {
				started = at
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			if activity != 0 && ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId() == activity {
				completed = at
			}
		}
	}
	return reminderPath{}, false, nil
}

// printPaths prints each leg's p50/p99 of the sampled reminders.
func printPaths(paths []reminderPath) {
	legs := []struct {
		name string
		of   func(reminderPath) time.Duration
	}{
		{"timer fired after due", func(p reminderPath) time.Duration { return p.fired }},
		{"workflow task saw it", func(p reminderPath) time.Duration { return p.sawFire }},
		{"workflow task ran", func(p reminderPath) time.Duration { return p.ran }},
		{"activity waited for a worker", func(p reminderPath) time.Duration { return p.queued }},
		{"activity wrote the row", func(p reminderPath) time.Duration { return p.wrote }},
		{"workflow task recorded it", func(p reminderPath) time.Duration { return p.recorded }},
	}
	fmt.Printf("  where a reminder's lateness goes (%d sampled histories):\n", len(paths))
	for _, leg := range legs {
		l := make(lateness, len(paths))
		for i, p := range paths {
			l[i] = leg.of(p)
		}
		fmt.Printf("    %-32s p50 %8.1f ms   p99 %8.1f ms   max %8.1f ms\n", leg.name, ms(l.pct(0.5)), ms(l.pct(0.99)), ms(l.max()))
	}
}

// checkApprovalView compares one request as GET /api/v1/approvals/{id} shows it with its row:
// the same askedAt and remindedAt.
func (s *scale) checkApprovalView(r schema.ApprovalRequest) error {
	var got schema.ApprovalRequest
	if err := apiCall(s.hc, s.root, s.token, "GET", "/api/v1/approvals/"+r.ID, nil, &got); err != nil {
		return err
	}
	want, have := approvalStep(r), approvalStep(got)
	if want == nil || have == nil || have.AskedAt == nil || want.AskedAt == nil || !have.AskedAt.Equal(*want.AskedAt) ||
		!slices.EqualFunc(have.RemindedAt, want.RemindedAt, time.Time.Equal) {
		fmt.Printf("  (GET /api/v1/approvals/%s shows steps %+v, its row %+v)\n", r.ID, got.Steps, r.Steps)
	}
	return nil
}
