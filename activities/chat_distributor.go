package activities

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/switchboardhq/switchboard/internal/events"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// ChatDistribution configures the ChatDistributor's activities: the idle check
// (SWITCHBOARD_CHAT_IDLE, SWITCHBOARD_CHAT_IDLE_GRACE; zero: the defaults) and the metrics
// (nil: none).
type ChatDistribution struct {
	Idle    time.Duration
	Grace   time.Duration
	Metrics *ChatMetrics
}

// ChatMetrics are the distribution's Prometheus metrics, set by RecordChatQueue from the
// distributor's decisions.
type ChatMetrics struct {
	queue *prometheus.GaugeVec
	seats *prometheus.GaugeVec
	wait  prometheus.Histogram
}

// NewChatMetrics registers the chat metrics with reg.
func NewChatMetrics(reg prometheus.Registerer) *ChatMetrics {
	m := &ChatMetrics{
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchboard_chat_queue_length", Help: "Chats waiting in a chat group's queue (offered ones included).",
		}, []string{"group"}),
		seats: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchboard_chat_agent_active_chats", Help: "Chats an agent holds or is offered, over every group.",
		}, []string{"agent"}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "switchboard_chat_wait_seconds", Help: "Time from a chat's arrival in the queue to its accept.",
			Buckets: []float64{1, 5, 10, 30, 60, 120, 300, 600, 1800},
		}),
	}
	reg.MustRegister(m.queue, m.seats, m.wait)
	return m
}

// NotifyChatDistributor tells the distributor what happened to a chat
// (workflows.ActivityNotifyChatDistributor): a signal-with-start, so the distributor starts on
// first need. Delivery is at least once; the distributor ignores a Seq it has seen.
func (a *Activities) NotifyChatDistributor(ctx context.Context, e workflows.ChatDistributorEvent) error {
	if a.Temporal == nil {
		return errors.New("NotifyChatDistributor: the worker's activities have no Temporal client")
	}
	return workflows.SignalChatDistributor(ctx, a.Temporal, activity.GetInfo(ctx).TaskQueue, workflows.SignalChatChanged, e)
}

// LoadChatDistribution reads chat groups (with their members in order) and agents' presence
// (workflows.ActivityLoadChatDistribution).
func (a *Activities) LoadChatDistribution(ctx context.Context, in workflows.LoadChatDistributionInput) (workflows.ChatDistributionConfig, error) {
	out := workflows.ChatDistributionConfig{Idle: a.Chat.Idle, Grace: a.Chat.Grace,
		Groups: []workflows.DistributorGroup{}, Presence: []workflows.DistributorPresence{}}
	if in.All || len(in.GroupIDs) > 0 {
		var groups []schema.ChatGroup
		q := a.DB.NewSelect().Model(&groups).OrderExpr("id")
		if !in.All {
			q = q.Where("id IN (?)", bun.In(in.GroupIDs))
		}
		if err := q.Scan(ctx); err != nil {
			return out, err
		}
		var members []schema.ChatGroupMember
		q = a.DB.NewSelect().Model(&members).OrderExpr("group_id, position")
		if !in.All {
			q = q.Where("group_id IN (?)", bun.In(in.GroupIDs))
		}
		if err := q.Scan(ctx); err != nil {
			return out, err
		}
		found := map[string]bool{}
		for _, g := range groups {
			found[g.ID] = true
			dg := workflows.DistributorGroup{ID: g.ID, Automatic: g.Automatic, Limit: g.MaxConcurrentPerAgent, Members: []string{}}
			for _, m := range members {
				if m.GroupID == g.ID {
					dg.Members = append(dg.Members, m.AgentID)
				}
			}
			out.Groups = append(out.Groups, dg)
		}
		for _, id := range in.GroupIDs {
			if !found[id] {
				out.MissingGroups = append(out.MissingGroups, id)
			}
		}
	}
	if in.All || len(in.AgentIDs) > 0 {
		var rows []schema.AgentChatPresence
		q := a.DB.NewSelect().Model(&rows).OrderExpr("agent_id")
		if !in.All {
			q = q.Where("agent_id IN (?)", bun.In(in.AgentIDs))
		}
		if err := q.Scan(ctx); err != nil {
			return out, err
		}
		for _, r := range rows {
			out.Presence = append(out.Presence, workflows.DistributorPresence{AgentID: r.AgentID, Status: r.Status})
		}
	}
	return out, nil
}

// refused: the chat said no (a validator's error) or is gone.
func refused(err error) bool {
	var appErr *temporal.ApplicationError
	var nf *serviceerror.NotFound
	return errors.As(err, &appErr) || errors.As(err, &nf)
}

