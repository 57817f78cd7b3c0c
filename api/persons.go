package api

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/switchboardhq/switchboard/schema"
)

func (s *Server) personRoutes(r fiber.Router) {
	r.Post("/persons", requirePerm(PermPeopleWrite), s.createPerson)
	r.Get("/persons", requirePerm(PermPeopleRead), s.listPersons)
	r.Get("/persons/:id", requirePerm(PermPeopleRead), getOne("id", s.loadPerson))
	r.Patch("/persons/:id", requirePerm(PermPeopleWrite), s.updatePerson)
	r.Delete("/persons/:id", requirePerm(PermPeopleWrite), s.deactivatePerson)
	r.Post("/persons/:id/tokens", requirePerm(PermPeopleWrite), s.createPersonToken)
	r.Get("/persons/:id/tokens", requirePerm(PermPeopleRead), s.listPersonTokens)
	r.Delete("/persons/:id/tokens/:tokenId", requirePerm(PermPeopleWrite), s.revokePersonToken)
}

// personInput is a person as clients send it; on update, absent fields stay as they are.
type personInput struct {
	Kind           *string         `json:"kind" validate:"omitnil,oneof=person organization department"`
	Profile        *string         `json:"profile" validate:"omitnil,oneof=agent customer both"`
	Role           *string         `json:"role" validate:"omitnil,oneof=admin agent customer"`
	Name           *string         `json:"name" validate:"omitnil,notblank,max=200"`
	Emails         *[]string       `json:"emails" validate:"omitnil,max=20,dive,email,max=254"`
	Phones         *[]string       `json:"phones" validate:"omitnil,max=20,dive,min=3,max=40"`
	OrganizationID *string         `json:"organizationId" validate:"omitnil,max=64"`
	DepartmentIDs  *[]string       `json:"departmentIds" validate:"omitnil,max=50,dive,max=64"`
	BossID         *string         `json:"bossId" validate:"omitnil,max=64"`
	JobRole        *string         `json:"jobRole" validate:"omitnil,max=100"`
	Extension      *string         `json:"extension" validate:"omitnil,max=20"`
	SeesOrgTickets *bool           `json:"seesOrganizationTickets"`
	IsActive       *bool           `json:"isActive"`
	CustomFields   *map[string]any `json:"customFields" validate:"omitnil,max=100"`
}

func (in *personInput) apply(p *schema.Person) {
	set(&p.Kind, in.Kind)
	set(&p.Profile, in.Profile)
	set(&p.Role, in.Role)
	set(&p.Name, in.Name)
	set(&p.Emails, in.Emails)
	set(&p.Phones, in.Phones)
	set(&p.DepartmentIDs, in.DepartmentIDs)
	set(&p.SeesOrgTickets, in.SeesOrgTickets)
	set(&p.IsActive, in.IsActive)
	set(&p.CustomFields, in.CustomFields)
	if in.OrganizationID != nil {
		p.OrganizationID = nilIfEmpty(*in.OrganizationID)
	}
	if in.BossID != nil {
		p.BossID = nilIfEmpty(*in.BossID)
	}
	if in.JobRole != nil {
		p.JobRole = nilIfEmpty(*in.JobRole)
	}
	if in.Extension != nil {
		p.Extension = nilIfEmpty(*in.Extension)
	}
	for i, e := range p.Emails {
		p.Emails[i] = strings.ToLower(strings.TrimSpace(e))
	}
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func nilIfEmpty(s string) *string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return &s
}

