package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/switchboardhq/switchboard/workflows"
)

// Visitors start chats through an API process that is killed with SIGKILL in the middle: every
// session whose start was answered 201 exists once, with its workflow, and its visitor token
// goes on working through a new API process; a start that got no answer left either a whole
// chat (row and workflow) or nothing; the agent then takes every chat once.
func TestChatsAcrossAKilledAPI(t *testing.T) {
	temporalAddr, _ := services(t)
	s := newStack(t, stackOptions{worker: true})
	defer s.close()
	site := s.chatSite(t)
	port := freePort(t)
	apiEnv := s.procEnv(temporalAddr, fmt.Sprintf("SWITCHBOARD_HTTP_ADDR=127.0.0.1:%d", port), "SWITCHBOARD_ADMIN_TOKEN="+s.admin)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	startAPI := func() *proc {
		p := startProc(t, apiEnv, "api")
		eventually(t, 30*time.Second, func() bool {
			res, err := http.Get(base + "/readyz")
			if err == nil {
				res.Body.Close()
			}
			return err == nil && res.StatusCode == 200
		}, "the API process is ready")
		return p
	}
	api := startAPI()

	type started struct {
		Session struct {
			ID string `json:"id"`
		} `json:"session"`
		VisitorToken string `json:"visitorToken"`
	}
	const visitors = 30
	var mu sync.Mutex
	var answered []started
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 30 * time.Second}
	for i := range visitors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 30 * time.Millisecond) // spread over the kill
			body, _ := json.Marshal(map[string]any{"widgetKey": site.widget.Key, "name": fmt.Sprintf("Visitor %d", i)})
			req, _ := http.NewRequest("POST", base+"/public/chat/v1/sessions", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", shopOrigin)
			res, err := hc.Do(req)
			if err != nil {
				return // the process died under the request: no answer
			}
			defer res.Body.Close()
			if res.StatusCode != 201 {
				return
			}
			var st started
			if json.NewDecoder(res.Body).Decode(&st) == nil {
				mu.Lock()
				answered = append(answered, st)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(400 * time.Millisecond)
	api.kill(t)
	wg.Wait()
	t.Logf("%d of %d starts answered 201 before the kill", len(answered), visitors)
	require.NotEmpty(t, answered, "some starts were answered before the kill")
	require.Less(t, len(answered), visitors, "the kill fell among the starts")
	startAPI()
	other := &stack{base: base, router: openAPIRouter(t, base)}

	// Every chat of the widget, answered or not, is whole: its row and its workflow.
	var ids []string
	require.NoError(t, s.db.NewRaw("SELECT id FROM chats WHERE widget_id = ?", site.widget.ID).Scan(context.Background(), &ids))
	t.Logf("%d chats stored", len(ids))
	views := s.chatViews(t, ids)
	require.Len(t, views, len(ids))
	for _, st := range answered {
		require.Contains(t, ids, st.Session.ID, "an answered start has its chat")
		// The visitor's token works through the new process.
		other.call(t, st.VisitorToken, "POST", "/public/chat/v1/sessions/"+st.Session.ID+"/messages",
			map[string]any{"body": "still there?", "clientMessageId": "after-kill"}, fromShop).expect(201)
	}
	// A workflow that a start began but whose row was never written would be a chat nobody can
	// see: the group's chat workflows (by search attribute) are exactly the rows.
	eventually(t, 30*time.Second, func() bool {
		res, err := s.tc.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{
			Query: fmt.Sprintf("ChatGroup = '%s'", site.group.ID)})
		return err == nil && res.GetCount() == int64(len(ids))
	}, "one workflow per chat row")
	for _, id := range ids {
		s.agentDo(t, id, workflows.UpdateChatAccept, workflows.AcceptChatInput{AgentID: site.agent})
	}
	for id, v := range s.chatViews(t, ids) {
		require.Equal(t, workflows.ChatActive, v.Chat.State, id)
		require.Equal(t, []string{site.agent}, v.Chat.AgentIDs, id)
	}
}
