package api

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestJSONProblemNamesTheField(t *testing.T) {
	cases := []struct{ body, field string }{
		{`{"subject":"a\u0000b"}`, "subject"},
		{`{"subject":"ok","tags":["a","b\u0001"]}`, "tags[1]"},
		{`{"customFields":{"x":"\u001f"}}`, "customFields.x"},
		{`{"actions":[{"type":"t"},{"value":{"k":["\u0000"]}}]}`, "actions[1].value.k[0]"},
		{`{"a":[[1,2],["x","\ud800"]]}`, "a[1][1]"},
		{`{"a":"\udc00\ud800"}`, "a"},
		{`{"a":"\b"}`, "a"},
		{`{"a":"` + "\u0085" + `"}`, "a"},
		{`{"a":"` + "\xff" + `"}`, "a"},
		{`{"x":1,"c\u0000":2}`, "body"},
		{`{"o":{"c\u0000":2}}`, "o"},
		{`["a","\u0000"]`, "[1]"},
	}
	for _, c := range cases {
		field, why := jsonProblem([]byte(c.body))
		if field != c.field || why == "" {
			t.Errorf("%s: got %q (%s), want %q", c.body, field, why, c.field)
		}
	}
	for _, ok := range []string{`{"a":"tab\tlf\ncr\r \" \\ \/ é 😀 \ud83d\ude00 \u00e9"}`, `{"a":[1,true,null,{"b":[]}]}`, `{"a":`} {
		if field, why := jsonProblem([]byte(ok)); why != "" {
			t.Errorf("%s refused: %s %s", ok, field, why)
		}
	}
}

func TestTextProblem(t *testing.T) {
	for _, bad := range []string{"a\x00", "\x7f", "\u0085", "\xed\xa0\x80", "\xff"} {
		if textProblem(bad) == "" {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, ok := range []string{"", "plain", "tab\there\r\n", "é😀\ufffd"} {
		if why := textProblem(ok); why != "" {
			t.Errorf("%q refused: %s", ok, why)
		}
	}
}

// FuzzJSONProblem: whatever jsonProblem accepts decodes to strings that hold to the policy, and
// it never panics.
func FuzzJSONProblem(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":["\u0000"]}`, `{"a":"\ud800"}`, `[{"x":{"y":"\t"}}]`, `"\ud83d\ude00"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, why := jsonProblem(body); why != "" {
			return
		}
		var v any
		if json.Unmarshal(body, &v) != nil || !utf8.Valid(body) {
			return
		}
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				if why := textProblem(v); why != "" {
					t.Fatalf("accepted %q: %s", body, why)
				}
			case []any:
				for _, e := range v {
					walk(e)
				}
			case map[string]any:
				for k, e := range v {
					walk(k)
					walk(e)
				}
			}
		}
		walk(v)
	})
}
