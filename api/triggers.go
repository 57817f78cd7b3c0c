package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/triggers"
	"github.com/switchboardhq/switchboard/workflows"
)

// Triggers are admins' automations (see package rules): CRUD under /triggers, a clone, the
// default set, a dry run, an expression check, each ticket's trigger history and the agents'
// in-app notifications the triggers write.
func (s *Server) triggerRoutes(r fiber.Router) {
	r.Post("/triggers", requirePerm(PermConfigWrite), s.createTrigger)
	r.Get("/triggers", requirePerm(PermConfigRead), s.listTriggers)
	r.Post("/triggers/defaults", requirePerm(PermConfigWrite), s.restoreDefaultTriggers)
	r.Post("/triggers/test", requirePerm(PermConfigRead), s.testTrigger)
	r.Get("/triggers/:id", requirePerm(PermConfigRead), getOne("id", s.loadTrigger))
	r.Patch("/triggers/:id", requirePerm(PermConfigWrite), s.updateTrigger)
	r.Delete("/triggers/:id", requirePerm(PermConfigWrite), s.deleteTrigger)
	r.Post("/triggers/:id/clone", requirePerm(PermConfigWrite), s.cloneTrigger)
	r.Post("/rules/validate", requirePerm(PermConfigRead), s.validateRule)
	r.Get("/tickets/:id/trigger-executions", requirePerm(PermTicketsRead), staffOnly, s.listTriggerExecutions)
	r.Get("/notifications", requirePerm(PermTicketsRead), s.listNotifications)
	r.Post("/notifications/:id/read", requirePerm(PermTicketsWrite), s.readNotification)
}

// actorKinds are what a condition's actor.kind may be.
var actorKinds = []string{"agent", "customer", "system", "trigger"}

// triggerInput is a trigger as clients send it; on update, absent fields stay as they are.
// Actions are decoded one by one (decodeActions), so that an error names its action.
type triggerInput struct {
	Name           *string            `json:"name"`
	Enabled        *bool              `json:"enabled"`
	Events         *[]string          `json:"events"`
	Condition      *string            `json:"condition"`
	Actions        *[]json.RawMessage `json:"actions"`
	Position       *int               `json:"position"`
	StopProcessing *bool              `json:"stopProcessing"`
	// Timer: absent stays as it is, null removes it.
	Timer json.RawMessage `json:"timer"`
}

// condition is a condition as given (untrimmed, so that error positions are the client's), or
// empty when it is only blanks.
func condition(c string) string {
	if strings.TrimSpace(c) == "" {
		return ""
	}
	return c
}

// decodeTimer reads the timer strictly: nil for null, errors under timer.<field>.
func (in *triggerInput) decodeTimer() (*rules.Timer, error) {
	if !given(in.Timer) {
		return nil, nil
	}
	var t rules.Timer
	if err := strictJSON(in.Timer, &t); err != nil {
		name, msg := jsonFieldError(err)
		return nil, errField(strings.TrimSuffix("timer."+name, "."), "%s", msg)
	}
	return &t, nil
}

// apply sets the fields given; the actions and the timer are already decoded.
func (in *triggerInput) apply(tr *schema.Trigger, actions []rules.Action, timer *rules.Timer) {
	if in.Name != nil {
		tr.Name = strings.TrimSpace(*in.Name)
	}
	set(&tr.Enabled, in.Enabled)
	if in.Events != nil {
		tr.Events = uniq(*in.Events)
	}
	if in.Condition != nil {
		tr.Condition = condition(*in.Condition)
	}
	if in.Actions != nil {
		tr.Actions = actions
	}
	set(&tr.Position, in.Position)
	set(&tr.StopProcessing, in.StopProcessing)
	if len(in.Timer) > 0 {
		tr.Timer = timer
	}
}

// columns are the columns an update writes: the ones given, so that disabling a trigger whose
// other content no longer validates (or no longer writes) touches only enabled.
func (in *triggerInput) columns() []string {
	cols := []string{"updated_at"}
	for _, c := range []struct {
		name  string
		given bool
	}{{"name", in.Name != nil}, {"enabled", in.Enabled != nil}, {"events", in.Events != nil},
		{"condition", in.Condition != nil}, {"actions", in.Actions != nil}, {"position", in.Position != nil},
		{"stop_processing", in.StopProcessing != nil}, {"timer", len(in.Timer) > 0}} {
		if c.given {
			cols = append(cols, c.name)
		}
	}
	return cols
}

