package api

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/schema"
)

// audit records a configuration change: who did what to which record, before and after.
func audit(ctx context.Context, db bun.IDB, actor, entity, id, action string, before, after any) error {
	_, err := db.NewInsert().Model(&schema.AuditEntry{ActorID: actor, Entity: entity, EntityID: id,
		Action: action, Before: before, After: after}).Exec(ctx)
	return err
}
