package workflows

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ChatDistributor offers queued chats to agents. There is one for all groups (ID
// chat-distributor, see ChatDistributorWorkflowID), not one per group, because an agent's limit
// counts their chats in every group: with one distributor per group, two groups could each see a
// free seat and both offer it, and preventing that would need a lock shared by them. One
// workflow owns every seat, so "never over the limit" and "never offered twice" hold by
// construction: each decision is made with the whole picture, one at a time.
//
// It learns everything by signal: chat events from each chat's outbox (ChatDistributorEvent,
// deduplicated by chat and Seq), configuration changes (it reads the groups and presence again
// through LoadChatDistribution) and agents' event streams (opened, beating, closed). Every event
// that can free capacity or add a waiting chat runs distribute: the oldest waiting chat of each
// automatic group goes to the next eligible member — round-robin after the last one who got a
// chat, online and streaming, below the group's limit counted over every group, and not one
// who let this chat's offer pass unless no other is free. The seat is reserved at once, then
// OfferChat sends the Offer update; a refusal means the chat moved on, and its own events will
// say where. There is no periodic sweep: the only timers are the idle checks of agents.
//
// Idle agents: an online agent with no open stream for Idle is away (offered nothing new); after
// a further Grace the chats offered to them and not accepted go back to the queue at their
// place (RequeueChat). A stream counts as open while its last beat is younger than
// 2 × StreamBeatEvery, so a killed API process cannot keep an agent online for ever.
//
// Manual groups are tracked (queue, positions, metrics) and offered nothing.
func ChatDistributor(ctx workflow.Context, in ChatDistributorInput) error {
	w := &distributor{in: in, st: in.State}
	if w.st == nil {
		w.st = &ChatDistributorState{}
	}
	w.st.init()
	return w.run(ctx)
}

// ChatDistributorState is the distributor's whole state, carried across continue-as-new.
type ChatDistributorState struct {
	Loaded bool
	Idle   time.Duration
	Grace  time.Duration
	Groups map[string]*DistGroup
	Agents map[string]*DistAgent
	Chats  map[string]*DistChat
	// Positions are the queue positions last written (chat id → place from 1).
	Positions map[string]int
	// LastLengths and LastSeats are the metrics last recorded.
	LastLengths map[string]int
	LastSeats   map[string]int
	// Waits are arrival-to-accept times not recorded yet.
	Waits []time.Duration `json:",omitempty"`
	// Offers numbers the offers made (the OfferChat update IDs).
	Offers int64
	// Reload are groups and agents to read again.
	ReloadGroups []string `json:",omitempty"`
	ReloadAgents []string `json:",omitempty"`
}

// DistGroup is a group's configuration and its turns: Last is the member who got the group's
// last chat; Turn numbers the group's offers and Turns holds the number of each member's latest.
// The next chat goes to the eligible member whose turn is the longest ago (round-robin after Last
// among those never offered): a member skipped while at their limit is first once a seat frees,
// so chats spread evenly, and one back from leave gets one turn, not the turns they missed.
type DistGroup struct {
	DistributorGroup
	Last  string           `json:",omitempty"`
	Turn  int64            `json:",omitempty"`
	Turns map[string]int64 `json:",omitempty"`
}

// DistAgent is an agent's presence and seats (the chats they hold or are offered).
type DistAgent struct {
	Status string
	Seats  []string `json:",omitempty"`
	// Streams are the agent's open event streams: stream id → last beat.
	Streams map[string]time.Time `json:",omitempty"`
	// IdleSince is when the agent last had no stream (zero while streaming).
	IdleSince time.Time
	// Away: idle for longer than Idle; Requeued: the grace has passed and their offers were
	// sent back to the queue.
	Away     bool `json:",omitempty"`
	Requeued bool `json:",omitempty"`
}

// DistChat is what the distributor knows of a chat.
type DistChat struct {
	GroupID    string
	ArrivedAt  time.Time
	PassedOver []string `json:",omitempty"`
	// Waiting: in its group's queue (queued, or offered and not yet accepted).
	Waiting bool `json:",omitempty"`
	// OfferedTo is who the chat is offered to; OfferID names the distributor's offer (empty: the
	// offer came from a transfer); Offering: its OfferChat is in flight.
	OfferedTo string `json:",omitempty"`
	OfferID   string `json:",omitempty"`
	Offering  bool   `json:",omitempty"`
	// Requeueing: a RequeueChat is in flight.
	Requeueing bool `json:",omitempty"`
	// Holders are the agents holding a seat with the chat (offered included).
	Holders []string `json:",omitempty"`
	LastSeq int64
	// DoneAt: neither waiting nor held since (a closed chat), kept to ignore resent events.
	DoneAt *time.Time `json:",omitempty"`
}

func (st *ChatDistributorState) init() {
	if st.Groups == nil {
		st.Groups = map[string]*DistGroup{}
	}
	if st.Agents == nil {
		st.Agents = map[string]*DistAgent{}
	}
	if st.Chats == nil {
		st.Chats = map[string]*DistChat{}
	}
	if st.Positions == nil {
		st.Positions = map[string]int{}
	}
	if st.LastLengths == nil {
		st.LastLengths = map[string]int{}
	}
	if st.LastSeats == nil {
		st.LastSeats = map[string]int{}
	}
}

// doneKeptFor is how long a finished chat is remembered to ignore its resent events.
const doneKeptFor = time.Hour

type distributor struct {
	in     ChatDistributorInput
	st     *ChatDistributorState
	dirty  bool
	flight int // activities in flight beside the main loop
	// recording: a RecordChatQueue is in flight; changes meanwhile go in the next one.
	recording bool
	events    int // signals this run
	deadline  *deadline
	// leastRecent: pick by the members' latest turns (runs recorded before it went strictly
	// round-robin after Last, which let a member skipped at their limit fall behind).
	leastRecent bool
}

func (w *distributor) run(ctx workflow.Context) error {
	// State (QueryState) shows operators and tests what the distributor holds.
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (ChatDistributorState, error) { return *w.st, nil }); err != nil {
		return err
	}
	w.deadline = newDeadline(ctx)
	w.leastRecent = workflow.GetVersion(ctx, "chat-least-recent-turn", workflow.DefaultVersion, 1) == 1
	chats := workflow.GetSignalChannel(ctx, SignalChatChanged)
	configs := workflow.GetSignalChannel(ctx, SignalChatConfigChanged)
	streams := workflow.GetSignalChannel(ctx, SignalAgentStreamed)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var e ChatDistributorEvent
			chats.Receive(ctx, &e)
			w.onChat(ctx, e)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var c ChatConfigChange
			configs.Receive(ctx, &c)
			w.onConfig(c)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var s AgentStream
			streams.Receive(ctx, &s)
			w.onStream(ctx, s)
		}
	})

	for {
		if err := w.load(ctx); err != nil {
			return err
		}
		if !w.wantsNewRun(ctx) {
			// Once a new run is wanted nothing new is started, so what is in flight drains
			// and the run hands over; the next run decides at once from the carried state.
			w.dueTimers(ctx, workflow.Now(ctx))
			w.distribute(ctx)
			w.record(ctx)
		}
		if w.wantsNewRun(ctx) && w.flight == 0 && !w.dirty && w.pendingLoad() == 0 {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return err
			}
			// Signals not yet handled go into the state the next run starts from.
			drained := false
			for {
				var e ChatDistributorEvent
				if !chats.ReceiveAsync(&e) {
					break
				}
				w.onChat(ctx, e)
				drained = true
			}
			for {
				var c ChatConfigChange
				if !configs.ReceiveAsync(&c) {
					break
				}
				w.onConfig(c)
				drained = true
			}
			for {
				var s AgentStream
				if !streams.ReceiveAsync(&s) {
					break
				}
				w.onStream(ctx, s)
				drained = true
			}
			if !drained {
				w.prune(workflow.Now(ctx))
				next := w.in
				next.State = w.st
				return workflow.NewContinueAsNewError(ctx, ChatDistributor, next)
			}
			continue
		}
		cond := func() bool {
			return w.dirty || w.pendingLoad() > 0 || (w.wantsNewRun(ctx) && w.flight == 0)
		}
		// While a new run is wanted the timers wait for it (dueTimers is not run meanwhile).
		if at, ok := w.nextTimer(); ok && !w.wantsNewRun(ctx) {
			if at.After(workflow.Now(ctx)) {
				if _, err := w.deadline.await(ctx, at, cond); err != nil {
					return err
				}
			}
		} else {
			w.deadline.stop()
			if err := workflow.Await(ctx, cond); err != nil {
				return err
			}
		}
		w.dirty = false
	}
}

