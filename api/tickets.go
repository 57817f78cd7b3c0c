package api

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/sla"
	"github.com/switchboardhq/switchboard/workflows"
)

func (s *Server) ticketRoutes(r fiber.Router) {
	r.Post("/tickets", requirePerm(PermTicketsWrite), s.createTicket)
	r.Get("/tickets", requirePerm(PermTicketsRead), s.listTickets)
	r.Get("/tickets/:id", requirePerm(PermTicketsRead), s.getTicket)
	r.Patch("/tickets/:id", requirePerm(PermTicketsWrite), staffOnly, s.patchTicket)
	r.Post("/tickets/:id/assign", requirePerm(PermTicketsWrite), staffOnly, s.assignTicket)
	r.Post("/tickets/:id/accept", requirePerm(PermTicketsWrite), staffOnly, s.acceptTicket)
	r.Post("/tickets/:id/status", requirePerm(PermTicketsWrite), staffOnly, s.changeTicketStatus)
	r.Post("/tickets/:id/actions", requirePerm(PermTicketsWrite), s.addTicketAction)
	r.Post("/tickets/:id/reopen", requirePerm(PermTicketsWrite), s.reopenTicket)
	s.messageRoutes(r)
	s.videoSessionRoutes(r)
}

func staffOnly(c *fiber.Ctx) error {
	if principal(c).isCustomer() {
		if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
			return errForbidden("customers cannot read this")
		}
		return errForbidden("customers cannot make this change")
	}
	return c.Next()
}

// --- responses

type workflowRef struct {
	ID    string `json:"id"`
	RunID string `json:"runId"`
	UIURL string `json:"uiUrl"`
}

type statusEntry struct {
	schema.StatusChange
	SecondsSpent int64 `json:"secondsSpent"`
}

type ownerEntry struct {
	schema.OwnerChange
	SecondsSpent int64 `json:"secondsSpent"`
}

type ticketSummary struct {
	schema.Ticket
	// Version and Workflow are staff facts (see forCustomer); they shadow the ticket's own
	// `version` in JSON so that customers' answers can leave them out.
	Version  *int64       `json:"version,omitempty"`
	Workflow *workflowRef `json:"workflow,omitempty"`
	// Overdue: open, not paused, and an SLA deadline still to meet has passed (see sla.go).
	Overdue bool `json:"overdue"`
}

// summary is a ticket as staff see it in lists and answers.
func (s *Server) summary(t schema.Ticket, now time.Time) ticketSummary {
	version, ref := t.Seq, s.workflowRef(&t)
	return ticketSummary{Ticket: t, Version: &version, Workflow: &ref, Overdue: sla.Overdue(&t, now)}
}

// forCustomer cuts a ticket down to what its customers may see. Nothing in it may reveal an
// internal note: not the action count, not a version that rises with every note, not the
// numbering of actions, not the workflow (whose history holds every note). publicActions is
// the number of public actions.
func (v *ticketSummary) forCustomer(publicActions int) {
	v.Version, v.Workflow, v.ActionCount = nil, nil, publicActions
}

// forCustomer also numbers the public actions 1, 2, 3... in order and leaves out status
// justifications, which are the agents' reasons.
func (v *ticketView) forCustomer() {
	v.ticketSummary.forCustomer(len(v.Actions))
	for i := range v.Actions {
		v.Actions[i].ID = i + 1
	}
	for i := range v.StatusHistory {
		v.StatusHistory[i].Justification = ""
	}
}

type ticketView struct {
	ticketSummary
	Actions       []schema.Action `json:"actions"`
	StatusHistory []statusEntry   `json:"statusHistory"`
	OwnerHistory  []ownerEntry    `json:"ownerHistory"`
	// Messenger is what the ticket's messenger offers the reader (GET /tickets/{id} only).
	Messenger *messengerView `json:"messenger,omitempty"`
	// WhatsAppWindowEndsAt: GET /tickets/{id} of a WhatsApp chat ticket (nil: the contact
	// never wrote; absent for other tickets).
	WhatsAppWindowEndsAt **time.Time `json:"whatsappWindowEndsAt,omitempty"`
	// Approvals are the ticket's approval requests, oldest first (GET /tickets/{id}, staff).
	Approvals *[]schema.ApprovalRequest `json:"approvals,omitempty"`
}

