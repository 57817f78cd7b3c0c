package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
)

// benchReceivedCall runs n simulated calls at once against one queue of ten agents and reports
// the latency of asterisk_receivedCall next to SELECT 1 at the same concurrency.
func benchReceivedCall(ctx context.Context, db *bun.DB, hc *http.Client, root, token string, n int, d time.Duration) error {
	queue, err := setupQueue(ctx, db, hc, root, token, 10)
	if err != nil {
		return err
	}
	fmt.Printf("received-call: %d simultaneous calls, queue of 10 agents, %s; backend: Temporal CLI dev server (SQLite file, WAL) + local PostgreSQL\n", n, d)
	pg := measure(n, d, func() error {
		_, err := db.ExecContext(ctx, "SELECT 1")
		return err
	})

	var mu sync.Mutex
	var lat []time.Duration
	var failures, seq atomic.Int64
	post := func(method string, params url.Values) (string, error) {
		params.Set("token", token)
		res, err := hc.Post(root+"/public/v1/"+method+"?"+params.Encode(), "", nil)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			return "", fmt.Errorf("%s: %d %s", method, res.StatusCode, b)
		}
		return string(b), nil
	}
	date := func() string { return time.Now().UTC().Format("2006-01-02T15:04:05") }
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				id := fmt.Sprintf("bench-%d-%d", start.UnixNano(), seq.Add(1))
				t0 := time.Now()
				ext, err := post("asterisk_receivedCall", url.Values{"queueId": {fmt.Sprint(queue)}, "clientNumber": {"5511999990000"}, "id": {id}, "callDate": {date()}})
				if err != nil {
					failures.Add(1)
					continue
				}
				mu.Lock()
				lat = append(lat, time.Since(t0))
				mu.Unlock()
				time.Sleep(time.Duration(100+rand.IntN(200)) * time.Millisecond) // ringing
				if len(ext) > 1 {
					_, err = post("asterisk_transferedCall", url.Values{"id": {id}, "branchLine": {ext}, "transferDate": {date()}})
					time.Sleep(time.Duration(200+rand.IntN(600)) * time.Millisecond) // talking
					if err == nil {
						_, err = post("asterisk_completedCall", url.Values{"id": {id}, "completedDate": {date()}})
					}
				} else {
					_, err = post("asterisk_canceledCall", url.Values{"id": {id}, "canceledDate": {date()}})
				}
				if err != nil {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	calls := result{count: len(lat), latencies: lat, elapsed: time.Since(start), failures: failures.Load()}
	fmt.Printf("  %-34s p50 %6.1f ms   p99 %6.1f ms   (%d done)\n", "baseline: PostgreSQL SELECT 1", ms(pg.pct(0.5)), ms(pg.pct(0.99)), pg.count)
	fmt.Printf("  %-34s p50 %6.1f ms   p99 %6.1f ms   (%d done, %d failed callbacks)\n", "asterisk_receivedCall", ms(calls.pct(0.5)), ms(calls.pct(0.99)), calls.count, calls.failures)
	verdict := "meets"
	if calls.pct(0.99) >= 100*time.Millisecond {
		verdict = "MISSES"
	}
	fmt.Printf("  p99 %.1f ms (%s the 100 ms target)\n\n", ms(calls.pct(0.99)), verdict)
	return nil
}

// setupQueue creates a call group of `agents` agents, all online, through the API.
func setupQueue(ctx context.Context, db *bun.DB, hc *http.Client, root, token string, agents int) (int64, error) {
	queue := time.Now().UnixNano() % 1_000_000_000
	members := []map[string]any{}
	for i := range agents {
		var p struct{ ID string }
		if err := apiCall(hc, root, token, "POST", "/api/v1/persons", map[string]any{"name": fmt.Sprintf("Bench agent %d", i), "profile": "agent"}, &p); err != nil {
			return 0, err
		}
		if err := apiCall(hc, root, token, "PUT", "/api/v1/agents/"+p.ID+"/telephony", map[string]any{"online": true, "phoneOnline": true}, nil); err != nil {
			return 0, err
		}
		members = append(members, map[string]any{"agentId": p.ID, "extension": fmt.Sprint(6000 + i)})
	}
	err := apiCall(hc, root, token, "POST", "/api/v1/call-groups", map[string]any{"queueId": queue, "name": "Bench", "members": members}, nil)
	return queue, err
}
