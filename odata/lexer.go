package odata

import (
	"regexp"
	"strings"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString // text is the unquoted value
	tNumber
	tDate // text is the date without quotes
	tGuid
	tLParen
	tRParen
	tComma
	tColon
	tSlash
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the filter, for messages
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return "string literal"
	}
	return "'" + short(t.text) + "'"
}

// Unquoted literals. All are anchored: they are matched at the current
// position only, so lexing stays linear.
var (
	// The optional " hh:mm" zone is "+hh:mm" whose '+' a client left
	// unescaped and the query decoding turned into a space.
	dateRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(?:[Tt]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2}| \d{2}:\d{2})?)?`)
	guidRe = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`)
	numRe  = regexp.MustCompile(`^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?`)
)

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9'
}

var punct = map[byte]tokKind{'(': tLParen, ')': tRParen, ',': tComma, ':': tColon, '/': tSlash}

// typedPrefix are the OData v2 style typed literals, datetime'...' etc.
var typedPrefix = map[string]tokKind{"datetime": tDate, "datetimeoffset": tDate, "guid": tGuid}

// lex splits a filter into tokens. The input is at most MaxFilterLen
// bytes, so the token slice stays small.
func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '\'':
			val, end, err := lexString(s, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tString, val, i})
			i = end
			continue
		case punct[c] != tEOF:
			toks = append(toks, token{punct[c], s[i : i+1], i})
			i++
			continue
		}
		t, end, err := lexWord(s, i)
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		i = end
	}
	return append(toks, token{kind: tEOF, pos: len(s)}), nil
}

// lexWord lexes an unquoted literal or an identifier at s[i].
func lexWord(s string, i int) (token, int, error) {
	rest := s[i:]
	// A GUID may start with a letter or a digit, and a date is a number
	// followed by more, so try the longest forms first.
	for _, f := range []struct {
		re   *regexp.Regexp
		kind tokKind
	}{{guidRe, tGuid}, {dateRe, tDate}, {numRe, tNumber}} {
		if n := len(f.re.FindString(rest)); n > 0 {
			if n < len(rest) && isIdentChar(rest[n]) {
				// e.g. 12abc: neither a literal nor a name.
				for n < len(rest) && isIdentChar(rest[n]) {
					n++
				}
				return token{}, 0, syntaxError(i, "invalid literal '%s'", short(rest[:n]))
			}
			return token{f.kind, rest[:n], i}, i + n, nil
		}
	}
	if isIdentStart(rest[0]) || rest[0] == '$' {
		n := 1
		for n < len(rest) && isIdentChar(rest[n]) {
			n++
		}
		word := rest[:n]
		if kind, ok := typedPrefix[strings.ToLower(word)]; ok && n < len(rest) && rest[n] == '\'' {
			val, end, err := lexString(s, i+n)
			if err != nil {
				return token{}, 0, err
			}
			return token{kind, val, i}, end, nil
		}
		return token{tIdent, word, i}, i + n, nil
	}
	return token{}, 0, syntaxError(i, "unexpected character %q", rest[0])
}

// lexString reads the quoted string whose opening quote is s[i]; two
// quotes in a row stand for one. It returns the value and the offset
// after the closing quote.
func lexString(s string, i int) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		if s[j] == '\'' {
			if j+1 < len(s) && s[j+1] == '\'' {
				j++
			} else {
				return b.String(), j + 1, nil
			}
		}
		if b.Len() >= MaxStringLen {
			return "", 0, errorf("$filter", "A string literal is longer than %d bytes.", MaxStringLen)
		}
		b.WriteByte(s[j])
	}
	return "", 0, syntaxError(i, "unterminated string literal")
}
