package api

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/approvals"
	"github.com/switchboardhq/switchboard/schema"
)

// Approval rules and the job roles they name: admins' configuration (package approvals
// validates; the Approval workflow runs the requests).
func (s *Server) approvalRuleRoutes(r fiber.Router) {
	r.Post("/approval-rules", requirePerm(PermConfigWrite), s.createApprovalRule)
	r.Get("/approval-rules", requirePerm(PermConfigRead), s.listApprovalRules)
	r.Get("/approval-rules/:id", requirePerm(PermConfigRead), getOne("id", s.loadApprovalRule))
	r.Patch("/approval-rules/:id", requirePerm(PermConfigWrite), s.updateApprovalRule)
	r.Delete("/approval-rules/:id", requirePerm(PermConfigWrite), s.deleteApprovalRule)
	r.Get("/job-roles", requirePerm(PermPeopleRead), s.listJobRoles)
	r.Post("/job-roles", requirePerm(PermConfigWrite), s.createJobRole)
	r.Delete("/job-roles/:name", requirePerm(PermConfigWrite), s.deleteJobRole)
}

// approvalRuleInput is a rule as clients send it; on update, absent fields stay as they are.
type approvalRuleInput struct {
	Name          *string                 `json:"name" validate:"omitnil,max=200"`
	Enabled       *bool                   `json:"enabled"`
	Position      *int                    `json:"position"`
	Condition     *string                 `json:"condition" validate:"omitnil,max=10000"`
	Events        *[]string               `json:"events" validate:"omitnil,max=10"`
	Type          *string                 `json:"type" validate:"omitnil,max=20"`
	Quorum        *schema.Quorum          `json:"quorum"`
	Rejection     *string                 `json:"rejection" validate:"omitnil,max=20"`
	Approvers     *[]schema.ApproverEntry `json:"approvers" validate:"omitnil,max=20"`
	WaitingStatus *string                 `json:"waitingStatus" validate:"omitnil,max=60"`
	OnApproved    *schema.ApprovalOutcome `json:"onApproved"`
	OnRejected    *schema.ApprovalOutcome `json:"onRejected"`
	// Reminders: absent stays as it is, null removes them.
	Reminders   json.RawMessage `json:"reminders"`
	ExpireAfter *string         `json:"expireAfter" validate:"omitnil,max=20"`
	CalendarID  *string         `json:"calendarId" validate:"omitnil,max=64"`
	OnExpire    *string         `json:"onExpire" validate:"omitnil,max=20"`
}

// apply sets the fields given.
func (in *approvalRuleInput) apply(r *schema.ApprovalRule) error {
	if in.Name != nil {
		r.Name = strings.TrimSpace(*in.Name)
	}
	set(&r.Enabled, in.Enabled)
	set(&r.Position, in.Position)
	if in.Condition != nil {
		r.Condition = condition(*in.Condition)
	}
	if in.Events != nil {
		r.Events = uniq(*in.Events)
	}
	set(&r.Type, in.Type)
	set(&r.Quorum, in.Quorum)
	set(&r.Rejection, in.Rejection)
	set(&r.Approvers, in.Approvers)
	set(&r.WaitingStatus, in.WaitingStatus)
	set(&r.OnApproved, in.OnApproved)
	set(&r.OnRejected, in.OnRejected)
	set(&r.ExpireAfter, in.ExpireAfter)
	set(&r.CalendarID, in.CalendarID)
	set(&r.OnExpire, in.OnExpire)
	if given(in.Reminders) {
		var m schema.Reminders
		if err := strictJSON(in.Reminders, &m); err != nil {
			name, msg := jsonFieldError(err)
			return errField(strings.TrimSuffix("reminders."+name, "."), "%s", msg)
		}
		r.Reminders = &m
	} else if len(in.Reminders) > 0 {
		r.Reminders = nil // null
	}
	approvals.Defaults(r)
	return nil
}

// onlySwitches: the edit only enables, disables or moves the rule, which a rule naming since
// deactivated people or statuses may still do.
func (in *approvalRuleInput) onlySwitches() bool {
	return in.Name == nil && in.Condition == nil && in.Events == nil && in.Type == nil && in.Quorum == nil &&
		in.Rejection == nil && in.Approvers == nil && in.WaitingStatus == nil && in.OnApproved == nil &&
		in.OnRejected == nil && len(in.Reminders) == 0 && in.ExpireAfter == nil && in.CalendarID == nil && in.OnExpire == nil
}

var approvalRules = &configResource[schema.ApprovalRule]{entity: "approval_rule", noun: "approval rule",
	columns: []string{"name", "enabled", "position", "condition", "events", "type", "quorum", "rejection", "approvers",
		"waiting_status", "on_approved", "on_rejected", "reminders", "expire_after", "calendar_id", "on_expire", "updated_at"},
	id:        func(r *schema.ApprovalRule) string { return r.ID },
	version:   func(r *schema.ApprovalRule) *int { return &r.Version },
	normalize: approvals.Defaults,
	writeError: func(r *schema.ApprovalRule, err error) error {
		if uniqueViolation(err) {
			return errField("name", "an approval rule named %q exists already", r.Name)
		}
		return err
	},
}

