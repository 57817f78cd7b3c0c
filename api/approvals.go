package api

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/switchboardhq/switchboard/activities"
	"github.com/switchboardhq/switchboard/approvals"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// Approval requests: started on a ticket (by hand here, or by a rule inside the ticket's
// workflow), listed as approvers' inboxes, decided through the request's workflow (the Decide
// update) by an approver, their substitute inside a delegation window, or a one-time link.
func (s *Server) approvalRoutes(r fiber.Router) {
	r.Post("/tickets/:id/approvals", requirePerm(PermTicketsWrite), staffOnly, s.requestApproval)
	r.Get("/tickets/:id/approvals", requirePerm(PermTicketsRead), s.listTicketApprovals)
	r.Get("/approvals", requirePerm(PermTicketsRead), s.listApprovals)
	r.Get("/approvals/:id", requirePerm(PermTicketsRead), s.getApproval)
	r.Post("/approvals/:id/decision", requirePerm(PermTicketsWrite), s.decideApproval)
	r.Post("/approval-delegations", requirePerm(PermTicketsWrite), staffOnly, s.createDelegation)
	r.Get("/approval-delegations", requirePerm(PermTicketsRead), staffOnly, s.listDelegations)
	r.Delete("/approval-delegations/:id", requirePerm(PermTicketsWrite), staffOnly, s.deleteDelegation)
}

type approvalStart struct {
	RuleID string `json:"ruleId" validate:"required,max=64"`
}

// requestApproval asks for an approval by a rule (enabled or "manual only"); a rule with a
// request still open on the ticket is a 409, a re-submission after an outcome a new request.
func (s *Server) requestApproval(c *fiber.Ctx) error {
	var in approvalStart
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	rule, err := s.loadApprovalRule(ctx, in.RuleID)
	if err != nil {
		if toAPIError(err).Status == fiber.StatusNotFound {
			return errField("ruleId", "no approval rule with id %s", in.RuleID)
		}
		return err
	}
	if !rule.Enabled {
		return errField("ruleId", "approval rule %q is disabled", rule.Name)
	}
	spec, err := approvals.Spec(ctx, s.db, *rule)
	if errors.Is(err, approvals.ErrStatusGone) {
		return errField("ruleId", "approval rule %q cannot be used: %v", rule.Name, err)
	}
	if err != nil {
		return err
	}
	var res workflows.RequestApprovalResult
	accepted, err := s.runUpdate(c, t, workflows.UpdateRequestApproval, &workflows.RequestApprovalInput{Actor: actor(c), Spec: spec}, &res)
	switch {
	case err != nil:
		return err
	case accepted != nil:
		return c.Status(fiber.StatusAccepted).JSON(accepted)
	}
	r, err := s.approvalNow(ctx, res.ApprovalID)
	if err != nil {
		return err
	}
	c.Location("/api/v1/approvals/" + r.ID)
	return c.Status(fiber.StatusCreated).JSON(approvalView(r))
}

// approvalNow is a request as its workflow holds it (the row may be a write behind), or as
// stored once the workflow has ended.
func (s *Server) approvalNow(ctx context.Context, id string) (*schema.ApprovalRequest, error) {
	v, err := s.temporal.QueryWorkflow(ctx, workflows.ApprovalWorkflowID(id), "", workflows.QueryState)
	if err == nil {
		var r schema.ApprovalRequest
		if err := v.Get(&r); err == nil && r.ID != "" {
			return &r, nil
		}
	}
	return s.loadApproval(ctx, id)
}

func (s *Server) loadApproval(ctx context.Context, id string) (*schema.ApprovalRequest, error) {
	return findOne[schema.ApprovalRequest](ctx, s.db, "id", id, "no approval request with id %s", id)
}

// approvalView answers arrays, never null.
func approvalView(r *schema.ApprovalRequest) *schema.ApprovalRequest {
	if r.Steps == nil {
		r.Steps = []schema.ApprovalStep{}
	}
	for i := range r.Steps {
		if r.Steps[i].RemindedAt == nil {
			r.Steps[i].RemindedAt = []time.Time{}
		}
	}
	return r
}