type messengerView struct {
	Capabilities capabilities `json:"capabilities"`
}

func (s *Server) workflowRef(t *schema.Ticket) workflowRef {
	return s.workflowLink(workflows.TicketWorkflowID(t.ID), t.RunID)
}

// workflowLink points into the Temporal UI: at the run when it is known, else at the workflow.
func (s *Server) workflowLink(id, runID string) workflowRef {
	ref := workflowRef{ID: id, RunID: runID}
	ref.UIURL = fmt.Sprintf("%s/namespaces/%s/workflows/%s", strings.TrimRight(s.cfg.TemporalUIURL, "/"),
		url.PathEscape(s.cfg.Namespace), url.PathEscape(id))
	if runID != "" {
		ref.UIURL += "/" + runID + "/history"
	}
	return ref
}

// spent is the time spent in a history entry, up to now for the open one.
func spent(start time.Time, end *time.Time) int64 {
	if end != nil {
		return int64(end.Sub(start).Seconds())
	}
	return int64(time.Since(start).Seconds())
}

// view is a ticket with its timeline as staff see it; customerView as its customers do.
func (s *Server) view(d *schema.TicketDetail) ticketView {
	v := ticketView{ticketSummary: s.summary(d.Ticket, time.Now()),
		Actions: orEmptyOf(d.Actions), StatusHistory: []statusEntry{}, OwnerHistory: []ownerEntry{}}
	for i := range v.Actions {
		a := &v.Actions[i]
		if a.HTML == "" { // written before messages were rendered at send
			a.HTML = renderBody(a.Body)
		}
		if a.Attachments == nil {
			a.Attachments = []schema.AttachmentRef{}
		}
		if a.Kind == "" {
			a.Kind = schema.KindText
		}
	}
	for _, h := range d.StatusHistory {
		v.StatusHistory = append(v.StatusHistory, statusEntry{h, spent(h.StartedAt, h.EndedAt)})
	}
	for _, h := range d.OwnerHistory {
		v.OwnerHistory = append(v.OwnerHistory, ownerEntry{h, spent(h.StartedAt, h.EndedAt)})
	}
	return v
}

// viewFor is view, cut down for a customer. d's actions must be public ones only for them.
func (s *Server) viewFor(p *Principal, d *schema.TicketDetail) ticketView {
	v := s.view(d)
	if p.isCustomer() {
		v.Actions = publicOnly(v.Actions)
		v.forCustomer()
	}
	return v
}

func orEmptyOf[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// respondTicket answers with the ticket as stored, as the principal may see it.
func (s *Server) respondTicket(c *fiber.Ctx, id int64, status int) error {
	p := principal(c)
	d, err := schema.LoadTicket(c.UserContext(), s.db, id, p.isCustomer())
	if err != nil {
		return err
	}
	return c.Status(status).JSON(s.viewFor(p, d))
}

// --- visibility

// visibleClients is the set of client ids whose tickets a customer sees: themselves and, when
// allowed, their organization and its members. It is nil for staff, who see every ticket.
func (s *Server) visibleClients(ctx context.Context, p *Principal) ([]string, error) {
	if !p.isCustomer() {
		return nil, nil
	}
	ids := []string{p.Person.ID}
	if org := p.Person.OrganizationID; org != nil && p.Person.SeesOrgTickets {
		var members []string
		err := s.db.NewSelect().Model((*schema.Person)(nil)).Column("id").Where("organization_id = ?", *org).Scan(ctx, &members)
		if err != nil {
			return nil, err
		}
		ids = append(append(ids, *org), members...)
	}
	return ids, nil
}

func canSee(t *schema.Ticket, clients []string) bool {
	if clients == nil {
		return true
	}
	if t.Type == "internal" {
		return false
	}
	for _, c := range t.ClientIDs {
		if contains(clients, c) {
			return true
		}
	}
	return false
}

func ticketID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound("no ticket %q: ticket ids are positive integers", c.Params("id"))
	}
	return id, nil
}

