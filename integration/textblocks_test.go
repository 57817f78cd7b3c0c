package integration

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type textBlockJSON struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Body    string  `json:"body"`
	OwnerID *string `json:"ownerId"`
	Version int     `json:"version"`
}

type textBlockPage struct {
	Data       []textBlockJSON `json:"data"`
	NextCursor *string         `json:"next_cursor"`
}

func renderPath(ticketID int64, blockID string) string {
	return fmt.Sprintf("/api/v1/tickets/%d/text-blocks/%s/render", ticketID, blockID)
}

func blockIDs(bs []textBlockJSON) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.ID)
	}
	return out
}

func TestTextBlockAPI(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("")

	var shared, mine, theirs textBlockJSON
	s.call(t, s.admin, "POST", "/api/v1/text-blocks", map[string]any{"name": "Greeting " + tag, "shared": true,
		"body": "Hello {{customer.name}},"}).expect(201).decode(&shared)
	require.Nil(t, shared.OwnerID)
	require.Equal(t, 1, shared.Version)
	s.call(t, p.agentTok, "POST", "/api/v1/text-blocks", map[string]any{"name": "My sign-off " + tag,
		"body": "Regards, {{agent.name}}"}).expect(201).decode(&mine)
	require.Equal(t, p.agent, *mine.OwnerID)
	s.call(t, p.agent2Tok, "POST", "/api/v1/text-blocks", map[string]any{"name": "Bob's " + tag, "body": "Bob here"}).
		expect(201).decode(&theirs)

	// An agent writes no shared block; customers have none at all.
	s.call(t, p.agentTok, "POST", "/api/v1/text-blocks", map[string]any{"name": "x", "body": "x", "shared": true}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "PATCH", "/api/v1/text-blocks/"+shared.ID, map[string]any{"body": "x"}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "DELETE", "/api/v1/text-blocks/"+shared.ID, nil).expectError(403, "forbidden")
	s.call(t, p.customerTok, "GET", "/api/v1/text-blocks", nil).expectError(403, "forbidden")
	s.call(t, p.customerTok, "GET", "/api/v1/text-blocks/"+shared.ID, nil).expectError(403, "forbidden")
	s.call(t, p.customerTok, "POST", "/api/v1/text-blocks", map[string]any{"name": "x", "body": "x"}).expectError(403, "forbidden")

	// Visibility: shared and own; someone else's personal block does not exist.
	var pg textBlockPage
	s.call(t, p.agentTok, "GET", "/api/v1/text-blocks?q="+tag, nil).expect(200).decode(&pg)
	require.Equal(t, []string{shared.ID, mine.ID}, blockIDs(pg.Data))
	s.call(t, p.agent2Tok, "GET", "/api/v1/text-blocks?q="+tag, nil).expect(200).decode(&pg)
	require.Equal(t, []string{shared.ID, theirs.ID}, blockIDs(pg.Data))
	s.call(t, s.admin, "GET", "/api/v1/text-blocks?q="+tag, nil).expect(200).decode(&pg)
	require.Equal(t, []string{shared.ID}, blockIDs(pg.Data), "admins too see only shared and their own")
	s.call(t, p.agentTok, "GET", "/api/v1/text-blocks?shared=true&q="+tag, nil).expect(200).decode(&pg)
	require.Equal(t, []string{shared.ID}, blockIDs(pg.Data))
	s.call(t, p.agentTok, "GET", "/api/v1/text-blocks?shared=false&q="+tag, nil).expect(200).decode(&pg)
	require.Equal(t, []string{mine.ID}, blockIDs(pg.Data))
	s.call(t, p.agentTok, "GET", "/api/v1/text-blocks?limit=1&q="+tag, nil).expect(200).decode(&pg)
	require.Equal(t, []string{shared.ID}, blockIDs(pg.Data))
	s.call(t, p.agentTok, "GET", "/api/v1/text-blocks?limit=1&q="+tag+"&cursor="+*pg.NextCursor, nil).expect(200).decode(&pg)
	require.Equal(t, []string{mine.ID}, blockIDs(pg.Data))
	s.call(t, p.agentTok, "GET", "/api/v1/text-blocks/"+theirs.ID, nil).expectError(404, "not_found")
	s.call(t, p.agentTok, "PATCH", "/api/v1/text-blocks/"+theirs.ID, map[string]any{"body": "mine now"}).expectError(404, "not_found")
	s.call(t, p.agentTok, "DELETE", "/api/v1/text-blocks/"+theirs.ID, nil).expectError(404, "not_found")
	s.call(t, s.admin, "GET", "/api/v1/text-blocks/"+theirs.ID, nil).expectError(404, "not_found")
	var got textBlockJSON
	s.call(t, p.agentTok, "GET", "/api/v1/text-blocks/"+shared.ID, nil).expect(200).decode(&got)
	require.Equal(t, shared, got)

	// Update: version +1 on a change, none on a no-op; sharing does not change.
	var upd textBlockJSON
	s.call(t, p.agentTok, "PATCH", "/api/v1/text-blocks/"+mine.ID, map[string]any{"body": "Best, {{agent.name}}"}).expect(200).decode(&upd)
	require.Equal(t, 2, upd.Version)
	require.Equal(t, mine.Name, upd.Name)
	s.call(t, p.agentTok, "PATCH", "/api/v1/text-blocks/"+mine.ID, map[string]any{"body": "Best, {{agent.name}}"}).expect(200).decode(&upd)
	require.Equal(t, 2, upd.Version, "nothing changed")
	s.call(t, p.agentTok, "PATCH", "/api/v1/text-blocks/"+mine.ID, map[string]any{"shared": true}).expectError(422, "validation_failed", "shared")
	s.call(t, s.admin, "PATCH", "/api/v1/text-blocks/"+shared.ID, map[string]any{"name": "Hello " + tag}).expect(200).decode(&upd)
	require.Equal(t, 2, upd.Version)

	// Bad input: 422 naming the field, on create and update alike.
	for _, bad := range []struct {
		name, body, field, says string
	}{
		{"unknown placeholder", `{"name":"N","body":"Hi {{customer.nmae}}"}`, "body", "{{customer.nmae}}"},
		{"dotted field", `{"name":"N","body":"Hi {{.subject}}"}`, "body", "{{.subject}}"},
		{"unknown group", `{"name":"N","body":"Hi {{customer_name}}"}`, "body", "customer_name"},
		{"bad template", `{"name":"N","body":"Hi {{ticket.subject"}`, "body", "not a valid template"},
		{"no body", `{"name":"N"}`, "body", "is required"},
		{"blank body", `{"name":"N","body":"  "}`, "body", "is required"},
		{"body too long", `{"name":"N","body":"` + strings.Repeat("x", 65537) + `"}`, "body", "at most"},
		{"no name", `{"body":"x"}`, "name", "is required"},
		{"name too long", `{"name":"` + strings.Repeat("n", 201) + `","body":"x"}`, "name", "at most"},
		{"NUL in name", `{"name":"a\u0000","body":"x"}`, "name", "U+0000"},
		{"control in body", `{"name":"N","body":"x\u0007"}`, "body", "U+0007"},
		{"unknown key", `{"name":"N","body":"x","ownerId":"someone"}`, "ownerId", "unknown field"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			r := s.callRaw(t, p.agentTok, "POST", "/api/v1/text-blocks", bad.body)
			r.expectError(422, "validation_failed", bad.field)
			_, fields := r.apiError()
			require.Contains(t, fields[bad.field], bad.says)
			if bad.field == "body" && bad.name == "unknown placeholder" {
				require.Contains(t, fields["body"], "{{ticket.subject}}", "the allowed ones are listed")
				require.Contains(t, fields["body"], "{{customer.name}}")
			}
			if bad.field == "body" || bad.field == "name" {
				patch := strings.NewReplacer(`"name":"N",`, "", `,"body":"x"`, "").Replace(bad.body)
				if patch != `{}` && !strings.Contains(bad.name, "no ") {
					s.callRaw(t, p.agentTok, "PATCH", "/api/v1/text-blocks/"+mine.ID, patch).expectError(422, "validation_failed", bad.field)
				}
			}
		})
	}
	s.call(t, p.agentTok, "GET", "/api/v1/text-blocks/"+mine.ID, nil).expect(200).decode(&got)
	require.Equal(t, 2, got.Version, "no failed update changed it")

	// Delete: the owner's own; the shared one by an admin.
	s.call(t, p.agentTok, "DELETE", "/api/v1/text-blocks/"+mine.ID, nil).expect(204)
	s.call(t, p.agentTok, "GET", "/api/v1/text-blocks/"+mine.ID, nil).expectError(404, "not_found")
	s.call(t, s.admin, "DELETE", "/api/v1/text-blocks/"+shared.ID, nil).expect(204)
	require.Equal(t, []string{"create", "update", "delete"}, s.auditActions(t, "text_block", mine.ID))
	require.Equal(t, []string{"create", "update", "delete"}, s.auditActions(t, "text_block", shared.ID))
}

