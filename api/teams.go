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
	// VideoSessions turns the team's video sessions on or off (default on).
	VideoSessions *bool `json:"videoSessions"`
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
	t := schema.Team{ID: uuid.Must(uuid.NewV7()).String(), IsActive: true, VideoSessions: true, MemberIDs: []string{}, CreatedAt: now, UpdatedAt: now}
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
	set(&t.VideoSessions, in.VideoSessions)
	if in.MemberIDs != nil {
		t.MemberIDs = uniq(*in.MemberIDs)
		if err := s.checkAgents(ctx, "memberIds", t.MemberIDs); err != nil {
			return err
		}
	}
	if err := writeConfig(c, s.db, teams, t, before, action, status); err != nil || before == nil {
		return err
	}
	// Members who left (or every member of a team turned off) may be asked as the team's
	// approvers: their requests check again.
	for _, m := range before.MemberIDs {
		if !t.IsActive || !slices.Contains(t.MemberIDs, m) {
			s.approversChanged(ctx, m)
		}
	}
	return nil
}

var teams = &configResource[schema.Team]{entity: "team", noun: "team",
	columns: []string{"name", "is_active", "video_sessions", "updated_at"},
	id:      func(t *schema.Team) string { return t.ID },
	writeError: func(t *schema.Team, err error) error {
		if uniqueViolation(err) {
			return errConflict("a team named %q exists already", t.Name)
		}
		return err
	},
	post: writeTeamMembers,
}

// writeTeamMembers replaces a team's members when they are new or changed.
func writeTeamMembers(ctx context.Context, tx bun.Tx, _ string, t, before *schema.Team) error {
	if before != nil && slices.Equal(t.MemberIDs, before.MemberIDs) {
		return nil
	}
	if _, err := tx.NewDelete().Model((*schema.TeamMember)(nil)).Where("team_id = ?", t.ID).Exec(ctx); err != nil {
		return err
	}
	for _, m := range t.MemberIDs {
		if _, err := tx.NewInsert().Model(&schema.TeamMember{TeamID: t.ID, PersonID: m}).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// checkAgents checks that every id is an active person with an agent profile.
func (s *Server) checkAgents(ctx context.Context, field string, ids []string) error {
	fields, err := schema.AgentProblems(ctx, s.db, field, ids)
	if err != nil {
		return err
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
	t, err := teams.load(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	return t, s.teamMembers(ctx, []schema.Team{*t}, func(_ int, ids []string) { t.MemberIDs = ids })
}

// teamMembers reads the members of the teams in one query, each list in id order.
func (s *Server) teamMembers(ctx context.Context, ts []schema.Team, set func(i int, ids []string)) error {
	if len(ts) == 0 {
		return nil
	}
	at := make(map[string]int, len(ts))
	ids := make([]string, len(ts))
	for i, t := range ts {
		at[t.ID], ids[i] = i, t.ID
	}
	var rows []schema.TeamMember
	if err := s.db.NewSelect().Model(&rows).Where("team_id IN (?)", bun.In(ids)).Order("team_id", "person_id").Scan(ctx); err != nil {
		return err
	}
	members := make([][]string, len(ts))
	for _, m := range rows {
		members[at[m.TeamID]] = append(members[at[m.TeamID]], m.PersonID)
	}
	for i := range ts {
		set(i, orEmpty(members[i]))
	}
	return nil
}

func (s *Server) listTeams(c *fiber.Ctx) error {
	return teams.list(c, s.db, configList[schema.Team]{
		filter: func(c *fiber.Ctx, q *bun.SelectQuery) (*bun.SelectQuery, error) {
			if v := c.Query("memberId"); v != "" {
				q = q.Where("EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = team.id AND m.person_id = ?)", v)
			}
			return filters(c, q, boolFilter("isActive", "is_active"), nameFilter)
		},
		expand: func(ctx context.Context, rows []schema.Team) error {
			return s.teamMembers(ctx, rows, func(i int, ids []string) { rows[i].MemberIDs = ids })
		},
	})
}
