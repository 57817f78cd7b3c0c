package integration

import (
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"crypto/rand"

	"github.com/stretchr/testify/require"
)

// pbxSetup is a call group with two agents and a telephony token, as a PBX integration has.
type pbxSetup struct {
	people
	queue    int64
	groupID  string
	pbxToken string
	caller   string // a customer whose phone is (47) 3399-0777
}

func (s *stack) newPBX(t *testing.T, extra map[string]any) pbxSetup {
	t.Helper()
	p := pbxSetup{people: s.newPeople(t)}
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
	p.queue = n.Int64() + 1
	group := map[string]any{"queueId": p.queue, "name": "Support " + p.team[:8],
		"members": []map[string]any{{"agentId": p.agent, "extension": "5252"}, {"agentId": p.agent2, "extension": "5253"}}}
	for k, v := range extra {
		group[k] = v
	}
	p.groupID = s.call(t, s.admin, "POST", "/api/v1/call-groups", group).expect(201).obj()["id"].(string)
	p.pbxToken = s.call(t, s.admin, "POST", "/api/v1/persons/"+s.adminID(t)+"/tokens",
		map[string]any{"name": "pbx", "scopes": []string{"telephony"}}).expect(201).obj()["token"].(string)
	p.caller = s.call(t, s.admin, "PATCH", "/api/v1/persons/"+p.customer, map[string]any{"phones": []string{"(47) 3399-" + randomDigits(4)}}).
		expect(200).obj()["phones"].([]any)[0].(string)
	return p
}

