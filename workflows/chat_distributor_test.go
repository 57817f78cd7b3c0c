package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// distActs stands in for the distributor's activities and records, with the simulated instant
// (offset from the start), what the workflow asked of them.
type distActs struct {
	env   *testsuite.TestWorkflowEnvironment
	start time.Time
	mu    sync.Mutex
	cfg   ChatDistributionConfig
	// refuse: OfferChat answers "refused" for these chats.
	refuse   map[string]bool
	offers   []distCall
	requeues []distCall
	records  []ChatQueueRecord
}

type distCall struct {
	Chat, Agent string
	At          time.Duration
}

func (a *distActs) at() time.Duration {
	return a.env.Now().Sub(a.start).Round(100 * time.Millisecond)
}

func (a *distActs) LoadChatDistribution(_ context.Context, in LoadChatDistributionInput) (ChatDistributionConfig, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if in.All {
		return a.cfg, nil
	}
	out := ChatDistributionConfig{}
	for _, g := range a.cfg.Groups {
		if slices.Contains(in.GroupIDs, g.ID) {
			out.Groups = append(out.Groups, g)
		}
	}
	for _, p := range a.cfg.Presence {
		if slices.Contains(in.AgentIDs, p.AgentID) {
			out.Presence = append(out.Presence, p)
		}
	}
	return out, nil
}

func (a *distActs) OfferChat(_ context.Context, in OfferChatRequest) (OfferChatResult, error) {
	at := a.at()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.offers = append(a.offers, distCall{in.ChatID, in.AgentID, at})
	return OfferChatResult{Offered: !a.refuse[in.ChatID]}, nil
}

func (a *distActs) RequeueChat(_ context.Context, in RequeueChatRequest) (bool, error) {
	at := a.at()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requeues = append(a.requeues, distCall{in.ChatID, in.AgentID, at})
	return true, nil
}

func (a *distActs) RecordChatQueue(_ context.Context, rec ChatQueueRecord) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.records = append(a.records, rec)
	return nil
}

func (a *distActs) setPresence(agent, status string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cfg.Presence = slices.DeleteFunc(a.cfg.Presence, func(p DistributorPresence) bool { return p.AgentID == agent })
	a.cfg.Presence = append(a.cfg.Presence, DistributorPresence{AgentID: agent, Status: status})
}

// offersSorted are the offers made, by chat id then instant (offers run side by side, so the
// order the activities ran in is not the order they were decided in).
func (a *distActs) offersSorted() []distCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := slices.Clone(a.offers)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].At != out[j].At {
			return out[i].At < out[j].At
		}
		return out[i].Chat < out[j].Chat
	})
	return out
}

type distTest struct {
	t    *testing.T
	env  *testsuite.TestWorkflowEnvironment
	acts *distActs
	seq  map[string]int64
	t0   time.Time
}

func newDistTest(t *testing.T, groups []DistributorGroup, online ...string) *distTest {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(ChatDistributor, workflow.RegisterOptions{Name: ChatDistributorWorkflowType})
	acts := &distActs{env: env, start: env.Now(), refuse: map[string]bool{},
		cfg: ChatDistributionConfig{Groups: groups}}
	for _, a := range online {
		acts.cfg.Presence = append(acts.cfg.Presence, DistributorPresence{AgentID: a, Status: "online"})
	}
	env.RegisterActivity(acts)
	return &distTest{t: t, env: env, acts: acts, seq: map[string]int64{}, t0: env.Now()}
}

func limit(n int) *int { return &n }

// at sends f at the simulated offset d.
func (d *distTest) at(offset time.Duration, f func()) { d.env.RegisterDelayedCallback(f, offset) }

// event signals a chat event with the chat's next Seq.
func (d *distTest) event(typ, chat, group string, arrived time.Duration, agents []string, passed ...string) {
	d.seq[chat]++
	d.signalEvent(ChatDistributorEvent{Seq: d.seq[chat], Type: typ, ChatID: chat, GroupID: group, AgentIDs: agents,
		ArrivedAt: d.t0.Add(arrived), PassedOver: passed, At: d.env.Now()})
}

func (d *distTest) signalEvent(e ChatDistributorEvent) {
	d.env.SignalWorkflow(SignalChatChanged, e)
}