// canSeeApproval: staff see every request; a customer those they are asked by, or whose ticket
// they see.
func (s *Server) canSeeApproval(c *fiber.Ctx, r *schema.ApprovalRequest) error {
	p := principal(c)
	if !p.isCustomer() {
		return nil
	}
	for _, st := range r.Steps {
		if st.ApproverID == p.Person.ID {
			return nil
		}
	}
	var t schema.Ticket
	if err := s.db.NewSelect().Model(&t).Where("id = ?", r.TicketID).Scan(c.UserContext()); err != nil {
		return err
	}
	clients, err := s.visibleClients(c.UserContext(), p)
	if err != nil {
		return err
	}
	if !canSee(&t, clients) {
		return errNotFound("no approval request with id %s", r.ID)
	}
	return nil
}

func (s *Server) getApproval(c *fiber.Ctx) error {
	r, err := s.loadApproval(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	if err := s.canSeeApproval(c, r); err != nil {
		return err
	}
	return c.JSON(approvalView(r))
}

func (s *Server) listTicketApprovals(c *fiber.Ctx) error {
	t, err := s.loadTicket(c) // the ticket's visibility
	if err != nil {
		return err
	}
	rows, err := schema.TicketApprovals(c.UserContext(), s.db, t.ID)
	if err != nil {
		return err
	}
	for i := range rows {
		approvalView(&rows[i])
	}
	return c.JSON(page[schema.ApprovalRequest]{Data: rows})
}

// listApprovals is an inbox: ?approverId=me (or an id; staff only for others) and ?state=,
// newest first, paged by cursor. Staff's pending inbox includes the requests any agent may
// decide (the wildcard).
func (s *Server) listApprovals(c *fiber.Ctx) error {
	limit, cur, err := pageParams(c)
	if err != nil {
		return err
	}
	p := principal(c)
	q := s.db.NewSelect().Model((*schema.ApprovalRequest)(nil)).OrderExpr("created_at DESC, id DESC").Limit(int64(limit + 1))
	approver := c.Query("approverId")
	if approver == "me" {
		approver = p.Person.ID
	}
	if p.isCustomer() {
		if approver != p.Person.ID {
			return errField("approverId", "customers list only their own approvals: approverId=me")
		}
	}
	state := c.Query("state")
	if state != "" && !contains([]string{schema.ApprovalPending, schema.ApprovalApproved, schema.ApprovalRejected,
		schema.ApprovalExpired, schema.ApprovalCanceled}, state) {
		return errField("state", "must be one of: pending, approved, rejected, expired, canceled")
	}
	if state != "" {
		q = q.Where("state = ?", state)
	}
	if approver != "" {
		mine := []string{approver}
		if !p.isCustomer() && approver == p.Person.ID {
			mine = append(mine, schema.WildcardApprover)
		}
		if state == schema.ApprovalPending {
			q = q.Where("pending && ?", pgArray(mine))
		} else {
			q = q.Where("(pending && ? OR steps @> ?::jsonb)", pgArray(mine), `[{"approverId":`+quoteJSON(approver)+`}]`)
		}
	}
	if v := c.Query("ticketId"); v != "" {
		q = q.Where("ticket_id::text = ?", v)
	}
	if q, err = olderThanCursor(q, cur); err != nil {
		return err
	}
	rows := []schema.ApprovalRequest{}
	if err := q.Scan(c.UserContext(), &rows); err != nil {
		return err
	}
	out := makePage(rows, limit, func(r schema.ApprovalRequest) cursor {
		return cursor{Value: r.CreatedAt.UTC().Format(time.RFC3339Nano), ID: r.ID}
	})
	for i := range out.Data {
		approvalView(&out.Data[i])
	}
	return c.JSON(out)
}

type decisionInput struct {
	Decision string `json:"decision" validate:"required,oneof=approve reject"`
	Comment  string `json:"comment" validate:"max=5000"`
}

// decideApproval sends the caller's decision to the request's workflow, naming the delegations
// the caller holds; the workflow decides whether the caller may decide now.
func (s *Server) decideApproval(c *fiber.Ctx) error {
	var in decisionInput
	if err := decode(c, &in); err != nil {
		return err
	}
	r, err := s.loadApproval(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	if err := s.canSeeApproval(c, r); err != nil {
		return err
	}
	arg := &workflows.DecideInput{Actor: actor(c), Decision: in.Decision, Comment: in.Comment}
	if arg.For, err = s.delegationsTo(c.UserContext(), arg.Actor.ID); err != nil {
		return err
	}
	out, accepted, err := s.sendDecision(c, r, arg)
	switch {
	case err != nil:
		return err
	case accepted != nil:
		return c.Status(fiber.StatusAccepted).JSON(accepted)
	}
	return c.JSON(approvalView(out))
}

// decisionAccepted is the 202 answer: the decision passed the workflow's validator and will be
// stored, but was still being written (PostgreSQL slow or locked) when the API stopped waiting.
type decisionAccepted struct {
	ApprovalID string `json:"approvalId"`
	UpdateID   string `json:"updateId"`
	Status     string `json:"status"`
	Message    string `json:"message"`
}

// sendDecision runs the Decide update: once accepted, its outcome is awaited until the update
// timeout, and an outcome not seen by then is the 202 (the decision lands), never a 5xx. A
// request whose workflow has ended is a 409 with its state.
func (s *Server) sendDecision(c *fiber.Ctx, r *schema.ApprovalRequest, arg *workflows.DecideInput) (*schema.ApprovalRequest, *decisionAccepted, error) {
	ctx, cancel := s.updateContext(c, arg)
	defer cancel()
	id := s.updateID(c)
	if id == "" {
		id = uuid.NewString()
	}
	h, err := s.sendUpdate(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.ApprovalWorkflowID(r.ID),
		UpdateName: workflows.UpdateDecide, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageAccepted, UpdateID: id})
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil, nil, errConflict("approval %s is %s: it takes no more decisions", r.ID, r.State)
	}
	if err != nil {
		return nil, nil, err
	}
	var out schema.ApprovalRequest
	err = h.Get(ctx, &out)
	switch {
	case err == nil:
		return &out, nil, nil
	case updateRefused(err):
		return nil, nil, err
	}
	s.log.Warn("decision accepted but not completed in time; answered 202", "approval", r.ID, "update", id, "err", err)
	return nil, &decisionAccepted{ApprovalID: r.ID, UpdateID: id, Status: "accepted",
		Message: "the decision is accepted and will be stored; reload the approval to see it"}, nil
}

