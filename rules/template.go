package rules

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/internal/textpolicy"
)

// Limits of what a template renders, the same as the API's for what a person writes.
const (
	MaxSubject      = 255   // set_subject, create_child_ticket's subject
	MaxBody         = 65536 // add_action, create_child_ticket's body
	MaxNotification = 2000  // notify_agents
)

// A template's work is bounded statically and at run time: no define, template or block (a
// template calling itself recurses), ranges nested at most maxRangeDepth deep and only over a
// field (not over a number, which Go's templates count up to), under nested ranges no
// collection in the data larger than maxRangeItems, printf without widths or precisions large enough to allocate, and the
// output cut off at its limit, which stops the execution at once.
const (
	maxRangeDepth = 2
	maxRangeItems = 1000
)

// parseTemplate parses a trigger template and refuses the constructs that could make it
// expensive. nested tells whether it has a range inside a range.
func parseTemplate(name, text string) (tpl *template.Template, nested bool, err error) {
	return parseTemplateFuncs(name, text, nil)
}

// parseTemplateFuncs is parseTemplate with more functions (placeholder groups).
func parseTemplateFuncs(name, text string, funcs template.FuncMap) (tpl *template.Template, nested bool, err error) {
	tpl, err = template.New(name).Option("missingkey=zero").Funcs(template.FuncMap{"printf": boundedPrintf}).Funcs(funcs).Parse(text)
	if err != nil {
		return nil, false, err
	}
	if len(tpl.Templates()) > 1 {
		return nil, false, errors.New("define and block are not supported")
	}
	depth, err := rangeDepth(tpl.Tree.Root)
	if err != nil {
		return nil, false, err
	}
	if depth > maxRangeDepth {
		return nil, false, fmt.Errorf("ranges may be nested at most %d deep", maxRangeDepth)
	}
	return tpl, depth > 1, nil
}

// rangeDepth is how deep ranges nest under n; it refuses {{template}} and ranges over what is
// not a field.
func rangeDepth(n parse.Node) (int, error) {
	deepest := func(nodes ...parse.Node) (int, error) {
		d := 0
		for _, c := range nodes {
			if l, ok := c.(*parse.ListNode); ok && l == nil {
				continue
			}
			cd, err := rangeDepth(c)
			if err != nil {
				return 0, err
			}
			d = max(d, cd)
		}
		return d, nil
	}
	switch n := n.(type) {
	case *parse.ListNode:
		return deepest(n.Nodes...)
	case *parse.TemplateNode:
		return 0, errors.New("{{template}} is not supported")
	case *parse.IfNode:
		return deepest(n.List, n.ElseList)
	case *parse.WithNode:
		return deepest(n.List, n.ElseList)
	case *parse.RangeNode:
		if !rangesOverField(n.Pipe) {
			return 0, errors.New("range only over a field, such as {{range .tags}}")
		}
		inner, err := deepest(n.List)
		if err != nil {
			return 0, err
		}
		other, err := deepest(n.ElseList)
		return max(inner+1, other), err
	}
	return 0, nil
}

// rangesOverField: the range's pipeline is a field (.tags, $.customFields.list, .) and not
// the ticket's number.
func rangesOverField(p *parse.PipeNode) bool {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode:
		return a.Ident[0] != "id"
	case *parse.VariableNode:
		return len(a.Ident) > 1 && a.Ident[1] != "id"
	case *parse.DotNode:
		return true
	}
	return false
}

var bigWidth = regexp.MustCompile(`%[-+# 0]*(\*|\d{4,})|\.(\*|\d{4,})`)

// boundedPrintf is printf without widths or precisions of 1000 and more, which would allocate
// before the output limit sees anything.
func boundedPrintf(format string, args ...any) (string, error) {
	if bigWidth.MatchString(format) {
		return "", errors.New("printf widths and precisions are limited to 999")
	}
	return fmt.Sprintf(format, args...), nil
}

// ErrTooLong is a template whose output exceeds its limit.
var ErrTooLong = errors.New("the rendered text is longer than the limit")

// limitedWriter fails the write that would take the output past max bytes.
type limitedWriter struct {
	b   strings.Builder
	max int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > w.max {
		return 0, ErrTooLong
	}
	return w.b.Write(p)
}

// Render fills a template with the ticket's fields: "Hello {{.subject}} ({{.urgency}})". A
// missing value (a custom field the ticket does not have) renders as nothing, not as
// text/template's "<no value>". The output is at most limit characters; a longer one is an
// error, as is a template or data beyond the bounds above.
func Render(text string, t Ticket, limit int) (string, error) {
	tpl, nested, err := parseTemplate("t", text)
	if err != nil {
		return "", err
	}
	// Nested ranges multiply: then no collection may be large. (Tags are bounded already.)
	if path := oversized(reflect.ValueOf(t.CustomFields), "customFields"); nested && path != "" {
		return "", fmt.Errorf("%s has more than %d items, more than a template may range over", path, maxRangeItems)
	}
	return execute(tpl, templateData(t), limit)
}

