package api

// Custom field definitions, display rules and the ticket form they make.
//
// A custom field definition gives a key of a ticket's (or person's) customFields a label, a type
// and, for the select types, its options. Display rules shape the ticket form: every active
// ticket custom field starts visible, optional and editable; then the enabled display rules whose
// condition matches the ticket apply in position order, each setting the visibility,
// requiredness and editability of the fields it names (a later matching rule overrides an
// earlier one for those fields). A condition that fails at run time (a wrong type, a missing
// map) counts as not matched.
//
// Ticket creates and PATCHes are checked against the form of the ticket they produce (see
// enforceForm). Keys without an active definition are free-form and stay unchecked, so tickets
// keep working when no definitions exist.

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

func (s *Server) formRoutes(r fiber.Router) {
	r.Post("/custom-fields", requirePerm(PermConfigWrite), s.createCustomField)
	r.Get("/custom-fields", requirePerm(PermConfigRead), s.listCustomFields)
	r.Get("/custom-fields/:id", requirePerm(PermConfigRead), getOne("id", s.loadCustomField))
	r.Patch("/custom-fields/:id", requirePerm(PermConfigWrite), s.updateCustomField)
	r.Delete("/custom-fields/:id", requirePerm(PermConfigWrite), s.deactivateCustomField)

	r.Post("/display-rules", requirePerm(PermConfigWrite), s.createDisplayRule)
	r.Get("/display-rules", requirePerm(PermConfigRead), s.listDisplayRules)
	r.Get("/display-rules/:id", requirePerm(PermConfigRead), getOne("id", s.loadDisplayRule))
	r.Patch("/display-rules/:id", requirePerm(PermConfigWrite), s.updateDisplayRule)
	r.Delete("/display-rules/:id", requirePerm(PermConfigWrite), s.deleteDisplayRule)

	r.Post("/forms/ticket/evaluate", requirePerm(PermTicketsRead), s.evaluateTicketForm)
}

// Entities that carry custom fields.
const (
	entityTicket = "ticket"
	entityPerson = "person"
)

var fieldKeyPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,49}$`)

func isSelect(typ string) bool {
	return typ == schema.FieldSingleSelect || typ == schema.FieldMultiSelect
}

// --- custom field definitions

type customFieldInput struct {
	Entity   *string   `json:"entity"`
	Key      *string   `json:"key"`
	Label    *string   `json:"label" validate:"omitnil,notblank,max=100"`
	Type     *string   `json:"type"`
	Options  *[]string `json:"options" validate:"omitnil,max=500,dive,notblank,max=100"`
	IsActive *bool     `json:"isActive"`
	Position *int      `json:"position" validate:"omitnil,gte=0,lte=1000000"`
}

func (s *Server) createCustomField(c *fiber.Ctx) error {
	var in customFieldInput
	if err := decode(c, &in); err != nil {
		return err
	}
	fields := map[string]string{}
	for name, missing := range map[string]bool{"key": in.Key == nil, "label": in.Label == nil, "type": in.Type == nil} {
		if missing {
			fields[name] = "is required"
		}
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	now := time.Now().UTC()
	f := schema.CustomField{ID: uuid.Must(uuid.NewV7()).String(), Entity: entityTicket, Key: *in.Key,
		IsActive: true, Options: []string{}, CreatedAt: now, UpdatedAt: now}
	set(&f.Entity, in.Entity)
	return s.saveCustomField(c, &f, nil, in, "create", fiber.StatusCreated)
}

func (s *Server) updateCustomField(c *fiber.Ctx) error {
	var in customFieldInput
	if err := decode(c, &in); err != nil {
		return err
	}
	before, err := s.loadCustomField(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	fields := map[string]string{}
	if in.Entity != nil && *in.Entity != before.Entity {
		fields["entity"] = "cannot be changed; define a new field instead"
	}
	if in.Key != nil && *in.Key != before.Key {
		fields["key"] = "cannot be changed; define a new field instead"
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	f := *before
	f.UpdatedAt = time.Now().UTC()
	return s.saveCustomField(c, &f, before, in, "update", fiber.StatusOK)
}

func (s *Server) deactivateCustomField(c *fiber.Ctx) error {
	before, err := s.loadCustomField(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	off := false
	f := *before
	f.UpdatedAt = time.Now().UTC()
	return s.saveCustomField(c, &f, before, customFieldInput{IsActive: &off}, "deactivate", fiber.StatusOK)
}

// saveCustomField applies the input, checks the definition as a whole and writes it with its
// audit entry.
func (s *Server) saveCustomField(c *fiber.Ctx, f, before *schema.CustomField, in customFieldInput, action string, status int) error {
	if in.Label != nil {
		f.Label = strings.TrimSpace(*in.Label)
	}
	set(&f.Type, in.Type)
	set(&f.IsActive, in.IsActive)
	set(&f.Position, in.Position)
	if in.Options != nil {
		f.Options = *in.Options
	} else if !isSelect(f.Type) {
		f.Options = []string{} // a select turned into another type drops its options
	}
	f.Options = orEmpty(f.Options)
	if fields := checkCustomField(f, in.Options != nil); len(fields) > 0 {
		return errInvalid(fields)
	}
	return writeConfig(c, s.db, s.customFields(), f, before, action, status)
}

// customFields and displayRules are resources whose writes reset this server's form cache.
func (s *Server) customFields() *configResource[schema.CustomField] {
	return &configResource[schema.CustomField]{entity: "custom_field", noun: "custom field",
		columns:   []string{"label", "type", "options", "is_active", "position", "updated_at"},
		id:        func(f *schema.CustomField) string { return f.ID },
		normalize: func(f *schema.CustomField) { f.Options = orEmpty(f.Options) },
		writeError: func(f *schema.CustomField, err error) error {
			if uniqueViolation(err) {
				return errConflict("a %s custom field with key %q exists already", f.Entity, f.Key)
			}
			return err
		},
		written: s.forms().invalidate,
	}
}

func (s *Server) displayRules() *configResource[schema.DisplayRule] {
	return &configResource[schema.DisplayRule]{entity: "display_rule", noun: "display rule",
		columns:   []string{"name", "entity", "condition", "fields", "position", "enabled", "updated_at"},
		id:        func(r *schema.DisplayRule) string { return r.ID },
		version:   func(r *schema.DisplayRule) *int { return &r.Version },
		normalize: func(r *schema.DisplayRule) { r.Fields = orEmptyOf(r.Fields) },
		written:   s.forms().invalidate,
	}
}

// checkCustomField names what is wrong with a definition. optionsSent is whether the request
// gave options (only the select types take them).
func checkCustomField(f *schema.CustomField, optionsSent bool) map[string]string {
	fields := map[string]string{}
	if f.Entity != entityTicket && f.Entity != entityPerson {
		fields["entity"] = "must be one of: ticket person"
	}
	if !fieldKeyPattern.MatchString(f.Key) {
		fields["key"] = "must start with a letter and hold only letters, digits and _ (at most 50 characters)"
	}
	if f.Label == "" {
		fields["label"] = "must not be blank"
	}
	if !slices.Contains(schema.FieldTypes, f.Type) {
		fields["type"] = "must be one of: " + strings.Join(schema.FieldTypes, " ")
		return fields
	}
	switch {
	case isSelect(f.Type) && len(f.Options) == 0:
		fields["options"] = "is required for a " + f.Type + " field: give at least one option"
	case isSelect(f.Type):
		for i, o := range f.Options {
			if slices.Index(f.Options, o) < i {
				fields["options["+itoa(i)+"]"] = fmt.Sprintf("%q is listed twice", o)
			}
		}
	case optionsSent && len(f.Options) > 0:
		fields["options"] = "only single_select and multi_select fields take options"
	}
	return fields
}

func (s *Server) loadCustomField(ctx context.Context, id string) (*schema.CustomField, error) {
	return s.customFields().load(ctx, s.db, id)
}

// positionCursor pages a list ordered by (position, id).
func positionCursor(cur *cursor) (int, error) {
	n, err := strconv.Atoi(cur.Value)
	if err != nil {
		return 0, errField("cursor", "is not a cursor this API issued; use next_cursor from the previous page")
	}
	return n, nil
}

func (s *Server) listCustomFields(c *fiber.Ctx) error {
	return s.customFields().list(c, s.db, configList[schema.CustomField]{
		position: func(f *schema.CustomField) int { return f.Position },
		filter: func(c *fiber.Ctx, q *bun.SelectQuery) (*bun.SelectQuery, error) {
			if v := c.Query("entity"); v != "" {
				if v != entityTicket && v != entityPerson {
					return nil, errField("entity", "must be ticket or person")
				}
				q = q.Where("entity = ?", v)
			}
			q, err := boolFilter("isActive", "is_active")(c, q)
			if v := c.Query("type"); v != "" && err == nil {
				q = q.Where("type IN (?)", bun.In(csv(v)))
			}
			return q, err
		},
	})
}

// --- display rules

type displayRuleInput struct {
	Name      *string                  `json:"name" validate:"omitnil,notblank,max=200"`
	Entity    *string                  `json:"entity"`
	Condition *string                  `json:"condition"`
	Fields    *[]displayRuleFieldInput `json:"fields" validate:"omitnil,max=200,dive"`
	Position  *int                     `json:"position" validate:"omitnil,gte=0,lte=1000000"`
	Enabled   *bool                    `json:"enabled"`
}

// displayRuleFieldInput is how a rule shows a field; an absent flag takes its default (visible,
// optional, editable).
type displayRuleFieldInput struct {
	Key      string `json:"key" validate:"required,max=50"`
	Visible  *bool  `json:"visible"`
	Required *bool  `json:"required"`
	ReadOnly *bool  `json:"readOnly"`
}

func (s *Server) createDisplayRule(c *fiber.Ctx) error {
	var in displayRuleInput
	if err := decode(c, &in); err != nil {
		return err
	}
	fields := map[string]string{}
	if in.Name == nil {
		fields["name"] = "is required"
	}
	if in.Fields == nil {
		fields["fields"] = "is required"
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	now := time.Now().UTC()
	r := schema.DisplayRule{ID: uuid.Must(uuid.NewV7()).String(), Entity: entityTicket, Enabled: true, Version: 1,
		Fields: []schema.DisplayRuleField{}, CreatedAt: now, UpdatedAt: now}
	return s.saveDisplayRule(c, &r, nil, in, "create", fiber.StatusCreated)
}

func (s *Server) updateDisplayRule(c *fiber.Ctx) error {
	var in displayRuleInput
	if err := decode(c, &in); err != nil {
		return err
	}
	before, err := s.loadDisplayRule(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	r := *before
	r.UpdatedAt = time.Now().UTC()
	return s.saveDisplayRule(c, &r, before, in, "update", fiber.StatusOK)
}

// saveDisplayRule applies the input, compiles the condition, checks that every field names an
// active custom field of the rule's entity, and writes the rule with its audit entry.
func (s *Server) saveDisplayRule(c *fiber.Ctx, r, before *schema.DisplayRule, in displayRuleInput, action string, status int) error {
	ctx := c.UserContext()
	if in.Name != nil {
		r.Name = strings.TrimSpace(*in.Name)
	}
	set(&r.Entity, in.Entity)
	if in.Condition != nil {
		r.Condition = strings.TrimSpace(*in.Condition)
	}
	set(&r.Position, in.Position)
	set(&r.Enabled, in.Enabled)
	fields := map[string]string{}
	if r.Entity != entityTicket {
		fields["entity"] = "must be ticket: display rules shape the ticket form"
	}
	// The condition is checked when it is new, sent, or the rule is turned on: a stored rule
	// that no longer compiles can still be disabled, renamed or deleted.
	if before == nil || in.Condition != nil || (r.Enabled && !before.Enabled) {
		if _, err := rules.Compile(r.Condition); err != nil {
			fields["condition"] = err.Error()
		}
	}
	if in.Fields != nil {
		r.Fields = make([]schema.DisplayRuleField, len(*in.Fields))
		for i, f := range *in.Fields {
			r.Fields[i] = schema.DisplayRuleField{Key: f.Key, Visible: f.Visible == nil || *f.Visible,
				Required: f.Required != nil && *f.Required, ReadOnly: f.ReadOnly != nil && *f.ReadOnly}
		}
		if err := s.checkRuleFields(ctx, r, fields); err != nil {
			return err
		}
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	return writeConfig(c, s.db, s.displayRules(), r, before, action, status)
}

// checkRuleFields records in fields each rule field that does not name an active custom field of
// the rule's entity, names one twice, or asks for a hidden or read-only field to be required.
func (s *Server) checkRuleFields(ctx context.Context, r *schema.DisplayRule, fields map[string]string) error {
	if len(r.Fields) == 0 {
		fields["fields"] = "name at least one custom field"
		return nil
	}
	keys := make([]string, len(r.Fields))
	for i, f := range r.Fields {
		keys[i] = f.Key
	}
	var defs []schema.CustomField
	if err := s.db.NewSelect().Model(&defs).Column("key", "is_active").
		Where("entity = ? AND key IN (?)", r.Entity, bun.In(keys)).Scan(ctx); err != nil {
		return err
	}
	for i, f := range r.Fields {
		at := slices.IndexFunc(defs, func(d schema.CustomField) bool { return d.Key == f.Key })
		name := "fields[" + itoa(i) + "]"
		switch {
		case at < 0:
			fields[name+".key"] = fmt.Sprintf("no %s custom field with key %q", r.Entity, f.Key)
		case !defs[at].IsActive:
			fields[name+".key"] = fmt.Sprintf("custom field %q is deactivated", f.Key)
		case slices.Index(keys, f.Key) < i:
			fields[name+".key"] = fmt.Sprintf("%q is named twice in this rule", f.Key)
		case f.Required && (!f.Visible || f.ReadOnly):
			fields[name+".required"] = "a hidden or read-only field cannot be required"
		}
	}
	return nil
}

func (s *Server) deleteDisplayRule(c *fiber.Ctx) error {
	ctx := c.UserContext()
	rs := s.displayRules()
	before, err := rs.load(ctx, s.db, c.Params("id"))
	if err != nil {
		return err
	}
	if err := rs.remove(ctx, s.db, principal(c).Person.ID, before, nil); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) loadDisplayRule(ctx context.Context, id string) (*schema.DisplayRule, error) {
	return s.displayRules().load(ctx, s.db, id)
}

func (s *Server) listDisplayRules(c *fiber.Ctx) error {
	return s.displayRules().list(c, s.db, configList[schema.DisplayRule]{
		position: func(r *schema.DisplayRule) int { return r.Position },
		filter: func(c *fiber.Ctx, q *bun.SelectQuery) (*bun.SelectQuery, error) {
			if v := c.Query("entity"); v != "" {
				if v != entityTicket {
					return nil, errField("entity", "must be ticket")
				}
				q = q.Where("entity = ?", v)
			}
			q, err := boolFilter("enabled", "enabled")(c, q)
			if v := c.Query("fieldKey"); v != "" && err == nil {
				q = q.Where("fields @> ?::jsonb", fmt.Sprintf(`[{"key":%q}]`, v))
			}
			return q, err
		},
	})
}

// --- the form configuration, cached

// formCacheTTL is how long an API instance uses the definitions and rules it read. Changes made
// through this instance apply at once; changes made through another within this time.
const formCacheTTL = 5 * time.Second

// newForm is the form of the active ticket custom fields and the enabled display rules, both in
// position order, the rules' conditions compiled.
func newForm(defs []schema.CustomField, rs []schema.DisplayRule, programs []*vm.Program) *rules.Form {
	fd := make([]rules.FieldDef, len(defs))
	for i, d := range defs {
		fd[i] = rules.FieldDef{Key: d.Key, Label: d.Label, Type: d.Type, Options: orEmpty(d.Options)}
	}
	fr := make([]rules.FormRule, len(rs))
	for i, r := range rs {
		fr[i] = rules.FormRule{ID: r.ID, Program: programs[i], Fields: make([]rules.FieldRule, len(r.Fields))}
		for j, f := range r.Fields {
			fr[i].Fields[j] = rules.FieldRule{Key: f.Key, Visible: f.Visible, Required: f.Required, ReadOnly: f.ReadOnly}
		}
	}
	return rules.NewForm(fd, fr)
}

type formCache struct {
	mu       sync.Mutex
	cfg      *rules.Form
	loadedAt time.Time
	gen      uint64 // rises on every invalidation, so a load that raced one is not kept
	programs *rules.Cache
}

var formCaches sync.Map // *Server -> *formCache

func (s *Server) forms() *formCache {
	if fc, ok := formCaches.Load(s); ok {
		return fc.(*formCache)
	}
	fc, _ := formCaches.LoadOrStore(s, &formCache{programs: rules.NewCache()})
	return fc.(*formCache)
}

func (fc *formCache) invalidate() {
	fc.mu.Lock()
	fc.cfg, fc.gen = nil, fc.gen+1
	fc.mu.Unlock()
}

// formConfig returns the form configuration, read at most every formCacheTTL with one query.
func (s *Server) formConfig(ctx context.Context) (*rules.Form, error) {
	fc := s.forms()
	fc.mu.Lock()
	cfg, gen := fc.cfg, fc.gen
	fresh := cfg != nil && time.Since(fc.loadedAt) < formCacheTTL
	fc.mu.Unlock()
	if fresh {
		return cfg, nil
	}
	var rawDefs, rawRules string
	err := s.db.NewRaw(`SELECT
  (SELECT COALESCE(json_agg(json_build_object('id', id, 'entity', entity, 'key', key, 'label', label, 'type', type,
      'options', options, 'isActive', is_active, 'position', position) ORDER BY position, key), '[]')
     FROM custom_fields WHERE entity = 'ticket' AND is_active),
  (SELECT COALESCE(json_agg(json_build_object('id', id, 'name', name, 'entity', entity, 'condition', condition,
      'fields', fields, 'position', position, 'enabled', enabled, 'version', version) ORDER BY position, id), '[]')
     FROM display_rules WHERE entity = 'ticket' AND enabled)`).Scan(ctx, &rawDefs, &rawRules)
	if err != nil {
		return nil, err
	}
	var defs []schema.CustomField
	var drs []schema.DisplayRule
	if err := json.Unmarshal([]byte(rawDefs), &defs); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(rawRules), &drs); err != nil {
		return nil, err
	}
	rs := make([]schema.DisplayRule, 0, len(drs))
	var programs []*vm.Program
	for _, r := range drs {
		p, err := fc.programs.Program(r.ID, r.Version, r.Condition)
		if err != nil { // refused when saved; only a changed environment gets here
			s.log.Warn("display rule condition does not compile; the rule is skipped", "rule", r.ID, "err", err)
			continue
		}
		rs, programs = append(rs, r), append(programs, p)
	}
	cfg = newForm(defs, rs, programs)
	fc.mu.Lock()
	if fc.gen == gen {
		fc.cfg, fc.loadedAt = cfg, time.Now()
	}
	fc.mu.Unlock()
	return cfg, nil
}

// --- the layout

type formLayout struct {
	Fields []rules.FormField `json:"fields"`
}

// formEnv is the environment display-rule conditions see for a ticket form.
func formEnv(p *Principal, t rules.Ticket) rules.Env {
	kind := "agent"
	if p.isCustomer() {
		kind = "customer"
	}
	return rules.FormEnv(t, rules.Actor{ID: p.Person.ID, Kind: kind}, time.Now().UTC())
}

// rulesTicket is a ticket as conditions see it; absent lists and maps are empty.
func rulesTicket(t *schema.Ticket) rules.Ticket {
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	cf := t.CustomFields
	if cf == nil {
		cf = map[string]any{}
	}
	return rules.Ticket{ID: t.ID, Protocol: t.Protocol, Type: t.Type, Subject: t.Subject, Category: t.Category,
		Urgency: t.Urgency, Status: t.Status, BaseStatus: t.BaseStatus, Origin: t.Origin, OwnerID: deref(t.OwnerID),
		TeamID: deref(t.TeamID), ClientIDs: orEmpty(t.ClientIDs), Tags: orEmpty(t.Tags), CustomFields: cf,
		ActionCount: t.ActionCount, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

// createdTicket is the ticket a create would make, before its id is reserved.
func createdTicket(nt *workflows.CreateTicket, now time.Time) schema.Ticket {
	t := schema.Ticket{Type: nt.Type, Subject: nt.Subject, Category: nt.Category, Urgency: nt.Urgency,
		Status: nt.Status, BaseStatus: nt.BaseStatus, Origin: nt.Origin, OwnerID: nt.OwnerID, TeamID: nt.TeamID,
		ClientIDs: nt.ClientIDs, Tags: nt.Tags, CustomFields: map[string]any{}, CreatedBy: nt.CreatedBy,
		CreatedAt: now, UpdatedAt: now}
	for k, v := range nt.CustomFields {
		if v != nil {
			t.CustomFields[k] = v
		}
	}
	if nt.Description != "" {
		t.ActionCount = 1
	}
	return t
}

// --- evaluate

// formDraft is a ticket being written, with the fields of POST /tickets, all optional. On an
// existing ticket (ticketId) the draft is applied to it as a PATCH would be.
type formDraft struct {
	Type         *string        `json:"type" validate:"omitnil,oneof=public internal"`
	Subject      *string        `json:"subject" validate:"omitnil,max=255"`
	Description  *string        `json:"description" validate:"omitnil,max=65536"`
	Category     *string        `json:"category" validate:"omitnil,max=100"`
	Urgency      *string        `json:"urgency" validate:"omitnil,max=60"`
	Status       *string        `json:"status" validate:"omitnil,max=60"`
	Origin       *int           `json:"origin"`
	OwnerID      *string        `json:"ownerId" validate:"omitnil,max=64"`
	TeamID       *string        `json:"teamId" validate:"omitnil,max=64"`
	ClientIDs    []string       `json:"clientIds" validate:"max=50,dive,max=64"`
	Tags         []string       `json:"tags" validate:"max=50,dive,max=50"`
	CustomFields map[string]any `json:"customFields" validate:"max=100"`
}

type formEvaluateInput struct {
	TicketID *int64    `json:"ticketId"`
	Ticket   formDraft `json:"ticket"`
}

func (s *Server) evaluateTicketForm(c *fiber.Ctx) error {
	var in formEvaluateInput
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.UserContext()
	p := principal(c)
	cfg, err := s.formConfig(ctx)
	if err != nil {
		return err
	}
	d := in.Ticket
	var t schema.Ticket
	if in.TicketID != nil {
		stored, err := s.visibleTicket(ctx, p, *in.TicketID)
		if err != nil {
			return err
		}
		t = *stored
		t.CustomFields = rules.MergeCustomFields(t.CustomFields, d.CustomFields)
	} else {
		now := time.Now().UTC()
		t = schema.Ticket{Type: "public", Status: schema.BaseNew, BaseStatus: schema.BaseNew, Origin: schema.OriginAPI,
			CreatedBy: p.Person.ID, CreatedAt: now, UpdatedAt: now, CustomFields: rules.MergeCustomFields(nil, d.CustomFields)}
		if p.isCustomer() {
			t.Origin, t.ClientIDs = schema.OriginWebCustomer, []string{p.Person.ID}
		}
		if d.Description != nil && *d.Description != "" {
			t.ActionCount = 1
		}
	}
	set(&t.Type, d.Type)
	set(&t.Subject, d.Subject)
	set(&t.Category, d.Category)
	set(&t.Urgency, d.Urgency)
	if !p.isCustomer() || in.TicketID != nil {
		set(&t.Origin, d.Origin)
		if d.OwnerID != nil {
			t.OwnerID = nilIfEmpty(*d.OwnerID)
		}
		if d.TeamID != nil {
			t.TeamID = nilIfEmpty(*d.TeamID)
		}
		if d.ClientIDs != nil {
			t.ClientIDs = uniq(d.ClientIDs)
		}
	}
	if d.Tags != nil {
		t.Tags = uniq(d.Tags)
	}
	if d.Status != nil && *d.Status != t.Status {
		t.Status, t.BaseStatus = *d.Status, ""
		if st, err := s.loadStatus(ctx, *d.Status); err == nil {
			t.BaseStatus = st.BaseStatus
		} else if toAPIError(err).Status != fiber.StatusNotFound {
			return err
		}
	}
	fields := cfg.Layout(formEnv(p, rulesTicket(&t)))
	return c.JSON(formLayout{Fields: orEmptyOf(fields)})
}

// visibleTicket reads a ticket the principal may see, as a 404 otherwise.
func (s *Server) visibleTicket(ctx context.Context, p *Principal, id int64) (*schema.Ticket, error) {
	t, err := findOne[schema.Ticket](ctx, s.db, "id", id, "no ticket %d", id)
	if err != nil {
		return nil, err
	}
	clients, err := s.visibleClients(ctx, p)
	if err != nil {
		return nil, err
	}
	if !canSee(t, clients) {
		return nil, errNotFound("no ticket %d", id)
	}
	return t, nil
}

// --- enforcement

// formChange is a ticket write to check against the form: a create (Create, resolved) or a
// PATCH (Patch) of a stored ticket (Stored).
type formChange struct {
	Create *workflows.CreateTicket
	Stored *schema.Ticket
	Patch  *ticketPatch
}

// enforceForm checks a ticket create or PATCH against the form of the ticket it produces. It is
// a 422 naming customFields.<key> when a visible required field ends up missing or empty, a
// hidden field is sent (non-null), a read-only field is changed (on create: sent at all, since
// its default is absent), or a value does not fit its definition. Keys that no active
// definition names are free-form and pass unchecked. With no active definitions it costs
// nothing beyond the cached configuration read.
func (s *Server) enforceForm(c *fiber.Ctx, ch formChange) error {
	ctx := c.UserContext()
	cfg, err := s.formConfig(ctx)
	if err != nil || cfg.Empty() {
		return err
	}
	var t schema.Ticket
	var before, sent map[string]any
	switch {
	case ch.Create != nil:
		t, sent = createdTicket(ch.Create, time.Now().UTC()), ch.Create.CustomFields
	case ch.Stored != nil && ch.Patch != nil:
		if workflows.IsTerminal(ch.Stored.BaseStatus) {
			return nil // the change is refused as a conflict anyway
		}
		t, before, sent = *ch.Stored, ch.Stored.CustomFields, ch.Patch.CustomFields
		p := ch.Patch
		set(&t.Subject, p.Subject)
		set(&t.Category, p.Category)
		set(&t.Urgency, p.Urgency)
		set(&t.Type, p.Type)
		if p.Tags != nil {
			t.Tags = *p.Tags
		}
		t.CustomFields = rules.MergeCustomFields(before, sent)
		t.UpdatedAt = time.Now().UTC()
	default:
		return nil
	}
	layout := cfg.Layout(formEnv(principal(c), rulesTicket(&t)))
	fields, refs := cfg.Check(layout, ch.Create != nil, before, sent, t.CustomFields)
	if err := s.checkFieldRefs(ctx, refs, fields); err != nil {
		return err
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	return nil
}

// checkFieldRefs records in fields each person or team id that does not exist.
func (s *Server) checkFieldRefs(ctx context.Context, refs []rules.FieldRef, fields map[string]string) error {
	ids := map[string][]string{}
	for _, r := range refs {
		ids[r.Type] = append(ids[r.Type], r.ID)
	}
	found := map[string][]string{}
	for typ, list := range ids {
		var model any = (*schema.Person)(nil)
		if typ == schema.FieldTeam {
			model = (*schema.Team)(nil)
		}
		var got []string
		if err := s.db.NewSelect().Model(model).Column("id").Where("id IN (?)", bun.In(list)).Scan(ctx, &got); err != nil {
			return err
		}
		found[typ] = got
	}
	for _, r := range refs {
		if !slices.Contains(found[r.Type], r.ID) {
			fields[r.Field] = fmt.Sprintf("no %s with id %s", r.Type, r.ID)
		}
	}
	return nil
}
