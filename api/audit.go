package api

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/schema"
)

// deleteAudited deletes the row with this id and records who did, in one transaction; a row
// deleted meanwhile by someone else is a 404.
func (s *Server) deleteAudited(c *fiber.Ctx, model any, entity, id string, before any) error {
	ctx := c.UserContext()
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model(model).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound("no %s with id %s", strings.ReplaceAll(entity, "_", " "), id)
		}
		return audit(ctx, tx, principal(c).Person.ID, entity, id, "delete", before, nil)
	})
}

// audit records a configuration change: who did what to which record, before and after.
func audit(ctx context.Context, db bun.IDB, actor, entity, id, action string, before, after any) error {
	_, err := db.NewInsert().Model(&schema.AuditEntry{ActorID: actor, Entity: entity, EntityID: id,
		Action: action, Before: before, After: after}).Exec(ctx)
	return err
}
