package integration

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/switchboardhq/switchboard/workflows"
)

// chatViews queries every chat's State, 8 at a time, each within 20 s.
func (s *stack) chatViews(t *testing.T, ids []string) map[string]workflows.ChatView {
	t.Helper()
	out, err := s.tryChatViews(ids)
	require.NoError(t, err)
	return out
}

// tryChatViews is chatViews answering the first error: a query that times out while the dev
// server is busy with the rest of the suite is a reason to look again, not a failure.
func (s *stack) tryChatViews(ids []string) (map[string]workflows.ChatView, error) {
	out := make(map[string]workflows.ChatView, len(ids))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var first error
	slots := make(chan struct{}, 8)
	for _, id := range ids {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err := s.tc.QueryWorkflow(ctx, workflows.ChatWorkflowID(id), "", workflows.QueryState)
			var v workflows.ChatView
			if err == nil {
				err = res.Get(&v)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				first = cmp.Or(first, err)
				return
			}
			out[id] = v
		}()
	}
	wg.Wait()
	return out, first
}

func (s *stack) chatUpdate(t *testing.T, id, name string, arg any) error {
	h, err := s.tc.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{
		WorkflowID: workflows.ChatWorkflowID(id), UpdateName: name, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(context.Background(), nil)
	}
	return err
}

// TestChatDistribution starts many chats at once into one automatic group of four agents with
// a limit of two, while the agents are offline; then brings them online one by one and works
// the queue in rounds (accept every offer, close every active chat at once). At every quiet
// point: no agent over the limit, no chat offered twice, the chats offered are the oldest ones,
// every free seat is in use, and the visitors' queue positions are their places in arrival
// order; at the end the chats spread evenly.
func TestChatDistribution(t *testing.T) {
	s := newStack(t, stackOptions{worker: true})
	defer s.close()
	checkDistribution(t, s, distributionFaults{})
}

// distributionFaults are what checkDistribution does to the system on its way: afterStart runs
// once every chat is started (before any agent is online), beforeCloses in each round after
// the offers are accepted and before the chats close at once.
type distributionFaults struct {
	afterStart   func()
	beforeCloses func(round int)
}

