package odata

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t *testing.T, v url.Values) *Query {
	t.Helper()
	q, err := Parse(v, ticket, 1000)
	if err != nil {
		t.Fatalf("%v: %v", v, err)
	}
	return q
}

func wantError(t *testing.T, err error, prop, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want *Error %s: %s", err, prop, msg)
	}
	if e.Property != prop || !strings.HasPrefix(e.Message, msg) {
		t.Errorf("got %q: %q\nwant %q: %q...", e.Property, e.Message, prop, msg)
	}
}

func TestParseOptions(t *testing.T) {
	q := mustParse(t, url.Values{
		"$select":  {"id, Subject,createdDate,id"},
		"$filter":  {"id eq 1"},
		"$orderby": {"createdDate desc, id ,owner/businessName ASC"},
		"$top":     {"10"},
		"$skip":    {"20"},
		"token":    {"ignored"},
	})
	if want := []string{"id", "subject", "createdDate"}; !reflect.DeepEqual(q.Select, want) {
		t.Errorf("Select = %v, want %v", q.Select, want)
	}
	if q.Filter == nil || !q.HasTop || q.Top != 10 || q.Skip != 20 {
		t.Errorf("got %+v", q)
	}
	want := []OrderItem{{Path: []string{"createdDate"}, Desc: true}, {Path: []string{"id"}}, {Path: []string{"owner", "businessName"}}}
	if !reflect.DeepEqual(q.OrderBy, want) {
		t.Errorf("OrderBy = %+v", q.OrderBy)
	}
	order, err := q.OrderBySQL(ticket, "t")
	if err != nil {
		t.Fatal(err)
	}
	if want := "t.created_date DESC, t.id ASC, " + ownerName + " ASC"; order != want {
		t.Errorf("OrderBySQL = %s\nwant %s", order, want)
	}

	// Empty options are absent; option names ignore case.
	q = mustParse(t, url.Values{"$filter": {" "}, "$TOP": {"0"}, "$Select": {"*"}, "$orderby": {""}})
	if q.Filter != nil || !q.HasTop || q.Top != 0 || q.Select != nil || q.OrderBy != nil {
		t.Errorf("got %+v", q)
	}
	if sql, args, err := q.Where(ticket, "t"); sql != "" || args != nil || err != nil {
		t.Errorf("Where without filter = %q %v %v", sql, args, err)
	}
	if sql, err := q.OrderBySQL(ticket, "t"); sql != "" || err != nil {
		t.Errorf("OrderBySQL without $orderby = %q %v", sql, err)
	}
	if q := mustParse(t, url.Values{"$top": {"1000"}}); q.Top != 1000 {
		t.Errorf("Top = %d", q.Top)
	}
	if q, err := Parse(url.Values{"$top": {"5000"}}, ticket, 0); err != nil || q.Top != 5000 {
		t.Errorf("maxTop 0 is no limit: %v %v", q, err)
	}
}

