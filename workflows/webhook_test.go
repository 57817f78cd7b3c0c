package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/schema"
)

var whStart = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// whActs stands in for the webhook activities: the receiver answers what answer(n) says, and
// every attempt's simulated instant and every execution-log write are recorded.
type whActs struct {
	mu       sync.Mutex
	env      *testsuite.TestWorkflowEnvironment
	answer   func(n int) (WebhookAttemptResult, error)
	begun    []schema.WebhookDelivery
	attempts []time.Time // simulated instants at which the receiver was called
	writes   []schema.DeliveryWrite
}

func (a *whActs) BeginWebhookDelivery(_ context.Context, d schema.WebhookDelivery) (WebhookStart, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.begun = append(a.begun, d)
	return WebhookStart{URL: "https://example.com/hook", Schedule: WebhookSchedule{Initial: 10 * time.Second}}, nil
}

func (a *whActs) DeliverWebhook(_ context.Context, in WebhookAttemptInput) (WebhookAttemptResult, error) {
	a.mu.Lock()
	a.attempts = append(a.attempts, a.env.Now())
	a.mu.Unlock()
	return a.answer(in.Attempt)
}

func (a *whActs) SaveWebhookDelivery(_ context.Context, w schema.DeliveryWrite) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.writes = append(a.writes, w)
	return nil
}

// status is an attempt the receiver answered with code.
func status(n, code int) WebhookAttemptResult {
	outcome := AttemptFailed
	switch {
	case code >= 200 && code < 300:
		outcome = AttemptSucceeded
	case code == 404:
		outcome = AttemptFinal
	}
	return WebhookAttemptResult{Outcome: outcome,
		Attempt: &schema.WebhookAttempt{Attempt: n, URL: "https://example.com/hook", StatusCode: &code}}
}

type WebhookSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env  *testsuite.TestWorkflowEnvironment
	acts *whActs
}

func TestWebhookDelivery(t *testing.T) { suite.Run(t, new(WebhookSuite)) }

func (s *WebhookSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(whStart)
	s.acts = &whActs{env: s.env}
	s.env.RegisterWorkflowWithOptions(WebhookDelivery, workflow.RegisterOptions{Name: WebhookWorkflowType})
	s.env.RegisterActivity(s.acts)
}

func whInput() WebhookDeliveryInput {
	return WebhookDeliveryInput{DeliveryID: "d-1", WebhookID: "wh-1", Event: "ticket.updated", TicketID: 42,
		TriggerID: "tr-1", Payload: json.RawMessage(`{"event":"ticket.updated"}`)}
}

func (s *WebhookSuite) run() WebhookDeliveryState {
	s.env.ExecuteWorkflow(WebhookWorkflowType, whInput())
	s.True(s.env.IsWorkflowCompleted())
	s.NoError(s.env.GetWorkflowError())
	var st WebhookDeliveryState
	s.NoError(s.env.GetWorkflowResult(&st))
	return st
}

// offsets are the attempts' instants relative to the start.
func (s *WebhookSuite) offsets() []time.Duration {
	out := make([]time.Duration, len(s.acts.attempts))
	for i, at := range s.acts.attempts {
		out[i] = at.Sub(whStart)
	}
	return out
}

func (s *WebhookSuite) TestRetriesWithExponentialBackoffUntilSuccess() {
	s.acts.answer = func(n int) (WebhookAttemptResult, error) {
		if n <= 3 {
			return status(n, 503), nil
		}
		return status(n, 200), nil
	}
	// Halfway, the Delivery query shows the attempts so far and when the next comes.
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(QueryDelivery)
		s.Require().NoError(err)
		var st WebhookDeliveryState
		s.Require().NoError(v.Get(&st))
		s.Equal(schema.DeliveryPending, st.State)
		s.Equal(2, st.Attempts)
		s.Equal(503, *st.LastStatusCode)
		s.WithinDuration(whStart.Add(30*time.Second), *st.NextAttemptAt, 0)
	}, 15*time.Second)

	st := s.run()
	s.Equal(schema.DeliverySucceeded, st.State)
	s.Equal(4, st.Attempts)
	s.Equal([]time.Duration{0, 10 * time.Second, 30 * time.Second, 70 * time.Second}, s.offsets(),
		"waits of 10 s, 20 s, 40 s")

	s.Require().Len(s.acts.begun, 1)
	d := s.acts.begun[0]
	s.Equal("d-1", d.ID)
	s.Equal(int64(42), *d.TicketID)
	s.Equal("tr-1", *d.TriggerID)
	s.WithinDuration(whStart, d.CreatedAt, 0)
	s.Nil(d.RedeliveryOf)

	s.Require().Len(s.acts.writes, 4, "one execution-log write per attempt")
	for i, w := range s.acts.writes[:3] {
		s.Equal(schema.DeliveryPending, w.State)
		s.Equal(i+1, w.Attempt.Attempt)
		s.WithinDuration(s.acts.attempts[i+1], *w.NextAttemptAt, 0)
	}
	last := s.acts.writes[3]
	s.Equal(schema.DeliverySucceeded, last.State)
	s.Equal(200, *last.Attempt.StatusCode)
	s.Nil(last.NextAttemptAt)
}

