package rules

import (
	"fmt"
	"reflect"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
)

// A condition's worst-case work is bounded when it is compiled, so that no condition can pin a
// CPU: in the API's dry run, in a display rule, in an SLA policy or in the worker evaluating a
// ticket's triggers. The estimate counts the nodes evaluated, multiplying a predicate's body
// (all, any, filter, map, count, ...) by the most elements its collection can have. Those sizes
// are the API's own limits on a ticket (Eval refuses an environment that exceeds them, so the
// estimate holds whatever the data), the length of a literal or a constant range, and
// unknownSize for a collection the expression computes in a way the AST does not tell.
const (
	// MaxCost is the most nodes a condition may evaluate in the worst case: measured at 10 to
	// 100 ns a node on one core, at most some 50 ms. Two loops nested over ticket.tags fit with a body of
	// a hundred nodes; three do not.
	MaxCost = 500_000
	// The largest ticket a condition is evaluated on, as the API accepts them.
	MaxTags         = 50
	MaxClientIDs    = 50
	MaxCustomFields = 100
	// MaxChanges bounds changes and event.payload, which the system fills with a few fields.
	MaxChanges = 100
	// unknownSize is assumed for a computed collection (split, a variable, a range with
	// variable ends is taken at expr's memory budget instead). One level of iteration over it
	// with a modest body fits MaxCost; nesting two does not.
	unknownSize = 1000
	// rangeLimit is the largest range expr builds (its default memory budget).
	rangeLimit = 1_000_000
)

// knownSizes are the collections of Env and their bounds.
var knownSizes = map[string]int{
	"ticket.tags": MaxTags, "ticket.clientIds": MaxClientIDs, "ticket.customFields": MaxCustomFields,
	"changes": MaxChanges, "event.payload": MaxChanges,
}

// disabledBuiltins are expr built-ins a condition may not call: now reads the wall clock (time
// is passed in); repeat allocates as much as its argument says.
var disabledBuiltins = []string{"now", "repeat"}

// cost is the worst-case number of nodes evaluating n takes, saturating at MaxCost+1.
func cost(n ast.Node) int {
	if n == nil {
		return 0
	}
	c := 1
	if b, ok := n.(*ast.BuiltinNode); ok && len(b.Arguments) > 0 && isPredicate(b.Name) {
		// The collection once, then the predicate (and anything after it) per element.
		c = add(add(c, cost(b.Arguments[0])), size(b.Arguments[0]))
		for _, arg := range b.Arguments[1:] {
			c = add(c, mul(size(b.Arguments[0]), cost(arg)))
		}
		return c
	}
	for _, child := range children(n) {
		c = add(c, cost(child))
	}
	switch b := n.(type) {
	case *ast.BuiltinNode:
		if walksArgument[b.Name] {
			for _, arg := range b.Arguments {
				c = add(c, size(arg))
			}
		}
	case *ast.BinaryNode:
		switch b.Operator {
		case "..": // builds the range
			c = add(c, size(b))
		case "in": // searches the list
			c = add(c, size(b.Right))
		}
	}
	return c
}

// walksArgument are the built-ins (other than predicates) that visit every element of their
// arguments. String built-ins are linear in bounded strings and count as one step.
var walksArgument = map[string]bool{"sort": true, "uniq": true, "join": true, "keys": true, "values": true,
	"toPairs": true, "fromPairs": true, "max": true, "min": true, "mean": true, "median": true, "reverse": true,
	"flatten": true, "concat": true, "take": true, "toJSON": true}

func isPredicate(name string) bool {
	i, ok := builtin.Index[name]
	return ok && builtin.Builtins[i].Predicate
}

// size is the most elements the collection n can have.
func size(n ast.Node) int {
	switch n := n.(type) {
	case *ast.ArrayNode:
		return len(n.Nodes)
	case *ast.MapNode:
		return len(n.Pairs)
	case *ast.ConstantNode: // the optimizer folds literals and constant ranges into these
		if v := reflect.ValueOf(n.Value); v.Kind() == reflect.Slice || v.Kind() == reflect.Map || v.Kind() == reflect.String {
			return v.Len()
		}
		return 1
	case *ast.StringNode:
		return len(n.Value)
	case *ast.ChainNode:
		return size(n.Node)
	case *ast.SliceNode:
		return size(n.Node)
	case *ast.ConditionalNode:
		return max(size(n.Exp1), size(n.Exp2))
	case *ast.BinaryNode:
		switch n.Operator {
		case "..":
			from, okFrom := n.Left.(*ast.IntegerNode)
			to, okTo := n.Right.(*ast.IntegerNode)
			if okFrom && okTo {
				return max(to.Value-from.Value+1, 0)
			}
			return rangeLimit
		case "+":
			return add(size(n.Left), size(n.Right))
		}
	case *ast.BuiltinNode:
		if len(n.Arguments) == 0 {
			break
		}
		switch n.Name {
		case "filter", "map", "sortBy", "sort", "uniq", "reverse", "keys", "values", "toPairs", "take", "groupBy":
			return size(n.Arguments[0])
		case "concat":
			total := 0
			for _, a := range n.Arguments {
				total = add(total, size(a))
			}
			return total
		}
	case *ast.MemberNode, *ast.IdentifierNode:
		if s, ok := knownSizes[memberPath(n)]; ok {
			return s
		}
	}
	return unknownSize
}

