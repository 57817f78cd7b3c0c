//go:build cluster

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
)

// A ticket created through either API instance is visible through the other at once: they
// share nothing but PostgreSQL and Temporal.
func TestTicketsThroughBothAPIs(t *testing.T) {
	c := setup(t)
	for from := range 2 {
		other := 1 - from
		subject := randomName("both-")
		tk := c.call(t, from, c.admin, "POST", "/api/v1/tickets", map[string]any{"subject": subject}).expect(t, 201).obj(t)
		id := int64(tk["id"].(float64))
		got := c.call(t, other, c.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d", id), nil).expect(t, 200).obj(t)
		require.Equal(t, subject, got["subject"])
		// A change through the other instance goes through the same workflow.
		c.call(t, other, c.admin, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", id), map[string]any{"urgency": "High"}).expect(t, 200)
		got = c.call(t, from, c.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d", id), nil).expect(t, 200).obj(t)
		require.Equal(t, "High", got["urgency"])
		require.True(t, c.workflowExists(t, id))
	}
}

// A call driven by the PBX through one instance opens and closes the agent's call screen held
// open on the other: the event travels through PostgreSQL, not through process memory.
func TestCallScreenOnTheOtherAPI(t *testing.T) {
	c := setup(t)
	tag := randomName("")
	mk := func(body map[string]any) string {
		return c.call(t, 0, c.admin, "POST", "/api/v1/persons", body).expect(t, 201).obj(t)["id"].(string)
	}
	agent := mk(map[string]any{"name": "Ada " + tag, "profile": "agent", "emails": []string{"ada-" + tag + "@example.com"}})
	mk(map[string]any{"name": "Carla " + tag, "profile": "customer", "phones": []string{"(47) 3399-0000"}})
	tok := func(id string, scopes ...string) string {
		body := map[string]any{"name": "test"}
		if len(scopes) > 0 {
			body["scopes"] = scopes
		}
		return c.call(t, 0, c.admin, "POST", "/api/v1/persons/"+id+"/tokens", body).expect(t, 201).obj(t)["token"].(string)
	}
	agentTok := tok(agent)
	admins := c.call(t, 0, c.admin, "GET", "/api/v1/persons?role=admin&limit=1", nil).expect(t, 200).obj(t)["data"].([]any)
	pbxTok := tok(admins[0].(map[string]any)["id"].(string), "telephony")
	queue := time.Now().UnixNano()%1_000_000_000 + 1
	c.call(t, 0, c.admin, "POST", "/api/v1/call-groups", map[string]any{"queueId": queue, "name": "Support " + tag,
		"members": []map[string]any{{"agentId": agent, "extension": "5252"}}}).expect(t, 201)
	c.call(t, 0, agentTok, "PUT", "/api/v1/agents/"+agent+"/telephony", map[string]any{"online": true, "phoneOnline": true}).expect(t, 200)

	screen := c.stream(t, 1, agentTok) // on the second instance
	id := randomName("call-")
	pbx := func(method string, params ...string) resp {
		q := url.Values{"token": {pbxTok}}
		for i := 0; i+1 < len(params); i += 2 {
			q.Set(params[i], params[i+1])
		}
		return c.call(t, 0, "", "POST", "/public/v1/"+method+"?"+q.Encode(), nil).expect(t, 200)
	}
	require.Equal(t, "5252", string(pbx("asterisk_receivedCall", "queueId", fmt.Sprint(queue), "clientNumber", "4733990000",
		"id", id, "callDate", "2018-5-1T17:00:00").body))
	eventually(t, 20*time.Second, func() bool {
		r := c.call(t, 1, c.admin, "GET", "/api/v1/calls/"+id, nil)
		return r.status == 200 && r.obj(t)["state"] == "offered"
	}, "the call is offered")
	pbx("asterisk_transferedCall", "id", id, "branchLine", "5252", "transferDate", "2018-5-1T17:02:00")
	require.Equal(t, "call.transferred", screen.next(t))
	pbx("asterisk_completedCall", "id", id, "link", "https://rec.example/1", "completedDate", "2018-5-1T17:20:00")
	require.Equal(t, "call.ended", screen.next(t))
}

// created is a ticket whose create answered 2xx.
type created struct {
	id      int64
	subject string
}

// loader creates tickets through both instances from several goroutines, alternating between
// the instances, and remembers every create that answered 2xx; failures (5xx, timeouts, refused
// connections) are counted and the loop goes on, as a client retrying later would.
type loader struct {
	mu       sync.Mutex
	ok       []created
	attempts atomic.Int64
	failures atomic.Int64
	wg       sync.WaitGroup
}

// run starts n goroutines creating tickets `prefix-N` in category until limit creates were tried
// (0: until ctx ends). Wait with l.wg.Wait().
func (c *cluster) load(ctx context.Context, n, limit int, prefix, category string) *loader {
	l := &loader{}
	var next atomic.Int64
	for g := range n {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1)
				if limit > 0 && i > int64(limit) {
					return
				}
				l.attempts.Add(1)
				subject := fmt.Sprintf("%s-%d", prefix, i)
				r, err := do(c.apis[(g+int(i))%2], c.admin, "POST", "/api/v1/tickets",
					map[string]any{"subject": subject, "category": category})
				if err != nil || r.status/100 != 2 {
					l.failures.Add(1)
					time.Sleep(200 * time.Millisecond)
					continue
				}
				var tk struct {
					ID int64 `json:"id"`
				}
				if jsonErr := json.Unmarshal(r.body, &tk); jsonErr != nil || tk.ID == 0 {
					l.failures.Add(1)
					continue
				}
				l.mu.Lock()
				l.ok = append(l.ok, created{tk.ID, subject})
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *loader) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ok)
}

// checkExactlyOnce asserts that every ticket whose create answered 2xx has one row (by its
// unique subject, so a duplicate created by a retry would show) and its workflow.
func (c *cluster) checkExactlyOnce(t *testing.T, prefix string, ok []created) {
	t.Helper()
	ctx := context.Background()
	type row struct {
		Subject string `bun:"subject"`
		N       int    `bun:"n"`
		ID      int64  `bun:"id"`
	}
	bySubject := map[string]row{}
	missing := func() []created {
		var rows []row
		if err := c.db.NewRaw("SELECT subject, count(*) AS n, min(id) AS id FROM tickets WHERE subject LIKE ? GROUP BY subject",
			prefix+"-%").Scan(ctx, &rows); err != nil {
			return ok
		}
		clear(bySubject)
		for _, r := range rows {
			bySubject[r.Subject] = r
		}
		var gone []created
		for _, tk := range ok {
			if _, found := bySubject[tk.subject]; !found {
				gone = append(gone, tk)
			}
		}
		return gone
	}
	// The API writes the row itself, and the workflow writes it again; after a database
	// outage only the workflow's write (retried with backoff) may have landed, so wait for
	// every 2xx ticket by its own subject. Counting rows is not enough: a create that
	// answered an error may still have made its ticket.
	deadline := time.Now().Add(3 * time.Minute)
	for gone := missing(); len(gone) > 0; gone = missing() {
		if time.Now().After(deadline) {
			t.Fatalf("%d tickets answered 2xx but have no row, e.g. %d (%s)", len(gone), gone[0].id, gone[0].subject)
		}
		time.Sleep(time.Second)
	}
	for _, tk := range ok {
		r := bySubject[tk.subject]
		require.Equal(t, 1, r.N, "ticket %s exists %d times", tk.subject, r.N)
		require.Equal(t, tk.id, r.ID)
		require.True(t, c.workflowExists(t, tk.id), "ticket %d has its workflow", tk.id)
	}
}

// kill -9 of one worker while 500 tickets are created under a 1-minute resolution target:
// every ticket whose create answered 2xx exists once with its workflow, and every one breaches
// exactly once, on the surviving worker or on the restarted one.
func TestWorkerKilledWhileTicketsAndSLATimersRun(t *testing.T) {
	c := setup(t)
	const total = 500
	category := randomName("kill-worker-")
	c.call(t, 0, c.admin, "POST", "/api/v1/sla-policies", map[string]any{"name": "one minute " + category, "isDefault": true,
		"rules": []map[string]any{{"condition": "ticket.category == '" + category + "'", "resolutionMinutes": 1, "hours": "calendar"}}}).
		expect(t, 201)

	l := c.load(context.Background(), 8, total, category, category)
	eventually(t, 2*time.Minute, func() bool { return l.count() >= total/4 }, "a quarter of the tickets created")
	c.control(t, "kill", "worker1")
	l.wg.Wait()
	t.Logf("%d of %d creates answered 2xx (%d failed) with worker1 killed after %d", l.count(), total, l.failures.Load(), total/4)
	require.Equal(t, total, l.count(), "one worker is enough: no create fails")
	c.checkExactlyOnce(t, category, l.ok)

	// Breaches fire a minute after each ticket opened, while worker1 is down; it comes back
	// halfway through, so both the survivor and the restarted worker run timers.
	time.Sleep(30 * time.Second)
	c.control(t, "start", "worker1")
	ctx := context.Background()
	ids := make([]int64, len(l.ok))
	for i, tk := range l.ok {
		ids[i] = tk.id
	}
	breaches := func() map[int64]int {
		var rows []struct {
			TicketID int64 `bun:"ticket_id"`
			N        int   `bun:"n"`
		}
		require.NoError(t, c.db.NewRaw("SELECT ticket_id, count(*) AS n FROM sla_events WHERE type = 'breached' AND target = 'resolution' "+
			"AND ticket_id IN (?) GROUP BY ticket_id", bun.In(ids)).Scan(ctx, &rows))
		m := map[int64]int{}
		for _, r := range rows {
			m[r.TicketID] = r.N
		}
		return m
	}
	eventually(t, 4*time.Minute, func() bool { return len(breaches()) == len(ids) }, "every ticket breaches")
	// Any second recording would come from a timer or activity replayed after the kill: give
	// the retries time to land before counting.
	time.Sleep(10 * time.Second)
	for id, n := range breaches() {
		require.Equal(t, 1, n, "ticket %d breached %d times", id, n)
	}
}

// kill -9 of the Temporal server, then of PostgreSQL, under load through both instances; both
// come back, and Switchboard recovers without a restart: creates succeed again through both
// instances, every 2xx create exists once with its workflow, and the workflows take changes.
func TestTemporalAndPostgresKilledMidLoad(t *testing.T) {
	c := setup(t)
	prefix := randomName("outage-")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	l := c.load(ctx, 6, 0, prefix, "outage")
	waitCreates := func(n int, msg string) {
		from := l.count()
		eventually(t, 3*time.Minute, func() bool { return l.count() >= from+n }, msg)
	}
	waitCreates(30, "creates before the faults")

	c.control(t, "kill", "temporal")
	time.Sleep(5 * time.Second)
	c.control(t, "start", "temporal")
	waitCreates(30, "creates after Temporal came back")

	c.control(t, "kill", "postgres")
	time.Sleep(5 * time.Second)
	c.control(t, "start", "postgres")
	waitCreates(30, "creates after PostgreSQL came back")
	stop()
	l.wg.Wait()
	t.Logf("%d creates answered 2xx, %d failed during the outages", l.count(), l.failures.Load())
	require.Positive(t, l.failures.Load(), "the outages were felt (else this test proves nothing)")

	// Both instances serve creates and changes again, without having been restarted.
	for api := range 2 {
		tk := c.call(t, api, c.admin, "POST", "/api/v1/tickets", map[string]any{"subject": fmt.Sprintf("%s-after-%d", prefix, api)}).
			expect(t, 201).obj(t)
		id := int64(tk["id"].(float64))
		c.call(t, 1-api, c.admin, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", id), map[string]any{"urgency": "High"}).expect(t, 200)
	}
	c.checkExactlyOnce(t, prefix, l.ok)
}
