package workflows

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/schema"
)

// ChatSession is the workflow of one live chat, chat/<uuid>: queued → offered (to one agent) →
// active → closed, with transfers, invitations and leaves recorded as events. Every change is
// an update with a validator (a refused one leaves no history and writes nothing), applied
// under the workflow's mutex and persisted by an idempotent local activity before the caller
// hears of it. The timeouts are durable timers computed from the state: an offer not accepted
// within acceptWithin goes back to the queue (the agent passed over), a chat waiting longer
// than queueWait closes and goes to the offline flow, and an active customer chat whose visitor
// has not answered the agent side for customerInactivity is warned, then closed. The
// distributor hears of every change to seats and the queue through an outbox of events
// delivered in order by a retried activity. Close persists, tells ChatClosed (the transcript)
// and ends the run.
func ChatSession(ctx workflow.Context, in ChatInput) (ChatView, error) {
	w := &chatWorkflow{in: in}
	fresh := in.State == nil
	if fresh {
		if err := checkChatInput(in); err != nil {
			return ChatView{}, err
		}
		w.st = newChatState(workflow.Now(ctx).UTC(), in)
	} else {
		w.st = *in.State
	}
	if !w.st.OfflineVersion {
		w.st.OfflineVersion = workflow.GetVersion(ctx, chatOfflineVersion, workflow.DefaultVersion, 1) == 1
	}
	w.deadline = newDeadline(ctx)
	if fresh && in.Offline != "" && w.st.OfflineVersion {
		w.startOffline(workflow.Now(ctx).UTC(), in.Offline)
	}
	if err := w.setup(ctx); err != nil {
		return w.view(), err
	}
	return w.run(ctx, fresh)
}

type chatWorkflow struct {
	in      ChatInput
	st      ChatState
	mu      workflow.Mutex
	version int // rises with every applied change; the main loop waits on it
	changes int // changes applied in this run
	// notes are the distributor events of the change being applied: they join the outbox once
	// the change is written. sending: the deliverer has the outbox's first event in flight.
	notes   []ChatDistributorEvent
	sending bool
	// sideBusy: the offline flow's side work has an activity in flight.
	sideBusy bool
	// deadline is the main loop's one timer (inactivity, offer, queue and close timeouts).
	deadline *deadline
	// lastSA are the search attribute values last upserted in this run.
	lastSA []string
}

func checkChatInput(in ChatInput) error {
	switch {
	case in.ID == "":
		return Invalid("id", "a chat needs an id")
	case in.Kind != ChatKindCustomer && in.Kind != ChatKindInternal:
		return Invalid("kind", "kind must be customer or internal, got %q", in.Kind)
	case in.Kind == ChatKindInternal && in.StartedBy == "":
		return Invalid("startedBy", "an internal chat is started by an agent")
	case in.Kind == ChatKindCustomer && in.GroupID == "" && in.StartedBy == "":
		return Invalid("groupId", "a customer chat waits in a group")
	}
	return nil
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// newChatState is the chat as it starts: queued at its arrival time, or active with the agent
// who started it.
func newChatState(now time.Time, in ChatInput) ChatState {
	arrived := in.ArrivedAt.UTC()
	if in.ArrivedAt.IsZero() {
		arrived = now
	}
	c := Chat{ID: in.ID, Kind: in.Kind, State: ChatQueued, GroupID: in.GroupID, WidgetID: strPtr(in.WidgetID),
		AgentIDs: []string{}, CustomerID: strPtr(in.CustomerID), TicketID: in.TicketID, CreatedAt: now,
		ArrivedAt: arrived, PassedOver: []string{}, Channel: in.Channel, ChannelContact: strPtr(in.ChannelContact)}
	if c.Channel == "" {
		c.Channel = schema.ChannelWeb
	}
	st := ChatState{Chat: c, Messages: []ChatMessage{}, Group: in.Group.withDefaults(), WaitingSince: now}
	if in.StartedBy != "" {
		st.Chat.State, st.Chat.AgentID, st.Chat.AgentIDs = ChatActive, &in.StartedBy, []string{in.StartedBy}
		st.Chat.AcceptedAt, st.ActiveSince = &now, &now
		st.Events = []ChatEvent{{Type: ChatEventAccepted, AgentID: in.StartedBy, By: in.StartedBy, At: now}}
		st.Outbox = []ChatDistributorEvent{st.numbered(st.distributorEvent(DistributorSeatsTaken, now, in.StartedBy))}
	} else {
		st.Events = []ChatEvent{{Type: ChatEventQueued, GroupID: in.GroupID, At: now}}
		st.Outbox = []ChatDistributorEvent{st.numbered(st.distributorEvent(DistributorChatWaiting, now))}
	}
	st.Chat.Version = 1
	return st
}

func (st *ChatState) distributorEvent(typ string, now time.Time, agents ...string) ChatDistributorEvent {
	e := ChatDistributorEvent{Type: typ, ChatID: st.Chat.ID, GroupID: st.Chat.GroupID, AgentIDs: agents,
		ArrivedAt: st.Chat.ArrivedAt, At: now}
	if typ == DistributorOfferExpired {
		e.PassedOver = slices.Clone(st.Chat.PassedOver)
	}
	return e
}

func (w *chatWorkflow) setup(ctx workflow.Context) error {
	w.mu = workflow.NewMutex(ctx)
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (ChatView, error) { return w.view(), nil }); err != nil {
		return err
	}
	handlers := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateChatOffer, w.offer, acceptBy(w.validateOffer)},
		{UpdateChatAccept, w.accept, acceptBy(w.validateAccept)},
		{UpdateChatSendMessage, w.sendMessage, acceptBy(w.validateSendMessage)},
		{UpdateChatTransfer, w.transfer, acceptBy(w.validateTransfer)},
		{UpdateChatInvite, w.invite, acceptBy(w.validateInvite)},
		{UpdateChatLeave, w.leave, acceptBy(w.validateLeave)},
		{UpdateChatClose, w.close, acceptBy(w.validateClose)},
	}
	for _, h := range handlers {
		err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler,
			workflow.UpdateHandlerOptions{Validator: h.validator})
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *chatWorkflow) view() ChatView {
	return ChatView{Chat: w.st.Chat, Messages: w.st.Messages, Events: w.st.Events}
}