// loadTicket reads the ticket row the request names, as a 404 when the principal may not see it
// (a customer learns nothing of other customers' tickets).
func (s *Server) loadTicket(c *fiber.Ctx) (*schema.Ticket, error) {
	id, err := ticketID(c)
	if err != nil {
		return nil, err
	}
	ctx := c.UserContext()
	t, err := findOne[schema.Ticket](ctx, s.db, "id", id, "no ticket %d", id)
	if err != nil {
		return nil, err
	}
	clients, err := s.visibleClients(ctx, principal(c))
	if err != nil {
		return nil, err
	}
	if !canSee(t, clients) {
		return nil, errNotFound("no ticket %d", id)
	}
	return t, nil
}

func (s *Server) getTicket(c *fiber.Ctx) error {
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	p := principal(c)
	d, err := schema.LoadTicket(c.UserContext(), s.db, t.ID, p.isCustomer())
	if err != nil {
		return err
	}
	cp, err := s.messengerCapabilities(c, &d.Ticket)
	if err != nil {
		return err
	}
	v := s.viewFor(p, d)
	v.Messenger = &messengerView{Capabilities: cp}
	contact, ends, err := s.whatsappContactOf(c.UserContext(), t.ID)
	if err != nil {
		return err
	}
	if contact != "" {
		v.WhatsAppWindowEndsAt = &ends
	}
	if !p.isCustomer() {
		reqs, err := schema.TicketApprovals(c.UserContext(), s.db, t.ID)
		if err != nil {
			return err
		}
		for i := range reqs {
			approvalView(&reqs[i])
		}
		v.Approvals = &reqs
	}
	return c.JSON(v)
}

func actor(c *fiber.Ctx) workflows.Actor {
	p := principal(c)
	return workflows.Actor{ID: p.Person.ID, Role: p.Person.Role}
}

// --- create

type ticketCreate struct {
	Type         string         `json:"type" validate:"omitempty,oneof=public internal"`
	Subject      string         `json:"subject" validate:"required,notblank,max=255"`
	Description  string         `json:"description" validate:"max=65536"`
	Category     string         `json:"category" validate:"max=100"`
	Urgency      string         `json:"urgency" validate:"max=60"`
	Status       string         `json:"status" validate:"max=60"`
	Origin       int            `json:"origin"`
	OwnerID      *string        `json:"ownerId" validate:"omitnil,max=64"`
	TeamID       *string        `json:"teamId" validate:"omitnil,max=64"`
	ClientIDs    []string       `json:"clientIds" validate:"max=50,dive,max=64"`
	Tags         []string       `json:"tags" validate:"max=50,dive,notblank,max=50"`
	CustomFields map[string]any `json:"customFields" validate:"max=100"`
}

func (s *Server) createTicket(c *fiber.Ctx) error {
	var in ticketCreate
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.UserContext()
	p := principal(c)
	nt, err := s.resolveCreate(ctx, p, &in)
	if err != nil {
		return err
	}
	if err := s.enforceForm(c, formChange{Create: nt}); err != nil {
		return err
	}
	var configGen int64
	if nt.ID, configGen, err = schema.ReserveTicket(ctx, s.db); err != nil {
		return err
	}
	// Microseconds: what PostgreSQL keeps, so the row the API writes and the one the workflow
	// writes are the same.
	nt.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	st, wr := workflows.NewTicket(*nt)
	run, err := workflows.StartTicket(ctx, s.temporal, s.cfg.TaskQueue, workflows.TicketInput{State: st, Pending: &wr,
		AutoCloseAfter: s.cfg.AutoCloseAfter, Creator: actor(c), ConfigGeneration: configGen})
	if err != nil {
		return err
	}
	// The workflow exists now and persists the same write itself; writing it here as well gives
	// the client read-your-writes at once. Whichever lands second is a no-op.
	wr.Ticket.RunID = run.GetRunID()
	if _, err := schema.SaveTicket(ctx, s.db, wr); err != nil {
		s.log.Warn("ticket row left to its workflow", "ticket", nt.ID, "err", err)
	}
	d := &schema.TicketDetail{Ticket: wr.Ticket, Actions: wr.Actions, StatusHistory: wr.Statuses, OwnerHistory: wr.Owners}
	return c.Status(fiber.StatusCreated).JSON(s.viewFor(p, d))
}

