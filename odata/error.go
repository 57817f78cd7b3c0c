package odata

import (
	"fmt"
	"unicode/utf8"
)

// Error is a client error: the HTTP handler answers
// 400 {"propertyName": e.Property, "errorMessage": e.Message}.
//
// Property is the property the problem is about, or the query option
// (e.g. "$filter") when it is not about a particular property.
type Error struct {
	Property string
	Message  string
}

func (e *Error) Error() string {
	if e.Property == "" {
		return e.Message
	}
	return e.Property + ": " + e.Message
}

func errorf(property, format string, args ...any) *Error {
	return &Error{Property: property, Message: fmt.Sprintf(format, args...)}
}

// notFound is the error for an unknown name. The wording follows the one
// Movidesk's API (ASP.NET OData) uses, which clients may match on.
func notFound(name string, e *Entity) *Error {
	return errorf(name, "Could not find a property named '%s' on type '%s'.", short(name), e.Name)
}

// short keeps client text echoed in messages to a readable size.
func short(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
