package activities

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// The offline flow's activities (workflows/chat_offline.go). A chat that reached no agent hands
// its customer's messages to one chat ticket: the first delivery of a chat opens the ticket, or
// merges into the customer's open chat ticket (never a second one: the choice is made under an
// advisory lock per customer), and records the chat in chat_ticket_chats; later deliveries
// append the messages as public actions. Every step is safe to run twice: the chat's ticket is
// found again through chat_ticket_chats, the ticket keyed by its reserved number, each appended
// message by the update id chat/<chat>/offline/<seq>.

// DeliverOfflineMessages hands a batch of customer messages to the chat's ticket
// (workflows.ActivityDeliverOfflineMessages).
func (a *Activities) DeliverOfflineMessages(ctx context.Context, in workflows.OfflineDelivery) (workflows.OfflineDelivered, error) {
	if len(in.Messages) == 0 {
		return workflows.OfflineDelivered{}, temporal.NewNonRetryableApplicationError("no messages to deliver", "BadInput", nil)
	}
	first := in.Chat.TicketID == nil // the workflow records the ticket after the first delivery
	ct, merged, err := a.chatTicketOf(ctx, in)
	if err != nil {
		return workflows.OfflineDelivered{}, err
	}
	out := workflows.OfflineDelivered{TicketID: ct.TicketID, Merged: merged}
	if ct.ChatID == in.Chat.ID && first {
		made, err := a.openOfflineTicket(ctx, ct, in)
		if err != nil || made {
			return out, err // made: the messages are the new ticket's actions
		}
		// the ticket was made by an earlier attempt of this very batch
		return out, nil
	}
	return out, a.appendOfflineMessages(ctx, ct.TicketID, in)
}

// chatTicketOf is the chat ticket the chat's messages go to: the one it already has, or the
// customer's open chat ticket (merged), or a new one (its number reserved here).
func (a *Activities) chatTicketOf(ctx context.Context, in workflows.OfflineDelivery) (schema.ChatTicket, bool, error) {
	c := in.Chat
	var ct schema.ChatTicket
	var merged bool
	err := a.DB.RunInTx(ctx, &sql.TxOptions{}, func(ctx context.Context, tx bun.Tx) error {
		ct, merged = schema.ChatTicket{}, false
		var link schema.ChatTicketChat
		err := tx.NewSelect().Model(&link).Where("chat_id = ?", c.ID).Scan(ctx)
		if err == nil {
			err = tx.NewSelect().Model(&ct).Where("ticket_id = ?", link.TicketID).Scan(ctx)
			merged = ct.ChatID != c.ID
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if c.CustomerID != nil {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('chat-ticket:' || ?))", *c.CustomerID); err != nil {
				return err
			}
			open, err := openChatTicketOf(ctx, tx, *c.CustomerID)
			if err != nil {
				return err
			}
			if open != nil {
				ct, merged = *open, true
			}
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		if !merged {
			if err := tx.NewRaw("SELECT nextval('ticket_id_seq')").Scan(ctx, &ct.TicketID); err != nil {
				return err
			}
			ct.ChatID, ct.CustomerID, ct.GroupID, ct.Channel, ct.ChannelContact, ct.CreatedAt =
				c.ID, c.CustomerID, c.GroupID, c.Channel, c.ChannelContact, now
			if ct.Channel == "" {
				ct.Channel = schema.ChannelWeb
			}
			ct.DepartmentID = nonEmpty(in.GroupDepartment)
			if _, err := tx.NewInsert().Model(&ct).Exec(ctx); err != nil {
				return err
			}
		}
		_, err = tx.NewInsert().Model(&schema.ChatTicketChat{ChatID: c.ID, TicketID: ct.TicketID, AddedAt: now}).Exec(ctx)
		return err
	})
	if err != nil {
		return ct, false, fmt.Errorf("choosing the ticket of chat %s: %w", c.ID, err)
	}
	return ct, merged, nil
}

