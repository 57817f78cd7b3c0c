package api

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/schema"
)

func (s *Server) callGroupRoutes(r fiber.Router) {
	r.Post("/call-groups", requirePerm(PermConfigWrite), s.createCallGroup)
	r.Get("/call-groups", requirePerm(PermConfigRead), s.listCallGroups)
	r.Get("/call-groups/:id", requirePerm(PermConfigRead), getOne("id", s.loadCallGroup))
	r.Patch("/call-groups/:id", requirePerm(PermConfigWrite), s.updateCallGroup)
	r.Delete("/call-groups/:id", requirePerm(PermConfigWrite), s.deactivateCallGroup)
}

type callMemberInput struct {
	AgentID   string `json:"agentId" validate:"required,max=64"`
	Extension string `json:"extension" validate:"required,notblank,max=128"`
}

type callGroupInput struct {
	QueueID    *int64             `json:"queueId" validate:"omitnil,gte=0,lte=9999999999"`
	Name       *string            `json:"name" validate:"omitnil,notblank,max=100"`
	CalendarID *string            `json:"calendarId" validate:"omitnil,max=64"`
	Members    *[]callMemberInput `json:"members" validate:"omitnil,max=200,dive"`
	IsActive   *bool              `json:"isActive"`
}

func (s *Server) createCallGroup(c *fiber.Ctx) error {
	var in callGroupInput
	if err := decode(c, &in); err != nil {
		return err
	}
	fields := map[string]string{}
	if in.QueueID == nil {
		fields["queueId"] = "is required: the queue id the PBX sends"
	}
	if in.Name == nil {
		fields["name"] = "is required"
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	now := time.Now().UTC()
	g := schema.CallGroup{ID: uuid.Must(uuid.NewV7()).String(), IsActive: true, Members: []schema.CallMember{}, CreatedAt: now, UpdatedAt: now}
	return s.saveCallGroup(c, &g, nil, in, "create", fiber.StatusCreated)
}

func (s *Server) updateCallGroup(c *fiber.Ctx) error {
	var in callGroupInput
	if err := decode(c, &in); err != nil {
		return err
	}
	before, err := s.loadCallGroup(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	g := *before
	g.UpdatedAt = time.Now().UTC()
	return s.saveCallGroup(c, &g, before, in, "update", fiber.StatusOK)
}

func (s *Server) deactivateCallGroup(c *fiber.Ctx) error {
	before, err := s.loadCallGroup(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	off := false
	g := *before
	g.UpdatedAt = time.Now().UTC()
	return s.saveCallGroup(c, &g, before, callGroupInput{IsActive: &off}, "deactivate", fiber.StatusOK)
}

// saveCallGroup applies the input, checks members (active agents, each agent and extension
// once) and the calendar, and writes the group with its audit entry.
func (s *Server) saveCallGroup(c *fiber.Ctx, g *schema.CallGroup, before *schema.CallGroup, in callGroupInput, action string, status int) error {
	ctx := c.UserContext()
	set(&g.QueueID, in.QueueID)
	set(&g.IsActive, in.IsActive)
	if in.Name != nil {
		g.Name = strings.TrimSpace(*in.Name)
	}
	if in.CalendarID != nil {
		g.CalendarID = nilIfEmpty(*in.CalendarID)
	}
	fields := map[string]string{}
	if in.Members != nil {
		g.Members = []schema.CallMember{}
		ids := []string{}
		for i, m := range *in.Members {
			m.Extension = strings.TrimSpace(m.Extension)
			for _, prev := range g.Members {
				if prev.AgentID == m.AgentID {
					fields["members["+itoa(i)+"].agentId"] = "agent " + m.AgentID + " is in the group already"
				}
				if prev.Extension == m.Extension {
					fields["members["+itoa(i)+"].extension"] = "extension " + m.Extension + " is used by another member"
				}
			}
			g.Members = append(g.Members, schema.CallMember{AgentID: m.AgentID, Extension: m.Extension})
			ids = append(ids, m.AgentID)
		}
		if err := s.checkAgents(ctx, "members", ids); err != nil {
			e := toAPIError(err)
			if e.Fields == nil {
				return err
			}
			for k, v := range e.Fields { // members[i] -> members[i].agentId
				fields[k+".agentId"] = v
			}
		}
	}
	if g.CalendarID != nil {
		var exists bool
		if err := s.db.NewRaw("SELECT EXISTS (SELECT 1 FROM calendars WHERE id = ?)", *g.CalendarID).Scan(ctx, &exists); err != nil {
			return err
		}
		if !exists {
			fields["calendarId"] = "no calendar with id " + *g.CalendarID
		}
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	return writeConfig(c, s.db, callGroups, g, before, action, status)
}

var callGroups = &configResource[schema.CallGroup]{entity: "call_group", noun: "call group",
	columns: []string{"queue_id", "name", "calendar_id", "members", "is_active", "updated_at"},
	id:      func(g *schema.CallGroup) string { return g.ID },
	writeError: func(g *schema.CallGroup, err error) error {
		if uniqueViolation(err) {
			return errConflict("queueId %d belongs to another call group", g.QueueID)
		}
		return err
	},
}

func (s *Server) loadCallGroup(ctx context.Context, id string) (*schema.CallGroup, error) {
	return callGroups.load(ctx, s.db, id)
}

func (s *Server) listCallGroups(c *fiber.Ctx) error {
	return callGroups.list(c, s.db, configList[schema.CallGroup]{filter: func(c *fiber.Ctx, q *bun.SelectQuery) (*bun.SelectQuery, error) {
		if v := c.Query("agentId"); v != "" {
			q = q.Where("members @> ?::jsonb", `[{"agentId":`+quoteJSON(v)+`}]`)
		}
		if v := c.Query("queueId"); v != "" {
			q = q.Where("queue_id::text = ?", v)
		}
		return boolFilter("isActive", "is_active")(c, q)
	}})
}
