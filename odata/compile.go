package odata

import (
	"math"
	"strconv"
	"strings"
)

// Precedence of compiled fragments, loosest first. A fragment is put in
// parentheses when used where a tighter one is needed.
const (
	precOr = iota + 1
	precAnd
	precNot
	precCmp
	precAtom
)

// frag is a compiled sub-expression.
type frag struct {
	sql  string
	args []any
	typ  Type
	prec int
	lit  *Literal // set for a bare literal, bound once the other side's type is known
	name string   // declared property path, for messages
}

// wrap returns f's SQL, parenthesised if it binds looser than prec.
func wrap(f frag, prec int) string {
	if f.prec < prec {
		return "(" + f.sql + ")"
	}
	return f.sql
}

func join(a, b []any) []any {
	if len(a)+len(b) == 0 {
		return nil
	}
	return append(append(make([]any, 0, len(a)+len(b)), a...), b...)
}

// compiler turns a filter tree into SQL for one entity and row alias.
type compiler struct {
	root  *Entity
	alias string
	vars  []lambdaVar // lambda variables in scope, innermost last
	n     int         // aliases generated so far
}

type lambdaVar struct {
	name  string
	ent   *Entity
	alias string
}

// newAlias names a correlated subquery's row. Generated names never
// contain client text.
func (c *compiler) newAlias() string {
	c.n++
	return "odata" + strconv.Itoa(c.n)
}

// compileFilter compiles x into a condition that can be ANDed with others.
func compileFilter(x Expr, e *Entity, alias string) (string, []any, error) {
	c := &compiler{root: e, alias: alias}
	f, err := c.boolean(x)
	if err != nil {
		return "", nil, err
	}
	return wrap(f, precAnd), f.args, nil
}

// Where compiles q.Filter to SQL with `?` placeholders and its args, for
// the row alias alias. It returns "" when there is no filter.
func (q *Query) Where(e *Entity, alias string) (sql string, args []any, err error) {
	if q.Filter == nil {
		return "", nil, nil
	}
	return compileFilter(q.Filter, e, alias)
}

func (c *compiler) boolean(x Expr) (frag, error) {
	f, err := c.expr(x)
	if err != nil {
		return frag{}, err
	}
	if f.lit != nil {
		if f.lit.Kind != LitBool {
			return frag{}, errorf("$filter", "A literal cannot be a condition; compare it with a property.")
		}
		sql := "FALSE"
		if strings.EqualFold(f.lit.Text, "true") {
			sql = "TRUE"
		}
		return frag{sql: sql, typ: Bool, prec: precAtom}, nil
	}
	if f.typ != Bool {
		prop, what := subject(f.name)
		return frag{}, errorf(prop, "%s is of type %s, not a condition; compare it with something.", what, f.typ)
	}
	return f, nil
}

func (c *compiler) expr(x Expr) (frag, error) {
	switch x := x.(type) {
	case *Literal:
		return frag{lit: x, typ: literalType(x), prec: precAtom}, nil
	case *Path:
		if len(x.Segments) > 0 {
			_, f, err := c.path(x.Segments)
			return f, err
		}
	case *Not:
		f, err := c.boolean(x.X)
		if err != nil {
			return frag{}, err
		}
		return frag{sql: "NOT " + wrap(f, precAtom), args: f.args, typ: Bool, prec: precNot}, nil
	case *Binary:
		if x.Op == "and" || x.Op == "or" {
			return c.logical(x)
		}
		if sqlComparison[x.Op] != "" {
			return c.compare(x)
		}
	case *Call:
		// Trees built by hand rather than by ParseFilter are checked too.
		if n, ok := functions[x.Func]; ok && n == len(x.Args) {
			return c.call(x)
		}
	case *Lambda:
		if len(x.Path) > 0 && (x.Op == "any" || x.Op == "all" && x.Body != nil) {
			return c.lambda(x)
		}
	}
	return frag{}, errorf("$filter", "Unsupported expression.")
}

