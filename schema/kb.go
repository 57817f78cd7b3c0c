package schema

import (
	"time"

	"github.com/uptrace/bun"
)

// Article statuses: a draft is seen by staff only; a published article is public at /kb/{slug}.
const (
	ArticleDraft     = "draft"
	ArticlePublished = "published"
)

// KBArticle is a knowledge-base article: markdown, addressed publicly by its slug.
type KBArticle struct {
	bun.BaseModel `bun:"table:kb_articles" json:"-"`

	ID          string     `bun:"id,pk" json:"id"`
	Slug        string     `bun:"slug" json:"slug"`
	Title       string     `bun:"title" json:"title"`
	Body        string     `bun:"body" json:"body"`
	Category    string     `bun:"category" json:"category"`
	Status      string     `bun:"status" json:"status"`
	Version     int        `bun:"version" json:"version"`
	CreatedAt   time.Time  `bun:"created_at" json:"createdAt"`
	UpdatedAt   time.Time  `bun:"updated_at" json:"updatedAt"`
	PublishedAt *time.Time `bun:"published_at" json:"publishedAt"`
}

// TextBlock is a text building block: markdown with placeholders an agent inserts into a
// message and edits before sending. OwnerID nil: shared; else personal to that person.
type TextBlock struct {
	bun.BaseModel `bun:"table:text_blocks" json:"-"`

	ID        string    `bun:"id,pk" json:"id"`
	Name      string    `bun:"name" json:"name"`
	Body      string    `bun:"body" json:"body"`
	OwnerID   *string   `bun:"owner_id" json:"ownerId"`
	Version   int       `bun:"version" json:"version"`
	CreatedAt time.Time `bun:"created_at" json:"createdAt"`
	UpdatedAt time.Time `bun:"updated_at" json:"updatedAt"`
}
