// Package textpolicy is the one rule for what text Switchboard stores: valid UTF-8, no control
// character (Unicode category Cc: U+0000–U+001F, U+007F–U+009F) other than tab, line feed and
// carriage return, and not the text \u0000. PostgreSQL cannot store U+0000 in text or jsonb at
// all, and the other controls are never meant as content. The API refuses such input before
// any handler (api/sanitize.go); the rules engine refuses to write what a template renders
// against it, so no write of a workflow ever meets one.
package textpolicy

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EscapedNUL is the text \u0000 (a backslash, then u0000), refused too: bun's JSON writer
// (schema.BaseDialect.AppendJSON, bun v1.3.0) turns it, after an escaped backslash, into an
// escape jsonb rejects, so a custom field holding it would fail the write of its ticket.
const EscapedNUL = `\u0000`

// EscapedNULProblem is what Problem says of text holding EscapedNUL.
const EscapedNULProblem = `contains the text \u0000, which cannot be stored`

// Problem says what is wrong with a string, or "" when it may be stored.
func Problem(s string) string {
	if strings.Contains(s, EscapedNUL) {
		return EscapedNULProblem
	}
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return "is not valid UTF-8"
			}
		}
		if why := RuneProblem(r); why != "" {
			return why
		}
	}
	return ""
}

// RuneProblem says what is wrong with one character, or "" when it may be stored.
func RuneProblem(r rune) string {
	if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
		return fmt.Sprintf("contains the control character U+%04X; only tab, line feed and carriage return are allowed", r)
	}
	return ""
}
