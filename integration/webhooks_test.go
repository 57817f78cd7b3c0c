package integration

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/switchboardhq/switchboard/internal/webhook"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// receiver is a webhook receiver on 127.0.0.1 that answers fail (with 500) to its first
// requests and 200 after, and keeps every request.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	fail int
	got  []received
}

type received struct {
	at     time.Time
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, fail int) *receiver {
	r := &receiver{fail: fail}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{at: time.Now(), header: req.Header.Clone(), body: body})
		n := len(r.got)
		r.mu.Unlock()
		if n <= r.fail {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("try later"))
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// verify checks a request's Standard Webhooks signature with a secret, computed here rather
// than with the package that signs.
func verify(t *testing.T, secret string, r received) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	require.NoError(t, err)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.header.Get("webhook-id") + "." + r.header.Get("webhook-timestamp") + "."))
	mac.Write(r.body)
	return r.header.Get("webhook-signature") == "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type webhookJSON struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	URL      string  `json:"url"`
	IsActive bool    `json:"isActive"`
	Secret   *string `json:"secret"`
}

type deliveryJSON struct {
	ID             string          `json:"id"`
	WebhookID      string          `json:"webhookId"`
	TicketID       *int64          `json:"ticketId"`
	State          string          `json:"state"`
	AttemptCount   int             `json:"attemptCount"`
	LastStatusCode *int            `json:"lastStatusCode"`
	RedeliveryOf   *string         `json:"redeliveryOf"`
	Payload        json.RawMessage `json:"payload"`
	Attempts       []struct {
		Attempt         int     `json:"attempt"`
		StatusCode      *int    `json:"statusCode"`
		ResponseExcerpt string  `json:"responseExcerpt"`
		Error           *string `json:"error"`
		URL             string  `json:"url"`
		LatencyMS       int64   `json:"latencyMs"`
	} `json:"attempts"`
}

func (s *stack) createWebhook(t *testing.T, url string) webhookJSON {
	t.Helper()
	var h webhookJSON
	s.call(t, s.admin, "POST", "/api/v1/webhooks", map[string]any{"name": "Receiver " + randomName(""), "url": url}).
		expect(201).decode(&h)
	return h
}

func (s *stack) deliveries(t *testing.T, path string) []deliveryJSON {
	t.Helper()
	var p struct {
		Data []deliveryJSON `json:"data"`
	}
	s.call(t, s.admin, "GET", path, nil).expect(200).decode(&p)
	return p.Data
}

// deliver starts a delivery the way the ticket workflow does, and waits for its end.
func (s *stack) deliver(t *testing.T, hook string, ticketID int64) (string, workflows.WebhookDeliveryState) {
	t.Helper()
	id := randomName("dlv-")
	payload, err := json.Marshal(map[string]any{"event": "ticket.updated", "deliveryId": id, "triggerId": "tr-1",
		"ticket": map[string]any{"id": ticketID}, "changes": map[string]any{"urgency": []string{"Low", "High"}}})
	require.NoError(t, err)
	in := workflows.WebhookDeliveryInput{DeliveryID: id, WebhookID: hook, Event: "ticket.updated", TicketID: ticketID,
		TriggerID: "tr-1", Payload: payload}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.WebhookWorkflowID(id), TaskQueue: s.taskQueue},
		workflows.WebhookWorkflowType, in)
	require.NoError(t, err)
	var st workflows.WebhookDeliveryState
	require.NoError(t, run.Get(ctx, &st))
	return id, st
}