func (w *chatWorkflow) run(ctx workflow.Context, fresh bool) (ChatView, error) {
	if fresh {
		wr := ChatWrite{Chat: w.st.Chat, Events: w.st.Events, Messages: w.st.Messages}
		if err := survive(ctx, "writing the chat's creation", persistChat(ctx, wr)); err != nil {
			return w.view(), err
		}
	}
	w.upsertSearchAttributes(ctx)
	w.deliver(ctx)
	w.offlineSideWork(ctx)
	for w.st.Chat.State != ChatClosed {
		if w.shouldContinueAsNew(ctx) {
			// The next run resends what is still in the outbox, so nothing may be in flight.
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && !w.sending && !w.sideBusy }); err != nil {
				return w.view(), err
			}
			if w.st.Chat.State != ChatClosed { // a handler still in flight may have closed it
				next := w.in
				st := w.st
				next.State = &st
				return w.view(), workflow.NewContinueAsNewError(ctx, ChatSessionWorkflowType, next)
			}
			break
		}
		if err := w.wait(ctx); err != nil {
			return w.view(), err
		}
	}
	// Let updates already accepted finish, hand the chat over (on time, whatever the
	// distributor is doing), and let the distributor hear everything before the run ends.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return w.view(), err
	}
	if err := w.finish(ctx); err != nil {
		return w.view(), err
	}
	return w.view(), workflow.Await(ctx, func() bool {
		return len(w.st.Outbox) == 0 && !w.sending && !w.sideBusy && w.st.ReachedAgent == nil
	})
}

func (w *chatWorkflow) shouldContinueAsNew(ctx workflow.Context) bool {
	if w.st.Chat.State == ChatClosed {
		return false
	}
	return workflow.GetInfo(ctx).GetContinueAsNewSuggested() ||
		(w.in.MaxChangesPerRun > 0 && w.changes >= w.in.MaxChangesPerRun)
}

// deliver runs beside the main loop and sends the outbox to the distributor, in order: an event
// leaves the outbox once sent. It never holds up the chat's timers, however long the
// distributor takes; the distributor deduplicates by (ChatID, Seq).
func (w *chatWorkflow) deliver(ctx workflow.Context) {
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			if err := workflow.Await(ctx, func() bool { return len(w.st.Outbox) > 0 }); err != nil {
				return
			}
			w.sending = true
			err := workflow.ExecuteActivity(activityCtx(ctx), ActivityNotifyChatDistributor, w.st.Outbox[0]).Get(ctx, nil)
			w.sending = false
			if survive(ctx, "notifying the distributor", err) != nil {
				return
			}
			w.st.Outbox = w.st.Outbox[1:]
		}
	})
}

