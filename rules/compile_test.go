package rules

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func testEnv() Env {
	tk := Ticket{ID: 42, Subject: "Printer on fire", Urgency: "Urgent", Status: "New", BaseStatus: "New",
		Tags: []string{"vip", "printer"}, CustomFields: map[string]any{"plan": "gold", "seats": 12.0},
		CreatedAt: t0.Add(-5 * time.Hour), UpdatedAt: t0}
	return NewEnv(tk, Event{Name: EventUpdated}, map[string]Change{"urgency": {From: "Low", To: "Urgent"}},
		Actor{ID: "p-1", Kind: "customer"}, t0)
}

func eval(t *testing.T, condition string, env Env) (bool, error) {
	t.Helper()
	p, err := Compile(condition)
	if err != nil {
		t.Fatalf("compile %q: %v", condition, err)
	}
	return Eval(p, env)
}

func compileErr(t *testing.T, condition string) *CompileError {
	t.Helper()
	_, err := Compile(condition)
	if err == nil {
		t.Fatalf("%q compiled; want an error", condition)
	}
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("%q: error %T %v is not a *CompileError", condition, err, err)
	}
	return ce
}

func TestEvalMatches(t *testing.T) {
	env := testEnv()
	cases := []struct {
		condition string
		want      bool
	}{
		{"", true}, // an empty condition matches everything
		{"   ", true},
		{"ticket.urgency == 'Urgent'", true},
		{"ticket.urgency == 'Low'", false},
		{"ticket.id == 42 && event.name == 'ticket.updated'", true},
		{"actor.kind == 'customer' && actor.id == 'p-1'", true},
		{"'vip' in ticket.tags", true},
		{"ticket.subject contains 'fire'", true},
		{"ticket.subject matches '^Printer'", true},
		{"ticket.customFields.plan == 'gold'", true},
		{"ticket.customFields.seats > 10", true},
		{"ticket.customFields.missing == nil", true},
		{"now > ticket.createdAt", true},
		{"len(ticket.tags) == 2", true},
		{"ticket.actionCount == 0 or ticket.origin != 0", true},
	}
	for _, c := range cases {
		got, err := eval(t, c.condition, env)
		if err != nil || got != c.want {
			t.Errorf("%q: got %v, %v; want %v", c.condition, got, err, c.want)
		}
	}
}

func TestHelpers(t *testing.T) {
	env := testEnv()
	cases := []struct {
		condition string
		want      bool
	}{
		{"hasTag('vip')", true},
		{"hasTag('VIP')", false}, // tags are compared exactly
		{"!hasTag('nope')", true},
		{"hoursSince(ticket.createdAt) == 5", true},
		{"hoursSince(ticket.updatedAt) == 0", true},
		{"hoursSince(now) == 0", true},
		{"isEmpty(ticket.ownerId)", true},
		{"isEmpty(ticket.subject)", false},
		{"isEmpty(ticket.tags)", false},
		{"isEmpty(ticket.clientIds)", true}, // nil slice
		{"isEmpty(ticket.customFields)", false},
		{"isEmpty(ticket.customFields.missing)", true},
		{"isEmpty(ticket.customFields.plan)", false},
		{"isEmpty(ticket.customFields.seats)", false}, // a number is never empty
	}
	for _, c := range cases {
		got, err := eval(t, c.condition, env)
		if err != nil || got != c.want {
			t.Errorf("%q: got %v, %v; want %v", c.condition, got, err, c.want)
		}
	}
	// hasTag reads the ticket of its own evaluation.
	other := NewEnv(Ticket{Tags: []string{"nope"}}, Event{}, nil, Actor{}, t0)
	if got, _ := eval(t, "hasTag('nope') && !hasTag('vip')", other); !got {
		t.Error("hasTag must read the env's own ticket")
	}
	if !isEmpty(nil) || !isEmpty([]any{}) || !isEmpty(map[string]any{}) || isEmpty(0) || isEmpty(false) {
		t.Error("isEmpty: nil, empty lists and maps are empty; numbers and booleans are not")
	}
}

