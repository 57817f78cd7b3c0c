package api

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/schema"
)

func (s *Server) statusRoutes(r fiber.Router) {
	r.Post("/statuses", requirePerm(PermConfigWrite), s.createStatus)
	r.Get("/statuses", requirePerm(PermTicketsRead), s.listStatuses)
	r.Get("/statuses/:name", requirePerm(PermTicketsRead), getOne("name", s.loadStatus))
	r.Patch("/statuses/:name", requirePerm(PermConfigWrite), s.updateStatus)
	r.Delete("/statuses/:name", requirePerm(PermConfigWrite), s.deactivateStatus)
}

type statusCreate struct {
	Name                  string `json:"name" validate:"notblank,max=60"`
	BaseStatus            string `json:"baseStatus" validate:"required,oneof=New InAttendance Stopped Resolved Closed Canceled"`
	RequiresJustification bool   `json:"requiresJustification"`
	Position              int    `json:"position" validate:"gte=0,lte=10000"`
}

// statusUpdate has no name or baseStatus: tickets refer to a status by name and carry its base
// status, so neither changes once created (create another status instead).
type statusUpdate struct {
	RequiresJustification *bool `json:"requiresJustification"`
	Position              *int  `json:"position" validate:"omitnil,gte=0,lte=10000"`
	IsActive              *bool `json:"isActive"`
}

func (s *Server) createStatus(c *fiber.Ctx) error {
	var in statusCreate
	if err := decode(c, &in); err != nil {
		return err
	}
	now := time.Now().UTC()
	st := schema.Status{Name: strings.TrimSpace(in.Name), BaseStatus: in.BaseStatus, IsActive: true,
		RequiresJustification: in.RequiresJustification, Position: in.Position, CreatedAt: now, UpdatedAt: now}
	if strings.ContainsAny(st.Name, "/,") {
		return errField("name", "must not contain / or ,")
	}
	err := s.db.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&st).Exec(ctx); err != nil {
			return err
		}
		return audit(ctx, tx, principal(c).Person.ID, "status", st.Name, "create", nil, st)
	})
	if e := toAPIError(err); err != nil && e.Status == fiber.StatusConflict {
		return errConflict("a status named %q exists already", st.Name)
	} else if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(st)
}

func (s *Server) loadStatus(ctx context.Context, name string) (*schema.Status, error) {
	return findOne[schema.Status](ctx, s.db, "name", name, "no status named %q", name)
}

func (s *Server) updateStatus(c *fiber.Ctx) error {
	var in statusUpdate
	if err := decode(c, &in); err != nil {
		return err
	}
	return s.changeStatusConfig(c, in, "update")
}

func (s *Server) deactivateStatus(c *fiber.Ctx) error {
	off := false
	return s.changeStatusConfig(c, statusUpdate{IsActive: &off}, "deactivate")
}

func (s *Server) changeStatusConfig(c *fiber.Ctx, in statusUpdate, action string) error {
	ctx := c.UserContext()
	before, err := s.loadStatus(ctx, c.Params("name"))
	if err != nil {
		return err
	}
	st := *before
	set(&st.RequiresJustification, in.RequiresJustification)
	set(&st.Position, in.Position)
	set(&st.IsActive, in.IsActive)
	if st.IsSystem && !st.IsActive {
		return errConflict("%s is a system status and cannot be deactivated", st.Name)
	}
	st.UpdatedAt = time.Now().UTC()
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model(&st).WherePK().Exec(ctx); err != nil {
			return err
		}
		return audit(ctx, tx, principal(c).Person.ID, "status", st.Name, action, before, st)
	})
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (s *Server) listStatuses(c *fiber.Ctx) error {
	limit, cur, err := pageParams(c)
	if err != nil {
		return err
	}
	q := s.db.NewSelect().Model((*schema.Status)(nil)).OrderExpr("name ASC").Limit(int64(limit + 1))
	if cur != nil {
		q = q.Where("name > ?", cur.ID)
	}
	if v := c.Query("baseStatus"); v != "" {
		if !contains(schema.BaseStatuses, v) {
			return errField("baseStatus", "must be one of: %s", strings.Join(schema.BaseStatuses, ", "))
		}
		q = q.Where("base_status = ?", v)
	}
	if v := c.Query("isActive"); v != "" {
		b, err := parseBool("isActive", v)
		if err != nil {
			return err
		}
		q = q.Where("is_active = ?", b)
	}
	var rows []schema.Status
	if err := q.Scan(c.UserContext(), &rows); err != nil {
		return err
	}
	return c.JSON(makePage(rows, limit, func(st schema.Status) cursor { return cursor{ID: st.Name} }))
}
