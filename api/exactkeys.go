package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
)

// The native API matches JSON keys exactly. encoding/json matches them without regard to case
// (ticketID fills ticketId), so before a body is decoded its keys are compared with the json
// names of the struct it decodes into, recursively: objects inside structs, slices and maps.
// Map keys are data (customFields), not names, and are not compared; json.RawMessage and
// other values that decode themselves are compared where they are decoded (strictJSON) or
// not at all. The Movidesk-compatible API does not decode through here and stays
// case-insensitive.

// keyMismatch is a key that is not exactly one of the struct's names but differs from one
// only in case: where encoding/json would have filled the field silently. The same walk
// also reports a date-time that does not parse (problem), because encoding/json's error for
// it names no field.
type keyMismatch struct {
	path, want, problem string
}

func (m *keyMismatch) Error() string { return m.path + ": " + m.message() }

func (m *keyMismatch) message() string {
	if m.problem != "" {
		return m.problem
	}
	return fmt.Sprintf("unknown field; keys match exactly: the field is named %q", m.want)
}

var timeType = reflect.TypeFor[time.Time]()

// badTime reports a JSON string that a time.Time field would refuse.
func badTime(v any, path string) *keyMismatch {
	if v == nil {
		return nil // null: the zero time, or a pointer left nil
	}
	s, ok := v.(string)
	if !ok {
		return &keyMismatch{path: path, problem: "must be a date-time string in RFC 3339 (e.g. 2026-12-03T18:00:00Z)"}
	}
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		return &keyMismatch{path: path, problem: fmt.Sprintf("must be a date-time in RFC 3339 (e.g. 2026-12-03T18:00:00Z), got %q", s)}
	}
	return nil
}

// exactKeys reports the first key of body (in document order within an object, depth first)
// that would reach a field of t only by case folding. A body that is not valid JSON passes:
// the decoder reports it.
func exactKeys(body []byte, t reflect.Type) *keyMismatch {
	var tree any
	if err := json.Unmarshal(body, &tree); err != nil {
		return nil
	}
	return walkKeys(tree, t, "")
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func walkKeys(v any, t reflect.Type, path string) *keyMismatch {
	t = derefType(t)
	if t == timeType {
		return badTime(v, path)
	}
	if t == reflect.TypeFor[json.RawMessage]() || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		names := fieldNames(t)
		for _, k := range sortedKeys(obj) {
			ft, exact := names.exact[k]
			if !exact {
				if want, folded := names.folded[strings.ToLower(k)]; folded {
					return &keyMismatch{path: join(path, k), want: want}
				}
				continue // unknown outright: the decoder refuses it
			}
			if m := walkKeys(obj[k], ft, join(path, k)); m != nil {
				return m
			}
		}
	case reflect.Slice, reflect.Array:
		list, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, e := range list {
			if m := walkKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); m != nil {
				return m
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, k := range sortedKeys(obj) {
			if m := walkKeys(obj[k], t.Elem(), join(path, k)); m != nil {
				return m
			}
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return sortedStrings(keys)
}

// structNames are a struct's json names: exactly, and lower-cased to the exact one.
type structNames struct {
	exact  map[string]reflect.Type
	folded map[string]string
}

var namesCache sync.Map // reflect.Type -> *structNames

// fieldNames lists the json names of t's fields as encoding/json sees them, embedded structs'
// fields promoted.
func fieldNames(t reflect.Type) *structNames {
	if n, ok := namesCache.Load(t); ok {
		return n.(*structNames)
	}
	n := &structNames{exact: map[string]reflect.Type{}, folded: map[string]string{}}
	addFields(n, t, map[reflect.Type]bool{})
	namesCache.Store(t, n)
	return n
}

func addFields(n *structNames, t reflect.Type, seen map[reflect.Type]bool) {
	if seen[t] {
		return
	}
	seen[t] = true
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if ft := derefType(f.Type); f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			embedded = append(embedded, ft)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		n.add(name, f.Type)
	}
	// Promoted fields after the struct's own: the shallower field wins, as in encoding/json.
	for _, ft := range embedded {
		addFields(n, ft, seen)
	}
}

func (n *structNames) add(name string, t reflect.Type) {
	if _, dup := n.exact[name]; dup {
		return
	}
	n.exact[name] = t
	if _, dup := n.folded[strings.ToLower(name)]; !dup {
		n.folded[strings.ToLower(name)] = name
	}
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}
