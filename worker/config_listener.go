package worker

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/switchboardhq/switchboard/activities"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// ConfigChannel is the PostgreSQL channel on which every edit of triggers, SLA policies and
// calendars is notified (by the database's own triggers, at commit): the payload is the
// config_changes id that open tickets must learn of, or "0" for an edit only caches care
// about. "ping" is this listener checking its own connection.
const ConfigChannel = "switchboard_config"

// silence is how long the listener waits for a notification before it checks, with a ping of
// its own, that its connection still delivers them.
var silence = 15 * time.Second

// configWorker is the SDK worker plus the configuration listener, which starts and stops
// with it.
type configWorker struct {
	worker.Worker
	l *configListener
}

func (w *configWorker) Start() error {
	if err := w.Worker.Start(); err != nil {
		return err
	}
	w.l.start()
	return nil
}

func (w *configWorker) Run(interruptCh <-chan interface{}) error {
	w.l.start()
	defer w.l.stop()
	return w.Worker.Run(interruptCh)
}

func (w *configWorker) Stop() {
	w.l.stop()
	w.Worker.Stop()
}

// configListener keeps the process's configuration cache current and turns recorded
// configuration changes into ConfigRollout workflows. It LISTENs on ConfigChannel; each
// notification drops the cache, and each change (and, at every (re)connect, whatever is still
// pending: changes made while no worker listened) is dispatched. Nothing polls: without edits
// it only checks its connection after a silence.
type configListener struct {
	db    *bun.DB
	tc    client.Client
	queue string
	cache *activities.ConfigCache
	log   *slog.Logger

	kick   chan struct{}
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

func newConfigListener(db *bun.DB, tc client.Client, queue string, cache *activities.ConfigCache) *configListener {
	return &configListener{db: db, tc: tc, queue: queue, cache: cache, log: slog.Default().With("component", "config-listener"),
		kick: make(chan struct{}, 1)}
}

func (l *configListener) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); l.listen(ctx) }()
	go func() { defer wg.Done(); l.dispatchLoop(ctx) }()
	go func() { wg.Wait(); close(l.done) }()
}

func (l *configListener) stop() {
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.cancel = nil
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	l.cache.SetLive(false)
}

// poke asks the dispatcher to look for pending changes; pokes while it is busy coalesce.
func (l *configListener) poke() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// listen holds a LISTEN connection until ctx ends, reconnecting after it is lost. The cache is
// live only while a connection is known to deliver.
func (l *configListener) listen(ctx context.Context) {
	for ctx.Err() == nil {
		ln := pgdriver.NewListener(l.db)
		if err := ln.Listen(ctx, ConfigChannel); err != nil {
			if ctx.Err() == nil {
				l.log.Warn("listen failed; retrying", "err", err)
			}
			_ = ln.Close()
			sleep(ctx, time.Second)
			continue
		}
		l.cache.SetLive(true) // edits before LISTEN may be cached: read again
		l.poke()              // and dispatch what was recorded while nobody listened
		l.receive(ctx, ln)
		l.cache.SetLive(false)
		_ = ln.Close()
	}
}

func (l *configListener) receive(ctx context.Context, ln *pgdriver.Listener) {
	pinged := false
	for {
		_, payload, err := ln.ReceiveTimeout(ctx, silence)
		var ne net.Error
		switch {
		case err == nil:
		case errors.As(err, &ne) && ne.Timeout() && !pinged && ctx.Err() == nil:
			pinged = true
			if err := pgdriver.Notify(ctx, l.db, ConfigChannel, "ping"); err != nil {
				l.log.Warn("ping failed; reconnecting", "err", err)
				return
			}
			continue
		default:
			if ctx.Err() == nil {
				l.log.Warn("connection lost; reconnecting", "err", err)
			}
			return
		}
		pinged = false
		if payload == "ping" {
			continue
		}
		l.cache.Invalidate()
		if payload != "0" {
			l.poke()
		}
	}
}

func (l *configListener) dispatchLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.kick:
		}
		wait := 200 * time.Millisecond
		for ctx.Err() == nil {
			more, err := dispatchConfigChanges(ctx, l.db, l.tc, l.queue)
			if err == nil && !more {
				break
			}
			if err != nil {
				l.log.Warn("dispatching configuration changes failed; retrying", "err", err, "in", wait)
				sleep(ctx, wait)
				wait = min(2*wait, 10*time.Second)
			}
		}
	}
}

// dispatchBatch is the most changes one rollout covers.
const dispatchBatch = 1000

// dispatchLock serialises dispatchers across processes, so each pending change is started once
// (a second dispatcher waits, then finds it dispatched).
const dispatchLock = 0x5b_c0_f1_60

// dispatchConfigChanges hands the pending changes (up to dispatchBatch) to the rollout
// and marks them dispatched, in one transaction: a dispatcher that dies before the commit
// leaves them pending, to be sent again. It reports whether more are pending.
func dispatchConfigChanges(ctx context.Context, db *bun.DB, tc client.Client, queue string) (bool, error) {
	more := false
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", dispatchLock); err != nil {
			return err
		}
		var changes []workflows.ConfigChange
		err := tx.NewRaw(`SELECT id, entity, entity_id, op FROM config_changes WHERE dispatched_at IS NULL
			ORDER BY id LIMIT ?`, dispatchBatch+1).Scan(ctx, &changes)
		if err != nil || len(changes) == 0 {
			return err
		}
		if len(changes) > dispatchBatch {
			changes, more = changes[:dispatchBatch], true
		}
		last := changes[len(changes)-1].ID
		// Read after the changes: the tickets' re-evaluation must see at least them, on
		// whichever worker it runs, notified yet or not.
		gen, err := schema.ConfigGeneration(ctx, tx)
		if err != nil {
			return err
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		// The deployment's one rollout takes the batch: a running pass queues it for one more
		// pass, otherwise a rollout starts with it. A dispatcher that dies before the commit
		// sends the batch again; the tickets take it as one more, idempotent re-evaluation.
		batch := workflows.ConfigChanged{ChangeID: last, Reason: workflows.ConfigReason(changes), Generation: gen}
		_, err = tc.SignalWithStartWorkflow(sctx, workflows.ConfigRolloutWorkflowID(queue), workflows.SignalChangesRecorded, batch,
			client.StartWorkflowOptions{TaskQueue: queue, WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
				RetryPolicy: &temporal.RetryPolicy{MaximumInterval: time.Minute}},
			workflows.ConfigRolloutWorkflowType, workflows.ConfigRolloutInput{})
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE config_changes SET dispatched_at = now() WHERE dispatched_at IS NULL AND id <= ?`, last); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM config_changes WHERE dispatched_at < now() - interval '7 days'`)
		return err
	})
	return more, err
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
