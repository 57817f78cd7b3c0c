package odata_test

import (
	"fmt"

	"github.com/switchboardhq/switchboard/odata"
)

func Example() {
	col := func(name string) func(string) string {
		return func(alias string) string { return alias + "." + name }
	}
	person := &odata.Entity{
		Name: "Person",
		Properties: map[string]*odata.Property{
			"id":           {Name: "id", Type: odata.String, SQL: col("id")},
			"businessName": {Name: "businessName", Type: odata.String, SQL: col("business_name"), Sortable: true},
		},
	}
	ticket := &odata.Entity{
		Name: "Ticket",
		Properties: map[string]*odata.Property{
			"id":      {Name: "id", Type: odata.Int, SQL: col("id"), Sortable: true},
			"subject": {Name: "subject", Type: odata.String, SQL: col("subject")},
		},
		Navigations: map[string]*odata.Navigation{
			"owner": {
				Name: "owner", Target: person,
				From: func(parent, elem string) string {
					return "persons AS " + elem + " WHERE " + elem + ".id = " + parent + ".owner_id"
				},
				Local: map[string]func(string) string{"id": col("owner_id")},
			},
		},
		Collections: map[string]*odata.Collection{
			"clients": {
				Name: "clients", Target: person,
				From: func(parent, elem string) string {
					return "persons AS " + elem + " WHERE " + elem + ".id = ANY(" + parent + ".client_ids)"
				},
			},
		},
	}
	vals, _ := odata.ParseRawQuery("token=x&$filter=contains(Subject,'50%25') and (owner/id eq '7' or clients/any(c: c/businessName eq 'Acme'))&$orderby=owner/businessName desc,id&$top=10")
	q, err := odata.Parse(vals, ticket, 1000)
	if err != nil {
		fmt.Println(err)
		return
	}
	where, args, _ := q.Where(ticket, "t")
	order, _ := q.OrderBySQL(ticket, "t")
	fmt.Println(where)
	fmt.Printf("%q\n", args)
	fmt.Println(order)
	fmt.Println(q.Top)

	_, err = odata.Parse(map[string][]string{"$filter": {"nope eq 1"}}, ticket, 1000)
	fmt.Println(err)
	// Output:
	// t.subject ILIKE ? ESCAPE '\' AND (t.owner_id = ? OR EXISTS (SELECT 1 FROM persons AS odata1 WHERE odata1.id = ANY(t.client_ids) AND (odata1.business_name = ?)))
	// ["%50\\%%" "7" "Acme"]
	// (SELECT odata1.business_name FROM persons AS odata1 WHERE odata1.id = t.owner_id) DESC, t.id ASC
	// 10
	// nope: Could not find a property named 'nope' on type 'Ticket'.
}
