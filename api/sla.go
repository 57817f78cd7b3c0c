package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/sla"
	"github.com/switchboardhq/switchboard/workflows"
)

func (s *Server) slaRoutes(r fiber.Router) {
	r.Post("/sla-policies", requirePerm(PermConfigWrite), s.createSLAPolicy)
	r.Get("/sla-policies", requirePerm(PermConfigRead), s.listSLAPolicies)
	r.Get("/sla-policies/:id", requirePerm(PermConfigRead), getOne("id", s.loadSLAPolicy))
	r.Patch("/sla-policies/:id", requirePerm(PermConfigWrite), s.updateSLAPolicy)
	r.Delete("/sla-policies/:id", requirePerm(PermConfigWrite), s.deleteSLAPolicy)
	r.Get("/tickets/:id/sla", requirePerm(PermTicketsRead), staffOnly, s.getTicketSLA)
	r.Put("/tickets/:id/sla", requirePerm(PermTicketsWrite), staffOnly, s.setTicketSLA)
}

// maxManualDueAhead bounds a deadline set by hand: more than a year ahead is a typo.
const maxManualDueAhead = 366 * 24 * time.Hour

// --- policies

// slaPolicyInput is a policy as clients send it; on update, absent fields stay as they are.
// Rules are decoded one by one (decodeSLARules), so that an error names its rule.
type slaPolicyInput struct {
	Name           *string            `json:"name"`
	IsDefault      *bool              `json:"isDefault"`
	Rules          *[]json.RawMessage `json:"rules"`
	PauseStatuses  *[]string          `json:"pauseStatuses"`
	WarningMinutes *int               `json:"warningMinutes"`
}

// decodeSLARules reads each rule strictly: an unknown key or a wrong type is a 422 naming
// rules[i].<key>.
func decodeSLARules(raw *[]json.RawMessage) ([]schema.SLARule, error) {
	if raw == nil {
		return nil, nil
	}
	out := make([]schema.SLARule, 0, len(*raw))
	fields := map[string]string{}
	for i, r := range *raw {
		var rule schema.SLARule
		if err := strictJSON(r, &rule); err != nil {
			at := fmt.Sprintf("rules[%d]", i)
			if name, msg := jsonFieldError(err); name != "" {
				fields[at+"."+name] = msg
			} else {
				fields[at] = msg
			}
			continue
		}
		out = append(out, rule)
	}
	if len(fields) > 0 {
		return nil, errInvalid(fields)
	}
	return out, nil
}

// apply sets the fields given; the rules are already decoded.
func (in *slaPolicyInput) apply(p *schema.SLAPolicy, rules []schema.SLARule) {
	if in.Name != nil {
		p.Name = strings.TrimSpace(*in.Name)
	}
	set(&p.IsDefault, in.IsDefault)
	if in.Rules != nil {
		p.Rules = rules
		for i := range p.Rules {
			r := &p.Rules[i]
			r.Condition = condition(r.Condition)
			r.Hours = strings.TrimSpace(r.Hours)
			if r.CalendarID != nil {
				r.CalendarID = nilIfEmpty(strings.TrimSpace(*r.CalendarID))
			}
		}
	}
	if in.PauseStatuses != nil {
		p.PauseStatuses = uniq(*in.PauseStatuses)
	}
	set(&p.WarningMinutes, in.WarningMinutes)
}

func slaChecksFor(in *slaPolicyInput) sla.Checks {
	return sla.Checks{Name: in.Name != nil, Rules: in.Rules != nil, PauseStatuses: in.PauseStatuses != nil,
		Warning: in.WarningMinutes != nil}
}