func (c *compiler) logical(x *Binary) (frag, error) {
	l, err := c.boolean(x.Left)
	if err != nil {
		return frag{}, err
	}
	r, err := c.boolean(x.Right)
	if err != nil {
		return frag{}, err
	}
	if x.Op == "and" {
		return frag{sql: wrap(l, precAnd) + " AND " + wrap(r, precAnd), args: join(l.args, r.args), typ: Bool, prec: precAnd}, nil
	}
	// SQL would get "a OR b AND c" right, but parentheses make it obvious.
	orOperand := func(f frag) string {
		if f.prec == precAnd {
			return "(" + f.sql + ")"
		}
		return wrap(f, precOr)
	}
	return frag{sql: orOperand(l) + " OR " + orOperand(r), args: join(l.args, r.args), typ: Bool, prec: precOr}, nil
}

var sqlComparison = map[string]string{
	"eq": "=", "ne": "IS DISTINCT FROM", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
}

func (c *compiler) compare(x *Binary) (frag, error) {
	l, err := c.expr(x.Left)
	if err != nil {
		return frag{}, err
	}
	r, err := c.expr(x.Right)
	if err != nil {
		return frag{}, err
	}
	if l.lit != nil && r.lit != nil {
		return frag{}, errorf("$filter", "A comparison needs a property on at least one side.")
	}
	if l.lit != nil && l.lit.Kind == LitNull {
		l, r = r, l // null eq p is p eq null; only eq and ne are allowed below
	}
	if r.lit != nil && r.lit.Kind == LitNull {
		return compareNull(x.Op, l)
	}
	op := sqlComparison[x.Op]
	switch {
	case l.lit != nil:
		if l, err = bind(l.lit, r); err != nil {
			return frag{}, err
		}
	case r.lit != nil:
		if r, err = bind(r.lit, l); err != nil {
			return frag{}, err
		}
	default:
		if !comparable(l.typ, r.typ) {
			prop, what := subject(l.name)
			_, other := subject(r.name)
			return frag{}, errorf(prop, "%s (%s) cannot be compared with %s (%s).", what, l.typ, other, r.typ)
		}
		if x.Op == "eq" {
			op = "IS NOT DISTINCT FROM" // null eq null is true in OData
		}
	}
	sql := wrap(l, precAtom) + " " + op + " " + wrap(r, precAtom)
	return frag{sql: sql, args: join(l.args, r.args), typ: Bool, prec: precCmp}, nil
}

func compareNull(op string, f frag) (frag, error) {
	var sql string
	switch op {
	case "eq":
		sql = wrap(f, precAtom) + " IS NULL"
	case "ne":
		sql = wrap(f, precAtom) + " IS NOT NULL"
	default:
		prop, _ := subject(f.name)
		return frag{}, errorf(prop, "null can only be compared with eq or ne.")
	}
	return frag{sql: sql, args: f.args, typ: Bool, prec: precCmp}, nil
}

// subject names an operand in messages: its property path, or, for a
// computed value such as startswith(...), the option itself.
func subject(name string) (prop, what string) {
	if name == "" {
		return "$filter", "The expression"
	}
	return name, "'" + name + "'"
}

func comparable(a, b Type) bool {
	numeric := func(t Type) bool { return t == Int || t == Float }
	return a == b || numeric(a) && numeric(b)
}

func literalType(l *Literal) Type {
	switch l.Kind {
	case LitString, LitGuid:
		return String
	case LitNumber:
		if strings.ContainsAny(l.Text, ".eE") {
			return Float
		}
		return Int
	case LitBool:
		return Bool
	case LitDateTime:
		return DateTime
	}
	return 0
}

// bind converts lit to the type of other, the side it is compared with,
// and returns it as a placeholder.
func bind(lit *Literal, other frag) (frag, error) {
	v, err := convert(lit, other.typ, other.name)
	if err != nil {
		return frag{}, err
	}
	return frag{sql: "?", args: []any{v}, typ: other.typ, prec: precAtom}, nil
}

func convert(lit *Literal, t Type, name string) (any, error) {
	mismatch := func() error {
		text := lit.Text
		if lit.Kind == LitString {
			text = "'" + short(text) + "'"
		}
		prop, what := subject(name)
		return errorf(prop, "%s is of type %s and cannot be compared with %s.", what, t, text)
	}
	switch t {
	case String:
		// Numbers are accepted for clients that leave ids unquoted.
		if lit.Kind == LitString || lit.Kind == LitGuid || lit.Kind == LitNumber {
			return lit.Text, nil
		}
	case Int, Float:
		if lit.Kind == LitNumber {
			return number(lit.Text, literalType(lit) == Int && t == Int, name)
		}
	case Bool:
		if lit.Kind == LitBool {
			return lit.Text == "true", nil
		}
	case DateTime:
		if lit.Kind == LitDateTime || lit.Kind == LitString {
			tm, err := parseDateTime(lit.Text)
			if err != nil {
				prop, what := subject(name)
				return nil, errorf(prop, "%s is of type DateTime and '%s' is not a valid date: %v.", what, short(lit.Text), err)
			}
			return tm, nil
		}
	}
	return nil, mismatch()
}

