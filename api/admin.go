package api

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/schema"
)

// AdminEmail is the address of the admin that SWITCHBOARD_ADMIN_TOKEN makes sure of.
const AdminEmail = "admin@switchboard.local"

// EnsureAdmin makes sure an active admin holds token: the token's holder if it exists already
// (re-activated and made admin, the token un-revoked), otherwise the admin with AdminEmail,
// created if missing.
func EnsureAdmin(ctx context.Context, db *bun.DB, token string) (*schema.Person, error) {
	var admin schema.Person
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var holder string
		err := tx.NewSelect().Model((*schema.APIToken)(nil)).Column("person_id").
			Where("hash = ?", HashToken(token)).Scan(ctx, &holder)
		switch {
		case err == nil:
			err = tx.NewSelect().Model(&admin).Where("id = ?", holder).Scan(ctx)
		case isNoRows(err):
			err = tx.NewSelect().Model(&admin).Where("? = ANY(emails)", AdminEmail).Scan(ctx)
		}
		if isNoRows(err) {
			now := time.Now().UTC()
			admin = schema.Person{ID: uuid.Must(uuid.NewV7()).String(), Kind: "person", Profile: schema.RoleAgent,
				Role: schema.RoleAdmin, Name: "Switchboard Admin", Emails: []string{AdminEmail}, Phones: []string{},
				DepartmentIDs: []string{}, IsActive: true, CustomFields: map[string]any{}, CreatedAt: now, UpdatedAt: now}
			if _, err := tx.NewInsert().Model(&admin).Exec(ctx); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if admin.Role != schema.RoleAdmin || !admin.IsActive || admin.Profile == schema.RoleCustomer {
			admin.Role, admin.IsActive, admin.Profile = schema.RoleAdmin, true, schema.RoleAgent
			if _, err := tx.NewUpdate().Model(&admin).Column("role", "is_active", "profile").WherePK().Exec(ctx); err != nil {
				return err
			}
		}
		// The operator's configured token is valid again even if it was revoked (a deactivation
		// of its admin revokes it), and unscoped: it is the way back in.
		_, err = tx.NewRaw(`INSERT INTO api_tokens (id, person_id, name, scopes, hash, created_at)
			VALUES (?, ?, 'SWITCHBOARD_ADMIN_TOKEN', '{}', ?, now())
			ON CONFLICT (hash) DO UPDATE SET revoked_at = NULL, scopes = '{}'`,
			uuid.Must(uuid.NewV7()).String(), admin.ID, HashToken(token)).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("ensure admin: %w", err)
	}
	return &admin, nil
}
