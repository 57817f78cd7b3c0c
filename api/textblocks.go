package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/internal/markup"
	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// Text building blocks are saved texts agents insert into a ticket's messenger and edit before
// sending. A block is shared (written by whoever has config:write, read by all staff) or
// personal (read and written by its owner only; to anyone else it does not exist). Customers
// have none. Rendering a block for a ticket fills its placeholders and posts nothing.
func (s *Server) textBlockRoutes(r fiber.Router) {
	r.Post("/text-blocks", requirePerm(PermTicketsWrite), staffOnly, s.createTextBlock)
	r.Get("/text-blocks", requirePerm(PermTicketsRead), staffOnly, s.listTextBlocks)
	r.Get("/text-blocks/:id", requirePerm(PermTicketsRead), staffOnly, s.getTextBlock)
	r.Patch("/text-blocks/:id", requirePerm(PermTicketsWrite), staffOnly, s.updateTextBlock)
	r.Delete("/text-blocks/:id", requirePerm(PermTicketsWrite), staffOnly, s.deleteTextBlock)
	r.Post("/tickets/:id/text-blocks/:blockId/render", requirePerm(PermTicketsRead), staffOnly, s.renderTextBlock)
}

// Limits of a text block.
const (
	maxTextBlockName = 200
	maxTextBlockBody = rules.MaxBody
)

// textBlockInput is a block as clients send it on create.
type textBlockInput struct {
	Name *string `json:"name"`
	Body *string `json:"body"`
	// Shared: for every agent (needs config:write); otherwise personal to the caller.
	Shared bool `json:"shared"`
}

// textBlockUpdate is a block's edit: absent fields stay; whether it is shared does not change.
type textBlockUpdate struct {
	Name *string `json:"name"`
	Body *string `json:"body"`
}

func (in *textBlockUpdate) apply(b *schema.TextBlock) {
	if in.Name != nil {
		b.Name = strings.TrimSpace(*in.Name)
	}
	set(&b.Body, in.Body)
}

// textBlockProblems is the validation of a block: its name, and its body as a template whose
// every placeholder is one the render fills.
func textBlockProblems(b *schema.TextBlock) map[string]string {
	fields := map[string]string{}
	switch n := utf8.RuneCountInString(b.Name); {
	case n == 0:
		fields["name"] = "is required"
	case n > maxTextBlockName:
		fields["name"] = fmt.Sprintf("must be at most %d characters", maxTextBlockName)
	}
	allowed := "; the placeholders are " + strings.Join(rules.TextBlockPlaceholders.Names(), ", ")
	switch n := utf8.RuneCountInString(b.Body); {
	case strings.TrimSpace(b.Body) == "":
		fields["body"] = "is required"
	case n > maxTextBlockBody:
		fields["body"] = fmt.Sprintf("must be at most %d characters", maxTextBlockBody)
	default:
		unknown, err := rules.CheckPlaceholders(b.Body, rules.TextBlockPlaceholders)
		switch {
		case err != nil:
			fields["body"] = "is not a valid template: " + err.Error() + allowed
		case len(unknown) == 1:
			fields["body"] = "has the unknown placeholder " + unknown[0] + allowed
		case len(unknown) > 1:
			fields["body"] = "has the unknown placeholders " + strings.Join(unknown, ", ") + allowed
		}
	}
	return fields
}

func textBlockContent(b *schema.TextBlock) string {
	raw, _ := json.Marshal([]any{b.Name, b.Body})
	return string(raw)
}

var textBlocks = &configResource[schema.TextBlock]{entity: "text_block", noun: "text block",
	columns: []string{"name", "body", "updated_at"},
	id:      func(b *schema.TextBlock) string { return b.ID },
	version: func(b *schema.TextBlock) *int { return &b.Version },
	same:    func(a, b *schema.TextBlock) bool { return textBlockContent(a) == textBlockContent(b) },
}

// visibleTextBlocks limits q to the shared blocks and the caller's own.
func visibleTextBlocks(q *bun.SelectQuery, p *Principal) *bun.SelectQuery {
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("owner_id IS NULL").WhereOr("owner_id = ?", p.Person.ID)
	})
}

