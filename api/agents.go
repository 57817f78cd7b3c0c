package api

import (
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/switchboardhq/switchboard/schema"
)

func (s *Server) agentRoutes(r fiber.Router) {
	r.Get("/agents/:id/telephony", requirePerm(PermTelephony), s.getAgentTelephony)
	r.Put("/agents/:id/telephony", requirePerm(PermTelephony), s.putAgentTelephony)
}

// agentStatus is an agent's telephony status as the API shows it.
type agentStatus struct {
	schema.AgentTelephony
	OnCall bool `json:"onCall"`
}

type agentStatusInput struct {
	Online      *bool `json:"online"`
	PhoneOnline *bool `json:"phoneOnline"`
}

// canSetTelephony: agents set their own status; admins, and tokens scoped for telephony (a PBX
// integration reporting who is on the phone system), set anyone's.
func canSetTelephony(p *Principal, agentID string) bool {
	if p.isCustomer() {
		return false
	}
	integration := len(p.Scopes) > 0 && p.can(PermTelephony)
	return (p.Person.ID == agentID && len(p.Scopes) == 0) || p.Person.Role == schema.RoleAdmin || integration
}

func (s *Server) agentTelephony(c *fiber.Ctx) (*schema.Person, *agentStatus, error) {
	ctx := c.UserContext()
	p, err := s.loadPerson(ctx, c.Params("id"))
	if err != nil {
		return nil, nil, err
	}
	if p.Profile == schema.RoleCustomer {
		return nil, nil, errNotFound("person %s is not an agent", p.ID)
	}
	st := &agentStatus{AgentTelephony: schema.AgentTelephony{PersonID: p.ID, UpdatedAt: p.UpdatedAt}}
	err = s.db.NewSelect().Model(&st.AgentTelephony).Where("person_id = ?", p.ID).Scan(ctx)
	if err != nil && !isNoRows(err) {
		return nil, nil, err
	}
	st.OnCall = st.CurrentCallID != nil
	return p, st, nil
}

func (s *Server) getAgentTelephony(c *fiber.Ctx) error {
	_, st, err := s.agentTelephony(c)
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (s *Server) putAgentTelephony(c *fiber.Ctx) error {
	var in agentStatusInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Online == nil && in.PhoneOnline == nil {
		return errInvalid(map[string]string{"online": "give online, phoneOnline or both"})
	}
	if !canSetTelephony(principal(c), c.Params("id")) {
		return errForbidden("agents set their own telephony status; others need an admin or a telephony token")
	}
	p, st, err := s.agentTelephony(c)
	if err != nil {
		return err
	}
	if !p.IsActive {
		return errConflict("agent %s is deactivated", p.ID)
	}
	set(&st.Online, in.Online)
	set(&st.PhoneOnline, in.PhoneOnline)
	st.UpdatedAt = time.Now().UTC()
	_, err = s.db.NewInsert().Model(&st.AgentTelephony).On("CONFLICT (person_id) DO UPDATE").
		Set("online = EXCLUDED.online, phone_online = EXCLUDED.phone_online, updated_at = EXCLUDED.updated_at").Exec(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
