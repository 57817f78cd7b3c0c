package integration

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/switchboardhq/switchboard/api"
)

// hostileJSON are JSON string literals, inserted into a body as they are, of text that broke
// a route once or could: NUL, lone surrogates, C0 and C1 controls, an escaped NUL as plain text,
// raw bytes that are not UTF-8, separators and direction overrides.
var hostileJSON = []string{`"\u0000"`, `"a\ud800"`, `"\udfff"`, `"\ud800\u0041"`, `"\u0001"`, `"\u001f"`, `"\u007f"`,
	`"\u0085"`, `"\b\f"`, `"\\u0000"`, "\"\x01\"", "\"\xff\"", "\"\xed\xa0\x80\"", `"\u2028"`, `"\ufeff"`, `"\u202e"`}

// hostileRaw is the same for query parameters (a lone surrogate cannot be sent there but as
// its invalid UTF-8 bytes).
var hostileRaw = []string{"\x00", "a\x00b", "\x01", "\x1f", "\x7f", "\u0085", "\b", "\xff", "\xed\xa0\x80", `\u0000`,
	"\u2028", "\ufeff", "%00"}

// hostileRunes build the random strings: a mix of the above and plain letters.
var hostileRunes = []string{`\u0000`, `\ud800`, `\udfff`, `\u0001`, `\u001b`, `\u007f`, `\u0085`, `\u2028`, `\\`, `\"`,
	"\xff", "\xed\xa0\x80", "a", "Z", "é", "€", "😀", " "}

// Fuzz, driven by the OpenAPI document: every field of every JSON body (and every query
// parameter) of the ticket, person, trigger and telephony routes gets each hostile text, one
// field at a time, and a random mix of them. No answer is a 5xx, and no workflow of the stack
// fails. The document names every field, so a field added to a route is fuzzed without a
// change here.
func TestInputFuzzEveryField(t *testing.T) {
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour, rateLimit: 1 << 30})
	defer s.close()
	p := s.newPeople(t)
	pbx := s.newPBX(t, nil)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "fuzz target", "clientIds": []string{p.customer}})
	tag := randomName("fuzz-")
	trigger := s.createTrigger(t, map[string]any{"name": tag, "events": []string{"ticket.created"}, "actions": []any{}})
	doc, err := api.LoadOpenAPI()
	require.NoError(t, err)

	seed := time.Now().UnixNano()
	t.Logf("random texts from seed %d", seed)
	rnd := rand.New(rand.NewPCG(uint64(seed), 0))
	ids := map[string]string{"tickets": fmt.Sprint(tk.ID), "persons": p.customer, "triggers": trigger.ID}
	sent := 0
	for _, path := range doc.Paths.InMatchingOrder() {
		area, ok := fuzzArea(path)
		if !ok {
			continue
		}
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			if method == "DELETE" || isStream(op) {
				continue
			}
			concrete := fillPath(path, ids[area])
			if area == "public" {
				sent += s.fuzzTelephony(t, pbx, method, concrete, op, rnd)
				continue
			}
			sent += s.fuzzQuery(t, method, concrete, op)
			if body := jsonBody(op); body != nil {
				sent += s.fuzzBody(t, method, concrete, body, rnd)
			}
		}
	}
	t.Logf("%d hostile requests", sent)
	require.Greater(t, sent, 1000, "the document's routes were walked")

	// Every ticket and call the fuzz made, and the rest, kept its workflow.
	failed, err := s.tc.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("TaskQueue = %q AND ExecutionStatus = 'Failed'", s.taskQueue)})
	require.NoError(t, err)
	require.Empty(t, failed.Executions, "no workflow failed")
	running, err := s.tc.CountWorkflow(t.Context(), &workflowservice.CountWorkflowExecutionsRequest{
		Query: fmt.Sprintf("TaskQueue = %q AND ExecutionStatus = 'Running'", s.taskQueue)})
	require.NoError(t, err)
	require.Positive(t, running.Count)
	s.post(t, p.agentTok, tk.ID, "actions", map[string]any{"type": "internal", "body": "after the fuzz"}).expect(200)
}

