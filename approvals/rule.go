// Package approvals holds what an approval rule must be, apart from HTTP: its validation and
// the spec a request freezes from it, so the API, the trigger evaluation and tests share one
// set of rules. The request's lifecycle is the Approval workflow's (package workflows).
package approvals

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/internal/markup"
	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// Limits of a rule.
const (
	MaxName      = 200
	MaxApprovers = 20
	MaxNote      = 10_000
	MaxReminders = 20
	MaxPosition  = 1_000_000
	MaxDuration  = 366 * 24 * time.Hour
)

// Events are the ticket events that may start a rule's request; none: by hand only.
var Events = []string{rules.EventCreated, rules.EventUpdated, rules.EventStatusChanged}

var (
	kinds      = []string{workflows.ApproverPerson, workflows.ApproverJobRole, workflows.ApproverBoss, workflows.ApproverTeam, workflows.ApproverWildcard}
	types      = []string{workflows.ApprovalSequential, workflows.ApprovalSimultaneous}
	modes      = []string{workflows.QuorumAll, workflows.QuorumAny, workflows.QuorumCount, workflows.QuorumPercent}
	rejections = []string{workflows.RejectOnAny, workflows.RejectOnQuorum}
	onExpire   = []string{workflows.ExpireApprove, workflows.ExpireReject, workflows.ExpireEscalate}
	noteTypes  = []string{"public", "internal"}
)

// Defaults fills what a new rule leaves out.
func Defaults(r *schema.ApprovalRule) {
	if r.Type == "" {
		r.Type = workflows.ApprovalSequential
	}
	if r.Quorum.Mode == "" {
		r.Quorum.Mode = workflows.QuorumAll
	}
	if r.Rejection == "" {
		r.Rejection = workflows.RejectOnAny
	}
	if r.OnExpire == "" {
		r.OnExpire = workflows.ExpireReject
	}
	if r.Events == nil {
		r.Events = []string{}
	}
	if r.Approvers == nil {
		r.Approvers = []schema.ApproverEntry{}
	}
}

// Validate answers every problem of the rule at once under its field (none: an empty map),
// checking what it names against the database; an error is the database's.
func Validate(ctx context.Context, db bun.IDB, r *schema.ApprovalRule) (map[string]string, error) {
	f := problems(r)
	check := []struct {
		field, kind, id string
	}{{"waitingStatus", "status", r.WaitingStatus}, {"onApproved.status", "status", r.OnApproved.Status},
		{"onRejected.status", "status", r.OnRejected.Status}, {"calendarId", "calendar", r.CalendarID}}
	for i, a := range r.Approvers {
		at := fmt.Sprintf("approvers[%d].", i)
		switch a.Kind {
		case workflows.ApproverPerson:
			check = append(check, struct{ field, kind, id string }{at + "personId", "person", a.PersonID})
		case workflows.ApproverJobRole:
			check = append(check, struct{ field, kind, id string }{at + "jobRole", "job role", a.JobRole})
		case workflows.ApproverTeam:
			check = append(check, struct{ field, kind, id string }{at + "teamId", "team", a.TeamID})
		}
	}
	for _, c := range check {
		if c.id == "" || f[c.field] != "" {
			continue
		}
		msg, err := exists(ctx, db, c.kind, c.id)
		if err != nil {
			return nil, err
		}
		if msg != "" {
			f[c.field] = msg
		}
	}
	return f, nil
}

