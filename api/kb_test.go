package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/schema"
)

func TestSlugify(t *testing.T) {
	for title, want := range map[string]string{
		"Reset your password":              "reset-your-password",
		"  Configuração do E-mail (SMTP) ": "configuracao-do-e-mail-smtp",
		"Ça marche? Straße!":               "ca-marche-strasse",
		"--a--b--":                         "a-b",
		"日本語":                              "",
		"v2.0 release notes":               "v2-0-release-notes",
	} {
		got := Slugify(title)
		require.Equal(t, want, got, title)
		if got != "" {
			require.Regexp(t, slugPattern, got)
		}
	}
	long := Slugify(strings.Repeat("word ", 60))
	require.LessOrEqual(t, len(long), maxArticleSlug)
	require.Regexp(t, slugPattern, long)
	require.Regexp(t, slugPattern, Slugify(strings.Repeat("x", 300)))
}

func TestArticleProblems(t *testing.T) {
	ok := schema.KBArticle{Title: "T", Slug: "t", Status: schema.ArticleDraft}
	require.Empty(t, articleProblems(&ok, true))
	for field, a := range map[string]schema.KBArticle{
		"title":    {Slug: "t", Status: "draft"},
		"slug":     {Title: "T", Slug: "Not A Slug", Status: "draft"},
		"status":   {Title: "T", Slug: "t", Status: "live"},
		"body":     {Title: "T", Slug: "t", Status: "draft", Body: strings.Repeat("x", maxArticleBody+1)},
		"category": {Title: "T", Slug: "t", Status: "draft", Category: strings.Repeat("x", maxArticleCategory+1)},
	} {
		require.Contains(t, articleProblems(&a, true), field)
	}
	noSlug := schema.KBArticle{Title: "日本語", Status: "draft"}
	require.Contains(t, articleProblems(&noSlug, false)["slug"], "no letters or digits")
}

func TestTextBlockProblems(t *testing.T) {
	b := schema.TextBlock{Name: "Greeting", Body: "Hi {{customer.name}}, about {{ticket.subject}} — {{agent.name}}"}
	require.Empty(t, textBlockProblems(&b))
	b.Body = "Hi {{customer.nam}}"
	msg := textBlockProblems(&b)["body"]
	require.Contains(t, msg, "{{customer.nam}}")
	require.Contains(t, msg, "{{customer.name}}", "lists the allowed ones")
	b.Body = "Hi {{customer_name}}"
	require.Contains(t, textBlockProblems(&b)["body"], "customer_name")
	b.Body = "  "
	require.Equal(t, "is required", textBlockProblems(&b)["body"])
}

func TestKBResponseSchemas(t *testing.T) {
	doc, err := LoadOpenAPI()
	require.NoError(t, err)
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	owner, cur := "agent-1", "eyJpZCI6IjEifQ"
	draft := schema.KBArticle{ID: "a-1", Slug: "reset-password", Title: "Reset", Body: "**x**", Status: "draft",
		Version: 1, CreatedAt: now, UpdatedAt: now}
	pub := draft
	pub.Status, pub.PublishedAt = "published", &now
	shared := schema.TextBlock{ID: "b-1", Name: "Hi", Body: "Hi {{customer.name}}", Version: 1, CreatedAt: now, UpdatedAt: now}
	personal := shared
	personal.OwnerID = &owner
	checkSchemas(t, doc, []schemaCase{
		{"Article", draft},
		{"Article", pub},
		{"ArticlePage", page[schema.KBArticle]{Data: []schema.KBArticle{draft, pub}, NextCursor: &cur}},
		{"AssistantLink", newAssistantLink(&pub)},
		{"AssistantLinkPage", page[assistantLink]{Data: []assistantLink{newAssistantLink(&pub)}}},
		{"TextBlock", shared},
		{"TextBlock", personal},
		{"TextBlockPage", page[schema.TextBlock]{Data: []schema.TextBlock{shared, personal}}},
		{"RenderedTextBlock", renderedTextBlock{Body: "Hi", HTML: "<p>Hi</p>"}},
	})
	require.Equal(t, "[[/kb/reset-password | Reset]]", newAssistantLink(&pub).Link)
}

// A missing article is an HTML page (a browser followed the link), and reads are limited per
// address: checked where no database is needed (a malformed slug is missing before any read).
func TestPublicArticleMissingPageAndRateLimit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PublicKBRate = 2
	app := New(nil, nil, cfg, slog.New(slog.DiscardHandler), nil)
	get := func() *http.Response {
		res, err := app.Test(httptest.NewRequest("GET", "/kb/Not_A_Slug", nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for i := range 2 {
		res := get()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 404 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
			!strings.Contains(string(body), "<h1>Article not found</h1>") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("read %d: %d %q %s", i+1, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
	if res := get(); res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("third read: %d, want 429 with Retry-After", res.StatusCode)
	}
}
