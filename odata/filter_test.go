package odata

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// where parses filter for the ticket entity and compiles it for alias t.
func where(t *testing.T, filter string) (string, []any, error) {
	t.Helper()
	q, err := Parse(url.Values{"$filter": {filter}}, ticket, 1000)
	if err != nil {
		return "", nil, err
	}
	sql, args, err := q.Where(ticket, "t")
	if err != nil {
		t.Fatalf("%q: Parse accepted it but Where failed: %v", filter, err)
	}
	return sql, args, nil
}

const (
	ownerName = "(SELECT odata1.business_name FROM persons AS odata1 WHERE odata1.id = t.owner_id)"
	clientsOf = "persons AS odata1 WHERE odata1.id = ANY(t.client_ids)"
	cfvOf     = "ticket_custom_field_values AS odata1 WHERE odata1.ticket_id = t.id"
)

func TestFilter(t *testing.T) {
	tests := []struct {
		filter string
		sql    string
		args   []any
	}{
		// Comparisons.
		{"id eq 5", "t.id = ?", []any{int64(5)}},
		{"id ne 5", "t.id IS DISTINCT FROM ?", []any{int64(5)}},
		{"id lt 5", "t.id < ?", []any{int64(5)}},
		{"id le 5", "t.id <= ?", []any{int64(5)}},
		{"id gt 5", "t.id > ?", []any{int64(5)}},
		{"id ge -5", "t.id >= ?", []any{int64(-5)}},
		{"5 lt id", "? < t.id", []any{int64(5)}},
		{"id eq 1.5", "t.id = ?", []any{1.5}},
		{"timeSpent gt 1.5", "t.time_spent > ?", []any{1.5}},
		{"timeSpent gt 2", "t.time_spent > ?", []any{2.0}},
		{"timeSpent lt 1e3", "t.time_spent < ?", []any{1000.0}},
		{"timeSpent gt id", "t.time_spent > t.id", nil},
		{"id eq id", "t.id IS NOT DISTINCT FROM t.id", nil},
		{"id ne id", "t.id IS DISTINCT FROM t.id", nil},
		// Strings: literals only ever as arguments.
		{"subject eq 'a b'", "t.subject = ?", []any{"a b"}},
		{"subject eq 'it''s'", "t.subject = ?", []any{"it's"}},
		{"subject eq ''", "t.subject = ?", []any{""}},
		{"subject eq '?'", "t.subject = ?", []any{"?"}},
		{"subject eq 'x'' OR 1=1 --'", "t.subject = ?", []any{"x' OR 1=1 --"}},
		{"owner/id eq 123", "t.owner_id = ?", []any{"123"}},
		{"owner/id eq 01234567-89ab-CDEF-0123-456789abcdef", "t.owner_id = ?", []any{"01234567-89ab-CDEF-0123-456789abcdef"}},
		{"owner/id eq guid'01234567-89ab-cdef-0123-456789abcdef'", "t.owner_id = ?", []any{"01234567-89ab-cdef-0123-456789abcdef"}},
		// Booleans.
		{"isDeleted eq true", "t.is_deleted = ?", []any{true}},
		{"isDeleted eq False", "t.is_deleted = ?", []any{false}},
		{"isDeleted", "t.is_deleted", nil},
		{"not isDeleted", "NOT t.is_deleted", nil},
		{"true", "TRUE", nil},
		{"id eq 1 and false", "t.id = ? AND FALSE", []any{int64(1)}},
		// null.
		{"subject eq null", "t.subject IS NULL", nil},
		{"subject ne null", "t.subject IS NOT NULL", nil},
		{"null eq subject", "t.subject IS NULL", nil},
		{"owner/id eq null", "t.owner_id IS NULL", nil},
		{"owner/businessName ne null", ownerName + " IS NOT NULL", nil},
		// Dates, with or without quotes, zone, seconds and fraction.
		{"createdDate ge 2016-09-01", "t.created_date >= ?", []any{utc("2016-09-01T00:00:00Z")}},
		{"createdDate ge 2016-09-01T10:20:30Z", "t.created_date >= ?", []any{utc("2016-09-01T10:20:30Z")}},
		{"createdDate ge 2016-09-01t10:20:30z", "t.created_date >= ?", []any{utc("2016-09-01T10:20:30Z")}},
		{"createdDate ge 2016-09-01T10:20:30", "t.created_date >= ?", []any{utc("2016-09-01T10:20:30Z")}},
		{"createdDate ge 2016-09-01T10:20", "t.created_date >= ?", []any{utc("2016-09-01T10:20:00Z")}},
		{"createdDate ge 2016-09-01T10:20:30.00Z", "t.created_date >= ?", []any{utc("2016-09-01T10:20:30Z")}},
		{"createdDate ge 2016-09-01T10:20:30.1234567", "t.created_date >= ?", []any{utc("2016-09-01T10:20:30.1234567Z")}},
		{"createdDate ge 2016-09-01T10:20:30.0000000-03:00", "t.created_date >= ?", []any{utc("2016-09-01T13:20:30Z")}},
		{"createdDate ge 2016-09-01T01:00:00+03:00", "t.created_date >= ?", []any{utc("2016-08-31T22:00:00Z")}},
		{"createdDate ge 2016-09-01T01:00:00 03:00", "t.created_date >= ?", []any{utc("2016-08-31T22:00:00Z")}}, // '+' decoded to ' '
		{"createdDate lt '2016-09-01'", "t.created_date < ?", []any{utc("2016-09-01T00:00:00Z")}},
		{"createdDate lt '2016-09-01T10:20:30.000Z'", "t.created_date < ?", []any{utc("2016-09-01T10:20:30Z")}},
		{"createdDate lt '2016-09-01 10:20:30'", "t.created_date < ?", []any{utc("2016-09-01T10:20:30Z")}},
		{"createdDate lt datetime'2016-09-01T10:20:30'", "t.created_date < ?", []any{utc("2016-09-01T10:20:30Z")}},
		{"createdDate lt datetimeoffset'2016-09-01T10:20:30-03:00'", "t.created_date < ?", []any{utc("2016-09-01T13:20:30Z")}},
		{"createdDate eq 2016-02-29", "t.created_date = ?", []any{utc("2016-02-29T00:00:00Z")}},
		{"subject eq '2016-09-01'", "t.subject = ?", []any{"2016-09-01"}},
		// String functions: ILIKE with the pattern escaped in the argument.
		{"startswith(subject,'ab')", `t.subject ILIKE ? ESCAPE '\'`, []any{"ab%"}},
		{"endswith(subject,'ab')", `t.subject ILIKE ? ESCAPE '\'`, []any{"%ab"}},
		{"contains(subject,'ab')", `t.subject ILIKE ? ESCAPE '\'`, []any{"%ab%"}},
		{"substringof('ab',subject)", `t.subject ILIKE ? ESCAPE '\'`, []any{"%ab%"}},
		{`contains(subject,'50%_a\b')`, `t.subject ILIKE ? ESCAPE '\'`, []any{`%50\%\_a\\b%`}},
		{"StartsWith(Subject, 'x')", `t.subject ILIKE ? ESCAPE '\'`, []any{"x%"}},
		{"contains(tolower(subject),'ab')", `lower(t.subject) ILIKE ? ESCAPE '\'`, []any{"%ab%"}},
		{"substringof('ab',toupper(subject))", `upper(t.subject) ILIKE ? ESCAPE '\'`, []any{"%ab%"}},
		{"contains(owner/businessName,'ab')", ownerName + ` ILIKE ? ESCAPE '\'`, []any{"%ab%"}},
		{"tolower(subject) eq 'ab'", "lower(t.subject) = ?", []any{"ab"}},
		{"'ab' eq toupper(subject)", "? = upper(t.subject)", []any{"ab"}},
		{"tolower(toupper(subject)) eq 'ab'", "lower(upper(t.subject)) = ?", []any{"ab"}},
		{"toupper(owner/businessName) eq 'X'", "upper(" + ownerName + ") = ?", []any{"X"}},
		{"startswith(subject,'a') eq true", `(t.subject ILIKE ? ESCAPE '\') = ?`, []any{"a%", true}},
		{"not startswith(subject,'a')", `NOT (t.subject ILIKE ? ESCAPE '\')`, []any{"a%"}},
		// Logic and precedence: not > comparison > and > or.
		{"id eq 1 and subject eq 'a'", "t.id = ? AND t.subject = ?", []any{int64(1), "a"}},
		{"id eq 1 or id eq 2", "(t.id = ? OR t.id = ?)", []any{int64(1), int64(2)}},
		{"id eq 1 or id eq 2 and id eq 3", "(t.id = ? OR (t.id = ? AND t.id = ?))", []any{int64(1), int64(2), int64(3)}},
		{"id eq 1 and id eq 2 or id eq 3", "((t.id = ? AND t.id = ?) OR t.id = ?)", []any{int64(1), int64(2), int64(3)}},
		{"(id eq 1 or id eq 2) and id eq 3", "(t.id = ? OR t.id = ?) AND t.id = ?", []any{int64(1), int64(2), int64(3)}},
		{"id eq 1 or id eq 2 or id eq 3", "(t.id = ? OR t.id = ? OR t.id = ?)", []any{int64(1), int64(2), int64(3)}},
		{"not (id eq 1 or id eq 2)", "NOT (t.id = ? OR t.id = ?)", []any{int64(1), int64(2)}},
		{"not(id eq 1) and not isDeleted", "NOT (t.id = ?) AND NOT t.is_deleted", []any{int64(1)}},
		{"not not isDeleted", "NOT (NOT t.is_deleted)", nil},
		{"not isDeleted eq true", "(NOT t.is_deleted) = ?", []any{true}},
		{"((id eq 1))", "t.id = ?", []any{int64(1)}},
		{"ID EQ 1 AND Subject Eq 'a'", "t.id = ? AND t.subject = ?", []any{int64(1), "a"}},
		{"\tid eq 1\r\n and\nsubject eq 'a' ", "t.id = ? AND t.subject = ?", []any{int64(1), "a"}},
		// Navigation paths.
		{"owner/id eq 'x'", "t.owner_id = ?", []any{"x"}},
		{"Owner/ID eq 'x'", "t.owner_id = ?", []any{"x"}},
		{"createdBy/id eq 'x'", "t.created_by_id = ?", []any{"x"}},
		{"owner/businessName eq 'x'", ownerName + " = ?", []any{"x"}},
		{"owner/organization/id eq 'x'", "(SELECT odata1.organization_id FROM persons AS odata1 WHERE odata1.id = t.owner_id) = ?", []any{"x"}},
		{"owner/organization/businessName eq 'x'",
			"(SELECT (SELECT odata2.business_name FROM persons AS odata2 WHERE odata2.id = odata1.organization_id) FROM persons AS odata1 WHERE odata1.id = t.owner_id) = ?",
			[]any{"x"}},
		{"$it/subject eq 'x'", "t.subject = ?", []any{"x"}},
		// Lambdas.
		{"clients/any(c: c/id eq 'x')", "EXISTS (SELECT 1 FROM " + clientsOf + " AND (odata1.id = ?))", []any{"x"}},
		{"Clients/Any(C: c/ID eq 'x')", "EXISTS (SELECT 1 FROM " + clientsOf + " AND (odata1.id = ?))", []any{"x"}},
		{"clients/any()", "EXISTS (SELECT 1 FROM " + clientsOf + ")", nil},
		{"not clients/any()", "NOT EXISTS (SELECT 1 FROM " + clientsOf + ")", nil},
		{"clients/all(c: c/businessName ne 'x')",
			"NOT EXISTS (SELECT 1 FROM " + clientsOf + " AND (odata1.business_name IS DISTINCT FROM ?) IS NOT TRUE)", []any{"x"}},
		{"customFieldValues/any(c: c/customFieldId eq 12 and c/value eq 'X')",
			"EXISTS (SELECT 1 FROM " + cfvOf + " AND (odata1.custom_field_id = ? AND odata1.value = ?))", []any{int64(12), "X"}},
		{"customFieldValues/any(c: c/items/any(i: i/personId eq 'x'))",
			"EXISTS (SELECT 1 FROM " + cfvOf + " AND (EXISTS (SELECT 1 FROM ticket_custom_field_value_items AS odata2 WHERE odata2.value_id = odata1.id AND (odata2.person_id = ?))))",
			[]any{"x"}},
		{"customFieldValues/any(c: c/items/any(i: i/personId eq 'x' and c/customFieldId eq 1 and id eq 2))",
			"EXISTS (SELECT 1 FROM " + cfvOf + " AND (EXISTS (SELECT 1 FROM ticket_custom_field_value_items AS odata2 WHERE odata2.value_id = odata1.id AND (odata2.person_id = ? AND odata1.custom_field_id = ? AND t.id = ?))))",
			[]any{"x", int64(1), int64(2)}},
		{"clients/any(c: c/organization/id eq 'x' or c/organization/businessName eq 'y')",
			"EXISTS (SELECT 1 FROM " + clientsOf + " AND (odata1.organization_id = ? OR (SELECT odata2.business_name FROM persons AS odata2 WHERE odata2.id = odata1.organization_id) = ?))",
			[]any{"x", "y"}},
		{"clients/any(c: contains(c/businessName, 'a')) and subject eq 'b'",
			"EXISTS (SELECT 1 FROM " + clientsOf + ` AND (odata1.business_name ILIKE ? ESCAPE '\')) AND t.subject = ?`, []any{"%a%", "b"}},
		{"actions/any(a: a/timeAppointments/any())",
			"EXISTS (SELECT 1 FROM ticket_actions AS odata1 WHERE odata1.ticket_id = t.id AND (EXISTS (SELECT 1 FROM ticket_time_appointments AS odata2 WHERE odata2.action_id = odata1.id)))", nil},
		{"clients/any(c: c/isActive)", "EXISTS (SELECT 1 FROM " + clientsOf + " AND (odata1.is_active))", nil},
		{"clients/any(c: c/id eq 'a') or clients/any(c: c/id eq 'b')",
			"(EXISTS (SELECT 1 FROM " + clientsOf + " AND (odata1.id = ?)) OR EXISTS (SELECT 1 FROM persons AS odata2 WHERE odata2.id = ANY(t.client_ids) AND (odata2.id = ?)))",
			[]any{"a", "b"}},
	}
	for _, tt := range tests {
		sql, args, err := where(t, tt.filter)
		if err != nil {
			t.Errorf("%q: %v", tt.filter, err)
			continue
		}
		if sql != tt.sql {
			t.Errorf("%q:\n got SQL %s\nwant SQL %s", tt.filter, sql, tt.sql)
		}
		if !reflect.DeepEqual(args, tt.args) {
			t.Errorf("%q: got args %#v, want %#v", tt.filter, args, tt.args)
		}
		checkSQL(t, tt.filter, sql, args)
	}
}