// memberPath spells a member access of Env as written: "ticket.tags", "changes".
func memberPath(n ast.Node) string {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return n.Value
	case *ast.MemberNode:
		if p, ok := n.Property.(*ast.StringNode); ok {
			if base := memberPath(n.Node); base != "" {
				return base + "." + p.Value
			}
		}
	}
	return ""
}

// children are a node's direct operands.
func children(n ast.Node) []ast.Node {
	switch n := n.(type) {
	case *ast.UnaryNode:
		return []ast.Node{n.Node}
	case *ast.BinaryNode:
		return []ast.Node{n.Left, n.Right}
	case *ast.ChainNode:
		return []ast.Node{n.Node}
	case *ast.MemberNode:
		return []ast.Node{n.Node, n.Property}
	case *ast.SliceNode:
		return []ast.Node{n.Node, n.From, n.To}
	case *ast.CallNode:
		return append([]ast.Node{n.Callee}, n.Arguments...)
	case *ast.BuiltinNode:
		return append(append([]ast.Node{}, n.Arguments...), n.Map)
	case *ast.PredicateNode:
		return []ast.Node{n.Node}
	case *ast.ConditionalNode:
		return []ast.Node{n.Cond, n.Exp1, n.Exp2}
	case *ast.VariableDeclaratorNode:
		return []ast.Node{n.Value, n.Expr}
	case *ast.SequenceNode:
		return n.Nodes
	case *ast.ArrayNode:
		return n.Nodes
	case *ast.MapNode:
		return n.Pairs
	case *ast.PairNode:
		return []ast.Node{n.Key, n.Value}
	}
	return nil
}

// add and mul saturate just past MaxCost, so that five nested loops do not overflow.
func add(a, b int) int { return min(a+b, MaxCost+1) }

func mul(a, b int) int {
	if a != 0 && b > (MaxCost+1)/a {
		return MaxCost + 1
	}
	return min(a*b, MaxCost+1)
}

// checkCost refuses a program whose worst case exceeds MaxCost.
func checkCost(n ast.Node) error {
	if c := cost(n); c > MaxCost {
		return &CompileError{Line: 1, Column: 1, Message: fmt.Sprintf(
			"the condition could take too long: in the worst case it evaluates more than %d steps "+
				"(each all/any/filter/map/count over a list repeats its body once per element: "+
				"ticket.tags up to %d, ticket.customFields up to %d, other computed lists up to %d); "+
				"nest fewer loops over lists", MaxCost, MaxTags, MaxCustomFields, unknownSize)}
	}
	return nil
}

// CheckTicket says whether a ticket is within the sizes conditions are bounded for; field
// names the first one that is not.
func CheckTicket(t Ticket) (field, msg string) {
	for _, b := range []struct {
		field  string
		n, max int
	}{{"tags", len(t.Tags), MaxTags}, {"clientIds", len(t.ClientIDs), MaxClientIDs},
		{"customFields", len(t.CustomFields), MaxCustomFields}} {
		if b.n > b.max {
			return b.field, fmt.Sprintf("has %d items; conditions are evaluated on at most %d", b.n, b.max)
		}
	}
	return "", ""
}

// checkEnv refuses an evaluation whose input exceeds the bounds the cost was computed for.
func checkEnv(env Env) error {
	if field, msg := CheckTicket(env.Ticket); field != "" {
		return fmt.Errorf("not evaluated: ticket.%s %s", field, msg)
	}
	if len(env.Changes) > MaxChanges || len(env.Event.Payload) > MaxChanges {
		return fmt.Errorf("not evaluated: changes and event.payload are limited to %d entries", MaxChanges)
	}
	return nil
}