// finish is what follows the close: the offline flow for a chat that waited too long, and the
// transcript for the ticket.
func (w *chatWorkflow) finish(ctx workflow.Context) error {
	if w.st.Finished {
		return nil
	}
	if w.st.Offline != nil { // the ticket has what the customer left (or they left nothing)
		w.st.Finished = true
		return nil
	}
	c := w.st.Chat
	if c.CloseReason != nil && *c.CloseReason == CloseQueueWait {
		err := workflow.ExecuteActivity(activityCtx(ctx), ActivityHandOffChatOffline, ChatHandOff{Chat: c, Messages: w.st.Messages}).Get(ctx, nil)
		if err := survive(ctx, "handing the chat to the offline flow", err); err != nil {
			return err
		}
	}
	err := workflow.ExecuteActivity(activityCtx(ctx), ActivityChatClosed,
		ChatClosedInput{Chat: c, Messages: w.st.Messages, Events: w.st.Events}).Get(ctx, nil)
	if err := survive(ctx, "handing over the closed chat", err); err != nil {
		return err
	}
	w.st.Finished = true
	return nil
}

// Deadline kinds.
const (
	dueQueueWait    = "queue wait"
	dueOfferExpiry  = "offer expiry"
	dueWarning      = "inactivity warning"
	dueInactivity   = "inactivity"
	dueWindow       = "whatsapp window"
	inactivityWords = "No reply for a while: this chat closes in %s unless you write."
)

// nextDeadline is the next timeout the chat's state implies, if any.
func (w *chatWorkflow) nextDeadline() (kind string, at time.Time, ok bool) {
	kind, at, ok = w.stateDeadline()
	if wat, wok := w.windowDeadline(); wok && (!ok || wat.Before(at)) {
		return dueWindow, wat, true
	}
	return kind, at, ok
}

// windowDeadline is when WhatsApp's 24-hour window of an active WhatsApp chat closes: 24 hours
// after the customer's last message, once per message.
func (w *chatWorkflow) windowDeadline() (time.Time, bool) {
	st := &w.st
	last := st.LastCustomerMessageAt
	if st.Chat.Channel != schema.ChannelWhatsApp || st.Chat.State != ChatActive || last == nil ||
		st.WindowClosedFor != nil && st.WindowClosedFor.Equal(*last) {
		return time.Time{}, false
	}
	return last.Add(schema.WhatsAppWindow), true
}

// windowClosed says whether the WhatsApp window of the chat has closed by now.
func (w *chatWorkflow) windowClosed(now time.Time) bool {
	last := w.st.LastCustomerMessageAt
	return w.st.Chat.Channel == schema.ChannelWhatsApp && (last == nil || !now.Before(last.Add(schema.WhatsAppWindow)))
}

// stateDeadline is the timeout of the chat's state.
func (w *chatWorkflow) stateDeadline() (kind string, at time.Time, ok bool) {
	st, g := &w.st, w.st.Group
	switch st.Chat.State {
	case ChatQueued:
		return dueQueueWait, st.WaitingSince.Add(g.QueueWait), true
	case ChatOffered:
		// A chat offered is still waiting: the queue wait goes on (and wins a tie).
		queue := st.WaitingSince.Add(g.QueueWait)
		offer := st.Chat.OfferedAt.Add(g.AcceptWithin)
		if !queue.After(offer) {
			return dueQueueWait, queue, true
		}
		return dueOfferExpiry, offer, true
	case ChatActive:
		base, armed := w.inactivityBase()
		if !armed {
			return "", time.Time{}, false
		}
		if st.WarnedFor == nil || !st.WarnedFor.Equal(base) {
			return dueWarning, base.Add(g.CustomerInactivity - g.InactivityWarning), true
		}
		return dueInactivity, base.Add(g.CustomerInactivity), true
	case ChatOffline:
		return w.offlineDeadline()
	}
	return "", time.Time{}, false
}

// inactivityBase is when the visitor's silence started: the agent side's last message, or the
// moment the chat became active when the agent side has not written since. It is armed only in
// customer chats and while the visitor has not written since then (a visitor who answered is
// waiting for the agent, not inactive).
func (w *chatWorkflow) inactivityBase() (time.Time, bool) {
	st := &w.st
	if st.Chat.Kind != ChatKindCustomer || st.ActiveSince == nil {
		return time.Time{}, false
	}
	base := *st.ActiveSince
	if a := st.LastAgentMessageAt; a != nil && a.After(base) {
		base = *a
	}
	if c := st.LastCustomerMessageAt; c != nil && !c.Before(base) {
		return time.Time{}, false
	}
	return base, true
}