func (w *distributor) wantsNewRun(ctx workflow.Context) bool {
	return workflow.GetInfo(ctx).GetContinueAsNewSuggested() ||
		w.in.MaxEventsPerRun > 0 && w.events >= w.in.MaxEventsPerRun
}

func (w *distributor) pendingLoad() int {
	n := len(w.st.ReloadGroups) + len(w.st.ReloadAgents)
	if !w.st.Loaded {
		n++
	}
	return n
}

// distributorLocalCtx runs the offers and the queue records as local activities: they skip the
// activity task queue, where they would wait behind every chat's own activities (measured by
// bench -only chat: a second and more of schedule-to-start under a burst). They retry until
// they land (an offer's update ID makes a retry answer as the first attempt did).
func distributorLocalCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: ProjectionRetryFor,
		StartToCloseTimeout:    ProjectionAttemptTimeout,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumInterval: 5 * time.Second},
	})
}

func distributorActivityCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumInterval: 10 * time.Second},
	})
}

// load reads what the configuration signals named (or everything, the first time), in the main
// loop: one read at a time, so a later read is never overtaken by an earlier one.
func (w *distributor) load(ctx workflow.Context) error {
	for w.pendingLoad() > 0 {
		in := LoadChatDistributionInput{All: !w.st.Loaded}
		if w.st.Loaded {
			in.GroupIDs, in.AgentIDs = w.st.ReloadGroups, w.st.ReloadAgents
		}
		w.st.ReloadGroups, w.st.ReloadAgents = nil, nil
		var cfg ChatDistributionConfig
		if err := workflow.ExecuteActivity(distributorActivityCtx(ctx), ActivityLoadChatDistribution, in).Get(ctx, &cfg); err != nil {
			return err
		}
		now := workflow.Now(ctx)
		if in.All {
			w.st.Loaded = true
			w.st.Idle, w.st.Grace = cfg.Idle, cfg.Grace
			if w.st.Idle <= 0 {
				w.st.Idle = DefaultChatIdle
			}
			if w.st.Grace <= 0 {
				w.st.Grace = DefaultChatIdleGrace
			}
		}
		for _, g := range cfg.Groups {
			if old, ok := w.st.Groups[g.ID]; ok {
				old.DistributorGroup = g
				maps.DeleteFunc(old.Turns, func(m string, _ int64) bool { return !slices.Contains(g.Members, m) })
			} else {
				w.st.Groups[g.ID] = &DistGroup{DistributorGroup: g}
			}
		}
		for _, id := range cfg.MissingGroups {
			delete(w.st.Groups, id)
		}
		status := map[string]string{}
		for _, p := range cfg.Presence {
			status[p.AgentID] = p.Status
		}
		agents := in.AgentIDs
		if in.All {
			agents = nil
			for _, p := range cfg.Presence {
				agents = append(agents, p.AgentID)
			}
		}
		for _, id := range agents {
			s := status[id]
			if s == "" {
				s = "offline"
			}
			a := w.agent(id, now)
			if a.Status != "online" && s == "online" && len(a.Streams) == 0 {
				a.IdleSince, a.Away, a.Requeued = now, false, false
			}
			wasOnline := a.Status == "online"
			a.Status = s
			// An agent who sets themself away or offline takes no offer they were just made:
			// those chats go back to their queues at their place at once, as an idle agent's do
			// after the grace. (Runs recorded before this went on waiting for acceptWithin.)
			if wasOnline && s != "online" && workflow.GetVersion(ctx, "chat-away-requeues", workflow.DefaultVersion, 1) == 1 {
				w.requeueOffers(ctx, id, a)
			}
		}
		w.dirty = true
	}
	return nil
}

