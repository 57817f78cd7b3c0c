package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/api"
	"github.com/switchboardhq/switchboard/workflows"
)

// agentFrames opens /api/v1/stream with the token and answers its events with their data.
func (s *stack) agentFrames(t *testing.T, token string) *chatStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", s.base+"/api/v1/stream?token="+url.QueryEscape(token), nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	out := &chatStream{events: make(chan chatEvent, 256), cancel: func() { cancel(); res.Body.Close() }}
	go scanSSE(res.Body, out.events)
	t.Cleanup(out.cancel)
	return out
}

type queueLength struct {
	GroupID string `json:"groupId"`
	Name    string `json:"name"`
	Length  int    `json:"length"`
}

type queuesEvent struct {
	Queues []queueLength `json:"queues"`
}

// queueLength waits for a chat.queues event in which the group's queue has n chats.
func (c *chatStream) queueLength(t *testing.T, groupID string, n int) {
	t.Helper()
	c.await(t, "chat.queues", func(data json.RawMessage) bool {
		var q queuesEvent
		require.NoError(t, json.Unmarshal(data, &q))
		return slices.ContainsFunc(q.Queues, func(g queueLength) bool { return g.GroupID == groupID && g.Length == n })
	}, fmt.Sprintf("%d chats in group %s", n, groupID))
}

// Supervisors (admins) see every chat group's queue length on their stream: at once when it
// opens, then as visitors queue and agents accept; agents' streams carry no queue lengths.
func TestChatQueueLengthsOnSupervisorStreams(t *testing.T) {
	s := env(t)
	site := s.chatSite(t)
	p := s.newPeople(t)
	sup := s.agentFrames(t, s.admin)
	agent := s.agentFrames(t, p.agentTok)
	// An admin's token narrowed to tickets:read reads the stream but is no supervisor's.
	narrow := s.agentFrames(t, s.mintOK(t, s.admin, s.operatorID(t), api.PermTicketsRead))
	sup.queueLength(t, site.group.ID, 0)

	v1 := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key})
	sup.queueLength(t, site.group.ID, 1)
	v2 := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key})
	sup.queueLength(t, site.group.ID, 2)
	s.agentDo(t, v1.Session.ID, workflows.UpdateChatAccept, workflows.AcceptChatInput{AgentID: site.agent})
	sup.queueLength(t, site.group.ID, 1)
	s.agentDo(t, v2.Session.ID, workflows.UpdateChatAccept, workflows.AcceptChatInput{AgentID: site.agent})
	sup.queueLength(t, site.group.ID, 0)

	// A supervisor who connects now gets the lengths at once.
	late := s.agentFrames(t, s.admin)
	late.queueLength(t, site.group.ID, 0)

	for _, st := range []*chatStream{agent, narrow} {
		for drained := false; !drained; {
			select {
			case ev := <-st.events:
				require.NotEqual(t, "chat.queues", ev.Event, "only a supervisor's stream carries queue lengths")
			default:
				drained = true
			}
		}
	}
}