func publicOnly(actions []schema.Action) []schema.Action {
	out := []schema.Action{}
	for _, a := range actions {
		if a.Type == "public" {
			out = append(out, a)
		}
	}
	return out
}

// resolveCreate checks a new ticket against configuration and people, filling the defaults.
// Customers open public tickets for themselves and set nothing that is the agents' to decide.
func (s *Server) resolveCreate(ctx context.Context, p *Principal, in *ticketCreate) (*workflows.CreateTicket, error) {
	nt := &workflows.CreateTicket{Type: in.Type, Subject: strings.TrimSpace(in.Subject), Description: in.Description,
		Category: in.Category, Urgency: in.Urgency, Status: in.Status, Origin: in.Origin, OwnerID: in.OwnerID,
		TeamID: in.TeamID, ClientIDs: uniq(in.ClientIDs), Tags: uniq(in.Tags), CustomFields: in.CustomFields,
		CreatedBy: p.Person.ID}
	if nt.Type == "" {
		nt.Type = "public"
	}
	if p.isCustomer() {
		fields := map[string]string{}
		// Tags and urgency are the agents' to decide: triggers and SLA rules trust them.
		for name, set := range map[string]bool{"ownerId": in.OwnerID != nil, "teamId": in.TeamID != nil,
			"status": in.Status != "", "origin": in.Origin != 0, "clientIds": len(in.ClientIDs) > 0,
			"tags": len(in.Tags) > 0, "urgency": in.Urgency != ""} {
			if set {
				fields[name] = "customers cannot set this field"
			}
		}
		if nt.Type != "public" {
			fields["type"] = "customers can only open public tickets"
		}
		if err := s.customerCustomFields(ctx, in.CustomFields, fields); err != nil {
			return nil, err
		}
		if len(fields) > 0 {
			return nil, errInvalid(fields)
		}
		nt.ClientIDs, nt.Origin = []string{p.Person.ID}, schema.OriginWebCustomer
	}
	if nt.Origin == 0 {
		nt.Origin = schema.OriginAPI
	}
	if nt.Status == "" {
		nt.Status = schema.BaseNew
	}
	fields := map[string]string{}
	if !contains(schema.Origins, nt.Origin) {
		fields["origin"] = fmt.Sprintf("unknown origin %d; allowed: %v", nt.Origin, schema.Origins)
	}
	if nt.Urgency != "" && !contains(s.cfg.Urgencies, nt.Urgency) {
		fields["urgency"] = "must be one of: " + strings.Join(s.cfg.Urgencies, ", ")
	}
	st, err := s.loadStatus(ctx, nt.Status)
	switch {
	case err != nil && toAPIError(err).Status == fiber.StatusNotFound:
		fields["status"] = fmt.Sprintf("no status named %q", nt.Status)
	case err != nil:
		return nil, err
	case !st.IsActive:
		fields["status"] = fmt.Sprintf("status %q is deactivated", nt.Status)
	case workflows.IsTerminal(st.BaseStatus):
		fields["status"] = "a ticket cannot be created closed or canceled"
	default:
		nt.BaseStatus = st.BaseStatus
	}
	if err := s.checkClients(ctx, nt.ClientIDs, fields); err != nil {
		return nil, err
	}
	if err := s.checkOwnerTeam(ctx, nt.OwnerID, nt.TeamID, fields); err != nil {
		return nil, err
	}
	if len(fields) > 0 {
		return nil, errInvalid(fields)
	}
	nt.OwnerID, nt.TeamID = nilIfEmptyPtr(nt.OwnerID), nilIfEmptyPtr(nt.TeamID)
	return nt, nil
}

// customerCustomFields refuses the custom fields a customer may not set: those without a
// definition (free-form keys are for agents and integrations). Defined fields are then held to
// the form's layout for a customer (enforceForm), so an admin keeps a field from customers with
// a display rule on actor.kind == "customer" that hides it or makes it read-only.
func (s *Server) customerCustomFields(ctx context.Context, sent map[string]any, fields map[string]string) error {
	if len(sent) == 0 {
		return nil
	}
	cfg, err := s.formConfig(ctx)
	if err != nil {
		return err
	}
	for key := range sent {
		if !cfg.Defines(key) {
			fields["customFields."+key] = "customers can set only the custom fields defined for the ticket form"
		}
	}
	return nil
}