// openChatTicketOf is the customer's newest chat ticket still open: not closed from its queue,
// not archived, and its ticket not resolved, closed or canceled (a ticket still being made has
// no row yet and counts as open).
func openChatTicketOf(ctx context.Context, db bun.IDB, customerID string) (*schema.ChatTicket, error) {
	var ct schema.ChatTicket
	err := db.NewSelect().Model(&ct).
		Where("customer_id = ? AND closed_at IS NULL AND archived_at IS NULL", customerID).
		Where("NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = ct.ticket_id AND t.base_status IN (?))",
			bun.In([]string{schema.BaseResolved, schema.BaseClosed, schema.BaseCanceled})).
		OrderExpr("created_at DESC").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &ct, err
}

// openOfflineTicket makes the chat ticket's ticket with the messages as its public actions
// (origin 5, tagged chat and offline, unassigned, created by the customer) and starts its
// archive workflow. made is false when an earlier attempt made it.
func (a *Activities) openOfflineTicket(ctx context.Context, ct schema.ChatTicket, in workflows.OfflineDelivery) (bool, error) {
	c := in.Chat
	exists, err := a.DB.NewSelect().Model((*schema.Ticket)(nil)).Where("id = ? OR chat_id = ?", ct.TicketID, c.ID).Exists(ctx)
	if err != nil || exists {
		return false, errors.Join(err, a.startArchive(ctx, ct))
	}
	gen, err := schema.ConfigGeneration(ctx, a.DB)
	if err != nil {
		return false, err
	}
	create := workflows.CreateTicket{ID: ct.TicketID, Type: "public", Subject: chatSubject(in.Messages), Status: schema.BaseNew,
		BaseStatus: schema.BaseNew, Origin: OriginChat, CreatedBy: workflows.SystemActor.ID, CreatedAt: ct.CreatedAt,
		Tags: []string{"chat", "offline"}}
	if c.CustomerID != nil {
		create.ClientIDs, create.CreatedBy = []string{*c.CustomerID}, *c.CustomerID
	}
	st, wr := workflows.NewTicket(create)
	t := &st.Ticket
	t.ChatID, t.ChatGroup, t.ChatWidget = &c.ID, nonEmpty(c.GroupID), c.WidgetID
	addChatActions(&st, &wr, in.Messages)
	made, err := a.startChatTicket(ctx, st, wr, gen)
	if err != nil {
		return false, err
	}
	if made {
		a.publishChatTicket(ctx, schema.ChatTicketCreated, ct)
	}
	return made, a.startArchive(ctx, ct)
}

// publishChatTicket tells the queues' watchers; a failure to tell is logged, the change stands.
func (a *Activities) publishChatTicket(ctx context.Context, typ string, ct schema.ChatTicket) {
	if err := schema.PublishChatTicket(ctx, a.DB, typ, ct); err != nil && activity.IsActivity(ctx) {
		activity.GetLogger(ctx).Warn("chat ticket event dropped", "ticket", ct.TicketID, "type", typ, "err", err)
	}
}

func (a *Activities) taskQueue(ctx context.Context) string {
	if activity.IsActivity(ctx) {
		return activity.GetInfo(ctx).TaskQueue
	}
	return workflows.DefaultTaskQueue
}

// startArchive starts the ticket's ChatTicketArchive workflow (once: a second start is
// refused as already started).
func (a *Activities) startArchive(ctx context.Context, ct schema.ChatTicket) error {
	opts := client.StartWorkflowOptions{ID: workflows.ChatTicketArchiveID(ct.TicketID), TaskQueue: a.taskQueue(ctx)}
	_, err := a.Temporal.ExecuteWorkflow(ctx, opts, workflows.ChatTicketArchiveWorkflowType,
		workflows.ChatTicketArchiveInput{TicketID: ct.TicketID, CreatedAt: ct.CreatedAt})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil
	}
	return err
}