// wait blocks until something changes or the next deadline falls due, and then acts on it.
func (w *chatWorkflow) wait(ctx workflow.Context) error {
	seen := w.version
	changed := func() bool { return w.version != seen || w.shouldContinueAsNew(ctx) }
	kind, due, ok := w.nextDeadline()
	if !ok {
		w.deadline.stop()
		return workflow.Await(ctx, changed)
	}
	if due.After(workflow.Now(ctx)) {
		woke, err := w.deadline.await(ctx, due, changed)
		if err != nil || woke {
			return err
		}
	}
	return survive(ctx, kind, w.fire(ctx, kind))
}

// fire acts on a deadline, if the state still implies it once the mutex is held.
func (w *chatWorkflow) fire(ctx workflow.Context, kind string) error {
	stillDue := func() error {
		k, at, ok := w.nextDeadline()
		if !ok || k != kind || at.After(workflow.Now(ctx)) {
			return errNotDue
		}
		return nil
	}
	err := w.apply(ctx, stillDue, func(now time.Time, wr *ChatWrite) {
		switch kind {
		case dueQueueWait:
			if w.st.OfflineVersion {
				w.enterOffline(now, wr, OfflineQueueWait)
				return
			}
			w.closeChat(now, wr, SystemActor.ID, CloseQueueWait)
		case dueOfflineSilence, dueIntakeClose:
			w.fireOffline(now, wr, kind)
		case dueOfferExpiry:
			agent := *w.st.Chat.OfferedTo
			w.st.Chat.State, w.st.Chat.OfferedTo, w.st.Chat.OfferedAt = ChatQueued, nil, nil
			w.st.Chat.PassedOver = append(slices.Clone(w.st.Chat.PassedOver), agent)
			w.event(wr, ChatEvent{Type: ChatEventOfferExpired, AgentID: agent, At: now})
			w.notify(DistributorOfferExpired, now, agent)
		case dueWarning:
			base, _ := w.inactivityBase()
			w.st.WarnedFor = &base
			w.addMessage(wr, ChatMessage{AuthorID: SystemActor.ID, Role: ChatRoleSystem,
				Body: fmt.Sprintf(inactivityWords, humanDuration(w.st.Group.InactivityWarning)), CreatedAt: now})
			w.event(wr, ChatEvent{Type: ChatEventWarned, At: now})
		case dueInactivity:
			w.closeChat(now, wr, SystemActor.ID, CloseInactivity)
		case dueWindow:
			last := *w.st.LastCustomerMessageAt
			w.st.WindowClosedFor = &last
			w.event(wr, ChatEvent{Type: ChatEventWindowClosed, At: now})
		}
	})
	if err == errNotDue {
		return nil
	}
	return err
}

var errNotDue = errors.New("the deadline moved")

func humanDuration(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		if d == time.Minute {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%d seconds", d/time.Second)
	}
	return d.String()
}

// apply runs one change under the mutex: it re-checks it against the current state (the
// validator saw the state before any change still in flight), mutates the state, persists the
// change and forgets it again if it could not be written.
func (w *chatWorkflow) apply(ctx workflow.Context, check func() error, mutate func(time.Time, *ChatWrite)) error {
	if err := w.mu.Lock(ctx); err != nil {
		return err
	}
	defer w.mu.Unlock()
	if err := check(); err != nil {
		return err
	}
	now := workflow.Now(ctx).UTC()
	saved := w.st
	if f := saved.Offline; f != nil { // mutate changes the flow in place: keep a copy to restore
		cp := *f
		saved.Offline = &cp
	}
	wr := ChatWrite{}
	w.notes = nil
	mutate(now, &wr)
	if len(wr.Messages)+len(wr.Events) == 0 && reflect.DeepEqual(saved.Chat, w.st.Chat) {
		return nil // nothing changed: nothing to write
	}
	w.st.Chat.Version++
	wr.Chat = w.st.Chat
	if err := persistChat(ctx, wr); err != nil {
		outbox := w.st.Outbox // the deliverer went on meanwhile
		w.st = saved
		w.st.Outbox = outbox
		return err
	}
	for _, n := range w.notes {
		w.st.Outbox = append(w.st.Outbox, w.st.numbered(n))
	}
	w.notes = nil
	w.version++
	w.changes++
	w.upsertSearchAttributes(ctx)
	return nil
}