func TestFilterErrors(t *testing.T) {
	deep := func(open, body, close string, n int) string {
		return strings.Repeat(open, n) + body + strings.Repeat(close, n)
	}
	tests := []struct {
		filter string
		prop   string
		msg    string // start of the message
	}{
		{"foo eq 1", "foo", "Could not find a property named 'foo' on type 'Ticket'."},
		{"Foo eq 1 and id eq 1", "Foo", "Could not find a property named 'Foo' on type 'Ticket'."},
		{"owner/foo eq 1", "foo", "Could not find a property named 'foo' on type 'Person'."},
		{"clients/any(c: c/foo eq 1)", "foo", "Could not find a property named 'foo' on type 'Person'."},
		{"clients/any(c: x/id eq 1)", "x", "Could not find a property named 'x' on type 'Ticket'."},
		{"customFieldValues/any(c: c/items/any(i: i/nope eq 'x'))", "nope", "Could not find a property named 'nope' on type 'CustomFieldValueItem'."},
		{"clients/any(c: c/id eq 'x') and c/id eq 'y'", "c", "Could not find a property named 'c'"},
		{"nope/any()", "nope", "Could not find a property named 'nope'"},
		{"id eq 'abc'", "id", "'id' is of type Int"},
		{"'abc' eq id", "id", "'id' is of type Int"},
		{"id eq true", "id", "'id' is of type Int"},
		{"id eq 2016-09-01", "id", "'id' is of type Int"},
		{"customFieldValues/any(c: c/customFieldId eq 'x')", "customFieldId", "'customFieldId' is of type Int"},
		{"owner/businessName eq 1 and owner/businessName eq true", "owner/businessName", "'owner/businessName' is of type String"},
		{"isDeleted eq 1", "isDeleted", "'isDeleted' is of type Bool"},
		{"createdDate gt 'yesterday'", "createdDate", "'createdDate' is of type DateTime and 'yesterday' is not a valid date"},
		{"createdDate gt 2016-13-01", "createdDate", "'createdDate' is of type DateTime"},
		{"createdDate gt 2016-02-30", "createdDate", "'createdDate' is of type DateTime"},
		{"createdDate gt 2016-09-01T24:00:00", "createdDate", "'createdDate' is of type DateTime"},
		{"createdDate gt 2016-09-01T10:00:00+24:00", "createdDate", "'createdDate' is of type DateTime"},
		{"createdDate gt 0000-01-01", "createdDate", "'createdDate' is of type DateTime"},
		{"createdDate gt 0001-01-01T00:00:00+01:00", "createdDate", "'createdDate' is of type DateTime"},
		{"createdDate gt 5", "createdDate", "'createdDate' is of type DateTime"},
		{"subject eq 2016-09-01", "subject", "'subject' is of type String"},
		{"subject eq true", "subject", "'subject' is of type String"},
		{"id eq subject", "id", "'id' (Int) cannot be compared with 'subject' (String)"},
		{"startswith(subject,'a') eq 'x'", "$filter", "The expression is of type Bool"},
		{"id eq 99999999999999999999", "id", "The number"},
		{"timeSpent eq 1e999", "timeSpent", "The number"},
		{"subject", "subject", "'subject' is of type String, not a condition"},
		{"tolower(subject)", "subject", "'subject' is of type String, not a condition"},
		{"id eq 1 and subject", "subject", "'subject' is of type String, not a condition"},
		{"not id", "id", "'id' is of type Int, not a condition"},
		{"'a'", "$filter", "A literal cannot be a condition"},
		{"'a' eq 'a'", "$filter", "A comparison needs a property"},
		{"null eq null", "$filter", "A comparison needs a property"},
		{"id gt null", "id", "null can only be compared with eq or ne"},
		{"owner eq 'x'", "owner", "'owner' is a navigation property"},
		{"clients eq 'x'", "clients", "'clients' is a collection"},
		{"clients/id eq 'x'", "clients", "'clients' is a collection"},
		{"subject/length eq 1", "subject", "'subject' is not a navigation property"},
		{"subject/any(s: s eq 'x')", "subject", "'subject' is not a collection"},
		{"owner/any()", "owner", "'owner' is not a collection"},
		{"owner/organization/any()", "owner", "any/all over a collection reached through 'owner' is not supported"},
		{"clients/any/any()", "clients", "'clients' is a collection"},
		{"clients/any(c: c/any())", "c", "'c' is not a collection"},
		{"clients/any(c: c)", "c", "'c' must be followed by '/'"},
		{"clients/any(c: clients/any(c: c/id eq 'x'))", "c", "The lambda variable 'c' is already in use"},
		{"clients/any($it: $it/id eq 'x')", "$it", "The lambda variable '$it' is already in use"},
		{"startswith(id,'1')", "id", "The function 'startswith' needs a String property"},
		{"startswith('a','1')", "$filter", "The function 'startswith' needs a String property"},
		{"tolower(1) eq 'a'", "$filter", "The function 'tolower' needs a String property"},
		{"startswith(subject, subject)", "subject", "The function 'startswith' needs a string literal"},
		{"startswith(subject, 1)", "subject", "The function 'startswith' needs a string literal"},
		{"substringof(subject, 'a')", "$filter", "The function 'substringof' needs a String property"},
		// Syntax.
		{"startswith(subject)", "$filter", "The function 'startswith' takes 2 argument(s), not 1."},
		{"tolower(subject, subject) eq 'a'", "$filter", "The function 'tolower' takes 1 argument(s), not 2."},
		{"length(subject) eq 1", "$filter", "Unknown function 'length'."},
		{"subject eq 'abc", "$filter", "Syntax error at position 11: unterminated string literal."},
		{"id eq", "$filter", "Syntax error at position 5: unexpected end of input."},
		{"id eq 1 1", "$filter", "Syntax error at position 8: unexpected '1'."},
		{"(id eq 1", "$filter", "Syntax error at position 8: expected ')', found end of input."},
		{"id eq 1)", "$filter", "Syntax error at position 7: unexpected ')'."},
		{"id eq 12abc", "$filter", "Syntax error at position 6: invalid literal '12abc'."},
		{"createdDate gt 2016-09-01Tx", "$filter", "Syntax error at position 15: invalid literal"},
		{"subject eq 'x' & id eq 1", "$filter", "Syntax error at position 15: unexpected character '&'."},
		{"id eq .5", "$filter", "Syntax error"},
		{"id eq - 5", "$filter", "Syntax error"},
		{"owner/'x' eq 'y'", "$filter", "Syntax error at position 6: expected a property name after '/'"},
		{"clients/all()", "$filter", "Syntax error at position 12: all() needs a lambda expression"},
		{"clients/any(c c/id eq 'x')", "$filter", "Syntax error at position 14: expected ':'"},
		{"clients/any('c': c/id eq 'x')", "$filter", "Syntax error at position 12: expected a lambda variable"},
		{"clients/any(c: c/id eq 'x'", "$filter", "Syntax error at position 26: expected ')'"},
		{"startswith(subject 'a')", "$filter", "Syntax error at position 19: expected ',' or ')'"},
		{"", "", ""}, // empty: no filter, no error
		// Limits.
		{"subject eq '" + strings.Repeat("a", MaxFilterLen) + "'", "$filter", "The value of $filter is longer than 8192 bytes."},
		{"subject eq '" + strings.Repeat("a", MaxStringLen+1) + "'", "$filter", "A string literal is longer than 4096 bytes."},
		{"subject eq '" + strings.Repeat("a", MaxStringLen) + "'", "", ""},
		{deep("(", "id eq 1", ")", MaxDepth), "", ""},
		{deep("(", "id eq 1", ")", MaxDepth+1), "$filter", "The filter is nested more than 32 levels deep."},
		{deep("not ", "isDeleted", "", MaxDepth), "", ""},
		{deep("not ", "isDeleted", "", MaxDepth+1), "$filter", "The filter is nested more than 32 levels deep."},
		{deep("not(", "isDeleted", ")", 20), "$filter", "The filter is nested more than 32 levels deep."},
		{deep("tolower(", "subject", ")", 40) + " eq 'a'", "$filter", "The filter is nested more than 32 levels deep."},
		{deep("clients/any(c: ", "true", ")", 40), "$filter", "The filter is nested more than 32 levels deep."},
		{strings.Repeat("id eq 1 and ", 49) + "true", "", ""}, // 49*4+1 nodes
		{strings.Repeat("id eq 1 and ", 50) + "true", "$filter", "The filter has more than 200 nodes."},
		{"subject eq '\xff'", "$filter", "The value of $filter is not valid UTF-8 text."},
		{"subject eq '\x00'", "$filter", "The value of $filter is not valid UTF-8 text."},
		{"owner" + strings.Repeat("/organization", 32) + "/id eq 'x'", "$filter", "A property path has more than 32 segments."},
	}
	for _, tt := range tests {
		_, _, err := where(t, tt.filter)
		if tt.msg == "" {
			if err != nil {
				t.Errorf("%.60q: unexpected error %v", tt.filter, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%.60q: got %v, want *Error", tt.filter, err)
			continue
		}
		if e.Property != tt.prop || !strings.HasPrefix(e.Message, tt.msg) {
			t.Errorf("%.60q:\n got %q: %q\nwant %q: %q...", tt.filter, e.Property, e.Message, tt.prop, tt.msg)
		}
	}
}

func TestParseFilterTree(t *testing.T) {
	x, err := ParseFilter("not clients/any(c: startswith(c/id, 'a')) or id eq 1")
	if err != nil {
		t.Fatal(err)
	}
	want := &Binary{Op: "or",
		Left: &Not{X: &Lambda{Path: []string{"clients"}, Op: "any", Var: "c",
			Body: &Call{Func: "startswith", Args: []Expr{&Path{Segments: []string{"c", "id"}}, &Literal{Kind: LitString, Text: "a"}}}}},
		Right: &Binary{Op: "eq", Left: &Path{Segments: []string{"id"}}, Right: &Literal{Kind: LitNumber, Text: "1"}},
	}
	if !reflect.DeepEqual(x, want) {
		t.Errorf("got %#v", x)
	}
}

// checkSQL asserts what must hold for any SQL this package produces: no
// text of the client's in it (no quote but the ESCAPE clause's, only
// words of the test model and SQL keywords), a placeholder per argument,
// none that bun would read as a named or escaped one, and balanced
// parentheses.
func checkSQL(t *testing.T, input, sql string, args []any) {
	t.Helper()
	fail := func(why string) { t.Fatalf("filter %q: SQL %q: %s", input, sql, why) }
	rest := strings.ReplaceAll(sql, `ESCAPE '\'`, "ESCAPE")
	if strings.ContainsAny(rest, `'\"`) {
		fail("quote or backslash outside ESCAPE '\\'")
	}
	if n := strings.Count(sql, "?"); n != len(args) {
		fail("placeholders do not match args")
	}
	depth := 0
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; c {
		case '(':
			depth++
		case ')':
			if depth--; depth < 0 {
				fail("unbalanced parentheses")
			}
		case '?':
			if i+1 < len(rest) && rest[i+1] != ' ' && rest[i+1] != ')' {
				fail("placeholder followed by " + string(rest[i+1]))
			}
		}
	}
	if depth != 0 {
		fail("unbalanced parentheses")
	}
	for _, w := range strings.FieldsFunc(rest, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.')
	}) {
		if !sqlWords[w] && !aliasWord(w) {
			fail("unexpected word " + w)
		}
	}
	for _, a := range args {
		switch a := a.(type) {
		case string, int64, float64, bool:
		case time.Time:
			if a.Location() != time.UTC || a.Year() < 1 || a.Year() > 9999 {
				fail("bad time arg")
			}
		default:
			fail("unexpected arg type")
		}
	}
}

