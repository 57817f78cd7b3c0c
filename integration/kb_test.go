package integration

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// articleJSON is a knowledge-base article as the API answers it.
type articleJSON struct {
	ID          string  `json:"id"`
	Slug        string  `json:"slug"`
	Title       string  `json:"title"`
	Body        string  `json:"body"`
	Category    string  `json:"category"`
	Status      string  `json:"status"`
	Version     int     `json:"version"`
	PublishedAt *string `json:"publishedAt"`
}

type articlePage struct {
	Data       []articleJSON `json:"data"`
	NextCursor *string       `json:"next_cursor"`
}

type assistantLinkJSON struct {
	ArticleID string `json:"articleId"`
	Title     string `json:"title"`
	URL       string `json:"url"`
	Text      string `json:"text"`
	Link      string `json:"link"`
}

// publicPage gets a public page without a token.
func (s *stack) publicPage(t *testing.T, path string) (int, http.Header, string) {
	t.Helper()
	res, err := http.Get(s.base + path)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header, string(b)
}

func TestKBArticleAPI(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("")

	// Create: the slug comes from the title; drafts by default.
	var a articleJSON
	s.call(t, s.admin, "POST", "/api/v1/kb/articles", map[string]any{"title": "Configuração do e-mail " + tag,
		"body": "Open **Settings**.", "category": "Email"}).expect(201).decode(&a)
	require.Equal(t, "configuracao-do-e-mail-"+tag, a.Slug)
	require.Equal(t, "draft", a.Status)
	require.Nil(t, a.PublishedAt)
	require.Equal(t, 1, a.Version)

	var b articleJSON
	s.call(t, s.admin, "POST", "/api/v1/kb/articles", map[string]any{"title": "Reset your password", "slug": "reset-" + tag,
		"body": "Click *Forgot password*.", "status": "published"}).expect(201).decode(&b)
	require.Equal(t, "reset-"+tag, b.Slug)
	require.NotNil(t, b.PublishedAt)

	// Staff read, drafts included; customers do not.
	var got articleJSON
	s.call(t, p.agentTok, "GET", "/api/v1/kb/articles/"+a.ID, nil).expect(200).decode(&got)
	require.Equal(t, a, got)
	s.call(t, p.customerTok, "GET", "/api/v1/kb/articles/"+a.ID, nil).expectError(403, "forbidden")
	s.call(t, p.customerTok, "GET", "/api/v1/kb/articles", nil).expectError(403, "forbidden")
	s.call(t, p.agentTok, "POST", "/api/v1/kb/articles", map[string]any{"title": "Agent " + tag}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "PATCH", "/api/v1/kb/articles/"+a.ID, map[string]any{"title": "x"}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "DELETE", "/api/v1/kb/articles/"+a.ID, nil).expectError(403, "forbidden")

	// List: q over title and body, status, paging.
	var pg articlePage
	s.call(t, p.agentTok, "GET", "/api/v1/kb/articles?q="+url.QueryEscape(tag), nil).expect(200).decode(&pg)
	require.Len(t, pg.Data, 1, "the slug is not searched: only a's title carries the tag")
	s.call(t, p.agentTok, "GET", "/api/v1/kb/articles?q=FORGOT", nil).expect(200).decode(&pg)
	require.Contains(t, ids(pg.Data), b.ID, "the body, without regard to case")
	s.call(t, p.agentTok, "GET", "/api/v1/kb/articles?status=draft&limit=100", nil).expect(200).decode(&pg)
	require.Contains(t, ids(pg.Data), a.ID)
	require.NotContains(t, ids(pg.Data), b.ID)
	s.call(t, p.agentTok, "GET", "/api/v1/kb/articles?status=live", nil).expectError(422, "validation_failed", "status")
	var c articleJSON
	s.call(t, s.admin, "POST", "/api/v1/kb/articles", map[string]any{"title": "Third " + tag}).expect(201).decode(&c)
	s.call(t, p.agentTok, "GET", "/api/v1/kb/articles?limit=1&q="+url.QueryEscape(tag), nil).expect(200).decode(&pg)
	require.Equal(t, []string{a.ID}, ids(pg.Data))
	require.NotNil(t, pg.NextCursor)
	s.call(t, p.agentTok, "GET", "/api/v1/kb/articles?limit=1&q="+url.QueryEscape(tag)+"&cursor="+*pg.NextCursor, nil).
		expect(200).decode(&pg)
	require.Equal(t, []string{c.ID}, ids(pg.Data))
	require.Nil(t, pg.NextCursor)

	// Slugs are unique, given or made.
	s.call(t, s.admin, "POST", "/api/v1/kb/articles", map[string]any{"title": "Other", "slug": "reset-" + tag}).expectError(409, "conflict")
	s.call(t, s.admin, "POST", "/api/v1/kb/articles", map[string]any{"title": "Configuração do e-mail " + tag}).expectError(409, "conflict")
	s.call(t, s.admin, "PATCH", "/api/v1/kb/articles/"+a.ID, map[string]any{"slug": "reset-" + tag}).expectError(409, "conflict")

	// Update: version +1 on a change, none on a no-op; publishing sets publishedAt.
	var upd articleJSON
	s.call(t, s.admin, "PATCH", "/api/v1/kb/articles/"+a.ID, map[string]any{"status": "published"}).expect(200).decode(&upd)
	require.Equal(t, 2, upd.Version)
	require.NotNil(t, upd.PublishedAt)
	require.Equal(t, a.Slug, upd.Slug)
	s.call(t, s.admin, "PATCH", "/api/v1/kb/articles/"+a.ID, map[string]any{"status": "published"}).expect(200).decode(&upd)
	require.Equal(t, 2, upd.Version, "nothing changed")
	s.call(t, s.admin, "PATCH", "/api/v1/kb/articles/"+a.ID, map[string]any{"status": "draft", "category": ""}).expect(200).decode(&upd)
	require.Equal(t, 3, upd.Version)
	require.Nil(t, upd.PublishedAt)
	require.Equal(t, "", upd.Category)

	// Bad input: 422 naming the field, nothing saved.
	for _, bad := range []struct {
		name  string
		body  string
		field string
	}{
		{"no title", `{"body":"x"}`, "title"},
		{"blank title", `{"title":"   "}`, "title"},
		{"title too long", `{"title":"` + strings.Repeat("x", 201) + `"}`, "title"},
		{"bad slug", `{"title":"T","slug":"Not_A Slug"}`, "slug"},
		{"slug with double dash", `{"title":"T","slug":"a--b"}`, "slug"},
		{"slug too long", `{"title":"T","slug":"` + strings.Repeat("a", 101) + `"}`, "slug"},
		{"no slug to make", `{"title":"日本語"}`, "slug"},
		{"bad status", `{"title":"T","status":"live"}`, "status"},
		{"body too long", `{"title":"T","body":"` + strings.Repeat("x", 65537) + `"}`, "body"},
		{"category too long", `{"title":"T","category":"` + strings.Repeat("x", 101) + `"}`, "category"},
		{"NUL in title", `{"title":"a\u0000b"}`, "title"},
		{"control in body", `{"title":"T","body":"a\u001b[31m"}`, "body"},
		{"unknown key", `{"title":"T","published":true}`, "published"},
		{"key in another case", `{"Title":"T"}`, "Title"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			s.callRaw(t, s.admin, "POST", "/api/v1/kb/articles", bad.body).expectError(422, "validation_failed", bad.field)
			// On update too, but for title problems and a title to make no slug of (an update
			// never remakes the slug).
			if bad.field != "title" && bad.field != "Title" && bad.name != "no slug to make" {
				patch := strings.Replace(bad.body, `"title":"T",`, "", 1)
				s.callRaw(t, s.admin, "PATCH", "/api/v1/kb/articles/"+b.ID, patch).expectError(422, "validation_failed", bad.field)
			}
		})
	}
	s.call(t, s.admin, "GET", "/api/v1/kb/articles/"+b.ID, nil).expect(200).decode(&got)
	require.Equal(t, 1, got.Version, "no failed update changed it")

	// Delete.
	s.call(t, s.admin, "DELETE", "/api/v1/kb/articles/"+c.ID, nil).expect(204)
	s.call(t, s.admin, "GET", "/api/v1/kb/articles/"+c.ID, nil).expectError(404, "not_found")
	s.call(t, s.admin, "DELETE", "/api/v1/kb/articles/"+c.ID, nil).expectError(404, "not_found")
	require.Equal(t, []string{"create", "update", "update"}, s.auditActions(t, "kb_article", a.ID))
	require.Equal(t, []string{"create", "delete"}, s.auditActions(t, "kb_article", c.ID))
}