// chatSearchAttributesVersion: runs recorded before the chat's search attributes were kept
// replay without them.
const chatSearchAttributesVersion = "chat-search-attributes"

// upsertSearchAttributes publishes the chat's group, agent and state when they changed.
func (w *chatWorkflow) upsertSearchAttributes(ctx workflow.Context) {
	if workflow.GetVersion(ctx, chatSearchAttributesVersion, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	c := w.st.Chat
	agent := ""
	if c.AgentID != nil {
		agent = *c.AgentID
	} else if c.OfferedTo != nil {
		agent = *c.OfferedTo
	}
	current := []string{c.GroupID, agent, c.State}
	if slices.Equal(current, w.lastSA) {
		return
	}
	w.lastSA = current
	err := workflow.UpsertTypedSearchAttributes(ctx, keywordOrUnset(SAChatGroup, c.GroupID),
		keywordOrUnset(SAChatAgent, agent), keywordOrUnset(SAChatState, c.State))
	if err != nil {
		workflow.GetLogger(ctx).Warn("chat search attributes not upserted", "err", err)
	}
}

func persistChat(ctx workflow.Context, wr ChatWrite) error {
	return workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivityPersistChat, wr).Get(ctx, nil)
}

func (w *chatWorkflow) event(wr *ChatWrite, e ChatEvent) {
	w.st.Events = append(w.st.Events, e)
	wr.Events = append(wr.Events, e)
}

// notify queues a distributor event, sent once the change is written.
func (w *chatWorkflow) notify(typ string, now time.Time, agents ...string) {
	w.notes = append(w.notes, w.st.distributorEvent(typ, now, agents...))
}

// numbered gives the event the chat's next distributor sequence number.
func (st *ChatState) numbered(e ChatDistributorEvent) ChatDistributorEvent {
	st.NoteSeq++
	e.Seq = st.NoteSeq
	return e
}

// addMessage numbers the message and appends it to the transcript.
func (w *chatWorkflow) addMessage(wr *ChatWrite, m ChatMessage) ChatMessage {
	w.st.Chat.MessageCount++
	m.Seq = w.st.Chat.MessageCount
	w.st.Messages = append(w.st.Messages, m)
	wr.Messages = append(wr.Messages, m)
	at := m.CreatedAt
	switch m.Role {
	case ChatRoleAgent:
		w.st.LastAgentMessageAt = &at
	case ChatRoleCustomer:
		w.st.LastCustomerMessageAt = &at
	}
	return m
}

// seats are the agents holding or reserving a seat with the chat.
func (w *chatWorkflow) seats() []string {
	seats := slices.Clone(w.st.Chat.AgentIDs)
	if o := w.st.Chat.OfferedTo; o != nil && !slices.Contains(seats, *o) {
		seats = append(seats, *o)
	}
	return seats
}

func (w *chatWorkflow) waiting() bool {
	return w.st.Chat.State == ChatQueued || w.st.Chat.State == ChatOffered
}

// requeue puts the chat back in its group's queue at its original arrival time.
func (w *chatWorkflow) requeue(now time.Time, wr *ChatWrite) {
	c := &w.st.Chat
	c.State, c.AgentID, c.AgentIDs, c.OfferedTo, c.OfferedAt = ChatQueued, nil, []string{}, nil, nil
	w.st.WaitingSince, w.st.ActiveSince, w.st.WarnedFor = now, nil, nil
	w.event(wr, ChatEvent{Type: ChatEventQueued, GroupID: c.GroupID, At: now})
	w.notify(DistributorChatWaiting, now)
}

func (w *chatWorkflow) closeChat(now time.Time, wr *ChatWrite, by, reason string) {
	if seats := w.seats(); len(seats) > 0 {
		w.notify(DistributorSeatsFreed, now, seats...)
	}
	if w.waiting() {
		w.notify(DistributorChatGone, now)
	}
	c := &w.st.Chat
	c.State, c.CloseReason, c.ClosedAt, c.OfferedTo, c.OfferedAt = ChatClosed, &reason, &now, nil, nil
	w.event(wr, ChatEvent{Type: ChatEventClosed, By: by, Reason: reason, At: now})
}

func (w *chatWorkflow) checkNotClosed() error {
	if w.st.Chat.State == ChatClosed {
		return Conflict("chat is closed")
	}
	return nil
}

// --- Offer

func (w *chatWorkflow) validateOffer(ctx workflow.Context, in OfferChatInput) error {
	if in.AgentID == "" {
		return Invalid("agentId", "offer the chat to an agent")
	}
	if w.st.Chat.State != ChatQueued {
		return Conflict("chat is %s; only a queued chat can be offered", w.st.Chat.State)
	}
	return nil
}