func randomDigits(n int) string {
	var b strings.Builder
	for range n {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b.WriteString(d.String())
	}
	return b.String()
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// setStatus puts an agent online in Switchboard and on the phone system (or not).
func (s *stack) setStatus(t *testing.T, token, agent string, online, phone bool) {
	t.Helper()
	s.call(t, token, "PUT", "/api/v1/agents/"+agent+"/telephony", map[string]any{"online": online, "phoneOnline": phone}).expect(200)
}

// pbx sends a callback the way the seed's examples do: POST with the parameters in the query.
func (s *stack) pbx(t *testing.T, token, method string, params ...string) *resp {
	t.Helper()
	q := url.Values{}
	if token != "" {
		q.Set("token", token)
	}
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	return s.call(t, "", "POST", "/public/v1/"+method+"?"+q.Encode(), nil)
}

func (r *resp) text() string { return string(r.body) }

func newCallID() string { return randomName("call-") }

// callState polls GET /calls/{id} until the call reaches a state.
func (s *stack) callState(t *testing.T, id, state string) map[string]any {
	t.Helper()
	var call map[string]any
	eventually(t, 20*time.Second, func() bool {
		r := s.call(t, s.admin, "GET", "/api/v1/calls/"+id, nil)
		if r.status != 200 {
			return false
		}
		call = r.obj()
		return call["state"] == state && (state == "offered" || state == "ongoing" || state == "queued" || call["ticketId"] != nil || state == "no_end")
	}, "call "+id+" reaches "+state)
	return call
}

// sse reads an agent's event stream.
type sse struct {
	events chan string
	cancel func()
}

// stream opens the agent's /api/v1/stream and answers its events' names.
func (s *stack) stream(t *testing.T, token string) *sse {
	t.Helper()
	frames := s.agentFrames(t, token)
	out := &sse{events: make(chan string, 16), cancel: frames.cancel}
	go func() {
		for ev := range frames.events {
			out.events <- ev.Event
		}
	}()
	return out
}

func (e *sse) next(t *testing.T) string {
	t.Helper()
	select {
	case ev := <-e.events:
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event on the agent's stream")
		return ""
	}
}

// Happy path: received, transferred, completed; the agent's screen opens and closes; the
// ticket has origin 13, the agent as owner, the caller as client and the recording.
func TestCallHappyPath(t *testing.T) {
	s := env(t)
	p := s.newPBX(t, nil)
	s.setStatus(t, p.agentTok, p.agent, true, true)
	s.setStatus(t, p.agent2Tok, p.agent2, true, true)
	screen := s.stream(t, p.agentTok)
	id := newCallID()

	r := s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", fmt.Sprint(p.queue), "clientNumber", digits(p.caller), "id", id, "callDate", "2018-5-1T17:00:00").expect(200)
	require.Equal(t, "5252", r.text(), "the first agent in the group's order")
	require.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "text/plain"))
	s.callState(t, id, "offered")

	s.pbx(t, p.pbxToken, "asterisk_transferedCall", "id", id, "branchLine", "5252", "transferDate", "2018-5-1T17:02:00").expect(200)
	require.Equal(t, "call.transferred", screen.next(t))
	eventually(t, 10*time.Second, func() bool {
		return s.call(t, p.agentTok, "GET", "/api/v1/agents/"+p.agent+"/telephony", nil).expect(200).obj()["onCall"] == true
	}, "the agent is on the call")

	s.pbx(t, p.pbxToken, "asterisk_completedCall", "id", id, "link", "https://rec.example/3", "completedDate", "2018-5-1T17:20:00").expect(200)
	require.Equal(t, "call.ended", screen.next(t))
	call := s.callState(t, id, "completed")
	require.EqualValues(t, 120, call["waitingSeconds"])
	require.EqualValues(t, 1080, call["talkSeconds"])
	require.Equal(t, p.customer, call["callerId"])
	require.Equal(t, false, s.call(t, p.agentTok, "GET", "/api/v1/agents/"+p.agent+"/telephony", nil).expect(200).obj()["onCall"])

	tk := s.ticket(t, p.agentTok, int64(call["ticketId"].(float64)))
	require.Equal(t, 13, tk.Origin)
	require.Equal(t, p.agent, *tk.OwnerID)
	require.Equal(t, []string{p.customer}, tk.ClientIDs)
	require.Contains(t, tk.Actions[0].Body, "Recording: https://rec.example/3")
	require.Contains(t, tk.Actions[0].Body, "Talk time: 18m0s")
	require.Equal(t, "internal", tk.Actions[0].Type)
	// The caller sees their call's ticket, but not the extension, queue or recording.
	asCaller := s.ticket(t, p.customerTok, tk.ID)
	require.Empty(t, asCaller.Actions)
	require.Zero(t, asCaller.ActionCount)

	// A recording link sent afterwards is added to the same ticket.
	s.pbx(t, p.pbxToken, "setMadeCallLink", "id", id, "Link", "https://rec.example/3-final").expect(200)
	eventually(t, 10*time.Second, func() bool { return s.ticket(t, p.agentTok, tk.ID).ActionCount == 2 }, "link action")
	// Supervisors list calls and see the timeline.
	list := s.call(t, s.admin, "GET", "/api/v1/calls?queueId="+fmt.Sprint(p.queue), nil).expect(200).obj()
	require.Len(t, list["data"], 1)
	// The call's workflow records the link event a moment after the ticket's action.
	want := []string{"received", "offered", "transferred", "completed", "link"}
	var types []string
	eventually(t, 10*time.Second, func() bool {
		types = []string{}
		for _, e := range s.call(t, s.admin, "GET", "/api/v1/calls/"+id, nil).obj()["events"].([]any) {
			types = append(types, e.(map[string]any)["type"].(string))
		}
		return slices.Equal(want, types)
	}, "the call's timeline")
	require.Equal(t, want, types)
}

