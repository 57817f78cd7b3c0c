package integration

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// calendarJSON is the calendar as the API answers it.
type calendarJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Timezone string `json:"timezone"`
	Week     map[string][]struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"week"`
	Holidays []struct {
		Date      string `json:"date"`
		Name      string `json:"name"`
		Recurring bool   `json:"recurring"`
	} `json:"holidays"`
}

func (s *stack) calendarAudit(t *testing.T, id string) []string {
	t.Helper()
	var actions []string
	require.NoError(t, s.db.NewRaw("SELECT action FROM audit_log WHERE entity = 'calendar' AND entity_id = ? ORDER BY id", id).
		Scan(context.Background(), &actions))
	return actions
}

func TestCalendarLifecycle(t *testing.T) {
	s := env(t)
	tag := randomName("")
	name := "Office " + tag
	body := map[string]any{
		"name":     name,
		"timezone": "America/Sao_Paulo",
		"week": map[string]any{
			"monday": []map[string]string{{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}},
			"friday": []map[string]string{{"start": "22:00", "end": "02:00"}},
		},
		"holidays": []map[string]any{{"date": "2026-12-25", "name": "Christmas", "recurring": true}},
	}
	var cal calendarJSON
	s.call(t, s.admin, "POST", "/api/v1/calendars", body).expect(201).decode(&cal)
	require.NotEmpty(t, cal.ID)
	require.Equal(t, name, cal.Name)
	require.Equal(t, "America/Sao_Paulo", cal.Timezone)
	require.Len(t, cal.Week["monday"], 2)
	require.Equal(t, "02:00", cal.Week["friday"][0].End)
	require.Len(t, cal.Holidays, 1)
	require.True(t, cal.Holidays[0].Recurring)

	// Only name and timezone: week and holidays default to empty.
	var closed calendarJSON
	s.call(t, s.admin, "POST", "/api/v1/calendars", map[string]any{"name": "Closed " + tag, "timezone": "UTC"}).
		expect(201).decode(&closed)
	require.Empty(t, closed.Week)
	require.NotNil(t, closed.Holidays)

	var got calendarJSON
	s.call(t, s.admin, "GET", "/api/v1/calendars/"+cal.ID, nil).expect(200).decode(&got)
	require.Equal(t, cal, got)

	// List: filter by name, page by one.
	var pg struct {
		Data       []calendarJSON `json:"data"`
		NextCursor *string        `json:"next_cursor"`
	}
	s.call(t, s.admin, "GET", "/api/v1/calendars?q="+url.QueryEscape(tag), nil).expect(200).decode(&pg)
	require.Len(t, pg.Data, 2)
	require.Nil(t, pg.NextCursor)
	s.call(t, s.admin, "GET", "/api/v1/calendars?limit=1&q="+url.QueryEscape(tag), nil).expect(200).decode(&pg)
	require.Len(t, pg.Data, 1)
	require.NotNil(t, pg.NextCursor)
	first := pg.Data[0].ID
	s.call(t, s.admin, "GET", "/api/v1/calendars?limit=1&q="+url.QueryEscape(tag)+"&cursor="+*pg.NextCursor, nil).expect(200).decode(&pg)
	require.Len(t, pg.Data, 1)
	require.NotEqual(t, first, pg.Data[0].ID)
	s.call(t, s.admin, "GET", "/api/v1/calendars?q="+url.QueryEscape("Office "+tag), nil).expect(200).decode(&pg)
	require.Len(t, pg.Data, 1)
	require.Equal(t, cal.ID, pg.Data[0].ID)

	// Partial update: the name alone keeps the schedule.
	var upd calendarJSON
	s.call(t, s.admin, "PATCH", "/api/v1/calendars/"+cal.ID, map[string]any{"name": name + " HQ"}).expect(200).decode(&upd)
	require.Equal(t, name+" HQ", upd.Name)
	require.Equal(t, cal.Week, upd.Week)
	require.Equal(t, cal.Holidays, upd.Holidays)
	// The week replaces the week; the time zone changes.
	upd = calendarJSON{}
	s.call(t, s.admin, "PATCH", "/api/v1/calendars/"+cal.ID, map[string]any{"timezone": "Europe/Lisbon",
		"week": map[string]any{"saturday": []map[string]string{{"start": "10:00", "end": "24:00"}}}}).expect(200).decode(&upd)
	require.Equal(t, "Europe/Lisbon", upd.Timezone)
	require.Len(t, upd.Week, 1)
	require.Len(t, upd.Week["saturday"], 1)
	require.Len(t, upd.Holidays, 1)
	// The whole resulting calendar is checked: friday 22:00-02:00 would overlap saturday 00:00-...
	s.call(t, s.admin, "PATCH", "/api/v1/calendars/"+cal.ID, map[string]any{
		"week": map[string]any{"friday": []map[string]string{{"start": "22:00", "end": "02:00"}},
			"saturday": []map[string]string{{"start": "00:00", "end": "24:00"}}}}).
		expectError(422, "validation_failed", "week.friday[0]")
	s.call(t, s.admin, "PATCH", "/api/v1/calendars/"+cal.ID, map[string]any{"timezone": "Mars/Base"}).
		expectError(422, "validation_failed", "timezone")
	// A rejected change leaves the calendar as it was.
	got = calendarJSON{}
	s.call(t, s.admin, "GET", "/api/v1/calendars/"+cal.ID, nil).expect(200).decode(&got)
	require.Equal(t, upd, got)

	// Names are unique.
	s.call(t, s.admin, "POST", "/api/v1/calendars", map[string]any{"name": name + " HQ", "timezone": "UTC"}).
		expectError(409, "conflict")
	s.call(t, s.admin, "PATCH", "/api/v1/calendars/"+closed.ID, map[string]any{"name": name + " HQ"}).
		expectError(409, "conflict")

	// A calendar something refers to is not deleted (call groups will refer to calendars by a
	// foreign key; any foreign key gives the same answer).
	ref := "calendar_refs_" + tag
	_, err := s.db.ExecContext(context.Background(), fmt.Sprintf(
		"CREATE TABLE %s (calendar_id text REFERENCES calendars (id)); INSERT INTO %s VALUES ('%s')", ref, ref, closed.ID))
	require.NoError(t, err)
	s.call(t, s.admin, "DELETE", "/api/v1/calendars/"+closed.ID, nil).expectError(409, "conflict")
	s.call(t, s.admin, "GET", "/api/v1/calendars/"+closed.ID, nil).expect(200)
	_, err = s.db.ExecContext(context.Background(), "DROP TABLE "+ref)
	require.NoError(t, err)
	// A call group that uses the calendar (with or without a foreign key) keeps it too.
	var haveGroups bool
	require.NoError(t, s.db.NewRaw("SELECT to_regclass('call_groups') IS NOT NULL").Scan(context.Background(), &haveGroups))
	if haveGroups {
		group := "cg-" + tag
		_, err = s.db.ExecContext(context.Background(), "INSERT INTO call_groups (id, queue_id, name, calendar_id) VALUES (?, ?, ?, ?)",
			group, randomStart(), "Group "+tag, closed.ID)
		require.NoError(t, err)
		s.call(t, s.admin, "DELETE", "/api/v1/calendars/"+closed.ID, nil).expectError(409, "conflict")
		_, err = s.db.ExecContext(context.Background(), "DELETE FROM call_groups WHERE id = ?", group)
		require.NoError(t, err)
	}

	// Delete, with an Idempotency-Key replayed.
	key := header{"Idempotency-Key", "del-" + tag}
	r := s.call(t, s.admin, "DELETE", "/api/v1/calendars/"+cal.ID, nil, key).expect(204)
	require.Empty(t, r.body)
	r = s.call(t, s.admin, "DELETE", "/api/v1/calendars/"+cal.ID, nil, key).expect(204)
	require.Equal(t, "true", r.header.Get("Idempotent-Replayed"))
	s.call(t, s.admin, "GET", "/api/v1/calendars/"+cal.ID, nil).expectError(404, "not_found")
	s.call(t, s.admin, "DELETE", "/api/v1/calendars/"+cal.ID, nil).expectError(404, "not_found")
	s.call(t, s.admin, "PATCH", "/api/v1/calendars/"+cal.ID, map[string]any{"name": "x"}).expectError(404, "not_found")
	s.call(t, s.admin, "DELETE", "/api/v1/calendars/"+closed.ID, nil).expect(204)

	// Every write is audited; refused ones are not.
	require.Equal(t, []string{"create", "update", "update", "delete"}, s.calendarAudit(t, cal.ID))
	require.Equal(t, []string{"create", "delete"}, s.calendarAudit(t, closed.ID))
}

func TestCalendarBadInputs(t *testing.T) {
	s := env(t)
	tag := randomName("")
	n := 0
	valid := func(extra map[string]any) map[string]any {
		n++
		b := map[string]any{"name": fmt.Sprintf("Bad %s %d", tag, n), "timezone": "UTC"}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	day := func(d string, ivs ...[2]string) map[string]any {
		list := []map[string]string{}
		for _, iv := range ivs {
			list = append(list, map[string]string{"start": iv[0], "end": iv[1]})
		}
		return map[string]any{d: list}
	}
	var cal calendarJSON
	s.call(t, s.admin, "POST", "/api/v1/calendars", valid(nil)).expect(201).decode(&cal)

	cases := []struct {
		name, method, path string
		body               any
		status             int
		code               string
		field              string
	}{
		{"unknown zone", "POST", "/api/v1/calendars", valid(map[string]any{"timezone": "Mars/Base"}), 422, "validation_failed", "timezone"},
		{"no zone", "POST", "/api/v1/calendars", map[string]any{"name": "No zone " + tag}, 422, "validation_failed", "timezone"},
		{"no name", "POST", "/api/v1/calendars", map[string]any{"timezone": "UTC"}, 422, "validation_failed", "name"},
		{"blank name", "POST", "/api/v1/calendars", valid(map[string]any{"name": "  "}), 422, "validation_failed", "name"},
		{"overlap", "POST", "/api/v1/calendars", valid(map[string]any{"week": day("monday", [2]string{"09:00", "12:00"}, [2]string{"11:00", "13:00"})}), 422, "validation_failed", "week.monday[1]"},
		{"zero length", "POST", "/api/v1/calendars", valid(map[string]any{"week": day("tuesday", [2]string{"09:00", "09:00"})}), 422, "validation_failed", "week.tuesday[0]"},
		{"inverted into next day's hours", "POST", "/api/v1/calendars", valid(map[string]any{"week": map[string]any{
			"monday":  []map[string]string{{"start": "18:00", "end": "10:00"}},
			"tuesday": []map[string]string{{"start": "09:00", "end": "17:00"}}}}), 422, "validation_failed", "week.monday[0]"},
		{"bad clock", "POST", "/api/v1/calendars", valid(map[string]any{"week": day("monday", [2]string{"9am", "12:00"})}), 422, "validation_failed", "week.monday[0].start"},
		{"24:00 start", "POST", "/api/v1/calendars", valid(map[string]any{"week": day("monday", [2]string{"24:00", "12:00"})}), 422, "validation_failed", "week.monday[0].start"},
		{"bad day", "POST", "/api/v1/calendars", valid(map[string]any{"week": day("funday", [2]string{"09:00", "12:00"})}), 422, "validation_failed", "week.funday"},
		{"bad holiday date", "POST", "/api/v1/calendars", valid(map[string]any{"holidays": []map[string]any{{"date": "25/12/2026", "name": "Christmas"}}}), 422, "validation_failed", "holidays[0].date"},
		{"duplicate holiday", "POST", "/api/v1/calendars", valid(map[string]any{"holidays": []map[string]any{{"date": "2026-12-25"}, {"date": "2026-12-25"}}}), 422, "validation_failed", "holidays[1].date"},
		{"unknown field", "POST", "/api/v1/calendars", valid(map[string]any{"color": "blue"}), 422, "validation_failed", "color"},
		{"unknown interval field", "POST", "/api/v1/calendars", valid(map[string]any{"week": map[string]any{"monday": []map[string]string{{"start": "09:00", "finish": "10:00"}}}}), 422, "validation_failed", "finish"},
		{"wrong type", "POST", "/api/v1/calendars", valid(map[string]any{"week": []string{"monday"}}), 422, "validation_failed", "week"},
		{"malformed JSON", "POST", "/api/v1/calendars", `{"name":`, 400, "bad_request", ""},
		{"patch unknown field", "PATCH", "/api/v1/calendars/" + cal.ID, map[string]any{"isActive": false}, 422, "validation_failed", "isActive"},
		{"patch bad holiday", "PATCH", "/api/v1/calendars/" + cal.ID, map[string]any{"holidays": []map[string]any{{"date": "2026-02-30"}}}, 422, "validation_failed", "holidays[0].date"},
		{"bad limit", "GET", "/api/v1/calendars?limit=0", nil, 422, "validation_failed", "limit"},
		{"bad cursor", "GET", "/api/v1/calendars?cursor=!!", nil, 422, "validation_failed", "cursor"},
		{"no such calendar", "GET", "/api/v1/calendars/nope", nil, 404, "not_found", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.call(t, s.admin, tc.method, tc.path, tc.body)
			if tc.field == "" {
				r.expectError(tc.status, tc.code)
			} else {
				r.expectError(tc.status, tc.code, tc.field)
			}
		})
	}
	// Nothing was written but the one valid calendar.
	var count int
	require.NoError(t, s.db.NewRaw("SELECT count(*) FROM calendars WHERE name LIKE ?", "%"+tag+"%").Scan(context.Background(), &count))
	require.Equal(t, 1, count)
	var got calendarJSON
	s.call(t, s.admin, "GET", "/api/v1/calendars/"+cal.ID, nil).expect(200).decode(&got)
	require.Equal(t, cal, got)
}

func TestCalendarAccess(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	var cal calendarJSON
	s.call(t, s.admin, "POST", "/api/v1/calendars", map[string]any{"name": "Access " + randomName(""), "timezone": "UTC"}).
		expect(201).decode(&cal)
	body := map[string]any{"name": "Agent's " + randomName(""), "timezone": "UTC"}

	s.call(t, p.agentTok, "POST", "/api/v1/calendars", body).expectError(403, "forbidden")
	s.call(t, p.agentTok, "PATCH", "/api/v1/calendars/"+cal.ID, map[string]any{"name": "x"}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "DELETE", "/api/v1/calendars/"+cal.ID, nil).expectError(403, "forbidden")
	// Agents read configuration.
	s.call(t, p.agentTok, "GET", "/api/v1/calendars/"+cal.ID, nil).expect(200)
	s.call(t, p.agentTok, "GET", "/api/v1/calendars", nil).expect(200)
	// Customers do not.
	s.call(t, p.customerTok, "GET", "/api/v1/calendars/"+cal.ID, nil).expectError(403, "forbidden")
	s.call(t, p.customerTok, "GET", "/api/v1/calendars", nil).expectError(403, "forbidden")
	s.call(t, "", "GET", "/api/v1/calendars", nil).expectError(401, "unauthorized")
}
