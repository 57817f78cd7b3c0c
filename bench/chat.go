package main

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/internal/events"
	"github.com/switchboardhq/switchboard/workflows"
)

// chat: 300 chats started at once into one automatic group of 10 agents with a limit of 3,
// while simulated agents accept what they are offered and close it after a random 20–200 ms.
// It prints double offers and limit overruns (both must be 0, counted afterwards from the
// chats' recorded events) and the time from a freed seat (the agent's close) to the next offer
// reaching that agent (the chat's NOTIFY, as an agent's stream would see it), next to a bare
// round trip on the same path: a signal to a workflow that runs a local activity sending a
// NOTIFY. Target: p99 under 500 ms.

const (
	benchChats      = 300
	benchChatAgents = 10
	benchChatLimit  = 3
)

// benchEchoDB is the database the echo workflow's local activity notifies through.
var benchEchoDB *bun.DB

// BenchEcho is the baseline: each "ping" signal makes a local activity send the payload on
// channel.
func BenchEcho(ctx workflow.Context, channel string) error {
	ch := workflow.GetSignalChannel(ctx, "ping")
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	for {
		var p string
		ch.Receive(ctx, &p)
		if p == "stop" {
			return nil
		}
		if err := workflow.ExecuteLocalActivity(lctx, benchEchoNotify, channel, p).Get(ctx, nil); err != nil {
			return err
		}
	}
}

func benchEchoNotify(ctx context.Context, channel, payload string) error {
	_, err := benchEchoDB.ExecContext(ctx, "SELECT pg_notify(?, ?)", channel, payload)
	return err
}

