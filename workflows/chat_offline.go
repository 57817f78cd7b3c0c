package workflows

import (
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The offline flow of a ChatSession (../shared/seeds/chat-desk-tickets.txt): a chat that
// reaches no agent (outside business hours, nobody online, or queueWait passed) asks the
// customer whether to leave a message. YES opens the message window: every customer message
// goes to one ticket (created, or merged into the customer's open chat ticket), and the
// out-of-hours autoresponder follows the ticket's creation. NO closes the chat at once; silence
// closes it after customerInactivity; any other answer repeats the prompt; NO after YES is an
// ordinary message. //end ends the window, and so does intakeClose after the customer's last
// message; the chat then closes and the ticket waits in the unassigned queue. Every step is an
// event of the chat, so the Temporal UI and GET /chats/{id} show why a ticket exists.

// chatOfflineVersion: runs recorded before the offline flow closed at queueWait (the stub).
const chatOfflineVersion = "chat-offline-flow"

// Deadline kinds of the offline flow.
const (
	dueOfflineSilence = "offline silence"
	dueIntakeClose    = "intake close"
)

// Reasons of ChatEventIntakeClosed.
const (
	IntakeEndCommand = "end_command"
	IntakeTimeout    = "timeout"
	// IntakeCustomerClosed: the visitor closed the widget's session during the window.
	IntakeCustomerClosed = "customer_closed"
)

// startOffline is a new chat that starts in the offline flow (the API found its group closed
// or nobody online): it never waits in the distributor's queue.
func (w *chatWorkflow) startOffline(now time.Time, reason string) {
	w.st.Events, w.st.Outbox, w.st.NoteSeq = nil, nil, 0
	wr := ChatWrite{}
	w.enterOffline(now, &wr, reason)
	w.notes = nil // nothing was queued: the distributor has nothing to forget
}

// enterOffline moves the chat to the offline flow and asks the prompt. The customer's messages
// so far go to the ticket if they answer YES.
func (w *chatWorkflow) enterOffline(now time.Time, wr *ChatWrite, reason string) {
	if seats := w.seats(); len(seats) > 0 {
		w.notify(DistributorSeatsFreed, now, seats...)
	}
	if w.waiting() {
		w.notify(DistributorChatGone, now)
	}
	c := &w.st.Chat
	c.State, c.OfferedTo, c.OfferedAt = ChatOffline, nil, nil
	f := &OfflineFlow{Reason: reason, Phase: OfflinePrompt}
	for _, m := range w.st.Messages {
		if m.Role == ChatRoleCustomer {
			f.Pending = append(f.Pending, m.Seq)
		}
	}
	w.st.Offline = f
	w.event(wr, ChatEvent{Type: ChatEventOffline, Reason: reason, At: now})
	w.prompt(now, wr)
}

func (w *chatWorkflow) prompt(now time.Time, wr *ChatWrite) {
	w.st.Offline.PromptedAt = now
	w.addMessage(wr, ChatMessage{AuthorID: SystemActor.ID, Role: ChatRoleSystem, Body: w.st.Group.OfflinePrompt, CreatedAt: now})
}

// offlineDeadline is the offline flow's next timeout: silence at the prompt, or the window's
// close after the customer's last message.
func (w *chatWorkflow) offlineDeadline() (string, time.Time, bool) {
	f := w.st.Offline
	switch {
	case f == nil:
		return "", time.Time{}, false
	case f.Phase == OfflinePrompt:
		return dueOfflineSilence, f.PromptedAt.Add(w.st.Group.CustomerInactivity), true
	case f.IntakeClosed == "" && f.LastCustomerAt != nil:
		return dueIntakeClose, f.LastCustomerAt.Add(w.st.Group.IntakeClose), true
	}
	return "", time.Time{}, false
}

// fireOffline acts on an offline deadline (under the mutex, still due).
func (w *chatWorkflow) fireOffline(now time.Time, wr *ChatWrite, kind string) {
	switch kind {
	case dueOfflineSilence:
		w.closeChat(now, wr, SystemActor.ID, CloseInactivity)
	case dueIntakeClose:
		w.closeIntake(now, wr, IntakeTimeout)
	}
}

func (w *chatWorkflow) closeIntake(now time.Time, wr *ChatWrite, reason string) {
	w.st.Offline.IntakeClosed = reason
	w.event(wr, ChatEvent{Type: ChatEventIntakeClosed, Reason: reason, At: now})
}

// offlineAnswer is what a customer message means in the offline flow (m is already in the
// transcript).
func (w *chatWorkflow) offlineAnswer(now time.Time, wr *ChatWrite, m ChatMessage) {
	f := w.st.Offline
	text := strings.TrimSpace(m.Body)
	if f.Phase == OfflinePrompt {
		switch {
		case strings.EqualFold(text, "yes"):
			f.Phase, f.LastCustomerAt = OfflineIntake, &now
			w.event(wr, ChatEvent{Type: ChatEventIntake, At: now})
		case strings.EqualFold(text, "no"):
			w.closeChat(now, wr, m.AuthorID, CloseDeclined)
		default: // the prompt again; the text is kept for the ticket should they say YES
			f.Pending = append(slices.Clone(f.Pending), m.Seq)
			w.prompt(now, wr)
		}
		return
	}
	if strings.EqualFold(text, OfflineEndCommand) && len(m.Attachments) == 0 {
		w.closeIntake(now, wr, IntakeEndCommand)
		return
	}
	f.Pending = append(slices.Clone(f.Pending), m.Seq)
	f.LastCustomerAt = &now
}

// offlineSideWork runs beside the main loop: it hands the customer's messages to the ticket
// (then records the ticket and sends the autoresponder), closes the chat once the window ended
// and every message is on the ticket, and tells CloseCustomerChatTickets of a first accept.
// Activities run outside the mutex; their results are applied as changes.
func (w *chatWorkflow) offlineSideWork(ctx workflow.Context) {
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			if err := workflow.Await(ctx, func() bool { return w.sideWorkDue() }); err != nil {
				return
			}
			w.sideBusy = true
			err := w.sideStep(ctx)
			if err != nil && !temporal.IsCanceledError(err) {
				err = w.sideStepFailed(ctx, err)
			}
			w.sideBusy = false
			if err != nil {
				return
			}
		}
	})
}

