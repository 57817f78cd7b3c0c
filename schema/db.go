package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/migrate"

	"github.com/switchboardhq/switchboard/schema/migrations"
)

// Open returns a bun DB for the PostgreSQL URL. It does not connect until first used, so the
// process can start while PostgreSQL is still down.
func Open(dsn string) *bun.DB {
	sqldb := sql.OpenDB(pgdriver.NewConnector(
		pgdriver.WithDSN(dsn),
		pgdriver.WithTimeout(5*time.Second),
	))
	sqldb.SetMaxOpenConns(40)
	sqldb.SetMaxIdleConns(40)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	return bun.NewDB(sqldb, pgdialect.New())
}

// EnsureDatabase creates the database named in the URL when it does not exist yet, connecting to
// the server's "postgres" database to do so.
func EnsureDatabase(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return fmt.Errorf("database URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return errors.New("database URL names no database")
	}
	admin := *u
	admin.Path = "/postgres"
	db := Open(admin.String())
	defer db.Close()
	var exists bool
	if err := db.NewRaw("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ?)", name).Scan(ctx, &exists); err != nil {
		return fmt.Errorf("connect to PostgreSQL at %s: %w", u.Host, err)
	}
	if exists {
		return nil
	}
	_, err = db.NewRaw("CREATE DATABASE ?", bun.Ident(name)).Exec(ctx)
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) && pgErr.Field('C') == "42P04" { // created meanwhile by another process
		return nil
	}
	return err
}

// Migrate applies every pending migration under the migrator's lock, so two processes that start
// together do not both migrate. It is safe to run any number of times.
func Migrate(ctx context.Context, db *bun.DB) (applied []string, err error) {
	m := migrate.NewMigrator(db, migrations.Migrations)
	if err := m.Init(ctx); err != nil {
		return nil, err
	}
	if err := m.Lock(ctx); err != nil {
		return nil, err
	}
	defer func() {
		if uerr := m.Unlock(ctx); uerr != nil && err == nil {
			err = uerr
		}
	}()
	group, err := m.Migrate(ctx)
	if err != nil {
		return nil, err
	}
	for _, mig := range group.Migrations {
		applied = append(applied, mig.Name)
	}
	return applied, nil
}
