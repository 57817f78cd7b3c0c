package odata

import (
	"fmt"
	"strings"
)

// Type is the type of a scalar property. It decides which literals the
// property may be compared with and how they are converted.
type Type int

// The property types. GUIDs are declared as String.
const (
	String   Type = iota + 1 // text; compared with string (or number/GUID) literals
	Int                      // integer; compared with numbers only
	Float                    // floating point or numeric; compared with numbers only
	Bool                     // boolean; may also stand alone as a filter
	DateTime                 // timestamp; literals become a UTC time.Time
)

func (t Type) String() string {
	switch t {
	case String:
		return "String"
	case Int:
		return "Int"
	case Float:
		return "Float"
	case Bool:
		return "Bool"
	case DateTime:
		return "DateTime"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Entity describes what a query may name. Lookup is case-insensitive
// (Movidesk clients mix case), so declared names must be unique ignoring
// case across the three maps; Validate checks this.
type Entity struct {
	Name        string                 // e.g. "Ticket", used in messages
	Properties  map[string]*Property   // scalar properties, by declared name
	Navigations map[string]*Navigation // single-valued: owner, createdBy
	Collections map[string]*Collection // multi-valued: clients, actions
}

// Property is a scalar property.
type Property struct {
	Name string
	Type Type
	// SQL returns the column expression for the row with the given alias,
	// e.g. func(a string) string { return a + ".subject" }. The result is
	// used as an operand, so wrap anything more complex than a column or a
	// function call in parentheses, and never put '?' in it (bun would
	// take it for a placeholder).
	SQL func(alias string) string
	// Sortable allows the property in $orderby. It is opt-in: sorting on a
	// column without an index is a deliberate decision.
	Sortable bool
}

// Navigation is a single-valued relation, e.g. a ticket's owner.
//
// "owner/businessName" compiles to (SELECT <businessName.SQL(elem)> FROM
// <From(parent, elem)>), a correlated subquery; when the parent row
// already holds the value, as with the foreign key for "owner/id", Local
// lets the path compile to the parent's column with no subquery.
type Navigation struct {
	Name   string
	Target *Entity
	// From returns the FROM/WHERE fragment selecting the one target row
	// (alias elem) of the parent row (alias parent), e.g.
	// "persons AS " + elem + " WHERE " + elem + ".id = " + parent + ".owner_id".
	// It must yield at most one row.
	From func(parent, elem string) string
	// Local maps declared names of Target properties to their expression
	// on the parent row, e.g. {"id": func(p string) string { return p + ".owner_id" }}.
	Local map[string]func(parent string) string
}

// Collection is a multi-valued relation, used in any/all lambdas and
// $expand.
type Collection struct {
	Name   string
	Target *Entity
	// From returns the FROM/WHERE fragment that correlates one element
	// (alias elem) with its parent row (alias parent), e.g.
	// "persons AS c WHERE c.id = ANY(t.client_ids)". It must end with a
	// WHERE condition that can be followed by "AND (...)": parenthesise it
	// if it contains OR.
	From func(parent, elem string) string
}

// lookup finds name in m, preferring an exact match and otherwise
// ignoring case.
func lookup[T any](m map[string]*T, name string) *T {
	if v, ok := m[name]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// Validate reports mistakes in the declaration of e and of every entity
// reachable from it. Call it once at start-up or in a test; Parse assumes
// a valid entity.
func (e *Entity) Validate() error {
	return e.validate(map[*Entity]bool{})
}

func (e *Entity) validate(seen map[*Entity]bool) error {
	if seen[e] {
		return nil
	}
	seen[e] = true
	if e.Name == "" {
		return fmt.Errorf("odata: entity without a Name")
	}
	names := map[string]string{} // lower-case name -> declared name
	claim := func(key, name string) error {
		if key != name {
			return fmt.Errorf("odata: %s: map key %q differs from Name %q", e.Name, key, name)
		}
		if other, dup := names[strings.ToLower(name)]; dup {
			return fmt.Errorf("odata: %s: %q and %q are equal ignoring case", e.Name, other, name)
		}
		names[strings.ToLower(name)] = name
		return nil
	}
	for k, p := range e.Properties {
		if err := claim(k, p.Name); err != nil {
			return err
		}
		if p.SQL == nil || p.Type < String || p.Type > DateTime {
			return fmt.Errorf("odata: %s.%s: missing SQL or invalid Type", e.Name, k)
		}
	}
	for k, n := range e.Navigations {
		if err := claim(k, n.Name); err != nil {
			return err
		}
		if n.Target == nil || n.From == nil {
			return fmt.Errorf("odata: %s.%s: missing Target or From", e.Name, k)
		}
		for l := range n.Local {
			if _, ok := n.Target.Properties[l]; !ok {
				return fmt.Errorf("odata: %s.%s: Local %q is not a property of %s", e.Name, k, l, n.Target.Name)
			}
		}
		if err := n.Target.validate(seen); err != nil {
			return err
		}
	}
	for k, c := range e.Collections {
		if err := claim(k, c.Name); err != nil {
			return err
		}
		if c.Target == nil || c.From == nil {
			return fmt.Errorf("odata: %s.%s: missing Target or From", e.Name, k)
		}
		if err := c.Target.validate(seen); err != nil {
			return err
		}
	}
	return nil
}