// decodeActions reads each action strictly: an unknown key or a wrong type is a 422 naming
// actions[i].<key>.
func decodeActions(raw *[]json.RawMessage) ([]rules.Action, error) {
	if raw == nil {
		return nil, nil
	}
	out := make([]rules.Action, 0, len(*raw))
	fields := map[string]string{}
	for i, r := range *raw {
		var a rules.Action
		if err := strictJSON(r, &a); err != nil {
			at := fmt.Sprintf("actions[%d]", i)
			if name, msg := jsonFieldError(err); name != "" {
				fields[at+"."+name] = msg
			} else {
				fields[at] = msg
			}
			continue
		}
		out = append(out, a)
	}
	if len(fields) > 0 {
		return nil, errInvalid(fields)
	}
	return out, nil
}

// strictJSON decodes one JSON value, refusing unknown fields and keys that match a field only
// without regard to case.
func strictJSON(raw []byte, v any) error {
	if m := exactKeys(raw, reflect.TypeOf(v)); m != nil {
		return m
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// jsonFieldError names the field a nested decode failed on, and says what is wrong with it.
// The name is empty when the value as a whole is wrong.
func jsonFieldError(err error) (field, msg string) {
	var typeErr *json.UnmarshalTypeError
	var keyErr *keyMismatch
	switch {
	case errors.As(err, &keyErr):
		return keyErr.path, keyErr.message()
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return "", fmt.Sprintf("must be %s, got %s", jsonTypeName(typeErr.Type), typeErr.Value)
		}
		return typeErr.Field, fmt.Sprintf("must be %s, got %s", jsonTypeName(typeErr.Type), typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "unknown field"
	}
	return "", err.Error()
}

// jsonPath drops from a decode error's field path the names of embedded structs, which
// encoding/json includes ("ticketSummary.Ticket.id" is the JSON field "id").
func jsonPath(t reflect.Type, path string) string {
	embedded, seen := map[string]bool{}, map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				embedded[f.Name] = true
			}
			walk(f.Type)
		}
	}
	walk(t)
	var keep []string
	for _, seg := range strings.Split(path, ".") {
		if !embedded[seg] {
			keep = append(keep, seg)
		}
	}
	return strings.Join(keep, ".")
}

func checksFor(in *triggerInput) triggers.Checks {
	return triggers.Checks{Name: in.Name != nil, Events: in.Events != nil, Condition: in.Condition != nil,
		Actions: in.Actions != nil, Position: in.Position != nil, Timer: len(in.Timer) > 0 || in.Events != nil}
}

// checkTrigger validates a trigger (triggers.Validate); every problem is reported at once,
// each under its field.
func (s *Server) checkTrigger(ctx context.Context, tr *schema.Trigger, what triggers.Checks) error {
	fields, err := triggers.Validate(ctx, s.db, s.cfg.Urgencies, tr, what)
	if err != nil {
		return err
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	return nil
}

// mergeInvalid copies a validation error's fields into fields; any other error is returned.
func mergeInvalid(fields map[string]string, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Status == fiber.StatusUnprocessableEntity {
		maps.Copy(fields, e.Fields)
		return nil
	}
	return err
}

func isNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == fiber.StatusNotFound
}

// --- CRUD

// readTriggerInput decodes a trigger body with its actions and timer.
func readTriggerInput(c *fiber.Ctx) (in triggerInput, actions []rules.Action, timer *rules.Timer, err error) {
	if err = decode(c, &in); err != nil {
		return
	}
	if actions, err = decodeActions(in.Actions); err != nil {
		return
	}
	timer, err = in.decodeTimer()
	return
}

