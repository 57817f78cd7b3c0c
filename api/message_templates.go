package api

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/switchboardhq/switchboard/internal/channel"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// WhatsApp message templates (/api/v1/message-templates, config:write / config:read): what an
// agent sends a contact once WhatsApp's 24-hour window has closed, by the provider's content
// id. POST /api/v1/tickets/{id}/whatsapp-template sends one on a WhatsApp chat ticket: the
// body with its parameters filled becomes the ticket's public message, and the provider gets
// the content id with the parameters (inside or outside the window).
func (s *Server) messageTemplateRoutes(r fiber.Router) {
	r.Post("/message-templates", requirePerm(PermConfigWrite), s.createMessageTemplate)
	r.Get("/message-templates", requirePerm(PermConfigRead), s.listMessageTemplates)
	r.Get("/message-templates/:id", requirePerm(PermConfigRead), getOne("id", s.loadMessageTemplate))
	r.Patch("/message-templates/:id", requirePerm(PermConfigWrite), s.updateMessageTemplate)
	r.Delete("/message-templates/:id", requirePerm(PermConfigWrite), s.deleteMessageTemplate)
	r.Post("/tickets/:id/whatsapp-template", requirePerm(PermTicketsWrite), staffOnly, s.sendWhatsAppTemplate)
}

// Limits of a template (WhatsApp's: a body of at most 1,024 characters).
const (
	maxTemplateBody   = 1024
	maxTemplateParams = 20
)

var (
	templateParam = regexp.MustCompile(`\{\{\s*(\d+)\s*\}\}`)
	templateLang  = regexp.MustCompile(`^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})*$`)
	contentSID    = regexp.MustCompile(`^HX[0-9a-fA-F]{32}$`)
)

type messageTemplateInput struct {
	Name       *string `json:"name" validate:"omitnil,notblank,max=100"`
	Language   *string `json:"language" validate:"omitnil,max=20"`
	Body       *string `json:"body"`
	ContentSID *string `json:"contentSid" validate:"omitnil,max=64"`
}

