package api

import (
	"crypto/rand"
	"encoding/base32"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// Video sessions: an agent opens one from a ticket; it is Open at once, linked to the ticket,
// and its join link reaches the customer as a video_session message. The link is the
// configured template with an unguessable room (VideoURLTemplate); without a template, or for
// a team that turned them off, the endpoint is 409 and the ticket's messenger capabilities
// say so. Closing the ticket closes its sessions (schema.SaveTicket).
func (s *Server) videoSessionRoutes(r fiber.Router) {
	r.Post("/tickets/:id/video-sessions", requirePerm(PermTicketsWrite), staffOnly, s.createVideoSession)
	r.Get("/tickets/:id/video-sessions", requirePerm(PermTicketsRead), s.listVideoSessions)
}

// capabilities is what a ticket's messenger offers its reader, so a client shows only what
// works: whether they may send a message now, and whether video sessions can be opened.
type capabilities struct {
	CanSend       bool   `json:"canSend"`
	CanSendReason string `json:"canSendReason,omitempty"`
	VideoSessions bool   `json:"videoSessions"`
	VideoReason   string `json:"videoSessionsReason,omitempty"`
}

func (s *Server) messengerCapabilities(c *fiber.Ctx, t *schema.Ticket) (capabilities, error) {
	p := principal(c)
	var cp capabilities
	switch {
	case workflows.IsTerminal(t.BaseStatus):
		cp.CanSendReason = "the ticket is " + t.BaseStatus
	case !p.isCustomer() && s.cfg.MessengerRequireOwner && (t.OwnerID == nil || *t.OwnerID != p.Person.ID):
		cp.CanSendReason = "accept the ticket or have it assigned to you first (internal notes are open)"
	default:
		cp.CanSend = true
	}
	if p.isCustomer() {
		return cp, nil
	}
	reason, err := s.videoOff(c, t)
	if err != nil {
		return cp, err
	}
	cp.VideoSessions, cp.VideoReason = reason == "", reason
	return cp, nil
}

// videoOff says why video sessions cannot be opened on the ticket ("" when they can).
func (s *Server) videoOff(c *fiber.Ctx, t *schema.Ticket) (string, error) {
	if s.cfg.VideoURLTemplate == "" {
		return "video sessions are not configured (SWITCHBOARD_VIDEO_URL_TEMPLATE)", nil
	}
	if workflows.IsTerminal(t.BaseStatus) {
		return "the ticket is " + t.BaseStatus, nil
	}
	if t.TeamID != nil {
		var team schema.Team
		err := s.db.NewSelect().Model(&team).Where("id = ?", *t.TeamID).Scan(c.UserContext())
		if err != nil && !isNoRows(err) {
			return "", err
		}
		if err == nil && !team.VideoSessions {
			return "video sessions are turned off for team " + team.Name, nil
		}
	}
	return "", nil
}

func (s *Server) createVideoSession(c *fiber.Ctx) error {
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	if reason, err := s.videoOff(c, t); err != nil || reason != "" {
		if err != nil {
			return err
		}
		return errConflict("cannot open a video session on ticket %d: %s", t.ID, reason)
	}
	room := newRoom()
	v := &schema.VideoOpened{ID: uuid.Must(uuid.NewV7()).String(), Room: room,
		URL: strings.ReplaceAll(s.cfg.VideoURLTemplate, "{room}", room), CreatedBy: principal(c).Person.ID}
	body := "Join the video session: " + v.URL
	// The session is stored by the ticket's projection with the message that announces it.
	in := &workflows.AddActionInput{Actor: actor(c), Type: "public", Body: body, Origin: schema.OriginAPI,
		Kind: schema.KindVideoSession, HTML: renderBody(body), RequireOwner: s.cfg.MessengerRequireOwner, Video: v}
	var after schema.Ticket
	accepted, err := s.runUpdate(c, t, workflows.UpdateAddAction, in, &after)
	if err != nil {
		return err
	}
	if accepted != nil {
		return c.Status(fiber.StatusAccepted).JSON(accepted)
	}
	var stored schema.VideoSession
	if err := s.db.NewSelect().Model(&stored).Where("id = ?", v.ID).Scan(c.UserContext()); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(stored)
}

func (s *Server) listVideoSessions(c *fiber.Ctx) error {
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	out := []schema.VideoSession{}
	if err := s.db.NewSelect().Model(&out).Where("ticket_id = ?", t.ID).Order("created_at", "id").Scan(c.UserContext()); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": out})
}

// newRoom is an unguessable room name (128 random bits).
func newRoom() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
