package activities

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/switchboardhq/switchboard/approvals"
	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// ResolveApprovers names the people each approver entry names now, and which of in.Check are
// inactive (workflows.ActivityResolveApprovers).
func (a *Activities) ResolveApprovers(ctx context.Context, in workflows.ResolveInput) (workflows.ResolveResult, error) {
	res := workflows.ResolveResult{Entries: make([]workflows.ResolvedEntry, len(in.Entries)), Inactive: []string{}}
	for i, e := range in.Entries {
		r, err := resolveEntry(ctx, a.DB, in.RequesterID, e)
		if err != nil {
			return res, err
		}
		res.Entries[i] = r
	}
	if len(in.Check) > 0 {
		err := a.DB.NewRaw("SELECT id FROM persons WHERE id = ANY(?) AND NOT is_active ORDER BY id",
			pgdialect.Array(in.Check)).Scan(ctx, &res.Inactive)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return res, err
		}
	}
	return res, nil
}

func resolveEntry(ctx context.Context, db bun.IDB, requester string, e schema.ApproverEntry) (workflows.ResolvedEntry, error) {
	var ids []string
	var err error
	why := ""
	switch e.Kind {
	case workflows.ApproverPerson:
		err = db.NewRaw("SELECT id FROM persons WHERE id = ? AND is_active", e.PersonID).Scan(ctx, &ids)
		why = "person " + e.PersonID + " is not active"
	case workflows.ApproverJobRole:
		err = db.NewRaw("SELECT id FROM persons WHERE job_role = ? AND is_active ORDER BY name, id", e.JobRole).Scan(ctx, &ids)
		why = "nobody active holds job role " + e.JobRole
	case workflows.ApproverTeam:
		err = db.NewRaw(`SELECT p.id FROM team_members m JOIN persons p ON p.id = m.person_id JOIN teams t ON t.id = m.team_id
			WHERE m.team_id = ? AND t.is_active AND p.is_active ORDER BY p.name, p.id`, e.TeamID).Scan(ctx, &ids)
		why = "team " + e.TeamID + " has no active member"
	case workflows.ApproverBoss:
		var boss string
		boss, err = superior(ctx, db, requester, nil)
		if boss != "" {
			ids = []string{boss}
		}
		why = "requester " + requester + " has no active superior"
	case workflows.ApproverWildcard:
		ids = []string{schema.WildcardApprover}
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return workflows.ResolvedEntry{}, err
	}
	if len(ids) == 0 {
		return workflows.ResolvedEntry{PersonIDs: []string{}, Reason: why}, nil
	}
	return workflows.ResolvedEntry{PersonIDs: ids}, nil
}

// superior is the first active person up person's bossId chain who is not in exclude (empty:
// none). A cycle in the chain ends the walk.
func superior(ctx context.Context, db bun.IDB, person string, exclude []string) (string, error) {
	seen := map[string]bool{person: true}
	for current := person; ; {
		var row struct {
			BossID   *string
			IsActive bool
		}
		err := db.NewRaw(`SELECT b.id AS boss_id, b.is_active FROM persons p JOIN persons b ON b.id = p.boss_id
			WHERE p.id = ?`, current).Scan(ctx, &row)
		if errors.Is(err, sql.ErrNoRows) || row.BossID == nil || seen[*row.BossID] {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		current = *row.BossID
		seen[current] = true
		if row.IsActive && !slices.Contains(exclude, current) {
			return current, nil
		}
	}
}

// ResolveEscalation is the first level of the escalation chain, from in.Level, with somebody
// in it (workflows.ActivityResolveEscalation).
func (a *Activities) ResolveEscalation(ctx context.Context, in workflows.EscalationInput) (workflows.EscalationResult, error) {
	for level := max(in.Level, 1); level <= 3; level++ {
		var ids []string
		kind := ""
		switch level {
		case 1:
			kind = "superior"
			boss, err := superior(ctx, a.DB, in.After, in.Exclude)
			if err != nil {
				return workflows.EscalationResult{}, err
			}
			if boss != "" {
				ids = []string{boss}
			}
		case 2:
			kind = "wildcard"
			if in.Wildcard && !slices.Contains(in.Exclude, schema.WildcardApprover) {
				ids = []string{schema.WildcardApprover}
			}
		case 3:
			kind = "admins"
			err := a.DB.NewRaw("SELECT id FROM persons WHERE role = ? AND is_active AND NOT (id = ANY(?)) ORDER BY name, id",
				schema.RoleAdmin, pgdialect.Array(append([]string{""}, in.Exclude...))).Scan(ctx, &ids)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return workflows.EscalationResult{}, err
			}
		}
		if len(ids) > 0 {
			return workflows.EscalationResult{PersonIDs: ids, Kind: kind, Level: level}, nil
		}
	}
	return workflows.EscalationResult{PersonIDs: []string{}, Level: 4}, nil
}