func (w *distributor) agent(id string, now time.Time) *DistAgent {
	a, ok := w.st.Agents[id]
	if !ok {
		a = &DistAgent{Status: "offline", IdleSince: now}
		w.st.Agents[id] = a
	}
	return a
}

func (w *distributor) onConfig(c ChatConfigChange) {
	w.events++
	for _, id := range c.GroupIDs {
		if !slices.Contains(w.st.ReloadGroups, id) {
			w.st.ReloadGroups = append(w.st.ReloadGroups, id)
		}
	}
	for _, id := range c.AgentIDs {
		if !slices.Contains(w.st.ReloadAgents, id) {
			w.st.ReloadAgents = append(w.st.ReloadAgents, id)
		}
	}
}

func (w *distributor) onStream(ctx workflow.Context, s AgentStream) {
	w.events++
	now := workflow.Now(ctx)
	a := w.agent(s.AgentID, now)
	if a.Streams == nil {
		a.Streams = map[string]time.Time{}
	}
	if s.Closed {
		if _, open := a.Streams[s.StreamID]; open {
			delete(a.Streams, s.StreamID)
			if len(a.Streams) == 0 {
				a.IdleSince = now
			}
		}
	} else {
		a.Streams[s.StreamID] = now
		if a.Away {
			w.dirty = true // back: offer again
		}
		a.IdleSince, a.Away, a.Requeued = time.Time{}, false, false
	}
}

