package api

import (
	"context"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// configResource is the one write path of the configuration records (triggers, SLA policies,
// display rules, custom fields, calendars, call groups, webhooks, teams): load, create, update
// and delete, each in one transaction with its audit entry, the version raised once per edit
// where the record keeps one, and one cursor-paged list. Handlers decode, build the record and
// check it (an edit checks only what it is given, so a stored record that no longer validates
// can still be disabled and deleted), then call it; it takes a context and the actor, not an
// HTTP request, so anything else can call it too.
type configResource[T any] struct {
	entity  string   // the audit entity: "call_group"
	noun    string   // in messages: "call group"
	columns []string // what an update writes when not told otherwise (version comes by itself)
	id      func(*T) string
	// version is the record's version, nil for records that keep none. A versioned update
	// raises it by one and is optimistic: a concurrent edit is a 409, not lost.
	version func(*T) *int
	// same, when set, says an edit changed nothing: it writes nothing and keeps the version.
	same func(a, b *T) bool
	// normalize makes a record as read answer arrays and objects, never null.
	normalize func(*T)
	// writeError says a refused write (a unique or foreign key violation) in the resource's
	// words; nil leaves the error as it is.
	writeError func(rec *T, err error) error
	// pre and post run in the write's transaction, before and after the record's row.
	pre, post func(ctx context.Context, tx bun.Tx, actor string, rec, before *T) error
	// written runs after every committed write (caches).
	written func()
}

func (r *configResource[T]) load(ctx context.Context, db bun.IDB, id string) (*T, error) {
	rec, err := findOne[T](ctx, db, "id", id, "no %s with id %s", r.noun, id)
	if err != nil {
		return nil, err
	}
	if r.normalize != nil {
		r.normalize(rec)
	}
	return rec, nil
}

// create inserts rec (at version 1 where versioned) and audits it as action.
func (r *configResource[T]) create(ctx context.Context, db bun.IDB, actor string, rec *T, action string) error {
	if r.version != nil {
		*r.version(rec) = 1
	}
	return r.inTx(ctx, db, actor, rec, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(rec).Exec(ctx)
		return err
	}, action)
}

// update writes the columns given (nil: r.columns) of rec over before and audits it as action.
// It answers the record as stored: before itself when the edit changed nothing.
func (r *configResource[T]) update(ctx context.Context, db bun.IDB, actor string, rec, before *T, action string, cols []string) (*T, error) {
	if r.same != nil && r.same(rec, before) {
		return before, nil
	}
	if cols == nil {
		cols = r.columns
	}
	err := r.inTx(ctx, db, actor, rec, before, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewUpdate().Model(rec).Column(cols...).WherePK()
		if r.version != nil {
			*r.version(rec) = *r.version(before) + 1
			q = q.Column("version").Where("version = ?", *r.version(before))
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 && r.version != nil {
			return errConflict("%s %s changed while this edit was made; reload it and retry", r.noun, r.id(rec))
		} else if n == 0 {
			return errNotFound("no %s with id %s", r.noun, r.id(rec))
		}
		return nil
	}, action)
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// remove deletes before's row after check (nil: none) passes in the same transaction; a row
// deleted meanwhile by someone else is a 404.
func (r *configResource[T]) remove(ctx context.Context, db bun.IDB, actor string, before *T,
	check func(ctx context.Context, tx bun.Tx) error) error {
	id := r.id(before)
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if check != nil {
			if err := check(ctx, tx); err != nil {
				return err
			}
		}
		res, err := tx.NewDelete().Model((*T)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return r.refused(before, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound("no %s with id %s", r.noun, id)
		}
		return audit(ctx, tx, actor, r.entity, id, "delete", before, nil)
	})
	if err == nil && r.written != nil {
		r.written()
	}
	return err
}

// inTx runs pre, the row's write, post and the audit entry in one transaction.
func (r *configResource[T]) inTx(ctx context.Context, db bun.IDB, actor string, rec, before *T,
	write func(ctx context.Context, tx bun.Tx) error, action string) error {
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, step := range []func(context.Context, bun.Tx, string, *T, *T) error{r.pre, r.rowWrite(write), r.post} {
			if step == nil {
				continue
			}
			if err := step(ctx, tx, actor, rec, before); err != nil {
				return err
			}
		}
		var prev any
		if before != nil {
			prev = before
		}
		return audit(ctx, tx, actor, r.entity, r.id(rec), action, prev, rec)
	})
	if err == nil && r.written != nil {
		r.written()
	}
	return err
}