func (w *chatWorkflow) sideWorkDue() bool {
	if w.st.ReachedAgent != nil {
		return true
	}
	f := w.st.Offline
	if f == nil || w.st.Chat.State != ChatOffline || f.Phase != OfflineIntake {
		return false
	}
	return len(f.Pending) > 0 || f.IntakeClosed != ""
}

// sideStepFailed gives up a step whose activity failed for good (its retries cover every
// passing failure, so what fails here fails again): the chat goes on without it, and the
// failure is an event of the chat, so nothing waits forever on a step that cannot happen.
// Messages that could not reach the ticket stay in the chat's transcript.
func (w *chatWorkflow) sideStepFailed(ctx workflow.Context, cause error) error {
	workflow.GetLogger(ctx).Error("a step of the offline flow failed; the chat carries on", "err", cause)
	if w.st.ReachedAgent != nil {
		w.st.ReachedAgent, w.st.ReachedAgentTold = nil, true
		return nil
	}
	if w.st.Chat.State == ChatClosed {
		return nil
	}
	return w.apply(ctx, func() error { return nil }, func(now time.Time, wr *ChatWrite) {
		f := w.st.Offline
		w.event(wr, ChatEvent{Type: ChatEventOfflineFailed, Reason: failureReason(cause), At: now})
		if len(f.Pending) > 0 {
			f.Pending = nil
			return
		}
		w.closeChat(now, wr, SystemActor.ID, CloseOfflineFlow)
	})
}

// failureReason is a failure's message, short enough for an event.
func failureReason(err error) string {
	r := []rune(err.Error())
	if len(r) > 300 {
		r = append(r[:297], []rune("...")...)
	}
	return string(r)
}

func (w *chatWorkflow) sideStep(ctx workflow.Context) error {
	if r := w.st.ReachedAgent; r != nil {
		if err := workflow.ExecuteActivity(activityCtx(ctx), ActivityCloseCustomerChatTickets, *r).Get(ctx, nil); err != nil {
			return err
		}
		w.st.ReachedAgent, w.st.ReachedAgentTold = nil, true
		return nil
	}
	f := w.st.Offline
	if len(f.Pending) == 0 {
		return w.endIntake(ctx)
	}
	batch := w.messagesOf(f.Pending)
	var got OfflineDelivered
	err := workflow.ExecuteActivity(activityCtx(ctx), ActivityDeliverOfflineMessages,
		OfflineDelivery{Chat: w.st.Chat, Messages: batch, GroupDepartment: w.st.Group.Department}).Get(ctx, &got)
	if err != nil {
		return err
	}
	return w.apply(ctx, func() error { return nil }, func(now time.Time, wr *ChatWrite) {
		f := w.st.Offline
		f.Pending = slices.DeleteFunc(slices.Clone(f.Pending), func(seq int64) bool {
			return slices.ContainsFunc(batch, func(m ChatMessage) bool { return m.Seq == seq })
		})
		if w.st.Chat.TicketID == nil {
			id := got.TicketID
			w.st.Chat.TicketID = &id
			how := "created"
			if got.Merged {
				how = "merged"
			}
			w.event(wr, ChatEvent{Type: ChatEventTicket, Reason: how, At: now})
		}
		if !f.Autoresponded && w.st.Chat.State == ChatOffline {
			f.Autoresponded = true
			w.addMessage(wr, ChatMessage{AuthorID: SystemActor.ID, Role: ChatRoleSystem, Body: w.st.Group.OfflineAutoresponder, CreatedAt: now})
		}
	})
}

// endIntake records the window's end on the ticket and closes the chat.
func (w *chatWorkflow) endIntake(ctx workflow.Context) error {
	if t := w.st.Chat.TicketID; t != nil {
		in := OfflineIntakeClosed{ChatID: w.st.Chat.ID, TicketID: *t, Reason: w.st.Offline.IntakeClosed, At: workflow.Now(ctx).UTC()}
		if err := workflow.ExecuteActivity(activityCtx(ctx), ActivityCloseOfflineIntake, in).Get(ctx, nil); err != nil {
			return err
		}
	}
	return w.apply(ctx, func() error { return w.checkNotClosed() }, func(now time.Time, wr *ChatWrite) {
		w.closeChat(now, wr, SystemActor.ID, CloseOfflineFlow)
	})
}

func (w *chatWorkflow) messagesOf(seqs []int64) []ChatMessage {
	var out []ChatMessage
	for _, m := range w.st.Messages {
		if slices.Contains(seqs, m.Seq) {
			out = append(out, m)
		}
	}
	return out
}
