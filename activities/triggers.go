package activities

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/switchboardhq/switchboard/internal/markup"
	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// actorKinds maps who made a change to what conditions see as actor.kind.
var actorKinds = map[string]string{schema.RoleAdmin: "agent", schema.RoleAgent: "agent", schema.RoleCustomer: "customer",
	"system": "system", "trigger": "trigger"}

// EvaluateTriggers decides which triggers fire on a ticket event and resolves their actions.
// A trigger never fires on a change its own chain caused; past MaxTriggerChain nothing fires
// and the stop is recorded. Every firing, and every refused action, is recorded once in
// trigger_executions (a retry writes nothing new). Notifications are written here, once.
func (a *Activities) EvaluateTriggers(ctx context.Context, in workflows.EvaluateInput) (workflows.EvaluateResult, error) {
	cfg, err := a.Config.get(ctx, a.DB, in.Event.ConfigAtLeast)
	if err != nil {
		return workflows.EvaluateResult{}, err
	}
	var res workflows.EvaluateResult
	var triggers []schema.Trigger
	for _, tr := range cfg.triggers {
		if tr.Timer != nil && slices.Contains(tr.Events, rules.EventTime) {
			if after, err := tr.Timer.Duration(); err == nil {
				res.Timers = append(res.Timers, workflows.TimerSpec{TriggerID: tr.ID, Version: tr.Version, After: after, From: tr.Timer.From})
			}
		}
		if slices.Contains(tr.Events, in.Event.Name) && (in.Event.OnlyTrigger == "" || in.Event.OnlyTrigger == tr.ID) {
			triggers = append(triggers, tr)
		}
	}
	t := workflows.RulesTicket(in.Ticket)
	payload := in.Event.Payload
	if payload == nil {
		payload = map[string]any{}
	}
	env := rules.NewEnv(t, rules.Event{Name: in.Event.Name, Payload: payload}, in.Event.Changes,
		rules.Actor{ID: in.Event.Actor.ID, Kind: actorKinds[in.Event.Actor.Role]}, in.Now).
		WithCalendars(func(id string) (interface{ IsOpen(time.Time) bool }, error) {
			return cfg.calendar(id)
		})
	res.SLA = a.chooseSLA(cfg, in.Ticket, env)
	if res.Approvals, err = a.matchingApprovals(ctx, cfg, in.Event, env); err != nil {
		return res, err
	}
	for _, tr := range triggers {
		if slices.Contains(in.Event.Chain, tr.ID) {
			continue // its own chain caused this change: firing again would loop
		}
		p, err := a.rules().Program(tr.ID, tr.Version, tr.Condition)
		matched := false
		if err == nil {
			matched, err = rules.Eval(p, env)
		}
		if err != nil {
			if rerr := a.recordExecution(ctx, in, tr, false, nil, err.Error()); rerr != nil {
				return res, rerr
			}
			continue
		}
		if !matched {
			continue
		}
		if len(in.Event.Chain) >= workflows.MaxTriggerChain {
			msg := fmt.Sprintf("not applied: the trigger chain reached depth %d (%s)", workflows.MaxTriggerChain, strings.Join(in.Event.Chain, " > "))
			if err := a.recordExecution(ctx, in, tr, true, nil, msg); err != nil {
				return res, err
			}
			continue
		}
		actions, problems, err := a.resolveActions(ctx, in, tr)
		if err != nil {
			return res, err
		}
		if err := a.recordExecution(ctx, in, tr, true, actions, strings.Join(problems, "; ")); err != nil {
			return res, err
		}
		res.Firings = append(res.Firings, workflows.Firing{TriggerID: tr.ID, Version: tr.Version, Actions: actions})
		if tr.StopProcessing {
			break
		}
	}
	return res, nil
}

func (a *Activities) rules() *rules.Cache {
	a.rulesOnce.Do(func() { a.ruleCache = rules.NewCache() })
	return a.ruleCache
}

// resolveActions prepares a trigger's actions against configuration and the ticket's state.
// An action that cannot apply (an illegal status move, a deactivated status) is left out and
// its problem reported.
func (a *Activities) resolveActions(ctx context.Context, in workflows.EvaluateInput, tr schema.Trigger) ([]workflows.ResolvedAction, []string, error) {
	t := workflows.RulesTicket(in.Ticket)
	var out []workflows.ResolvedAction
	var problems []string
	for i, act := range tr.Actions {
		r := workflows.ResolvedAction{Action: act}
		problem, err := a.resolve(ctx, in, t, tr, i, &r)
		if err != nil {
			return nil, nil, err
		}
		if problem != "" {
			problems = append(problems, fmt.Sprintf("actions[%d] %s: %s", i, act.Type, problem))
			continue
		}
		out = append(out, r)
	}
	return out, problems, nil
}

