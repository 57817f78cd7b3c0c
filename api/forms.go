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
	"reflect"
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

// formConfig is what the ticket form is made of: the active ticket custom fields in position
// order and the enabled ticket display rules, compiled, in position order.
type formConfig struct {
	defs  []schema.CustomField
	byKey map[string]*schema.CustomField
	rules []formRule
}

type formRule struct {
	schema.DisplayRule
	program *vm.Program
}

func newFormConfig(defs []schema.CustomField, rs []formRule) *formConfig {
	cfg := &formConfig{defs: defs, rules: rs, byKey: make(map[string]*schema.CustomField, len(defs))}
	for i := range cfg.defs {
		cfg.defs[i].Options = orEmpty(cfg.defs[i].Options)
		cfg.byKey[cfg.defs[i].Key] = &cfg.defs[i]
	}
	return cfg
}

type formCache struct {
	mu       sync.Mutex
	cfg      *formConfig
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
func (s *Server) formConfig(ctx context.Context) (*formConfig, error) {
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
	rs := make([]formRule, 0, len(drs))
	for _, r := range drs {
		p, err := fc.programs.Program(r.ID, r.Version, r.Condition)
		if err != nil { // refused when saved; only a changed environment gets here
			s.log.Warn("display rule condition does not compile; the rule is skipped", "rule", r.ID, "err", err)
			continue
		}
		rs = append(rs, formRule{DisplayRule: r, program: p})
	}
	cfg = newFormConfig(defs, rs)
	fc.mu.Lock()
	if fc.gen == gen {
		fc.cfg, fc.loadedAt = cfg, time.Now()
	}
	fc.mu.Unlock()
	return cfg, nil
}

// --- the layout

// formField is one custom field as the form shows it.
type formField struct {
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Options  []string `json:"options"`
	Visible  bool     `json:"visible"`
	Required bool     `json:"required"`
	ReadOnly bool     `json:"readOnly"`
}

type formLayout struct {
	Fields []formField `json:"fields"`
}

// layout is the form for a ticket: every active custom field visible, optional and editable,
// then each matching rule, in order, setting the fields it names. A rule whose condition fails
// at run time does not match.
func (cfg *formConfig) layout(env rules.Env) []formField {
	out := make([]formField, len(cfg.defs))
	at := make(map[string]int, len(cfg.defs))
	for i, d := range cfg.defs {
		out[i] = formField{Key: d.Key, Label: d.Label, Type: d.Type, Options: d.Options, Visible: true}
		at[d.Key] = i
	}
	for _, r := range cfg.rules {
		if ok, err := rules.Eval(r.program, env); !ok || err != nil {
			continue
		}
		for _, f := range r.Fields {
			if i, ok := at[f.Key]; ok {
				out[i].Visible, out[i].Required, out[i].ReadOnly = f.Visible, f.Required, f.ReadOnly
			}
		}
	}
	return out
}

// formEnv is the environment display-rule conditions see for a ticket form.
func formEnv(p *Principal, t rules.Ticket) rules.Env {
	kind := "agent"
	if p.isCustomer() {
		kind = "customer"
	}
	return rules.NewEnv(t, rules.Event{Name: "form", Payload: map[string]any{}}, nil,
		rules.Actor{ID: p.Person.ID, Kind: kind}, time.Now().UTC())
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

// mergeCustomFields is what the ticket workflow does with a patch's customFields: null removes
// a key, anything else sets it.
func mergeCustomFields(stored, patch map[string]any) map[string]any {
	out := make(map[string]any, len(stored)+len(patch))
	for k, v := range stored {
		out[k] = v
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
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
		t.CustomFields = mergeCustomFields(t.CustomFields, d.CustomFields)
	} else {
		now := time.Now().UTC()
		t = schema.Ticket{Type: "public", Status: schema.BaseNew, BaseStatus: schema.BaseNew, Origin: schema.OriginAPI,
			CreatedBy: p.Person.ID, CreatedAt: now, UpdatedAt: now, CustomFields: mergeCustomFields(nil, d.CustomFields)}
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
	fields := cfg.layout(formEnv(p, rulesTicket(&t)))
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
	if err != nil || len(cfg.defs) == 0 {
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
		t.CustomFields = mergeCustomFields(before, sent)
		t.UpdatedAt = time.Now().UTC()
	default:
		return nil
	}
	layout := cfg.layout(formEnv(principal(c), rulesTicket(&t)))
	fields, refs := checkForm(cfg, layout, ch.Create != nil, before, sent, t.CustomFields)
	if err := s.checkFieldRefs(ctx, refs, fields); err != nil {
		return err
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	return nil
}

// fieldRef is a person or team id a custom field value names, to be checked for existence.
type fieldRef struct {
	field, typ, id string
}

// checkForm is enforceForm without the database: the invalid fields, and the person and team
// ids the sent values name. before is the stored custom fields (nil on create), sent the
// request's, after the ticket's once the change is applied.
func checkForm(cfg *formConfig, layout []formField, create bool, before, sent, after map[string]any) (map[string]string, []fieldRef) {
	fields := map[string]string{}
	var refs []fieldRef
	for _, f := range layout {
		name := "customFields." + f.Key
		v, isSent := sent[f.Key]
		switch {
		case isSent && v != nil && !f.Visible:
			fields[name] = "is hidden on this ticket's form; do not send it"
		case isSent && f.ReadOnly && (create && v != nil || !create && !reflect.DeepEqual(v, before[f.Key])):
			fields[name] = "is read-only on this ticket's form"
		case isSent && v != nil:
			msg, ref := checkFieldValue(cfg.byKey[f.Key], v)
			if msg != "" {
				fields[name] = msg
			} else if ref != "" {
				refs = append(refs, fieldRef{field: name, typ: f.Type, id: ref})
			}
		}
		if _, bad := fields[name]; !bad && f.Visible && f.Required && isEmptyValue(after[f.Key]) {
			fields[name] = "is required on this ticket's form"
		}
	}
	// A key that differs from a definition's only in case is almost surely a typo.
	for k := range sent {
		if _, ok := cfg.byKey[k]; ok {
			continue
		}
		for _, d := range cfg.defs {
			if strings.EqualFold(d.Key, k) {
				fields["customFields."+k] = fmt.Sprintf("the custom field is named %q", d.Key)
			}
		}
	}
	return fields, refs
}

// isEmptyValue is whether a required field counts as unanswered: absent, null, a blank string or
// an empty list. false and 0 are answers.
func isEmptyValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	case []string:
		return len(x) == 0
	}
	return false
}

// checkFieldValue says what is wrong with a value for its definition ("" when nothing), and, for
// person and team fields, the id to look up.
func checkFieldValue(d *schema.CustomField, v any) (msg, ref string) {
	switch d.Type {
	case schema.FieldText:
		if _, ok := v.(string); !ok {
			return "must be a string", ""
		}
	case schema.FieldNumber:
		switch v.(type) {
		case float64, float32, int, int64, json.Number:
		default:
			return "must be a number", ""
		}
	case schema.FieldBoolean:
		if _, ok := v.(bool); !ok {
			return "must be true or false", ""
		}
	case schema.FieldDate:
		s, ok := v.(string)
		if !ok || !isDate(s) {
			return "must be a date (YYYY-MM-DD) or an RFC 3339 time", ""
		}
	case schema.FieldSingleSelect:
		s, ok := v.(string)
		if !ok || !slices.Contains(d.Options, s) {
			return "must be one of: " + strings.Join(d.Options, ", "), ""
		}
	case schema.FieldMultiSelect:
		list, ok := v.([]any)
		if !ok {
			return "must be an array of: " + strings.Join(d.Options, ", "), ""
		}
		for i, item := range list {
			s, ok := item.(string)
			switch {
			case !ok || !slices.Contains(d.Options, s):
				return fmt.Sprintf("item %d must be one of: %s", i, strings.Join(d.Options, ", ")), ""
			case slices.IndexFunc(list[:i], func(o any) bool { return o == item }) >= 0:
				return fmt.Sprintf("item %d (%q) is listed twice", i, s), ""
			}
		}
	case schema.FieldPerson, schema.FieldTeam:
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return "must be the id of a " + d.Type, ""
		}
		return "", s
	}
	return "", ""
}

func isDate(s string) bool {
	if _, err := time.Parse(time.DateOnly, s); err == nil {
		return true
	}
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}

// checkFieldRefs records in fields each person or team id that does not exist.
func (s *Server) checkFieldRefs(ctx context.Context, refs []fieldRef, fields map[string]string) error {
	ids := map[string][]string{}
	for _, r := range refs {
		ids[r.typ] = append(ids[r.typ], r.id)
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
		if !slices.Contains(found[r.typ], r.id) {
			fields[r.field] = fmt.Sprintf("no %s with id %s", r.typ, r.id)
		}
	}
	return nil
}