// templateParams is how many parameters a body has; its placeholders must be {{1}}..{{N}}.
func templateParams(body string) (int, string) {
	var nums []int
	for _, m := range templateParam.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.Atoi(m[1])
		if !slices.Contains(nums, n) {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	for i, n := range nums {
		if n != i+1 {
			return 0, fmt.Sprintf("parameters must be numbered {{1}} to {{%d}} without gaps (found %v)", len(nums), nums)
		}
	}
	if len(nums) > maxTemplateParams {
		return 0, fmt.Sprintf("has %d parameters; at most %d", len(nums), maxTemplateParams)
	}
	return len(nums), ""
}

func messageTemplateProblems(t *schema.MessageTemplate) map[string]string {
	fields := map[string]string{}
	if t.Name == "" {
		fields["name"] = "is required"
	}
	if !templateLang.MatchString(t.Language) {
		fields["language"] = "must be a language code such as en, pt_BR or es-419"
	}
	switch n := utf8.RuneCountInString(t.Body); {
	case strings.TrimSpace(t.Body) == "":
		fields["body"] = "is required"
	case n > maxTemplateBody:
		fields["body"] = fmt.Sprintf("must be at most %d characters (it has %d)", maxTemplateBody, n)
	default:
		if _, problem := templateParams(t.Body); problem != "" {
			fields["body"] = problem
		}
	}
	if !contentSID.MatchString(t.ContentSID) {
		fields["contentSid"] = "must be the provider's content id: HX followed by 32 hex digits"
	}
	return fields
}

func (in *messageTemplateInput) apply(t *schema.MessageTemplate) {
	if in.Name != nil {
		t.Name = strings.TrimSpace(*in.Name)
	}
	if in.Language != nil {
		t.Language = strings.TrimSpace(*in.Language)
	}
	set(&t.Body, in.Body)
	if in.ContentSID != nil {
		t.ContentSID = strings.TrimSpace(*in.ContentSID)
	}
}

var messageTemplates = &configResource[schema.MessageTemplate]{entity: "message_template", noun: "message template",
	columns: []string{"name", "language", "body", "content_sid", "updated_at"},
	id:      func(t *schema.MessageTemplate) string { return t.ID },
	version: func(t *schema.MessageTemplate) *int { return &t.Version },
	writeError: func(t *schema.MessageTemplate, err error) error {
		if uniqueViolation(err) {
			return errConflict("a message template named %q exists already", t.Name)
		}
		return err
	},
}

func (s *Server) loadMessageTemplate(c context.Context, id string) (*schema.MessageTemplate, error) {
	return messageTemplates.load(c, s.db, id)
}

func (s *Server) listMessageTemplates(c *fiber.Ctx) error {
	return messageTemplates.list(c, s.db, configList[schema.MessageTemplate]{filter: nameFilter})
}

func (s *Server) createMessageTemplate(c *fiber.Ctx) error {
	var in messageTemplateInput
	if err := decode(c, &in); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	t := schema.MessageTemplate{ID: uuid.Must(uuid.NewV7()).String(), CreatedAt: now, UpdatedAt: now}
	in.apply(&t)
	if fields := messageTemplateProblems(&t); len(fields) > 0 {
		return errInvalid(fields)
	}
	return writeConfig(c, s.db, messageTemplates, &t, nil, "create", fiber.StatusCreated)
}

func (s *Server) updateMessageTemplate(c *fiber.Ctx) error {
	var in messageTemplateInput
	if err := decode(c, &in); err != nil {
		return err
	}
	before, err := s.loadMessageTemplate(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	t := *before
	t.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	in.apply(&t)
	if fields := messageTemplateProblems(&t); len(fields) > 0 {
		return errInvalid(fields)
	}
	return writeConfig(c, s.db, messageTemplates, &t, before, "update", fiber.StatusOK)
}

func (s *Server) deleteMessageTemplate(c *fiber.Ctx) error {
	ctx := c.UserContext()
	before, err := s.loadMessageTemplate(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	if err := messageTemplates.remove(ctx, s.db, principal(c).Person.ID, before, nil); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type templateSendInput struct {
	TemplateID *string   `json:"templateId" validate:"required,min=1,max=64"`
	Parameters *[]string `json:"parameters" validate:"omitnil,max=20,dive,max=1000"`
}

// sendWhatsAppTemplate is POST /tickets/{id}/whatsapp-template.
func (s *Server) sendWhatsAppTemplate(c *fiber.Ctx) error {
	var in templateSendInput
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.UserContext()
	wa := s.cfg.WhatsApp
	if wa == nil {
		return errConflict("WhatsApp is not configured")
	}
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	contact, _, err := s.whatsappContactOf(ctx, t.ID)
	if err != nil {
		return err
	}
	if contact == "" {
		return errConflict("ticket %d is not a WhatsApp conversation", t.ID)
	}
	tpl, err := s.loadMessageTemplate(ctx, *in.TemplateID)
	if err != nil {
		if isNotFound(err) {
			return errField("templateId", "no message template with id %s", *in.TemplateID)
		}
		return err
	}
	var params []string
	if in.Parameters != nil {
		params = *in.Parameters
	}
	n, _ := templateParams(tpl.Body)
	if len(params) != n {
		return errField("parameters", "template %s takes %d parameters; %d given", tpl.Name, n, len(params))
	}
	vars := map[string]string{}
	body := templateParam.ReplaceAllStringFunc(tpl.Body, func(m string) string {
		i, _ := strconv.Atoi(templateParam.FindStringSubmatch(m)[1])
		return params[i-1]
	})
	for i, p := range params {
		vars[strconv.Itoa(i+1)] = p
	}
	arg := &workflows.AddActionInput{Actor: actor(c), Type: "public", Body: body, Origin: schema.OriginAPI,
		Kind: schema.KindText, HTML: renderBody(body)}
	var after schema.Ticket
	accepted, err := s.runUpdate(c, t, workflows.UpdateAddAction, arg, &after)
	switch {
	case err != nil:
		return err
	case accepted != nil:
		return c.Status(fiber.StatusAccepted).JSON(accepted)
	}
	key := fmt.Sprintf("ticket/%d/%d", t.ID, after.ActionCount)
	err = schema.SendOnce(ctx, s.db, key, contact, body, tpl.ContentSID, func() (string, error) {
		return wa.Sender.Send(ctx, channel.Outbound{To: contact, TemplateID: tpl.ContentSID, TemplateVars: vars})
	})
	if err != nil {
		s.log.Warn("WhatsApp template not sent", "ticket", t.ID, "err", err)
		e := errUnavailable("WhatsApp")
		e.Message = fmt.Sprintf("the message is on ticket %d but WhatsApp did not take it: %v", t.ID, err)
		return e
	}
	return s.respondMessageByAction(c, t.ID, after.ActionCount, fiber.StatusCreated)
}