// problems are the rule's own problems, without the database.
func problems(r *schema.ApprovalRule) map[string]string {
	f := map[string]string{}
	switch n := utf8.RuneCountInString(r.Name); {
	case strings.TrimSpace(r.Name) == "":
		f["name"] = "is required"
	case n > MaxName:
		f["name"] = fmt.Sprintf("must be at most %d characters", MaxName)
	}
	for i, e := range r.Events {
		if !slices.Contains(Events, e) {
			f[fmt.Sprintf("events[%d]", i)] = fmt.Sprintf("unknown event %q; allowed: %s (none: the rule is started by hand only)", e, strings.Join(Events, ", "))
		}
	}
	if _, err := rules.Compile(r.Condition); err != nil {
		f["condition"] = err.Error()
	}
	oneOf(f, "type", r.Type, types)
	oneOf(f, "rejection", r.Rejection, rejections)
	oneOf(f, "onExpire", r.OnExpire, onExpire)
	if oneOf(f, "quorum.mode", r.Quorum.Mode, modes) {
		switch r.Quorum.Mode {
		case workflows.QuorumCount:
			if r.Quorum.Value < 1 || r.Quorum.Value > 1000 {
				f["quorum.value"] = "must be from 1 to 1000 approvers with mode count"
			}
		case workflows.QuorumPercent:
			if r.Quorum.Value < 1 || r.Quorum.Value > 100 {
				f["quorum.value"] = "must be from 1 to 100 (percent) with mode percent"
			}
		default:
			if r.Quorum.Value != 0 {
				f["quorum.value"] = "is only for modes count and percent"
			}
		}
		if r.Type == workflows.ApprovalSequential && r.Quorum.Mode != workflows.QuorumAll {
			f["quorum.mode"] = "must be all for a sequential rule (every approver in turn); use type simultaneous for a quorum"
		}
	}
	approverProblems(f, r.Approvers)
	if r.Position < 0 || r.Position > MaxPosition {
		f["position"] = fmt.Sprintf("must be from 0 to %d", MaxPosition)
	}
	outcomeProblems(f, "onApproved", r.OnApproved)
	outcomeProblems(f, "onRejected", r.OnRejected)
	if m := r.Reminders; m != nil {
		if d, err := duration(m.First); err != nil || d <= 0 {
			f["reminders.first"] = "must be a duration up to 366d, e.g. 4h or 1d"
		}
		if m.Max < 1 || m.Max > MaxReminders {
			f["reminders.max"] = fmt.Sprintf("must be from 1 to %d", MaxReminders)
		}
		if d, err := duration(m.Every); m.Every != "" && (err != nil || d < time.Minute) {
			f["reminders.every"] = "must be a duration from 1m to 366d, e.g. 24h"
		} else if m.Every == "" && m.Max > 1 {
			f["reminders.every"] = "is required when max is more than 1"
		}
	}
	if r.ExpireAfter != "" {
		if d, err := duration(r.ExpireAfter); err != nil || d < time.Minute {
			f["expireAfter"] = "must be a duration from 1m to 366d, e.g. 72h or 3d"
		}
	} else if r.CalendarID != "" {
		f["calendarId"] = "is only for expireAfter (business hours of the expiry); set expireAfter"
	}
	return f
}

func approverProblems(f map[string]string, entries []schema.ApproverEntry) {
	switch {
	case len(entries) == 0:
		f["approvers"] = "give at least one approver"
	case len(entries) > MaxApprovers:
		f["approvers"] = fmt.Sprintf("must be at most %d approvers", MaxApprovers)
	}
	wild := 0
	for i, a := range entries {
		at := fmt.Sprintf("approvers[%d]", i)
		if !oneOf(f, at+".kind", a.Kind, kinds) {
			continue
		}
		want := map[string]string{workflows.ApproverPerson: "personId", workflows.ApproverJobRole: "jobRole", workflows.ApproverTeam: "teamId"}[a.Kind]
		given := map[string]string{"personId": a.PersonID, "jobRole": a.JobRole, "teamId": a.TeamID}
		for name, v := range given {
			if name == want && v == "" {
				f[at+"."+name] = "is required for kind " + a.Kind
			} else if name != want && v != "" {
				f[at+"."+name] = "is not used by kind " + a.Kind
			}
		}
		if a.Kind == workflows.ApproverWildcard {
			if wild++; wild > 1 {
				f[at] = "the wildcard approver may appear once"
			}
		}
	}
}

func outcomeProblems(f map[string]string, at string, o schema.ApprovalOutcome) {
	if o.NoteType != "" {
		oneOf(f, at+".noteType", o.NoteType, noteTypes)
	}
	if utf8.RuneCountInString(o.Note) > MaxNote {
		f[at+".note"] = fmt.Sprintf("must be at most %d characters", MaxNote)
	}
}

