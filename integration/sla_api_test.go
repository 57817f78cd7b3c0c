package integration

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// slaPolicyJSON is an SLA policy as the API answers it.
type slaPolicyJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	IsDefault bool   `json:"isDefault"`
	Rules     []struct {
		Condition            string  `json:"condition"`
		FirstResponseMinutes int     `json:"firstResponseMinutes"`
		ResolutionMinutes    int     `json:"resolutionMinutes"`
		Hours                string  `json:"hours"`
		CalendarID           *string `json:"calendarId"`
	} `json:"rules"`
	PauseStatuses  []string `json:"pauseStatuses"`
	WarningMinutes int      `json:"warningMinutes"`
	Version        int      `json:"version"`
}

type slaPolicyPage struct {
	Data       []slaPolicyJSON `json:"data"`
	NextCursor *string         `json:"next_cursor"`
}

// ticketSLAJSON is GET /tickets/{id}/sla.
type ticketSLAJSON struct {
	State            string     `json:"state"`
	ResponseDue      *time.Time `json:"responseDue"`
	SolutionDue      *time.Time `json:"solutionDue"`
	IsPaused         bool       `json:"isPaused"`
	RealResponseDate *time.Time `json:"realResponseDate"`
	PolicyID         *string    `json:"policyId"`
	ManualBy         *string    `json:"manualBy"`
	Events           []struct {
		Type    string     `json:"type"`
		Target  *string    `json:"target"`
		DueAt   *time.Time `json:"dueAt"`
		At      time.Time  `json:"at"`
		Reason  string     `json:"reason"`
		ActorID *string    `json:"actorId"`
	} `json:"events"`
}

// slaTicketJSON is the SLA part of the ticket JSON.
type slaTicketJSON struct {
	ID                     int64      `json:"id"`
	SLAPolicyID            *string    `json:"slaPolicyId"`
	SLAResponseDue         *time.Time `json:"slaResponseDue"`
	SLASolutionDue         *time.Time `json:"slaSolutionDue"`
	SLASolutionDueIsPaused bool       `json:"slaSolutionDueIsPaused"`
	SLARealResponseDate    *time.Time `json:"slaRealResponseDate"`
	SLAManualBy            *string    `json:"slaManualBy"`
	Overdue                bool       `json:"overdue"`
}

// dropSLAPoliciesAfter deletes, when the test ends, the policies whose name carries the tag, so
// that none of them outlives the test in the shared database.
func (s *stack) dropSLAPoliciesAfter(t *testing.T, tag string) {
	t.Cleanup(func() {
		_, _ = s.db.NewRaw("DELETE FROM sla_policies WHERE name LIKE ?", "%"+tag+"%").Exec(context.Background())
	})
}

func (s *stack) countSLAPolicies(t *testing.T, tag string) int {
	t.Helper()
	var n int
	require.NoError(t, s.db.NewRaw("SELECT count(*) FROM sla_policies WHERE name LIKE ?", "%"+tag+"%").Scan(context.Background(), &n))
	return n
}

func (s *stack) newCalendar(t *testing.T, name string) string {
	t.Helper()
	return s.call(t, s.admin, "POST", "/api/v1/calendars", map[string]any{"name": name, "timezone": "UTC",
		"week": map[string]any{"monday": []map[string]string{{"start": "09:00", "end": "18:00"}}}}).expect(201).obj()["id"].(string)
}