// onChat applies one chat event, once.
func (w *distributor) onChat(ctx workflow.Context, e ChatDistributorEvent) {
	w.events++
	now := workflow.Now(ctx)
	c, ok := w.st.Chats[e.ChatID]
	if ok && e.Seq <= c.LastSeq {
		return // seen
	}
	if !ok {
		c = &DistChat{GroupID: e.GroupID, ArrivedAt: e.ArrivedAt}
		w.st.Chats[e.ChatID] = c
	}
	c.LastSeq, c.DoneAt = e.Seq, nil
	first := ""
	if len(e.AgentIDs) > 0 {
		first = e.AgentIDs[0]
	}
	switch e.Type {
	case DistributorChatWaiting:
		if c.GroupID != e.GroupID {
			c.PassedOver = nil
		}
		c.GroupID, c.ArrivedAt, c.Waiting = e.GroupID, e.ArrivedAt, true
		w.dropOffer(e.ChatID, c)
	case DistributorChatOffered:
		w.dropOffer(e.ChatID, c)
		c.Waiting = false
		c.OfferedTo = first
		w.seat(e.ChatID, c, first, now, true)
	case DistributorOfferExpired:
		w.dropOffer(e.ChatID, c)
		w.seat(e.ChatID, c, first, now, false)
		c.GroupID, c.ArrivedAt, c.Waiting, c.PassedOver = e.GroupID, e.ArrivedAt, true, slices.Clone(e.PassedOver)
	case DistributorSeatsTaken:
		if c.Waiting {
			w.st.Waits = append(w.st.Waits, e.At.Sub(c.ArrivedAt))
		}
		if c.OfferedTo != "" && !slices.Contains(e.AgentIDs, c.OfferedTo) {
			w.dropOffer(e.ChatID, c)
		}
		c.Waiting, c.OfferedTo, c.OfferID, c.Offering = false, "", "", false
		for _, a := range e.AgentIDs {
			w.seat(e.ChatID, c, a, now, true)
		}
	case DistributorSeatsFreed:
		for _, a := range e.AgentIDs {
			w.seat(e.ChatID, c, a, now, false)
			if c.OfferedTo == a {
				// An offer withdrawn (a close, a transfer): the chat's next event says where it
				// is now; until then it is not offered again.
				c.OfferedTo, c.OfferID, c.Offering, c.Waiting = "", "", false, false
			}
		}
	case DistributorChatGone:
		w.dropOffer(e.ChatID, c)
		c.Waiting = false
	}
	if !c.Waiting && len(c.Holders) == 0 {
		c.DoneAt = &now
	}
	w.dirty = true
}

