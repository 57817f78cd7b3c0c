package api

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// An agent's chat presence: online (offered chats), away (offered nothing new) or offline.
// Read by staff with tickets:read; set with tickets:write by the agent themself or by an admin.
// Chat is ticket work (a closed chat becomes a ticket), so it takes the ticket permissions, as
// telephony presence takes the telephony one; a customer is refused whatever their token.
func (s *Server) chatPresenceRoutes(r fiber.Router) {
	r.Get("/agents/:id/chat", requirePerm(PermTicketsRead), staffOnly, s.getAgentChat)
	r.Put("/agents/:id/chat", requirePerm(PermTicketsWrite), staffOnly, s.putAgentChat)
}

type chatPresenceInput struct {
	Status *string `json:"status" validate:"required,oneof=online away offline"`
}

// canSetChatPresence: agents set their own presence; admins set anyone's.
func canSetChatPresence(p *Principal, agentID string) bool {
	return !p.isCustomer() && (p.Person.ID == agentID || p.Person.Role == schema.RoleAdmin)
}

// chatPresence reads an agent's presence: offline, never set, when there is no row.
func (s *Server) chatPresence(ctx context.Context, id string) (*schema.Person, *schema.AgentChatPresence, error) {
	p, err := s.loadPerson(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if p.Profile == schema.RoleCustomer {
		return nil, nil, errNotFound("person %s is not an agent", p.ID)
	}
	pr := &schema.AgentChatPresence{AgentID: p.ID, Status: schema.ChatOffline}
	if err := s.db.NewSelect().Model(pr).Where("agent_id = ?", p.ID).Scan(ctx); err != nil && !isNoRows(err) {
		return nil, nil, err
	}
	return p, pr, nil
}

func (s *Server) getAgentChat(c *fiber.Ctx) error {
	_, pr, err := s.chatPresence(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(pr)
}

func (s *Server) putAgentChat(c *fiber.Ctx) error {
	if !canSetChatPresence(principal(c), c.Params("id")) {
		return errForbidden("agents set their own chat presence; an admin sets anyone's")
	}
	var in chatPresenceInput
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.UserContext()
	p, pr, err := s.chatPresence(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if !p.IsActive {
		return errConflict("agent %s is deactivated", p.ID)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	pr.Status, pr.UpdatedAt = *in.Status, &now
	_, err = s.db.NewInsert().Model(pr).On("CONFLICT (agent_id) DO UPDATE").
		Set("status = EXCLUDED.status, updated_at = EXCLUDED.updated_at").Returning("last_stream_at").Exec(ctx)
	if err != nil {
		return err
	}
	if err := s.chatConfigChanged(ctx, workflows.ChatConfigChange{AgentIDs: []string{p.ID}}); err != nil {
		return err
	}
	return c.JSON(pr)
}

// chatConfigChanged tells the chat distributor (starting it when needed) that groups or presence
// were written. It fails with a 503: the write is done and idempotent, so the client retries it
// and the retry signals again.
func (s *Server) chatConfigChanged(ctx context.Context, change workflows.ChatConfigChange) error {
	if s.temporal == nil {
		return errUnavailable("Temporal")
	}
	if err := workflows.SignalChatDistributor(ctx, s.temporal, s.cfg.TaskQueue, workflows.SignalChatConfigChanged, change); err != nil {
		s.log.Warn("signalling the chat distributor failed", "err", err)
		return errUnavailable("the chat distributor")
	}
	return nil
}
