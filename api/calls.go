package api

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

func (s *Server) callRoutes(r fiber.Router) {
	r.Get("/calls", requirePerm(PermTicketsRead), staffOnly, s.listCalls)
	r.Get("/calls/:id", requirePerm(PermTicketsRead), staffOnly, s.getCall)
}

var callStates = []string{workflows.CallQueued, workflows.CallOffered, workflows.CallOngoing, workflows.CallCompleted,
	workflows.CallMissed, workflows.CallCanceled, workflows.CallNoEnd}

// callSummary leaves the timeline out of lists.
type callSummary struct {
	schema.Call
	Events   []schema.CallEvent `json:"events,omitempty"`
	Workflow workflowRef        `json:"workflow"`
}

func (s *Server) callRef(id string) workflowRef {
	return s.workflowLink(workflows.CallWorkflowID(id), "")
}

// getCall is a call with its timeline, for supervisors.
func (s *Server) getCall(c *fiber.Ctx) error {
	call, err := findOne[schema.Call](c.UserContext(), s.db, "id", c.Params("id"), "no call with id %s", c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(callSummary{Call: *call, Events: orEmptyOf(call.Events), Workflow: s.callRef(call.ID)})
}

// listCalls lists calls, newest first: state (comma-separated), queueId, agentId, callerId,
// clientNumber, receivedFrom/receivedTo (RFC 3339), limit, cursor.
func (s *Server) listCalls(c *fiber.Ctx) error {
	limit, cur, err := pageParams(c)
	if err != nil {
		return err
	}
	q := s.db.NewSelect().Model((*schema.Call)(nil)).ExcludeColumn("events").
		OrderExpr("received_at DESC, id DESC").Limit(int64(limit + 1))
	if cur != nil {
		at, err := time.Parse(time.RFC3339Nano, cur.Value)
		if err != nil {
			return errField("cursor", "is not a cursor this API issued")
		}
		q = q.Where("(received_at, id) < (?, ?)", at, cur.ID)
	}
	if states := csv(c.Query("state")); len(states) > 0 {
		for _, st := range states {
			if !contains(callStates, st) {
				return errField("state", "unknown state %q; allowed: %s", st, strings.Join(callStates, ", "))
			}
		}
		q = q.Where("state IN (?)", bun.In(states))
	}
	for param, column := range map[string]string{"agentId": "agent_id", "callerId": "caller_id", "clientNumber": "client_number"} {
		if v := c.Query(param); v != "" {
			q = q.Where("? = ?", bun.Ident(column), v)
		}
	}
	if v := c.Query("queueId"); v != "" {
		q = q.Where("queue_id::text = ?", v)
	}
	for param, op := range map[string]string{"receivedFrom": ">=", "receivedTo": "<"} {
		if v := c.Query(param); v != "" {
			t, err := parseTime(param, v)
			if err != nil {
				return err
			}
			q = q.Where("received_at "+op+" ?", t)
		}
	}
	var rows []schema.Call
	if err := q.Scan(c.UserContext(), &rows); err != nil {
		return err
	}
	items := make([]callSummary, len(rows))
	for i, r := range rows {
		items[i] = callSummary{Call: r, Workflow: s.callRef(r.ID)}
		items[i].Call.Events = nil
	}
	return c.JSON(makePage(items, limit, func(cs callSummary) cursor {
		return cursor{Value: cs.ReceivedAt.Format(time.RFC3339Nano), ID: cs.ID}
	}))
}