func checkDistribution(t *testing.T, s *stack, faults distributionFaults) {
	const agents, limit, chats = 4, 2, 24 // whole rounds: each round fills every seat
	tag := randomName("")
	var ids []string
	for i := range agents {
		ids = append(ids, s.call(t, s.admin, "POST", "/api/v1/persons", map[string]any{"name": fmt.Sprintf("Agent %d %s", i, tag),
			"profile": "agent", "emails": []string{fmt.Sprintf("agent%d-%s@example.com", i, tag)}}).expect(201).obj()["id"].(string))
	}
	members := []map[string]any{}
	for _, id := range ids {
		members = append(members, map[string]any{"agentId": id})
	}
	g := s.chatGroup(t, map[string]any{"name": "dist-" + tag, "members": members,
		"distribution": map[string]any{"automatic": true, "maxConcurrentPerAgent": limit},
		"timeouts":     map[string]any{"acceptWithin": "1h", "queueWait": "24h"}})

	// All chats at once, each with its own arrival time (the queue's order).
	base := time.Now().UTC().Truncate(time.Millisecond)
	chatIDs := make([]string, chats)
	var wg sync.WaitGroup
	errs := make(chan error, chats)
	for i := range chats {
		chatIDs[i] = uuid.NewString()
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: workflows.ChatWorkflowID(chatIDs[i]),
				TaskQueue: s.taskQueue, WorkflowExecutionErrorWhenAlreadyStarted: true}, workflows.ChatSessionWorkflowType,
				workflows.ChatInput{ID: chatIDs[i], Kind: workflows.ChatKindCustomer, GroupID: g.ID,
					Group:     workflows.ChatGroupSettings{AcceptWithin: time.Hour, QueueWait: 24 * time.Hour, CustomerInactivity: 24 * time.Hour},
					ArrivedAt: base.Add(time.Duration(i) * time.Millisecond)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	arrival := func(id string) int { return slices.Index(chatIDs, id) }
	if faults.afterStart != nil {
		faults.afterStart()
	}

	// positions reads the queue positions the distributor wrote.
	positions := func() map[string]int {
		var rows []struct {
			ID  string `bun:"id"`
			Pos *int   `bun:"queue_position"`
		}
		require.NoError(t, s.db.NewRaw("SELECT id, queue_position FROM chats WHERE group_id = ?", g.ID).Scan(context.Background(), &rows))
		out := map[string]int{}
		for _, r := range rows {
			if r.Pos != nil {
				out[r.ID] = *r.Pos
			}
		}
		return out
	}
	wantPositions := func(waiting []string) map[string]int {
		slices.SortFunc(waiting, func(a, b string) int { return arrival(a) - arrival(b) })
		out := map[string]int{}
		for i, id := range waiting {
			out[id] = i + 1
		}
		return out
	}
	// Nobody online: all wait, at their places.
	require.Eventually(t, func() bool {
		p := positions()
		return len(p) == chats && p[chatIDs[chats-1]] == chats && p[chatIDs[0]] == 1
	}, 60*time.Second, 100*time.Millisecond, "queue positions of the waiting chats: %v", positions())
	require.Equal(t, wantPositions(slices.Clone(chatIDs)), positions())

	for _, a := range ids {
		s.call(t, s.admin, "PUT", "/api/v1/agents/"+a+"/chat", map[string]any{"status": "online"}).expect(200)
	}

	offersOf := map[string][]string{} // chat → agents it was ever offered to
	got := map[string]int{}           // agent → chats accepted
	closed := map[string]bool{}
	for round := 0; len(closed) < chats; round++ {
		open := chats - len(closed)
		want := min(agents*limit, open)
		var views map[string]workflows.ChatView
		// Quiet: every free seat in use (offered or active), as many as capacity allows.
		require.Eventually(t, func() bool {
			var err error
			if views, err = s.tryChatViews(chatIDs); err != nil {
				t.Logf("round %d: querying the chats: %v (looking again)", round, err)
				return false
			}
			n := 0
			for _, v := range views {
				if v.Chat.State == workflows.ChatOffered || v.Chat.State == workflows.ChatActive {
					n++
				}
			}
			return n == want
		}, 90*time.Second, 250*time.Millisecond, "round %d: %d chats offered or active", round, want)

		seats := map[string]int{}
		var offered, waiting []string
		for _, id := range chatIDs {
			v := views[id]
			switch v.Chat.State {
			case workflows.ChatOffered:
				seats[*v.Chat.OfferedTo]++
				offered = append(offered, id)
			case workflows.ChatActive:
				for _, a := range v.Chat.AgentIDs {
					seats[a]++
				}
			case workflows.ChatQueued:
				waiting = append(waiting, id)
			}
		}
		for a, n := range seats {
			require.LessOrEqual(t, n, limit, "round %d: agent %s over the limit", round, a)
		}
		// Queue order is arrival order: whatever is offered arrived before whatever waits.
		if len(waiting) > 0 && len(offered) > 0 {
			require.Less(t, arrival(offered[len(offered)-1]), arrival(waiting[0]), "round %d: a later chat was offered first", round)
		}
		// The visitors' places: offered and waiting chats, in arrival order.
		require.Eventually(t, func() bool {
			w := wantPositions(append(slices.Clone(offered), waiting...))
			p := positions()
			for id, n := range w {
				if p[id] != n {
					return false
				}
			}
			return len(p) == len(w)
		}, 30*time.Second, 100*time.Millisecond, "round %d: queue positions", round)

		// Accept every offer, then close every active chat at once.
		for _, id := range offered {
			agent := *views[id].Chat.OfferedTo
			offersOf[id] = append(offersOf[id], agent)
			require.NoError(t, s.chatUpdate(t, id, workflows.UpdateChatAccept, workflows.AcceptChatInput{AgentID: agent}))
			got[agent]++
		}
		if faults.beforeCloses != nil {
			faults.beforeCloses(round)
		}
		var cw sync.WaitGroup
		cerrs := make(chan error, len(offered))
		for _, id := range offered {
			agent := offersOf[id][len(offersOf[id])-1]
			cw.Add(1)
			go func() {
				defer cw.Done()
				cerrs <- s.chatUpdate(t, id, workflows.UpdateChatClose, workflows.CloseChatInput{By: agent, Reason: workflows.CloseByAgent})
			}()
			closed[id] = true
		}
		cw.Wait()
		close(cerrs)
		for err := range cerrs {
			require.NoError(t, err)
		}
	}

	// No chat was offered twice (acceptWithin is an hour: nothing expired), to one agent or two.
	views := s.chatViews(t, chatIDs)
	for _, id := range chatIDs {
		var offers []string
		for _, e := range views[id].Events {
			if e.Type == workflows.ChatEventOffered {
				offers = append(offers, e.AgentID)
			}
		}
		require.Len(t, offers, 1, "chat %s offered %v", id, offers)
		require.Equal(t, workflows.ChatClosed, views[id].Chat.State)
	}
	// Even spread.
	lo, hi := chats, 0
	for _, a := range ids {
		lo, hi = min(lo, got[a]), max(hi, got[a])
	}
	require.LessOrEqual(t, hi-lo, 1, "spread %v", got)
	require.Empty(t, positions(), "closed chats keep no queue position")
}

// The same rounds with the worker killed with SIGKILL twice: right after the chats start (their
// events to the distributor in flight), and in the second round just before every active chat
// closes at once (the freed seats' offers still to make). A new worker finishes each time, and
// every guarantee holds: no chat offered twice, no agent over the limit, arrival order, every
// free seat used, even spread.
func TestChatDistributionSurvivesAKilledWorker(t *testing.T) {
	temporalAddr, _ := services(t)
	s := newStack(t, stackOptions{worker: false})
	defer s.close()
	workerEnv := s.procEnv(temporalAddr)
	w := startProc(t, workerEnv, "worker")
	restart := func() {
		w.kill(t)
		time.Sleep(time.Second) // the chats' and distributor's tasks time out on the dead worker
		w = startProc(t, workerEnv, "worker")
	}
	checkDistribution(t, s, distributionFaults{
		afterStart: restart,
		beforeCloses: func(round int) {
			if round == 1 {
				w.kill(t)
				go func() { time.Sleep(2 * time.Second); startProc(t, workerEnv, "worker") }()
			}
		},
	})
}

// TestChatDistributionStreamPresence: an agent's open event stream is seen by the distributor,
// and its close too.
func TestChatDistributionStreamPresence(t *testing.T) {
	s := newStack(t, stackOptions{worker: true})
	defer s.close()
	p := s.newPeople(t)
	streams := func() int {
		res, err := s.tc.QueryWorkflow(context.Background(), workflows.ChatDistributorWorkflowID(s.taskQueue), "", workflows.QueryState)
		if err != nil {
			return -1
		}
		var st workflows.ChatDistributorState
		require.NoError(t, res.Get(&st))
		if a := st.Agents[p.agent]; a != nil {
			return len(a.Streams)
		}
		return 0
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", s.base+"/api/v1/stream?token="+p.agentTok, nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode)
	require.Eventually(t, func() bool { return streams() == 1 }, 20*time.Second, 100*time.Millisecond)
	cancel()
	res.Body.Close()
	// The server notices the client went away when a heartbeat write fails (15-30 s: the first
	// write after the close may still be taken by the kernel), and a stream whose beats stop
	// counts as closed 60 s after the last one: either way it is gone well within 90 s.
	closedAt := time.Now()
	require.Eventually(t, func() bool { return streams() == 0 }, 90*time.Second, 200*time.Millisecond)
	t.Logf("the distributor saw the stream gone %.1f s after the client left", time.Since(closedAt).Seconds())
}

// Deleting a chat group tells the distributor, which drops it (before, it kept the group and
// went on offering its queue).
func TestChatGroupDeletionReachesTheDistributor(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	g := s.chatGroup(t, map[string]any{"name": randomName("gone-"), "members": []map[string]any{{"agentId": p.agent}}})
	groups := func() map[string]*workflows.DistGroup {
		res, err := s.tc.QueryWorkflow(context.Background(), workflows.ChatDistributorWorkflowID(s.taskQueue), "", workflows.QueryState)
		if err != nil {
			return nil
		}
		var st workflows.ChatDistributorState
		require.NoError(t, res.Get(&st))
		return st.Groups
	}
	require.Eventually(t, func() bool { return groups()[g.ID] != nil }, 20*time.Second, 100*time.Millisecond, "the distributor has the group")
	s.call(t, s.admin, "DELETE", "/api/v1/chat-groups/"+g.ID, nil).expect(204)
	require.Eventually(t, func() bool { gs := groups(); return gs != nil && gs[g.ID] == nil }, 20*time.Second, 100*time.Millisecond,
		"the distributor dropped the group")
}

// In an automatic group, agents racing to accept every chat themselves (as a manual accept
// would) never take a chat from the distributor's offer: each chat ends active with exactly the
// agent it was offered to, every other accept is a 409 (never a 5xx), and no agent goes over
// the limit.
func TestChatManualAcceptRacingTheOffer(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	const chats, limit = 10, 5
	g := s.chatGroup(t, map[string]any{"name": "race-" + randomName(""),
		"members":      []map[string]any{{"agentId": p.agent}, {"agentId": p.agent2}},
		"distribution": map[string]any{"automatic": true, "maxConcurrentPerAgent": limit},
		"timeouts":     map[string]any{"acceptWithin": "1h", "queueWait": "24h"}})
	for _, a := range []string{p.agent, p.agent2} {
		s.call(t, s.admin, "PUT", "/api/v1/agents/"+a+"/chat", map[string]any{"status": "online"}).expect(200)
	}
	ids := make([]string, chats)
	for i := range ids {
		ids[i] = uuid.NewString()
		_, err := s.tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: workflows.ChatWorkflowID(ids[i]), TaskQueue: s.taskQueue},
			workflows.ChatSessionWorkflowType, workflows.ChatInput{ID: ids[i], Kind: workflows.ChatKindCustomer, GroupID: g.ID,
				Group: workflows.ChatGroupSettings{AcceptWithin: time.Hour, QueueWait: 24 * time.Hour, CustomerInactivity: 24 * time.Hour}})
		require.NoError(t, err)
	}
	for _, id := range ids {
		eventually(t, 20*time.Second, func() bool { return s.call(t, s.admin, "GET", "/api/v1/chats/"+id, nil).status == 200 }, "chat stored")
	}
	// Both agents hammer accept on every chat until each chat is active.
	var mu sync.Mutex
	statuses := map[int]int{}
	winners := map[string][]string{}
	var wg sync.WaitGroup
	for _, who := range []struct{ id, tok string }{{p.agent, p.agentTok}, {p.agent2, p.agent2Tok}} {
		for _, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				deadline := time.Now().Add(60 * time.Second)
				for time.Now().Before(deadline) {
					r := s.chatCall(t, who.tok, id, "accept", nil)
					mu.Lock()
					statuses[r.status]++
					if r.status == 200 {
						winners[id] = append(winners[id], who.id)
					}
					mu.Unlock()
					if r.status == 200 {
						return
					}
					var d chatJSON
					s.call(t, who.tok, "GET", "/api/v1/chats/"+id, nil).expect(200).decode(&d)
					if d.State == workflows.ChatActive {
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}()
		}
	}
	wg.Wait()
	for code := range statuses {
		require.Contains(t, []int{200, 409}, code, "answers %v", statuses)
	}
	views := s.chatViews(t, ids)
	seats := map[string]int{}
	for _, id := range ids {
		v := views[id]
		require.Equal(t, workflows.ChatActive, v.Chat.State, id)
		require.Len(t, v.Chat.AgentIDs, 1, "chat %s active with %v", id, v.Chat.AgentIDs)
		var offered []string
		for _, e := range v.Events {
			if e.Type == workflows.ChatEventOffered {
				offered = append(offered, e.AgentID)
			}
		}
		require.Equal(t, []string{v.Chat.AgentIDs[0]}, offered, "chat %s: offered once, to the one who has it", id)
		require.Equal(t, []string{v.Chat.AgentIDs[0]}, winners[id], "chat %s: one accept won, the offered agent's", id)
		seats[v.Chat.AgentIDs[0]]++
	}
	for a, n := range seats {
		require.LessOrEqual(t, n, limit, "agent %s over the limit", a)
	}
	require.Positive(t, statuses[409], "the other agent's accepts were refused")
}
