// Package migrations embeds the SQL migrations so the binary carries its own schema.
package migrations

import (
	"embed"

	"github.com/uptrace/bun/migrate"
)

//go:embed *.sql
var sqlFiles embed.FS

// Migrations is every embedded migration, discovered from the embedded files (not the source
// tree, which is not there at run time).
var Migrations = migrate.NewMigrations()

func init() {
	if err := Migrations.Discover(sqlFiles); err != nil {
		panic(err)
	}
}