// appendOfflineMessages adds the messages to an existing chat ticket, each once. A ticket not
// written yet (another chat of the customer is still making it) is retried; one that takes no
// more changes keeps what it has (the messages stay in the chat's transcript).
func (a *Activities) appendOfflineMessages(ctx context.Context, ticketID int64, in workflows.OfflineDelivery) error {
	for _, m := range in.Messages {
		act := workflows.TicketActionInput{TicketID: ticketID, UpdateID: fmt.Sprintf("chat/%s/offline/%d", in.Chat.ID, m.Seq),
			Action: workflows.AddActionInput{Actor: chatActor(m), Type: "public", Body: m.Body, Origin: OriginChat,
				Kind: schema.KindText, HTML: m.HTML, Attachments: m.Attachments}}
		err := a.AddTicketAction(ctx, act)
		if err == nil {
			continue
		}
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return fmt.Errorf("ticket %d is still being made: %w", ticketID, nf)
		}
		if isFinal(err) {
			if activity.IsActivity(ctx) {
				activity.GetLogger(ctx).Warn("offline message not added to its ticket", "chat", in.Chat.ID, "ticket", ticketID, "err", err)
			}
			return nil
		}
		return err
	}
	return nil
}

// CloseOfflineIntake records the end of the customer's message window on the chat ticket
// (workflows.ActivityCloseOfflineIntake): from then on the ticket waits for an agent.
func (a *Activities) CloseOfflineIntake(ctx context.Context, in workflows.OfflineIntakeClosed) error {
	_, err := a.DB.NewUpdate().Model((*schema.ChatTicket)(nil)).
		Set("intake_closed_at = COALESCE(intake_closed_at, ?)", in.At.UTC().Truncate(time.Microsecond)).
		Where("ticket_id = ?", in.TicketID).Exec(ctx)
	return err
}

// CustomerChatTicketClosed is the justification recorded on a chat ticket closed because its
// customer reached an agent in a live chat.
func CustomerChatTicketClosed(chatID, agentID string) string {
	return fmt.Sprintf("Closed automatically: the customer reached agent %s in live chat %s.", agentID, chatID)
}

// CloseCustomerChatTickets closes every open chat ticket of a customer whose live chat an agent
// accepted (workflows.ActivityCloseCustomerChatTickets): the ticket's workflow closes it with
// the reason, and the chat ticket records close_reason live_chat and the chat.
func (a *Activities) CloseCustomerChatTickets(ctx context.Context, in workflows.CustomerReachedAgent) error {
	var open []schema.ChatTicket
	err := a.DB.NewSelect().Model(&open).
		Where("customer_id = ? AND closed_at IS NULL AND archived_at IS NULL AND chat_id <> ?", in.CustomerID, in.ChatID).
		Scan(ctx)
	if err != nil {
		return err
	}
	for _, ct := range open {
		// Closed is reached only through Resolved: two moves, each applied once.
		for _, base := range []string{schema.BaseResolved, schema.BaseClosed} {
			err := a.UpdateTicketStatus(ctx, workflows.TicketStatusInput{TicketID: ct.TicketID,
				UpdateID: "chat/" + in.ChatID + "/closes-chat-ticket/" + base,
				Change: workflows.ChangeStatusInput{Actor: workflows.SystemActor, Status: base, BaseStatus: base,
					Justification: CustomerChatTicketClosed(in.ChatID, in.AgentID)}})
			if err != nil && !isFinal(err) {
				return err
			}
		}
		// refused: the ticket was closed or resolved meanwhile; the chat ticket closes all the same
		res, err := a.DB.NewUpdate().Model((*schema.ChatTicket)(nil)).
			Set("closed_at = ?, close_reason = 'live_chat', closed_chat_id = ?", in.At.UTC().Truncate(time.Microsecond), in.ChatID).
			Where("ticket_id = ? AND closed_at IS NULL", ct.TicketID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			a.publishChatTicket(ctx, schema.ChatTicketClosed, ct)
		}
	}
	return nil
}

// ArchiveChatTicket archives a chat ticket (workflows.ActivityArchiveChatTicket): it leaves
// the queues and stays readable.
func (a *Activities) ArchiveChatTicket(ctx context.Context, in workflows.ChatTicketArchiveInput) error {
	_, err := a.DB.NewUpdate().Model((*schema.ChatTicket)(nil)).
		Set("archived_at = COALESCE(archived_at, now())").Where("ticket_id = ?", in.TicketID).Exec(ctx)
	return err
}
