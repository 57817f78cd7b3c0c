// Package odata parses the OData v4 query options that clients of
// Movidesk's public API v1 send ($select, $filter, $expand, $orderby, $top,
// $skip) and translates them into parameterised SQL for PostgreSQL.
//
// Everything a query may name is declared up front in an Entity: the SQL
// text this package produces is assembled only from the Entity's functions,
// fixed keywords, generated aliases and `?` placeholders. Values written by
// the client (strings, numbers, dates) only ever travel as arguments, so the
// output is safe to hand to bun's Where(query, args...).
//
// Typical use in a fiber handler:
//
//	vals, err := odata.ParseRawQuery(string(c.Request().URI().QueryString()))
//	if err != nil { ... }
//	q, err := odata.Parse(vals, ticketEntity, 1000)
//	if err != nil { ... } // *odata.Error: answer 400
//	where, args, err := q.Where(ticketEntity, "t")
//	sel := db.NewSelect().TableExpr("tickets AS t")
//	if where != "" {
//		sel = sel.Where(where, args...)
//	}
//	if order, _ := q.OrderBySQL(ticketEntity, "t"); order != "" {
//		sel = sel.OrderExpr(order)
//	}
//
// ParseRawQuery is preferred over url.ParseQuery because the latter rejects
// the unescaped ';' that nested $expand options contain, and fails on the
// sloppy encodings real clients send.
//
// Semantics worth knowing:
//
//   - Names (properties, options, operators, functions, lambda variables)
//     are matched case-insensitively; output always uses declared names.
//   - Dates and times without a zone are taken as UTC. Every DateTime value
//     is passed as a UTC time.Time.
//   - startswith, endswith, contains and substringof compile to ILIKE, i.e.
//     they are case-insensitive, as Movidesk's own API is.
//   - eq/ne treat null as a value, as OData does: "p ne 'x'" matches rows
//     where p is null (IS DISTINCT FROM), "p eq q" between two properties
//     uses IS NOT DISTINCT FROM. "not" is plain SQL NOT, so not(p eq 'x')
//     does not match rows where p is null; write p ne 'x' for that.
//   - A property may appear in $orderby only if it is declared Sortable
//     (opt-in, so that sorting on unindexed columns is a deliberate choice).
package odata