func TestTextBlockRender(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("")
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Printer <b>jam</b> " + tag, "clientIds": []string{p.customer}})
	full := s.ticket(t, p.agentTok, tk.ID)
	var protocol struct {
		Protocol string `json:"protocol"`
	}
	s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil).expect(200).decode(&protocol)
	require.NotEmpty(t, protocol.Protocol)

	var block textBlockJSON
	s.call(t, s.admin, "POST", "/api/v1/text-blocks", map[string]any{"name": "Reply " + tag, "shared": true,
		"body": "Hello {{customer.name}},\n\nabout **#{{ticket.id}}** ({{ticket.protocol}}): {{ticket.subject}}.\n\n" +
			"{{if customer.email}}We write to {{customer.email}}.{{end}}\n\n{{agent.name}}"}).expect(201).decode(&block)

	var out struct {
		Body string `json:"body"`
		HTML string `json:"html"`
	}
	s.call(t, p.agentTok, "POST", renderPath(tk.ID, block.ID), nil).expect(200).decode(&out)
	var customer, agent, agent2 struct {
		Name   string   `json:"name"`
		Emails []string `json:"emails"`
	}
	s.call(t, s.admin, "GET", "/api/v1/persons/"+p.customer, nil).expect(200).decode(&customer)
	s.call(t, s.admin, "GET", "/api/v1/persons/"+p.agent, nil).expect(200).decode(&agent)
	s.call(t, s.admin, "GET", "/api/v1/persons/"+p.agent2, nil).expect(200).decode(&agent2)
	want := fmt.Sprintf("Hello %s,\n\nabout **#%d** (%s): %s.\n\nWe write to %s.\n\n%s",
		customer.Name, tk.ID, protocol.Protocol, full.Subject, customer.Emails[0], agent.Name)
	require.Equal(t, want, out.Body)
	require.Contains(t, out.HTML, fmt.Sprintf("<strong>#%d</strong>", tk.ID))
	require.Contains(t, out.HTML, "Printer &lt;b&gt;jam&lt;/b&gt;", "the subject's HTML is text")
	require.NotContains(t, out.HTML, "<b>")

	// The agent is whoever renders it; nothing was posted to the ticket.
	s.call(t, p.agent2Tok, "POST", renderPath(tk.ID, block.ID), nil).expect(200).decode(&out)
	require.True(t, strings.HasSuffix(out.Body, "\n\n"+agent2.Name), out.Body)
	require.Equal(t, full.ActionCount, s.ticket(t, p.agentTok, tk.ID).ActionCount, "render posts nothing")

	// A ticket without clients: the customer placeholders are empty.
	bare := s.createTicket(t, p.agentTok, map[string]any{"subject": "No client " + tag})
	s.call(t, p.agentTok, "POST", renderPath(bare.ID, block.ID), nil).expect(200).decode(&out)
	require.True(t, strings.HasPrefix(out.Body, "Hello ,\n\n"), out.Body)
	require.NotContains(t, out.Body, "We write to")

	// Someone else's personal block, a missing ticket or block: 404; customers: 403.
	var bobs textBlockJSON
	s.call(t, p.agent2Tok, "POST", "/api/v1/text-blocks", map[string]any{"name": "Bob " + tag, "body": "{{ticket.subject}}"}).
		expect(201).decode(&bobs)
	s.call(t, p.agentTok, "POST", renderPath(tk.ID, bobs.ID), nil).expectError(404, "not_found")
	s.call(t, p.agent2Tok, "POST", renderPath(tk.ID, bobs.ID), nil).expect(200)
	s.call(t, p.agentTok, "POST", renderPath(tk.ID, "no-such-block"), nil).expectError(404, "not_found")
	s.call(t, p.agentTok, "POST", renderPath(999999999999, block.ID), nil).expectError(404, "not_found")
	s.call(t, p.customerTok, "POST", renderPath(tk.ID, block.ID), nil).expectError(403, "forbidden")
}
