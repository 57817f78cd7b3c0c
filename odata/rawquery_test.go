package odata

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParseRawQuery(t *testing.T) {
	tests := []struct {
		raw  string
		want url.Values
	}{
		{"%24filter=subject%20eq%20%27a%27", url.Values{"$filter": {"subject eq 'a'"}}},
		{"$filter=subject%20eq%20'a'", url.Values{"$filter": {"subject eq 'a'"}}},
		{"?$filter=subject+eq+'a+b'", url.Values{"$filter": {"subject eq 'a b'"}}},
		{"$filter=subject eq 'a b'&$top=5", url.Values{"$filter": {"subject eq 'a b'"}, "$top": {"5"}}},
		{"$filter=subject eq %27it%27%27s%27", url.Values{"$filter": {"subject eq 'it''s'"}}},
		{"$filter=subject eq '100%'", url.Values{"$filter": {"subject eq '100%'"}}},
		{"$filter=subject eq '%zz%2'&x=%", url.Values{"$filter": {"subject eq '%zz%2'"}, "x": {"%"}}},
		{"$filter=subject eq '%E2%82%AC'", url.Values{"$filter": {"subject eq '€'"}}},
		{"$filter=subject eq 'a&b'&$top=1", url.Values{"$filter": {"subject eq 'a&b'"}, "$top": {"1"}}},
		{"%24FILTER=subject eq 'a&b'&$top=1", url.Values{"$FILTER": {"subject eq 'a&b'"}, "$top": {"1"}}},
		// Encoded quotes do not protect a raw '&'.
		{"$filter=subject eq %27a&b%27&$top=1", url.Values{"$filter": {"subject eq 'a"}, "b'": {""}, "$top": {"1"}}},
		{"$filter=contains(subject,'a&b') and id eq 1&token=t", url.Values{"$filter": {"contains(subject,'a&b') and id eq 1"}, "token": {"t"}}},
		// An unclosed quote is not a delimiter.
		{"$filter=subject eq 'a&$top=1", url.Values{"$filter": {"subject eq 'a"}, "$top": {"1"}}},
		{"$filter=x'&b=1", url.Values{"$filter": {"x'"}, "b": {"1"}}},
		{"$filter=x'&$expand=a(b eq 'c')&d", url.Values{"$filter": {"x'"}, "$expand": {"a(b eq 'c')"}, "d": {""}}},
		// Quotes in other parameters mean nothing.
		{"name=O'Brien&$top=1", url.Values{"name": {"O'Brien"}, "$top": {"1"}}},
		{"$expand=actions($select=id;$expand=attachments)&token=x",
			url.Values{"$expand": {"actions($select=id;$expand=attachments)"}, "token": {"x"}}},
		{"$expand=actions($filter=description eq 'a&b')&token=x",
			url.Values{"$expand": {"actions($filter=description eq 'a&b')"}, "token": {"x"}}},
		{"a=1&a=2&&b&c=&=d&e==", url.Values{"a": {"1", "2"}, "b": {""}, "c": {""}, "": {"d"}, "e": {"="}}},
		{"$filter&$top=1", url.Values{"$filter": {""}, "$top": {"1"}}},
		{"$filter=&$top=1", url.Values{"$filter": {""}, "$top": {"1"}}},
		{"", url.Values{}},
		{"?", url.Values{}},
	}
	for _, tt := range tests {
		got, err := ParseRawQuery(tt.raw)
		if err != nil {
			t.Errorf("%q: %v", tt.raw, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %#v, want %#v", tt.raw, got, tt.want)
		}
	}
}

func TestParseRawQueryLimits(t *testing.T) {
	_, err := ParseRawQuery(strings.Repeat("a", MaxRawQueryLen+1))
	wantError(t, err, "", "The query string is longer than 65536 bytes.")
	_, err = ParseRawQuery(strings.Repeat("a&", MaxParams) + "a")
	wantError(t, err, "", "The query string has more than 1000 parameters.")
	if _, err = ParseRawQuery(strings.Repeat("a&", MaxParams-1) + "a"); err != nil {
		t.Error(err)
	}
}

// A whole request as a client sends it, through both functions.
func TestRawQueryToSQL(t *testing.T) {
	raw := "token=abc&%24select=id,subject&$filter=createdDate+gt+2016-09-01T00:00:00+03:00" +
		"%20and%20(owner/businessName eq 'Ana & Co'%20or%20clients/any(c:%20c/id%20eq%20%27x%27))" +
		"&$expand=owner,actions($select=id;$expand=attachments)&$orderby=createdDate desc&$top=50&$skip=0"
	vals, err := ParseRawQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse(vals, ticket, 1000)
	if err != nil {
		t.Fatal(err)
	}
	sql, args, err := q.Where(ticket, "t")
	if err != nil {
		t.Fatal(err)
	}
	want := "t.created_date > ? AND (" + ownerName +
		" = ? OR EXISTS (SELECT 1 FROM persons AS odata2 WHERE odata2.id = ANY(t.client_ids) AND (odata2.id = ?)))"
	if sql != want {
		t.Errorf("got  %s\nwant %s", sql, want)
	}
	if wantArgs := []any{utc("2016-08-31T21:00:00Z"), "Ana & Co", "x"}; !reflect.DeepEqual(args, wantArgs) {
		t.Errorf("args = %#v", args)
	}
	if got := expandString(q.Expand); got != "owner,actions{id}(attachments)" {
		t.Errorf("expand = %s", got)
	}
	if !reflect.DeepEqual(q.Select, []string{"id", "subject"}) || q.Top != 50 || len(q.OrderBy) != 1 {
		t.Errorf("query = %+v", q)
	}
}
