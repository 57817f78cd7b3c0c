// Package triggers holds what a trigger must be, apart from HTTP: its limits and its
// validation, its own parts and what its actions refer to, so the native API, the
// Movidesk-compatible API and tests share one set of rules. (Conditions, events and actions
// themselves are the rules engine's, package rules.)
package triggers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// Limits of a trigger.
const (
	MaxName     = 200
	MaxActions  = 50
	MaxPosition = 1_000_000
)

// Checks says which parts of a trigger to validate: all of them on create, the ones given on
// update (so that a trigger whose status has since been deactivated can still be renamed or
// disabled).
type Checks struct{ Name, Events, Condition, Actions, Position, Timer bool }

// AllChecks validates the whole trigger.
var AllChecks = Checks{true, true, true, true, true, true}

// Validate checks a trigger, its own parts and what its actions name, and answers every
// problem at once under its field (none: an empty map). urgencies are the configured ones; an
// error is the database's.
func Validate(ctx context.Context, db bun.IDB, urgencies []string, tr *schema.Trigger, what Checks) (map[string]string, error) {
	fields := Problems(tr, what)
	if what.Actions {
		if err := CheckActions(ctx, db, urgencies, tr.Actions, fields); err != nil {
			return nil, err
		}
	}
	return fields, nil
}

// Problems are the trigger's own problems, without its actions' (CheckActions).
func Problems(tr *schema.Trigger, what Checks) map[string]string {
	fields := map[string]string{}
	if what.Name {
		switch n := utf8.RuneCountInString(tr.Name); {
		case n == 0:
			fields["name"] = "is required"
		case n > MaxName:
			fields["name"] = fmt.Sprintf("must be at most %d characters", MaxName)
		}
	}
	if what.Events {
		allowed := strings.Join(rules.Events, ", ")
		if len(tr.Events) == 0 {
			fields["events"] = "give at least one event: " + allowed
		}
		for i, e := range tr.Events {
			if !slices.Contains(rules.Events, e) {
				fields[fmt.Sprintf("events[%d]", i)] = fmt.Sprintf("unknown event %q; allowed: %s", e, allowed)
			}
		}
	}
	if what.Condition {
		if _, err := rules.Compile(tr.Condition); err != nil {
			fields["condition"] = err.Error()
		}
	}
	if what.Timer {
		// A time condition is the ticket.time event with its timer; neither goes without the other.
		onTime := slices.Contains(tr.Events, rules.EventTime)
		switch {
		case tr.Timer != nil:
			maps.Copy(fields, tr.Timer.Validate())
			if !onTime {
				fields["timer"] = "is only for time conditions: add " + rules.EventTime + " to events"
			}
		case onTime:
			fields["timer"] = `is required with the ` + rules.EventTime + ` event, e.g. {"after":"2h","from":"createdAt"}`
		}
	}
	if what.Position && (tr.Position < 0 || tr.Position > MaxPosition) {
		fields["position"] = fmt.Sprintf("must be from 0 to %d", MaxPosition)
	}
	return fields
}

// CheckActions adds the problems of each action to fields: its own parameters
// (rules.Action.Validate), then what it refers to, against the database.
func CheckActions(ctx context.Context, db bun.IDB, urgencies []string, actions []rules.Action, fields map[string]string) error {
	if len(actions) > MaxActions {
		fields["actions"] = fmt.Sprintf("must be at most %d actions, got %d", MaxActions, len(actions))
		return nil
	}
	for i, a := range actions {
		at := fmt.Sprintf("actions[%d].", i)
		own := a.Validate()
		for k, v := range own {
			fields[at+k] = v
		}
		if len(own) > 0 {
			continue
		}
		if err := checkReferences(ctx, db, urgencies, at, a, fields); err != nil {
			return err
		}
	}
	return nil
}

// checkReferences checks that what an action names exists and is active.
func checkReferences(ctx context.Context, db bun.IDB, urgencies []string, at string, a rules.Action, fields map[string]string) error {
	switch a.Type {
	case rules.ActionSetStatus, rules.ActionChangeParentStatus:
		var st schema.Status
		err := db.NewSelect().Model(&st).Where("name = ?", a.Status).Scan(ctx)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			fields[at+"status"] = fmt.Sprintf("no status named %q", a.Status)
		case err != nil:
			return err
		case !st.IsActive:
			fields[at+"status"] = fmt.Sprintf("status %q is deactivated", a.Status)
		case st.RequiresJustification && strings.TrimSpace(a.Justification) == "":
			fields[at+"justification"] = fmt.Sprintf("is required: status %q requires a justification", a.Status)
		}
	case rules.ActionSetUrgency:
		if !slices.Contains(urgencies, a.Urgency) {
			fields[at+"urgency"] = "must be one of: " + strings.Join(urgencies, ", ")
		}
	case rules.ActionAssignAgent:
		bad, err := schema.AgentProblems(ctx, db, "agent", []string{a.AgentID})
		if err != nil {
			return err
		}
		if msg, ok := bad["agent[0]"]; ok {
			fields[at+"agentId"] = msg
		}
	case rules.ActionAssignTeam:
		var active bool
		err := db.NewRaw("SELECT is_active FROM teams WHERE id = ?", a.TeamID).Scan(ctx, &active)
		switch {
		case errors.Is(err, sql.ErrNoRows), isBadID(err):
			fields[at+"teamId"] = "no team with id " + a.TeamID
		case err != nil:
			return err
		case !active:
			fields[at+"teamId"] = "team " + a.TeamID + " is deactivated"
		}
	case rules.ActionNotifyAgents:
		bad, err := schema.AgentProblems(ctx, db, at+"agentIds", a.AgentIDs)
		if err != nil {
			return err
		}
		maps.Copy(fields, bad)
	case rules.ActionCallWebhook:
		var ok bool
		err := db.NewRaw("SELECT EXISTS(SELECT 1 FROM webhooks WHERE id = ? AND is_active)", a.WebhookID).Scan(ctx, &ok)
		if err != nil && !isBadID(err) {
			return err
		}
		if !ok {
			fields[at+"webhookId"] = "no active webhook with id " + a.WebhookID
		}
	}
	return nil
}

// isBadID: the id is not of its column's type (22P02), or the table is not there yet (42P01,
// before the webhooks migration): there is no such record.
func isBadID(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && (pgErr.Field('C') == "42P01" || pgErr.Field('C') == "22P02")
}