func oneOf(f map[string]string, field, v string, allowed []string) bool {
	if slices.Contains(allowed, v) {
		return true
	}
	f[field] = fmt.Sprintf("must be one of: %s (got %q)", strings.Join(allowed, ", "), v)
	return false
}

// duration parses "90m", "4h", "3d".
func duration(s string) (time.Duration, error) {
	d, err := rules.Timer{After: s}.Duration()
	if err == nil && d > MaxDuration {
		err = errors.New("too long")
	}
	return d, err
}

// exists says what is wrong with a reference (empty: nothing).
func exists(ctx context.Context, db bun.IDB, kind, id string) (string, error) {
	var active bool
	var err error
	switch kind {
	case "status":
		err = db.NewRaw("SELECT is_active FROM statuses WHERE name = ?", id).Scan(ctx, &active)
	case "calendar":
		active = true
		err = db.NewRaw("SELECT true FROM calendars WHERE id = ?", id).Scan(ctx, &active)
	case "person":
		err = db.NewRaw("SELECT is_active FROM persons WHERE id = ? AND kind = 'person'", id).Scan(ctx, &active)
	case "job role":
		active = true
		err = db.NewRaw("SELECT true FROM job_roles WHERE name = ?", id).Scan(ctx, &active)
	case "team":
		err = db.NewRaw("SELECT is_active FROM teams WHERE id = ?", id).Scan(ctx, &active)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Sprintf("no %s %q", kind, id), nil
	case err != nil:
		return "", err
	case !active:
		return fmt.Sprintf("%s %q is deactivated", kind, id), nil
	}
	return "", nil
}

// Spec freezes a rule for a request: durations parsed, statuses resolved to their base, notes
// rendered. A status the rule names that has since gone is an error naming it.
func Spec(ctx context.Context, db bun.IDB, r schema.ApprovalRule) (workflows.ApprovalSpec, error) {
	s := workflows.ApprovalSpec{RuleID: r.ID, RuleName: r.Name, Type: r.Type, Quorum: r.Quorum, Rejection: r.Rejection,
		Approvers: r.Approvers, CalendarID: r.CalendarID, OnExpire: r.OnExpire}
	var err error
	if s.WaitingStatus, s.WaitingBase, _, err = status(ctx, db, r.WaitingStatus); err != nil {
		return s, err
	}
	if s.OnApproved, err = outcome(ctx, db, r.OnApproved); err != nil {
		return s, err
	}
	if s.OnRejected, err = outcome(ctx, db, r.OnRejected); err != nil {
		return s, err
	}
	if m := r.Reminders; m != nil {
		s.ReminderFirst, _ = duration(m.First)
		s.ReminderEvery, _ = duration(m.Every)
		s.ReminderMax = m.Max
	}
	if r.ExpireAfter != "" {
		s.ExpireAfter, _ = duration(r.ExpireAfter)
	}
	return s, nil
}

func outcome(ctx context.Context, db bun.IDB, o schema.ApprovalOutcome) (workflows.OutcomeSpec, error) {
	out := workflows.OutcomeSpec{Note: o.Note, NoteType: o.NoteType}
	if out.NoteType == "" {
		out.NoteType = "internal"
	}
	if o.Note != "" {
		out.NoteHTML = markup.Render(o.Note)
	}
	var err error
	out.Status, out.BaseStatus, out.RequiresJustification, err = status(ctx, db, o.Status)
	return out, err
}

// ErrStatusGone is a rule naming a status that no longer exists or is deactivated.
var ErrStatusGone = errors.New("status no longer usable")

func status(ctx context.Context, db bun.IDB, name string) (string, string, bool, error) {
	if name == "" {
		return "", "", false, nil
	}
	var st schema.Status
	err := db.NewSelect().Model(&st).Where("name = ?", name).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", "", false, fmt.Errorf("%w: no status named %q", ErrStatusGone, name)
	case err != nil:
		return "", "", false, err
	case !st.IsActive:
		return "", "", false, fmt.Errorf("%w: status %q is deactivated", ErrStatusGone, name)
	}
	return st.Name, st.BaseStatus, st.RequiresJustification, nil
}