// dropOffer forgets the chat's current offer and frees its reserved seat.
func (w *distributor) dropOffer(id string, c *DistChat) {
	if c.OfferedTo != "" {
		w.seat(id, c, c.OfferedTo, time.Time{}, false)
	}
	c.OfferedTo, c.OfferID, c.Offering = "", "", false
}

// seat gives agent a seat with the chat (take) or frees it.
func (w *distributor) seat(id string, c *DistChat, agent string, now time.Time, take bool) {
	if agent == "" {
		return
	}
	a := w.agent(agent, now)
	if take {
		if !slices.Contains(a.Seats, id) {
			a.Seats = append(a.Seats, id)
		}
		if !slices.Contains(c.Holders, agent) {
			c.Holders = append(c.Holders, agent)
		}
		return
	}
	a.Seats = slices.DeleteFunc(a.Seats, func(s string) bool { return s == id })
	c.Holders = slices.DeleteFunc(c.Holders, func(s string) bool { return s == agent })
}

// available: online, streaming (or not idle for long) and not away.
func (a *DistAgent) available() bool { return a.Status == "online" && !a.Away }

// queues is every group's waiting chats, oldest first (arrival, then id), from one pass over
// the chats: distribute and record read all of them at once, and a pass per group would make
// a large queue quadratic.
func (w *distributor) queues() map[string][]string {
	qs := map[string][]string{}
	for _, id := range workflow.DeterministicKeys(w.st.Chats) {
		if c := w.st.Chats[id]; c.Waiting {
			qs[c.GroupID] = append(qs[c.GroupID], id)
		}
	}
	for _, ids := range qs {
		slices.SortStableFunc(ids, func(a, b string) int {
			if c := w.st.Chats[a].ArrivedAt.Compare(w.st.Chats[b].ArrivedAt); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
	}
	return qs
}

// pick is the next member of g to offer chat c: available, below the limit counted over every
// group, the one whose latest turn is the longest ago (see DistGroup); one who passed this chat
// over only when no other is free.
func (w *distributor) pick(g *DistGroup, c *DistChat) string {
	n := len(g.Members)
	if n == 0 {
		return ""
	}
	start := slices.Index(g.Members, g.Last) + 1 // 0 when Last is not a member
	var best, passed string
	for i := range n {
		m := g.Members[(start+i)%n]
		a, ok := w.st.Agents[m]
		if !ok || !a.available() || (g.Limit != nil && len(a.Seats) >= *g.Limit) {
			continue
		}
		if slices.Contains(c.PassedOver, m) {
			if passed == "" {
				passed = m
			}
			continue
		}
		if !w.leastRecent {
			return m
		}
		if best == "" || g.Turns[m] < g.Turns[best] {
			best = m
		}
	}
	if best != "" {
		return best
	}
	return passed
}

// took records agent's turn in g.
func (g *DistGroup) took(agent string) {
	g.Last = agent
	g.Turn++
	if g.Turns == nil {
		g.Turns = map[string]int64{}
	}
	g.Turns[agent] = g.Turn
}

// distribute makes every offer the state allows: repeatedly the oldest waiting, unoffered chat
// at the head of an automatic group's queue that has an eligible member, oldest across groups.
// The queues are read once: an offer changes no chat's place, only whether it is offered, so
// each group keeps a cursor at its first chat not yet offered.
func (w *distributor) distribute(ctx workflow.Context) {
	qs := w.queues()
	cursor := map[string]int{}
	head := func(gid string) string {
		q := qs[gid]
		for i := cursor[gid]; i < len(q); i++ {
			if c := w.st.Chats[q[i]]; c.OfferedTo == "" && !c.Requeueing {
				cursor[gid] = i
				return q[i]
			}
		}
		cursor[gid] = len(q)
		return ""
	}
	for {
		var best, bestAgent, bestGroup string
		for _, gid := range workflow.DeterministicKeys(w.st.Groups) {
			g := w.st.Groups[gid]
			if !g.Automatic {
				continue
			}
			h := head(gid)
			if h == "" {
				continue
			}
			agent := w.pick(g, w.st.Chats[h])
			if agent == "" {
				continue
			}
			if best == "" || w.st.Chats[h].ArrivedAt.Before(w.st.Chats[best].ArrivedAt) {
				best, bestAgent, bestGroup = h, agent, gid
			}
		}
		if best == "" {
			return
		}
		w.offer(ctx, best, bestAgent, bestGroup)
	}
}

// offer reserves agent's seat for the chat and sends the Offer beside the main loop.
func (w *distributor) offer(ctx workflow.Context, id, agent, group string) {
	c := w.st.Chats[id]
	w.st.Offers++
	offerID := fmt.Sprintf("distributor-offer-%d", w.st.Offers)
	c.OfferedTo, c.OfferID, c.Offering = agent, offerID, true
	w.seat(id, c, agent, workflow.Now(ctx), true)
	w.st.Groups[group].took(agent)
	seq := c.LastSeq
	w.flight++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { w.flight--; w.dirty = true }()
		var res OfferChatResult
		err := workflow.ExecuteLocalActivity(distributorLocalCtx(ctx), ActivityOfferChat,
			OfferChatRequest{ChatID: id, AgentID: agent, OfferID: offerID}).Get(ctx, &res)
		c, ok := w.st.Chats[id]
		if !ok || c.OfferID != offerID {
			return // the chat's own events overtook the answer
		}
		c.Offering = false
		if err == nil && res.Offered {
			return
		}
		if err != nil {
			workflow.GetLogger(ctx).Error("offering a chat failed; the chat is put back", "chat", id, "agent", agent, "err", err)
		}
		w.dropOffer(id, c)
		if c.LastSeq == seq && err == nil {
			// Refused and nothing heard since: the chat moved on (accepted, transferred,
			// closed) and its events will say where. Until then it is not offered again.
			c.Waiting = false
			if len(c.Holders) == 0 {
				now := workflow.Now(ctx)
				c.DoneAt = &now
			}
		}
	})
}