// fuzzArea is which resource a path belongs to, for the routes this fuzz covers.
func fuzzArea(path string) (string, bool) {
	for _, area := range []string{"tickets", "persons", "triggers"} {
		if path == "/api/v1/"+area || strings.HasPrefix(path, "/api/v1/"+area+"/") {
			return area, true
		}
	}
	return "public", strings.HasPrefix(path, "/public/v1/")
}

// fillPath puts the resource's id into {id} and a plausible value into other parameters.
func fillPath(path, id string) string {
	for strings.Contains(path, "{") {
		i, j := strings.Index(path, "{"), strings.Index(path, "}")
		v := "1"
		if path[i:j+1] == "{id}" {
			v = id
		}
		path = path[:i] + v + path[j+1:]
	}
	return path
}

func isStream(op *openapi3.Operation) bool {
	for _, r := range op.Responses.Map() {
		if r.Value != nil && r.Value.Content.Get("text/event-stream") != nil {
			return true
		}
	}
	return false
}

func jsonBody(op *openapi3.Operation) *openapi3.Schema {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil
	}
	if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
		return mt.Schema.Value
	}
	return nil
}

const hostileMarker = "@@hostile@@"

// fuzzBody sends the body's required fields with one field at a time made hostile.
func (s *stack) fuzzBody(t *testing.T, method, path string, schema *openapi3.Schema, rnd *rand.Rand) int {
	t.Helper()
	var leaves [][]string
	schemaLeaves(schema, nil, 0, &leaves)
	base := baseValue(schema, 0)
	n := 0
	for _, leaf := range leaves {
		raw, err := json.Marshal(setAt(clone(base), leaf))
		require.NoError(t, err)
		texts := append(slices.Clone(hostileJSON), randomHostile(rnd))
		for _, h := range texts {
			body := strings.ReplaceAll(string(raw), `"`+hostileMarker+`"`, h)
			r := s.callRaw(t, s.admin, method, path, body)
			require.Less(t, r.status, 500, "%s %s with %s: %s", method, path, body, r.body)
			n++
		}
	}
	return n
}

// fuzzQuery sends each string query parameter of the operation with each hostile text.
func (s *stack) fuzzQuery(t *testing.T, method, path string, op *openapi3.Operation) int {
	t.Helper()
	n := 0
	for _, p := range op.Parameters {
		if p.Value == nil || p.Value.In != "query" {
			continue
		}
		for _, h := range hostileRaw {
			var body any
			if method != "GET" {
				body = "{}"
			}
			r := s.call(t, s.admin, method, path+"?"+url.Values{p.Value.Name: {h}}.Encode(), body)
			require.Less(t, r.status, 500, "%s %s?%s=%q: %s", method, path, p.Value.Name, h, r.body)
			n++
		}
	}
	return n
}

// fuzzTelephony sends each callback parameter hostile, in the query string and in a JSON body,
// with the others valid (a new call id each time, so each request is a call of its own).
func (s *stack) fuzzTelephony(t *testing.T, pbx pbxSetup, method, path string, op *openapi3.Operation, rnd *rand.Rand) int {
	t.Helper()
	valid := func() map[string]string {
		return map[string]string{"token": pbx.pbxToken, "queueId": fmt.Sprint(pbx.queue), "clientNumber": "4733990777",
			"id": newCallID(), "callDate": "2026-11-21T10:00:00", "branchLine": "1", "transferDate": "2026-11-21T10:01:00",
			"completedDate": "2026-11-21T10:02:00", "link": "https://pbx.example/r", "Link": "https://pbx.example/r"}
	}
	n := 0
	for _, p := range op.Parameters {
		if p.Value == nil || p.Value.In != "query" || p.Value.Name == "token" {
			continue
		}
		name := p.Value.Name
		for _, h := range hostileRaw {
			q := url.Values{}
			for k, v := range valid() {
				q.Set(k, v)
			}
			q.Set(name, q.Get(name)+h)
			r := s.call(t, "", method, path+"?"+q.Encode(), nil)
			require.Less(t, r.status, 500, "%s %s=%q: %s", path, name, h, r.body)
			n++
		}
		for _, h := range append(slices.Clone(hostileJSON), randomHostile(rnd)) {
			fields := valid()
			token := fields["token"]
			delete(fields, "token")
			fields[name] = hostileMarker
			raw, err := json.Marshal(fields)
			require.NoError(t, err)
			body := strings.ReplaceAll(string(raw), `"`+hostileMarker+`"`, h)
			r := s.call(t, "", method, path+"?token="+url.QueryEscape(token), body)
			require.Less(t, r.status, 500, "%s body %s: %s", path, body, r.body)
			n++
		}
	}
	return n
}