func TestSLAPolicyAPI(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("")
	s.dropSLAPoliciesAfter(t, tag)
	cal := s.newCalendar(t, "SLA hours "+tag)
	// The conditions match only a category no ticket has, and no policy here is the default:
	// other tests' tickets are unaffected.
	cond := fmt.Sprintf("ticket.category == 'sla-policy-%s'", tag)
	rule := func(mut func(map[string]any)) map[string]any {
		r := map[string]any{"condition": cond, "firstResponseMinutes": 60, "resolutionMinutes": 480, "hours": "business", "calendarId": cal}
		if mut != nil {
			mut(r)
		}
		return r
	}
	body := map[string]any{"name": "Gold " + tag, "isDefault": false, "rules": []any{rule(nil),
		map[string]any{"firstResponseMinutes": 0, "resolutionMinutes": 1440, "hours": "calendar"}},
		"pauseStatuses": []string{"Stopped"}, "warningMinutes": 45}

	var gold slaPolicyJSON
	s.call(t, s.admin, "POST", "/api/v1/sla-policies", body).expect(201).decode(&gold)
	require.NotEmpty(t, gold.ID)
	require.Equal(t, "Gold "+tag, gold.Name)
	require.False(t, gold.IsDefault)
	require.Len(t, gold.Rules, 2)
	require.Equal(t, cal, *gold.Rules[0].CalendarID)
	require.Nil(t, gold.Rules[1].CalendarID, "calendar hours need no calendar")
	require.Equal(t, "", gold.Rules[1].Condition)
	require.Equal(t, []string{"Stopped"}, gold.PauseStatuses)
	require.Equal(t, 45, gold.WarningMinutes)
	require.Equal(t, 1, gold.Version)

	// Defaults: pause in Stopped, warn 30 minutes ahead.
	var silver slaPolicyJSON
	s.call(t, s.admin, "POST", "/api/v1/sla-policies", map[string]any{"name": "Silver " + tag,
		"rules": []any{map[string]any{"condition": cond, "firstResponseMinutes": 120, "resolutionMinutes": 0, "hours": "calendar"}}}).
		expect(201).decode(&silver)
	require.Equal(t, []string{"Stopped"}, silver.PauseStatuses)
	require.Equal(t, 30, silver.WarningMinutes)
	require.False(t, silver.IsDefault)

	var got slaPolicyJSON
	s.call(t, p.agentTok, "GET", "/api/v1/sla-policies/"+gold.ID, nil).expect(200).decode(&got)
	require.Equal(t, gold, got, "agents read configuration")

	// List: filter by name, page by one.
	var pg slaPolicyPage
	s.call(t, s.admin, "GET", "/api/v1/sla-policies?q="+url.QueryEscape(tag), nil).expect(200).decode(&pg)
	require.Len(t, pg.Data, 2)
	require.Nil(t, pg.NextCursor)
	s.call(t, s.admin, "GET", "/api/v1/sla-policies?limit=1&q="+url.QueryEscape(tag), nil).expect(200).decode(&pg)
	require.Len(t, pg.Data, 1)
	require.Equal(t, gold.ID, pg.Data[0].ID)
	require.NotNil(t, pg.NextCursor)
	s.call(t, s.admin, "GET", "/api/v1/sla-policies?limit=1&q="+url.QueryEscape(tag)+"&cursor="+*pg.NextCursor, nil).
		expect(200).decode(&pg)
	require.Len(t, pg.Data, 1)
	require.Equal(t, silver.ID, pg.Data[0].ID)
	require.Nil(t, pg.NextCursor)

	// Update: version +1 on a change, not on a no-op.
	var upd slaPolicyJSON
	s.call(t, s.admin, "PATCH", "/api/v1/sla-policies/"+gold.ID, map[string]any{"warningMinutes": 15,
		"pauseStatuses": []string{"Stopped", "Resolved"}}).expect(200).decode(&upd)
	require.Equal(t, 2, upd.Version)
	require.Equal(t, 15, upd.WarningMinutes)
	require.Equal(t, []string{"Stopped", "Resolved"}, upd.PauseStatuses)
	require.Equal(t, gold.Rules, upd.Rules, "absent fields stay")
	s.call(t, s.admin, "PATCH", "/api/v1/sla-policies/"+gold.ID, map[string]any{"warningMinutes": 15}).expect(200).decode(&upd)
	require.Equal(t, 2, upd.Version, "nothing changed")
	s.call(t, s.admin, "PATCH", "/api/v1/sla-policies/"+gold.ID, map[string]any{"rules": []any{rule(func(r map[string]any) {
		r["resolutionMinutes"] = 240
	})}}).expect(200).decode(&upd)
	require.Equal(t, 3, upd.Version)
	require.Len(t, upd.Rules, 1)
	require.Equal(t, 240, upd.Rules[0].ResolutionMinutes)
	require.Equal(t, []string{"create", "update", "update"}, s.auditActions(t, "sla_policy", gold.ID))

	// A custom status may pause too.
	status := "Waiting " + tag
	s.call(t, s.admin, "POST", "/api/v1/statuses", map[string]any{"name": status, "baseStatus": "Stopped"}).expect(201)
	s.call(t, s.admin, "PATCH", "/api/v1/sla-policies/"+silver.ID, map[string]any{"pauseStatuses": []string{status}}).
		expect(200).decode(&upd)
	require.Equal(t, []string{status}, upd.PauseStatuses)

	// Every bad input is a 422 naming its field, and nothing is saved.
	bad := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no name", map[string]any{"rules": []any{rule(nil)}}, "name"},
		{"blank name", map[string]any{"name": "  ", "rules": []any{rule(nil)}}, "name"},
		{"no rules", map[string]any{"name": "Bad " + tag}, "rules"},
		{"empty rules", map[string]any{"name": "Bad " + tag, "rules": []any{}}, "rules"},
		{"bad condition", map[string]any{"name": "Bad " + tag, "rules": []any{rule(nil), rule(func(r map[string]any) {
			r["condition"] = "ticket.urgency =="
		})}}, "rules[1].condition"},
		{"unknown variable", map[string]any{"name": "Bad " + tag, "rules": []any{rule(func(r map[string]any) {
			r["condition"] = "tickets.urgency == 'High'"
		})}}, "rules[0].condition"},
		{"negative response", map[string]any{"name": "Bad " + tag, "rules": []any{rule(func(r map[string]any) {
			r["firstResponseMinutes"] = -1
		})}}, "rules[0].firstResponseMinutes"},
		{"negative resolution", map[string]any{"name": "Bad " + tag, "rules": []any{rule(func(r map[string]any) {
			r["resolutionMinutes"] = -60
		})}}, "rules[0].resolutionMinutes"},
		{"no target", map[string]any{"name": "Bad " + tag, "rules": []any{rule(func(r map[string]any) {
			r["firstResponseMinutes"], r["resolutionMinutes"] = 0, 0
		})}}, "rules[0]"},
		{"minutes not an integer", map[string]any{"name": "Bad " + tag, "rules": []any{rule(func(r map[string]any) {
			r["resolutionMinutes"] = "8h"
		})}}, "rules[0].resolutionMinutes"},
		{"bad hours", map[string]any{"name": "Bad " + tag, "rules": []any{rule(func(r map[string]any) { r["hours"] = "weekdays" })}}, "rules[0].hours"},
		{"no hours", map[string]any{"name": "Bad " + tag, "rules": []any{rule(func(r map[string]any) { delete(r, "hours") })}}, "rules[0].hours"},
		{"business hours without calendar", map[string]any{"name": "Bad " + tag, "rules": []any{rule(func(r map[string]any) {
			delete(r, "calendarId")
		})}}, "rules[0].calendarId"},
		{"unknown calendar", map[string]any{"name": "Bad " + tag, "rules": []any{rule(func(r map[string]any) {
			r["calendarId"] = "no-such-calendar"
		})}}, "rules[0].calendarId"},
		{"unknown rule field", map[string]any{"name": "Bad " + tag, "rules": []any{rule(func(r map[string]any) { r["minutes"] = 5 })}}, "rules[0].minutes"},
		{"unknown pause status", map[string]any{"name": "Bad " + tag, "rules": []any{rule(nil)},
			"pauseStatuses": []string{"Stopped", "Sleeping " + tag}}, "pauseStatuses[1]"},
		{"warning too long", map[string]any{"name": "Bad " + tag, "rules": []any{rule(nil)}, "warningMinutes": 10081}, "warningMinutes"},
		{"negative warning", map[string]any{"name": "Bad " + tag, "rules": []any{rule(nil)}, "warningMinutes": -1}, "warningMinutes"},
		{"unknown field", map[string]any{"name": "Bad " + tag, "rules": []any{rule(nil)}, "default": true}, "default"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			r := s.call(t, s.admin, "POST", "/api/v1/sla-policies", b.body)
			r.expectError(422, "validation_failed", b.field)
			if b.field == "rules[1].condition" {
				_, fields := r.apiError()
				require.Contains(t, fields[b.field], "line 1, column", "the message says where")
			}
			require.Equal(t, 2, s.countSLAPolicies(t, tag), "nothing saved")
			// The same on update, which leaves the policy as it was.
			if _, ok := b.body["name"]; ok && b.field != "name" && len(b.body) > 1 {
				delete(b.body, "name")
				s.call(t, s.admin, "PATCH", "/api/v1/sla-policies/"+gold.ID, b.body).expectError(422, "validation_failed", b.field)
			}
		})
	}
	s.call(t, s.admin, "GET", "/api/v1/sla-policies/"+gold.ID, nil).expect(200).decode(&got)
	require.Equal(t, 3, got.Version, "no failed update changed it")

	// Names are unique.
	s.call(t, s.admin, "POST", "/api/v1/sla-policies", map[string]any{"name": "Silver " + tag, "rules": []any{rule(nil)}}).
		expectError(409, "conflict")
	s.call(t, s.admin, "PATCH", "/api/v1/sla-policies/"+gold.ID, map[string]any{"name": "Silver " + tag}).expectError(409, "conflict")

	// Permissions: agents read but do not write configuration; customers neither.
	s.call(t, p.agentTok, "POST", "/api/v1/sla-policies", map[string]any{"name": "Agent " + tag, "rules": []any{rule(nil)}}).
		expectError(403, "forbidden")
	s.call(t, p.agentTok, "PATCH", "/api/v1/sla-policies/"+gold.ID, map[string]any{"warningMinutes": 5}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "DELETE", "/api/v1/sla-policies/"+gold.ID, nil).expectError(403, "forbidden")
	s.call(t, p.customerTok, "GET", "/api/v1/sla-policies", nil).expectError(403, "forbidden")
	s.call(t, p.customerTok, "GET", "/api/v1/sla-policies/"+gold.ID, nil).expectError(403, "forbidden")

	// Delete really deletes.
	s.call(t, s.admin, "DELETE", "/api/v1/sla-policies/"+gold.ID, nil).expect(204)
	s.call(t, s.admin, "GET", "/api/v1/sla-policies/"+gold.ID, nil).expectError(404, "not_found")
	s.call(t, s.admin, "DELETE", "/api/v1/sla-policies/"+gold.ID, nil).expectError(404, "not_found")
	s.call(t, s.admin, "PATCH", "/api/v1/sla-policies/"+gold.ID, map[string]any{"warningMinutes": 5}).expectError(404, "not_found")
	require.Equal(t, []string{"create", "update", "update", "delete"}, s.auditActions(t, "sla_policy", gold.ID))
	s.call(t, s.admin, "DELETE", "/api/v1/sla-policies/"+silver.ID, nil).expect(204)
	require.Equal(t, 0, s.countSLAPolicies(t, tag))
}

