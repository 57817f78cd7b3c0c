package api

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/switchboardhq/switchboard/internal/webhook"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// Webhooks are configuration (config:read / config:write); each delivery is a WebhookDelivery
// workflow, started by the ticket workflow's triggers or here, by a redelivery. The deliveries'
// execution log is read from PostgreSQL, where the workflows keep it.
func (s *Server) webhookRoutes(r fiber.Router) {
	r.Post("/webhooks", requirePerm(PermConfigWrite), s.createWebhook)
	r.Get("/webhooks", requirePerm(PermConfigRead), s.listWebhooks)
	r.Get("/webhooks/:id", requirePerm(PermConfigRead), s.getWebhook)
	r.Patch("/webhooks/:id", requirePerm(PermConfigWrite), s.updateWebhook)
	r.Delete("/webhooks/:id", requirePerm(PermConfigWrite), s.deactivateWebhook)
	r.Post("/webhooks/:id/rotate-secret", requirePerm(PermConfigWrite), s.rotateWebhookSecret)
	r.Get("/webhooks/:id/deliveries", requirePerm(PermConfigRead), s.listWebhookDeliveries)
	r.Post("/webhooks/:id/deliveries/:deliveryId/redeliver", requirePerm(PermConfigWrite), s.redeliverWebhook)
	r.Get("/tickets/:id/webhook-deliveries", requirePerm(PermConfigRead), s.listTicketWebhookDeliveries)
}

type webhookInput struct {
	Name     *string `json:"name" validate:"omitnil,notblank,max=100"`
	URL      *string `json:"url"`
	IsActive *bool   `json:"isActive"`
}

// webhookView is a webhook as answered; the secret only at creation and rotation.
type webhookView struct {
	schema.Webhook
	ShownSecret string `json:"secret,omitempty"`
}

const maxWebhookURL = 2048