func (w *chatWorkflow) offer(ctx workflow.Context, in OfferChatInput) (Chat, error) {
	err := w.apply(ctx, func() error { return w.validateOffer(ctx, in) }, func(now time.Time, wr *ChatWrite) {
		c := &w.st.Chat
		c.State, c.OfferedTo, c.OfferedAt = ChatOffered, &in.AgentID, &now
		w.event(wr, ChatEvent{Type: ChatEventOffered, AgentID: in.AgentID, At: now})
	})
	return w.st.Chat, err
}

// --- Accept

func (w *chatWorkflow) validateAccept(ctx workflow.Context, in AcceptChatInput) error {
	if in.AgentID == "" {
		return Invalid("agentId", "who accepts the chat?")
	}
	c := w.st.Chat
	switch c.State {
	case ChatOffered:
		if *c.OfferedTo != in.AgentID {
			return Conflict("chat is offered to another agent")
		}
	case ChatQueued:
		if !w.st.Group.Manual {
			return Conflict("chat waits for the distributor's offer; it was not offered to you")
		}
	case ChatActive:
		if c.AgentID == nil || *c.AgentID != in.AgentID {
			return Conflict("chat was already accepted by another agent")
		}
	default:
		return Conflict("chat is %s", c.State)
	}
	return nil
}

// accept makes the agent the one in charge; accepting again a chat one holds changes nothing.
func (w *chatWorkflow) accept(ctx workflow.Context, in AcceptChatInput) (Chat, error) {
	err := w.apply(ctx, func() error { return w.validateAccept(ctx, in) }, func(now time.Time, wr *ChatWrite) {
		c := &w.st.Chat
		if c.State == ChatActive {
			return
		}
		agent := in.AgentID
		c.State, c.AgentID, c.OfferedTo, c.OfferedAt, c.AcceptedAt = ChatActive, &agent, nil, nil, &now
		if !slices.Contains(c.AgentIDs, agent) {
			c.AgentIDs = append(slices.Clone(c.AgentIDs), agent)
		}
		w.st.ActiveSince, w.st.WarnedFor = &now, nil
		if w.st.OfflineVersion && c.Kind == ChatKindCustomer && c.CustomerID != nil && !w.st.ReachedAgentTold && w.st.ReachedAgent == nil {
			w.st.ReachedAgent = &CustomerReachedAgent{ChatID: c.ID, CustomerID: *c.CustomerID, AgentID: agent, At: now}
		}
		w.event(wr, ChatEvent{Type: ChatEventAccepted, AgentID: agent, By: agent, At: now})
		w.notify(DistributorSeatsTaken, now, agent)
	})
	return w.st.Chat, err
}

// --- SendMessage

func (w *chatWorkflow) validateSendMessage(ctx workflow.Context, in SendChatMessageInput) error {
	switch {
	case in.Role != ChatRoleAgent && in.Role != ChatRoleCustomer && in.Role != ChatRoleSystem:
		return Invalid("role", "role must be agent, customer or system, got %q", in.Role)
	case in.AuthorID == "":
		return Invalid("authorId", "a message has an author")
	case strings.TrimSpace(in.Body) == "" && len(in.Attachments) == 0:
		return Invalid("body", "body must not be empty (a message without text carries at least one attachment)")
	case len([]rune(in.Body)) > MaxChatMessageChars:
		return Invalid("body", "body is longer than %d characters", MaxChatMessageChars)
	case len(in.ClientMessageID) > 200:
		return Invalid("clientMessageId", "clientMessageId is longer than 200 characters")
	}
	if _, dup := w.findMessage(in); dup {
		return nil // answered with the first message, whatever happened since
	}
	if err := w.checkNotClosed(); err != nil {
		return err
	}
	for _, m := range w.st.Messages { // a file is carried by one message (two sent at once included)
		for _, a := range m.Attachments {
			if slices.ContainsFunc(in.Attachments, func(b schema.AttachmentRef) bool { return b.ID == a.ID }) {
				return Invalid("attachmentIds", "attachment %s is already part of message %d", a.ID, m.Seq)
			}
		}
	}
	c := w.st.Chat
	switch in.Role {
	case ChatRoleCustomer:
		if c.Kind == ChatKindInternal {
			return Conflict("an internal chat has no customer")
		}
		if f := w.st.Offline; f != nil && f.IntakeClosed != "" {
			return Conflict("your message window on the ticket has ended")
		}
		if c.CustomerID != nil && *c.CustomerID != in.AuthorID {
			return Conflict("only the chat's customer writes as the customer")
		}
	case ChatRoleAgent:
		if c.State != ChatActive || !slices.Contains(c.AgentIDs, in.AuthorID) {
			return Conflict("accept the chat or be invited to it before writing")
		}
		if w.windowClosed(workflow.Now(ctx)) {
			return Invalid("body", "WhatsApp's 24-hour window with this contact has closed (24 hours after their last message): "+
				"free text cannot be sent; a message template is required")
		}
	}
	return nil
}