func TestWebhookDeliveryRetriesSignsAndLogs(t *testing.T) {
	s := env(t)
	recv := newReceiver(t, 2)
	hook := s.createWebhook(t, recv.URL+"/hooks")
	require.NotNil(t, hook.Secret)
	require.True(t, strings.HasPrefix(*hook.Secret, "whsec_"))
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(*hook.Secret, "whsec_"))
	require.NoError(t, err)
	require.Len(t, key, 32)
	tk := s.createTicket(t, s.admin, map[string]any{"subject": "Webhook test", "description": "x"})

	id, st := s.deliver(t, hook.ID, tk.ID)
	require.Equal(t, schema.DeliverySucceeded, st.State)
	require.Equal(t, 3, st.Attempts, "two failures, then success on the third attempt")

	got := recv.requests()
	require.Len(t, got, 3)
	for i, r := range got {
		require.Equal(t, id, r.header.Get("webhook-id"))
		require.True(t, verify(t, *hook.Secret, r), "attempt %d verifies with the secret from creation", i+1)
		ts := time.Unix(mustInt(t, r.header.Get("webhook-timestamp")), 0)
		require.WithinDuration(t, r.at, ts, 2*time.Second, "the timestamp is the attempt's")
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
	}
	require.GreaterOrEqual(t, got[1].at.Sub(got[0].at), 300*time.Millisecond, "first wait")
	require.GreaterOrEqual(t, got[2].at.Sub(got[1].at), 600*time.Millisecond, "the wait doubles")
	var body map[string]any
	require.NoError(t, json.Unmarshal(got[0].body, &body))
	require.Equal(t, id, body["deliveryId"])

	// The execution log: the delivery with its three attempts.
	log := s.deliveries(t, "/api/v1/webhooks/"+hook.ID+"/deliveries")
	require.Len(t, log, 1)
	d := log[0]
	require.Equal(t, id, d.ID)
	require.Equal(t, schema.DeliverySucceeded, d.State)
	require.Equal(t, 3, d.AttemptCount)
	require.Equal(t, 200, *d.LastStatusCode)
	require.Len(t, d.Attempts, 3)
	for i, want := range []int{500, 500, 200} {
		a := d.Attempts[i]
		require.Equal(t, i+1, a.Attempt)
		require.Equal(t, want, *a.StatusCode)
		require.Equal(t, recv.URL+"/hooks", a.URL)
		require.Nil(t, a.Error)
	}
	require.Equal(t, "try later", d.Attempts[0].ResponseExcerpt)
	require.Equal(t, "ok", d.Attempts[2].ResponseExcerpt)
	byTicket := s.deliveries(t, fmt.Sprintf("/api/v1/tickets/%d/webhook-deliveries", tk.ID))
	require.Len(t, byTicket, 1)
	require.Equal(t, id, byTicket[0].ID)
	require.Empty(t, s.deliveries(t, "/api/v1/webhooks/"+hook.ID+"/deliveries?state=dead,skipped"))

	// A redelivery is a new delivery of the same payload, on its own workflow.
	var re deliveryJSON
	s.call(t, s.admin, "POST", "/api/v1/webhooks/"+hook.ID+"/deliveries/"+id+"/redeliver", nil).expect(202).decode(&re)
	require.NotEqual(t, id, re.ID)
	require.Equal(t, id, *re.RedeliveryOf)
	require.Equal(t, tk.ID, *re.TicketID)
	s.waitDelivery(t, hook.ID, re.ID, schema.DeliverySucceeded)
	got = recv.requests()
	require.Len(t, got, 4)
	require.Equal(t, re.ID, got[3].header.Get("webhook-id"))
	require.JSONEq(t, string(got[0].body), string(got[3].body), "the same payload")
	require.True(t, verify(t, *hook.Secret, got[3]))
	log = s.deliveries(t, "/api/v1/webhooks/"+hook.ID+"/deliveries")
	require.Equal(t, []string{re.ID, id}, []string{log[0].ID, log[1].ID}, "newest first")
	require.Equal(t, 1, log[0].AttemptCount)

	// After a rotation, attempts are signed with the new secret.
	var rotated webhookJSON
	s.call(t, s.admin, "POST", "/api/v1/webhooks/"+hook.ID+"/rotate-secret", nil).expect(200).decode(&rotated)
	require.NotNil(t, rotated.Secret)
	require.NotEqual(t, *hook.Secret, *rotated.Secret)
	s.call(t, s.admin, "POST", "/api/v1/webhooks/"+hook.ID+"/deliveries/"+id+"/redeliver", nil).expect(202).decode(&re)
	s.waitDelivery(t, hook.ID, re.ID, schema.DeliverySucceeded)
	got = recv.requests()
	require.True(t, verify(t, *rotated.Secret, got[4]))
	require.False(t, verify(t, *hook.Secret, got[4]))

	// The secret is shown at creation and rotation only, and never audited.
	var plain map[string]any
	s.call(t, s.admin, "GET", "/api/v1/webhooks/"+hook.ID, nil).expect(200).decode(&plain)
	require.NotContains(t, plain, "secret")
	var leaked int
	require.NoError(t, s.db.NewRaw(`SELECT count(*) FROM audit_log WHERE entity_id = ? AND (before::text LIKE '%whsec_%' OR after::text LIKE '%whsec_%')`,
		hook.ID).Scan(context.Background(), &leaked))
	require.Zero(t, leaked)
	var audited []string
	require.NoError(t, s.db.NewRaw(`SELECT action FROM audit_log WHERE entity = 'webhook' AND entity_id = ? ORDER BY id`, hook.ID).
		Scan(context.Background(), &audited))
	require.Equal(t, []string{"create", "rotate-secret"}, audited)

	// Deliveries to a deactivated webhook are not sent: skipped.
	var off webhookJSON
	s.call(t, s.admin, "DELETE", "/api/v1/webhooks/"+hook.ID, nil).expect(200).decode(&off)
	require.False(t, off.IsActive)
	_, st = s.deliver(t, hook.ID, tk.ID)
	require.Equal(t, schema.DeliverySkipped, st.State)
	require.Equal(t, 0, st.Attempts)
	require.Len(t, recv.requests(), 5, "nothing sent")
	require.Len(t, s.deliveries(t, "/api/v1/webhooks/"+hook.ID+"/deliveries?state=skipped"), 1)
}