// checkSLAPolicy validates a policy against the records it names (sla.Validate); every problem
// is reported at once, each under its field.
func (s *Server) checkSLAPolicy(ctx context.Context, p *schema.SLAPolicy, what sla.Checks) error {
	fields, err := sla.Validate(ctx, s.db, p, what)
	if err != nil {
		return err
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	return nil
}

func normalizeSLAPolicy(p *schema.SLAPolicy) {
	p.Rules = orEmptyOf(p.Rules)
	p.PauseStatuses = orEmpty(p.PauseStatuses)
}

// slaPolicyContent is what an edit can change; comparing it tells whether a PATCH changed
// anything (and so whether the version rises).
func slaPolicyContent(p *schema.SLAPolicy) string {
	b, _ := json.Marshal([]any{p.Name, p.IsDefault, p.Rules, p.PauseStatuses, p.WarningMinutes})
	return string(b)
}

// unsetOtherDefaults makes p the only default: every other default policy stops being one, a
// change to it (version +1, audited). Callers hold the default lock (lockSLADefault).
func unsetOtherDefaults(ctx context.Context, tx bun.Tx, actor string, p *schema.SLAPolicy) error {
	if !p.IsDefault {
		return nil
	}
	var others []schema.SLAPolicy
	if err := tx.NewSelect().Model(&others).Where("is_default AND id <> ?", p.ID).For("UPDATE").Scan(ctx); err != nil {
		return err
	}
	for i := range others {
		before := others[i]
		normalizeSLAPolicy(&before)
		after := before
		after.IsDefault, after.Version, after.UpdatedAt = false, before.Version+1, p.UpdatedAt
		if _, err := tx.NewUpdate().Model(&after).Column("is_default", "version", "updated_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		if err := audit(ctx, tx, actor, "sla_policy", after.ID, "update", before, after); err != nil {
			return err
		}
	}
	return nil
}

// lockSLADefault serialises the transactions that make a policy the default, so that two of
// them at once end with one default, not a unique-index conflict.
func lockSLADefault(ctx context.Context, tx bun.Tx) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('switchboard.sla_policies.default'))")
	return err
}

// slaWriteError names a duplicate name.
func slaWriteError(err error, p *schema.SLAPolicy) error {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) && pgErr.Field('C') == "23505" && strings.Contains(pgErr.Field('n'), "name") {
		return errConflict("an SLA policy named %q exists already", p.Name)
	}
	return err
}