func (w *chatWorkflow) findMessage(in SendChatMessageInput) (ChatMessage, bool) {
	if in.ClientMessageID == "" {
		return ChatMessage{}, false
	}
	for _, m := range w.st.Messages {
		if m.ClientMessageID == in.ClientMessageID && m.AuthorID == in.AuthorID {
			return m, true
		}
	}
	return ChatMessage{}, false
}

// sendMessage adds the message with the conversation's next number, and answers it; a retried
// send answers the first one.
func (w *chatWorkflow) sendMessage(ctx workflow.Context, in SendChatMessageInput) (ChatMessage, error) {
	var out ChatMessage
	err := w.apply(ctx, func() error { return w.validateSendMessage(ctx, in) }, func(now time.Time, wr *ChatWrite) {
		if m, dup := w.findMessage(in); dup {
			out = m
			return
		}
		out = w.addMessage(wr, ChatMessage{AuthorID: in.AuthorID, Role: in.Role, Body: in.Body, HTML: in.HTML,
			Attachments: in.Attachments, ClientMessageID: in.ClientMessageID, CreatedAt: now})
		if w.st.Chat.State == ChatOffline && in.Role == ChatRoleCustomer {
			w.offlineAnswer(now, wr, out)
		}
	})
	return out, err
}

// --- Transfer

func (w *chatWorkflow) validateTransfer(ctx workflow.Context, in TransferChatInput) error {
	if (in.AgentID == "") == (in.GroupID == "") {
		return Invalid("agentId", "transfer to an agent or to a group (one of agentId, groupId)")
	}
	if len(in.Reason) > 1000 {
		return Invalid("reason", "reason is longer than 1000 characters")
	}
	if err := w.checkNotClosed(); err != nil {
		return err
	}
	c := w.st.Chat
	if o := in.OnlyIfOfferedTo; o != "" && (c.State != ChatOffered || c.OfferedTo == nil || *c.OfferedTo != o) {
		return Conflict("chat is no longer offered to %s", o)
	}
	if c.Kind == ChatKindInternal {
		return Conflict("internal chats are not transferred; invite the agent instead")
	}
	if c.State == ChatOffline {
		return Conflict("chat is in the offline flow: its messages go to a ticket")
	}
	if in.AgentID != "" && (c.AgentID != nil && *c.AgentID == in.AgentID || c.OfferedTo != nil && *c.OfferedTo == in.AgentID) {
		return Conflict("chat is already with %s", in.AgentID)
	}
	if in.GroupID != "" && in.GroupID == c.GroupID && c.State == ChatQueued {
		return Conflict("chat already waits in that group")
	}
	return nil
}

// transfer hands the chat to an agent (offered to them; the agents in it leave) or to a group
// (queued there at its original arrival time, ahead of chats that arrived later).
func (w *chatWorkflow) transfer(ctx workflow.Context, in TransferChatInput) (Chat, error) {
	err := w.apply(ctx, func() error { return w.validateTransfer(ctx, in) }, func(now time.Time, wr *ChatWrite) {
		c := &w.st.Chat
		wasWaiting := w.waiting()
		if seats := w.seats(); len(seats) > 0 {
			w.notify(DistributorSeatsFreed, now, seats...)
		}
		w.event(wr, ChatEvent{Type: ChatEventTransferred, AgentID: in.AgentID, GroupID: in.GroupID, By: in.By,
			Reason: in.Reason, At: now})
		if in.AgentID != "" {
			agent := in.AgentID
			c.State, c.AgentID, c.AgentIDs, c.OfferedTo, c.OfferedAt = ChatOffered, nil, []string{}, &agent, &now
			if !wasWaiting {
				w.st.WaitingSince = now
			}
			w.st.ActiveSince, w.st.WarnedFor = nil, nil
			w.event(wr, ChatEvent{Type: ChatEventOffered, AgentID: agent, At: now})
			w.notify(DistributorChatOffered, now, agent)
			return
		}
		if in.GroupID != c.GroupID {
			if wasWaiting {
				w.notify(DistributorChatGone, now)
			}
			c.GroupID, c.PassedOver = in.GroupID, []string{}
			if in.Group != nil {
				w.st.Group = in.Group.withDefaults()
			}
		}
		w.requeue(now, wr)
	})
	return w.st.Chat, err
}

