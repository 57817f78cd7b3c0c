package api

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/internal/chatconfig"
	"github.com/switchboardhq/switchboard/schema"
)

// Chat widgets are what a site embeds to open chats: a public key (generated, never chosen by
// the client, rotated on demand), the groups a visitor may choose from, the origins the widget
// may be embedded on and a welcome text.
func (s *Server) chatWidgetRoutes(r fiber.Router) {
	r.Post("/chat-widgets", requirePerm(PermConfigWrite), s.createChatWidget)
	r.Get("/chat-widgets", requirePerm(PermConfigRead), s.listChatWidgets)
	r.Get("/chat-widgets/:id", requirePerm(PermConfigRead), getOne("id", s.loadChatWidget))
	r.Patch("/chat-widgets/:id", requirePerm(PermConfigWrite), s.updateChatWidget)
	r.Delete("/chat-widgets/:id", requirePerm(PermConfigWrite), s.deleteChatWidget)
	r.Post("/chat-widgets/:id/rotate-key", requirePerm(PermConfigWrite), s.rotateChatWidgetKey)
}

// maxWidgetWelcome is the longest welcome text, in characters.
const maxWidgetWelcome = 2000

type chatWidgetInput struct {
	Name           *string   `json:"name" validate:"omitnil,notblank,max=100"`
	GroupIDs       *[]string `json:"groupIds" validate:"omitnil,max=50,dive,max=64"`
	AllowedOrigins *[]string `json:"allowedOrigins" validate:"omitnil,max=100,dive,max=300"`
	Welcome        *string   `json:"welcome"`
}

// apply writes the input over w and answers what is wrong with it that needs no database:
// at least one group, each once; each origin a bare origin (answered as browsers send it),
// each once; the welcome text's length.
func (in *chatWidgetInput) apply(w *schema.ChatWidget) map[string]string {
	fields := map[string]string{}
	if in.Name != nil {
		w.Name = strings.TrimSpace(*in.Name)
	}
	if in.GroupIDs != nil {
		w.GroupIDs = []string{}
		for i, id := range *in.GroupIDs {
			if slices.Contains(w.GroupIDs, id) {
				fields["groupIds["+itoa(i)+"]"] = "group " + id + " is listed already"
			}
			w.GroupIDs = append(w.GroupIDs, id)
		}
		if len(w.GroupIDs) == 0 {
			fields["groupIds"] = "must name at least one chat group"
		}
	}
	if in.AllowedOrigins != nil {
		w.AllowedOrigins = []string{}
		for i, v := range *in.AllowedOrigins {
			origin, problem := chatconfig.Origin(v)
			switch {
			case problem != "":
				fields["allowedOrigins["+itoa(i)+"]"] = problem
			case slices.Contains(w.AllowedOrigins, origin):
				fields["allowedOrigins["+itoa(i)+"]"] = origin + " is listed already"
			}
			w.AllowedOrigins = append(w.AllowedOrigins, origin)
		}
	}
	if in.Welcome != nil {
		w.Welcome = strings.TrimSpace(*in.Welcome)
		if utf8.RuneCountInString(w.Welcome) > maxWidgetWelcome {
			fields["welcome"] = "must be at most " + itoa(maxWidgetWelcome) + " characters"
		}
	}
	return fields
}

// missingChatGroups names, as groupIds[i], the groups of ids that do not exist. With lock, the
// groups that do are locked against deletion until the transaction ends.
func missingChatGroups(ctx context.Context, db bun.IDB, ids []string, lock bool, fields map[string]string) error {
	if len(ids) == 0 {
		return nil
	}
	q := db.NewSelect().Table("chat_groups").Column("id").Where("id IN (?)", bun.In(ids)).Order("id")
	if lock {
		q = q.For("KEY SHARE")
	}
	var found []string
	if err := q.Scan(ctx, &found); err != nil && !isNoRows(err) {
		return err
	}
	for i, id := range ids {
		if !slices.Contains(found, id) {
			fields["groupIds["+itoa(i)+"]"] = "no chat group with id " + id
		}
	}
	return nil
}