// run runs the distributor until the offset end, then cancels it.
func (d *distTest) run(in ChatDistributorInput, end time.Duration) {
	d.at(end, func() { d.env.CancelWorkflow() })
	d.env.ExecuteWorkflow(ChatDistributorWorkflowType, in)
	require.True(d.t, d.env.IsWorkflowCompleted())
	err := d.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		require.Error(d.t, err) // canceled
	}
}

func TestChatDistributorRoundRobin(t *testing.T) {
	d := newDistTest(t, []DistributorGroup{{ID: "g", Automatic: true, Members: []string{"a", "b", "c"}}}, "a", "b", "c")
	d.at(time.Second, func() {
		for _, c := range []string{"c1", "c2", "c3", "c4", "c5"} {
			d.event(DistributorChatWaiting, c, "g", time.Second, nil)
		}
	})
	d.run(ChatDistributorInput{}, time.Minute)
	require.Equal(t, []distCall{{"c1", "a", time.Second}, {"c2", "b", time.Second}, {"c3", "c", time.Second},
		{"c4", "a", time.Second}, {"c5", "b", time.Second}}, d.acts.offersSorted())
	// The visitors' places were written: five chats at 1..5.
	var pos []ChatQueuePosition
	for _, r := range d.acts.records {
		pos = append(pos, r.Positions...)
	}
	require.Contains(t, pos, ChatQueuePosition{ChatID: "c5", Position: 5})
}

func TestChatDistributorLimitAcrossGroups(t *testing.T) {
	d := newDistTest(t, []DistributorGroup{
		{ID: "g1", Automatic: true, Limit: limit(1), Members: []string{"a", "b"}},
		{ID: "g2", Automatic: true, Limit: limit(1), Members: []string{"a"}},
	}, "a", "b")
	d.at(time.Second, func() { d.event(DistributorChatWaiting, "x1", "g2", time.Second, nil) })
	d.at(2*time.Second, func() {
		d.event(DistributorChatWaiting, "y1", "g1", 2*time.Second, nil)
		d.event(DistributorChatWaiting, "y2", "g1", 2*time.Second, nil)
	})
	d.run(ChatDistributorInput{}, time.Minute)
	// a holds x1 (g2), so g1's chats go to b only; y2 waits.
	require.Equal(t, []distCall{{"x1", "a", time.Second}, {"y1", "b", 2 * time.Second}}, d.acts.offersSorted())
}

func TestChatDistributorFreedSeatOffersOldestAtOnce(t *testing.T) {
	d := newDistTest(t, []DistributorGroup{{ID: "g", Automatic: true, Limit: limit(1), Members: []string{"a"}}}, "a")
	d.at(time.Second, func() {
		d.event(DistributorChatWaiting, "c1", "g", time.Second, nil)
		d.event(DistributorChatWaiting, "c3", "g", 3*time.Second, nil) // arrived later
		d.event(DistributorChatWaiting, "c2", "g", 2*time.Second, nil)
	})
	d.at(5*time.Second, func() { d.event(DistributorSeatsTaken, "c1", "g", time.Second, []string{"a"}) })
	d.at(40*time.Second, func() { d.event(DistributorSeatsFreed, "c1", "g", time.Second, []string{"a"}) })
	d.run(ChatDistributorInput{}, time.Minute)
	require.Equal(t, []distCall{{"c1", "a", time.Second}, {"c2", "a", 40 * time.Second}}, d.acts.offersSorted())
}

func TestChatDistributorOfferExpiryGoesToNextAgent(t *testing.T) {
	d := newDistTest(t, []DistributorGroup{{ID: "g", Automatic: true, Members: []string{"a", "b"}}}, "a", "b")
	d.at(time.Second, func() { d.event(DistributorChatWaiting, "c1", "g", time.Second, nil) })
	d.at(61*time.Second, func() { d.event(DistributorOfferExpired, "c1", "g", time.Second, []string{"a"}, "a") })
	// b lets it pass too: nobody else is free, so a gets it again.
	// (Before 2m: the agents have no stream, so at 2m they are away.)
	d.at(91*time.Second, func() { d.event(DistributorOfferExpired, "c1", "g", time.Second, []string{"b"}, "a", "b") })
	d.run(ChatDistributorInput{}, 110*time.Second)
	require.Equal(t, []distCall{{"c1", "a", time.Second}, {"c1", "b", 61 * time.Second}, {"c1", "a", 91 * time.Second}},
		d.acts.offersSorted())
}