func nilIfEmptyPtr(s *string) *string {
	if s == nil {
		return nil
	}
	return nilIfEmpty(*s)
}

// checkClients records in fields every client id that is not an active person or organization.
func (s *Server) checkClients(ctx context.Context, ids []string, fields map[string]string) error {
	if len(ids) == 0 {
		return nil
	}
	var found []schema.Person
	if err := s.db.NewSelect().Model(&found).Column("id", "kind", "is_active").Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return err
	}
	for i, id := range ids {
		key := "clientIds[" + itoa(i) + "]"
		var p *schema.Person
		for j := range found {
			if found[j].ID == id {
				p = &found[j]
			}
		}
		switch {
		case p == nil:
			fields[key] = "no person with id " + id
		case !p.IsActive:
			fields[key] = "person " + id + " is deactivated"
		case p.Kind == "department":
			fields[key] = "a department cannot be a client"
		}
	}
	return nil
}

// checkOwnerTeam records in fields what is wrong with an owner and team: the owner must be an
// active agent, the team active, and the owner a member of the team when both are given. An
// empty string means "none".
func (s *Server) checkOwnerTeam(ctx context.Context, owner, team *string, fields map[string]string) error {
	if owner != nil && *owner != "" {
		if err := s.checkAgents(ctx, "ownerId", []string{*owner}); err != nil {
			e := toAPIError(err)
			if e.Fields == nil {
				return err
			}
			fields["ownerId"] = e.Fields["ownerId[0]"]
		}
	}
	if team == nil || *team == "" {
		return nil
	}
	t, err := s.loadTeam(ctx, *team)
	switch {
	case err != nil && toAPIError(err).Status == fiber.StatusNotFound:
		fields["teamId"] = "no team with id " + *team
	case err != nil:
		return err
	case !t.IsActive:
		fields["teamId"] = "team " + *team + " is deactivated"
	case owner != nil && *owner != "" && fields["ownerId"] == "" && !contains(t.MemberIDs, *owner):
		fields["ownerId"] = fmt.Sprintf("agent %s is not a member of team %s", *owner, t.Name)
	}
	return nil
}

// --- changes through the ticket workflow

// update sends a change to the ticket's workflow and answers with the ticket afterwards. A
// rejected change maps to 409 or 422 and leaves no trace in the workflow's history.
func (s *Server) update(c *fiber.Ctx, t *schema.Ticket, name string, arg workflows.UpdateArg) error {
	accepted, err := s.runUpdate(c, t, name, arg, nil)
	switch {
	case err != nil:
		return err
	case accepted != nil:
		return c.Status(fiber.StatusAccepted).JSON(accepted)
	}
	return s.respondTicket(c, t.ID, fiber.StatusOK)
}

// defaultUpdateID names an update sent without an Idempotency-Key: a message's sender and
// client id (so a resend joins the first send) or one id for every try of this request.
func (s *Server) defaultUpdateID(arg workflows.UpdateArg) string {
	if in, ok := arg.(*workflows.AddActionInput); ok && in.ClientID != nil {
		return "message/" + in.Actor.ID + "/" + *in.ClientID
	}
	return uuid.NewString()
}