func (s *Server) createTrigger(c *fiber.Ctx) error {
	in, actions, timer, err := readTriggerInput(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	now := time.Now().UTC()
	tr := schema.Trigger{ID: uuid.Must(uuid.NewV7()).String(), Enabled: true, Events: []string{},
		Actions: []rules.Action{}, Version: 1, CreatedAt: now, UpdatedAt: now}
	in.apply(&tr, actions, timer)
	if in.Position == nil { // last, unless told otherwise
		if err := s.db.NewSelect().Model((*schema.Trigger)(nil)).ColumnExpr("COALESCE(MAX(position) + 1, 0)").
			Scan(ctx, &tr.Position); err != nil {
			return err
		}
		tr.Position = min(tr.Position, triggers.MaxPosition)
	}
	if err := s.checkTrigger(ctx, &tr, triggers.AllChecks); err != nil {
		return err
	}
	if err := triggerRecords.create(ctx, s.db, principal(c).Person.ID, &tr, "create"); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(tr)
}

var triggerRecords = &configResource[schema.Trigger]{entity: "trigger", noun: "trigger",
	id:        func(tr *schema.Trigger) string { return tr.ID },
	version:   func(tr *schema.Trigger) *int { return &tr.Version },
	same:      func(a, b *schema.Trigger) bool { return triggerContent(a) == triggerContent(b) },
	normalize: normalizeTrigger,
}

func (s *Server) loadTrigger(ctx context.Context, id string) (*schema.Trigger, error) {
	return triggerRecords.load(ctx, s.db, id)
}

func normalizeTrigger(tr *schema.Trigger) {
	tr.Events = orEmpty(tr.Events)
	tr.Actions = orEmptyOf(tr.Actions)
}

// triggerContent is what an edit can change; comparing it tells whether a PATCH changed
// anything (and so whether the version rises).
func triggerContent(tr *schema.Trigger) string {
	b, _ := json.Marshal([]any{tr.Name, tr.Enabled, tr.Events, tr.Condition, tr.Actions, tr.Position, tr.StopProcessing, tr.Timer})
	return string(b)
}

func (s *Server) updateTrigger(c *fiber.Ctx) error {
	in, actions, timer, err := readTriggerInput(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	before, err := s.loadTrigger(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	tr := *before
	in.apply(&tr, actions, timer)
	normalizeTrigger(&tr)
	if err := s.checkTrigger(ctx, &tr, checksFor(&in)); err != nil {
		return err
	}
	tr.UpdatedAt = time.Now().UTC()
	// Only the columns given, so that disabling a trigger whose other content no longer
	// validates (or no longer writes) touches only enabled.
	out, err := triggerRecords.update(ctx, s.db, principal(c).Person.ID, &tr, before, "update", in.columns())
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (s *Server) deleteTrigger(c *fiber.Ctx) error {
	ctx := c.UserContext()
	before, err := s.loadTrigger(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if err := triggerRecords.remove(ctx, s.db, principal(c).Person.ID, before, nil); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// listTriggers lists triggers in evaluation order (position, then id); filters enabled and
// event.
func (s *Server) listTriggers(c *fiber.Ctx) error {
	return triggerRecords.list(c, s.db, configList[schema.Trigger]{
		position: func(tr *schema.Trigger) int { return tr.Position },
		filter: func(c *fiber.Ctx, q *bun.SelectQuery) (*bun.SelectQuery, error) {
			q, err := boolFilter("enabled", "enabled")(c, q)
			if err != nil {
				return nil, err
			}
			if v := c.Query("event"); v != "" {
				if !slices.Contains(rules.Events, v) {
					return nil, errField("event", "must be one of: %s", strings.Join(rules.Events, ", "))
				}
				q = q.Where("? = ANY(events)", v)
			}
			return q, nil
		},
	})
}

// cloneTrigger copies a trigger as "<name> (copy)", disabled, right after the original.
func (s *Server) cloneTrigger(c *fiber.Ctx) error {
	ctx := c.UserContext()
	src, err := s.loadTrigger(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	tr := *src
	tr.ID, tr.Name, tr.Enabled, tr.IsDefault = uuid.Must(uuid.NewV7()).String(), copyName(src.Name), false, false
	tr.Version, tr.CreatedAt, tr.UpdatedAt = 1, now, now
	tr.Events, tr.Actions = slices.Clone(src.Events), slices.Clone(src.Actions)
	if src.Timer != nil {
		timer := *src.Timer
		tr.Timer = &timer
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&tr).Exec(ctx); err != nil {
			return err
		}
		return audit(ctx, tx, principal(c).Person.ID, "trigger", tr.ID, "clone", src, tr)
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(tr)
}

// copyName is "<name> (copy)", the name shortened to keep it within the limit.
func copyName(name string) string {
	const suffix = " (copy)"
	r := []rune(name)
	if room := triggers.MaxName - utf8.RuneCountInString(suffix); len(r) > room {
		name = strings.TrimSpace(string(r[:room]))
	}
	return name + suffix
}

// --- defaults

// defaultTriggers are the triggers Switchboard ships with. Their ids are fixed, so restoring
// creates only the ones missing (deleted ones) and leaves edited ones as they are.
func defaultTriggers() []schema.Trigger {
	return []schema.Trigger{
		{ID: "default-tag-urgent", Name: "Tag urgent tickets", Enabled: false,
			Events: []string{rules.EventCreated}, Condition: "ticket.urgency == 'Urgent'",
			Actions: []rules.Action{{Type: rules.ActionAddTags, Tags: []string{"urgent"}}}, Position: 0},
		{ID: "default-notify-owner-reply", Name: "Notify the owner of customer replies", Enabled: true,
			Events: []string{rules.EventActionAdded}, Condition: "actor.kind == 'customer' && !isEmpty(ticket.ownerId)",
			Actions:  []rules.Action{{Type: rules.ActionNotifyAgents, Message: "Customer replied on #{{.id}}: {{.subject}}"}},
			Position: 1},
		{ID: "default-reopen-note", Name: "Reopen note", Enabled: true,
			Events:    []string{rules.EventStatusChanged},
			Condition: "changes.baseStatus.from == 'Resolved' && changes.baseStatus.to == 'InAttendance'",
			Actions: []rules.Action{{Type: rules.ActionAddAction, ActionType: "internal",
				Body: "Reopened after it was resolved; the status is now {{.status}}."}},
			Position: 2},
		{ID: "default-tag-phone", Name: "Tag tickets from phone calls", Enabled: false,
			Events: []string{rules.EventCreated}, Condition: "ticket.origin in [13, 14, 15, 16]",
			Actions: []rules.Action{{Type: rules.ActionAddTags, Tags: []string{"phone"}}}, Position: 3},
	}
}

type defaultsResult struct {
	Data       []schema.Trigger `json:"data"`
	CreatedIDs []string         `json:"createdIds"`
}

// restoreDefaultTriggers creates the default triggers that are missing and answers with every
// default, as stored.
func (s *Server) restoreDefaultTriggers(c *fiber.Ctx) error {
	ctx := c.UserContext()
	defaults := defaultTriggers()
	ids := make([]string, len(defaults))
	res := defaultsResult{CreatedIDs: []string{}}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		now := time.Now().UTC()
		for i := range defaults {
			tr := &defaults[i]
			ids[i] = tr.ID
			tr.IsDefault, tr.Version, tr.CreatedAt, tr.UpdatedAt = true, 1, now, now
			r, err := tx.NewInsert().Model(tr).On("CONFLICT (id) DO NOTHING").Exec(ctx)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n == 1 {
				res.CreatedIDs = append(res.CreatedIDs, tr.ID)
				if err := audit(ctx, tx, principal(c).Person.ID, "trigger", tr.ID, "restore_default", nil, tr); err != nil {
					return err
				}
			}
		}
		return tx.NewSelect().Model(&res.Data).Where("id IN (?)", bun.In(ids)).OrderExpr("position ASC, id ASC").Scan(ctx)
	})
	if err != nil {
		return err
	}
	for i := range res.Data {
		normalizeTrigger(&res.Data[i])
	}
	return c.JSON(res)
}

// --- expression check and dry run

type ruleValidateInput struct {
	Expression *string `json:"expression"`
}

// validateRule compiles an expression as a trigger condition.
func (s *Server) validateRule(c *fiber.Ctx) error {
	var in ruleValidateInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Expression == nil {
		return errField("expression", "is required")
	}
	if _, err := rules.Compile(*in.Expression); err != nil {
		return errField("expression", "%s", err.Error())
	}
	return c.JSON(fiber.Map{"valid": true})
}

type triggerTestInput struct {
	TriggerID *string                    `json:"triggerId"`
	Condition *string                    `json:"condition"`
	Actions   *[]json.RawMessage         `json:"actions"`
	TicketID  *int64                     `json:"ticketId"`
	Ticket    json.RawMessage            `json:"ticket"`
	Event     string                     `json:"event"`
	Changes   map[string]json.RawMessage `json:"changes"`
	Actor     json.RawMessage            `json:"actor"`
}

type triggerTestResult struct {
	Matched bool           `json:"matched"`
	Actions []rules.Action `json:"actions"`
	Error   *string        `json:"error"`
}

func given(raw json.RawMessage) bool {
	return len(raw) > 0 && string(bytes.TrimSpace(raw)) != "null"
}

// testTrigger is a dry run: would this trigger (stored, or a condition and actions) fire on this
// event for this ticket (stored, or as JSON), and with which actions. Nothing is changed.
func (s *Server) testTrigger(c *fiber.Ctx) error {
	var in triggerTestInput
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.UserContext()
	fields := map[string]string{}
	switch {
	case in.TriggerID == nil && in.Condition == nil:
		fields["triggerId"] = "give triggerId or condition"
	case in.TriggerID != nil && in.Condition != nil:
		fields["condition"] = "give triggerId or condition, not both"
	case in.TriggerID != nil && in.Actions != nil:
		fields["actions"] = "give actions only with condition; a stored trigger has its own"
	}
	switch {
	case in.TicketID == nil && !given(in.Ticket):
		fields["ticketId"] = "give ticketId or ticket"
	case in.TicketID != nil && given(in.Ticket):
		fields["ticket"] = "give ticketId or ticket, not both"
	}
	if !slices.Contains(rules.Events, in.Event) {
		fields["event"] = "must be one of: " + strings.Join(rules.Events, ", ")
	}
	changes := map[string]rules.Change{}
	for k, raw := range in.Changes {
		var ch rules.Change
		if err := strictJSON(raw, &ch); err != nil {
			name, msg := jsonFieldError(err)
			fields[strings.TrimSuffix("changes."+k+"."+name, ".")] = msg
			continue
		}
		changes[k] = ch
	}
	p := principal(c)
	kind := "agent"
	if p.isCustomer() {
		kind = "customer"
	}
	actor := rules.Actor{ID: p.Person.ID, Kind: kind}
	if given(in.Actor) {
		actor = rules.Actor{}
		if err := strictJSON(in.Actor, &actor); err != nil {
			name, msg := jsonFieldError(err)
			fields[strings.TrimSuffix("actor."+name, ".")] = msg
		} else if !slices.Contains(actorKinds, actor.Kind) {
			fields["actor.kind"] = "must be one of: " + strings.Join(actorKinds, ", ")
		}
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}

	// The rule.
	var tr schema.Trigger
	if in.TriggerID != nil {
		stored, err := s.loadTrigger(ctx, *in.TriggerID)
		if isNotFound(err) {
			return errField("triggerId", "no trigger with id %s", *in.TriggerID)
		} else if err != nil {
			return err
		}
		tr = *stored
	} else {
		actions, err := decodeActions(in.Actions)
		if err := mergeInvalid(fields, err); err != nil {
			return err
		}
		tr = schema.Trigger{Condition: condition(*in.Condition), Actions: orEmptyOf(actions), Events: rules.Events}
		if err := triggers.CheckActions(ctx, s.db, s.cfg.Urgencies, tr.Actions, fields); err != nil {
			return err
		}
	}
	program, err := rules.Compile(tr.Condition)
	if err != nil {
		fields["condition"] = err.Error()
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}

	// The ticket.
	var ticket schema.Ticket
	if in.TicketID != nil {
		if !p.can(PermTicketsRead) {
			return errForbidden("testing against a stored ticket needs %s", PermTicketsRead)
		}
		t, err := findOne[schema.Ticket](ctx, s.db, "id", *in.TicketID, "no ticket %d", *in.TicketID)
		if err == nil {
			var clients []string
			if clients, err = s.visibleClients(ctx, p); err == nil && !canSee(t, clients) {
				err = errNotFound("no ticket %d", *in.TicketID)
			}
		}
		if isNotFound(err) {
			return errField("ticketId", "no ticket %d", *in.TicketID)
		} else if err != nil {
			return err
		}
		ticket = *t
	} else {
		var v ticketView // the ticket as GET /tickets/{id} answers it; every field is optional
		if err := strictJSON(in.Ticket, &v); err != nil {
			name, msg := jsonFieldError(err)
			return errField(strings.TrimSuffix("ticket."+jsonPath(reflect.TypeFor[ticketView](), name), "."), "%s", msg)
		}
		ticket = v.Ticket
		// The dry run's ticket is the caller's: hold it to the sizes conditions are bounded for.
		if field, msg := rules.CheckTicket(workflows.RulesTicket(ticket)); field != "" {
			return errField("ticket."+field, "%s", msg)
		}
	}

	res := triggerTestResult{Actions: []rules.Action{}}
	if !slices.Contains(tr.Events, in.Event) {
		msg := fmt.Sprintf("the trigger does not listen to %s (it listens to %s)", in.Event, strings.Join(tr.Events, ", "))
		res.Error = &msg
		return c.JSON(res)
	}
	env := rules.NewEnv(workflows.RulesTicket(ticket), rules.Event{Name: in.Event, Payload: map[string]any{}},
		changes, actor, time.Now().UTC())
	matched, err := rules.Eval(program, env)
	if err != nil {
		msg := err.Error()
		res.Error = &msg
		return c.JSON(res)
	}
	res.Matched = matched
	if matched {
		res.Actions = tr.Actions
	}
	return c.JSON(res)
}

// --- a ticket's trigger history

func (s *Server) listTriggerExecutions(c *fiber.Ctx) error {
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	limit, cur, err := pageParams(c)
	if err != nil {
		return err
	}
	q := s.db.NewSelect().Model((*schema.TriggerExecution)(nil)).Where("ticket_id = ?", t.ID).
		OrderExpr("id DESC").Limit(int64(limit + 1))
	if cur != nil {
		id, err := strconv.ParseInt(cur.ID, 10, 64)
		if err != nil {
			return errField("cursor", "is not a cursor this API issued; use next_cursor from the previous page")
		}
		q = q.Where("id < ?", id)
	}
	if v := c.Query("triggerId"); v != "" {
		q = q.Where("trigger_id = ?", v)
	}
	var rows []schema.TriggerExecution
	if err := q.Scan(c.UserContext(), &rows); err != nil {
		return err
	}
	for i := range rows {
		rows[i].Actions = orEmptyOf(rows[i].Actions)
		rows[i].Chain = orEmpty(rows[i].Chain)
	}
	return c.JSON(makePage(rows, limit, func(e schema.TriggerExecution) cursor {
		return cursor{ID: strconv.FormatInt(e.ID, 10)}
	}))
}

// --- notifications

func (s *Server) listNotifications(c *fiber.Ctx) error {
	limit, cur, err := pageParams(c)
	if err != nil {
		return err
	}
	q := s.db.NewSelect().Model((*schema.Notification)(nil)).Where("person_id = ?", principal(c).Person.ID).
		OrderExpr("id DESC").Limit(int64(limit + 1))
	if cur != nil {
		id, err := strconv.ParseInt(cur.ID, 10, 64)
		if err != nil {
			return errField("cursor", "is not a cursor this API issued; use next_cursor from the previous page")
		}
		q = q.Where("id < ?", id)
	}
	if v := c.Query("unread"); v != "" {
		unread, err := parseBool("unread", v)
		if err != nil {
			return err
		}
		if unread {
			q = q.Where("read_at IS NULL")
		} else {
			q = q.Where("read_at IS NOT NULL")
		}
	}
	var rows []schema.Notification
	if err := q.Scan(c.UserContext(), &rows); err != nil {
		return err
	}
	return c.JSON(makePage(rows, limit, func(n schema.Notification) cursor {
		return cursor{ID: strconv.FormatInt(n.ID, 10)}
	}))
}

// readNotification marks one of the caller's notifications read (once: reading it again keeps
// the first time). Someone else's is a 404.
func (s *Server) readNotification(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return errNotFound("no notification %q", c.Params("id"))
	}
	var n schema.Notification
	err = s.db.NewUpdate().Model(&n).Set("read_at = COALESCE(read_at, now())").
		Where("id = ? AND person_id = ?", id, principal(c).Person.ID).Returning("*").Scan(c.UserContext())
	if isNoRows(err) {
		return errNotFound("no notification %d", id)
	}
	if err != nil {
		return err
	}
	return c.JSON(n)
}