func TestChatDistributorPassedOverOnlyWhenNoOtherFree(t *testing.T) {
	d := newDistTest(t, []DistributorGroup{{ID: "g", Automatic: true, Members: []string{"a", "b", "c"}}}, "a", "b", "c")
	d.at(time.Second, func() { d.event(DistributorChatWaiting, "c1", "g", time.Second, nil) })
	// a passed; the pointer is at a, so b would be next anyway: make b the one who passed.
	d.at(61*time.Second, func() { d.event(DistributorOfferExpired, "c1", "g", time.Second, []string{"a"}, "b", "a") })
	d.run(ChatDistributorInput{}, 90*time.Second)
	require.Equal(t, []distCall{{"c1", "a", time.Second}, {"c1", "c", 61 * time.Second}}, d.acts.offersSorted())
}

func TestChatDistributorAgentComesOnline(t *testing.T) {
	d := newDistTest(t, []DistributorGroup{{ID: "g", Automatic: true, Limit: limit(1), Members: []string{"a"}}})
	d.at(time.Second, func() {
		d.event(DistributorChatWaiting, "c1", "g", time.Second, nil)
		d.event(DistributorChatWaiting, "c2", "g", 2*time.Second, nil)
	})
	d.at(30*time.Second, func() {
		d.acts.setPresence("a", "online")
		d.env.SignalWorkflow(SignalChatConfigChanged, ChatConfigChange{AgentIDs: []string{"a"}})
	})
	d.run(ChatDistributorInput{}, time.Minute)
	require.Equal(t, []distCall{{"c1", "a", 30 * time.Second}}, d.acts.offersSorted())
}

func TestChatDistributorIdleAgentAwayThenRequeued(t *testing.T) {
	d := newDistTest(t, []DistributorGroup{{ID: "g", Automatic: true, Members: []string{"a"}}}, "a")
	// a's stream is open from 0s to 10s, then closed: away at 2m10s, requeued at 3m10s.
	d.at(0, func() { d.env.SignalWorkflow(SignalAgentStreamed, AgentStream{AgentID: "a", StreamID: "s1"}) })
	d.at(5*time.Second, func() { d.event(DistributorChatWaiting, "c1", "g", 5*time.Second, nil) })
	d.at(10*time.Second, func() {
		d.env.SignalWorkflow(SignalAgentStreamed, AgentStream{AgentID: "a", StreamID: "s1", Closed: true})
	})
	d.at(2*time.Minute+9*time.Second, func() { d.event(DistributorChatWaiting, "c2", "g", 2*time.Minute+9*time.Second, nil) })
	d.at(2*time.Minute+11*time.Second, func() { d.event(DistributorChatWaiting, "c3", "g", 2*time.Minute+11*time.Second, nil) })
	d.run(ChatDistributorInput{}, 4*time.Minute)
	require.Equal(t, []distCall{{"c1", "a", 5 * time.Second}, {"c2", "a", 2*time.Minute + 9*time.Second}}, d.acts.offersSorted())
	d.acts.mu.Lock()
	defer d.acts.mu.Unlock()
	require.ElementsMatch(t, []distCall{{"c1", "a", 3*time.Minute + 10*time.Second}, {"c2", "a", 3*time.Minute + 10*time.Second}}, d.acts.requeues)
}

func TestChatDistributorStaleStreamCountsAsClosed(t *testing.T) {
	d := newDistTest(t, []DistributorGroup{{ID: "g", Automatic: true, Members: []string{"a"}}}, "a")
	// One beat at 0s and then silence (the API process was killed): the stream counts until
	// 60s, and idleness from its last beat, so a is away at 2m.
	d.at(0, func() { d.env.SignalWorkflow(SignalAgentStreamed, AgentStream{AgentID: "a", StreamID: "s1"}) })
	d.at(119*time.Second, func() { d.event(DistributorChatWaiting, "c1", "g", 119*time.Second, nil) })
	d.at(121*time.Second, func() { d.event(DistributorChatWaiting, "c2", "g", 121*time.Second, nil) })
	d.run(ChatDistributorInput{}, 150*time.Second)
	require.Equal(t, []distCall{{"c1", "a", 119 * time.Second}}, d.acts.offersSorted())
}

