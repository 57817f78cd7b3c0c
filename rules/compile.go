package rules

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// MaxNodes bounds a program's size, so a rule cannot be made arbitrarily expensive.
const MaxNodes = 2000

// MaxLength bounds a condition's source.
const MaxLength = 4000

// CompileError is an invalid expression, with where it went wrong.
type CompileError struct {
	Message string `json:"message"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Snippet string `json:"snippet,omitempty"`
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("%s (line %d, column %d)", e.Message, e.Line, e.Column)
}

// Compile checks a boolean condition against Env. An empty condition matches everything and
// compiles to nil.
func Compile(condition string) (*vm.Program, error) {
	if strings.TrimSpace(condition) == "" {
		return nil, nil
	}
	if len(condition) > MaxLength {
		return nil, &CompileError{Message: fmt.Sprintf("the condition is longer than %d characters", MaxLength), Line: 1, Column: 1}
	}
	opts := []expr.Option{expr.Env(Env{}), expr.AsBool(), expr.MaxNodes(MaxNodes)}
	for _, name := range disabledBuiltins {
		opts = append(opts, expr.DisableBuiltin(name))
	}
	p, err := expr.Compile(condition, opts...)
	if err != nil {
		return nil, compileError(err)
	}
	if err := checkCost(p.Node()); err != nil {
		return nil, err
	}
	return p, nil
}

// compileError gives an expr error its position, 1-based. Errors about the whole expression
// (its type, its length) have none of their own and point at its start.
func compileError(err error) *CompileError {
	var fe *file.Error
	if errors.As(err, &fe) {
		return &CompileError{Message: clarify(fe.Message), Line: max(fe.Line, 1), Column: max(fe.Column+1, 1),
			Snippet: strings.TrimSpace(fe.Snippet)}
	}
	return &CompileError{Message: clarify(err.Error()), Line: 1, Column: 1}
}

// clarify rewrites expr's "expected bool, but got string" (from expr.AsBool) into words an
// admin reads without knowing Go.
func clarify(msg string) string {
	if got, ok := strings.CutPrefix(msg, "expected bool, but got "); ok {
		return "the condition must give true or false: expected type boolean, but got " + got
	}
	return msg
}

// Eval runs a condition. A nil program matches. It never panics: a runtime error (a nil map,
// a wrong type at run time) is returned and the rule counts as not matched. An environment
// larger than the bounds Compile's cost check assumes is refused, so no evaluation runs longer
// than MaxCost steps.
func Eval(p *vm.Program, env Env) (matched bool, err error) {
	if p == nil {
		return true, nil
	}
	if err := checkEnv(env); err != nil {
		return false, err
	}
	defer func() {
		if r := recover(); r != nil {
			matched, err = false, fmt.Errorf("evaluation panicked: %v", r)
		}
	}()
	out, err := expr.Run(p, env)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("the condition gave %T, not a boolean", out)
	}
	return b, nil
}

// Cache keeps compiled programs by rule id and version, so each rule version compiles once.
type Cache struct {
	mu       sync.RWMutex
	programs map[cacheKey]*vm.Program
}

type cacheKey struct {
	id      string
	version int
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{programs: map[cacheKey]*vm.Program{}} }

// Program returns the compiled condition of a rule version, compiling it the first time.
func (c *Cache) Program(id string, version int, condition string) (*vm.Program, error) {
	k := cacheKey{id, version}
	c.mu.RLock()
	p, ok := c.programs[k]
	c.mu.RUnlock()
	if ok {
		return p, nil
	}
	p, err := Compile(condition)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.programs) > 100_000 { // old versions pile up; start over rather than grow forever
		clear(c.programs)
	}
	c.programs[k] = p
	c.mu.Unlock()
	return p, nil
}