func (s *Server) createChatWidget(c *fiber.Ctx) error {
	var in chatWidgetInput
	if err := decode(c, &in); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	w := schema.ChatWidget{ID: uuid.Must(uuid.NewV7()).String(), Key: chatconfig.NewKey(),
		GroupIDs: []string{}, AllowedOrigins: []string{}, CreatedAt: now, UpdatedAt: now}
	fields := in.apply(&w)
	if in.Name == nil {
		fields["name"] = "is required"
	}
	if in.GroupIDs == nil {
		fields["groupIds"] = "is required: the chat groups a visitor may choose from"
	}
	return s.saveChatWidget(c, &w, nil, &in, fields, "create", fiber.StatusCreated)
}

func (s *Server) updateChatWidget(c *fiber.Ctx) error {
	var in chatWidgetInput
	if err := decode(c, &in); err != nil {
		return err
	}
	before, err := s.loadChatWidget(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	w := *before
	w.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	return s.saveChatWidget(c, &w, before, &in, in.apply(&w), "update", fiber.StatusOK)
}

func (s *Server) saveChatWidget(c *fiber.Ctx, w, before *schema.ChatWidget, in *chatWidgetInput, fields map[string]string, action string, status int) error {
	if in.GroupIDs != nil {
		if err := missingChatGroups(c.UserContext(), s.db, w.GroupIDs, false, fields); err != nil {
			return err
		}
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	return writeConfig(c, s.db, chatWidgets, w, before, action, status)
}

// rotateChatWidgetKey gives the widget a new key; the old one stops working at once.
func (s *Server) rotateChatWidgetKey(c *fiber.Ctx) error {
	before, err := s.loadChatWidget(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	w := *before
	w.Key = chatconfig.NewKey()
	w.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	out, err := chatWidgets.update(c.UserContext(), s.db, principal(c).Person.ID, &w, before, "rotate_key", []string{"key", "updated_at"})
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (s *Server) deleteChatWidget(c *fiber.Ctx) error {
	ctx := c.UserContext()
	before, err := s.loadChatWidget(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if err := chatWidgets.remove(ctx, s.db, principal(c).Person.ID, before, nil); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

var chatWidgets = &configResource[schema.ChatWidget]{entity: "chat_widget", noun: "chat widget",
	columns: []string{"name", "group_ids", "allowed_origins", "welcome", "updated_at"},
	id:      func(w *schema.ChatWidget) string { return w.ID },
	version: func(w *schema.ChatWidget) *int { return &w.Version },
	same: func(a, b *schema.ChatWidget) bool {
		return a.Name == b.Name && a.Key == b.Key && a.Welcome == b.Welcome &&
			slices.Equal(a.GroupIDs, b.GroupIDs) && slices.Equal(a.AllowedOrigins, b.AllowedOrigins)
	},
	normalize: func(w *schema.ChatWidget) {
		w.GroupIDs, w.AllowedOrigins = orEmpty(w.GroupIDs), orEmpty(w.AllowedOrigins)
	},
	writeError: func(w *schema.ChatWidget, err error) error {
		if uniqueViolation(err) { // the key: 192 random bits, so in practice never
			return errConflict("the generated key is taken; retry")
		}
		return err
	},
	// The groups are checked again under a lock, so one deleted meanwhile is refused, not
	// left dangling (deleteChatGroup locks the group row before it looks for widgets).
	pre: func(ctx context.Context, tx bun.Tx, _ string, w, before *schema.ChatWidget) error {
		if before != nil && slices.Equal(w.GroupIDs, before.GroupIDs) {
			return nil
		}
		fields := map[string]string{}
		if err := missingChatGroups(ctx, tx, w.GroupIDs, true, fields); err != nil {
			return err
		}
		if len(fields) > 0 {
			return errInvalid(fields)
		}
		return nil
	},
}

func (s *Server) loadChatWidget(ctx context.Context, id string) (*schema.ChatWidget, error) {
	return chatWidgets.load(ctx, s.db, id)
}

// listChatWidgets lists the widgets oldest first; filters groupId (offers it), q (the name).
func (s *Server) listChatWidgets(c *fiber.Ctx) error {
	return chatWidgets.list(c, s.db, configList[schema.ChatWidget]{
		filter: func(c *fiber.Ctx, q *bun.SelectQuery) (*bun.SelectQuery, error) {
			if v := c.Query("groupId"); v != "" {
				q = q.Where("group_ids @> ARRAY[?]::text[]", v)
			}
			return nameFilter(c, q)
		},
	})
}