// delegationsTo are the windows in which person may decide for someone else (direct
// delegations only: a substitute's own substitute never decides).
func (s *Server) delegationsTo(ctx context.Context, person string) ([]workflows.Delegation, error) {
	var rows []schema.ApprovalDelegation
	err := s.db.NewSelect().Model(&rows).Where("substitute_id = ? AND ends_at > now() - interval '1 minute'", person).Scan(ctx)
	out := []workflows.Delegation{}
	for _, d := range rows {
		out = append(out, workflows.Delegation{PersonID: d.PersonID, From: d.StartsAt, Until: d.EndsAt})
	}
	return out, err
}

// --- delegations

type delegationInput struct {
	PersonID     string    `json:"personId" validate:"max=64"`
	SubstituteID string    `json:"substituteId" validate:"required,max=64"`
	StartsAt     time.Time `json:"startsAt" validate:"required"`
	EndsAt       time.Time `json:"endsAt" validate:"required"`
}

// createDelegation names a substitute for a window (the caller's own; admins' for anyone). A
// substitute who has delegated away themselves is refused: delegation never chains.
func (s *Server) createDelegation(c *fiber.Ctx) error {
	var in delegationInput
	if err := decode(c, &in); err != nil {
		return err
	}
	p := principal(c)
	if in.PersonID == "" {
		in.PersonID = p.Person.ID
	}
	if in.PersonID != p.Person.ID && p.Person.Role != schema.RoleAdmin {
		return errForbidden("only admins name substitutes for someone else")
	}
	fields := map[string]string{}
	switch {
	case !in.EndsAt.After(in.StartsAt):
		fields["endsAt"] = "must be after startsAt"
	case in.EndsAt.Sub(in.StartsAt) > 366*24*time.Hour:
		fields["endsAt"] = "a delegation lasts at most 366 days"
	}
	if in.SubstituteID == in.PersonID {
		fields["substituteId"] = "must be someone else"
	} else if msg := s.checkRef(c.UserContext(), in.SubstituteID, "person"); msg != "" {
		fields["substituteId"] = msg
	}
	if msg := s.checkRef(c.UserContext(), in.PersonID, "person"); msg != "" {
		fields["personId"] = msg
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	var chained bool
	err := s.db.NewRaw(`SELECT EXISTS (SELECT 1 FROM approval_delegations WHERE (person_id = ? OR substitute_id = ?)
		AND starts_at < ? AND ends_at > ?)`, in.SubstituteID, in.PersonID, in.EndsAt, in.StartsAt).Scan(c.UserContext(), &chained)
	if err != nil {
		return err
	}
	if chained {
		return errField("substituteId", "delegations never chain: %s delegates in that window, or %s substitutes for someone", in.SubstituteID, in.PersonID)
	}
	d := schema.ApprovalDelegation{ID: uuid.Must(uuid.NewV7()).String(), PersonID: in.PersonID, SubstituteID: in.SubstituteID,
		StartsAt: in.StartsAt.UTC(), EndsAt: in.EndsAt.UTC(), CreatedAt: time.Now().UTC()}
	if _, err := s.db.NewInsert().Model(&d).Exec(c.UserContext()); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(d)
}

func (s *Server) listDelegations(c *fiber.Ctx) error {
	p := principal(c)
	rows := []schema.ApprovalDelegation{}
	q := s.db.NewSelect().Model(&rows).OrderExpr("starts_at, id").Limit(1000)
	if p.Person.Role != schema.RoleAdmin {
		q = q.Where("person_id = ? OR substitute_id = ?", p.Person.ID, p.Person.ID)
	}
	if err := q.Scan(c.UserContext()); err != nil {
		return err
	}
	return c.JSON(page[schema.ApprovalDelegation]{Data: rows})
}

func (s *Server) deleteDelegation(c *fiber.Ctx) error {
	p := principal(c)
	q := s.db.NewDelete().Model((*schema.ApprovalDelegation)(nil)).Where("id = ?", c.Params("id"))
	if p.Person.Role != schema.RoleAdmin {
		q = q.Where("person_id = ?", p.Person.ID)
	}
	res, err := q.Exec(c.UserContext())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound("no delegation %s of yours", c.Params("id"))
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// --- one-time links (no session)

func (s *Server) approvalLinkRoutes(app *fiber.App) {
	g := app.Group("/approval-links", s.limitAuthFailures)
	g.Get("/:token", s.getApprovalLink)
	g.Post("/:token", s.useApprovalLink)
}

type approvalLinkView struct {
	ApprovalID    string     `json:"approvalId"`
	TicketID      int64      `json:"ticketId"`
	TicketSubject string     `json:"ticketSubject"`
	RuleName      string     `json:"ruleName"`
	ApproverID    string     `json:"approverId"`
	State         string     `json:"state"`
	ExpiresAt     time.Time  `json:"expiresAt"`
	UsedAt        *time.Time `json:"usedAt"`
}

// link finds a link by its token: unknown is a 401 (counted against the address, like a bad
// token).
func (s *Server) link(c *fiber.Ctx) (*schema.ApprovalLink, error) {
	var l schema.ApprovalLink
	err := s.db.NewSelect().Model(&l).Where("token_hash = ?", activities.LinkHash(c.Params("token"))).Scan(c.UserContext())
	if isNoRows(err) {
		return nil, errUnauthorized("this approval link is not valid")
	}
	return &l, err
}

func (s *Server) getApprovalLink(c *fiber.Ctx) error {
	l, err := s.link(c)
	if err != nil {
		return err
	}
	r, err := s.loadApproval(c.UserContext(), l.RequestID)
	if err != nil {
		return err
	}
	var subject string
	if err := s.db.NewRaw("SELECT subject FROM tickets WHERE id = ?", r.TicketID).Scan(c.UserContext(), &subject); err != nil {
		return err
	}
	return c.JSON(approvalLinkView{ApprovalID: r.ID, TicketID: r.TicketID, TicketSubject: subject, RuleName: r.RuleName,
		ApproverID: l.ApproverID, State: r.State, ExpiresAt: l.ExpiresAt, UsedAt: l.UsedAt})
}

// useApprovalLink decides once through the link: it is claimed first (a second use is a 409)
// and given back when the decision was not taken (a refused comment, an unreachable service).
func (s *Server) useApprovalLink(c *fiber.Ctx) error {
	var in decisionInput
	if err := decode(c, &in); err != nil {
		return err
	}
	l, err := s.link(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	res, err := s.db.NewUpdate().Model((*schema.ApprovalLink)(nil)).Set("used_at = now()").
		Where("token_hash = ? AND used_at IS NULL AND expires_at > now()", l.TokenHash).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if l.UsedAt != nil || time.Now().Before(l.ExpiresAt) {
			return errConflict("this approval link was used already; links decide once")
		}
		return errConflict("this approval link expired at %s", l.ExpiresAt.UTC().Format(time.RFC3339))
	}
	r, err := s.loadApproval(ctx, l.RequestID)
	var out *schema.ApprovalRequest
	var accepted *decisionAccepted
	if err == nil {
		var role string
		if err = s.db.NewRaw("SELECT role FROM persons WHERE id = ?", l.ApproverID).Scan(ctx, &role); err == nil {
			arg := &workflows.DecideInput{Actor: workflows.Actor{ID: l.ApproverID, Role: role}, Decision: in.Decision,
				Comment: in.Comment, ViaLink: true}
			out, accepted, err = s.sendDecision(c, r, arg)
		}
	}
	if err != nil {
		// Not decided: the link stays usable.
		release := context.WithoutCancel(ctx)
		if _, rerr := s.db.NewUpdate().Model((*schema.ApprovalLink)(nil)).Set("used_at = NULL").
			Where("token_hash = ?", l.TokenHash).Exec(release); rerr != nil {
			s.log.Warn("approval link not released", "err", rerr)
		}
		return err
	}
	if accepted != nil { // taken: the link stays used
		return c.Status(fiber.StatusAccepted).JSON(accepted)
	}
	return c.JSON(approvalView(out))
}

// approversChanged tells every open request waiting for person that they changed (deactivated,
// another job role or team), so each checks its approvers again. A signal that cannot be sent
// is logged; the request goes on with its reminders and expiry.
func (s *Server) approversChanged(ctx context.Context, person string) {
	var ids []string
	err := s.db.NewRaw("SELECT id FROM approval_requests WHERE state = 'pending' AND ? = ANY(pending)", person).Scan(ctx, &ids)
	if err != nil && !isNoRows(err) {
		s.log.Warn("approvals of a changed person not found", "person", person, "err", err)
		return
	}
	for _, id := range ids {
		err := s.temporal.SignalWorkflow(ctx, workflows.ApprovalWorkflowID(id), "", workflows.SignalApproversChanged,
			workflows.ApproversChanged{PersonID: person})
		var nf *serviceerror.NotFound
		if err != nil && !errors.As(err, &nf) {
			s.log.Warn("approval not told of a changed approver", "approval", id, "person", person, "err", err)
		}
	}
}