func TestChatDistributorDedupesSeq(t *testing.T) {
	d := newDistTest(t, []DistributorGroup{{ID: "g", Automatic: true, Limit: limit(1), Members: []string{"a"}}}, "a")
	d.at(time.Second, func() { d.event(DistributorChatWaiting, "c1", "g", time.Second, nil) })
	d.at(2*time.Second, func() {
		arrived := d.t0.Add(time.Second)
		taken := ChatDistributorEvent{Seq: 2, Type: DistributorSeatsTaken, ChatID: "c1", GroupID: "g", AgentIDs: []string{"a"},
			ArrivedAt: arrived, At: d.env.Now()}
		d.signalEvent(taken)
		d.signalEvent(ChatDistributorEvent{Seq: 3, Type: DistributorSeatsFreed, ChatID: "c1", GroupID: "g", AgentIDs: []string{"a"},
			ArrivedAt: arrived, At: d.env.Now()})
		// Resent (a retried delivery, a new run of the chat): ignored, so a's seat stays free
		// and c1 is not queued again.
		d.signalEvent(taken)
		d.signalEvent(ChatDistributorEvent{Seq: 1, Type: DistributorChatWaiting, ChatID: "c1", GroupID: "g", ArrivedAt: arrived})
	})
	d.at(10*time.Second, func() { d.event(DistributorChatWaiting, "c2", "g", 10*time.Second, nil) })
	d.run(ChatDistributorInput{}, time.Minute)
	require.Equal(t, []distCall{{"c1", "a", time.Second}, {"c2", "a", 10 * time.Second}}, d.acts.offersSorted())
}

func TestChatDistributorRefusedOfferIsDropped(t *testing.T) {
	d := newDistTest(t, []DistributorGroup{{ID: "g", Automatic: true, Limit: limit(1), Members: []string{"a"}}}, "a")
	d.acts.refuse["c1"] = true
	d.at(time.Second, func() {
		d.event(DistributorChatWaiting, "c1", "g", time.Second, nil)
		d.event(DistributorChatWaiting, "c2", "g", 2*time.Second, nil)
	})
	d.run(ChatDistributorInput{}, time.Minute)
	// c1 moved on (refused): its seat is freed and c2 offered at once.
	require.Equal(t, []distCall{{"c1", "a", time.Second}, {"c2", "a", time.Second}}, d.acts.offersSorted())
}

func TestChatDistributorContinueAsNewKeepsState(t *testing.T) {
	groups := []DistributorGroup{{ID: "g", Automatic: true, Limit: limit(1), Members: []string{"a", "b"}}}
	d := newDistTest(t, groups, "a", "b")
	d.at(time.Second, func() {
		d.event(DistributorChatWaiting, "c1", "g", time.Second, nil)
		d.event(DistributorChatWaiting, "c2", "g", 2*time.Second, nil)
	})
	// The fourth signal asks for a new run: c3 is not offered by this one.
	d.at(2*time.Second, func() { d.event(DistributorChatWaiting, "c3", "g", 3*time.Second, nil) })
	d.run(ChatDistributorInput{MaxEventsPerRun: 3}, time.Minute)
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, d.env.GetWorkflowError(), &can)
	var next ChatDistributorInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.State)
	require.Equal(t, []distCall{{"c1", "a", time.Second}, {"c2", "b", time.Second}}, d.acts.offersSorted())

	// The next run: nothing is loaded again, a and b still hold their seats, c3 still waits,
	// the pointer is at b; c1's seat frees → c3 to a.
	d2 := newDistTest(t, nil)
	d2.seq["c1"] = 1
	d2.at(5*time.Second, func() { d2.event(DistributorSeatsTaken, "c1", "g", time.Second, []string{"a"}) })
	d2.at(10*time.Second, func() { d2.event(DistributorSeatsFreed, "c1", "g", time.Second, []string{"a"}) })
	d2.run(next, time.Minute)
	require.Equal(t, []distCall{{"c3", "a", 10 * time.Second}}, d2.acts.offersSorted())
}