func (s *Server) createSLAPolicy(c *fiber.Ctx) error {
	var in slaPolicyInput
	if err := decode(c, &in); err != nil {
		return err
	}
	rs, err := decodeSLARules(in.Rules)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	now := time.Now().UTC().Truncate(time.Microsecond)
	p := schema.SLAPolicy{ID: uuid.Must(uuid.NewV7()).String(), Rules: []schema.SLARule{},
		PauseStatuses: []string{schema.BaseStopped}, WarningMinutes: sla.DefaultWarning, Version: 1, CreatedAt: now, UpdatedAt: now}
	in.apply(&p, rs)
	normalizeSLAPolicy(&p)
	if err := s.checkSLAPolicy(ctx, &p, sla.AllChecks); err != nil {
		return err
	}
	if err := slaPolicies.create(ctx, s.db, principal(c).Person.ID, &p, "create"); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

var slaPolicies = &configResource[schema.SLAPolicy]{entity: "sla_policy", noun: "SLA policy",
	columns:    []string{"name", "is_default", "rules", "pause_statuses", "warning_minutes", "updated_at"},
	id:         func(p *schema.SLAPolicy) string { return p.ID },
	version:    func(p *schema.SLAPolicy) *int { return &p.Version },
	same:       func(a, b *schema.SLAPolicy) bool { return slaPolicyContent(a) == slaPolicyContent(b) },
	normalize:  normalizeSLAPolicy,
	writeError: func(p *schema.SLAPolicy, err error) error { return slaWriteError(err, p) },
	// The default is one policy: making one the default makes the others ordinary, in order.
	pre: func(ctx context.Context, tx bun.Tx, actor string, p, _ *schema.SLAPolicy) error {
		if !p.IsDefault {
			return nil
		}
		if err := lockSLADefault(ctx, tx); err != nil {
			return err
		}
		return unsetOtherDefaults(ctx, tx, actor, p)
	},
}

func (s *Server) loadSLAPolicy(ctx context.Context, id string) (*schema.SLAPolicy, error) {
	return slaPolicies.load(ctx, s.db, id)
}

func (s *Server) updateSLAPolicy(c *fiber.Ctx) error {
	var in slaPolicyInput
	if err := decode(c, &in); err != nil {
		return err
	}
	rs, err := decodeSLARules(in.Rules)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	before, err := s.loadSLAPolicy(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	p := *before
	p.Rules, p.PauseStatuses = slices.Clone(before.Rules), slices.Clone(before.PauseStatuses)
	in.apply(&p, rs)
	normalizeSLAPolicy(&p)
	if err := s.checkSLAPolicy(ctx, &p, slaChecksFor(&in)); err != nil {
		return err
	}
	p.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	out, err := slaPolicies.update(ctx, s.db, principal(c).Person.ID, &p, before, "update", nil)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// deleteSLAPolicy removes a policy. Tickets it was applied to keep their deadlines (and the
// policy's id in slaPolicyId); their workflows find no policy on the next recalculation.
func (s *Server) deleteSLAPolicy(c *fiber.Ctx) error {
	ctx := c.UserContext()
	before, err := s.loadSLAPolicy(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if err := slaPolicies.remove(ctx, s.db, principal(c).Person.ID, before, nil); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// listSLAPolicies lists policies oldest first (ids are time-ordered); q filters by name.
func (s *Server) listSLAPolicies(c *fiber.Ctx) error {
	return slaPolicies.list(c, s.db, configList[schema.SLAPolicy]{filter: func(c *fiber.Ctx, q *bun.SelectQuery) (*bun.SelectQuery, error) {
		return filters(c, q, nameFilter, boolFilter("isDefault", "is_default"))
	}})
}

// --- a ticket's SLA

type ticketSLA struct {
	State            string            `json:"state"`
	ResponseDue      *time.Time        `json:"responseDue"`
	SolutionDue      *time.Time        `json:"solutionDue"`
	IsPaused         bool              `json:"isPaused"`
	RealResponseDate *time.Time        `json:"realResponseDate"`
	PolicyID         *string           `json:"policyId"`
	ManualBy         *string           `json:"manualBy"`
	Events           []schema.SLAEvent `json:"events"`
}

func (s *Server) getTicketSLA(c *fiber.Ctx) error {
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	events := []schema.SLAEvent{}
	if err := s.db.NewSelect().Model(&events).Where("ticket_id = ?", t.ID).OrderExpr("id ASC").Scan(c.UserContext()); err != nil {
		return err
	}
	events = orEmptyOf(events)
	return c.JSON(ticketSLA{State: sla.State(t, sla.SolutionBreached(events), time.Now()), ResponseDue: t.SLAResponseDue,
		SolutionDue: t.SLASolutionDue, IsPaused: t.SLASolutionDueIsPaused, RealResponseDate: t.SLARealResponseDate,
		PolicyID: t.SLAPolicyID, ManualBy: t.SLAManualBy, Events: events})
}

// slaDueInput sets a ticket's deadlines by hand. Times are strings, so that a bad one is a 422
// naming its field.
type slaDueInput struct {
	ResponseDue *string `json:"responseDue"`
	SolutionDue *string `json:"solutionDue"`
	Reason      string  `json:"reason" validate:"max=2000"`
}

// parseManualDues checks a manual deadline: an RFC 3339 time, not before the ticket was created
// (a deadline already past is allowed: the ticket is overdue at once) and at most a year ahead.
func parseManualDues(in *slaDueInput, created, now time.Time) (response, solution *time.Time, err error) {
	if in.ResponseDue == nil && in.SolutionDue == nil {
		return nil, nil, errField("solutionDue", "give solutionDue, responseDue or both")
	}
	fields := map[string]string{}
	parse := func(name string, raw *string) *time.Time {
		if raw == nil {
			return nil
		}
		t, err := time.Parse(time.RFC3339, *raw)
		switch {
		case err != nil:
			fields[name] = "must be an RFC 3339 time such as 2026-11-21T09:00:00Z"
		case t.Before(created):
			fields[name] = "must not be before the ticket was created (" + created.UTC().Format(time.RFC3339) + ")"
		case t.After(now.Add(maxManualDueAhead)):
			fields[name] = "must be at most a year ahead"
		default:
			t = t.UTC().Truncate(time.Microsecond)
			return &t
		}
		return nil
	}
	response, solution = parse("responseDue", in.ResponseDue), parse("solutionDue", in.SolutionDue)
	if len(fields) > 0 {
		return nil, nil, errInvalid(fields)
	}
	return response, solution, nil
}

// checkDueOrder refuses a response deadline sent for after the solution deadline (the one sent,
// or the ticket's). A solution deadline sent alone is taken as it is: moving it earlier than the
// response deadline, even into the past to make a ticket overdue at once, is a supervisor's call.
func checkDueOrder(t *schema.Ticket, response, solution *time.Time) error {
	sol := solution
	if sol == nil {
		sol = t.SLASolutionDue
	}
	if response == nil || sol == nil || !response.After(*sol) {
		return nil
	}
	return errField("responseDue", "must not be after the solution deadline (%s); send an earlier responseDue or a later solutionDue",
		sol.UTC().Format(time.RFC3339))
}

func (s *Server) setTicketSLA(c *fiber.Ctx) error {
	var in slaDueInput
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	response, solution, err := parseManualDues(&in, t.CreatedAt, time.Now())
	if err != nil {
		return err
	}
	if err := checkDueOrder(t, response, solution); err != nil {
		return err
	}
	return s.update(c, t, workflows.UpdateSetSLADue, &workflows.SetSLADueInput{Actor: actor(c),
		ResponseDue: response, SolutionDue: solution, Reason: strings.TrimSpace(in.Reason)})
}
