package odata

// Expr is a node of a parsed $filter. The tree records names as the
// client wrote them; they are resolved against an Entity when compiled.
type Expr interface{ expr() }

// Binary is a logical (and, or) or comparison (eq, ne, lt, le, gt, ge)
// operation. Op is lower case.
type Binary struct {
	Op          string
	Left, Right Expr
}

// Not is the logical negation.
type Not struct{ X Expr }

// Path is a property path such as subject, owner/businessName or c/id,
// whose first segment may be a lambda variable or $it.
type Path struct{ Segments []string }

// Call is a function call; Func is lower case (startswith, tolower, ...).
type Call struct {
	Func string
	Args []Expr
}

// Lambda is Path/any(Var: Body) or Path/all(Var: Body). Body is nil for
// any() without arguments.
type Lambda struct {
	Path []string // the collection, e.g. [clients] or [c items]
	Op   string   // "any" or "all"
	Var  string
	Body Expr
}

// LitKind is the kind of a literal.
type LitKind int

// Literal kinds.
const (
	LitString   LitKind = iota + 1 // 'text'; Text is the unquoted value
	LitNumber                      // 12, -1.5, 1e3; Text as written
	LitBool                        // true, false
	LitNull                        // null
	LitDateTime                    // 2016-09-01T00:00:00Z or datetime'...'; Text without quotes
	LitGuid                        // 01234567-89ab-cdef-0123-456789abcdef or guid'...'
)

// Literal is a constant. Its value is converted when the type of the
// property it is compared with is known: '2016-09-01' is a date next to a
// DateTime property and a string next to a String one.
type Literal struct {
	Kind LitKind
	Text string
}

func (*Binary) expr()  {}
func (*Not) expr()     {}
func (*Path) expr()    {}
func (*Call) expr()    {}
func (*Lambda) expr()  {}
func (*Literal) expr() {}