// checkWebhookURL accepts absolute http and https URLs. Whether the host is reachable (or an
// internal address the worker refuses) is learnt at delivery time, where DNS is resolved.
func checkWebhookURL(raw string) error {
	if len(raw) > maxWebhookURL {
		return errField("url", "must be at most %d characters", maxWebhookURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return errField("url", "must be an absolute http or https URL, e.g. https://example.com/hooks/switchboard")
	}
	return nil
}

func (s *Server) createWebhook(c *fiber.Ctx) error {
	var in webhookInput
	if err := decode(c, &in); err != nil {
		return err
	}
	fields := map[string]string{}
	if in.Name == nil {
		fields["name"] = "is required"
	}
	if in.URL == nil {
		fields["url"] = "is required"
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	now := time.Now().UTC()
	h := schema.Webhook{ID: uuid.Must(uuid.NewV7()).String(), Secret: webhook.NewSecret(), IsActive: true,
		CreatedAt: now, UpdatedAt: now}
	return s.saveWebhook(c, &h, nil, in, "create", fiber.StatusCreated)
}

func (s *Server) updateWebhook(c *fiber.Ctx) error {
	var in webhookInput
	if err := decode(c, &in); err != nil {
		return err
	}
	return s.changeWebhook(c, in, "update")
}

func (s *Server) deactivateWebhook(c *fiber.Ctx) error {
	off := false
	return s.changeWebhook(c, webhookInput{IsActive: &off}, "deactivate")
}

func (s *Server) changeWebhook(c *fiber.Ctx, in webhookInput, action string) error {
	before, err := s.loadWebhook(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	h := *before
	h.UpdatedAt = time.Now().UTC()
	return s.saveWebhook(c, &h, before, in, action, fiber.StatusOK)
}

// rotateWebhookSecret replaces the secret; attempts from now on, including the next attempts of
// pending deliveries, are signed with the new one.
func (s *Server) rotateWebhookSecret(c *fiber.Ctx) error {
	before, err := s.loadWebhook(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	h := *before
	h.Secret, h.UpdatedAt = webhook.NewSecret(), time.Now().UTC()
	return s.saveWebhook(c, &h, before, webhookInput{}, "rotate-secret", fiber.StatusOK)
}

// saveWebhook applies the input and writes the webhook and the audit entry in one transaction.
// The secret is answered when it is new (creation, rotation); it never reaches the audit log,
// which records the webhook's JSON, where the secret has no place.
func (s *Server) saveWebhook(c *fiber.Ctx, h, before *schema.Webhook, in webhookInput, action string, status int) error {
	if in.Name != nil {
		h.Name = strings.TrimSpace(*in.Name)
	}
	if in.URL != nil {
		h.URL = strings.TrimSpace(*in.URL)
		if err := checkWebhookURL(h.URL); err != nil {
			return err
		}
	}
	set(&h.IsActive, in.IsActive)
	if _, err := saveConfig(c, s.db, webhooks, h, before, action); err != nil {
		return err
	}
	v := webhookView{Webhook: *h}
	if before == nil || before.Secret != h.Secret {
		v.ShownSecret = h.Secret
		shownOnce(c, "secret")
	}
	return c.Status(status).JSON(v)
}

var webhooks = &configResource[schema.Webhook]{entity: "webhook", noun: "webhook",
	columns: []string{"name", "url", "secret", "is_active", "updated_at"},
	id:      func(h *schema.Webhook) string { return h.ID },
}

func (s *Server) loadWebhook(ctx context.Context, id string) (*schema.Webhook, error) {
	return webhooks.load(ctx, s.db, id)
}

func (s *Server) getWebhook(c *fiber.Ctx) error {
	h, err := s.loadWebhook(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(webhookView{Webhook: *h})
}

// listWebhooks lists webhooks by id: isActive, q (name contains), limit, cursor.
func (s *Server) listWebhooks(c *fiber.Ctx) error {
	return webhooks.list(c, s.db, configList[schema.Webhook]{filter: func(c *fiber.Ctx, q *bun.SelectQuery) (*bun.SelectQuery, error) {
		return filters(c, q, boolFilter("isActive", "is_active"), nameFilter)
	}})
}

// deliveryView is a delivery with its attempts and its workflow.
type deliveryView struct {
	schema.WebhookDelivery
	Workflow workflowRef `json:"workflow"`
}

func (s *Server) deliveryView(d schema.WebhookDelivery) deliveryView {
	d.Attempts = orEmptyOf(d.Attempts)
	return deliveryView{WebhookDelivery: d, Workflow: s.workflowLink(workflows.WebhookWorkflowID(d.ID), "")}
}

func (s *Server) listWebhookDeliveries(c *fiber.Ctx) error {
	h, err := s.loadWebhook(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return s.listDeliveries(c, "webhook_id = ?", h.ID)
}

func (s *Server) listTicketWebhookDeliveries(c *fiber.Ctx) error {
	id, err := ticketID(c)
	if err != nil {
		return err
	}
	exists, err := s.db.NewSelect().Model((*schema.Ticket)(nil)).Where("id = ?", id).Exists(c.UserContext())
	if err != nil {
		return err
	}
	if !exists {
		return errNotFound("no ticket %d", id)
	}
	return s.listDeliveries(c, "ticket_id = ?", id)
}

// listDeliveries answers a page of the deliveries that match where, newest first, each with its
// attempts: state (comma-separated), limit, cursor.
func (s *Server) listDeliveries(c *fiber.Ctx, where string, arg any) error {
	limit, cur, err := pageParams(c)
	if err != nil {
		return err
	}
	q := s.db.NewSelect().Model((*schema.WebhookDelivery)(nil)).Where(where, arg).
		OrderExpr("created_at DESC, id DESC").Limit(int64(limit + 1))
	if q, err = olderThanCursor(q, cur); err != nil {
		return err
	}
	if states := csv(c.Query("state")); len(states) > 0 {
		for _, st := range states {
			if !contains(schema.DeliveryStates, st) {
				return errField("state", "unknown state %q; allowed: %s", st, strings.Join(schema.DeliveryStates, ", "))
			}
		}
		q = q.Where("state IN (?)", bun.In(states))
	}
	var rows []schema.WebhookDelivery
	if err := q.Scan(c.UserContext(), &rows); err != nil {
		return err
	}
	if err := s.attachAttempts(c.UserContext(), rows); err != nil {
		return err
	}
	views := make([]deliveryView, len(rows))
	for i, d := range rows {
		views[i] = s.deliveryView(d)
	}
	return c.JSON(makePage(views, limit, func(v deliveryView) cursor {
		return cursor{Value: v.CreatedAt.Format(time.RFC3339Nano), ID: v.ID}
	}))
}

// attachAttempts reads the attempts of the deliveries in one query.
func (s *Server) attachAttempts(ctx context.Context, ds []schema.WebhookDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]string, len(ds))
	at := make(map[string]int, len(ds))
	for i, d := range ds {
		ids[i], at[d.ID] = d.ID, i
	}
	var attempts []schema.WebhookAttempt
	if err := s.db.NewSelect().Model(&attempts).Where("delivery_id IN (?)", bun.In(ids)).
		OrderExpr("delivery_id, attempt").Scan(ctx); err != nil {
		return err
	}
	for _, a := range attempts {
		d := &ds[at[a.DeliveryID]]
		d.Attempts = append(d.Attempts, a)
	}
	return nil
}

// redeliverWebhook sends a delivery's payload again as a new delivery (a new id, so a new
// webhook-id, and redeliveryOf naming the original), on the full retry schedule, to the
// webhook's URL and with its secret as they are now. It answers 202 with the new delivery.
func (s *Server) redeliverWebhook(c *fiber.Ctx) error {
	ctx := c.UserContext()
	h, err := s.loadWebhook(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	orig, err := findOne[schema.WebhookDelivery](ctx, s.db, "id", c.Params("deliveryId"),
		"no delivery %s of webhook %s", c.Params("deliveryId"), h.ID)
	if err != nil {
		return err
	}
	if orig.WebhookID != h.ID {
		return errNotFound("no delivery %s of webhook %s", orig.ID, h.ID)
	}
	now := time.Now().UTC()
	d := schema.WebhookDelivery{ID: uuid.Must(uuid.NewV7()).String(), WebhookID: h.ID, Event: orig.Event,
		TicketID: orig.TicketID, TriggerID: orig.TriggerID, URL: h.URL, State: schema.DeliveryPending,
		Payload: orig.Payload, RedeliveryOf: &orig.ID, CreatedAt: now, UpdatedAt: now}
	in := workflows.WebhookDeliveryInput{DeliveryID: d.ID, WebhookID: h.ID, Event: d.Event, Payload: d.Payload,
		RedeliveryOf: orig.ID}
	if d.TicketID != nil {
		in.TicketID = *d.TicketID
	}
	if d.TriggerID != nil {
		in.TriggerID = *d.TriggerID
	}
	// The workflow first: it writes the delivery itself, so there is never a delivery row
	// without its workflow. Writing it here too lets the answer show it; the second write of
	// the two is a no-op.
	if _, err := s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.WebhookWorkflowID(d.ID),
		TaskQueue: s.cfg.TaskQueue, WorkflowExecutionErrorWhenAlreadyStarted: true}, workflows.WebhookWorkflowType, in); err != nil {
		return err
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := schema.BeginDelivery(ctx, tx, &d); err != nil {
			return err
		}
		return audit(ctx, tx, principal(c).Person.ID, "webhook_delivery", d.ID, "redeliver", nil, d)
	})
	if err != nil {
		return err
	}
	stored, err := findOne[schema.WebhookDelivery](ctx, s.db, "id", d.ID, "no delivery %s", d.ID)
	if err != nil {
		return err
	}
	rows := []schema.WebhookDelivery{*stored}
	if err := s.attachAttempts(ctx, rows); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(s.deliveryView(rows[0]))
}