// schemaLeaves lists the paths to every scalar in a schema: property names, "[]" for an array's
// item, "{}" for a map's value and "{key}" for a map's key.
func schemaLeaves(s *openapi3.Schema, path []string, depth int, out *[][]string) {
	if s == nil || depth > 6 {
		return
	}
	for _, refs := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		for _, r := range refs {
			schemaLeaves(r.Value, path, depth+1, out)
		}
	}
	add := func(p ...string) { *out = append(*out, append(slices.Clone(path), p...)) }
	switch {
	case len(s.Properties) > 0 || s.Type.Is("object"):
		names := make([]string, 0, len(s.Properties))
		for name := range s.Properties {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			schemaLeaves(s.Properties[name].Value, append(slices.Clone(path), name), depth+1, out)
		}
		if ap := s.AdditionalProperties; ap.Schema != nil || (ap.Has != nil && *ap.Has) {
			add("{key}")
			if ap.Schema != nil {
				schemaLeaves(ap.Schema.Value, append(slices.Clone(path), "{}"), depth+1, out)
			} else {
				add("{}")
			}
		}
	case s.Type.Is("array"):
		if s.Items != nil {
			schemaLeaves(s.Items.Value, append(slices.Clone(path), "[]"), depth+1, out)
		}
	case len(s.AllOf)+len(s.OneOf)+len(s.AnyOf) == 0 && len(path) > 0:
		add()
	}
}

// baseValue is a value of the schema with its required fields only: the smallest valid-looking
// body, so that a hostile field is checked with the others in place.
func baseValue(s *openapi3.Schema, depth int) any {
	if s == nil || depth > 6 {
		return nil
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	if s.Default != nil {
		return s.Default
	}
	for _, r := range s.AllOf {
		if v, ok := baseValue(r.Value, depth+1).(map[string]any); ok {
			return v
		}
	}
	switch {
	case len(s.Properties) > 0 || s.Type.Is("object"):
		m := map[string]any{}
		for _, name := range s.Required {
			if p := s.Properties[name]; p != nil {
				m[name] = baseValue(p.Value, depth+1)
			}
		}
		return m
	case s.Type.Is("array"):
		return []any{}
	case s.Type.Is("integer"), s.Type.Is("number"):
		return 1
	case s.Type.Is("boolean"):
		return false
	case s.Format == "date-time":
		return time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	case s.Format == "email":
		return "fuzz@example.com"
	}
	return "fuzz"
}

func clone(v any) any {
	raw, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}

// setAt puts the marker at the path, making the objects, arrays and maps on the way.
func setAt(cur any, path []string) any {
	if len(path) == 0 {
		return hostileMarker
	}
	switch path[0] {
	case "[]":
		var first any
		if a, ok := cur.([]any); ok && len(a) > 0 {
			first = a[0]
		}
		return []any{setAt(first, path[1:])}
	case "{}":
		return map[string]any{"k": setAt(nil, path[1:])}
	case "{key}":
		return map[string]any{hostileMarker: "v"}
	}
	m, _ := cur.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	m[path[0]] = setAt(m[path[0]], path[1:])
	return m
}

// randomHostile is a JSON string literal of 1 to 12 pieces of hostileRunes.
func randomHostile(rnd *rand.Rand) string {
	var b strings.Builder
	b.WriteByte('"')
	for range 1 + rnd.IntN(12) {
		b.WriteString(hostileRunes[rnd.IntN(len(hostileRunes))])
	}
	b.WriteByte('"')
	return b.String()
}
