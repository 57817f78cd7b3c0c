package rules

// The ticket form that display rules make, and its enforcement. Every active ticket custom field
// starts visible, optional and editable; then the enabled display rules whose condition matches
// the ticket apply in position order, each setting the visibility, requiredness and editability
// of the fields it names (a later matching rule overrides an earlier one for those fields). A
// condition that fails at run time (a wrong type, a missing map) counts as not matched. Keys
// without an active definition are free-form and stay unchecked. Nothing here reads a database:
// the API, workflows and tests build a Form from the records they hold.

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"
)

// Custom field types (the values of schema.Field*; schema imports this package, not the
// other way round).
const (
	FieldText         = "text"
	FieldNumber       = "number"
	FieldDate         = "date"
	FieldSingleSelect = "single_select"
	FieldMultiSelect  = "multi_select"
	FieldBoolean      = "boolean"
	FieldPerson       = "person"
	FieldTeam         = "team"
)

// FieldDef is an active custom field definition as the form uses it.
type FieldDef struct {
	Key, Label, Type string
	Options          []string
}

// FieldRule is how a display rule shows one field.
type FieldRule struct {
	Key                         string
	Visible, Required, ReadOnly bool
}

// FormRule is an enabled display rule, its condition compiled.
type FormRule struct {
	ID      string
	Fields  []FieldRule
	Program *vm.Program
}

// Form is what the ticket form is made of: the active definitions and the enabled rules, each in
// position order.
type Form struct {
	defs  []FieldDef
	byKey map[string]*FieldDef
	rules []FormRule
}

func NewForm(defs []FieldDef, rs []FormRule) *Form {
	f := &Form{defs: defs, rules: rs, byKey: make(map[string]*FieldDef, len(defs))}
	for i := range f.defs {
		if f.defs[i].Options == nil {
			f.defs[i].Options = []string{}
		}
		f.byKey[f.defs[i].Key] = &f.defs[i]
	}
	return f
}

// Empty tells whether the form has no fields: nothing to lay out or enforce.
func (f *Form) Empty() bool { return len(f.defs) == 0 }

// FormField is one custom field as the form shows it.
type FormField struct {
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Options  []string `json:"options"`
	Visible  bool     `json:"visible"`
	Required bool     `json:"required"`
	ReadOnly bool     `json:"readOnly"`
}

// Layout is the form for a ticket: every definition visible, optional and editable, then each
// matching rule, in order, setting the fields it names.
func (f *Form) Layout(env Env) []FormField {
	out := make([]FormField, len(f.defs))
	at := make(map[string]int, len(f.defs))
	for i, d := range f.defs {
		out[i] = FormField{Key: d.Key, Label: d.Label, Type: d.Type, Options: d.Options, Visible: true}
		at[d.Key] = i
	}
	for _, r := range f.rules {
		if ok, err := Eval(r.Program, env); !ok || err != nil {
			continue
		}
		for _, fr := range r.Fields {
			if i, ok := at[fr.Key]; ok {
				out[i].Visible, out[i].Required, out[i].ReadOnly = fr.Visible, fr.Required, fr.ReadOnly
			}
		}
	}
	return out
}

// FormEnv is the environment display-rule conditions see for a ticket form.
func FormEnv(t Ticket, actor Actor, now time.Time) Env {
	return NewEnv(t, Event{Name: "form", Payload: map[string]any{}}, nil, actor, now)
}

// FieldRef is a person or team id a custom field value names, for the caller to check exists.
type FieldRef struct {
	Field, Type, ID string
}

