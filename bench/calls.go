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

// benchReceivedCall keeps n simulated calls in flight against one queue of ten agents and
// reports the latency of asterisk_receivedCall next to SELECT 1 at the same concurrency. A call
// is paced like a real one: it rings about a second, talks 3-8 s; while every agent is busy the
// PBX asks again every second (the seed's advice for codes 3 and 4) and the caller hangs up
// after 15 tries; one put-through in ten finds the extension unavailable and asks for another.
func benchReceivedCall(ctx context.Context, db *bun.DB, hc *http.Client, root, token string, n int, d time.Duration) error {
	queue, err := setupQueue(ctx, db, hc, root, token, 10)
	if err != nil {
		return err
	}
	fmt.Printf("received-call: %d simultaneous calls, queue of 10 agents, %s; backend: Temporal CLI dev server (SQLite file, WAL) + local PostgreSQL\n", n, d)
	pg := measure(n, 5*time.Second, func() error {
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
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 2 * time.Second / time.Duration(n)) // calls arrive over 2 s, not all at once
			for time.Now().Before(stop) {
				id := fmt.Sprintf("bench-%d-%d", start.UnixNano(), seq.Add(1))
				received := func() (string, error) {
					t0 := time.Now()
					ext, err := post("asterisk_receivedCall", url.Values{"queueId": {fmt.Sprint(queue)}, "clientNumber": {"5511999990000"}, "id": {id}, "callDate": {date()}})
					if err == nil {
						mu.Lock()
						lat = append(lat, time.Since(t0))
						mu.Unlock()
					}
					return ext, err
				}
				if err := simulateCall(id, received, post, date); err != nil {
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

// simulateCall plays one call to its end.
func simulateCall(id string, received func() (string, error), post func(string, url.Values) (string, error), date func() string) error {
	ext, err := received()
	for tries := 0; err == nil && len(ext) == 1 && (ext == "3" || ext == "4") && tries < 15; tries++ {
		time.Sleep(time.Duration(800+rand.IntN(400)) * time.Millisecond) // PBXs are not in lockstep
		ext, err = received()
	}
	if err != nil {
		return err
	}
	if len(ext) == 1 { // still no extension: the caller gives up (codes 3, 4) or leaves a message (0-2)
		if ext == "3" || ext == "4" {
			_, err = post("asterisk_canceledCall", url.Values{"id": {id}, "canceledDate": {date()}})
		} else {
			_, err = post("asterisk_lostCall", url.Values{"id": {id}, "completedDate": {date()}})
		}
		return err
	}
	time.Sleep(time.Duration(500+rand.IntN(1000)) * time.Millisecond) // ringing
	if rand.IntN(10) == 0 {                                           // the extension turned out busy: ask for another
		if next, err := received(); err == nil && len(next) > 1 {
			ext = next
		}
	}
	if _, err := post("asterisk_transferedCall", url.Values{"id": {id}, "branchLine": {ext}, "transferDate": {date()}}); err != nil {
		return err
	}
	time.Sleep(time.Duration(3000+rand.IntN(5000)) * time.Millisecond) // talking
	_, err = post("asterisk_completedCall", url.Values{"id": {id}, "completedDate": {date()}})
	return err
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