func ids(as []articleJSON) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func TestKBPublicPage(t *testing.T) {
	s := env(t)
	tag := randomName("")
	body := "# Steps\n\nOpen **Settings** and see https://example.com/help.\n\n" +
		"<script>alert('xss')</script>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1))\n\n" +
		"[[/kb/other-" + tag + " | The other article]] and [[javascript:alert(2) | bad]]"
	var a articleJSON
	s.call(t, s.admin, "POST", "/api/v1/kb/articles", map[string]any{"title": "Fix <the> printer & " + tag, "body": body}).
		expect(201).decode(&a)

	// A draft is not public.
	status, _, _ := s.publicPage(t, "/kb/"+a.Slug)
	require.Equal(t, 404, status)
	status, header, missing := s.publicPage(t, "/kb/no-such-article-"+tag)
	require.Equal(t, 404, status)
	require.Equal(t, "text/html; charset=utf-8", header.Get("Content-Type"), "a missing article is a page")
	require.Contains(t, missing, "Article not found")

	s.call(t, s.admin, "PATCH", "/api/v1/kb/articles/"+a.ID, map[string]any{"status": "published"}).expect(200)
	r := s.call(t, "", "GET", "/kb/"+a.Slug, nil).expect(200) // checked against the document too
	page := string(r.body)
	require.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
	require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
	csp := r.header.Get("Content-Security-Policy")
	require.Contains(t, csp, "default-src 'none'")
	require.NotContains(t, csp, "script-src")
	require.NotContains(t, csp, "unsafe-inline")

	// The markdown is rendered.
	require.Contains(t, page, "<h1>Steps</h1>")
	require.Contains(t, page, "<strong>Settings</strong>")
	require.Contains(t, page, `<a href="https://example.com/help" rel="nofollow noreferrer noopener" target="_blank">`)
	require.Contains(t, page, `<a href="/kb/other-`+tag+`" rel="nofollow noreferrer">The other article</a>`)
	require.Contains(t, page, "<title>Fix &lt;the&gt; printer &amp; "+tag+"</title>", "the title is escaped")
	// The XSS payloads are inert text.
	lower := strings.ToLower(page)
	require.Equal(t, 0, strings.Count(lower, "<script"), page)
	require.Contains(t, page, "&lt;script&gt;alert(")
	require.NotRegexp(t, `<[^>]+\son\w+=`, page)
	require.NotContains(t, lower, `href="javascript:`)
	require.Contains(t, page, "[[javascript:alert(2) | bad]]", "a token to a bad URL is text")
	// The only style is the one the CSP allows by its hash.
	styles := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatch(page, -1)
	require.Len(t, styles, 1)
	sum := sha256.Sum256([]byte(styles[0][1]))
	require.Contains(t, csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")

	// Back to draft: gone again. Deleted: gone.
	s.call(t, s.admin, "PATCH", "/api/v1/kb/articles/"+a.ID, map[string]any{"status": "draft"}).expect(200)
	status, _, _ = s.publicPage(t, "/kb/"+a.Slug)
	require.Equal(t, 404, status)
	status, _, _ = s.publicPage(t, "/kb/Not_A_Slug")
	require.Equal(t, 404, status)
}

func TestAssistantLinks(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("")
	mk := func(title, body, status string) articleJSON {
		var a articleJSON
		s.call(t, s.admin, "POST", "/api/v1/kb/articles", map[string]any{"title": title, "body": body, "status": status}).
			expect(201).decode(&a)
		return a
	}
	pub := mk("Reset | your ]] password "+tag, "How to reset.", "published")
	byBody := mk("VPN setup", "Mentions "+strings.ToUpper(tag)+" in the body.", "published")
	mk("Draft "+tag, "not yet", "draft")

	var links struct {
		Data       []assistantLinkJSON `json:"data"`
		NextCursor *string             `json:"next_cursor"`
	}
	s.call(t, p.agentTok, "GET", "/api/v1/assistant-links?q="+url.QueryEscape(tag), nil).expect(200).decode(&links)
	require.Len(t, links.Data, 2, "published ones only, by title or body, without regard to case")
	l := links.Data[0]
	require.Equal(t, pub.ID, l.ArticleID)
	require.Equal(t, pub.Title, l.Title)
	require.Equal(t, "/kb/"+pub.Slug, l.URL)
	require.Equal(t, pub.Title, l.Text)
	require.Equal(t, "[[/kb/"+pub.Slug+` | Reset \| your \]\] password `+tag+"]]", l.Link)
	require.Equal(t, byBody.ID, links.Data[1].ArticleID)

	// The token, sent as a message, is a link to the article; its public page is there.
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Password " + tag, "clientIds": []string{p.customer}})
	var rendered struct {
		HTML string `json:"html"`
	}
	var block textBlockJSON
	s.call(t, p.agentTok, "POST", "/api/v1/text-blocks", map[string]any{"name": "Link " + tag, "body": "See " + l.Link}).
		expect(201).decode(&block)
	s.call(t, p.agentTok, "POST", renderPath(tk.ID, block.ID), nil).expect(200).decode(&rendered)
	require.Contains(t, rendered.HTML, `<a href="/kb/`+pub.Slug+`" rel="nofollow noreferrer">Reset | your ]] password `+tag+`</a>`)
	status, _, _ := s.publicPage(t, l.URL)
	require.Equal(t, 200, status)

	s.call(t, p.agentTok, "GET", "/api/v1/assistant-links?limit=1&q="+url.QueryEscape(tag), nil).expect(200).decode(&links)
	require.Len(t, links.Data, 1)
	require.NotNil(t, links.NextCursor)
	s.call(t, p.customerTok, "GET", "/api/v1/assistant-links", nil).expectError(403, "forbidden")
	s.call(t, p.agentTok, "GET", "/api/v1/assistant-links?limit=0", nil).expectError(422, "validation_failed", "limit")
	s.call(t, p.agentTok, "GET", "/api/v1/assistant-links?q="+url.QueryEscape("a\x00"), nil).expectError(422, "validation_failed", "q")
}
