package odata

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Query is the parsed set of options.
type Query struct {
	Select  []string      // declared names; empty means all properties
	Filter  Expr          // nil when absent
	Expand  []*ExpandItem // relations to include, possibly nested
	OrderBy []OrderItem   // sort keys, most significant first
	Top     int           // valid when HasTop
	HasTop  bool
	Skip    int
}

// ExpandItem is one relation to include. Its options apply to the related
// rows; Filter, OrderBy, Top and Skip are only allowed for collections.
// Compile them with the embedded Query's methods and the target entity.
// The slash form actions/timeAppointments is the same as
// actions($expand=timeAppointments).
type ExpandItem struct {
	Name string // declared name of the navigation or collection
	Query
	implicit bool // made by the slash form, with no options of its own
}

// OrderItem is one $orderby key.
type OrderItem struct {
	Path []string // declared names, e.g. [createdDate] or [owner businessName]
	Desc bool
}

// options are the supported query options, in the order they are parsed
// (so the first error reported does not depend on map order).
var options = []string{"$filter", "$select", "$expand", "$orderby", "$top", "$skip"}

// collectionOnly are the options that make no sense for a single row.
var collectionOnly = map[string]bool{"$filter": true, "$orderby": true, "$top": true, "$skip": true}

// Parse reads the options from raw query values, decoded as by
// ParseRawQuery or url.ParseQuery, and validates them against e.
//
// Option names are matched ignoring case; keys without '$' (such as the
// API token) are ignored; an unknown $-option, a repeated option or a $top
// over maxTop (when maxTop > 0) is an *Error. An empty option is the same
// as an absent one.
func Parse(values url.Values, e *Entity, maxTop int) (*Query, error) {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	opts := map[string]string{}
	for _, k := range keys {
		if !strings.HasPrefix(k, "$") {
			continue
		}
		if err := addOption(opts, k, values[k]...); err != nil {
			return nil, err
		}
	}
	p := &optionParser{maxTop: maxTop}
	q := &Query{}
	if err := p.parse(q, opts, e, 0); err != nil {
		return nil, err
	}
	return q, nil
}