func TestParseOptionErrors(t *testing.T) {
	many := strings.TrimSuffix(strings.Repeat("id,", MaxItems+1), ",")
	tests := []struct {
		values url.Values
		prop   string
		msg    string
	}{
		{url.Values{"$count": {"true"}}, "$count", "The query option '$count' is not supported."},
		{url.Values{"$filter": {"id eq 1", "id eq 2"}}, "$filter", "The query option '$filter' is specified more than once."},
		{url.Values{"$filter": {"id eq 1"}, "$FILTER": {"id eq 2"}}, "$filter", "The query option '$filter' is specified more than once."},
		{url.Values{"$top": {"-1"}}, "$top", "The value of $top must be a non-negative integer."},
		{url.Values{"$top": {"abc"}}, "$top", "The value of $top must be a non-negative integer."},
		{url.Values{"$top": {"+5"}}, "$top", "The value of $top must be a non-negative integer."},
		{url.Values{"$top": {"1.5"}}, "$top", "The value of $top must be a non-negative integer."},
		{url.Values{"$top": {"1001"}}, "$top", "The value of $top must not exceed 1000."},
		{url.Values{"$top": {"99999999999999999999999"}}, "$top", "The value of $top is too large."},
		{url.Values{"$skip": {"-1"}}, "$skip", "The value of $skip must be a non-negative integer."},
		{url.Values{"$skip": {"1e3"}}, "$skip", "The value of $skip must be a non-negative integer."},
		{url.Values{"$select": {"id,foo"}}, "foo", "Could not find a property named 'foo' on type 'Ticket'."},
		{url.Values{"$select": {"owner"}}, "owner", "'owner' is a relation; include it with $expand=owner."},
		{url.Values{"$select": {"id,,subject"}}, "$select", "$select has an empty item."},
		{url.Values{"$select": {"id,"}}, "$select", "$select has an empty item."},
		{url.Values{"$select": {many}}, "$select", "$select has more than 100 items."},
		{url.Values{"$select": {"owner/id"}}, "owner/id", "Could not find a property named 'owner/id'"},
		{url.Values{"$select": {strings.Repeat("a", MaxFilterLen+1)}}, "$select", "The value of $select is longer than 8192 bytes."},
		{url.Values{"$orderby": {"isDeleted"}}, "isDeleted", "The property 'isDeleted' cannot be used in $orderby."},
		{url.Values{"$orderby": {"owner/isActive desc"}}, "owner/isActive", "The property 'owner/isActive' cannot be used in $orderby."},
		{url.Values{"$orderby": {"foo"}}, "foo", "Could not find a property named 'foo' on type 'Ticket'."},
		{url.Values{"$orderby": {"owner"}}, "owner", "'owner' is a navigation property"},
		{url.Values{"$orderby": {"clients"}}, "clients", "'clients' is a collection"},
		{url.Values{"$orderby": {"id up"}}, "$orderby", "Expected asc or desc after 'id' in $orderby."},
		{url.Values{"$orderby": {"id asc desc"}}, "$orderby", "Each $orderby item must be"},
		{url.Values{"$orderby": {"id,"}}, "$orderby", "Each $orderby item must be"},
		{url.Values{"$orderby": {many}}, "$orderby", "$orderby has more than 100 items."},
		{url.Values{"$orderby": {"owner" + strings.Repeat("/organization", 32) + "/id"}}, "$orderby", "A property path has more than 32 segments."},
		{url.Values{"$filter": {"foo eq 1"}}, "foo", "Could not find a property named 'foo'"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.values, ticket, 1000)
		t.Run("", func(t *testing.T) { wantError(t, err, tt.prop, tt.msg) })
	}
}