// A receiver that always fails is tried for 24 hours: waits double up to an hour, the last
// attempt falls exactly 24 hours after the first, and then the delivery is dead.
func (s *WebhookSuite) TestAlwaysFailingDeliveryIsDeadAfter24Hours() {
	s.acts.answer = func(n int) (WebhookAttemptResult, error) { return status(n, 500), nil }
	st := s.run()
	s.Equal(schema.DeliveryDead, st.State)
	s.Equal(WebhookRetryFor, s.env.Now().Sub(whStart), "dead at the 24-hour mark, not before")

	at := s.offsets()
	s.Equal(33, len(at), "10 doubling waits up to an hour, then hourly, then the deadline")
	s.Equal(24*time.Hour, at[len(at)-1], "the last attempt is at the deadline")
	wait := 10 * time.Second
	for i := 1; i < len(at)-1; i++ {
		s.Equal(wait, at[i]-at[i-1], "wait before attempt %d", i+1)
		wait = min(2*wait, time.Hour)
	}
	s.LessOrEqual(at[len(at)-1]-at[len(at)-2], time.Hour)
	s.Equal(schema.DeliveryDead, s.acts.writes[len(s.acts.writes)-1].State)
	s.Equal(33, st.Attempts)
}

func (s *WebhookSuite) TestInactiveWebhookIsSkipped() {
	s.acts.answer = func(int) (WebhookAttemptResult, error) {
		return WebhookAttemptResult{Outcome: AttemptSkipped}, nil
	}
	st := s.run()
	s.Equal(schema.DeliverySkipped, st.State)
	s.Equal(0, st.Attempts)
	s.WithinDuration(whStart, s.env.Now(), 0)
	s.Require().Len(s.acts.writes, 1)
	s.Nil(s.acts.writes[0].Attempt, "nothing was sent, so no attempt is logged")
	s.Equal(schema.DeliverySkipped, s.acts.writes[0].State)
}

func (s *WebhookSuite) TestFinalFailureIsDeadAtOnce() {
	s.acts.answer = func(n int) (WebhookAttemptResult, error) { return status(n, 404), nil }
	st := s.run()
	s.Equal(schema.DeliveryDead, st.State)
	s.Equal(1, st.Attempts)
	s.WithinDuration(whStart, s.env.Now(), 0)
}

func (s *WebhookSuite) TestRetryAfterIsHonouredUpToTheMaximumWait() {
	s.acts.answer = func(n int) (WebhookAttemptResult, error) {
		switch n {
		case 1:
			r := status(n, 429)
			r.RetryAfter = 5 * time.Minute
			return r, nil
		case 2:
			r := status(n, 503)
			r.RetryAfter = 48 * time.Hour
			return r, nil
		}
		return status(n, 204), nil
	}
	st := s.run()
	s.Equal(schema.DeliverySucceeded, st.State)
	s.Equal([]time.Duration{0, 5 * time.Minute, 65 * time.Minute}, s.offsets())
}

// An attempt the activity could not make (its retries exhausted) is a failed attempt on the
// schedule like any other, logged with the error.
func (s *WebhookSuite) TestAttemptThatCannotBeMadeCountsAsFailed() {
	s.acts.answer = func(n int) (WebhookAttemptResult, error) {
		if n == 1 {
			return WebhookAttemptResult{}, errors.New("database unreachable")
		}
		return status(n, 200), nil
	}
	st := s.run()
	s.Equal(schema.DeliverySucceeded, st.State)
	s.Equal(2, st.Attempts)
	first := s.acts.writes[0]
	s.Equal(schema.DeliveryPending, first.State)
	s.Require().NotNil(first.Attempt.Error)
	s.Contains(*first.Attempt.Error, "database unreachable")
	s.Equal("https://example.com/hook", first.Attempt.URL)
	s.Len(s.acts.attempts, 4, "three tries of the activity, then the second attempt")
}
