package odata

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

var filterSeeds = []string{
	"id eq 5", "id ne -5 or id lt 1.5e3", "subject eq 'it''s' and isDeleted eq true", "not isDeleted",
	"subject eq null", "null ne owner/id", "createdDate ge 2016-09-01", "createdDate lt 2016-09-01T10:20:30.0000000-03:00",
	"createdDate gt '2016-09-01T00:00:00Z'", "createdDate gt datetime'2016-09-01'", "createdDate ge 2016-09-01T01:00:00 03:00",
	"startswith(subject,'a%_\\')", "endswith(tolower(subject),'x')", "contains(toupper(owner/businessName),'x')",
	"substringof('x',subject)", "startswith(subject,'a') eq true", "(id eq 1 or id eq 2) and not (id eq 3)",
	"owner/organization/businessName eq 'x'", "owner/id eq 01234567-89ab-cdef-0123-456789abcdef",
	"clients/any(c: c/id eq 'x')", "clients/all(c: c/businessName ne 'x')", "clients/any()",
	"customFieldValues/any(c: c/customFieldId eq 12 and c/value eq 'X')",
	"customFieldValues/any(c: c/items/any(i: i/personId eq 'x' and c/customFieldId eq 1 and $it/id eq 2))",
	"actions/any(a: a/timeAppointments/any())", "true", "id eq id", "timeSpent gt id",
	"foo eq 1", "id eq 'abc'", "subject eq 'abc", "((((id eq 1))))", "not not not isDeleted",
}

// FuzzParseFilter checks that no filter makes Parse panic or fail with
// anything but *Error, that any accepted filter compiles, and that the SQL
// holds nothing of the client's (see checkSQL).
func FuzzParseFilter(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(url.Values{"$filter": {s}}, ticket, 1000)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%q: error %v is not *Error", s, err)
			}
			return
		}
		sql, args, err := q.Where(ticket, "t")
		if err != nil {
			t.Fatalf("%q: accepted by Parse, rejected by Where: %v", s, err)
		}
		if q.Filter != nil && sql == "" {
			t.Fatalf("%q: empty SQL", s)
		}
		checkSQL(t, s, sql, args)
	})
}

// FuzzParseRawQuery checks that decoding never panics, agrees with
// url.ParseQuery where that succeeds on quote-free input, and reads back
// what url.Values.Encode writes.
func FuzzParseRawQuery(f *testing.F) {
	for _, s := range []string{
		"%24filter=subject%20eq%20%27a%27", "?$filter=subject+eq+'a+b'&$top=5", "$filter=subject eq '100%'&x=%",
		"$filter=subject eq 'a&b'&$top=1", "$filter=subject eq 'a&$top=1", "name=O'Brien&$top=1",
		"$expand=actions($select=id;$expand=attachments)&token=x", "a=1&a=2&&b&c=&=d&e==", "%zz%2%",
		"$filter=x'&$expand=a(b eq 'c')&d", "%24filter=%27%26%27",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := ParseRawQuery(raw)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%q: error %v is not *Error", raw, err)
			}
			return
		}
		if !strings.HasPrefix(raw, "?") && !strings.Contains(raw, "'") {
			if want, err := url.ParseQuery(raw); err == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: got %#v, url.ParseQuery gives %#v", raw, got, want)
			}
		}
		// Whatever the input, Parse copes with the result.
		if _, err := Parse(got, ticket, 1000); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%q: Parse error %v is not *Error", raw, err)
			}
		}
		// Round trip through url.Values.Encode.
		v := url.Values{"$filter": {raw}, "$expand": {raw + "'"}, raw: {"x&y"}}
		back, err := ParseRawQuery(v.Encode())
		if err == nil && !reflect.DeepEqual(back, v) {
			t.Fatalf("%q: round trip gives %#v", raw, back)
		}
	})
}

// FuzzParseOptions checks $select, $expand, $orderby and $top together:
// no panic, only *Error, and everything accepted compiles.
func FuzzParseOptions(f *testing.F) {
	f.Add("id,subject", "owner,actions($select=id;$expand=attachments)", "createdDate desc", "10")
	f.Add("*", "customFieldValues($filter=customFieldId eq 1 and value eq 'a;b';$orderby=customFieldId desc;$top=5)", "owner/businessName", "0")
	f.Add("", "actions/timeAppointments,actions($select=id)", "id asc, subject", "")
	f.Add("id,,", "clients($expand=organization($select=businessName))", "isDeleted", "-1")
	f.Fuzz(func(t *testing.T, sel, expand, orderby, top string) {
		q, err := Parse(url.Values{"$select": {sel}, "$expand": {expand}, "$orderby": {orderby}, "$top": {top}}, ticket, 1000)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not *Error", err)
			}
			return
		}
		checkQuery(t, q, ticket)
	})
}

// checkQuery compiles q and, recursively, its expanded items.
func checkQuery(t *testing.T, q *Query, e *Entity) {
	t.Helper()
	if q.HasTop && (q.Top < 0 || q.Top > 1000) || q.Skip < 0 {
		t.Fatalf("bad top/skip %d %d", q.Top, q.Skip)
	}
	order, err := q.OrderBySQL(e, "t")
	if err != nil {
		t.Fatalf("OrderBySQL: %v", err)
	}
	checkSQL(t, "$orderby", order, nil)
	sql, args, err := q.Where(e, "t")
	if err != nil {
		t.Fatalf("Where: %v", err)
	}
	checkSQL(t, "$filter", sql, args)
	for _, it := range q.Expand {
		var target *Entity
		if n := e.Navigations[it.Name]; n != nil {
			target = n.Target
		} else if c := e.Collections[it.Name]; c != nil {
			target = c.Target
		} else {
			t.Fatalf("expanded %q is not a declared relation of %s", it.Name, e.Name)
		}
		for _, s := range it.Select {
			if target.Properties[s] == nil {
				t.Fatalf("selected %q is not a declared property of %s", s, target.Name)
			}
		}
		checkQuery(t, &it.Query, target)
	}
}