// Alternative 1: codes 0, 1 and 2, then the PBX reports a missed call: origin 15.
func TestCallMissedAfterCodes(t *testing.T) {
	s := env(t)
	// 2018-05-01 is a Tuesday: a holiday in the first group's calendar; outside the second's hours.
	holiday := s.call(t, s.admin, "POST", "/api/v1/calendars", map[string]any{"name": randomName("holiday-"), "timezone": "UTC",
		"week":     map[string]any{"tuesday": []map[string]any{{"start": "08:00", "end": "18:00"}}},
		"holidays": []map[string]any{{"date": "2018-05-01", "name": "Labour Day", "recurring": true}}}).expect(201).obj()["id"]
	closed := s.call(t, s.admin, "POST", "/api/v1/calendars", map[string]any{"name": randomName("hours-"), "timezone": "UTC",
		"week": map[string]any{"tuesday": []map[string]any{{"start": "08:00", "end": "12:00"}}}}).expect(201).obj()["id"]
	cases := []struct {
		extra map[string]any
		code  string
	}{
		{map[string]any{"calendarId": holiday}, "0"},
		{map[string]any{"calendarId": closed}, "1"},
		{nil, "2"}, // nobody online
	}
	for _, c := range cases {
		p := s.newPBX(t, c.extra)
		s.setStatus(t, p.agentTok, p.agent, true, true)
		if c.code == "2" {
			s.setStatus(t, p.agentTok, p.agent, false, true)
		}
		id := newCallID()
		r := s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", fmt.Sprint(p.queue), "clientNumber", "5511999990000", "id", id, "callDate", "2018-5-1T17:00").expect(200)
		require.Equal(t, c.code, r.text())
		s.pbx(t, p.pbxToken, "asterisk_lostCall", "id", id, "link", "https://msg.example/"+id, "completedDate", "2018-5-1T17:03:00").expect(200)
		call := s.callState(t, id, "missed")
		tk := s.ticket(t, s.admin, int64(call["ticketId"].(float64)))
		require.Equal(t, 15, tk.Origin)
		require.Nil(t, tk.OwnerID)
		require.Empty(t, tk.ClientIDs, "unknown caller")
		require.Contains(t, tk.Actions[0].Body, "unknown caller")
		require.Contains(t, tk.Actions[0].Body, "Message left: https://msg.example/"+id)
	}
	// Code 3: online in Switchboard, not on the phone system.
	p := s.newPBX(t, nil)
	s.setStatus(t, p.agentTok, p.agent, true, false)
	require.Equal(t, "3", s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", fmt.Sprint(p.queue), "clientNumber", "1", "id", newCallID(), "callDate", "2018-5-1T17:00").expect(200).text())
}

// Alternatives 2 and 3: all agents busy (4); when one is free the call goes through; another
// caller gives up: canceled, origin 16.
func TestCallBusyThenTransferredOrAbandoned(t *testing.T) {
	s := env(t)
	p := s.newPBX(t, nil)
	s.setStatus(t, p.agentTok, p.agent, true, true)
	q := fmt.Sprint(p.queue)
	first := newCallID()
	require.Equal(t, "5252", s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", q, "clientNumber", "100", "id", first, "callDate", "2018-5-1T17:00").expect(200).text())
	s.pbx(t, p.pbxToken, "asterisk_transferedCall", "id", first, "branchLine", "5252", "transferDate", "2018-5-1T17:01").expect(200)

	waiting, quitter := newCallID(), newCallID()
	require.Equal(t, "4", s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", q, "clientNumber", "200", "id", waiting, "callDate", "2018-5-1T17:02").expect(200).text())
	require.Equal(t, "4", s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", q, "clientNumber", "300", "id", quitter, "callDate", "2018-5-1T17:02").expect(200).text())
	require.Equal(t, "4", s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", q, "clientNumber", "200", "id", waiting, "callDate", "2018-5-1T17:02").expect(200).text())

	s.pbx(t, p.pbxToken, "asterisk_canceledCall", "id", quitter, "canceledDate", "2018-5-1T17:04").expect(200)
	s.pbx(t, p.pbxToken, "asterisk_completedCall", "id", first, "completedDate", "2018-5-1T17:05").expect(200)
	require.Equal(t, "5252", s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", q, "clientNumber", "200", "id", waiting, "callDate", "2018-5-1T17:02").expect(200).text())
	s.pbx(t, p.pbxToken, "asterisk_transferedCall", "id", waiting, "branchLine", "5252", "transferDate", "2018-5-1T17:06").expect(200)
	s.pbx(t, p.pbxToken, "asterisk_completedCall", "id", waiting, "completedDate", "2018-5-1T17:09").expect(200)

	abandoned := s.callState(t, quitter, "canceled")
	require.Equal(t, 16, s.ticket(t, s.admin, int64(abandoned["ticketId"].(float64))).Origin)
	done := s.callState(t, waiting, "completed")
	require.EqualValues(t, 240, done["waitingSeconds"])
	require.EqualValues(t, 180, done["talkSeconds"])
}

// Alternative 4: the PBX finds the extension unavailable and asks again: it gets the next
// different extension; round-robin continues across calls.
func TestCallNextExtensionAndRoundRobin(t *testing.T) {
	s := env(t)
	p := s.newPBX(t, nil)
	s.setStatus(t, p.agentTok, p.agent, true, true)
	s.setStatus(t, p.agent2Tok, p.agent2, true, true)
	q := fmt.Sprint(p.queue)
	id := newCallID()
	recv := func(id string) string {
		return s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", q, "clientNumber", "100", "id", id, "callDate", "2018-5-1T17:00").expect(200).text()
	}
	require.Equal(t, "5252", recv(id))
	require.Equal(t, "5253", recv(id), "the next different extension")
	require.Equal(t, "4", recv(id), "every free agent was tried")
	require.Equal(t, "5252", recv(id), "then a new round")
	s.pbx(t, p.pbxToken, "asterisk_transferedCall", "id", id, "branchLine", "5999", "transferDate", "2018-5-1T17:01").expectError(409, "conflict")
	s.pbx(t, p.pbxToken, "asterisk_transferedCall", "id", id, "branchLine", "5252", "transferDate", "2018-5-1T17:01").expect(200)
	s.pbx(t, p.pbxToken, "asterisk_completedCall", "id", id, "completedDate", "2018-5-1T17:02").expect(200)
	s.callState(t, id, "completed")

	// Round-robin: the next calls start after the last agent offered.
	order := []string{}
	for range 3 {
		c := newCallID()
		order = append(order, recv(c))
		s.pbx(t, p.pbxToken, "asterisk_canceledCall", "id", c, "canceledDate", "2018-5-1T17:03").expect(200)
	}
	require.Equal(t, []string{"5253", "5252", "5253"}, order)
}

// Under simultaneous calls, no two calls are offered the same free agent while another is free.
func TestCallSimultaneousCallsGetDifferentAgents(t *testing.T) {
	s := env(t)
	p := s.newPBX(t, nil)
	third := s.call(t, s.admin, "POST", "/api/v1/persons", map[string]any{"name": "Cy", "profile": "agent"}).expect(201).obj()["id"].(string)
	s.call(t, s.admin, "PATCH", "/api/v1/call-groups/"+p.groupID, map[string]any{"members": []map[string]any{
		{"agentId": p.agent, "extension": "5252"}, {"agentId": p.agent2, "extension": "5253"}, {"agentId": third, "extension": "5254"}}}).expect(200)
	for _, a := range []string{p.agent, p.agent2, third} {
		s.setStatus(t, s.admin, a, true, true)
	}
	var wg sync.WaitGroup
	got := make([]string, 3)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", fmt.Sprint(p.queue), "clientNumber", "1", "id", newCallID(), "callDate", "2018-5-1T17:00").expect(200).text()
		}()
	}
	wg.Wait()
	require.ElementsMatch(t, []string{"5252", "5253", "5254"}, got)
}

// With one free agent, two simultaneous calls are not both offered that agent: the agent is
// reserved for the call that got them, and the other call hears "all busy" (4) until the
// reservation ends. Run a few rounds: the race is decided by the group's row lock.
func TestCallOneFreeAgentIsOfferedToOneCall(t *testing.T) {
	s := env(t)
	p := s.newPBX(t, nil)
	s.setStatus(t, s.admin, p.agent, true, true)
	s.setStatus(t, s.admin, p.agent2, false, false)
	for round := range 3 {
		var wg sync.WaitGroup
		got := make([]string, 2)
		ids := []string{newCallID(), newCallID()}
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i] = s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", fmt.Sprint(p.queue), "clientNumber", "1",
					"id", ids[i], "callDate", "2018-5-1T17:00").expect(200).text()
			}()
		}
		wg.Wait()
		require.ElementsMatch(t, []string{"5252", "4"}, got, "round %d", round)
		// The call that heard 4 asks again: still 4 while the agent is reserved.
		waiting := ids[slices.Index(got, "4")]
		again := s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", fmt.Sprint(p.queue), "clientNumber", "1",
			"id", waiting, "callDate", "2018-5-1T17:00").expect(200).text()
		require.Equal(t, "4", again, "round %d", round)
		for _, id := range ids {
			s.pbx(t, p.pbxToken, "asterisk_canceledCall", "id", id, "canceledDate", "2018-5-1T17:01").expect(200)
		}
	}
}