func (a *Activities) resolve(ctx context.Context, in workflows.EvaluateInput, t rules.Ticket, tr schema.Trigger, i int, r *workflows.ResolvedAction) (string, error) {
	var err error
	switch r.Type {
	case rules.ActionSetStatus, rules.ActionChangeParentStatus:
		var st schema.Status
		if err := a.DB.NewSelect().Model(&st).Where("name = ? AND is_active", r.Status).Scan(ctx); err != nil {
			if errors.Is(err, errNoRows) {
				return fmt.Sprintf("no active status %q", r.Status), nil
			}
			return "", err
		}
		r.BaseStatus, r.RequiresJustification = st.BaseStatus, st.RequiresJustification
		if r.Type == rules.ActionChangeParentStatus {
			if in.Ticket.ParentID == nil {
				return "the ticket has no parent", nil
			}
			return "", nil
		}
		if err := workflows.CheckStatusMove(in.Ticket.BaseStatus, st.BaseStatus); err != nil {
			return err.Error(), nil
		}
		if st.RequiresJustification && strings.TrimSpace(r.Justification) == "" {
			return fmt.Sprintf("status %q requires a justification", st.Name), nil
		}
	case rules.ActionAssignTeam:
		if r.Distribution == "round_robin" || r.Distribution == "least_loaded" {
			r.PickedAgentID, err = a.pickAgent(ctx, r.TeamID, r.Distribution, in.Ticket.ID)
		}
	// A template that renders past the API's limit for what it fills (or past its work
	// bounds) fails only its action, reported below and recorded with the execution.
	case rules.ActionAddAction:
		if r.RenderedBody, err = rules.Render(r.Body, t, rules.MaxBody); err == nil {
			r.RenderedHTML = markup.Render(r.RenderedBody)
		}
	case rules.ActionSetSubject:
		r.RenderedSubject, err = rules.Render(r.Subject, t, rules.MaxSubject)
	case rules.ActionCreateChildTicket:
		if r.RenderedSubject, err = rules.Render(r.Subject, t, rules.MaxSubject); err == nil {
			r.RenderedBody, err = rules.Render(r.Body, t, rules.MaxBody)
		}
		if err == nil { // a number for the child; a retry takes another, which is harmless
			var dbErr error
			if r.ChildTicketID, dbErr = schema.NextTicketID(ctx, a.DB); dbErr != nil {
				return "", dbErr
			}
		}
	case rules.ActionNotifyAgents:
		var msg string
		if msg, err = rules.Render(r.Message, t, rules.MaxNotification); err == nil {
			return "", a.notify(ctx, in, tr, i, r.Action, msg)
		}
	}
	if err != nil {
		return err.Error(), nil
	}
	return "", nil
}

var errNoRows = sql.ErrNoRows

// pickAgent chooses an active member of the team: round robin by who was least recently given a
// ticket by a trigger, or the one with the fewest open tickets.
func (a *Activities) pickAgent(ctx context.Context, teamID, how string, ticketID int64) (string, error) {
	order := `(SELECT max(h.started_at) FROM ticket_owner_history h WHERE h.owner_id = p.id) ASC NULLS FIRST, p.id`
	if how == "least_loaded" {
		order = `(SELECT count(*) FROM tickets t WHERE t.owner_id = p.id AND t.base_status NOT IN ('Resolved', 'Closed', 'Canceled')) ASC, p.id`
	}
	var id string
	err := a.DB.NewRaw(`SELECT p.id FROM team_members m JOIN persons p ON p.id = m.person_id
		WHERE m.team_id = ? AND p.is_active ORDER BY `+order+` LIMIT 1`, teamID).Scan(ctx, &id)
	if errors.Is(err, errNoRows) {
		return "", nil // nobody to pick: the ticket goes to the team only
	}
	return id, err
}

// notify writes an in-app notification for each agent (the ticket's owner when none are named).
func (a *Activities) notify(ctx context.Context, in workflows.EvaluateInput, tr schema.Trigger, i int, act rules.Action, msg string) error {
	agents := act.AgentIDs
	if len(agents) == 0 && in.Ticket.OwnerID != nil {
		agents = []string{*in.Ticket.OwnerID}
	}
	for _, agent := range agents {
		key := fmt.Sprintf("%d/%d/%s/%s/%d/%s", in.Ticket.ID, in.Ticket.Seq, in.Event.Name, tr.ID, i, agent)
		id, tid := in.Ticket.ID, tr.ID
		n := schema.Notification{PersonID: agent, TicketID: &id, TriggerID: &tid, Message: msg, DedupeKey: &key}
		if _, err := a.DB.NewInsert().Model(&n).On("CONFLICT (dedupe_key) DO NOTHING").Returning("NULL").Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (a *Activities) recordExecution(ctx context.Context, in workflows.EvaluateInput, tr schema.Trigger, matched bool, actions []workflows.ResolvedAction, problem string) error {
	applied := []rules.Action{}
	for _, r := range actions {
		applied = append(applied, r.Action)
	}
	e := schema.TriggerExecution{TicketID: in.Ticket.ID, TriggerID: tr.ID, TriggerVersion: tr.Version, Event: in.Event.Name,
		Matched: matched, Actions: applied, Chain: orEmpty(in.Event.Chain), TicketVersion: in.Ticket.Seq, At: in.Now}
	if problem != "" {
		e.Error = &problem
	}
	_, err := a.DB.NewInsert().Model(&e).On("CONFLICT (ticket_id, ticket_version, event, trigger_id) DO NOTHING").Returning("NULL").Exec(ctx)
	return err
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// UpdateTicketStatus changes another ticket's status through its workflow; the update ID makes
// a retry apply it once. A refusal (the parent's state does not allow it) is final.
func (a *Activities) UpdateTicketStatus(ctx context.Context, in workflows.TicketStatusInput) error {
	h, err := a.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.TicketWorkflowID(in.TicketID), UpdateName: workflows.UpdateChangeStatus,
		Args: []any{in.Change}, WaitForStage: client.WorkflowUpdateStageCompleted, UpdateID: in.UpdateID,
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	var appErr *temporal.ApplicationError
	var nf *serviceerror.NotFound
	if errors.As(err, &appErr) || errors.As(err, &nf) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("ticket %d: %v", in.TicketID, err), "TicketRefused", err)
	}
	return err
}
