package api

import (
	"bufio"
	"context"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"github.com/switchboardhq/switchboard/workflows"
)

func (s *Server) streamRoutes(r fiber.Router) {
	// The call screen shows calls, which are read with tickets:read.
	r.Get("/stream", requirePerm(PermTicketsRead), staffOnly, s.stream)
}

// streamHeartbeat keeps idle connections (and proxies) from timing out.
const streamHeartbeat = 15 * time.Second

// stream is the agent's live events as Server-Sent Events: `call.transferred` tells the client
// to open the call screen, `call.ended` to close it; each event's data is the call as JSON.
// Browsers' EventSource cannot send headers, so this route also takes ?token=.
//
// The stream is also the agent's chat presence: the chat distributor hears that it opened, a
// beat every workflows.StreamBeatEvery while it is open, and that it closed (see
// docs/chat-distribution.md). These signals are best effort: a lost beat is made good by the
// next, and a stream whose beats stop (an API process killed) stops counting after two beats.
func (s *Server) stream(c *fiber.Ctx) error {
	agentID := principal(c).Person.ID
	supervisor := principal(c).can(PermConfigWrite)
	streamID := uuid.NewString()
	s.agentStreamed(c.UserContext(), workflows.AgentStream{AgentID: agentID, StreamID: streamID})
	events, cancel := s.hub.Subscribe(agentID)
	done := s.shutdown
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderConnection, "keep-alive")
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(fasthttp.StreamWriter(func(w *bufio.Writer) {
		defer cancel()
		defer s.agentStreamed(context.Background(), workflows.AgentStream{AgentID: agentID, StreamID: streamID, Closed: true})
		beat := time.NewTicker(workflows.StreamBeatEvery)
		defer beat.Stop()
		var queues <-chan struct{} // nil (never ready) unless a supervisor's
		watch := &queueWatch{s: s}
		sendQueues := func() {
			if data := watch.next(context.Background()); data != nil {
				fmt.Fprintf(w, "event: chat.queues\ndata: %s\n\n", data)
			}
		}
		fmt.Fprintf(w, ": connected as %s\n\n", agentID)
		if supervisor {
			q, cancelQueues := s.hub.SubscribeQueues()
			defer cancelQueues()
			queues = q
			sendQueues()
		}
		if w.Flush() != nil {
			return
		}
		tick := time.NewTicker(streamHeartbeat)
		defer tick.Stop()
		for {
			select {
			case e := <-events:
				fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, e.Data)
			case <-queues:
				sendQueues()
			case <-tick.C:
				fmt.Fprint(w, ": heartbeat\n\n")
			case <-beat.C:
				s.agentStreamed(context.Background(), workflows.AgentStream{AgentID: agentID, StreamID: streamID})
				continue
			case <-done:
				return
			}
			if w.Flush() != nil {
				return // the client went away
			}
		}
	}))
	return nil
}

// agentStreamed tells the chat distributor about one of an agent's streams (best effort).
func (s *Server) agentStreamed(ctx context.Context, st workflows.AgentStream) {
	if s.temporal == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := workflows.SignalChatDistributor(ctx, s.temporal, s.cfg.TaskQueue, workflows.SignalAgentStreamed, st); err != nil {
		s.log.Warn("telling the chat distributor about an agent stream failed", "agent", st.AgentID, "err", err)
	}
}