func TestChatDistributorManualGroupOffersNothing(t *testing.T) {
	d := newDistTest(t, []DistributorGroup{{ID: "m", Automatic: false, Members: []string{"a"}}}, "a")
	d.at(time.Second, func() {
		d.event(DistributorChatWaiting, "c1", "m", time.Second, nil)
		d.event(DistributorChatWaiting, "c2", "m", 2*time.Second, nil)
	})
	// a accepts c1 from the queue at 5s: c2 moves up to the first place.
	d.at(5*time.Second, func() { d.event(DistributorSeatsTaken, "c1", "m", time.Second, []string{"a"}) })
	d.run(ChatDistributorInput{}, time.Minute)
	require.Empty(t, d.acts.offersSorted())
	d.acts.mu.Lock()
	defer d.acts.mu.Unlock()
	var waits []time.Duration
	var last map[string]int
	pos := map[string]int{}
	for _, r := range d.acts.records {
		waits = append(waits, r.Waits...)
		for _, p := range r.Positions {
			pos[p.ChatID] = p.Position
		}
		last = r.QueueLengths
	}
	require.Equal(t, []time.Duration{4 * time.Second}, waits)
	require.Equal(t, map[string]int{"c1": 0, "c2": 1}, pos)
	require.Equal(t, map[string]int{"m": 1}, last)
}

// An agent who sets themself away gets their open offer taken back at that instant (not at
// acceptWithin, nor after the idle grace); their active chat stays with them.
func TestChatDistributorAwayRequeuesOffersAtOnce(t *testing.T) {
	d := newDistTest(t, []DistributorGroup{{ID: "g", Automatic: true, Members: []string{"a", "b"}}}, "a")
	d.at(0, func() { d.env.SignalWorkflow(SignalAgentStreamed, AgentStream{AgentID: "a", StreamID: "s1"}) })
	d.at(time.Second, func() {
		d.event(DistributorChatWaiting, "c1", "g", time.Second, nil)
		d.event(DistributorChatWaiting, "c2", "g", time.Second, nil)
	})
	d.at(2*time.Second, func() { d.event(DistributorSeatsTaken, "c1", "g", time.Second, []string{"a"}) })
	d.at(20*time.Second, func() {
		d.acts.setPresence("a", "away")
		d.env.SignalWorkflow(SignalChatConfigChanged, ChatConfigChange{AgentIDs: []string{"a"}})
	})
	d.run(ChatDistributorInput{}, 50*time.Second)
	require.Equal(t, []distCall{{"c1", "a", time.Second}, {"c2", "a", time.Second}}, d.acts.offersSorted())
	d.acts.mu.Lock()
	defer d.acts.mu.Unlock()
	require.Equal(t, []distCall{{"c2", "a", 20 * time.Second}}, d.acts.requeues, "only the offer, at the instant a went away")
}

// 1,000 chats arrive at once into a group of 10 agents with a limit of 3; every second the
// agents accept and close what they were offered. Every chat is offered once, in arrival
// order, no agent ever holds more than 3, and the spread is even: max − min ≤ 2 (seats free one
// event at a time, so round-robin now and then passes an agent still full at that instant).
func TestChatDistributorThousandChatsSpreadEvenly(t *testing.T) {
	agents := []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"}
	d := newDistTest(t, []DistributorGroup{{ID: "g", Automatic: true, Limit: limit(3), Members: agents}}, agents...)
	const chats = 1000
	name := func(i int) string { return fmt.Sprintf("c%04d", i) }
	d.at(500*time.Millisecond, func() {
		for i := range chats {
			d.event(DistributorChatWaiting, name(i), "g", time.Duration(i)*time.Microsecond, nil)
		}
	})
	handled := 0
	for s := 1; s <= 60; s++ {
		d.at(time.Duration(s)*time.Second, func() {
			d.acts.mu.Lock()
			fresh := slices.Clone(d.acts.offers[handled:])
			handled = len(d.acts.offers)
			d.acts.mu.Unlock()
			// The agents finish their chats in the order they got them (the activities record
			// the offers in whatever order they ran): every seat frees in turn, equal capacity.
			slices.SortFunc(fresh, func(a, b distCall) int { return strings.Compare(a.Chat, b.Chat) })
			for _, o := range fresh {
				d.event(DistributorSeatsTaken, o.Chat, "g", 0, []string{o.Agent})
				d.event(DistributorSeatsFreed, o.Chat, "g", 0, []string{o.Agent})
			}
		})
	}
	d.run(ChatDistributorInput{}, 90*time.Second)

	offers := d.acts.offersSorted()
	require.Len(t, offers, chats, "every chat offered exactly once")
	perAgent := map[string]int{}
	perTick := map[string]int{}
	seen := map[string]bool{}
	lastTick := time.Duration(-1)
	var tickMax string
	for _, o := range offers {
		require.False(t, seen[o.Chat], "%s offered twice", o.Chat)
		seen[o.Chat] = true
		perAgent[o.Agent]++
		perTick[fmt.Sprint(o.At, o.Agent)]++
		require.LessOrEqual(t, perTick[fmt.Sprint(o.At, o.Agent)], 3, "%s over the limit at %s", o.Agent, o.At)
		if o.At != lastTick {
			require.Greater(t, o.Chat, tickMax, "arrival order across offer rounds")
			lastTick = o.At
		}
		tickMax = max(tickMax, o.Chat)
	}
	lo, hi := chats, 0
	for _, a := range agents {
		lo, hi = min(lo, perAgent[a]), max(hi, perAgent[a])
	}
	require.LessOrEqual(t, hi-lo, 1, "spread %v", perAgent)
}

