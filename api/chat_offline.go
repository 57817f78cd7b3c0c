package api

import (
	"context"
	"time"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// offlineReason says whether a new visitor chat of group g goes straight to the offline flow
// (../shared/seeds/chat-desk-tickets.txt) and why: outside the group's business hours (its
// calendar, holidays and exceptions included; no calendar is always open), or no agent of the
// group online (chat presence online and the person active). "" is a live chat: it queues, and
// the workflow moves it to the offline flow itself if it waits queueWait. A calendar that no
// longer compiles counts as always open, as it does for SLAs.
func (s *Server) offlineReason(ctx context.Context, g *schema.ChatGroup, now time.Time) (string, error) {
	if g.CalendarID != nil {
		cal, err := s.loadCalendar(ctx, *g.CalendarID)
		if err != nil && !isNotFound(err) {
			return "", err
		}
		if err == nil {
			if c, err := cal.Spec().Compile(); err == nil && !c.IsOpen(now) {
				return workflows.OfflineOutOfHours, nil
			}
		}
	}
	var online bool
	err := s.db.NewRaw(`SELECT EXISTS (SELECT 1 FROM chat_group_members m
		JOIN agent_chat_presence p ON p.agent_id = m.agent_id
		JOIN persons a ON a.id = m.agent_id
		WHERE m.group_id = ? AND p.status = ? AND a.is_active)`, g.ID, schema.ChatOnline).Scan(ctx, &online)
	if err != nil {
		return "", err
	}
	if !online {
		return workflows.OfflineNoAgent, nil
	}
	return "", nil
}
