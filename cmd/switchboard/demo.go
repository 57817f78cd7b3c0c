package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// runDemo seeds a demo workspace through the public API, the way an integrator would: two agents
// in a Support team, a customer organisation with one customer, a status that needs a
// justification, and a few tickets in different states. It does nothing when the workspace is
// there already.
func runDemo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "the API's base URL")
	token := fs.String("token", "", "an admin token")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *token == "" {
		return errors.New("--token is required (an admin token)")
	}
	d := &demo{base: strings.TrimRight(*base, "/") + "/api/v1", token: *token, http: &http.Client{Timeout: 60 * time.Second}}
	var existing struct {
		Data []map[string]any `json:"data"`
	}
	if err := d.call("GET", "/persons?email="+url.QueryEscape("ada@demo.switchboard.local"), nil, &existing); err != nil {
		return err
	}
	if len(existing.Data) > 0 {
		fmt.Println("demo workspace: already seeded")
		return d.printCustomerToken()
	}
	return d.seed()
}

type demo struct {
	base, token string
	http        *http.Client
}

func (d *demo) seed() error {
	var ada, bob, acme, carla, team map[string]any
	steps := []struct {
		path string
		body any
		out  *map[string]any
	}{
		{"/persons", map[string]any{"name": "Ada Agent", "profile": "agent", "emails": []string{"ada@demo.switchboard.local"}, "extension": "5252"}, &ada},
		{"/persons", map[string]any{"name": "Bob Agent", "profile": "agent", "emails": []string{"bob@demo.switchboard.local"}, "extension": "5253"}, &bob},
		{"/persons", map[string]any{"name": "Acme Corp", "kind": "organization", "profile": "customer"}, &acme},
	}
	for _, s := range steps {
		if err := d.call("POST", s.path, s.body, s.out); err != nil {
			return err
		}
	}
	if err := d.call("POST", "/persons", map[string]any{"name": "Carla Customer", "profile": "customer",
		"emails": []string{"carla@acme.example"}, "phones": []string{"+15550100"}, "organizationId": acme["id"],
		"seesOrganizationTickets": true}, &carla); err != nil {
		return err
	}
	if err := d.call("POST", "/teams", map[string]any{"name": "Support", "memberIds": []any{ada["id"], bob["id"]}}, &team); err != nil {
		return err
	}
	if err := d.call("POST", "/statuses", map[string]any{"name": "Waiting for customer", "baseStatus": "Stopped",
		"requiresJustification": true, "position": 35}, nil); err != nil {
		return err
	}
	tickets := []map[string]any{
		{"subject": "Cannot log in to the portal", "description": "Since this morning I get 'invalid password'.", "urgency": "High", "clientIds": []any{carla["id"]}, "tags": []string{"login"}},
		{"subject": "Invoice 2026-11 shows the wrong plan", "description": "We moved to Gold in October.", "urgency": "Medium", "clientIds": []any{carla["id"]}, "teamId": team["id"], "ownerId": ada["id"]},
		{"subject": "How do I export my tickets?", "description": "Looking for a CSV export.", "urgency": "Low", "clientIds": []any{acme["id"]}},
	}
	ids := make([]any, len(tickets))
	for i, t := range tickets {
		var created map[string]any
		if err := d.call("POST", "/tickets", t, &created); err != nil {
			return err
		}
		n, ok := created["id"].(float64) // JSON numbers decode as float64: print them as integers
		if !ok {
			return fmt.Errorf("POST /tickets answered no id: %v", created)
		}
		ids[i] = int64(n)
	}
	// Bob answers the ticket he owns himself: staff send public messages only on their tickets.
	var bobTok map[string]any
	if err := d.call("POST", fmt.Sprintf("/persons/%v/tokens", bob["id"]), map[string]any{"name": "demo"}, &bobTok); err != nil {
		return err
	}
	asBob := &demo{base: d.base, token: fmt.Sprint(bobTok["token"]), http: d.http}
	changes := []struct {
		as   *demo
		path string
		body any
	}{
		{d, fmt.Sprintf("/tickets/%v/status", ids[1]), map[string]any{"status": "InAttendance"}},
		{d, fmt.Sprintf("/tickets/%v/actions", ids[1]), map[string]any{"type": "internal", "body": "Billing confirms the plan change; fixing the invoice."}},
		{d, fmt.Sprintf("/tickets/%v/assign", ids[2]), map[string]any{"ownerId": bob["id"]}},
		{asBob, fmt.Sprintf("/tickets/%v/actions", ids[2]), map[string]any{"type": "public", "body": "Use **GET /api/v1/tickets** with your token; it pages by cursor."}},
		{asBob, fmt.Sprintf("/tickets/%v/status", ids[2]), map[string]any{"status": "Resolved"}},
	}
	for _, c := range changes {
		if err := c.as.call("POST", c.path, c.body, nil); err != nil {
			return err
		}
	}
	fmt.Printf("demo workspace: agents Ada (%v) and Bob (%v) in team Support, organisation Acme Corp with customer Carla, tickets %v\n",
		ada["id"], bob["id"], ids)
	return d.printCustomerToken()
}

// printCustomerToken mints a token for the demo customer, to try the customer's view.
func (d *demo) printCustomerToken() error {
	var found struct {
		Data []map[string]any `json:"data"`
	}
	if err := d.call("GET", "/persons?email="+url.QueryEscape("carla@acme.example"), nil, &found); err != nil || len(found.Data) == 0 {
		return err
	}
	var tok map[string]any
	if err := d.call("POST", fmt.Sprintf("/persons/%v/tokens", found.Data[0]["id"]), map[string]any{"name": "demo"}, &tok); err != nil {
		return err
	}
	fmt.Printf("demo customer token (Carla): %v\n", tok["token"])
	return nil
}

func (d *demo) call(method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, d.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}