// The single-default rule runs on a database of its own: making a policy the default changes
// the shared database's default, which other tests' tickets would follow.
func TestSLAPolicySingleDefault(t *testing.T) {
	s := newStack(t, stackOptions{})
	defer s.close()
	tag := randomName("")
	rule := map[string]any{"condition": "ticket.category == 'sla-default-" + tag + "'", "resolutionMinutes": 60,
		"firstResponseMinutes": 0, "hours": "calendar"}
	mk := func(name string, isDefault bool) slaPolicyJSON {
		var p slaPolicyJSON
		s.call(t, s.admin, "POST", "/api/v1/sla-policies", map[string]any{"name": name, "isDefault": isDefault,
			"rules": []any{rule}}).expect(201).decode(&p)
		return p
	}
	get := func(id string) slaPolicyJSON {
		var p slaPolicyJSON
		s.call(t, s.admin, "GET", "/api/v1/sla-policies/"+id, nil).expect(200).decode(&p)
		return p
	}
	defaults := func() []string {
		var pg slaPolicyPage
		s.call(t, s.admin, "GET", "/api/v1/sla-policies?isDefault=true", nil).expect(200).decode(&pg)
		var ids []string
		for _, p := range pg.Data {
			require.True(t, p.IsDefault)
			ids = append(ids, p.ID)
		}
		return ids
	}

	a := mk("A", true)
	require.True(t, a.IsDefault)
	require.Equal(t, []string{a.ID}, defaults())

	b := mk("B", true)
	require.True(t, b.IsDefault)
	require.Equal(t, []string{b.ID}, defaults(), "creating a default unsets the other")
	gotA := get(a.ID)
	require.False(t, gotA.IsDefault)
	require.Equal(t, 2, gotA.Version, "losing the default is a change")
	require.Equal(t, []string{"create", "update"}, s.auditActions(t, "sla_policy", a.ID))

	c := mk("C", false)
	require.Equal(t, []string{b.ID}, defaults(), "a non-default policy changes nothing")
	require.Equal(t, 1, get(b.ID).Version)

	var upd slaPolicyJSON
	s.call(t, s.admin, "PATCH", "/api/v1/sla-policies/"+c.ID, map[string]any{"isDefault": true}).expect(200).decode(&upd)
	require.True(t, upd.IsDefault)
	require.Equal(t, 2, upd.Version)
	require.Equal(t, []string{c.ID}, defaults(), "patching to default unsets the other")
	require.False(t, get(b.ID).IsDefault)
	require.Equal(t, 2, get(b.ID).Version)

	s.call(t, s.admin, "PATCH", "/api/v1/sla-policies/"+c.ID, map[string]any{"isDefault": false}).expect(200).decode(&upd)
	require.False(t, upd.IsDefault)
	require.Empty(t, defaults(), "no default at all is allowed")

	// Two made default at once: one default at the end (plain HTTP: the goroutines must not
	// stop the test).
	statuses := make(chan int, 2)
	for _, id := range []string{a.ID, b.ID} {
		go func() {
			req, _ := http.NewRequest("PATCH", s.base+"/api/v1/sla-policies/"+id, strings.NewReader(`{"isDefault":true}`))
			req.Header.Set("Authorization", "Bearer "+s.admin)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	for range 2 {
		require.Contains(t, []int{200, 409}, <-statuses)
	}
	require.Len(t, defaults(), 1)
}

// slaTicket creates a ticket no SLA policy claims (its category is unique) and sets its SLA
// columns directly. The row's seq is raised past anything its workflow would write while the
// test runs, so the workflow cannot overwrite the deadlines set here.
func (s *stack) slaTicket(t *testing.T, subject string, due *time.Time, paused bool) int64 {
	t.Helper()
	tk := s.createTicket(t, s.admin, map[string]any{"subject": subject, "category": "sla-list-" + randomName("")})
	_, err := s.db.NewRaw("UPDATE tickets SET sla_solution_due = ?, sla_solution_due_is_paused = ?, seq = seq + 1000 WHERE id = ?",
		due, paused, tk.ID).Exec(context.Background())
	require.NoError(t, err)
	return tk.ID
}

func TestSLATicketViews(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("")
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }

	// a: overdue; d: past due but paused; b: due later; c and f: no deadline.
	a := s.slaTicket(t, "SLA "+tag+" a", at(-2*time.Hour), false)
	d := s.slaTicket(t, "SLA "+tag+" d", at(-time.Hour), true)
	b := s.slaTicket(t, "SLA "+tag+" b", at(2*time.Hour), false)
	c := s.slaTicket(t, "SLA "+tag+" c", nil, false)
	f := s.slaTicket(t, "SLA "+tag+" f", nil, false)

	list := func(query string) []slaTicketJSON {
		var pg struct {
			Data []slaTicketJSON `json:"data"`
		}
		s.call(t, s.admin, "GET", "/api/v1/tickets?limit=100&q="+url.QueryEscape(tag)+query, nil).expect(200).decode(&pg)
		return pg.Data
	}
	ids := func(ts []slaTicketJSON) []int64 {
		out := []int64{}
		for _, tk := range ts {
			out = append(out, tk.ID)
		}
		return out
	}

	// The computed overdue, in lists and on the ticket.
	all := list("&sort=id&order=asc")
	require.Equal(t, []int64{a, d, b, c, f}, ids(all))
	require.True(t, all[0].Overdue)
	require.Equal(t, *at(-2 * time.Hour), all[0].SLASolutionDue.UTC())
	require.False(t, all[1].Overdue, "paused")
	require.True(t, all[1].SLASolutionDueIsPaused)
	require.False(t, all[2].Overdue)
	require.False(t, all[3].Overdue)
	require.Nil(t, all[3].SLASolutionDue)
	var one slaTicketJSON
	s.call(t, s.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d", a), nil).expect(200).decode(&one)
	require.True(t, one.Overdue)

	// Filters.
	require.Equal(t, []int64{a}, ids(list("&overdue=true")))
	require.ElementsMatch(t, []int64{d, b, c, f}, ids(list("&overdue=false")))
	from, to := url.QueryEscape(now.Add(-90*time.Minute).Format(time.RFC3339)), url.QueryEscape(now.Add(3*time.Hour).Format(time.RFC3339))
	require.ElementsMatch(t, []int64{d, b}, ids(list("&slaSolutionDueFrom="+from+"&slaSolutionDueTo="+to)))
	require.ElementsMatch(t, []int64{a, d}, ids(list("&slaSolutionDueTo="+url.QueryEscape(now.Format(time.RFC3339)))))
	s.call(t, s.admin, "GET", "/api/v1/tickets?overdue=maybe", nil).expectError(422, "validation_failed", "overdue")
	s.call(t, s.admin, "GET", "/api/v1/tickets?slaSolutionDueFrom=today", nil).expectError(422, "validation_failed", "slaSolutionDueFrom")

	// Sort by solution deadline, nulls last in either order; cursor paging crosses the nulls.
	require.Equal(t, []int64{a, d, b, c, f}, ids(list("&sort=slaSolutionDue&order=asc")))
	require.Equal(t, []int64{b, d, a, f, c}, ids(list("&sort=slaSolutionDue&order=desc")))
	for _, order := range []string{"asc", "desc"} {
		for _, limit := range []int{1, 2, 3} {
			var got []int64
			cursor := ""
			for range 10 {
				var pg struct {
					Data       []slaTicketJSON `json:"data"`
					NextCursor *string         `json:"next_cursor"`
				}
				path := fmt.Sprintf("/api/v1/tickets?sort=slaSolutionDue&order=%s&limit=%d&q=%s%s", order, limit, url.QueryEscape(tag), cursor)
				s.call(t, s.admin, "GET", path, nil).expect(200).decode(&pg)
				got = append(got, ids(pg.Data)...)
				if pg.NextCursor == nil {
					break
				}
				cursor = "&cursor=" + *pg.NextCursor
			}
			want := []int64{a, d, b, c, f}
			if order == "desc" {
				want = []int64{b, d, a, f, c}
			}
			require.Equal(t, want, got, "order %s, limit %d", order, limit)
		}
	}

	// GET /tickets/{id}/sla.
	sla := func(id int64) ticketSLAJSON {
		var v ticketSLAJSON
		s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", id), nil).expect(200).decode(&v)
		return v
	}
	none := sla(c)
	require.Equal(t, "none", none.State)
	require.Nil(t, none.SolutionDue)
	require.Nil(t, none.PolicyID)
	require.NotNil(t, none.Events)
	require.Empty(t, none.Events)
	require.Equal(t, "on_hold", sla(d).State)
	later := "on_time"
	if now.Add(2*time.Hour).Day() == now.Day() {
		later = "due_today" // before the end of the UTC day
	}
	require.Equal(t, later, sla(b).State)

	// Events, oldest first.
	for i, e := range []struct{ typ, target string }{{"applied", "resolution"}, {"warning", "resolution"}, {"breached", "resolution"}} {
		_, err := s.db.NewRaw("INSERT INTO sla_events (ticket_id, type, target, due_at, at, reason, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
			a, e.typ, e.target, *at(-2 * time.Hour), now.Add(time.Duration(i-3)*time.Hour), "test "+e.typ, fmt.Sprintf("test/%d/%d", a, i)).Exec(ctx)
		require.NoError(t, err)
	}
	over := sla(a)
	require.Equal(t, "overdue", over.State)
	require.Equal(t, *at(-2 * time.Hour), over.SolutionDue.UTC())
	require.False(t, over.IsPaused)
	require.Len(t, over.Events, 3)
	require.Equal(t, []string{"applied", "warning", "breached"}, []string{over.Events[0].Type, over.Events[1].Type, over.Events[2].Type})
	require.Equal(t, "resolution", *over.Events[2].Target)
	require.Nil(t, over.Events[0].ActorID)

	// Staff only; unknown tickets are 404.
	s.call(t, p.customerTok, "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", a), nil).expectError(403, "forbidden")
	mine := s.createTicket(t, p.customerTok, map[string]any{"subject": "SLA " + tag + " mine"})
	s.call(t, p.customerTok, "GET", fmt.Sprintf("/api/v1/tickets/%d/sla", mine.ID), nil).expectError(403, "forbidden")
	s.call(t, p.customerTok, "PUT", fmt.Sprintf("/api/v1/tickets/%d/sla", mine.ID), map[string]any{"solutionDue": now.Add(time.Hour)}).
		expectError(403, "forbidden")
	s.call(t, p.agentTok, "GET", "/api/v1/tickets/999999999999/sla", nil).expectError(404, "not_found")
	s.call(t, p.agentTok, "GET", "/api/v1/tickets/abc/sla", nil).expectError(404, "not_found")
}

func TestSLAManualDue(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("")
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "SLA manual " + tag, "category": "sla-manual-" + tag})
	path := fmt.Sprintf("/api/v1/tickets/%d/sla", tk.ID)
	created, err := time.Parse(time.RFC3339Nano, s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil).
		expect(200).obj()["createdAt"].(string))
	require.NoError(t, err)
	created = created.UTC()
	now := time.Now().UTC()

	// Bad input, refused before the workflow sees it.
	s.call(t, p.agentTok, "PUT", path, map[string]any{}).expectError(422, "validation_failed", "solutionDue")
	s.call(t, p.agentTok, "PUT", path, map[string]any{"reason": "no date"}).expectError(422, "validation_failed", "solutionDue")
	s.call(t, p.agentTok, "PUT", path, map[string]any{"solutionDue": "tomorrow"}).expectError(422, "validation_failed", "solutionDue")
	s.call(t, p.agentTok, "PUT", path, map[string]any{"responseDue": "2000-01-01T00:00:00Z"}).expectError(422, "validation_failed", "responseDue")
	s.call(t, p.agentTok, "PUT", path, map[string]any{"solutionDue": now.AddDate(1, 0, 2).Format(time.RFC3339)}).
		expectError(422, "validation_failed", "solutionDue")
	s.call(t, p.agentTok, "PUT", path, map[string]any{"solutionDue": now.Add(time.Hour).Format(time.RFC3339), "due": "x"}).
		expectError(422, "validation_failed", "due")
	s.call(t, p.agentTok, "PUT", "/api/v1/tickets/999999999999/sla", map[string]any{"solutionDue": now.Add(time.Hour).Format(time.RFC3339)}).
		expectError(404, "not_found")
	require.Nil(t, s.slaRow(t, tk.ID).SLASolutionDue, "nothing changed")

	// Set by hand, through the workflow.
	solution := now.Add(3 * time.Hour).Truncate(time.Second)
	response := now.Add(30 * time.Minute).Truncate(time.Second)
	var got slaTicketJSON
	s.call(t, p.agentTok, "PUT", path, map[string]any{"solutionDue": solution.Format(time.RFC3339),
		"responseDue": response.Format(time.RFC3339), "reason": "customer asked " + tag}).expect(200).decode(&got)
	require.Equal(t, solution, got.SLASolutionDue.UTC())
	require.Equal(t, response, got.SLAResponseDue.UTC())
	require.NotNil(t, got.SLAManualBy)
	require.Equal(t, p.agent, *got.SLAManualBy)
	require.False(t, got.Overdue)

	v := ticketSLAJSON{}
	s.call(t, s.admin, "GET", path, nil).expect(200).decode(&v)
	require.Equal(t, p.agent, *v.ManualBy)
	want := "on_time" // the nearest deadline is the response one
	if response.Day() == now.Day() {
		want = "due_today"
	}
	require.Equal(t, want, v.State)
	var reasons []string
	for _, e := range v.Events {
		if e.Type == "manual" {
			reasons = append(reasons, e.Reason)
			require.Equal(t, p.agent, *e.ActorID)
		}
	}
	require.Equal(t, []string{"customer asked " + tag, "customer asked " + tag}, reasons)

	// A deadline already past is allowed (not before the ticket was created): the ticket is
	// overdue at once.
	past := created.Add(time.Millisecond)
	time.Sleep(time.Until(past.Add(10 * time.Millisecond)))
	s.call(t, p.agentTok, "PUT", path, map[string]any{"solutionDue": past.Format(time.RFC3339Nano)}).expect(200).decode(&got)
	require.Equal(t, past, got.SLASolutionDue.UTC())
	require.Equal(t, response, got.SLAResponseDue.UTC(), "an absent field stays")
	require.True(t, got.Overdue)
	s.call(t, s.admin, "GET", path, nil).expect(200).decode(&v)
	require.Equal(t, "overdue", v.State)
}

func (s *stack) slaRow(t *testing.T, id int64) slaTicketJSON {
	t.Helper()
	var tk slaTicketJSON
	s.call(t, s.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d", id), nil).expect(200).decode(&tk)
	return tk
}