func (s *stack) waitDelivery(t *testing.T, hook, id, state string) {
	t.Helper()
	eventually(t, 30*time.Second, func() bool {
		for _, d := range s.deliveries(t, "/api/v1/webhooks/"+hook+"/deliveries") {
			if d.ID == id {
				return d.State == state
			}
		}
		return false
	}, "delivery "+id+" is "+state)
}

func mustInt(t *testing.T, v string) int64 {
	var n int64
	_, err := fmt.Sscan(v, &n)
	require.NoError(t, err, v)
	return n
}

// Without an allow-list, a receiver on loopback is refused at connect time: the delivery is
// dead at once, the refusal in its log, and nothing reaches the receiver.
func TestWebhookRefusesInternalAddresses(t *testing.T) {
	s := newStack(t, stackOptions{worker: true, autoClose: autoClose, webhooks: &webhook.Options{RetryInitial: 300 * time.Millisecond}})
	defer s.close()
	recv := newReceiver(t, 0)
	for _, url := range []string{recv.URL, strings.Replace(recv.URL, "127.0.0.1", "localhost", 1)} {
		hook := s.createWebhook(t, url)
		id, st := s.deliver(t, hook.ID, 0)
		require.Equal(t, schema.DeliveryDead, st.State, url)
		require.Equal(t, 1, st.Attempts, "a refusal is final")
		d := s.deliveries(t, "/api/v1/webhooks/"+hook.ID+"/deliveries")[0]
		require.Equal(t, id, d.ID)
		require.Nil(t, d.TicketID)
		require.Nil(t, d.LastStatusCode)
		require.Len(t, d.Attempts, 1)
		require.Nil(t, d.Attempts[0].StatusCode)
		require.NotNil(t, d.Attempts[0].Error)
		require.Contains(t, *d.Attempts[0].Error, "refused to connect")
		require.Contains(t, *d.Attempts[0].Error, "loopback")
		require.Contains(t, *d.Attempts[0].Error, "SWITCHBOARD_WEBHOOK_ALLOW_CIDRS")
	}
	require.Empty(t, recv.requests())
}

