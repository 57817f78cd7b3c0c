package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"golang.org/x/text/unicode/norm"

	"github.com/switchboardhq/switchboard/internal/markup"
	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// The knowledge base: articles in markdown, managed under /kb/articles like the other
// configuration (config:write to write; versioned and audited) and read by staff with
// config:read, which customers do not have, so drafts stay internal. A published article is
// public at /kb/{slug}, outside /api/v1 and without a token, as a sanitized HTML page.
// Assistant links (GET /assistant-links) are the published articles an agent may link to from
// the messenger, each with its [[url | text]] token.
func (s *Server) kbRoutes(r fiber.Router) {
	r.Post("/kb/articles", requirePerm(PermConfigWrite), s.createArticle)
	r.Get("/kb/articles", requirePerm(PermConfigRead), s.listArticles)
	r.Get("/kb/articles/:id", requirePerm(PermConfigRead), getOne("id", s.loadArticle))
	r.Patch("/kb/articles/:id", requirePerm(PermConfigWrite), s.updateArticle)
	r.Delete("/kb/articles/:id", requirePerm(PermConfigWrite), s.deleteArticle)
	// A messenger tool: whoever works tickets (staff) searches what they may link to, which is
	// public anyway.
	r.Get("/assistant-links", requirePerm(PermTicketsRead), staffOnly, s.listAssistantLinks)
}

// publicKBRoutes serves published articles to anyone, within a per-address rate
// (PublicKBRate a minute).
func (s *Server) publicKBRoutes(app *fiber.App) {
	app.Get("/kb/:slug", publicLimiter(s.cfg.PublicKBRate, (*fiber.Ctx).IP, "article reads from this address"), s.publicArticle)
}

// Limits of an article.
const (
	maxArticleTitle    = 200
	maxArticleSlug     = 100
	maxArticleCategory = 100
	maxArticleBody     = rules.MaxBody
)

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

var articleStatuses = []string{schema.ArticleDraft, schema.ArticlePublished}

// articleInput is an article as clients send it; on update, absent fields stay as they are.
type articleInput struct {
	Slug     *string `json:"slug"`
	Title    *string `json:"title"`
	Body     *string `json:"body"`
	Category *string `json:"category"`
	Status   *string `json:"status"`
}