// expandString renders items compactly for comparison: name{select}[filter](children).
func expandString(items []*ExpandItem) string {
	var parts []string
	for _, it := range items {
		s := it.Name
		if it.Select != nil {
			s += "{" + strings.Join(it.Select, ",") + "}"
		}
		if it.Filter != nil {
			s += "[filter]"
		}
		if it.HasTop {
			s += "[top]"
		}
		if len(it.Expand) > 0 {
			s += "(" + expandString(it.Expand) + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

func TestExpand(t *testing.T) {
	tests := []struct{ expand, want string }{
		{"owner", "owner"},
		{"Owner, createdBy", "owner,createdBy"},
		{"clients($expand=organization)", "clients(organization)"},
		{"clients($expand=organization($select=businessName))", "clients(organization{businessName})"},
		{"actions($select=id,description;$expand=attachments)", "actions{id,description}(attachments)"},
		{"actions( $select = id ; $expand = attachments($select=fileName) )", "actions{id}(attachments{fileName})"},
		{"actions/timeAppointments", "actions(timeAppointments)"},
		{"actions/timeAppointments($select=id)", "actions(timeAppointments{id})"},
		{"actions/timeAppointments,actions/attachments", "actions(timeAppointments,attachments)"},
		{"actions($select=id),actions/timeAppointments", "actions{id}(timeAppointments)"},
		{"actions/timeAppointments,actions($select=id)", "actions{id}(timeAppointments)"},
		{"actions($select=id;$expand=attachments),actions/timeAppointments", "actions{id}(attachments,timeAppointments)"},
		{"owner/organization,owner/organization/organization", "owner(organization(organization))"},
		{"customFieldValues($filter=customFieldId eq 1 and value eq 'a;b,c)';$top=5;$orderby=customFieldId desc)", "customFieldValues[filter][top]"},
		{"customFieldValues($expand=items),clients", "customFieldValues(items),clients"},
		{"actions()", "actions"},
	}
	for _, tt := range tests {
		q, err := Parse(url.Values{"$expand": {tt.expand}}, ticket, 1000)
		if err != nil {
			t.Errorf("%q: %v", tt.expand, err)
			continue
		}
		if got := expandString(q.Expand); got != tt.want {
			t.Errorf("%q: got %s, want %s", tt.expand, got, tt.want)
		}
	}

	// The nested options compile against the target entity.
	q := mustParse(t, url.Values{"$expand": {"customFieldValues($filter=customFieldId eq 1 and value eq 'a;b';$orderby=customFieldId desc;$top=5;$skip=2)"}})
	it := q.Expand[0]
	sql, args, err := it.Where(customFieldValue, "v")
	if err != nil || sql != "v.custom_field_id = ? AND v.value = ?" || !reflect.DeepEqual(args, []any{int64(1), "a;b"}) {
		t.Errorf("nested Where = %q %v %v", sql, args, err)
	}
	if order, err := it.OrderBySQL(customFieldValue, "v"); order != "v.custom_field_id DESC" || err != nil {
		t.Errorf("nested OrderBySQL = %q %v", order, err)
	}
	if it.Top != 5 || it.Skip != 2 {
		t.Errorf("nested top/skip = %d %d", it.Top, it.Skip)
	}
}

// chain is root followed by 31 /organization: 32 items, the deepest allowed.
func chain(root string) string { return root + strings.Repeat("/organization", MaxDepth-1) }

func TestExpandErrors(t *testing.T) {
	deep := "owner" + strings.Repeat("/organization", MaxDepth)
	tests := []struct{ expand, prop, msg string }{
		{"foo", "foo", "Could not find a property named 'foo' on type 'Ticket'."},
		{"actions/foo", "foo", "Could not find a property named 'foo' on type 'Action'."},
		{"subject", "subject", "'subject' is not a relation and cannot be expanded."},
		{"actions($select=foo)", "foo", "Could not find a property named 'foo' on type 'Action'."},
		{"actions($expand=foo)", "foo", "Could not find a property named 'foo' on type 'Action'."},
		{"actions($filter=foo eq 1)", "foo", "Could not find a property named 'foo' on type 'Action'."},
		{"actions($filter=id eq)", "$filter", "Syntax error"},
		{"owner($filter=id eq 'x')", "owner", "$filter is only allowed when expanding a collection, and 'owner' is not one."},
		{"owner($top=1)", "owner", "$top is only allowed when expanding a collection"},
		{"actions($top=abc)", "$top", "The value of $top must be a non-negative integer."},
		{"actions($top=1001)", "$top", "The value of $top must not exceed 1000."},
		{"actions($bogus=1)", "$bogus", "The query option '$bogus' is not supported."},
		{"actions(select=id)", "select", "The query option 'select' is not supported."},
		{"actions($select=id;$select=id)", "$select", "The query option '$select' is specified more than once."},
		{"actions($select)", "$expand", "Expected option=value in $expand"},
		{"actions,actions", "actions", "'actions' is expanded more than once."},
		{"actions($select=id),actions($select=id)", "actions", "'actions' is expanded more than once."},
		{"actions/attachments($select=fileName),actions($expand=attachments)", "attachments", "'attachments' is expanded more than once."},
		{"actions(", "$expand", "Unbalanced '(' or quote in $expand."},
		{"actions)", "$expand", "Unbalanced ')' in $expand."},
		{"actions($select=id", "$expand", "Unbalanced '(' or quote in $expand."},
		{"actions($select=id)x", "$expand", "Expected ')' at the end of 'actions($select=id)x'."},
		{"actions($filter=description eq 'x)", "$expand", "Unbalanced '(' or quote in $expand."},
		{"owner,", "$expand", "$expand has an empty item."},
		{"/owner", "$expand", "$expand has an empty item."},
		{deep, "$expand", "$expand is nested more than 32 levels deep."},
		{chain("owner") + "," + chain("createdBy") + "," + chain("clients") + ",actions/attachments,actions/timeAppointments,customFieldValues/items",
			"$expand", "$expand has more than 100 items."},
		{"owner" + strings.Repeat("($expand=organization", 32) + strings.Repeat(")", 32), "$expand", "$expand is nested more than 32 levels deep."},
		{"owner" + strings.Repeat("($expand=organization", 31) + strings.Repeat(")", 31), "", ""},
	}
	for _, tt := range tests {
		_, err := Parse(url.Values{"$expand": {tt.expand}}, ticket, 1000)
		if tt.msg == "" {
			if err != nil {
				t.Errorf("%.60q: %v", tt.expand, err)
			}
			continue
		}
		t.Run("", func(t *testing.T) { wantError(t, err, tt.prop, tt.msg) })
	}
}