// number converts a numeric literal to int64 when both it and the
// property are integers, and to a finite float64 otherwise.
func number(text string, integer bool, name string) (any, error) {
	if integer {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n, nil
		}
		prop, _ := subject(name)
		return nil, errorf(prop, "The number %s is out of range.", short(text))
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		prop, _ := subject(name)
		return nil, errorf(prop, "The number %s is out of range.", short(text))
	}
	return f, nil
}

func (c *compiler) call(x *Call) (frag, error) {
	switch x.Func {
	case "tolower", "toupper":
		a, err := c.stringProperty(x.Func, x.Args[0])
		if err != nil {
			return frag{}, err
		}
		fn := map[string]string{"tolower": "lower(", "toupper": "upper("}[x.Func]
		return frag{sql: fn + a.sql + ")", args: a.args, typ: String, prec: precAtom, name: a.name}, nil
	case "substringof": // OData v2: substringof('needle', haystack)
		return c.like(x.Func, x.Args[1], x.Args[0])
	}
	return c.like(x.Func, x.Args[0], x.Args[1])
}

// stringProperty compiles the argument of a string function, which must
// be a String property (or a function of one), not a literal.
func (c *compiler) stringProperty(fn string, x Expr) (frag, error) {
	f, err := c.expr(x)
	if err != nil {
		return frag{}, err
	}
	if f.lit != nil || f.typ != String {
		prop, _ := subject(f.name)
		return frag{}, errorf(prop, "The function '%s' needs a String property as its subject.", fn)
	}
	return f, nil
}