// sendUpdate sends the update until it is accepted or refused.
func (s *Server) sendUpdate(ctx context.Context, opts client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	for {
		h, err := s.temporal.UpdateWorkflow(ctx, opts)
		if err == nil {
			return h, nil
		}
		if !abortedByTaskFailure(err) || ctx.Err() != nil {
			return nil, err
		}
		// The workflow task that carried the update failed (e.g. the run completed just as a
		// signal arrived, which the server refuses): the update was aborted, not applied. Send
		// it again under the same id; the retried task takes it.
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// abortedByTaskFailure: Temporal aborted the update because the workflow task that held it
// failed; the update left no trace and may be sent again.
func abortedByTaskFailure(err error) bool {
	return strings.Contains(err.Error(), "unexpected workflow task failure")
}

// updateContext bounds a ticket update by UpdateTimeout and gives the update a deadline for its
// acceptance, a fifth of the timeout earlier (for the trip back and clock skew between this host
// and Temporal's): an update still not accepted when this API gives up (5xx) is refused by its
// validator whenever it runs, so a 5xx never describes a change that lands later.
func (s *Server) updateContext(c *fiber.Ctx, arg workflows.UpdateArg) (context.Context, context.CancelFunc) {
	now := time.Now()
	arg.SetAcceptBy(now.Add(s.cfg.UpdateTimeout * 4 / 5))
	return context.WithDeadline(c.UserContext(), now.Add(s.cfg.UpdateTimeout))
}

// updateAccepted is the 202 answer: the change passed the workflow's validator and will land,
// but was still being written (PostgreSQL slow or locked) when the API stopped waiting.
type updateAccepted struct {
	TicketID int64  `json:"ticketId"`
	UpdateID string `json:"updateId"`
	Status   string `json:"status"`
	Message  string `json:"message"`
}

// finishUpdate answers an accepted update's outcome (awaitUpdate) with the ticket.
func (s *Server) finishUpdate(ctx context.Context, c *fiber.Ctx, id int64, h client.WorkflowUpdateHandle) error {
	accepted, err := s.awaitUpdate(ctx, id, h, nil)
	switch {
	case err != nil:
		return err
	case accepted != nil:
		return c.Status(fiber.StatusAccepted).JSON(accepted)
	}
	return s.respondTicket(c, id, fiber.StatusOK)
}

// awaitUpdate waits for an accepted update's outcome until ctx ends. The change's own failure
// (refused under the workflow's lock) is the answer; any other error only means the outcome was
// not seen in time: the change is accepted and lands, so the answer is 202, never a 5xx.
func (s *Server) awaitUpdate(ctx context.Context, id int64, h client.WorkflowUpdateHandle, out any) (*updateAccepted, error) {
	err := h.Get(ctx, out)
	switch {
	case err == nil:
		return nil, nil
	case updateRefused(err):
		return nil, err
	}
	s.log.Warn("update accepted but not completed in time; answered 202", "ticket", id, "update", h.UpdateID(), "err", err)
	return &updateAccepted{TicketID: id, UpdateID: h.UpdateID(), Status: "accepted",
		Message: "the change is accepted and will be stored; reload the ticket to see it"}, nil
}

// updateRefused: an accepted update's own failure (refused under the workflow's lock), as
// opposed to its outcome not being seen in time.
func updateRefused(err error) bool {
	var appErr *temporal.ApplicationError
	var canceled *temporal.CanceledError
	return errors.As(err, &appErr) || errors.As(err, &canceled)
}

// updateID ties a workflow update to the request's Idempotency-Key (which belongs to the token)
// and the key's attempt, so a retry after a timeout joins the update already under way instead
// of applying the change twice, and a retry after a failed update is a new update.
func (s *Server) updateID(c *fiber.Ctx) string {
	if k := c.Get("Idempotency-Key"); k != "" {
		return principal(c).TokenID + "/" + k + "/" + itoa(idempotencyAttempt(c))
	}
	return ""
}

type assignInput struct {
	OwnerID *string `json:"ownerId" validate:"omitnil,max=64"`
	TeamID  *string `json:"teamId" validate:"omitnil,max=64"`
}

func (s *Server) assignTicket(c *fiber.Ctx) error {
	var in assignInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.OwnerID == nil && in.TeamID == nil {
		return errInvalid(map[string]string{"ownerId": "give ownerId, teamId or both (\"\" clears one)"})
	}
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	if in.OwnerID != nil {
		if err := s.refuseChatTicketOwner(c.UserContext(), t.ID); err != nil {
			return err
		}
	}
	fields := map[string]string{}
	team := in.TeamID
	if team == nil {
		team = t.TeamID // a new owner must belong to the team the ticket stays with
	}
	if err := s.checkOwnerTeam(c.UserContext(), in.OwnerID, team, fields); err != nil {
		return err
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	return s.update(c, t, workflows.UpdateAssign, &workflows.AssignInput{Actor: actor(c), OwnerID: in.OwnerID, TeamID: in.TeamID})
}

func (s *Server) acceptTicket(c *fiber.Ctx) error {
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	if err := s.refuseChatTicketOwner(c.UserContext(), t.ID); err != nil {
		return err
	}
	return s.update(c, t, workflows.UpdateAccept, &workflows.AcceptInput{Actor: actor(c)})
}

type statusInput struct {
	Status        string `json:"status" validate:"required,max=60"`
	Justification string `json:"justification" validate:"max=2000"`
}

func (s *Server) changeTicketStatus(c *fiber.Ctx) error {
	var in statusInput
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	st, err := s.loadStatus(c.UserContext(), in.Status)
	if err != nil {
		if toAPIError(err).Status == fiber.StatusNotFound {
			return errField("status", "no status named %q", in.Status)
		}
		return err
	}
	if !st.IsActive {
		return errField("status", "status %q is deactivated", in.Status)
	}
	return s.update(c, t, workflows.UpdateChangeStatus, &workflows.ChangeStatusInput{Actor: actor(c), Status: st.Name,
		BaseStatus: st.BaseStatus, RequiresJustification: st.RequiresJustification, Justification: in.Justification})
}

type ticketPatch struct {
	Subject      *string        `json:"subject" validate:"omitnil,notblank,max=255"`
	Category     *string        `json:"category" validate:"omitnil,max=100"`
	Urgency      *string        `json:"urgency" validate:"omitnil,max=60"`
	Type         *string        `json:"type" validate:"omitnil,oneof=public internal"`
	Tags         *[]string      `json:"tags" validate:"omitnil,max=50,dive,notblank,max=50"`
	CustomFields map[string]any `json:"customFields" validate:"max=100"`
}

func (s *Server) patchTicket(c *fiber.Ctx) error {
	var in ticketPatch
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Urgency != nil && *in.Urgency != "" && !contains(s.cfg.Urgencies, *in.Urgency) {
		return errField("urgency", "must be one of: %s", strings.Join(s.cfg.Urgencies, ", "))
	}
	if in.Tags != nil {
		tags := uniq(*in.Tags)
		in.Tags = &tags
	}
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	if err := s.enforceForm(c, formChange{Stored: t, Patch: &in}); err != nil {
		return err
	}
	return s.update(c, t, workflows.UpdateSetFields, &workflows.SetFieldsInput{Actor: actor(c), Subject: in.Subject,
		Category: in.Category, Urgency: in.Urgency, Type: in.Type, Tags: in.Tags, CustomFields: in.CustomFields})
}

// reopenTicket reopens a resolved ticket through its running workflow, or a closed or canceled
// one by starting a new run with the same ID together with the Reopen update.
func (s *Server) reopenTicket(c *fiber.Ctx) error {
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	p := principal(c)
	in := workflows.ReopenInput{Actor: actor(c)}
	if !workflows.IsTerminal(t.BaseStatus) {
		return s.update(c, t, workflows.UpdateReopen, &in)
	}
	if p.isCustomer() {
		return errConflict("ticket %d is %s; customers can reopen only resolved tickets", t.ID, t.BaseStatus)
	}
	ctx, cancel := s.updateContext(c, &in)
	defer cancel()
	d, err := schema.LoadTicket(ctx, s.db, t.ID, false)
	if err != nil {
		return err
	}
	state := workflows.TicketState{Ticket: d.Ticket}
	if n := len(d.StatusHistory); n > 0 {
		state.Status = d.StatusHistory[n-1]
	}
	if n := len(d.OwnerHistory); n > 0 {
		state.Owner = d.OwnerHistory[n-1]
	}
	start := s.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: workflows.TicketWorkflowID(t.ID), TaskQueue: s.cfg.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.TicketWorkflowType, workflows.TicketInput{State: state, AwaitReopen: true, AutoCloseAfter: s.cfg.AutoCloseAfter})
	h, err := s.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{UpdateName: workflows.UpdateReopen, Args: []any{&in},
			WaitForStage: client.WorkflowUpdateStageAccepted, UpdateID: s.updateID(c)},
	})
	if err != nil {
		return err
	}
	return s.finishUpdate(ctx, c, t.ID, h)
}