func (s *scale) benchChat() error {
	ctx := s.ctx
	tag := randomHex()
	agents, err := s.chatAgents(s.root, benchChatAgents, tag)
	if err != nil {
		return err
	}
	group, err := s.chatGroup(s.root, tag, agents, map[string]any{"automatic": true, "maxConcurrentPerAgent": benchChatLimit})
	if err != nil {
		return err
	}
	if err := s.setChatPresence(agents, "online"); err != nil {
		return err
	}

	// Offers as agents see them: a chat's NOTIFY, then its latest "offered" event.
	ln := pgdriver.NewListener(s.db)
	defer ln.Close()
	if err := ln.Listen(ctx, events.ChatChannel); err != nil {
		return err
	}
	type offer struct {
		chat string
		at   time.Time
	}
	inbox := map[string]chan offer{}
	for _, a := range agents {
		inbox[a] = make(chan offer, benchChats)
	}
	var offersSeen atomic.Int64
	seen := map[string]bool{}
	lctx, stopListen := context.WithCancel(ctx)
	defer stopListen()
	notes := ln.Channel()
	go func() {
		for {
			var n pgdriver.Notification
			select {
			case n = <-notes:
			case <-lctx.Done():
				return
			}
			// Take every wake-up already here, then look them up in one query (queue positions
			// wake every waiting chat's stream on each change; one query each would make the
			// listener the bottleneck being measured).
			at := map[string]time.Time{n.Payload: time.Now()}
		drain:
			for {
				select {
				case n = <-notes:
					if _, ok := at[n.Payload]; !ok {
						at[n.Payload] = time.Now()
					}
				default:
					break drain
				}
			}
			var batch []string
			for id := range at {
				if !seen[id] {
					batch = append(batch, id)
				}
			}
			if len(batch) == 0 {
				continue
			}
			var rows []struct {
				ChatID  string `bun:"chat_id"`
				AgentID string `bun:"agent_id"`
			}
			err := s.db.NewRaw(`SELECT DISTINCT ON (chat_id) chat_id, agent_id FROM chat_events
				WHERE chat_id = ANY(?::text[]) AND type = 'offered' ORDER BY chat_id, version DESC, n DESC`,
				pgdialect.Array(batch)).Scan(lctx, &rows)
			if err != nil {
				continue
			}
			sort.Slice(rows, func(i, j int) bool { return at[rows[i].ChatID].Before(at[rows[j].ChatID]) })
			for _, r := range rows {
				if inbox[r.AgentID] == nil {
					continue
				}
				seen[r.ChatID] = true
				offersSeen.Add(1)
				inbox[r.AgentID] <- offer{r.ChatID, at[r.ChatID]}
			}
		}
	}()

	update := func(id, name string, arg any) error {
		h, err := s.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.ChatWorkflowID(id), UpdateName: name,
			Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		return err
	}

	// The agents: accept, talk a little, close; a close made while chats wait frees a seat
	// whose next offer is timed.
	var mu sync.Mutex
	var freed []time.Duration
	var closed, failures atomic.Int64
	done := make(chan struct{})
	var aw sync.WaitGroup
	for _, a := range agents {
		aw.Add(1)
		go func() {
			defer aw.Done()
			var pending []time.Time // closes made while chats waited, oldest first
			var cw sync.WaitGroup
			defer cw.Wait()
			for {
				var o offer
				select {
				case o = <-inbox[a]:
				case <-done:
					return
				}
				if len(pending) > 0 {
					mu.Lock()
					freed = append(freed, o.at.Sub(pending[0]))
					mu.Unlock()
					pending = pending[1:]
				}
				if err := update(o.chat, workflows.UpdateChatAccept, workflows.AcceptChatInput{AgentID: a}); err != nil {
					failures.Add(1)
					continue
				}
				waiting := offersSeen.Load() < benchChats
				t0 := time.Now().Add(time.Duration(20+mrand.IntN(180)) * time.Millisecond)
				if waiting {
					pending = append(pending, t0)
				}
				cw.Add(1)
				go func() {
					defer cw.Done()
					time.Sleep(time.Until(t0))
					if err := update(o.chat, workflows.UpdateChatClose, workflows.CloseChatInput{By: a, Reason: workflows.CloseByAgent}); err != nil {
						failures.Add(1)
						return
					}
					closed.Add(1)
				}()
			}
		}()
	}

	ids := make([]string, benchChats)
	started := time.Now()
	var sw sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range ids {
		ids[i] = uuid.NewString()
		sw.Add(1)
		sem <- struct{}{}
		go func() {
			defer sw.Done()
			defer func() { <-sem }()
			_, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ChatWorkflowID(ids[i]), TaskQueue: s.queue,
				WorkflowExecutionErrorWhenAlreadyStarted: true}, workflows.ChatSessionWorkflowType,
				workflows.ChatInput{ID: ids[i], Kind: workflows.ChatKindCustomer, GroupID: group,
					Group: workflows.ChatGroupSettings{AcceptWithin: time.Hour, QueueWait: 24 * time.Hour, CustomerInactivity: 24 * time.Hour}})
			if err != nil {
				failures.Add(1)
			}
		}()
	}
	sw.Wait()
	deadline := time.Now().Add(5 * time.Minute)
	for closed.Load()+failures.Load() < benchChats && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(started)
	close(done)
	aw.Wait()
	stopListen()

	// What the distributor's one run did (how many workflow tasks took the signals).
	var distributorLine string
	{
		it := s.tc.GetWorkflowHistory(ctx, workflows.ChatDistributorWorkflowID(s.queue), "", false, 0)
		var n int
		sched := map[int64]time.Time{}
		var wft, act []time.Duration
		var sigs int
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				break
			}
			n++
			t := e.GetEventTime().AsTime()
			switch e.GetEventType().String() {
			case "WorkflowTaskScheduled", "ActivityTaskScheduled":
				sched[e.GetEventId()] = t
			case "WorkflowTaskStarted":
				wft = append(wft, t.Sub(sched[e.GetWorkflowTaskStartedEventAttributes().GetScheduledEventId()]))
			case "ActivityTaskStarted":
				act = append(act, t.Sub(sched[e.GetActivityTaskStartedEventAttributes().GetScheduledEventId()]))
			case "WorkflowExecutionSignaled":
				sigs++
			}
		}
		w := result{latencies: wft}
		distributorLine = fmt.Sprintf("  distributor history: %d events, %d signals in %d workflow tasks (task schedule -> start p50 %.1f ms, p99 %.1f ms); %d regular activities",
			n, sigs, len(wft), ms(w.pct(.5)), ms(w.pct(.99)), len(act))
	}
	doubles, overruns, err := s.chatOfferAudit(ids)
	if err != nil {
		return err
	}

	// Baseline: signal -> workflow -> local activity -> NOTIFY -> listener, one at a time.
	base, err := s.signalRoundTrips(200)
	if err != nil {
		return err
	}

	fr := result{latencies: freed, count: len(freed)}
	fmt.Printf("chat: %d chats at once into %d agents (limit %d), agents closing after 20-200 ms; backend: Temporal CLI dev server (SQLite file, WAL) + local PostgreSQL\n",
		benchChats, benchChatAgents, benchChatLimit)
	fmt.Printf("  all closed in %.1f s (%d closed, %d failed operations)\n", elapsed.Seconds(), closed.Load(), failures.Load())
	fmt.Println(distributorLine)
	fmt.Printf("  double offers: %d (must be 0)   limit overruns: %d (must be 0)\n", doubles, overruns)
	fmt.Printf("  %-44s p50 %6.1f ms   p99 %6.1f ms   (%d)\n", "freed seat -> next offer seen by the agent", ms(fr.pct(0.5)), ms(fr.pct(0.99)), fr.count)
	fmt.Printf("  %-44s p50 %6.1f ms   p99 %6.1f ms   (%d)\n", "baseline: signal -> workflow -> NOTIFY", ms(base.pct(0.5)), ms(base.pct(0.99)), base.count)
	verdict := "meets"
	if fr.pct(0.99) >= 500*time.Millisecond || doubles > 0 || overruns > 0 {
		verdict = "MISSES"
	}
	fmt.Printf("  %s the targets (0 double offers, 0 overruns, p99 under 500 ms)\n\n", verdict)
	return nil
}

