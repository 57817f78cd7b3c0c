package api

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/schema"
)

func (s *Server) teamRoutes(r fiber.Router) {
	r.Post("/teams", requirePerm(PermConfigWrite), s.createTeam)
	r.Get("/teams", requirePerm(PermConfigRead), s.listTeams)
	r.Get("/teams/:id", requirePerm(PermConfigRead), getOne("id", s.loadTeam))
	r.Patch("/teams/:id", requirePerm(PermConfigWrite), s.updateTeam)
	r.Delete("/teams/:id", requirePerm(PermConfigWrite), s.deactivateTeam)
}

type teamInput struct {
	Name      *string   `json:"name" validate:"omitnil,notblank,max=100"`
	MemberIDs *[]string `json:"memberIds" validate:"omitnil,max=500,dive,max=64"`
	IsActive  *bool     `json:"isActive"`
}

func (s *Server) createTeam(c *fiber.Ctx) error {
	var in teamInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Name == nil {
		return errField("name", "is required")
	}
	now := time.Now().UTC()
	t := schema.Team{ID: uuid.Must(uuid.NewV7()).String(), IsActive: true, MemberIDs: []string{}, CreatedAt: now, UpdatedAt: now}
	return s.saveTeam(c, &t, nil, in, "create", fiber.StatusCreated)
}

func (s *Server) updateTeam(c *fiber.Ctx) error {
	var in teamInput
	if err := decode(c, &in); err != nil {
		return err
	}
	before, err := s.loadTeam(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	t := *before
	t.UpdatedAt = time.Now().UTC()
	return s.saveTeam(c, &t, before, in, "update", fiber.StatusOK)
}

func (s *Server) deactivateTeam(c *fiber.Ctx) error {
	off := false
	before, err := s.loadTeam(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	t := *before
	t.UpdatedAt = time.Now().UTC()
	return s.saveTeam(c, &t, before, teamInput{IsActive: &off}, "deactivate", fiber.StatusOK)
}

// saveTeam applies the input, checks the members are active agents, and writes the team, its
// members and the audit entry in one transaction.
func (s *Server) saveTeam(c *fiber.Ctx, t *schema.Team, before *schema.Team, in teamInput, action string, status int) error {
	ctx := c.UserContext()
	if in.Name != nil {
		t.Name = strings.TrimSpace(*in.Name)
	}
	set(&t.IsActive, in.IsActive)
	if in.MemberIDs != nil {
		t.MemberIDs = uniq(*in.MemberIDs)
		if err := s.checkAgents(ctx, "memberIds", t.MemberIDs); err != nil {
			return err
		}
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(t).On("CONFLICT (id) DO UPDATE").
			Set("name = EXCLUDED.name, is_active = EXCLUDED.is_active, updated_at = EXCLUDED.updated_at").Exec(ctx); err != nil {
			return err
		}
		if in.MemberIDs != nil {
			if _, err := tx.NewDelete().Model((*schema.TeamMember)(nil)).Where("team_id = ?", t.ID).Exec(ctx); err != nil {
				return err
			}
			for _, m := range t.MemberIDs {
				if _, err := tx.NewInsert().Model(&schema.TeamMember{TeamID: t.ID, PersonID: m}).Exec(ctx); err != nil {
					return err
				}
			}
		}
		return audit(ctx, tx, principal(c).Person.ID, "team", t.ID, action, before, t)
	})
	if err != nil {
		if e := toAPIError(err); e.Status == fiber.StatusConflict {
			return errConflict("a team named %q exists already", t.Name)
		}
		return err
	}
	return c.Status(status).JSON(t)
}

// checkAgents checks that every id is an active person with an agent profile.
func (s *Server) checkAgents(ctx context.Context, field string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	var found []schema.Person
	err := s.db.NewSelect().Model(&found).Column("id", "profile", "is_active").
		Where("id IN (?)", bun.In(ids)).Scan(ctx)
	if err != nil {
		return err
	}
	fields := map[string]string{}
	for i, id := range ids {
		at := slices.IndexFunc(found, func(p schema.Person) bool { return p.ID == id })
		switch {
		case at < 0:
			fields[field+"["+itoa(i)+"]"] = "no person with id " + id
		case found[at].Profile == schema.RoleCustomer:
			fields[field+"["+itoa(i)+"]"] = "person " + id + " is not an agent"
		case !found[at].IsActive:
			fields[field+"["+itoa(i)+"]"] = "person " + id + " is deactivated"
		}
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	return nil
}

func uniq(s []string) []string {
	out := []string{}
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (s *Server) loadTeam(ctx context.Context, id string) (*schema.Team, error) {
	t, err := findOne[schema.Team](ctx, s.db, "id", id, "no team with id %s", id)
	if err != nil {
		return nil, err
	}
	t.MemberIDs = []string{}
	err = s.db.NewSelect().Model((*schema.TeamMember)(nil)).Column("person_id").Where("team_id = ?", id).
		Order("person_id").Scan(ctx, &t.MemberIDs)
	return t, err
}

func (s *Server) listTeams(c *fiber.Ctx) error {
	limit, cur, err := pageParams(c)
	if err != nil {
		return err
	}
	q := s.db.NewSelect().Model((*schema.Team)(nil)).
		ColumnExpr("team.*").
		ColumnExpr("COALESCE((SELECT array_agg(person_id ORDER BY person_id) FROM team_members m WHERE m.team_id = team.id), '{}') AS member_ids").
		OrderExpr("id ASC").Limit(int64(limit + 1))
	if cur != nil {
		q = q.Where("id > ?", cur.ID)
	}
	if v := c.Query("isActive"); v != "" {
		b, err := parseBool("isActive", v)
		if err != nil {
			return err
		}
		q = q.Where("is_active = ?", b)
	}
	if v := c.Query("memberId"); v != "" {
		q = q.Where("EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = team.id AND m.person_id = ?)", v)
	}
	if v := c.Query("q"); v != "" {
		q = q.Where("name ILIKE ?", "%"+escapeLike(v)+"%")
	}
	var rows []struct {
		schema.Team
		Members []string `bun:"member_ids,array"`
	}
	if err := q.Scan(c.UserContext(), &rows); err != nil {
		return err
	}
	teams := make([]schema.Team, len(rows))
	for i, r := range rows {
		teams[i] = r.Team
		teams[i].MemberIDs = orEmpty(r.Members)
	}
	return c.JSON(makePage(teams, limit, func(t schema.Team) cursor { return cursor{ID: t.ID} }))
}
