package activities

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// rolloutSignals is how many ConfigChanged signals one page keeps in flight.
const rolloutSignals = 32

// SignalOpenTickets sends ConfigChanged to one page of open tickets (not Closed or Canceled;
// a resolved ticket still has its workflow and its timers), in id order, from the read model.
// A ticket whose workflow has ended meanwhile is skipped. It heartbeats while it works, so a
// page whose worker died is retried promptly elsewhere.
func (a *Activities) SignalOpenTickets(ctx context.Context, in workflows.RolloutPageInput) (workflows.RolloutPage, error) {
	var ids []int64
	q := a.DB.NewSelect().Model((*schema.Ticket)(nil)).Column("id").
		Where("id > ?", in.After).Where("base_status NOT IN (?, ?)", schema.BaseClosed, schema.BaseCanceled)
	if in.CreatedSince != nil {
		q = q.Where("created_at >= ?", *in.CreatedSince)
	}
	err := q.OrderExpr("id").Limit(int64(in.Limit)).Scan(ctx, &ids)
	if err != nil {
		return workflows.RolloutPage{}, err
	}
	page := workflows.RolloutPage{Last: in.After, Done: len(ids) < in.Limit}
	if len(ids) > 0 {
		page.Last = ids[len(ids)-1]
	}
	stop := heartbeatEvery(ctx, 2*time.Second)
	defer stop()
	var mu sync.Mutex
	var failed error
	next := make(chan int64)
	var wg sync.WaitGroup
	for range rolloutSignals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				err := a.Temporal.SignalWorkflow(ctx, workflows.TicketWorkflowID(id), "", workflows.SignalConfigChanged, in.Change)
				var nf *serviceerror.NotFound
				mu.Lock()
				switch {
				case err == nil:
					page.Signalled++
				case errors.As(err, &nf): // closed since the page was read
				case failed == nil:
					failed = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	if failed != nil {
		return workflows.RolloutPage{}, failed // the page is retried: a second signal is harmless
	}
	return page, nil
}

// heartbeatEvery records a heartbeat now and then until stopped (outside an activity, as in
// tests that call the method directly, it does nothing).
func heartbeatEvery(ctx context.Context, d time.Duration) func() {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	activity.RecordHeartbeat(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}
