package main

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
)

var openTickets = flag.Int("open-tickets", intEnv("SWITCHBOARD_BENCH_OPEN_TICKETS", 20000),
	"open-tickets: open tickets with live SLA timers to hold on the worker (env SWITCHBOARD_BENCH_OPEN_TICKETS)")

// benchOpenTickets holds n open tickets with live SLA timers (a 1-day resolution target with a
// 30-minute warning) on the one in-process worker: the process's RSS and Go heap, and the
// ticket-create latency, before and after, side by side, and the RSS per open ticket. The
// worker keeps up to the SDK's sticky cache (10,000 workflows) in memory; the rest are replayed
// from history when they next have work.
func (s *scale) benchOpenTickets(n int) error {
	category := "bench-open-" + randomHex()
	policy := map[string]any{"name": category, "warningMinutes": 30, "rules": []any{map[string]any{
		"condition": fmt.Sprintf("ticket.category == '%s'", category), "firstResponseMinutes": 0, "resolutionMinutes": 1440, "hours": "calendar"}}}
	if err := apiCall(s.hc, s.root, s.token, "POST", "/api/v1/sla-policies", policy, nil); err != nil {
		return err
	}
	body := map[string]any{"subject": "Open ticket", "description": "Held open", "category": category}
	var created atomic.Int64
	create := func() error {
		err := apiCall(s.hc, s.root, s.token, "POST", "/api/v1/tickets", body, nil)
		if err == nil {
			created.Add(1)
		}
		return err
	}
	type sample struct {
		rss, heap, open int64
		lat             result
	}
	take := func() sample {
		lat := measure(8, 4*time.Second, create)
		debug.FreeOSMemory()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return sample{rss: rssKB(), heap: int64(m.HeapInuse / 1024), lat: lat, open: created.Load()}
	}
	fmt.Printf("open-tickets: %d open tickets with live SLA timers on one worker; backend: %s\n", n, backend)
	before := take()
	t0 := time.Now()
	if _, err := s.createTickets(n, body); err != nil {
		return err
	}
	fill := time.Since(t0)
	after := take()
	open := created.Load() + int64(n)
	added := int64(n + after.lat.count) // opened between the two readings
	fmt.Printf("  created %d tickets in %s (%.0f /s, 32 clients)\n", n, fill.Round(time.Second), float64(n)/fill.Seconds())
	fmt.Printf("  %-28s %14s %14s\n", "", "before", "after")
	fmt.Printf("  %-28s %14d %14d\n", "open tickets", before.open, open)
	fmt.Printf("  %-28s %11.1f MB %11.1f MB\n", "worker process RSS", float64(before.rss)/1024, float64(after.rss)/1024)
	fmt.Printf("  %-28s %11.1f MB %11.1f MB\n", "Go heap in use", float64(before.heap)/1024, float64(after.heap)/1024)
	fmt.Printf("  %-28s %11.1f ms %11.1f ms\n", "create latency p50 (8 cl.)", ms(before.lat.pct(0.5)), ms(after.lat.pct(0.5)))
	fmt.Printf("  %-28s %11.1f ms %11.1f ms\n", "create latency p99 (8 cl.)", ms(before.lat.pct(0.99)), ms(after.lat.pct(0.99)))
	fmt.Printf("  %-28s %11.1f /s %11.1f /s\n", "create rate (8 clients)", before.lat.rate(), after.lat.rate())
	fmt.Printf("  RSS per open ticket: %.1f KB (RSS after minus before, over the %d tickets added)\n\n",
		float64(after.rss-before.rss)/float64(added), added)
	return nil
}