func addOption(opts map[string]string, key string, vals ...string) error {
	name := strings.ToLower(key)
	if !containsString(options, name) {
		return errorf(short(key), "The query option '%s' is not supported.", short(key))
	}
	if _, dup := opts[name]; dup || len(vals) > 1 {
		return errorf(name, "The query option '%s' is specified more than once.", name)
	}
	opts[name] = ""
	if len(vals) == 1 {
		opts[name] = vals[0]
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// optionParser holds what is shared by the nested levels of $expand.
type optionParser struct {
	maxTop  int
	expands int // $expand items so far, all levels
}

// parse fills q from opts (lower-case names) for entity e; depth is the
// $expand nesting level.
func (p *optionParser) parse(q *Query, opts map[string]string, e *Entity, depth int) error {
	for _, name := range options {
		v := strings.TrimSpace(opts[name])
		if v == "" {
			continue
		}
		if len(v) > MaxFilterLen {
			return errorf(name, "The value of %s is longer than %d bytes.", name, MaxFilterLen)
		}
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return errorf(name, "The value of %s is not valid UTF-8 text.", name)
		}
		var err error
		switch name {
		case "$filter":
			q.Filter, err = parseFilterFor(v, e)
		case "$select":
			q.Select, err = parseSelect(v, e)
		case "$expand":
			q.Expand, err = p.parseExpand(v, e, depth)
		case "$orderby":
			q.OrderBy, err = parseOrderBy(v, e)
		case "$top":
			q.Top, err = parseCount(name, v)
			if err == nil && p.maxTop > 0 && q.Top > p.maxTop {
				err = errorf(name, "The value of $top must not exceed %d.", p.maxTop)
			}
			q.HasTop = err == nil
		case "$skip":
			q.Skip, err = parseCount(name, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parseFilterFor parses a filter and checks it against e by compiling it
// once, so that Where only fails for a different entity.
func parseFilterFor(v string, e *Entity) (Expr, error) {
	x, err := ParseFilter(v)
	if err != nil {
		return nil, err
	}
	if _, _, err := compileFilter(x, e, "t"); err != nil {
		return nil, err
	}
	return x, nil
}

func parseCount(name, v string) (int, error) {
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, errorf(name, "The value of %s must be a non-negative integer.", name)
		}
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errorf(name, "The value of %s is too large.", name)
	}
	return n, nil
}

// parseSelect reads a comma-separated list of scalar properties. "*"
// selects all, like no $select.
func parseSelect(v string, e *Entity) ([]string, error) {
	items := strings.Split(v, ",")
	if len(items) > MaxItems {
		return nil, errorf("$select", "$select has more than %d items.", MaxItems)
	}
	var out []string
	all := false
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "*" {
			all = true
			continue
		}
		if it == "" {
			return nil, errorf("$select", "$select has an empty item.")
		}
		p := lookup(e.Properties, it)
		if p == nil {
			if lookup(e.Navigations, it) != nil || lookup(e.Collections, it) != nil {
				return nil, errorf(it, "'%s' is a relation; include it with $expand=%s.", it, it)
			}
			return nil, notFound(it, e)
		}
		if !containsString(out, p.Name) {
			out = append(out, p.Name)
		}
	}
	if all {
		return nil, nil
	}
	return out, nil
}

// parseOrderBy reads "path [asc|desc], ...". Only Sortable properties,
// possibly through navigations, are allowed.
func parseOrderBy(v string, e *Entity) ([]OrderItem, error) {
	items := strings.Split(v, ",")
	if len(items) > MaxItems {
		return nil, errorf("$orderby", "$orderby has more than %d items.", MaxItems)
	}
	out := make([]OrderItem, 0, len(items))
	for _, it := range items {
		f := strings.Fields(it)
		if len(f) == 0 || len(f) > 2 {
			return nil, errorf("$orderby", "Each $orderby item must be a property optionally followed by asc or desc.")
		}
		desc := false
		if len(f) == 2 {
			switch strings.ToLower(f[1]) {
			case "asc":
			case "desc":
				desc = true
			default:
				return nil, errorf("$orderby", "Expected asc or desc after '%s' in $orderby.", short(f[0]))
			}
		}
		segs := strings.Split(f[0], "/")
		if len(segs) > MaxDepth {
			return nil, errorf("$orderby", "A property path has more than %d segments.", MaxDepth)
		}
		c := &compiler{root: e, alias: "t"}
		p, _, name, err := c.walk(e, "t", segs)
		if err != nil {
			return nil, err
		}
		if !p.Sortable {
			return nil, errorf(name, "The property '%s' cannot be used in $orderby.", name)
		}
		out = append(out, OrderItem{Path: strings.Split(name, "/"), Desc: desc})
	}
	return out, nil
}

// OrderBySQL compiles $orderby to "expr ASC, expr DESC" for the row alias
// alias, without the ORDER BY keywords; "" when there is no $orderby.
func (q *Query) OrderBySQL(e *Entity, alias string) (string, error) {
	c := &compiler{root: e, alias: alias}
	parts := make([]string, 0, len(q.OrderBy))
	for _, o := range q.OrderBy {
		if len(o.Path) == 0 {
			return "", errorf("$orderby", "Empty $orderby item.")
		}
		p, sql, name, err := c.walk(e, alias, o.Path)
		if err != nil {
			return "", err
		}
		if !p.Sortable {
			return "", errorf(name, "The property '%s' cannot be used in $orderby.", name)
		}
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		parts = append(parts, sql+dir)
	}
	return strings.Join(parts, ", "), nil
}

// parseExpand reads "item, item" where an item is name[/name...] with
// optional "(option=value; ...)" applying to the last name.
func (p *optionParser) parseExpand(v string, e *Entity, depth int) ([]*ExpandItem, error) {
	if depth >= MaxDepth {
		return nil, errorf("$expand", "$expand is nested more than %d levels deep.", MaxDepth)
	}
	parts, err := splitTop(v, ',')
	if err != nil {
		return nil, err
	}
	var items []*ExpandItem
	for _, part := range parts {
		part = strings.TrimSpace(part)
		path, opts := part, ""
		if i := strings.IndexByte(part, '('); i >= 0 {
			if !strings.HasSuffix(part, ")") {
				return nil, errorf("$expand", "Expected ')' at the end of '%s'.", short(part))
			}
			path, opts = strings.TrimSpace(part[:i]), part[i+1:len(part)-1]
		}
		it, err := p.expandItem(strings.Split(path, "/"), opts, e, depth)
		if err != nil {
			return nil, err
		}
		if items, err = mergeExpand(items, it); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// expandItem builds the item for segs[0] of e; further segments become
// nested items, and opts belong to the last one.
func (p *optionParser) expandItem(segs []string, opts string, e *Entity, depth int) (*ExpandItem, error) {
	if p.expands++; p.expands > MaxItems {
		return nil, errorf("$expand", "$expand has more than %d items.", MaxItems)
	}
	if depth >= MaxDepth {
		return nil, errorf("$expand", "$expand is nested more than %d levels deep.", MaxDepth)
	}
	name := strings.TrimSpace(segs[0])
	var target *Entity
	it := &ExpandItem{}
	isColl := false
	if n := lookup(e.Navigations, name); n != nil {
		it.Name, target = n.Name, n.Target
	} else if c := lookup(e.Collections, name); c != nil {
		it.Name, target, isColl = c.Name, c.Target, true
	} else if name == "" {
		return nil, errorf("$expand", "$expand has an empty item.")
	} else if lookup(e.Properties, name) != nil {
		return nil, errorf(name, "'%s' is not a relation and cannot be expanded.", name)
	} else {
		return nil, notFound(name, e)
	}
	if len(segs) > 1 {
		child, err := p.expandItem(segs[1:], opts, target, depth+1)
		if err != nil {
			return nil, err
		}
		it.implicit, it.Expand = true, []*ExpandItem{child}
		return it, nil
	}
	if strings.TrimSpace(opts) == "" {
		return it, nil
	}
	m, err := nestedOptions(opts)
	if err != nil {
		return nil, err
	}
	for name := range m {
		if collectionOnly[name] && !isColl {
			return nil, errorf(it.Name, "%s is only allowed when expanding a collection, and '%s' is not one.", name, it.Name)
		}
	}
	return it, p.parse(&it.Query, m, target, depth+1)
}

// nestedOptions splits "$select=a,b;$expand=c" into a map.
func nestedOptions(s string) (map[string]string, error) {
	parts, err := splitTop(s, ';')
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, part := range parts {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, errorf("$expand", "Expected option=value in $expand, found '%s'.", short(strings.TrimSpace(part)))
		}
		if err := addOption(m, strings.TrimSpace(k), v); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// mergeExpand adds it to items. Naming a relation twice is allowed when at
// most one of the two has options, so that
// "actions($select=id),actions/timeAppointments" works.
func mergeExpand(items []*ExpandItem, it *ExpandItem) ([]*ExpandItem, error) {
	for i, old := range items {
		if old.Name != it.Name {
			continue
		}
		if !old.implicit && !it.implicit {
			return nil, errorf(it.Name, "'%s' is expanded more than once.", it.Name)
		}
		if old.implicit && !it.implicit {
			old, it = it, old // keep the one with options
		}
		for _, child := range it.Expand {
			var err error
			if old.Expand, err = mergeExpand(old.Expand, child); err != nil {
				return nil, err
			}
		}
		items[i] = old
		return items, nil
	}
	return append(items, it), nil
}

// splitTop splits s at each sep outside parentheses and 'quoted strings'.
func splitTop(s string, sep byte) ([]string, error) {
	var parts []string
	depth, start, quoted := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			quoted = !quoted // '' inside a string toggles twice
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			if depth--; depth < 0 {
				return nil, errorf("$expand", "Unbalanced ')' in $expand.")
			}
		case c == sep && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if depth != 0 || quoted {
		return nil, errorf("$expand", "Unbalanced '(' or quote in $expand.")
	}
	return append(parts, s[start:]), nil
}