// chatOfferAudit counts, from the chats' recorded events, chats offered more than once and
// instants at which an agent held more than the limit (offered or active: from the offer to the
// close).
func (s *scale) chatOfferAudit(ids []string) (doubles, overruns int, err error) {
	var rows []struct {
		ChatID  string    `bun:"chat_id"`
		Type    string    `bun:"type"`
		AgentID *string   `bun:"agent_id"`
		At      time.Time `bun:"at"`
	}
	err = s.db.NewRaw(`SELECT chat_id, type, agent_id, at FROM chat_events WHERE chat_id = ANY(?::text[])
		AND type IN ('offered', 'closed') ORDER BY chat_id, version, n`, pgdialect.Array(ids)).Scan(s.ctx, &rows)
	if err != nil {
		return 0, 0, err
	}
	type span struct {
		agent      string
		start, end time.Time
	}
	byChat := map[string]*span{}
	offers := map[string]int{}
	for _, r := range rows {
		switch r.Type {
		case workflows.ChatEventOffered:
			offers[r.ChatID]++
			if r.AgentID != nil {
				byChat[r.ChatID] = &span{agent: *r.AgentID, start: r.At, end: time.Now()}
			}
		case workflows.ChatEventClosed:
			if sp := byChat[r.ChatID]; sp != nil {
				sp.end = r.At
			}
		}
	}
	for _, n := range offers {
		if n > 1 {
			doubles++
		}
	}
	type edge struct {
		at time.Time
		d  int
	}
	perAgent := map[string][]edge{}
	for _, sp := range byChat {
		perAgent[sp.agent] = append(perAgent[sp.agent], edge{sp.start, 1}, edge{sp.end, -1})
	}
	for _, es := range perAgent {
		sort.Slice(es, func(i, j int) bool {
			if !es[i].at.Equal(es[j].at) {
				return es[i].at.Before(es[j].at)
			}
			return es[i].d < es[j].d // a close before an offer at the same instant
		})
		n := 0
		for _, e := range es {
			n += e.d
			if n > benchChatLimit {
				overruns++
			}
		}
	}
	return doubles, overruns, nil
}

// signalRoundTrips times n signals, one at a time, to an echo workflow that answers each with
// a NOTIFY from a local activity.
func (s *scale) signalRoundTrips(n int) (result, error) {
	benchEchoDB = s.db
	ln := pgdriver.NewListener(s.db)
	defer ln.Close()
	channel := "bench_echo_" + randomHex()
	if err := ln.Listen(s.ctx, channel); err != nil {
		return result{}, err
	}
	id := "bench-echo/" + randomHex()
	if _, err := s.tc.ExecuteWorkflow(s.ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.queue}, "BenchEcho", channel); err != nil {
		return result{}, err
	}
	defer func() { _ = s.tc.SignalWorkflow(s.ctx, id, "", "ping", "stop") }()
	var res result
	for i := range n + 10 {
		p := fmt.Sprint(i)
		t0 := time.Now()
		if err := s.tc.SignalWorkflow(s.ctx, id, "", "ping", p); err != nil {
			return res, err
		}
		for {
			_, got, err := ln.ReceiveTimeout(s.ctx, 10*time.Second)
			if err != nil {
				return res, err
			}
			if got == p {
				break
			}
		}
		if i >= 10 { // warm-up
			res.latencies = append(res.latencies, time.Since(t0))
		}
	}
	res.count = len(res.latencies)
	return res, nil
}

// signalBurst sends n signals at once, one to each of n echo workflows (each answering with a
// NOTIFY from a local activity, as BenchEcho does), and answers the time until the last NOTIFY.
func (s *scale) signalBurst(n int) (time.Duration, error) {
	benchEchoDB = s.db
	ln := pgdriver.NewListener(s.db)
	defer ln.Close()
	channel := "bench_echo_" + randomHex()
	if err := ln.Listen(s.ctx, channel); err != nil {
		return 0, err
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "bench-echo/" + randomHex()
		if _, err := s.tc.ExecuteWorkflow(s.ctx, client.StartWorkflowOptions{ID: ids[i], TaskQueue: s.queue}, "BenchEcho", channel); err != nil {
			return 0, err
		}
	}
	defer func() {
		for _, id := range ids {
			_ = s.tc.SignalWorkflow(s.ctx, id, "", "ping", "stop")
		}
	}()
	// Warm each workflow up (its first task), then the burst.
	for _, id := range ids {
		if err := s.tc.SignalWorkflow(s.ctx, id, "", "ping", "warm"); err != nil {
			return 0, err
		}
	}
	for range n {
		if _, _, err := ln.ReceiveTimeout(s.ctx, 30*time.Second); err != nil {
			return 0, err
		}
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, id := range ids {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- s.tc.SignalWorkflow(s.ctx, id, "", "ping", "go") }()
	}
	for range n {
		if _, _, err := ln.ReceiveTimeout(s.ctx, 30*time.Second); err != nil {
			return 0, err
		}
	}
	took := time.Since(t0)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return took, nil
}