// like compiles startswith, endswith, contains and substringof to a
// case-insensitive ILIKE whose pattern is the escaped literal, bound as
// an argument.
func (c *compiler) like(fn string, subj, pattern Expr) (frag, error) {
	s, err := c.stringProperty(fn, subj)
	if err != nil {
		return frag{}, err
	}
	p, ok := pattern.(*Literal)
	if !ok || p.Kind != LitString {
		prop, _ := subject(s.name)
		return frag{}, errorf(prop, "The function '%s' needs a string literal to search for.", fn)
	}
	v := escapeLike(p.Text)
	switch fn {
	case "startswith":
		v += "%"
	case "endswith":
		v = "%" + v
	default:
		v = "%" + v + "%"
	}
	return frag{sql: wrap(s, precAtom) + ` ILIKE ? ESCAPE '\'`, args: join(s.args, []any{v}), typ: Bool, prec: precCmp}, nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func escapeLike(s string) string { return likeEscaper.Replace(s) }

// lambda compiles coll/any(v: body) to EXISTS and coll/all(v: body) to
// NOT EXISTS over the elements for which body is not true (false or null).
func (c *compiler) lambda(x *Lambda) (frag, error) {
	coll, parent, err := c.collection(x.Path)
	if err != nil {
		return frag{}, err
	}
	elem := c.newAlias()
	from := coll.From(parent, elem)
	if x.Body == nil {
		return frag{sql: "EXISTS (SELECT 1 FROM " + from + ")", typ: Bool, prec: precAtom}, nil
	}
	if c.variable(x.Var) != nil || strings.EqualFold(x.Var, "$it") {
		return frag{}, errorf(x.Var, "The lambda variable '%s' is already in use.", x.Var)
	}
	c.vars = append(c.vars, lambdaVar{name: x.Var, ent: coll.Target, alias: elem})
	body, err := c.boolean(x.Body)
	c.vars = c.vars[:len(c.vars)-1]
	if err != nil {
		return frag{}, err
	}
	if x.Op == "all" {
		sql := "NOT EXISTS (SELECT 1 FROM " + from + " AND (" + body.sql + ") IS NOT TRUE)"
		return frag{sql: sql, args: body.args, typ: Bool, prec: precNot}, nil
	}
	sql := "EXISTS (SELECT 1 FROM " + from + " AND (" + body.sql + "))"
	return frag{sql: sql, args: body.args, typ: Bool, prec: precAtom}, nil
}

func (c *compiler) variable(name string) *lambdaVar {
	for i := len(c.vars) - 1; i >= 0; i-- {
		if strings.EqualFold(c.vars[i].name, name) {
			return &c.vars[i]
		}
	}
	return nil
}

// start resolves the first segment of a path: a lambda variable, $it (the
// row being filtered) or, implicitly, a property of the root entity. It
// returns the entity and alias the rest of the path starts from.
func (c *compiler) start(segs []string) (*Entity, string, []string) {
	if v := c.variable(segs[0]); v != nil {
		return v.ent, v.alias, segs[1:]
	}
	if strings.EqualFold(segs[0], "$it") {
		return c.root, c.alias, segs[1:]
	}
	return c.root, c.alias, segs
}

// collection resolves the path before /any or /all. Only a collection of
// the row itself or of a lambda variable is supported, not one reached
// through a navigation.
func (c *compiler) collection(segs []string) (*Collection, string, error) {
	ent, alias, rest := c.start(segs)
	if len(rest) == 0 {
		return nil, "", errorf(segs[0], "'%s' is not a collection.", segs[0])
	}
	if coll := lookup(ent.Collections, rest[0]); coll != nil {
		if len(rest) > 1 {
			return nil, "", errorf(coll.Name, "'%s' is a collection; filter it with %s/any(x: ...).", coll.Name, coll.Name)
		}
		return coll, alias, nil
	}
	if len(rest) > 1 && lookup(ent.Navigations, rest[0]) != nil {
		return nil, "", errorf(rest[0], "any/all over a collection reached through '%s' is not supported.", rest[0])
	}
	if lookup(ent.Properties, rest[0]) != nil || lookup(ent.Navigations, rest[0]) != nil {
		return nil, "", errorf(rest[0], "'%s' is not a collection.", rest[0])
	}
	return nil, "", notFound(rest[0], ent)
}

// path compiles a property path used as a value.
func (c *compiler) path(segs []string) (*Property, frag, error) {
	ent, alias, rest := c.start(segs)
	if len(rest) == 0 {
		return nil, frag{}, errorf(segs[0], "'%s' must be followed by '/' and a property name.", segs[0])
	}
	p, sql, name, err := c.walk(ent, alias, rest)
	if err != nil {
		return nil, frag{}, err
	}
	return p, frag{sql: sql, typ: p.Type, prec: precAtom, name: name}, nil
}

// walk resolves segs from entity e, whose row is alias, down to a scalar
// property. Each navigation adds a correlated scalar subquery, unless the
// parent row holds the value (Navigation.Local). It returns the property,
// its SQL and its declared path.
func (c *compiler) walk(e *Entity, alias string, segs []string) (*Property, string, string, error) {
	s := segs[0]
	if p := lookup(e.Properties, s); p != nil {
		if len(segs) > 1 {
			return nil, "", "", errorf(p.Name, "'%s' is not a navigation property and cannot be followed by '/'.", p.Name)
		}
		return p, p.SQL(alias), p.Name, nil
	}
	if n := lookup(e.Navigations, s); n != nil {
		if len(segs) == 1 {
			return nil, "", "", errorf(n.Name, "'%s' is a navigation property; name one of its properties, as in %s/id.", n.Name, n.Name)
		}
		if len(segs) == 2 {
			if tp := lookup(n.Target.Properties, segs[1]); tp != nil && n.Local[tp.Name] != nil {
				return tp, n.Local[tp.Name](alias), n.Name + "/" + tp.Name, nil
			}
		}
		elem := c.newAlias()
		p, inner, name, err := c.walk(n.Target, elem, segs[1:])
		if err != nil {
			return nil, "", "", err
		}
		return p, "(SELECT " + inner + " FROM " + n.From(alias, elem) + ")", n.Name + "/" + name, nil
	}
	if coll := lookup(e.Collections, s); coll != nil {
		return nil, "", "", errorf(coll.Name, "'%s' is a collection; filter it with %s/any(x: ...).", coll.Name, coll.Name)
	}
	return nil, "", "", notFound(s, e)
}
