package api

import (
	"bufio"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
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
func (s *Server) stream(c *fiber.Ctx) error {
	agentID := principal(c).Person.ID
	events, cancel := s.hub.Subscribe(agentID)
	done := s.shutdown
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderConnection, "keep-alive")
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(fasthttp.StreamWriter(func(w *bufio.Writer) {
		defer cancel()
		fmt.Fprintf(w, ": connected as %s\n\n", agentID)
		if w.Flush() != nil {
			return
		}
		tick := time.NewTicker(streamHeartbeat)
		defer tick.Stop()
		for {
			select {
			case e := <-events:
				fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, e.Data)
			case <-tick.C:
				fmt.Fprint(w, ": heartbeat\n\n")
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