// --- Invite

func (w *chatWorkflow) validateInvite(ctx workflow.Context, in InviteChatInput) error {
	if in.AgentID == "" {
		return Invalid("agentId", "invite an agent")
	}
	if w.st.Chat.State != ChatActive {
		return Conflict("chat is %s; agents are invited to active chats", w.st.Chat.State)
	}
	return nil
}

// invite adds the agent to the chat; inviting one who is in it changes nothing.
func (w *chatWorkflow) invite(ctx workflow.Context, in InviteChatInput) (Chat, error) {
	err := w.apply(ctx, func() error { return w.validateInvite(ctx, in) }, func(now time.Time, wr *ChatWrite) {
		c := &w.st.Chat
		if slices.Contains(c.AgentIDs, in.AgentID) {
			return
		}
		c.AgentIDs = append(slices.Clone(c.AgentIDs), in.AgentID)
		w.event(wr, ChatEvent{Type: ChatEventInvited, AgentID: in.AgentID, By: in.By, At: now})
		w.notify(DistributorSeatsTaken, now, in.AgentID)
	})
	return w.st.Chat, err
}

// --- Leave

func (w *chatWorkflow) validateLeave(ctx workflow.Context, in LeaveChatInput) error {
	if in.AgentID == "" {
		return Invalid("agentId", "who leaves?")
	}
	if err := w.checkNotClosed(); err != nil {
		return err
	}
	if !slices.Contains(w.st.Chat.AgentIDs, in.AgentID) {
		return Conflict("%s is not in the chat", in.AgentID)
	}
	return nil
}

// leave takes the agent out. The next agent in the chat takes charge; when none is left, a
// customer chat goes back to the queue at its original place and an internal chat closes.
func (w *chatWorkflow) leave(ctx workflow.Context, in LeaveChatInput) (Chat, error) {
	err := w.apply(ctx, func() error { return w.validateLeave(ctx, in) }, func(now time.Time, wr *ChatWrite) {
		c := &w.st.Chat
		c.AgentIDs = slices.DeleteFunc(slices.Clone(c.AgentIDs), func(a string) bool { return a == in.AgentID })
		w.event(wr, ChatEvent{Type: ChatEventLeft, AgentID: in.AgentID, At: now})
		w.notify(DistributorSeatsFreed, now, in.AgentID)
		if c.AgentID != nil && *c.AgentID == in.AgentID {
			c.AgentID = nil
			if len(c.AgentIDs) > 0 {
				next := c.AgentIDs[0]
				c.AgentID = &next
			}
		}
		if len(c.AgentIDs) > 0 {
			return
		}
		if c.Kind == ChatKindInternal {
			w.closeChat(now, wr, in.AgentID, CloseByAgent)
			return
		}
		w.requeue(now, wr)
	})
	return w.st.Chat, err
}

// --- Close

func (w *chatWorkflow) validateClose(ctx workflow.Context, in CloseChatInput) error {
	switch in.Reason {
	case CloseByAgent, CloseOfflineFlow:
	case CloseByCustomer:
		if w.st.Chat.Kind == ChatKindInternal {
			return Invalid("reason", "an internal chat has no customer")
		}
	default:
		return Invalid("reason", "reason must be agent, customer or offline_flow, got %q", in.Reason)
	}
	if in.By == "" {
		return Invalid("by", "who closes the chat?")
	}
	return w.checkNotClosed()
}

// close ends the chat; the run finishes once the close is persisted and handed over.
func (w *chatWorkflow) close(ctx workflow.Context, in CloseChatInput) (Chat, error) {
	err := w.apply(ctx, func() error { return w.validateClose(ctx, in) }, func(now time.Time, wr *ChatWrite) {
		if f := w.st.Offline; f != nil && f.Phase == OfflineIntake && f.IntakeClosed == "" && in.Reason == CloseByCustomer {
			w.closeIntake(now, wr, IntakeCustomerClosed) // as //end: what they left reaches the ticket first
			return
		}
		w.closeChat(now, wr, in.By, in.Reason)
	})
	return w.st.Chat, err
}