// OfferChat sends the Offer update to a chat (workflows.ActivityOfferChat). The offer's ID is the
// update ID, so a retried attempt gets the first one's answer; and a refusal is checked against
// the chat's state, so an offer that landed in an earlier run of the chat is not taken back.
func (a *Activities) OfferChat(ctx context.Context, in workflows.OfferChatRequest) (workflows.OfferChatResult, error) {
	id := workflows.ChatWorkflowID(in.ChatID)
	h, err := a.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: workflows.UpdateChatOffer, UpdateID: in.OfferID,
		Args: []any{workflows.OfferChatInput{AgentID: in.AgentID}}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if err == nil {
		return workflows.OfferChatResult{Offered: true}, nil
	}
	if !refused(err) {
		return workflows.OfferChatResult{}, err
	}
	v, qerr := a.chatView(ctx, id)
	if qerr != nil {
		if refused(qerr) {
			return workflows.OfferChatResult{}, nil
		}
		return workflows.OfferChatResult{}, qerr
	}
	c := v.Chat
	return workflows.OfferChatResult{Offered: c.State == workflows.ChatOffered && c.OfferedTo != nil && *c.OfferedTo == in.AgentID}, nil
}

func (a *Activities) chatView(ctx context.Context, id string) (workflows.ChatView, error) {
	var v workflows.ChatView
	res, err := a.Temporal.QueryWorkflow(ctx, id, "", workflows.QueryState)
	if err == nil {
		err = res.Get(&v)
	}
	return v, err
}

// RequeueChat puts a chat offered to an idle agent back in its group's queue at its place
// (workflows.ActivityRequeueChat), by a transfer to the group it is in that the ChatSession
// makes only while the chat is still offered to that agent (OnlyIfOfferedTo, checked under the
// workflow's lock): an accept landing first wins, and the transfer is refused. The look before
// it only saves the update when the chat has moved on already.
func (a *Activities) RequeueChat(ctx context.Context, in workflows.RequeueChatRequest) (bool, error) {
	id := workflows.ChatWorkflowID(in.ChatID)
	v, err := a.chatView(ctx, id)
	if err != nil {
		if refused(err) {
			return false, nil
		}
		return false, err
	}
	c := v.Chat
	if c.State != workflows.ChatOffered || c.OfferedTo == nil || *c.OfferedTo != in.AgentID || c.GroupID != in.GroupID {
		return false, nil
	}
	h, err := a.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: workflows.UpdateChatTransfer,
		UpdateID: "requeue-" + in.AgentID + "-" + activity.GetInfo(ctx).WorkflowExecution.RunID + "-" + activity.GetInfo(ctx).ActivityID,
		Args: []any{workflows.TransferChatInput{By: "distributor", GroupID: in.GroupID, OnlyIfOfferedTo: in.AgentID,
			Reason: "the agent was idle: back in the queue at its place"}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if err != nil {
		if refused(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// RecordChatQueue writes the queue positions that changed, in one transaction, with a wake-up
// on events.ChatChannel for each chat whose row changed (so visitors' streams show the new
// place), and sets the metrics (workflows.ActivityRecordChatQueue). Safe to run twice: a row
// already at its position is not touched.
func (a *Activities) RecordChatQueue(ctx context.Context, rec workflows.ChatQueueRecord) error {
	if len(rec.Positions) > 0 {
		ids := make([]string, len(rec.Positions))
		pos := make([]int, len(rec.Positions))
		for i, p := range rec.Positions {
			ids[i], pos[i] = p.ChatID, p.Position
		}
		err := a.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			var changed []string
			err := tx.NewRaw(`UPDATE chats c SET queue_position = NULLIF(v.pos, 0)
				FROM unnest(?::text[], ?::int[]) AS v(id, pos)
				WHERE c.id = v.id AND c.queue_position IS DISTINCT FROM NULLIF(v.pos, 0)
				RETURNING c.id`, pgdialect.Array(ids), pgdialect.Array(pos)).Scan(ctx, &changed)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if len(changed) == 0 {
				return nil
			}
			_, err = tx.NewRaw(`SELECT pg_notify(?, id) FROM unnest(?::text[]) AS id`, events.ChatChannel, pgdialect.Array(changed)).Exec(ctx)
			if err != nil {
				return err
			}
			// A place changed, so a queue's length may have: supervisors' streams read them again.
			_, err = tx.ExecContext(ctx, "SELECT pg_notify(?, '')", events.QueuesChannel)
			return err
		})
		if err != nil {
			return err
		}
	}
	if m := a.Chat.Metrics; m != nil {
		for g, n := range rec.QueueLengths {
			m.queue.WithLabelValues(g).Set(float64(n))
		}
		for agent, n := range rec.AgentSeats {
			m.seats.WithLabelValues(agent).Set(float64(n))
		}
		for _, d := range rec.Waits {
			m.wait.Observe(d.Seconds())
		}
	}
	return nil
}
