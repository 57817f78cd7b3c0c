package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/workflows"
)

// The offline flow's timers and writes are durable: the message window's close falls due while
// the worker is killed with SIGKILL and fires once a new worker runs (never early), and a chat
// ticket written while its table is locked past every timeout lands once the lock goes.

func TestOfflineWindowCloseSurvivesAKilledWorker(t *testing.T) {
	temporalAddr, _ := services(t)
	s := newStack(t, stackOptions{worker: false})
	defer s.close()
	workerEnv := s.procEnv(temporalAddr)
	w := startProc(t, workerEnv, "worker")
	site := s.chatSite(t)
	s.call(t, s.admin, "PUT", "/api/v1/agents/"+site.agent+"/chat", map[string]any{"status": "offline"}).expect(200)
	s.call(t, s.admin, "PATCH", "/api/v1/chat-groups/"+site.group.ID, map[string]any{"offline": map[string]any{"intakeClose": "1m"}}).expect(200)

	v := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key, "name": "Kim"})
	require.Equal(t, workflows.ChatOffline, v.Session.State)
	s.visitorSays(t, v, "yes")
	s.visitorSays(t, v, "the invoice is wrong")
	lastAt := time.Now()
	var ticketID int64
	eventually(t, 20*time.Second, func() bool {
		c := s.visitorSession(t, v)
		if c.TicketID != nil {
			ticketID = *c.TicketID
		}
		return ticketID != 0
	}, "the ticket is made")
	w.kill(t)

	// The window's close (1m after the last message) falls due with no worker.
	time.Sleep(time.Until(lastAt.Add(70 * time.Second)))
	require.Equal(t, workflows.ChatOffline, s.visitorSession(t, v).State, "no worker, no close")

	startProc(t, workerEnv, "worker")
	c := s.waitClosed(t, v)
	require.Equal(t, workflows.CloseOfflineFlow, *c.CloseReason)
	row := s.chatTicketRow(t, ticketID)
	require.NotNil(t, row.IntakeClosedAt)
	require.False(t, row.IntakeClosedAt.Before(lastAt.Add(time.Minute)), "never early: %v after the last message", row.IntakeClosedAt.Sub(lastAt))
	tk := s.ticket(t, s.admin, ticketID)
	require.Len(t, tk.Actions, 1)
	require.Equal(t, "the invoice is wrong", tk.Actions[0].Body)
}

func TestOfflineTicketWaitsOutALockedTable(t *testing.T) {
	s := env(t)
	site := s.chatSite(t)
	s.call(t, s.admin, "PUT", "/api/v1/agents/"+site.agent+"/chat", map[string]any{"status": "offline"}).expect(200)
	v := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key, "name": "Lou", "message": "locked out"})
	release := s.lockTables(t, "ACCESS EXCLUSIVE", "chat_tickets")
	s.visitorSays(t, v, "yes")
	time.Sleep(stallFor - 5*time.Second) // past every database timeout of the code
	require.Nil(t, s.visitorSession(t, v).TicketID, "nothing lands while the table is locked")
	release()
	var ticketID int64
	eventually(t, 90*time.Second, func() bool {
		c := s.visitorSession(t, v)
		if c.TicketID != nil {
			ticketID = *c.TicketID
		}
		return ticketID != 0
	}, "the ticket is made once the lock goes")
	eventually(t, 20*time.Second, func() bool {
		return s.call(t, s.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d", ticketID), nil).status == 200
	}, "the ticket is stored")
	tk := s.ticket(t, s.admin, ticketID)
	require.Len(t, tk.Actions, 1, "the message once")
	require.Equal(t, "locked out", tk.Actions[0].Body)
	var n int
	require.NoError(t, s.db.NewRaw("SELECT count(*) FROM chat_tickets WHERE chat_id = ?", v.Session.ID).Scan(t.Context(), &n))
	require.Equal(t, 1, n, "one chat ticket")
}