// Slugify makes a slug of a title: lower case, accents dropped, every run of other characters
// one dash, at most maxArticleSlug characters (cut at a dash). It is "" when the title has no
// letter or digit in a-z0-9.
func Slugify(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(slugLetters.Replace(strings.ToLower(title))) {
		switch {
		case unicode.Is(unicode.Mn, r): // the accent of a decomposed letter
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	slug := b.String()
	for len(slug) > maxArticleSlug {
		i := strings.LastIndexByte(slug[:maxArticleSlug+1], '-')
		if i <= 0 {
			slug = strings.TrimRight(slug[:maxArticleSlug], "-")
			break
		}
		slug = slug[:i]
	}
	return slug
}

// slugLetters are the letters that do not decompose into a-z and an accent.
var slugLetters = strings.NewReplacer("ß", "ss", "æ", "ae", "œ", "oe", "ø", "o", "đ", "d", "ł", "l", "þ", "th", "ð", "d")

// apply sets the fields given. A slug not given on create comes from the title.
func (in *articleInput) apply(a *schema.KBArticle, now time.Time) {
	if in.Title != nil {
		a.Title = strings.TrimSpace(*in.Title)
	}
	if in.Slug != nil {
		a.Slug = strings.TrimSpace(*in.Slug)
	}
	set(&a.Body, in.Body)
	if in.Category != nil {
		a.Category = strings.TrimSpace(*in.Category)
	}
	if in.Status != nil {
		a.Status = strings.TrimSpace(*in.Status)
	}
	switch {
	case a.Status == schema.ArticlePublished && a.PublishedAt == nil:
		a.PublishedAt = &now
	case a.Status != schema.ArticlePublished:
		a.PublishedAt = nil
	}
}

// articleProblems is the validation of an article, each problem under its field.
func articleProblems(a *schema.KBArticle, slugGiven bool) map[string]string {
	fields := map[string]string{}
	switch n := utf8.RuneCountInString(a.Title); {
	case n == 0:
		fields["title"] = "is required"
	case n > maxArticleTitle:
		fields["title"] = fmt.Sprintf("must be at most %d characters", maxArticleTitle)
	}
	switch {
	case a.Slug == "" && !slugGiven && fields["title"] == "":
		fields["slug"] = "is required: the title has no letters or digits (a-z, 0-9) to make one from"
	case a.Slug == "" && slugGiven:
		fields["slug"] = "must not be empty"
	case len(a.Slug) > maxArticleSlug:
		fields["slug"] = fmt.Sprintf("must be at most %d characters", maxArticleSlug)
	case a.Slug != "" && !slugPattern.MatchString(a.Slug):
		fields["slug"] = "must be lower-case letters and digits in words joined by single dashes (^[a-z0-9]+(-[a-z0-9]+)*$)"
	}
	if n := utf8.RuneCountInString(a.Body); n > maxArticleBody {
		fields["body"] = fmt.Sprintf("must be at most %d characters", maxArticleBody)
	}
	if n := utf8.RuneCountInString(a.Category); n > maxArticleCategory {
		fields["category"] = fmt.Sprintf("must be at most %d characters", maxArticleCategory)
	}
	if !contains(articleStatuses, a.Status) {
		fields["status"] = "must be one of: " + strings.Join(articleStatuses, ", ")
	}
	return fields
}

func articleContent(a *schema.KBArticle) string {
	b, _ := json.Marshal([]any{a.Slug, a.Title, a.Body, a.Category, a.Status})
	return string(b)
}

var articles = &configResource[schema.KBArticle]{entity: "kb_article", noun: "article",
	columns: []string{"slug", "title", "body", "category", "status", "published_at", "updated_at"},
	id:      func(a *schema.KBArticle) string { return a.ID },
	version: func(a *schema.KBArticle) *int { return &a.Version },
	same:    func(a, b *schema.KBArticle) bool { return articleContent(a) == articleContent(b) },
	writeError: func(a *schema.KBArticle, err error) error {
		if uniqueViolation(err) {
			return errConflict("an article with the slug %q exists already", a.Slug)
		}
		return err
	},
}

func (s *Server) loadArticle(ctx context.Context, id string) (*schema.KBArticle, error) {
	return articles.load(ctx, s.db, id)
}

func (s *Server) createArticle(c *fiber.Ctx) error {
	var in articleInput
	if err := decode(c, &in); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	a := schema.KBArticle{ID: uuid.Must(uuid.NewV7()).String(), Status: schema.ArticleDraft, CreatedAt: now, UpdatedAt: now}
	in.apply(&a, now)
	if in.Slug == nil {
		a.Slug = Slugify(a.Title)
	}
	if fields := articleProblems(&a, in.Slug != nil); len(fields) > 0 {
		return errInvalid(fields)
	}
	return writeConfig(c, s.db, articles, &a, nil, "create", fiber.StatusCreated)
}

func (s *Server) updateArticle(c *fiber.Ctx) error {
	var in articleInput
	if err := decode(c, &in); err != nil {
		return err
	}
	before, err := s.loadArticle(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	a := *before
	in.apply(&a, now)
	if fields := articleProblems(&a, true); len(fields) > 0 {
		return errInvalid(fields)
	}
	a.UpdatedAt = now
	return writeConfig(c, s.db, articles, &a, before, "update", fiber.StatusOK)
}

func (s *Server) deleteArticle(c *fiber.Ctx) error {
	ctx := c.UserContext()
	before, err := s.loadArticle(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if err := articles.remove(ctx, s.db, principal(c).Person.ID, before, nil); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// articleSearch is q: the title or the body contains it, without regard to case.
func articleSearch(c *fiber.Ctx, q *bun.SelectQuery) (*bun.SelectQuery, error) {
	if v := c.Query("q"); v != "" {
		like := "%" + escapeLike(v) + "%"
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("title ILIKE ?", like).WhereOr("body ILIKE ?", like)
		})
	}
	return q, nil
}

// listArticles lists articles oldest first; filters q (title or body), status and category.
func (s *Server) listArticles(c *fiber.Ctx) error {
	return articles.list(c, s.db, configList[schema.KBArticle]{
		filter: func(c *fiber.Ctx, q *bun.SelectQuery) (*bun.SelectQuery, error) {
			if v := c.Query("status"); v != "" {
				if !contains(articleStatuses, v) {
					return nil, errField("status", "must be one of: %s", strings.Join(articleStatuses, ", "))
				}
				q = q.Where("status = ?", v)
			}
			if v := c.Query("category"); v != "" {
				q = q.Where("category = ?", v)
			}
			return articleSearch(c, q)
		},
	})
}

// --- assistant links

// assistantLink is a published article as the messenger links to it.
type assistantLink struct {
	ArticleID string `json:"articleId"`
	Title     string `json:"title"`
	URL       string `json:"url"`
	Text      string `json:"text"`
	Link      string `json:"link"`
}

// ArticlePath is a published article's public path.
func ArticlePath(slug string) string { return "/kb/" + slug }

func newAssistantLink(a *schema.KBArticle) assistantLink {
	u := ArticlePath(a.Slug)
	return assistantLink{ArticleID: a.ID, Title: a.Title, URL: u, Text: a.Title, Link: markup.AssistantLink(u, a.Title)}
}

// listAssistantLinks lists the published articles matching q (title or body), oldest first,
// each with its link token; the link text is the title, which the agent may edit.
func (s *Server) listAssistantLinks(c *fiber.Ctx) error {
	limit, cur, err := pageParams(c)
	if err != nil {
		return err
	}
	q := s.db.NewSelect().Model((*schema.KBArticle)(nil)).Where("status = ?", schema.ArticlePublished).
		OrderExpr("id ASC").Limit(int64(limit + 1))
	if cur != nil {
		q = q.Where("id > ?", cur.ID)
	}
	if q, err = articleSearch(c, q); err != nil {
		return err
	}
	var rows []schema.KBArticle
	if err := q.Scan(c.UserContext(), &rows); err != nil {
		return err
	}
	links := make([]assistantLink, len(rows))
	for i := range rows {
		links[i] = newAssistantLink(&rows[i])
	}
	return c.JSON(makePage(links, limit, func(l assistantLink) cursor { return cursor{ID: l.ArticleID} }))
}

// --- the public page

// articleStyle is the page's only style; the CSP allows it by its hash and nothing else.
const articleStyle = `body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5}` +
	`pre{overflow:auto}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.25rem .5rem}img{max-width:100%}`

// publicCSP lets the page show its own style and images, and run, load, embed or submit
// nothing.
var publicCSP = func() string {
	h := sha256.Sum256([]byte(articleStyle))
	return "default-src 'none'; img-src https: http:; style-src 'sha256-" + base64.StdEncoding.EncodeToString(h[:]) +
		"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

var articlePage = template.Must(template.New("article").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>{{.Style}}</style>
</head>
<body>
<article>
<h1>{{.Title}}</h1>
{{.Body}}
</article>
</body>
</html>
`))

// publicArticle serves a published article as an HTML page; a draft is as missing as an
// article that does not exist.
func (s *Server) publicArticle(c *fiber.Ctx) error {
	slug := c.Params("slug")
	if !slugPattern.MatchString(slug) {
		return s.articleMissing(c)
	}
	var a schema.KBArticle
	err := s.db.NewSelect().Model(&a).Where("slug = ? AND status = ?", slug, schema.ArticlePublished).Scan(c.UserContext())
	if isNoRows(err) {
		return s.articleMissing(c)
	}
	if err != nil {
		return err
	}
	// The body is sanitized HTML (markup.Render); the title is escaped by the template.
	return sendArticlePage(c, fiber.StatusOK, a.Title, template.HTML(markup.Render(a.Body))) //nolint:gosec // sanitized by markup
}

// articleMissing is the 404 of a link to an article that is not published: a page, since a
// browser followed it (the public read says nothing of drafts).
func (s *Server) articleMissing(c *fiber.Ctx) error {
	err := sendArticlePage(c, fiber.StatusNotFound, "Article not found",
		"<p>This article does not exist or is not published.</p>")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return err
}

// sendArticlePage answers an article page with its security headers.
func sendArticlePage(c *fiber.Ctx, status int, title string, body template.HTML) error {
	var b strings.Builder
	if err := articlePage.Execute(&b, struct {
		Title string
		Style template.CSS
		Body  template.HTML
	}{title, articleStyle, body}); err != nil {
		return err
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderContentSecurityPolicy, publicCSP)
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	return c.SendString(b.String())
}