func (s *Server) createPerson(c *fiber.Ctx) error {
	var in personInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Name == nil {
		return errField("name", "is required")
	}
	if in.Profile == nil {
		return errField("profile", "is required: agent, customer or both")
	}
	now := time.Now().UTC()
	p := schema.Person{ID: uuid.Must(uuid.NewV7()).String(), Kind: "person", IsActive: true,
		Emails: []string{}, Phones: []string{}, DepartmentIDs: []string{}, CustomFields: map[string]any{},
		CreatedAt: now, UpdatedAt: now}
	if *in.Profile == schema.RoleCustomer {
		p.Role = schema.RoleCustomer
	} else {
		p.Role = schema.RoleAgent
	}
	in.apply(&p)
	ctx := c.UserContext()
	if err := s.checkPerson(ctx, principal(c), &p, nil); err != nil {
		return err
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&p).Exec(ctx); err != nil {
			return err
		}
		return audit(ctx, tx, principal(c).Person.ID, "person", p.ID, "create", nil, p)
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

// checkPerson validates a person as a whole: the combination of kind, profile and role, the
// people it refers to, and e-mail uniqueness. before is the stored person on update.
func (s *Server) checkPerson(ctx context.Context, by *Principal, p *schema.Person, before *schema.Person) error {
	fields := map[string]string{}
	staff := p.Profile == schema.RoleAgent || p.Profile == "both"
	switch {
	case p.Role == schema.RoleCustomer && p.Profile != schema.RoleCustomer:
		fields["role"] = "must be admin or agent for the agent and both profiles"
	case p.Role != schema.RoleCustomer && !staff:
		fields["role"] = "must be customer for the customer profile"
	}
	if p.Kind != "person" && staff {
		fields["profile"] = "organizations and departments can only have the customer profile"
	}
	grantsAdmin := p.Role == schema.RoleAdmin && (before == nil || before.Role != schema.RoleAdmin)
	if (grantsAdmin || (before != nil && before.Role == schema.RoleAdmin && p.Role != schema.RoleAdmin)) &&
		by.Person.Role != schema.RoleAdmin {
		return errForbidden("only admins can grant or take away the admin role")
	}
	if p.OrganizationID != nil {
		if msg := s.checkRef(ctx, *p.OrganizationID, "organization"); msg != "" {
			fields["organizationId"] = msg
		}
	}
	for i, d := range p.DepartmentIDs {
		if msg := s.checkRef(ctx, d, "department"); msg != "" {
			fields["departmentIds["+itoa(i)+"]"] = msg
		}
	}
	if p.BossID != nil {
		if *p.BossID == p.ID {
			fields["bossId"] = "a person cannot be their own boss"
		} else if msg := s.checkRef(ctx, *p.BossID, "person"); msg != "" {
			fields["bossId"] = msg
		}
	}
	if p.JobRole != nil && (before == nil || deref(before.JobRole) != *p.JobRole) {
		var known bool
		if err := s.db.NewRaw("SELECT EXISTS (SELECT 1 FROM job_roles WHERE name = ?)", *p.JobRole).Scan(ctx, &known); err != nil {
			return err
		}
		if !known {
			fields["jobRole"] = fmt.Sprintf("no job role %q; admins maintain the list at /api/v1/job-roles", *p.JobRole)
		}
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	if len(p.Emails) > 0 {
		var other []string
		err := s.db.NewSelect().Model((*schema.Person)(nil)).Column("id").
			Where("emails && ?", pgdialect.Array(p.Emails)).Where("id <> ?", p.ID).Scan(ctx, &other)
		if err != nil {
			return err
		}
		if len(other) > 0 {
			return errConflict("an e-mail address of this person belongs to person %s already", other[0])
		}
	}
	return nil
}

// checkRef checks that id names an active person of the given kind; it returns what is wrong.
func (s *Server) checkRef(ctx context.Context, id, kind string) string {
	var p schema.Person
	err := s.db.NewSelect().Model(&p).Column("kind", "is_active").Where("id = ?", id).Scan(ctx)
	switch {
	case isNoRows(err):
		return "no person with id " + id
	case err != nil:
		return "could not be checked: " + err.Error()
	case p.Kind != kind:
		return "person " + id + " is a " + p.Kind + ", not a " + kind
	case !p.IsActive:
		return "person " + id + " is deactivated"
	}
	return ""
}

func (s *Server) loadPerson(ctx context.Context, id string) (*schema.Person, error) {
	return findOne[schema.Person](ctx, s.db, "id", id, "no person with id %s", id)
}

func (s *Server) updatePerson(c *fiber.Ctx) error {
	var in personInput
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.UserContext()
	before, err := s.loadPerson(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if before.Role == schema.RoleAdmin && principal(c).Person.Role != schema.RoleAdmin {
		return errForbidden("only admins can change admins")
	}
	p := *before
	p.Emails, p.Phones, p.DepartmentIDs = slices.Clone(p.Emails), slices.Clone(p.Phones), slices.Clone(p.DepartmentIDs)
	in.apply(&p)
	p.UpdatedAt = time.Now().UTC()
	if err := s.checkPerson(ctx, principal(c), &p, before); err != nil {
		return err
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model(&p).WherePK().Exec(ctx); err != nil {
			return err
		}
		if before.IsActive && !p.IsActive {
			if err := revokeTokensOf(ctx, tx, principal(c).Person.ID, p.ID); err != nil {
				return err
			}
		}
		return audit(ctx, tx, principal(c).Person.ID, "person", p.ID, "update", before, p)
	})
	if err != nil {
		return err
	}
	s.tokens.purge()
	if before.IsActive != p.IsActive || deref(before.JobRole) != deref(p.JobRole) {
		s.approversChanged(ctx, p.ID)
	}
	return c.JSON(p)
}

// deactivatePerson keeps the person (tickets refer to them) but turns them off: their tokens are
// revoked (a later reactivation does not revive them) and they can no longer be assigned.
func (s *Server) deactivatePerson(c *fiber.Ctx) error {
	ctx := c.UserContext()
	before, err := s.loadPerson(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if before.ID == principal(c).Person.ID {
		return errConflict("you cannot deactivate yourself")
	}
	if before.Role == schema.RoleAdmin && principal(c).Person.Role != schema.RoleAdmin {
		return errForbidden("only admins can deactivate admins")
	}
	p := *before
	p.IsActive, p.UpdatedAt = false, time.Now().UTC()
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model(&p).Column("is_active", "updated_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		if err := revokeTokensOf(ctx, tx, principal(c).Person.ID, p.ID); err != nil {
			return err
		}
		return audit(ctx, tx, principal(c).Person.ID, "person", p.ID, "deactivate", before, p)
	})
	if err != nil {
		return err
	}
	s.tokens.purge()
	s.approversChanged(ctx, p.ID)
	return c.JSON(p)
}

func (s *Server) listPersons(c *fiber.Ctx) error {
	limit, cur, err := pageParams(c)
	if err != nil {
		return err
	}
	q := s.db.NewSelect().Model((*schema.Person)(nil)).OrderExpr("id ASC").Limit(int64(limit + 1))
	if cur != nil {
		q = q.Where("id > ?", cur.ID)
	}
	filters := []struct{ param, column, allowed string }{
		{"kind", "kind", "person organization department"},
		{"profile", "profile", "agent customer both"},
		{"role", "role", "admin agent customer"},
		{"organizationId", "organization_id", ""},
	}
	for _, f := range filters {
		if v := c.Query(f.param); v != "" {
			if f.allowed != "" && !slices.Contains(strings.Fields(f.allowed), v) {
				return errField(f.param, "must be one of: %s", f.allowed)
			}
			q = q.Where("? = ?", bun.Ident(f.column), v)
		}
	}
	if v := c.Query("isActive"); v != "" {
		b, err := parseBool("isActive", v)
		if err != nil {
			return err
		}
		q = q.Where("is_active = ?", b)
	}
	if v := c.Query("email"); v != "" {
		q = q.Where("? = ANY(emails)", strings.ToLower(v))
	}
	if v := c.Query("phone"); v != "" {
		q = q.Where("? = ANY(phones)", v)
	}
	if v := c.Query("q"); v != "" {
		q = q.Where("name ILIKE ?", "%"+escapeLike(v)+"%")
	}
	var rows []schema.Person
	if err := q.Scan(c.UserContext(), &rows); err != nil {
		return err
	}
	return c.JSON(makePage(rows, limit, func(p schema.Person) cursor { return cursor{ID: p.ID} }))
}

type tokenInput struct {
	Name   string   `json:"name" validate:"notblank,max=100"`
	Scopes []string `json:"scopes" validate:"max=10"`
}

// createPersonToken mints a token, within what checkMint allows. The token is in the answer
// once, and never in a stored Idempotency-Key answer.
func (s *Server) createPersonToken(c *fiber.Ctx) error {
	var in tokenInput
	if err := decode(c, &in); err != nil {
		return err
	}
	by := principal(c)
	ctx := c.UserContext()
	p, err := s.loadPerson(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if err := checkMint(by, p, in.Scopes); err != nil {
		return err
	}
	if !p.IsActive {
		return errConflict("person %s is deactivated", p.ID)
	}
	token := NewToken()
	var t *schema.APIToken
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if t, err = CreateToken(ctx, tx, p.ID, in.Name, in.Scopes, token); err != nil {
			return err
		}
		return audit(ctx, tx, by.Person.ID, "token", t.ID, "create", nil, fiber.Map{"personId": p.ID, "name": t.Name, "scopes": t.Scopes})
	})
	if err != nil {
		return err
	}
	shownOnce(c, "token")
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": t.ID, "personId": p.ID, "name": t.Name,
		"scopes": t.Scopes, "token": token, "createdAt": t.CreatedAt})
}

