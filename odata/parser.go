package odata

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on client input. They keep parsing and the produced SQL small
// whatever a client sends.
const (
	MaxFilterLen = 8 << 10 // bytes of any one option value
	MaxStringLen = 4 << 10 // bytes of a string literal
	MaxDepth     = 32      // nesting of parentheses, not, calls, lambdas, $expand
	MaxNodes     = 200     // nodes of a $filter tree
	MaxItems     = 100     // items of $select, $orderby, or all levels of $expand
)

// functions maps the supported functions to their number of arguments.
var functions = map[string]int{
	"startswith": 2, "endswith": 2, "contains": 2, "substringof": 2,
	"tolower": 1, "toupper": 1,
}

var comparisons = map[string]bool{"eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true}

func syntaxError(pos int, format string, args ...any) *Error {
	return errorf("$filter", "Syntax error at position %d: %s.", pos, fmt.Sprintf(format, args...))
}

// parser is a recursive-descent parser over the tokens of one filter.
// Precedence, loosest first: or, and, comparison, not.
type parser struct {
	toks  []token
	i     int
	depth int
	nodes int
}

// ParseFilter parses a $filter expression. Names are not checked here:
// Parse checks them against an Entity.
func ParseFilter(s string) (Expr, error) {
	if len(s) > MaxFilterLen {
		return nil, errorf("$filter", "The filter is longer than %d bytes.", MaxFilterLen)
	}
	if !utf8.ValidString(s) {
		return nil, errorf("$filter", "The filter is not valid UTF-8.")
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	x, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, syntaxError(t.pos, "unexpected %s", t)
	}
	return x, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) expect(k tokKind, what string) error {
	if t := p.next(); t.kind != k {
		return syntaxError(t.pos, "expected %s, found %s", what, t)
	}
	return nil
}

// keyword consumes the next token if it is the identifier kw.
func (p *parser) keyword(kw string) bool {
	if t := p.peek(); t.kind == tIdent && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

// node counts a tree node, refusing trees too large to be reasonable.
func (p *parser) node(x Expr) (Expr, error) {
	if p.nodes++; p.nodes > MaxNodes {
		return nil, errorf("$filter", "The filter has more than %d nodes.", MaxNodes)
	}
	return x, nil
}

// enter and leave bracket every recursive construct, bounding the depth.
func (p *parser) enter() error {
	if p.depth++; p.depth > MaxDepth {
		return errorf("$filter", "The filter is nested more than %d levels deep.", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) or() (Expr, error) {
	return p.binaryLoop(p.and, func() (string, bool) { return "or", p.keyword("or") })
}

func (p *parser) and() (Expr, error) {
	return p.binaryLoop(p.comparison, func() (string, bool) { return "and", p.keyword("and") })
}

func (p *parser) comparison() (Expr, error) {
	return p.binaryLoop(p.unary, func() (string, bool) {
		if t := p.peek(); t.kind == tIdent && comparisons[strings.ToLower(t.text)] {
			p.i++
			return strings.ToLower(t.text), true
		}
		return "", false
	})
}

// binaryLoop parses operand {op operand} into a left-deep tree; a loop
// rather than recursion, so long chains do not nest.
func (p *parser) binaryLoop(operand func() (Expr, error), op func() (string, bool)) (Expr, error) {
	left, err := operand()
	for err == nil {
		o, ok := op()
		if !ok {
			break
		}
		var right Expr
		if right, err = operand(); err == nil {
			left, err = p.node(&Binary{Op: o, Left: left, Right: right})
		}
	}
	return left, err
}

func (p *parser) unary() (Expr, error) {
	if !p.keyword("not") {
		return p.primary()
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	return p.node(&Not{X: x})
}

func (p *parser) primary() (Expr, error) {
	t := p.next()
	switch t.kind {
	case tLParen:
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		return x, p.expect(tRParen, "')'")
	case tString:
		return p.node(&Literal{Kind: LitString, Text: t.text})
	case tNumber:
		return p.node(&Literal{Kind: LitNumber, Text: t.text})
	case tDate:
		return p.node(&Literal{Kind: LitDateTime, Text: t.text})
	case tGuid:
		return p.node(&Literal{Kind: LitGuid, Text: t.text})
	case tIdent:
		switch strings.ToLower(t.text) {
		case "true", "false":
			return p.node(&Literal{Kind: LitBool, Text: strings.ToLower(t.text)})
		case "null":
			return p.node(&Literal{Kind: LitNull, Text: "null"})
		}
		if p.peek().kind == tLParen {
			return p.call(t)
		}
		return p.path(t)
	}
	return nil, syntaxError(t.pos, "unexpected %s", t)
}

func (p *parser) call(name token) (Expr, error) {
	fn := strings.ToLower(name.text)
	arity, ok := functions[fn]
	if !ok {
		return nil, errorf("$filter", "Unknown function '%s'.", short(name.text))
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	p.next() // (
	var args []Expr
	for {
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		args = append(args, x)
		if t := p.next(); t.kind == tRParen {
			break
		} else if t.kind != tComma {
			return nil, syntaxError(t.pos, "expected ',' or ')', found %s", t)
		}
	}
	if len(args) != arity {
		return nil, errorf("$filter", "The function '%s' takes %d argument(s), not %d.", fn, arity, len(args))
	}
	return p.node(&Call{Func: fn, Args: args})
}

// path parses first{/segment}, which may end in /any(...) or /all(...).
func (p *parser) path(first token) (Expr, error) {
	segs := []string{first.text}
	for p.peek().kind == tSlash {
		p.next()
		t := p.next()
		if t.kind != tIdent {
			return nil, syntaxError(t.pos, "expected a property name after '/', found %s", t)
		}
		if op := strings.ToLower(t.text); (op == "any" || op == "all") && p.peek().kind == tLParen {
			return p.lambda(segs, op)
		}
		if segs = append(segs, t.text); len(segs) > MaxDepth {
			return nil, errorf("$filter", "A property path has more than %d segments.", MaxDepth)
		}
	}
	return p.node(&Path{Segments: segs})
}

// lambda parses (var: body) or, for any, ().
func (p *parser) lambda(coll []string, op string) (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	p.next() // (
	if t := p.peek(); t.kind == tRParen {
		if op == "all" {
			return nil, syntaxError(t.pos, "all() needs a lambda expression such as all(x: x/id eq 1)")
		}
		p.next()
		return p.node(&Lambda{Path: coll, Op: op})
	}
	v := p.next()
	if v.kind != tIdent {
		return nil, syntaxError(v.pos, "expected a lambda variable, found %s", v)
	}
	if err := p.expect(tColon, "':'"); err != nil {
		return nil, err
	}
	body, err := p.or()
	if err != nil {
		return nil, err
	}
	if err := p.expect(tRParen, "')'"); err != nil {
		return nil, err
	}
	return p.node(&Lambda{Path: coll, Op: op, Var: v.text, Body: body})
}