// TestChanges documents how a condition reads the change that caused the event: changes is a
// map of field name to {from, to}. Both changes.urgency.to and changes["urgency"].to work, and
// a field that did not change gives nil for from and to (no error): the map's missing key reads
// as an empty Change.
func TestChanges(t *testing.T) {
	env := testEnv()
	cases := []struct {
		condition string
		want      bool
	}{
		{"changes.urgency.to == 'Urgent'", true},
		{"changes['urgency'].to == 'Urgent'", true},
		{"changes.urgency.from == 'Low' && changes.urgency.to != changes.urgency.from", true},
		{"'urgency' in changes", true},
		{"'status' in changes", false},
		{"changes.status.to == 'Resolved'", false},
		{"changes.status.to == nil && changes.status.from == nil", true},
		{"changes['status'].from == nil", true},
		{"changes.urgency?.to == 'Urgent'", true},
		{"len(changes) == 1", true},
	}
	for _, c := range cases {
		got, err := eval(t, c.condition, env)
		if err != nil || got != c.want {
			t.Errorf("%q: got %v, %v; want %v", c.condition, got, err, c.want)
		}
	}
	// No changes at all (an event with none): the map is empty, not nil, and reads safely.
	empty := NewEnv(Ticket{}, Event{Name: EventCreated}, nil, Actor{}, t0)
	if empty.Changes == nil {
		t.Fatal("NewEnv must give an empty changes map")
	}
	if got, err := eval(t, "changes.urgency.to == nil && len(changes) == 0", empty); err != nil || !got {
		t.Errorf("missing change: got %v, %v", got, err)
	}
}

func TestCompileRefusesNonBoolean(t *testing.T) {
	for _, c := range []string{"ticket.subject", "ticket.id", "ticket.tags", "1 + 2", "changes.urgency"} {
		ce := compileErr(t, c)
		if !strings.Contains(ce.Message, "expected type boolean") {
			t.Errorf("%q: message %q should say expected type boolean", c, ce.Message)
		}
		if ce.Line != 1 || ce.Column != 1 {
			t.Errorf("%q: position %d:%d, want 1:1 (the whole expression)", c, ce.Line, ce.Column)
		}
	}
	ce := compileErr(t, "ticket.subject")
	if !strings.Contains(ce.Message, "got string") {
		t.Errorf("message %q should name the type it got", ce.Message)
	}
}

func TestCompileUnknownNames(t *testing.T) {
	cases := []struct {
		condition    string
		message      string
		line, column int
	}{
		{"urgencyy == 'High'", "unknown name urgencyy", 1, 1},
		{"ticket.urgency == 'High' && urgencyy", "unknown name urgencyy", 1, 29},
		{"ticket.urgencyy == 'High'", "has no field urgencyy", 1, 8},
		{"ticket.urgency == 'High' &&\n  actor.kindd == 'agent'", "has no field kindd", 2, 9},
		{"ticket.id == 'x' + 1", "mismatched types", 1, 18},
		{"ticket.urgency ==", "unexpected token EOF", 1, 17},
		{"ticket.urgency = 'High'", "", 1, 16},
	}
	for _, c := range cases {
		ce := compileErr(t, c.condition)
		if !strings.Contains(ce.Message, c.message) {
			t.Errorf("%q: message %q, want it to contain %q", c.condition, ce.Message, c.message)
		}
		if ce.Line != c.line || ce.Column != c.column {
			t.Errorf("%q: position %d:%d, want %d:%d", c.condition, ce.Line, ce.Column, c.line, c.column)
		}
		want := ce.Message + " (line " + strconv.Itoa(c.line) + ", column " + strconv.Itoa(c.column) + ")"
		if ce.Error() != want {
			t.Errorf("%q: Error() = %q, want %q", c.condition, ce.Error(), want)
		}
	}
}

func TestCompileDisablesNow(t *testing.T) {
	// The clock is passed in as the variable now; the now() builtin is gone, so a rule cannot
	// read the wall clock and an evaluation stays a pure function of its input.
	compileErr(t, "now() > ticket.createdAt")
	compileErr(t, "hoursSince(now()) > 1")
	if got, err := eval(t, "now == now", testEnv()); err != nil || !got {
		t.Errorf("the now variable: %v %v", got, err)
	}
}

func TestCompileLimits(t *testing.T) {
	// More than MaxNodes nodes, in fewer than MaxLength characters.
	big := strings.Repeat("1+", 1100) + "1 > 0"
	if len(big) > MaxLength {
		t.Fatalf("fixture too long: %d", len(big))
	}
	ce := compileErr(t, big)
	if !strings.Contains(ce.Message, "maximum allowed nodes") {
		t.Errorf("MaxNodes: %q", ce.Message)
	}
	// Just under the limit compiles.
	if _, err := Compile(strings.Repeat("1+", 900) + "1 > 0"); err != nil {
		t.Errorf("900 additions should compile: %v", err)
	}
	long := "ticket.subject == '" + strings.Repeat("x", MaxLength) + "'"
	ce = compileErr(t, long)
	if !strings.Contains(ce.Message, "longer than") || ce.Line != 1 || ce.Column != 1 {
		t.Errorf("MaxLength: %+v", ce)
	}
}