// tokenView is a token as listed: never its secret or hash.
type tokenView struct {
	ID        string     `json:"id"`
	PersonID  string     `json:"personId"`
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	CreatedAt time.Time  `json:"createdAt"`
	RevokedAt *time.Time `json:"revokedAt"`
}

func viewToken(t schema.APIToken) tokenView {
	return tokenView{ID: t.ID, PersonID: t.PersonID, Name: t.Name, Scopes: orEmpty(t.Scopes), CreatedAt: t.CreatedAt, RevokedAt: t.RevokedAt}
}

// tokenOwner loads the person of a token route; only that person and admins manage their tokens.
func (s *Server) tokenOwner(c *fiber.Ctx) (*schema.Person, error) {
	by := principal(c)
	if by.Person.ID != c.Params("id") && by.Person.Role != schema.RoleAdmin {
		return nil, errForbidden("only admins manage other people's tokens")
	}
	return s.loadPerson(c.UserContext(), c.Params("id"))
}

// listPersonTokens lists a person's tokens, revoked ones included, newest first.
func (s *Server) listPersonTokens(c *fiber.Ctx) error {
	p, err := s.tokenOwner(c)
	if err != nil {
		return err
	}
	limit, cur, err := pageParams(c)
	if err != nil {
		return err
	}
	q := s.db.NewSelect().Model((*schema.APIToken)(nil)).Where("person_id = ?", p.ID).
		OrderExpr("id DESC").Limit(int64(limit + 1))
	if cur != nil {
		q = q.Where("id < ?", cur.ID)
	}
	var rows []schema.APIToken
	if err := q.Scan(c.UserContext(), &rows); err != nil {
		return err
	}
	views := make([]tokenView, len(rows))
	for i, t := range rows {
		views[i] = viewToken(t)
	}
	return c.JSON(makePage(views, limit, func(t tokenView) cursor { return cursor{ID: t.ID} }))
}

