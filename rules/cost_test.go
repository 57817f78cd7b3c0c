package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Conditions whose worst case is too expensive are refused when compiled; the rest run within
// the bound on the largest ticket the API accepts.
func TestCompileBoundsCost(t *testing.T) {
	nested := func(depth int) string {
		return strings.Repeat("all(ticket.tags, ", depth) + `# != "x"` + strings.Repeat(")", depth)
	}
	refused := []string{nested(3), nested(4), nested(5), nested(12),
		`any(1..ticket.id, # == 1)`, `count(1..1000000, # > 0) > 0`,
		`all(split(ticket.subject, ""), all(split(ticket.subject, ""), # != "x"))`,
		`repeat("a", 1000000000) == ""`, `now() > ticket.createdAt`}
	for _, c := range refused {
		if _, err := Compile(c); err == nil {
			t.Errorf("%s compiled", c)
		}
	}
	tags := make([]string, MaxTags)
	for i := range tags {
		tags[i] = fmt.Sprint("tag", i)
	}
	env := NewEnv(Ticket{Tags: tags, Subject: strings.Repeat("s", 255)}, Event{}, nil, Actor{}, time.Now())
	for _, c := range []string{nested(1), nested(2), `"vip" in ticket.tags && ticket.urgency in ["High", "Urgent"]`,
		`count(1..1000, # > 0) > 0`, `any(split(ticket.subject, ""), # == "s")`} {
		p, err := Compile(c)
		if err != nil {
			t.Fatalf("%s refused: %v", c, err)
		}
		if _, err := Eval(p, env); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
	}
}

// A ticket larger than the bounds is not evaluated, so the compile-time bound holds whatever the
// data.
func TestEvalRefusesOversizedTicket(t *testing.T) {
	p, err := Compile(`any(ticket.tags, # == "x")`)
	if err != nil {
		t.Fatal(err)
	}
	env := NewEnv(Ticket{Tags: make([]string, MaxTags+1)}, Event{}, nil, Actor{}, time.Now())
	if _, err := Eval(p, env); err == nil || !strings.Contains(err.Error(), "ticket.tags") {
		t.Fatalf("oversized ticket evaluated: %v", err)
	}
}
