package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/switchboardhq/switchboard/internal/textpolicy"
)

// The text policy, enforced here and only here, before authentication and before any handler:
// every string that enters the API (the path, each query parameter, the headers stored with a
// request, each form value, every key and string of a JSON body) is valid UTF-8 and holds no
// control character (Unicode category Cc: U+0000–U+001F, U+007F–U+009F) other than tab, line
// feed and carriage return, nor the text \u0000 (see textpolicy.EscapedNUL). A JSON \uXXXX escape of a lone UTF-16 surrogate is refused too,
// rather than let encoding/json turn it (and invalid UTF-8) silently into U+FFFD. PostgreSQL
// cannot store U+0000 in text or jsonb at all, and the other controls are never meant as
// content; refusing them here means no handler, workflow or activity ever sees one.
//
// A refusal names where the text was: 422 with the field under /api/v1 ("subject", "tags[1]",
// "customFields.x", a query parameter's name, "path"), 400 naming the parameter on the
// /public/v1 telephony callbacks, whose callers branch on 400.
func sanitizeInput(c *fiber.Ctx) error {
	refuse := func(name, why string) error {
		if strings.HasPrefix(c.Path(), "/public/v1/") { // the telephony callbacks, not the chat widget's API
			return errBadRequest("parameter %s %s", name, why)
		}
		return errField(name, "%s", why)
	}
	if why := textProblem(c.Path()); why != "" {
		return refuse("path", why)
	}
	if name, why := argsProblem(c.Context().QueryArgs().VisitAll); why != "" {
		return refuse(name, why)
	}
	for _, h := range storedHeaders {
		if why := textProblem(c.Get(h)); why != "" {
			return refuse(h, why)
		}
	}
	if streamedBody(c) {
		return c.Next() // an upload's parts are checked by its handler as they stream (attachments.go)
	}
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return c.Next()
	}
	var name, why string
	switch ct := string(c.Request().Header.ContentType()); {
	case strings.HasPrefix(ct, fiber.MIMEApplicationForm):
		name, why = argsProblem(c.Context().PostArgs().VisitAll)
	case strings.HasPrefix(ct, fiber.MIMEMultipartForm):
		name, why = multipartProblem(c)
	default: // the native API reads every other body as JSON (decode), whatever it is labelled
		name, why = jsonProblem(body)
	}
	if why != "" {
		return refuse(name, why)
	}
	return c.Next()
}

// storedHeaders are the request headers whose values reach the database.
var storedHeaders = []string{"Idempotency-Key", "Last-Event-ID"}

// textProblem says what is wrong with a decoded string, or "" when it is acceptable.
func textProblem(s string) string { return textpolicy.Problem(s) }

// argsProblem checks query or form arguments, keys and values, naming the argument.
func argsProblem(visit func(func(k, v []byte))) (name, why string) {
	visit(func(k, v []byte) {
		if why != "" {
			return
		}
		name = string(k)
		if why = textProblem(name); why != "" {
			name, why = "query", "has a parameter name that "+why
			return
		}
		why = textProblem(string(v))
	})
	return name, why
}

func multipartProblem(c *fiber.Ctx) (name, why string) {
	form, err := c.MultipartForm()
	if err != nil {
		return "", "" // a malformed form is the handler's to refuse
	}
	for k, vs := range form.Value {
		if why := textProblem(k); why != "" {
			return "body", "has a field name that " + why
		}
		for _, v := range vs {
			if why := textProblem(v); why != "" {
				return k, why
			}
		}
	}
	return "", ""
}

// jsonFrame is one open object or array while walking a JSON document.
type jsonFrame struct {
	object  bool
	key     string // the current key, in an object
	wantKey bool   // the next string is a key, in an object
	index   int    // the current element, in an array
}

// jsonProblem walks a JSON document token by token and checks each string's raw literal, so
// escapes are seen as sent. It names the first bad string by its path: "subject", "tags[1]",
// "customFields.x". Malformed JSON is not its business: decode answers that with a 400.
func jsonProblem(body []byte) (field, why string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []*jsonFrame
	var off int64
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", ""
		}
		raw := body[off:dec.InputOffset()] // the token, after any separator and blanks
		off = dec.InputOffset()
		var top *jsonFrame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			valueDone(stack)
			continue
		}
		if s, ok := tok.(string); ok && top != nil && top.object && top.wantKey {
			top.key, top.wantKey = s, false
			if why := literalProblem(raw); why != "" || strings.Contains(s, textpolicy.EscapedNUL) {
				if why == "" {
					why = textpolicy.EscapedNULProblem
				}
				return pathOf(stack[:len(stack)-1], "body"), "has a key that " + why
			}
			continue
		}
		if top != nil && !top.object {
			top.index++
		}
		switch tok := tok.(type) {
		case json.Delim: // '{' or '['
			stack = append(stack, &jsonFrame{object: tok == '{', wantKey: tok == '{', index: -1})
		case string:
			if why := literalProblem(raw); why != "" {
				return pathOf(stack, "body"), why
			}
			if strings.Contains(tok, textpolicy.EscapedNUL) {
				return pathOf(stack, "body"), textpolicy.EscapedNULProblem
			}
			valueDone(stack)
		default:
			valueDone(stack)
		}
	}
}

// valueDone moves the innermost object on to its next key.
func valueDone(stack []*jsonFrame) {
	if len(stack) > 0 && stack[len(stack)-1].object {
		stack[len(stack)-1].wantKey = true
	}
}

// pathOf names the current position: "customFields.plan", "tags[1]", "actions[0].value".
func pathOf(stack []*jsonFrame, root string) string {
	var b strings.Builder
	for _, f := range stack {
		switch {
		case !f.object:
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
		case b.Len() > 0:
			b.WriteString("." + f.key)
		default:
			b.WriteString(f.key)
		}
	}
	if b.Len() == 0 {
		return root
	}
	return b.String()
}

// literalProblem checks a JSON string literal as sent (raw may start with separators and
// blanks before the opening quote).
func literalProblem(raw []byte) string {
	start := bytes.IndexByte(raw, '"')
	end := bytes.LastIndexByte(raw, '"')
	if start < 0 || end <= start {
		return ""
	}
	lit := raw[start+1 : end]
	for i := 0; i < len(lit); {
		if lit[i] != '\\' {
			r, size := utf8.DecodeRune(lit[i:])
			if r == utf8.RuneError && size == 1 {
				return "is not valid UTF-8"
			}
			if why := textpolicy.RuneProblem(r); why != "" {
				return why
			}
			i += size
			continue
		}
		switch lit[i+1] { // \" \\ \/ \n \r \t are fine; \b and \f are controls
		case 'b':
			return textpolicy.RuneProblem('\b')
		case 'f':
			return textpolicy.RuneProblem('\f')
		case 'u':
		default:
			i += 2
			continue
		}
		r := hex4(lit[i+2:])
		i += 6
		if utf16.IsSurrogate(r) {
			if r >= 0xDC00 || i+6 > len(lit) || lit[i] != '\\' || lit[i+1] != 'u' {
				return fmt.Sprintf("contains a lone UTF-16 surrogate \\u%04X", r)
			}
			low := hex4(lit[i+2:])
			if low < 0xDC00 || low > 0xDFFF {
				return fmt.Sprintf("contains a lone UTF-16 surrogate \\u%04X", r)
			}
			i += 6
			continue
		}
		if why := textpolicy.RuneProblem(r); why != "" {
			return why
		}
	}
	return ""
}

// hex4 reads the four hex digits of a \u escape the JSON decoder has already accepted.
func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(n)
}