// An agent skipped while at the limit is first once a seat frees (strict round-robin after the
// last one served gave the turn to a instead), and one back from being offline gets one turn,
// not every chat until they have caught up with the others' totals.
func TestChatDistributorTurnsAreRecent(t *testing.T) {
	d := newDistTest(t, []DistributorGroup{{ID: "g", Automatic: true, Limit: limit(1), Members: []string{"a", "b", "c"}}}, "a", "b", "c")
	free := func(chat, agent string) {
		d.event(DistributorSeatsTaken, chat, "g", 0, []string{agent})
		d.event(DistributorSeatsFreed, chat, "g", 0, []string{agent})
	}
	d.at(time.Second, func() {
		for _, c := range []string{"c1", "c2", "c3"} {
			d.event(DistributorChatWaiting, c, "g", time.Second, nil)
		}
	})
	d.at(2*time.Second, func() { free("c1", "a"); free("c3", "c") }) // b still holds c2
	d.at(3*time.Second, func() {
		d.event(DistributorChatWaiting, "c4", "g", 3*time.Second, nil)
		d.event(DistributorChatWaiting, "c5", "g", 3*time.Second+time.Millisecond, nil)
	})
	d.at(4*time.Second, func() { free("c4", "a"); free("c5", "c"); free("c2", "b") })
	d.at(5*time.Second, func() { d.event(DistributorChatWaiting, "c6", "g", 5*time.Second, nil) })
	d.run(ChatDistributorInput{}, 10*time.Second)
	require.Equal(t, []distCall{{"c1", "a", time.Second}, {"c2", "b", time.Second}, {"c3", "c", time.Second},
		{"c4", "a", 3 * time.Second}, {"c5", "c", 3 * time.Second}, {"c6", "b", 5 * time.Second}}, d.acts.offersSorted())
}

func TestChatDistributorBackFromLeaveGetsOneTurn(t *testing.T) {
	d := newDistTest(t, []DistributorGroup{{ID: "g", Automatic: true, Members: []string{"a", "b", "c"}}}, "a", "b")
	d.at(time.Second, func() {
		for i := range 20 {
			d.event(DistributorChatWaiting, fmt.Sprintf("x%02d", i), "g", time.Second+time.Duration(i)*time.Millisecond, nil)
		}
	})
	d.at(10*time.Second, func() {
		d.acts.setPresence("c", "online")
		d.env.SignalWorkflow(SignalChatConfigChanged, ChatConfigChange{AgentIDs: []string{"c"}})
	})
	d.at(20*time.Second, func() {
		for i := range 6 {
			d.event(DistributorChatWaiting, fmt.Sprintf("y%d", i), "g", 20*time.Second+time.Duration(i)*time.Millisecond, nil)
		}
	})
	d.run(ChatDistributorInput{}, time.Minute)
	late := map[string]int{}
	for _, o := range d.acts.offersSorted() {
		if o.At == 20*time.Second {
			late[o.Agent]++
		}
	}
	// c missed 20 turns; it gets its share of the next six, two.
	require.Equal(t, map[string]int{"a": 2, "b": 2, "c": 2}, late)
}