// The same callback twice changes nothing; callbacks out of order are taken; conflicting ends
// are refused.
func TestCallDuplicatesAndOutOfOrder(t *testing.T) {
	s := env(t)
	p := s.newPBX(t, nil)
	s.setStatus(t, p.agentTok, p.agent, true, true)
	q := fmt.Sprint(p.queue)
	id := newCallID()
	s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", q, "clientNumber", "1", "id", id, "callDate", "2018-5-1T17:00").expect(200)
	// completed arrives before transferred
	s.pbx(t, p.pbxToken, "asterisk_completedCall", "id", id, "completedDate", "2018-5-1T17:10").expect(200)
	s.pbx(t, p.pbxToken, "asterisk_completedCall", "id", id, "completedDate", "2018-5-1T17:10").expect(200)
	s.pbx(t, p.pbxToken, "asterisk_transferedCall", "id", id, "branchLine", "5252", "transferDate", "2018-5-1T17:02").expect(200)
	s.pbx(t, p.pbxToken, "asterisk_canceledCall", "id", id, "canceledDate", "2018-5-1T17:11").expectError(409, "conflict")
	s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", q, "clientNumber", "1", "id", id, "callDate", "2018-5-1T17:00").expectError(409, "conflict")
	eventually(t, 20*time.Second, func() bool {
		c := s.call(t, s.admin, "GET", "/api/v1/calls/"+id, nil).obj()
		return c["state"] == "completed" && c["talkSeconds"] != nil && c["ticketId"] != nil
	}, "the late transfer fills in the talk time")
	c := s.call(t, s.admin, "GET", "/api/v1/calls/"+id, nil).obj()
	require.EqualValues(t, 480, c["talkSeconds"])
	ends := 0
	for _, e := range c["events"].([]any) {
		if e.(map[string]any)["type"] == "completed" {
			ends++
		}
	}
	require.Equal(t, 1, ends, "the repeated completion changed nothing")
	var n int
	require.NoError(t, s.db.NewRaw("SELECT count(*) FROM tickets WHERE custom_fields->>'callId' = ?", id).Scan(t.Context(), &n))
	require.Equal(t, 1, n, "one ticket per call id")

	// A duplicate receivedCall while ongoing returns the same extension.
	id2 := newCallID()
	s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", q, "clientNumber", "1", "id", id2, "callDate", "2018-5-1T17:20").expect(200)
	s.pbx(t, p.pbxToken, "asterisk_transferedCall", "id", id2, "branchLine", "5252", "transferDate", "2018-5-1T17:21").expect(200)
	require.Equal(t, "5252", s.pbx(t, p.pbxToken, "asterisk_receivedCall", "queueId", q, "clientNumber", "1", "id", id2, "callDate", "2018-5-1T17:20").expect(200).text())
	s.pbx(t, p.pbxToken, "asterisk_transferedCall", "id", id2, "branchLine", "5252", "transferDate", "2018-5-1T17:21").expect(200)
}