// nextTimer is the earliest idle deadline: a stream's last beat going stale, an agent going
// away, an away agent's grace ending.
func (w *distributor) nextTimer() (time.Time, bool) {
	var at time.Time
	set := func(t time.Time) {
		if at.IsZero() || t.Before(at) {
			at = t
		}
	}
	for _, id := range workflow.DeterministicKeys(w.st.Agents) {
		a := w.st.Agents[id]
		for _, beat := range a.Streams {
			set(beat.Add(streamAliveFor))
		}
		if a.Status != "online" || len(a.Streams) > 0 {
			continue
		}
		if !a.Away {
			set(a.IdleSince.Add(w.st.Idle))
		} else if !a.Requeued {
			set(a.IdleSince.Add(w.st.Idle + w.st.Grace))
		}
	}
	return at, !at.IsZero()
}

// dueTimers applies the idle deadlines that have come.
func (w *distributor) dueTimers(ctx workflow.Context, now time.Time) {
	for _, id := range workflow.DeterministicKeys(w.st.Agents) {
		a := w.st.Agents[id]
		for _, s := range workflow.DeterministicKeys(a.Streams) {
			if beat := a.Streams[s]; !now.Before(beat.Add(streamAliveFor)) {
				delete(a.Streams, s)
				if len(a.Streams) == 0 {
					a.IdleSince = beat // the last sign of life
				}
			}
		}
		if a.Status != "online" || len(a.Streams) > 0 {
			continue
		}
		if !a.Away && !now.Before(a.IdleSince.Add(w.st.Idle)) {
			a.Away = true
			workflow.GetLogger(ctx).Info("agent idle: away", "agent", id)
		}
		if a.Away && !a.Requeued && !now.Before(a.IdleSince.Add(w.st.Idle+w.st.Grace)) {
			a.Requeued = true
			w.requeueOffers(ctx, id, a)
		}
	}
}

