package api

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

type keysInner struct {
	AgentID string `json:"agentId"`
}

type keysBase struct {
	ID    string `json:"id"`
	Shade string `json:"shade"`
}

type keysOuter struct {
	keysBase
	TicketID *int64               `json:"ticketId"`
	Members  []keysInner          `json:"members"`
	ByName   map[string]keysInner `json:"byName"`
	Custom   map[string]any       `json:"customFields"`
	Raw      json.RawMessage      `json:"raw"`
	At       time.Time            `json:"at"`
	Shade    int                  `json:"SHADE"` // the outer field wins over the embedded one
	Plain    string
	Hidden   string `json:"-"`
}

func TestExactKeys(t *testing.T) {
	typ := reflect.TypeFor[*keysOuter]()
	cases := []struct {
		body, path, want string
	}{
		{`{"ticketId":1,"members":[{"agentId":"a"}],"id":"x","Plain":"p"}`, "", ""},
		{`{"ticketID":1}`, "ticketID", "ticketId"},
		{`{"TICKETID":1}`, "TICKETID", "ticketId"},
		{`{"ticketId":1,"ticketID":2}`, "ticketID", "ticketId"},
		{`{"members":[{"agentId":"a"},{"agentid":"b"}]}`, "members[1].agentid", "agentId"},
		{`{"byName":{"Any Key":{"AgentId":"a"}}}`, "byName.Any Key.AgentId", "agentId"},
		{`{"ID":"x"}`, "ID", "id"}, // promoted from the embedded struct
		{`{"plain":"p"}`, "plain", "Plain"},
		// Map keys are data; raw values, times and unknown keys are left to their decoders.
		{`{"customFields":{"Plan":"gold","plan":"x"},"raw":{"AnyThing":1},"at":"2026-01-01T00:00:00Z","priority":1}`, "", ""},
		{`{"shade":1}`, "", ""},           // the embedded string field, exact
		{`{"Shade":1}`, "Shade", "SHADE"}, // folds to the outer field, which hides the embedded one
		{`{"hidden":"h"}`, "", ""},        // no such field: the decoder refuses it as unknown
		{`not json`, "", ""},
		// A date-time that does not parse is named here: encoding/json's error names no field.
		{`{"at":"yesterday"}`, "at", ""},
		{`{"at":"2026-01-01"}`, "at", ""},
		{`{"at":"2026-01-01T00:00:00+01:00"}`, "", ""},
		{`{"at":null}`, "", ""},
		{`{"at":5}`, "at", ""},
	}
	for _, c := range cases {
		m := exactKeys([]byte(c.body), typ)
		switch {
		case c.path == "" && m != nil:
			t.Errorf("%s: refused %q (want %q), want accepted", c.body, m.path, m.want)
		case c.path != "" && m == nil:
			t.Errorf("%s: accepted, want %s refused", c.body, c.path)
		case c.path != "" && (m.path != c.path || m.want != c.want):
			t.Errorf("%s: refused %s (named %s), want %s (named %s)", c.body, m.path, m.want, c.path, c.want)
		}
	}
}

// strictJSON, used for the nested values decoded one by one (actions, rules, the timer),
// matches keys exactly too, and the error names the key.
func TestStrictJSONExactKeys(t *testing.T) {
	var v keysInner
	err := strictJSON([]byte(`{"agentID":"a"}`), &v)
	name, msg := jsonFieldError(err)
	if name != "agentID" || msg == "" || v.AgentID != "" {
		t.Fatalf("name %q msg %q value %+v", name, msg, v)
	}
}
