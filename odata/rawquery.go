package odata

import (
	"net/url"
	"strings"
)

// Limits of ParseRawQuery.
const (
	MaxRawQueryLen = 64 << 10
	MaxParams      = 1000
)

// ParseRawQuery decodes a raw query string (with or without the leading
// '?') more forgivingly than url.ParseQuery, because API clients build
// URLs by hand:
//
//   - '+' and %20 are spaces; %XX is decoded; a '%' not followed by two
//     hex digits is kept as it is instead of failing;
//   - ';' is not a separator (nested $expand options use it);
//   - text left unencoded, such as $filter=subject eq 'a b', is taken as is;
//   - in $filter and $expand, an '&' inside a 'quoted string' belongs to
//     the string, unless the quote is never closed. Only raw quotes count:
//     a client that encodes quotes as %27 encodes '&' as %26 too, and a
//     well-encoded query must not be split differently from url.ParseQuery.
func ParseRawQuery(raw string) (url.Values, error) {
	if len(raw) > MaxRawQueryLen {
		return nil, errorf("", "The query string is longer than %d bytes.", MaxRawQueryLen)
	}
	raw = strings.TrimPrefix(raw, "?")
	values := url.Values{}
	quoteAware := true
	for n := 0; raw != ""; n++ {
		if n == MaxParams {
			return nil, errorf("", "The query string has more than %d parameters.", MaxParams)
		}
		end := strings.IndexByte(raw, '&')
		if end < 0 {
			end = len(raw)
		}
		k, v, hasValue := strings.Cut(raw[:end], "=")
		key := unescape(k)
		if l := strings.ToLower(key); hasValue && quoteAware && (l == "$filter" || l == "$expand") {
			start := len(k) + 1
			var ok bool
			end, ok = quotedEnd(raw, start)
			// An unclosed quote was not a delimiter, and the text after it
			// cannot be trusted either: stop looking at quotes, which also
			// keeps the whole scan linear.
			quoteAware = ok
			v = raw[start:end]
		}
		if end > 0 {
			values[key] = append(values[key], unescape(v))
		}
		raw = raw[min(end+1, len(raw)):]
	}
	return values, nil
}

// quotedEnd returns where the value starting at raw[start] ends: at the
// first '&' outside raw quotes. If a quote is left open it returns the first
// '&' after start and false.
func quotedEnd(raw string, start int) (int, bool) {
	quoted := false
	for i := start; i < len(raw); i++ {
		switch {
		case raw[i] == '\'':
			quoted = !quoted
		case raw[i] == '&' && !quoted:
			return i, true
		}
	}
	if !quoted {
		return len(raw), true
	}
	if i := strings.IndexByte(raw[start:], '&'); i >= 0 {
		return start + i, false
	}
	return len(raw), false
}

// unescape decodes %XX and '+', keeping malformed escapes literally.
func unescape(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
