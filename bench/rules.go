package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/switchboardhq/switchboard/rules"
)

// benchRules evaluates 1,000 enabled triggers against one event, with programs compiled once
// and cached, against compiling each condition every time; it prints the median and p99 per
// event of both and their ratio. Target: under 1 ms per event at the median, cached.
func benchRules(events int) error {
	conditions := make([]string, 1000)
	for i := range conditions {
		switch i % 4 {
		case 0:
			conditions[i] = fmt.Sprintf("ticket.urgency == 'Urgent' && hasTag('t%d')", i)
		case 1:
			conditions[i] = fmt.Sprintf("ticket.baseStatus in ['New', 'InAttendance'] && hoursSince(ticket.createdAt) > %d", i%48)
		case 2:
			conditions[i] = fmt.Sprintf("'urgency' in changes && changes.urgency.to == 'High' && ticket.actionCount > %d", i%10)
		default:
			conditions[i] = fmt.Sprintf("actor.kind == 'customer' && ticket.customFields.plan == 'gold' && len(ticket.tags) < %d", i%20)
		}
	}
	now := time.Now()
	t := rules.Ticket{ID: 1, Urgency: "Urgent", BaseStatus: "New", Tags: []string{"t4", "vip"}, CreatedAt: now.Add(-30 * time.Hour),
		ActionCount: 3, CustomFields: map[string]any{"plan": "gold"}}
	env := rules.NewEnv(t, rules.Event{Name: rules.EventUpdated}, map[string]rules.Change{"urgency": {From: "Low", To: "High"}},
		rules.Actor{ID: "c1", Kind: "customer"}, now)
	cache := rules.NewCache()
	evaluate := func(compileEach bool) (time.Duration, int, error) {
		start, matched := time.Now(), 0
		for i, c := range conditions {
			var p, err = cache.Program(fmt.Sprint(i), 1, c)
			if compileEach {
				p, err = rules.Compile(c)
			}
			if err != nil {
				return 0, 0, fmt.Errorf("condition %d: %w", i, err)
			}
			if ok, err := rules.Eval(p, env); err == nil && ok {
				matched++
			}
		}
		return time.Since(start), matched, nil
	}
	run := func(compileEach bool, n int) ([]time.Duration, int, error) {
		var per []time.Duration
		matched := 0
		for range n {
			d, m, err := evaluate(compileEach)
			if err != nil {
				return nil, 0, err
			}
			per, matched = append(per, d), m
		}
		slices.Sort(per)
		return per, matched, nil
	}
	if _, _, err := run(false, 3); err != nil { // fill the cache, warm up
		return err
	}
	cached, matched, err := run(false, events)
	if err != nil {
		return err
	}
	compiling, _, err := run(true, max(events/10, 5))
	if err != nil {
		return err
	}
	pct := func(s []time.Duration, p float64) time.Duration { return s[min(len(s)-1, int(float64(len(s))*p))] }
	fmt.Printf("rules: 1,000 enabled triggers per event (%d match), in process\n", matched)
	fmt.Printf("  %-34s p50 %8.3f ms   p99 %8.3f ms   (%d events)\n", "baseline: compile every time", ms(pct(compiling, 0.5)), ms(pct(compiling, 0.99)), len(compiling))
	fmt.Printf("  %-34s p50 %8.3f ms   p99 %8.3f ms   (%d events)\n", "compiled once, cached", ms(pct(cached, 0.5)), ms(pct(cached, 0.99)), len(cached))
	verdict := "meets"
	if pct(cached, 0.5) >= time.Millisecond {
		verdict = "MISSES"
	}
	fmt.Printf("  cached is %.0fx faster; median %.3f ms per event (%s the 1 ms target)\n\n",
		float64(pct(compiling, 0.5))/float64(pct(cached, 0.5)), ms(pct(cached, 0.5)), verdict)
	return nil
}
