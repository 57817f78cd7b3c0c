package integration

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/schema"
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
	Exceptions []struct {
		Date      string `json:"date"`
		Name      string `json:"name"`
		Intervals []struct {
			Start string `json:"start"`
			End   string `json:"end"`
		} `json:"intervals"`
	} `json:"exceptions"`
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
		"exceptions": []map[string]any{
			{"date": "2026-12-24", "name": "Christmas Eve", "intervals": []map[string]string{{"start": "09:00", "end": "13:00"}}},
			{"date": "2026-11-21", "name": "Launch", "intervals": []map[string]string{{"start": "10:00", "end": "16:00"}}},
			{"date": "2026-12-25", "name": "Christmas morning", "intervals": []map[string]string{{"start": "09:00", "end": "12:00"}}},
			{"date": "2026-12-31", "name": "Closed"},
		},
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
	require.Len(t, cal.Exceptions, 4)
	require.Equal(t, "Christmas Eve", cal.Exceptions[0].Name)
	require.Equal(t, "13:00", cal.Exceptions[0].Intervals[0].End)
	require.Equal(t, "2026-12-25", cal.Exceptions[2].Date)
	require.NotNil(t, cal.Exceptions[3].Intervals, "a closing exception answers intervals []")
	require.Empty(t, cal.Exceptions[3].Intervals)
	// The stored calendar compiles, and its exceptions count: the Saturday opening is open, the
	// short Christmas Eve's afternoon is not, Christmas morning opens though it is a holiday.
	loaded, err := schema.LoadCalendar(context.Background(), s.db, cal.ID)
	require.NoError(t, err)
	loc := loaded.Location()
	require.True(t, loaded.IsOpen(time.Date(2026, 11, 21, 11, 0, 0, 0, loc)))
	require.False(t, loaded.IsOpen(time.Date(2026, 12, 24, 14, 0, 0, 0, loc)))
	require.True(t, loaded.IsOpen(time.Date(2026, 12, 25, 10, 0, 0, 0, loc)))
	require.False(t, loaded.IsHoliday(time.Date(2026, 12, 25, 10, 0, 0, 0, loc)))
	// Friday night's part after midnight falls on the Saturday exception's date and does not
	// happen; the Saturday opening counts.
	require.Equal(t, time.Date(2026, 11, 21, 10, 20, 0, 0, loc),
		loaded.AddBusinessMinutes(time.Date(2026, 11, 20, 23, 50, 0, 0, loc), 30).In(loc))

	// Only name and timezone: week and holidays default to empty.
	var closed calendarJSON
	s.call(t, s.admin, "POST", "/api/v1/calendars", map[string]any{"name": "Closed " + tag, "timezone": "UTC"}).
		expect(201).decode(&closed)
	require.Empty(t, closed.Week)
	require.NotNil(t, closed.Holidays)
	require.NotNil(t, closed.Exceptions, "exceptions are [], never null")
	require.Empty(t, closed.Exceptions)

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
	require.Equal(t, cal.Exceptions, upd.Exceptions)
	// The exceptions replace the exceptions.
	upd = calendarJSON{}
	s.call(t, s.admin, "PATCH", "/api/v1/calendars/"+cal.ID, map[string]any{"exceptions": []map[string]any{
		{"date": "2026-11-28", "name": "Second launch", "intervals": []map[string]string{{"start": "10:00", "end": "14:00"}}}}}).
		expect(200).decode(&upd)
	require.Len(t, upd.Exceptions, 1)
	require.Equal(t, "Second launch", upd.Exceptions[0].Name)
	require.Equal(t, cal.Holidays, upd.Holidays)
	// The week replaces the week; the time zone changes.
	upd = calendarJSON{}
	s.call(t, s.admin, "PATCH", "/api/v1/calendars/"+cal.ID, map[string]any{"timezone": "Europe/Lisbon",
		"week": map[string]any{"saturday": []map[string]string{{"start": "10:00", "end": "24:00"}}}}).expect(200).decode(&upd)
	require.Equal(t, "Europe/Lisbon", upd.Timezone)
	require.Len(t, upd.Week, 1)
	require.Len(t, upd.Week["saturday"], 1)
	require.Len(t, upd.Holidays, 1)
	require.Len(t, upd.Exceptions, 1)
	// The whole resulting calendar is checked: friday 22:00-02:00 would overlap saturday 00:00-...
	s.call(t, s.admin, "PATCH", "/api/v1/calendars/"+cal.ID, map[string]any{
		"week": map[string]any{"friday": []map[string]string{{"start": "22:00", "end": "02:00"}},
			"saturday": []map[string]string{{"start": "00:00", "end": "24:00"}}}}).
		expectError(422, "validation_failed", "week.friday[0]")
	s.call(t, s.admin, "PATCH", "/api/v1/calendars/"+cal.ID, map[string]any{"timezone": "Mars/Base"}).
		expectError(422, "validation_failed", "timezone")
	// The exceptions are checked against the week kept: a Friday-night exception would run past
	// midnight into Saturday's 10:00 opening.
	s.call(t, s.admin, "PATCH", "/api/v1/calendars/"+cal.ID, map[string]any{"exceptions": []map[string]any{
		{"date": "2026-11-27", "intervals": []map[string]string{{"start": "22:00", "end": "11:00"}}}}}).
		expectError(422, "validation_failed", "exceptions[0].intervals[0]")
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
	_, err = s.db.ExecContext(context.Background(), fmt.Sprintf(
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
	require.Equal(t, []string{"create", "update", "update", "update", "delete"}, s.calendarAudit(t, cal.ID))
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
	exceptions := func(es ...map[string]any) map[string]any { return map[string]any{"exceptions": es} }
	hourly := func(n int) []map[string]string {
		out := []map[string]string{}
		for i := range n {
			out = append(out, map[string]string{"start": fmt.Sprintf("%02d:00", i), "end": fmt.Sprintf("%02d:30", i)})
		}
		return out
	}
	manyExceptions := func(n int) []map[string]any {
		out := []map[string]any{}
		for i := range n {
			out = append(out, map[string]any{"date": time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)})
		}
		return out
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
		{"exception bad date", "POST", "/api/v1/calendars", valid(exceptions(map[string]any{"date": "24/12/2026"})), 422, "validation_failed", "exceptions[0].date"},
		{"exception no date", "POST", "/api/v1/calendars", valid(exceptions(map[string]any{"name": "Eve"})), 422, "validation_failed", "exceptions[0].date"},
		{"exception duplicate date", "POST", "/api/v1/calendars", valid(exceptions(map[string]any{"date": "2026-12-24"},
			map[string]any{"date": "2026-12-31"}, map[string]any{"date": "2026-12-24"})), 422, "validation_failed", "exceptions[2].date"},
		{"exception long name", "POST", "/api/v1/calendars", valid(exceptions(map[string]any{"date": "2026-12-24", "name": strings.Repeat("x", 201)})),
			422, "validation_failed", "exceptions[0].name"},
		{"exception bad clock", "POST", "/api/v1/calendars", valid(exceptions(map[string]any{"date": "2026-12-24",
			"intervals": []map[string]string{{"start": "9am", "end": "13:00"}}})), 422, "validation_failed", "exceptions[0].intervals[0].start"},
		{"exception zero length", "POST", "/api/v1/calendars", valid(exceptions(map[string]any{"date": "2026-12-24",
			"intervals": []map[string]string{{"start": "09:00", "end": "09:00"}}})), 422, "validation_failed", "exceptions[0].intervals[0]"},
		{"exception overlap", "POST", "/api/v1/calendars", valid(exceptions(map[string]any{"date": "2026-12-24"}, map[string]any{"date": "2026-12-23",
			"intervals": []map[string]string{{"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "14:00"}}})),
			422, "validation_failed", "exceptions[1].intervals[1]"},
		{"exception too many intervals", "POST", "/api/v1/calendars", valid(exceptions(map[string]any{"date": "2026-12-24", "intervals": hourly(13)})),
			422, "validation_failed", "exceptions[0].intervals"},
		{"too many exceptions", "POST", "/api/v1/calendars", valid(map[string]any{"exceptions": manyExceptions(501)}), 422, "validation_failed", "exceptions"},
		{"exception night into the next day's hours", "POST", "/api/v1/calendars", valid(map[string]any{
			"week":       day("monday", [2]string{"09:00", "17:00"}),
			"exceptions": []map[string]any{{"date": "2026-11-22", "intervals": []map[string]string{{"start": "22:00", "end": "10:00"}}}}}),
			422, "validation_failed", "exceptions[0].intervals[0]"},
		{"unknown exception field", "POST", "/api/v1/calendars", valid(exceptions(map[string]any{"date": "2026-12-24", "closed": true})), 422, "validation_failed", "closed"},
		{"exceptions wrong type", "POST", "/api/v1/calendars", valid(map[string]any{"exceptions": map[string]any{"2026-12-24": []string{}}}), 422, "validation_failed", "exceptions"},
		{"patch bad exception", "PATCH", "/api/v1/calendars/" + cal.ID, map[string]any{"exceptions": []map[string]any{{"date": "2026-02-30"}}}, 422, "validation_failed", "exceptions[0].date"},
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