func (s *Server) loadApprovalRule(ctx context.Context, id string) (*schema.ApprovalRule, error) {
	return approvalRules.load(ctx, s.db, id)
}

func (s *Server) createApprovalRule(c *fiber.Ctx) error {
	var in approvalRuleInput
	if err := decode(c, &in); err != nil {
		return err
	}
	now := time.Now().UTC()
	r := schema.ApprovalRule{ID: uuid.Must(uuid.NewV7()).String(), Enabled: true, CreatedAt: now, UpdatedAt: now}
	return s.saveApprovalRule(c, &r, nil, &in, fiber.StatusCreated)
}

func (s *Server) updateApprovalRule(c *fiber.Ctx) error {
	var in approvalRuleInput
	if err := decode(c, &in); err != nil {
		return err
	}
	before, err := s.loadApprovalRule(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	r := *before
	r.UpdatedAt = time.Now().UTC()
	return s.saveApprovalRule(c, &r, before, &in, fiber.StatusOK)
}

func (s *Server) saveApprovalRule(c *fiber.Ctx, r, before *schema.ApprovalRule, in *approvalRuleInput, status int) error {
	if err := in.apply(r); err != nil {
		return err
	}
	if before == nil || !in.onlySwitches() {
		fields, err := approvals.Validate(c.UserContext(), s.db, r)
		if err != nil {
			return err
		}
		if len(fields) > 0 {
			return errInvalid(fields)
		}
	}
	action := "create"
	if before != nil {
		action = "update"
	}
	return writeConfig(c, s.db, approvalRules, r, before, action, status)
}

func (s *Server) deleteApprovalRule(c *fiber.Ctx) error {
	before, err := s.loadApprovalRule(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	// Requests keep their rule's id and name; open ones run on with the spec they froze.
	if err := approvalRules.remove(c.UserContext(), s.db, principal(c).Person.ID, before, nil); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) listApprovalRules(c *fiber.Ctx) error {
	return approvalRules.list(c, s.db, configList[schema.ApprovalRule]{
		position: func(r *schema.ApprovalRule) int { return r.Position },
		filter:   boolFilter("enabled", "enabled"),
	})
}

// --- job roles

type jobRoleInput struct {
	Name string `json:"name" validate:"required,notblank,max=100"`
}

func (s *Server) listJobRoles(c *fiber.Ctx) error {
	roles := []schema.JobRole{}
	if err := s.db.NewSelect().Model(&roles).OrderExpr("name").Limit(1000).Scan(c.UserContext()); err != nil {
		return err
	}
	return c.JSON(page[schema.JobRole]{Data: roles})
}

func (s *Server) createJobRole(c *fiber.Ctx) error {
	var in jobRoleInput
	if err := decode(c, &in); err != nil {
		return err
	}
	role := schema.JobRole{Name: strings.TrimSpace(in.Name), CreatedAt: time.Now().UTC()}
	err := s.db.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&role).Exec(ctx); err != nil {
			if uniqueViolation(err) {
				return errConflict("job role %q exists already", role.Name)
			}
			return err
		}
		return audit(ctx, tx, principal(c).Person.ID, "job_role", role.Name, "create", nil, role)
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(role)
}

// deleteJobRole removes a role nobody holds and no rule names (409 naming who or which).
func (s *Server) deleteJobRole(c *fiber.Ctx) error {
	name := c.Params("name")
	err := s.db.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		var holders []string
		if err := tx.NewRaw("SELECT id FROM persons WHERE job_role = ? ORDER BY id LIMIT 5", name).Scan(ctx, &holders); err != nil && !isNoRows(err) {
			return err
		}
		if len(holders) > 0 {
			return errConflict("job role %q is held by %s; change their job role first", name, strings.Join(holders, ", "))
		}
		var rules []string
		err := tx.NewRaw("SELECT name FROM approval_rules WHERE approvers @> ?::jsonb ORDER BY name LIMIT 5",
			`[{"kind":"jobRole","jobRole":`+quoteJSON(name)+`}]`).Scan(ctx, &rules)
		if err != nil && !isNoRows(err) {
			return err
		}
		if len(rules) > 0 {
			return errConflict("job role %q is named by approval rules %s", name, strings.Join(rules, ", "))
		}
		res, err := tx.NewDelete().Model((*schema.JobRole)(nil)).Where("name = ?", name).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound("no job role %q", name)
		}
		return audit(ctx, tx, principal(c).Person.ID, "job_role", name, "delete", nil, nil)
	})
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
