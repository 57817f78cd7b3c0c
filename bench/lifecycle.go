package main

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/switchboardhq/switchboard/api"
	"github.com/switchboardhq/switchboard/workflows"
)

// lifecycleTarget is the most history events a ticket's whole life should take; a run
// continues as new at 4,096 (Temporal's suggestion), so a ticket lives 20 such lives per run.
const lifecycleTarget = 200

// benchLifecycle counts the workflow history events of one ticket's life: create, 5 replies,
// 2 field updates, an SLA warning and breach, resolve, auto-close; by event type, so what
// inflates it shows. It serves the API itself, with a 2-second auto-close.
func (s *scale) benchLifecycle() error {
	cfg := api.DefaultConfig()
	cfg.TaskQueue, cfg.RateLimit, cfg.AutoCloseAfter = s.queue, 0, 2*time.Second
	app := api.New(s.db, s.tc, cfg, s.log, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = app.Listener(ln) }()
	defer app.Shutdown()
	root := "http://" + ln.Addr().String()
	call := func(method, path string, body, out any) error {
		return apiCall(s.hc, root, s.token, method, path, body, out)
	}

	category := "bench-lifecycle-" + randomHex()
	// A 1-minute target with a 1-minute warning: the warning fires at once, the breach a minute on.
	policy := map[string]any{"name": category, "warningMinutes": 1, "rules": []any{map[string]any{
		"condition": fmt.Sprintf("ticket.category == '%s'", category), "firstResponseMinutes": 0, "resolutionMinutes": 1, "hours": "calendar"}}}
	if err := call("POST", "/api/v1/sla-policies", policy, nil); err != nil {
		return err
	}
	fmt.Printf("lifecycle: create, accept, 5 replies, 2 updates, SLA warning and breach, resolve, auto-close (takes a minute); backend: %s\n", backend)
	var t struct{ ID int64 }
	if err := call("POST", "/api/v1/tickets", map[string]any{"subject": "Lifecycle", "description": "Counting events", "category": category}, &t); err != nil {
		return err
	}
	path := fmt.Sprintf("/api/v1/tickets/%d", t.ID)
	// The agent takes the ticket before replying (the messenger's rule).
	if err := call("POST", path+"/accept", nil, nil); err != nil {
		return err
	}
	for i := range 5 {
		if err := call("POST", path+"/actions", map[string]any{"type": "public", "body": fmt.Sprintf("Reply %d", i+1)}, nil); err != nil {
			return err
		}
	}
	for _, u := range []string{"High", "Low"} {
		if err := call("PATCH", path, map[string]any{"urgency": u}, nil); err != nil {
			return err
		}
	}
	if _, err := s.waitBreaches([]int64{t.ID}, 90*time.Second); err != nil {
		return err
	}
	if err := call("POST", path+"/status", map[string]any{"status": "Resolved"}, nil); err != nil {
		return err
	}
	id := workflows.TicketWorkflowID(t.ID)
	if err := s.tc.GetWorkflow(s.ctx, id, "").Get(s.ctx, nil); err != nil {
		return fmt.Errorf("the ticket did not close by itself: %w", err)
	}
	byType, total, err := s.historyEvents(id)
	if err != nil {
		return err
	}
	var facts []string
	if err := s.db.NewRaw(`SELECT type FROM sla_events WHERE ticket_id = ? ORDER BY id`, t.ID).Scan(s.ctx, &facts); err != nil {
		return err
	}
	verdict := "meets"
	if total >= lifecycleTarget {
		verdict = "MISSES"
	}
	fmt.Printf("  %-34s %5d events\n", "baseline: continue-as-new at", 4096)
	fmt.Printf("  %-34s %5d events (%s the %d target; %.0f lives per run)\n", "ticket lifecycle history", total, verdict,
		lifecycleTarget, 4096/float64(total))
	fmt.Printf("  by type: %s\n", byType)
	fmt.Printf("  SLA events recorded: %s\n\n", strings.Join(facts, ", "))
	return nil
}

// historyEvents counts a workflow's history events, by type.
func (s *scale) historyEvents(id string) (string, int, error) {
	it := s.tc.GetWorkflowHistory(s.ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	counts := map[string]int{}
	total := 0
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return "", 0, err
		}
		name := strings.TrimPrefix(e.GetEventType().String(), "EVENT_TYPE_")
		if m := e.GetMarkerRecordedEventAttributes(); m != nil {
			name += "(" + m.GetMarkerName() + ")"
		}
		counts[name]++
		total++
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		return counts[names[i]] > counts[names[j]] || (counts[names[i]] == counts[names[j]] && names[i] < names[j])
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, counts[n])
	}
	return strings.Join(parts, ", "), total, nil
}