// execute renders the template within limit characters. The output must be storable text
// (textpolicy): a template can make a NUL, an escape or an invalid byte out of a printf or a
// quoted "\x00" that no input held, and the write of such text would fail for ever.
func execute(tpl *template.Template, data any, limit int) (string, error) {
	w := &limitedWriter{max: 4 * limit} // bytes; characters are counted below
	if err := tpl.Execute(w, data); err != nil {
		if errors.Is(err, ErrTooLong) {
			return "", fmt.Errorf("%w of %d characters", ErrTooLong, limit)
		}
		return "", err
	}
	out := strings.ReplaceAll(w.b.String(), "<no value>", "")
	if n := utf8.RuneCountInString(out); n > limit {
		return "", fmt.Errorf("%w of %d characters (%d)", ErrTooLong, limit, n)
	}
	if why := textpolicy.Problem(out); why != "" {
		return "", fmt.Errorf("%w: it %s", ErrUnstorable, why)
	}
	return out, nil
}

// ErrUnstorable is a template whose output breaks the text policy.
var ErrUnstorable = errors.New("the rendered text cannot be stored")

// oversized names the first collection in v with more than maxRangeItems elements.
func oversized(v reflect.Value, path string) string {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		if v.Len() > maxRangeItems {
			return path
		}
		for i := range v.Len() {
			if p := oversized(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case reflect.Map:
		if v.Len() > maxRangeItems {
			return path
		}
		for it := v.MapRange(); it.Next(); {
			if p := oversized(it.Value(), fmt.Sprintf("%s.%v", path, it.Key())); p != "" {
				return p
			}
		}
	}
	return ""
}

// --- placeholders

// Placeholders are named groups of text values a template fills in as {{group.name}}:
// {{ticket.subject}}, {{agent.name}}. Each group is a template function answering its values,
// so the text needs no leading dot; the bounds above hold as for ticket templates.
type Placeholders map[string]map[string]string

// TextBlockPlaceholders are the placeholders a text building block may use (values empty).
var TextBlockPlaceholders = Placeholders{
	"ticket":   {"id": "", "protocol": "", "subject": "", "category": "", "urgency": "", "status": ""},
	"customer": {"name": "", "email": ""},
	"agent":    {"name": "", "email": ""},
}

// Names are the placeholders as written, sorted: {{agent.email}}, {{agent.name}}, ...
func (p Placeholders) Names() []string {
	var out []string
	for g, vals := range p {
		for n := range vals {
			out = append(out, "{{"+g+"."+n+"}}")
		}
	}
	slices.Sort(out)
	return out
}

func (p Placeholders) funcs() template.FuncMap {
	fm := template.FuncMap{}
	for g, vals := range p {
		fm[g] = func() map[string]string { return vals }
	}
	return fm
}

// CheckPlaceholders parses text as RenderPlaceholders does and names, as written, the
// placeholders in it that allowed does not have: {{ticket.subjct}}, {{.subject}}, {{agent}}.
// An identifier that is no group at all is a parse error, naming it.
func CheckPlaceholders(text string, allowed Placeholders) (unknown []string, err error) {
	tpl, _, err := parseTemplateFuncs("text", text, allowed.funcs())
	if err != nil {
		return nil, err
	}
	add := func(name string) {
		if !slices.Contains(unknown, name) {
			unknown = append(unknown, name)
		}
	}
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n != nil {
				for _, c := range n.Cmds {
					walk(c)
				}
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.ChainNode:
			id, ok := n.Node.(*parse.IdentifierNode)
			switch {
			case !ok:
				walk(n.Node)
			case len(n.Field) != 1:
				add("{{" + id.Ident + "." + strings.Join(n.Field, ".") + "}}")
			default:
				if _, known := allowed[id.Ident][n.Field[0]]; !known {
					add("{{" + id.Ident + "." + n.Field[0] + "}}")
				}
			}
		case *parse.IdentifierNode:
			if _, group := allowed[n.Ident]; group {
				add("{{" + n.Ident + "}}")
			}
		case *parse.FieldNode:
			add("{{." + strings.Join(n.Ident, ".") + "}}")
		case *parse.VariableNode:
			add("{{" + strings.Join(n.Ident, ".") + "}}")
		case *parse.DotNode:
			add("{{.}}")
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		}
	}
	walk(tpl.Tree.Root)
	return unknown, nil
}

// RenderPlaceholders fills text with values; a value the group does not have renders as
// nothing. The output is at most limit characters; a longer one is an error.
func RenderPlaceholders(text string, values Placeholders, limit int) (string, error) {
	tpl, _, err := parseTemplateFuncs("text", text, values.funcs())
	if err != nil {
		return "", err
	}
	return execute(tpl, nil, limit)
}