func TestEvalRuntimeErrors(t *testing.T) {
	env := testEnv()
	for _, c := range []string{
		"ticket.customFields.missing.deeper == 1", // field of nil
		"ticket.customFields.missing > 3",         // nil compared with a number
		"ticket.tags[5] == 'x'",                   // index out of range
		"ticket.customFields.plan > 3",            // string compared with a number
		"int(ticket.subject) > 1",                 // conversion
	} {
		got, err := eval(t, c, env)
		if err == nil || got {
			t.Errorf("%q: got %v, %v; want not matched with an error", c, got, err)
		}
	}
	// The same conditions on a ticket with nil maps and slices do not panic either.
	zero := NewEnv(Ticket{}, Event{}, nil, Actor{}, t0)
	for _, c := range []string{"ticket.customFields.plan == 'gold'", "hasTag('x')", "'x' in ticket.tags", "ticket.tags[0] == 'x'"} {
		p, err := Compile(c)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := Eval(p, zero); got {
			t.Errorf("%q matched a zero ticket", c)
		}
	}
	// A nil program matches.
	if got, err := Eval(nil, env); !got || err != nil {
		t.Errorf("nil program: %v %v", got, err)
	}
}

func TestCacheCompilesOncePerVersion(t *testing.T) {
	c := NewCache()
	p1, err := c.Program("t-1", 1, "ticket.urgency == 'Urgent'")
	if err != nil {
		t.Fatal(err)
	}
	// Same id and version: the cached program, whatever condition is passed.
	p2, err := c.Program("t-1", 1, "this does not compile (")
	if err != nil || p2 != p1 {
		t.Fatalf("same version: %p %v, want the cached %p", p2, err, p1)
	}
	// A new version compiles again.
	p3, err := c.Program("t-1", 2, "ticket.urgency == 'Low'")
	if err != nil || p3 == p1 {
		t.Fatalf("new version: %p %v", p3, err)
	}
	if got, _ := Eval(p3, testEnv()); got {
		t.Error("version 2's condition should not match")
	}
	// Another id with the same version is another entry.
	p4, err := c.Program("t-2", 1, "ticket.urgency == 'Low'")
	if err != nil || p4 == p1 {
		t.Fatalf("other id: %p %v", p4, err)
	}
	// A condition that does not compile is an error, not cached as a program.
	if _, err := c.Program("t-3", 1, "urgencyy"); err == nil {
		t.Fatal("want a compile error")
	}
	if _, err := c.Program("t-3", 1, "urgencyy"); err == nil {
		t.Fatal("want the compile error again")
	}
	// An empty condition is the nil program, which matches.
	p5, err := c.Program("t-4", 1, "")
	if err != nil || p5 != nil {
		t.Fatalf("empty: %v %v", p5, err)
	}
	// Concurrent readers agree.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			p, err := c.Program("t-1", 1, "")
			if err != nil || p != p1 {
				t.Error("concurrent read missed the cache")
			}
		})
	}
	wg.Wait()
}

type fixedCalendar bool

func (f fixedCalendar) IsOpen(time.Time) bool { return bool(f) }

func TestInBusinessHours(t *testing.T) {
	p, err := Compile("inBusinessHours('support') && !inBusinessHours('night')")
	if err != nil {
		t.Fatal(err)
	}
	env := NewEnv(Ticket{}, Event{Name: EventUpdated}, nil, Actor{}, time.Now())
	if ok, err := Eval(p, env); err != nil || ok {
		t.Fatalf("without calendars every calendar is closed: %v %v", ok, err)
	}
	loads := 0
	env = env.WithCalendars(func(id string) (interface{ IsOpen(time.Time) bool }, error) {
		loads++
		return fixedCalendar(id == "support"), nil
	})
	for range 2 {
		if ok, err := Eval(p, env); err != nil || !ok {
			t.Fatalf("support is open, night closed: %v %v", ok, err)
		}
	}
	if loads != 2 {
		t.Fatalf("each calendar is loaded once per evaluation, got %d loads", loads)
	}
}