// requeueOffers sends the chats offered to an idle agent back to their queues.
func (w *distributor) requeueOffers(ctx workflow.Context, agent string, a *DistAgent) {
	for _, id := range slices.Clone(a.Seats) {
		c := w.st.Chats[id]
		if c == nil || c.OfferedTo != agent || c.Offering || c.Requeueing {
			continue
		}
		c.Requeueing = true
		group := c.GroupID
		w.flight++
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer func() { w.flight--; w.dirty = true }()
			var ok bool
			err := workflow.ExecuteActivity(distributorActivityCtx(ctx), ActivityRequeueChat,
				RequeueChatRequest{ChatID: id, GroupID: group, AgentID: agent}).Get(ctx, &ok)
			if err != nil {
				workflow.GetLogger(ctx).Error("requeueing a chat failed", "chat", id, "err", err)
			}
			if c := w.st.Chats[id]; c != nil {
				c.Requeueing = false
			}
		})
	}
}

// record writes what changed since the last record: queue positions and metrics. It runs
// beside the main loop, one at a time (so a later write never lands before an earlier one),
// as a local activity like the offers (see distributorLocalCtx); offers do not wait for it.
func (w *distributor) record(ctx workflow.Context) {
	if w.recording {
		return // its end marks the state dirty, and the next record takes what changed
	}
	var rec ChatQueueRecord
	lengths := map[string]int{}
	seen := map[string]bool{}
	qs := w.queues()
	groups := map[string]bool{}
	for gid := range qs {
		groups[gid] = true
	}
	for gid := range w.st.Groups {
		groups[gid] = true
	}
	for _, gid := range workflow.DeterministicKeys(groups) {
		q := qs[gid]
		lengths[gid] = len(q)
		for i, id := range q {
			seen[id] = true
			if w.st.Positions[id] != i+1 {
				w.st.Positions[id] = i + 1
				rec.Positions = append(rec.Positions, ChatQueuePosition{ChatID: id, Position: i + 1})
			}
		}
	}
	for _, id := range workflow.DeterministicKeys(w.st.Positions) {
		if !seen[id] {
			delete(w.st.Positions, id)
			rec.Positions = append(rec.Positions, ChatQueuePosition{ChatID: id, Position: 0})
		}
	}
	seats := map[string]int{}
	for _, id := range workflow.DeterministicKeys(w.st.Agents) {
		seats[id] = len(w.st.Agents[id].Seats)
	}
	changed := len(rec.Positions) > 0 || len(w.st.Waits) > 0 || !mapsEqual(lengths, w.st.LastLengths) || !mapsEqual(seats, w.st.LastSeats)
	if !changed {
		return
	}
	rec.QueueLengths, rec.AgentSeats, rec.Waits = lengths, seats, w.st.Waits
	w.st.LastLengths, w.st.LastSeats, w.st.Waits = lengths, seats, nil
	w.recording = true
	w.flight++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { w.recording = false; w.flight--; w.dirty = true }()
		err := workflow.ExecuteLocalActivity(distributorLocalCtx(ctx), ActivityRecordChatQueue, rec).Get(ctx, nil)
		_ = survive(ctx, "recording the chat queue", err)
	})
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// prune forgets chats finished long ago (their late events are no longer expected).
func (w *distributor) prune(now time.Time) {
	for _, id := range workflow.DeterministicKeys(w.st.Chats) {
		if c := w.st.Chats[id]; c.DoneAt != nil && now.Sub(*c.DoneAt) > doneKeptFor {
			delete(w.st.Chats, id)
		}
	}
}