// Check is a ticket write against its form: the invalid fields (customFields.<key>) and the
// person and team ids the sent values name. It refuses a visible required field that ends up
// missing or empty, a hidden field sent (non-null), a read-only field changed (on create: sent
// at all, since its default is absent), a value that does not fit its definition, and a key
// that differs from a definition's only in case. before is the stored custom fields (nil on
// create), sent the request's, after the ticket's once the change is applied.
func (f *Form) Check(layout []FormField, create bool, before, sent, after map[string]any) (map[string]string, []FieldRef) {
	fields := map[string]string{}
	var refs []FieldRef
	for _, lf := range layout {
		name := "customFields." + lf.Key
		v, isSent := sent[lf.Key]
		switch {
		case isSent && v != nil && !lf.Visible:
			fields[name] = "is hidden on this ticket's form; do not send it"
		case isSent && lf.ReadOnly && (create && v != nil || !create && !reflect.DeepEqual(v, before[lf.Key])):
			fields[name] = "is read-only on this ticket's form"
		case isSent && v != nil:
			msg, ref := CheckFieldValue(f.byKey[lf.Key], v)
			if msg != "" {
				fields[name] = msg
			} else if ref != "" {
				refs = append(refs, FieldRef{Field: name, Type: lf.Type, ID: ref})
			}
		}
		if _, bad := fields[name]; !bad && lf.Visible && lf.Required && IsEmptyValue(after[lf.Key]) {
			fields[name] = "is required on this ticket's form"
		}
	}
	// A key that differs from a definition's only in case is almost surely a typo.
	for k := range sent {
		if _, ok := f.byKey[k]; ok {
			continue
		}
		for _, d := range f.defs {
			if strings.EqualFold(d.Key, k) {
				fields["customFields."+k] = fmt.Sprintf("the custom field is named %q", d.Key)
			}
		}
	}
	return fields, refs
}

// MergeCustomFields is what the ticket workflow does with a patch's customFields: null removes
// a key, anything else sets it.
func MergeCustomFields(stored, patch map[string]any) map[string]any {
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

// IsEmptyValue is whether a required field counts as unanswered: absent, null, a blank string or
// an empty list. false and 0 are answers.
func IsEmptyValue(v any) bool {
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

// CheckFieldValue says what is wrong with a value for its definition ("" when nothing), and, for
// person and team fields, the id to look up.
func CheckFieldValue(d *FieldDef, v any) (msg, ref string) {
	switch d.Type {
	case FieldText:
		if _, ok := v.(string); !ok {
			return "must be a string", ""
		}
	case FieldNumber:
		switch v.(type) {
		case float64, float32, int, int64, json.Number:
		default:
			return "must be a number", ""
		}
	case FieldBoolean:
		if _, ok := v.(bool); !ok {
			return "must be true or false", ""
		}
	case FieldDate:
		s, ok := v.(string)
		if !ok || !isDate(s) {
			return "must be a date (YYYY-MM-DD) or an RFC 3339 time", ""
		}
	case FieldSingleSelect:
		s, ok := v.(string)
		if !ok || !slices.Contains(d.Options, s) {
			return "must be one of: " + strings.Join(d.Options, ", "), ""
		}
	case FieldMultiSelect:
		return checkMultiSelect(d, v), ""
	case FieldPerson, FieldTeam:
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return "must be the id of a " + d.Type, ""
		}
		return "", s
	}
	return "", ""
}

func checkMultiSelect(d *FieldDef, v any) string {
	list, ok := v.([]any)
	if !ok {
		return "must be an array of: " + strings.Join(d.Options, ", ")
	}
	for i, item := range list {
		s, ok := item.(string)
		switch {
		case !ok || !slices.Contains(d.Options, s):
			return fmt.Sprintf("item %d must be one of: %s", i, strings.Join(d.Options, ", "))
		case slices.IndexFunc(list[:i], func(o any) bool { return o == item }) >= 0:
			return fmt.Sprintf("item %d (%q) is listed twice", i, s)
		}
	}
	return ""
}

func isDate(s string) bool {
	if _, err := time.Parse(time.DateOnly, s); err == nil {
		return true
	}
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}

// Defines tells whether key is an active definition's (exactly).
func (f *Form) Defines(key string) bool {
	_, ok := f.byKey[key]
	return ok
}