func (r *configResource[T]) rowWrite(write func(context.Context, bun.Tx) error) func(context.Context, bun.Tx, string, *T, *T) error {
	return func(ctx context.Context, tx bun.Tx, _ string, rec, _ *T) error {
		if err := write(ctx, tx); err != nil {
			return r.refused(rec, err)
		}
		return nil
	}
}

// refused is a database error in the resource's words, when it has words for it.
func (r *configResource[T]) refused(rec *T, err error) error {
	var pgErr pgdriver.Error
	if r.writeError != nil && errors.As(err, &pgErr) {
		return r.writeError(rec, err)
	}
	return err
}

// uniqueViolation tells whether err is PostgreSQL refusing a duplicate.
func uniqueViolation(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && pgErr.Field('C') == "23505"
}

// foreignKeyViolation tells whether err is PostgreSQL refusing to break a reference.
func foreignKeyViolation(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && pgErr.Field('C') == "23503"
}

// --- the list

// configList is how a resource lists: by id (ids are time-ordered, so oldest first) or in
// position order, with the filters the resource reads from the query string.
type configList[T any] struct {
	position func(*T) int // set: ordered by (position, id)
	filter   func(c *fiber.Ctx, q *bun.SelectQuery) (*bun.SelectQuery, error)
	// expand completes the page's records (related rows) after they are read.
	expand func(ctx context.Context, rows []T) error
}

func (r *configResource[T]) list(c *fiber.Ctx, db bun.IDB, l configList[T]) error {
	limit, cur, err := pageParams(c)
	if err != nil {
		return err
	}
	q := db.NewSelect().Model((*T)(nil)).Limit(int64(limit + 1))
	if l.position != nil {
		q = q.OrderExpr("position ASC, id ASC")
	} else {
		q = q.OrderExpr("id ASC")
	}
	switch {
	case cur != nil && l.position != nil:
		pos, err := positionCursor(cur)
		if err != nil {
			return err
		}
		q = q.Where("(position, id) > (?, ?)", pos, cur.ID)
	case cur != nil:
		q = q.Where("id > ?", cur.ID)
	}
	if l.filter != nil {
		if q, err = l.filter(c, q); err != nil {
			return err
		}
	}
	var rows []T
	if err := q.Scan(c.UserContext(), &rows); err != nil {
		return err
	}
	for i := range rows {
		if r.normalize != nil {
			r.normalize(&rows[i])
		}
	}
	if l.expand != nil {
		if err := l.expand(c.UserContext(), rows); err != nil {
			return err
		}
	}
	return c.JSON(makePage(rows, limit, func(rec T) cursor {
		if l.position != nil {
			return cursor{Value: strconv.Itoa(l.position(&rec)), ID: r.id(&rec)}
		}
		return cursor{ID: r.id(&rec)}
	}))
}

// filters applies query-string filters in order; the first bad one is the error.
func filters(c *fiber.Ctx, q *bun.SelectQuery, fs ...func(*fiber.Ctx, *bun.SelectQuery) (*bun.SelectQuery, error)) (*bun.SelectQuery, error) {
	for _, f := range fs {
		var err error
		if q, err = f(c, q); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// boolFilter filters column by the boolean query parameter param.
func boolFilter(param, column string) func(*fiber.Ctx, *bun.SelectQuery) (*bun.SelectQuery, error) {
	return func(c *fiber.Ctx, q *bun.SelectQuery) (*bun.SelectQuery, error) {
		v := c.Query(param)
		if v == "" {
			return q, nil
		}
		b, err := parseBool(param, v)
		if err != nil {
			return nil, err
		}
		return q.Where("? = ?", bun.Ident(column), b), nil
	}
}

// nameFilter is q: the name contains it, without regard to case.
func nameFilter(c *fiber.Ctx, q *bun.SelectQuery) (*bun.SelectQuery, error) {
	if v := c.Query("q"); v != "" {
		q = q.Where("name ILIKE ?", "%"+escapeLike(v)+"%")
	}
	return q, nil
}

// writeConfig creates rec (before nil) or updates it over before, as the actor the request
// authenticated, and answers it with status.
func writeConfig[T any](c *fiber.Ctx, db bun.IDB, r *configResource[T], rec, before *T, action string, status int) error {
	out, err := saveConfig(c, db, r, rec, before, action)
	if err != nil {
		return err
	}
	return c.Status(status).JSON(out)
}

func saveConfig[T any](c *fiber.Ctx, db bun.IDB, r *configResource[T], rec, before *T, action string) (*T, error) {
	actor := principal(c).Person.ID
	if before == nil {
		return rec, r.create(c.UserContext(), db, actor, rec, action)
	}
	return r.update(c.UserContext(), db, actor, rec, before, action, nil)
}