// sqlWords is the vocabulary of the SQL produced for the test model.
var sqlWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`AND OR NOT IS NULL DISTINCT ASC DESC FROM TRUE FALSE EXISTS SELECT 1 WHERE ILIKE ESCAPE AS ANY lower upper
		persons ticket_custom_field_values ticket_custom_field_value_items ticket_actions ticket_action_attachments ticket_time_appointments`) {
		m[w] = true
	}
	return m
}()

var columns = map[string]bool{
	"id": true, "subject": true, "created_date": true, "is_deleted": true, "time_spent": true, "owner_id": true,
	"created_by_id": true, "client_ids": true, "business_name": true, "is_active": true, "organization_id": true,
	"custom_field_id": true, "value": true, "value_id": true, "person_id": true, "item": true, "ticket_id": true,
	"action_id": true, "file_name": true,
}

// aliasWord accepts alias.column with a root or generated alias.
func aliasWord(w string) bool {
	a, c, ok := strings.Cut(w, ".")
	if !ok {
		a = w // a bare alias, after AS
	} else if !columns[c] {
		return false
	}
	if a == "t" {
		return true
	}
	n := strings.TrimPrefix(a, "odata")
	return n != a && n != "" && strings.Trim(n, "0123456789") == ""
}

func TestErrorString(t *testing.T) {
	if s := (&Error{Property: "id", Message: "bad."}).Error(); s != "id: bad." {
		t.Error(s)
	}
	if s := (&Error{Message: "bad."}).Error(); s != "bad." {
		t.Error(s)
	}
	long := strings.Repeat("é", 40) // 80 bytes: cut on a rune boundary
	if s := short(long); s != strings.Repeat("é", 32)+"..." {
		t.Error(s)
	}
}

// Trees built by hand cannot smuggle text into the SQL either.
func TestHandBuiltTree(t *testing.T) {
	id := &Path{Segments: []string{"id"}}
	one := &Literal{Kind: LitNumber, Text: "1"}
	bad := []Expr{
		&Binary{Op: "; DROP", Left: id, Right: one},
		&Call{Func: "evil", Args: []Expr{id, one}},
		&Call{Func: "startswith", Args: []Expr{id}},
		&Lambda{Path: []string{"clients"}, Op: "some"},
		&Lambda{Path: []string{"clients"}, Op: "all"},
		&Lambda{Op: "any"},
		&Binary{Op: "eq", Left: &Path{}, Right: one},
	}
	for _, x := range bad {
		q := &Query{Filter: x}
		if _, _, err := q.Where(ticket, "t"); err == nil {
			t.Errorf("%#v compiled", x)
		}
	}
	q := &Query{Filter: &Literal{Kind: LitBool, Text: "1; DROP TABLE x"}}
	if sql, _, err := q.Where(ticket, "t"); err != nil || sql != "FALSE" {
		t.Errorf("got %q %v", sql, err)
	}
}