func TestCallBadInputs(t *testing.T) {
	s := env(t)
	p := s.newPBX(t, nil)
	q := fmt.Sprint(p.queue)
	ok := []string{"queueId", q, "clientNumber", "1", "id", newCallID(), "callDate", "2018-5-1T17:00"}
	without := func(name string) []string {
		out := []string{}
		for i := 0; i < len(ok); i += 2 {
			if ok[i] != name {
				out = append(out, ok[i], ok[i+1])
			}
		}
		return out
	}
	with := func(name, v string) []string { return append(without(name), name, v) }
	expect400 := func(param string, args []string) {
		t.Helper()
		r := s.pbx(t, p.pbxToken, "asterisk_receivedCall", args...)
		r.expectError(400, "bad_request")
		require.Contains(t, r.text(), param)
	}
	for _, name := range []string{"queueId", "clientNumber", "id", "callDate"} {
		expect400(name, without(name))
	}
	expect400("callDate", with("callDate", "2018-13-01T17:00"))
	expect400("callDate", with("callDate", "2018-2-30T17:00"))
	expect400("callDate", with("callDate", "01/05/2018 17:00"))
	expect400("queueId", with("queueId", "one"))
	expect400("queueId", with("queueId", "12345678901"))
	expect400("id", with("id", strings.Repeat("x", 257)))
	expect400("clientNumber", with("clientNumber", strings.Repeat("9", 129)))
	s.pbx(t, p.pbxToken, "asterisk_receivedCall", with("queueId", "999999999999"[:10])...).expectError(404, "not_found")
	s.pbx(t, "", "asterisk_receivedCall", ok...).expectError(401, "unauthorized")
	s.pbx(t, "sb_wrong", "asterisk_receivedCall", ok...).expectError(401, "unauthorized")
	s.pbx(t, p.customerTok, "asterisk_receivedCall", ok...).expectError(403, "forbidden")
	s.pbx(t, p.pbxToken, "asterisk_transferedCall", "id", "never-received", "branchLine", "5252", "transferDate", "2018-5-1T17:00").expectError(404, "not_found")
	s.pbx(t, p.pbxToken, "asterisk_completedCall", "id", "never-received", "completedDate", "2018-5-1T17:00").expectError(404, "not_found")
	s.pbx(t, p.pbxToken, "setMadeCallLink", "id", "never-received", "Link", "x").expectError(404, "not_found")
	s.pbx(t, p.pbxToken, "asterisk_completedCall", "id", "x", "completedDate", "2018-5-1T17:00", "link", strings.Repeat("l", 9000)).expectError(400, "bad_request")

	// Parameters may also come in a form or JSON body; dates with seconds or unpadded parts.
	form := url.Values{"token": {p.pbxToken}, "queueId": {q}, "clientNumber": {"1"}, "id": {newCallID()}, "callDate": {"2018-05-01T07:05"}}
	res, err := http.Post(s.base+"/public/v1/asterisk_receivedCall", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	body := fmt.Sprintf(`{"queueId": %s, "clientNumber": "1", "id": %q, "callDate": "2018-5-1T7:05:09"}`, q, newCallID())
	s.call(t, "", "POST", "/public/v1/asterisk_receivedCall?token="+url.QueryEscape(p.pbxToken), body).expect(200)

	// Call groups refuse bad members.
	s.call(t, s.admin, "POST", "/api/v1/call-groups", map[string]any{"name": "x", "queueId": p.queue}).expectError(409, "conflict")
	s.call(t, s.admin, "POST", "/api/v1/call-groups", map[string]any{"name": "x"}).expectError(422, "validation_failed", "queueId")
	s.call(t, s.admin, "POST", "/api/v1/call-groups", map[string]any{"name": "x", "queueId": p.queue + 1,
		"members": []map[string]any{{"agentId": p.customer, "extension": "1"}}}).expectError(422, "validation_failed", "members[0].agentId")
	s.call(t, s.admin, "POST", "/api/v1/call-groups", map[string]any{"name": "x", "queueId": p.queue + 1,
		"members": []map[string]any{{"agentId": p.agent, "extension": "1"}, {"agentId": p.agent2, "extension": "1"}}}).expectError(422, "validation_failed", "members[1].extension")
	s.call(t, s.admin, "POST", "/api/v1/call-groups", map[string]any{"name": "x", "queueId": p.queue + 1, "calendarId": "nope"}).
		expectError(422, "validation_failed", "calendarId")
	// Telephony status: agents set their own; not someone else's; customers have none.
	s.call(t, p.agentTok, "PUT", "/api/v1/agents/"+p.agent2+"/telephony", map[string]any{"online": true}).expectError(403, "forbidden")
	s.call(t, s.admin, "PUT", "/api/v1/agents/"+p.customer+"/telephony", map[string]any{"online": true}).expectError(404, "not_found")
	s.call(t, p.agentTok, "PUT", "/api/v1/agents/"+p.agent+"/telephony", map[string]any{}).expectError(422, "validation_failed", "online")
	s.call(t, p.customerTok, "GET", "/api/v1/calls", nil).expectError(403, "forbidden")
}