// PersistApproval writes a request's row (workflows.ActivityPersistApproval); an older write
// never overwrites a newer one.
func (a *Activities) PersistApproval(ctx context.Context, r schema.ApprovalRequest) error {
	return schema.SaveApprovalRequest(ctx, a.DB, &r)
}

// NotifyApprover writes an approver's in-app notification once (keyed by request, approver,
// kind and number); an "asked" notice carries a one-time decision link, created in the same
// transaction, so a retry writes neither twice.
func (a *Activities) NotifyApprover(ctx context.Context, n workflows.ApprovalNotice) error {
	key := fmt.Sprintf("approval/%s/%s/%s/%d", n.RequestID, n.ApproverID, n.Kind, n.N)
	return a.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		msg := n.Message
		var token string
		if n.Kind == workflows.NoticeAsked {
			var err error
			if token, err = newLinkToken(); err != nil {
				return err
			}
			msg += " Decide at " + LinkPath(token)
		}
		id := n.TicketID
		note := schema.Notification{PersonID: n.ApproverID, TicketID: &id, Message: msg, DedupeKey: &key}
		res, err := tx.NewInsert().Model(&note).On("CONFLICT (dedupe_key) DO NOTHING").Returning("NULL").Exec(ctx)
		if err != nil {
			return err
		}
		if rows, _ := res.RowsAffected(); rows == 0 || token == "" {
			return nil // sent before (a retry), or nothing to link
		}
		link := schema.ApprovalLink{TokenHash: LinkHash(token), RequestID: n.RequestID, ApproverID: n.ApproverID,
			DedupeKey: key, ExpiresAt: n.LinkUntil}
		_, err = tx.NewInsert().Model(&link).Exec(ctx)
		return err
	})
}

// LinkPath is where a decision link points.
func LinkPath(token string) string { return "/approval-links/" + token }

// LinkHash is how a link token is stored.
func LinkHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func newLinkToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ApprovalExpiry is in.After from in.From in business hours of the calendar
// (workflows.ActivityApprovalExpiry). A calendar gone since the rule was saved counts plain time.
func (a *Activities) ApprovalExpiry(ctx context.Context, in workflows.ApprovalExpiryInput) (time.Time, error) {
	cal, err := schema.LoadCalendar(ctx, a.DB, in.CalendarID)
	if errors.Is(err, sql.ErrNoRows) {
		return in.From.Add(in.After), nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return cal.AddBusiness(in.From, in.After), nil
}

// RecordApprovalOnTicket sends a request's outcome to its ticket's workflow
// (workflows.ActivityRecordApprovalOnTicket); keyed by request, so a retry is the same update.
func (a *Activities) RecordApprovalOnTicket(ctx context.Context, in workflows.RecordOnTicketInput) error {
	return a.updateTicket(ctx, in.TicketID, workflows.UpdateRecordApproval, "approval/"+in.Record.ApprovalID+"/outcome", &in.Record)
}

// matchingApprovals are the enabled approval rules listening to the event whose condition
// matches, frozen as specs. A rule whose condition fails or whose status is gone is skipped.
func (a *Activities) matchingApprovals(ctx context.Context, cfg *configSnapshot, ev workflows.TriggerEvent, env rules.Env) ([]workflows.ApprovalSpec, error) {
	var out []workflows.ApprovalSpec
	for _, r := range cfg.approvalRules {
		if !slices.Contains(r.Events, ev.Name) || len(ev.Chain) >= workflows.MaxTriggerChain {
			continue
		}
		p, err := a.rules().Program("approval/"+r.ID, r.Version, r.Condition)
		if err != nil {
			continue
		}
		if ok, err := rules.Eval(p, env); err != nil || !ok {
			continue
		}
		spec, err := approvals.Spec(ctx, a.DB, r)
		if errors.Is(err, approvals.ErrStatusGone) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, spec)
	}
	return out, nil
}