// revokePersonToken revokes a token at once on this instance (the token cache is purged) and
// within the cache's TTL on others. Revoking a revoked token changes nothing.
func (s *Server) revokePersonToken(c *fiber.Ctx) error {
	p, err := s.tokenOwner(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	var t schema.APIToken
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewSelect().Model(&t).Where("id = ? AND person_id = ?", c.Params("tokenId"), p.ID).For("UPDATE").Scan(ctx)
		if isNoRows(err) {
			return errNotFound("person %s has no token %s", p.ID, c.Params("tokenId"))
		}
		if err != nil || t.RevokedAt != nil {
			return err
		}
		before := viewToken(t)
		now := time.Now().UTC()
		t.RevokedAt = &now
		if _, err := tx.NewUpdate().Model(&t).Column("revoked_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		return audit(ctx, tx, principal(c).Person.ID, "token", t.ID, "revoke", before, viewToken(t))
	})
	if err != nil {
		return err
	}
	s.tokens.purge()
	return c.JSON(viewToken(t))
}

// revokeTokensOf revokes every live token of a person (on deactivation), audited as one entry.
func revokeTokensOf(ctx context.Context, tx bun.Tx, by, personID string) error {
	var ids []string
	err := tx.NewUpdate().Model((*schema.APIToken)(nil)).Set("revoked_at = now()").
		Where("person_id = ? AND revoked_at IS NULL", personID).Returning("id").Scan(ctx, &ids)
	if err != nil || len(ids) == 0 {
		return err
	}
	return audit(ctx, tx, by, "person", personID, "revoke-tokens", nil, fiber.Map{"tokenIds": ids})
}