func TestWebhookBadInput(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	hook := s.createWebhook(t, "https://example.com/hook")
	for _, body := range []any{
		map[string]any{"name": "x", "url": "ftp://example.com/hook"},
		map[string]any{"name": "x", "url": "/hooks"},
		map[string]any{"name": "x", "url": "https://"},
		map[string]any{"name": "x", "url": "https://example.com/" + strings.Repeat("a", 2048)},
		map[string]any{"name": "x"},
		map[string]any{"name": "x", "url": 5},
	} {
		s.call(t, s.admin, "POST", "/api/v1/webhooks", body).expectError(422, "validation_failed", "url")
	}
	s.call(t, s.admin, "POST", "/api/v1/webhooks", map[string]any{"url": "https://example.com"}).expectError(422, "validation_failed", "name")
	s.call(t, s.admin, "POST", "/api/v1/webhooks", map[string]any{"name": " ", "url": "https://example.com"}).expectError(422, "validation_failed", "name")
	s.call(t, s.admin, "POST", "/api/v1/webhooks", map[string]any{"name": "x", "url": "https://example.com", "secret": "mine"}).
		expectError(422, "validation_failed", "secret")
	s.call(t, s.admin, "PATCH", "/api/v1/webhooks/"+hook.ID, map[string]any{"url": "example.com"}).expectError(422, "validation_failed", "url")
	s.call(t, s.admin, "GET", "/api/v1/webhooks/"+hook.ID+"/deliveries?state=lost", nil).expectError(422, "validation_failed", "state")

	var h webhookJSON
	s.call(t, s.admin, "PATCH", "/api/v1/webhooks/"+hook.ID, map[string]any{"name": "Renamed", "url": "http://example.org/h"}).expect(200).decode(&h)
	require.Equal(t, "Renamed", h.Name)
	require.Equal(t, "http://example.org/h", h.URL)
	require.Nil(t, h.Secret, "an update does not show the secret")

	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v1/webhooks/nope"},
		{"PATCH", "/api/v1/webhooks/nope"},
		{"DELETE", "/api/v1/webhooks/nope"},
		{"POST", "/api/v1/webhooks/nope/rotate-secret"},
		{"GET", "/api/v1/webhooks/nope/deliveries"},
		{"POST", "/api/v1/webhooks/nope/deliveries/x/redeliver"},
		{"POST", "/api/v1/webhooks/" + hook.ID + "/deliveries/nope/redeliver"},
		{"GET", "/api/v1/tickets/999999999999/webhook-deliveries"},
	} {
		var body any
		if r.method == "PATCH" {
			body = map[string]any{"name": "x"}
		}
		s.call(t, s.admin, r.method, r.path, body).expectError(404, "not_found")
	}

	// Agents read the configuration and its log; only admins change it. Customers see neither.
	s.call(t, p.agentTok, "GET", "/api/v1/webhooks", nil).expect(200)
	s.call(t, p.agentTok, "GET", "/api/v1/webhooks/"+hook.ID+"/deliveries", nil).expect(200)
	s.call(t, p.agentTok, "POST", "/api/v1/webhooks", map[string]any{"name": "x", "url": "https://example.com"}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "POST", "/api/v1/webhooks/"+hook.ID+"/rotate-secret", nil).expectError(403, "forbidden")
	s.call(t, p.customerTok, "GET", "/api/v1/webhooks", nil).expectError(403, "forbidden")
	tk := s.createTicket(t, p.customerTok, map[string]any{"subject": "Mine", "description": "help"})
	s.call(t, p.customerTok, "GET", fmt.Sprintf("/api/v1/tickets/%d/webhook-deliveries", tk.ID), nil).expectError(403, "forbidden")
}