// loadTextBlock reads a block the caller may see; another person's personal block is a 404.
func (s *Server) loadTextBlock(ctx context.Context, p *Principal, id string) (*schema.TextBlock, error) {
	b, err := textBlocks.load(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if b.OwnerID != nil && *b.OwnerID != p.Person.ID {
		return nil, errNotFound("no text block with id %s", id)
	}
	return b, nil
}

// canWriteTextBlock: a shared block needs config:write; a personal one is its owner's.
func canWriteTextBlock(p *Principal, b *schema.TextBlock) error {
	if b.OwnerID == nil && !p.can(PermConfigWrite) {
		return errForbidden("shared text blocks are written with %s; create a personal one instead", PermConfigWrite)
	}
	return nil
}

func (s *Server) createTextBlock(c *fiber.Ctx) error {
	var in textBlockInput
	if err := decode(c, &in); err != nil {
		return err
	}
	p := principal(c)
	now := time.Now().UTC().Truncate(time.Microsecond)
	b := schema.TextBlock{ID: uuid.Must(uuid.NewV7()).String(), CreatedAt: now, UpdatedAt: now}
	if !in.Shared {
		b.OwnerID = &p.Person.ID
	}
	if err := canWriteTextBlock(p, &b); err != nil {
		return err
	}
	(&textBlockUpdate{Name: in.Name, Body: in.Body}).apply(&b)
	if fields := textBlockProblems(&b); len(fields) > 0 {
		return errInvalid(fields)
	}
	return writeConfig(c, s.db, textBlocks, &b, nil, "create", fiber.StatusCreated)
}

func (s *Server) getTextBlock(c *fiber.Ctx) error {
	b, err := s.loadTextBlock(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(b)
}

func (s *Server) updateTextBlock(c *fiber.Ctx) error {
	var in textBlockUpdate
	if err := decode(c, &in); err != nil {
		return err
	}
	p := principal(c)
	before, err := s.loadTextBlock(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	if err := canWriteTextBlock(p, before); err != nil {
		return err
	}
	b := *before
	in.apply(&b)
	if fields := textBlockProblems(&b); len(fields) > 0 {
		return errInvalid(fields)
	}
	b.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	return writeConfig(c, s.db, textBlocks, &b, before, "update", fiber.StatusOK)
}

func (s *Server) deleteTextBlock(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p := principal(c)
	before, err := s.loadTextBlock(ctx, p, c.Params("id"))
	if err != nil {
		return err
	}
	if err := canWriteTextBlock(p, before); err != nil {
		return err
	}
	if err := textBlocks.remove(ctx, s.db, p.Person.ID, before, nil); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// listTextBlocks lists the shared blocks and the caller's own, oldest first; filters q (the
// name) and shared.
func (s *Server) listTextBlocks(c *fiber.Ctx) error {
	p := principal(c)
	return textBlocks.list(c, s.db, configList[schema.TextBlock]{
		filter: func(c *fiber.Ctx, q *bun.SelectQuery) (*bun.SelectQuery, error) {
			q = visibleTextBlocks(q, p)
			if v := c.Query("shared"); v != "" {
				shared, err := parseBool("shared", v)
				if err != nil {
					return nil, err
				}
				if shared {
					q = q.Where("owner_id IS NULL")
				} else {
					q = q.Where("owner_id IS NOT NULL")
				}
			}
			return nameFilter(c, q)
		},
	})
}

// renderedTextBlock is a block filled in for a ticket: the markdown to put in the messenger's
// input field and, for a preview, its sanitized HTML.
type renderedTextBlock struct {
	Body string `json:"body"`
	HTML string `json:"html"`
}

// renderTextBlock fills a block's placeholders for a ticket the caller sees: the ticket's own
// fields, its first client as the customer and the caller as the agent. It posts nothing.
func (s *Server) renderTextBlock(c *fiber.Ctx) error {
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	p := principal(c)
	b, err := s.loadTextBlock(ctx, p, c.Params("blockId"))
	if err != nil {
		return err
	}
	values := rules.Placeholders{
		"ticket": {"id": strconv.FormatInt(t.ID, 10), "protocol": t.Protocol, "subject": t.Subject,
			"category": t.Category, "urgency": t.Urgency, "status": t.Status},
		"customer": {},
		"agent":    {"name": p.Person.Name, "email": firstOf(p.Person.Emails)},
	}
	if len(t.ClientIDs) > 0 {
		var client schema.Person
		err := s.db.NewSelect().Model(&client).Column("name", "emails").Where("id = ?", t.ClientIDs[0]).Scan(ctx)
		if err != nil && !isNoRows(err) {
			return err
		}
		values["customer"] = map[string]string{"name": client.Name, "email": firstOf(client.Emails)}
	}
	body, err := rules.RenderPlaceholders(b.Body, values, maxTextBlockBody)
	if errors.Is(err, rules.ErrTooLong) {
		return errField("body", "the block filled in for this ticket is too long: %s", err.Error())
	} else if err != nil {
		// The body was checked when saved; a stored block that no longer renders says why.
		return errField("body", "the block does not render: %s", err.Error())
	}
	return c.JSON(renderedTextBlock{Body: body, HTML: markup.Render(body)})
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
