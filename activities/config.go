package activities

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/internal/calendar"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// ConfigCache keeps the configuration every trigger evaluation reads (enabled triggers, SLA
// policies, calendars) in memory between edits, so that an event costs no configuration query
// while nothing changed. It is trusted only while Live: the worker's listener marks it live
// once LISTEN is in place and drops it on every configuration NOTIFY (Invalidate) and when the
// connection is lost (SetLive(false): notifications may be missed until it is back, so every
// evaluation reads PostgreSQL again). A nil *ConfigCache, or one never made live, always reads.
type ConfigCache struct {
	mu   sync.Mutex
	live bool
	gen  uint64 // rises with every invalidation
	snap *configSnapshot
	// loading is the load in flight for gen, which concurrent misses wait for.
	loading *configLoad
	// read reads the configuration (loadConfig; tests count calls).
	read func(context.Context, bun.IDB, uint64) (*configSnapshot, error)
}

type configLoad struct {
	gen  uint64
	done chan struct{}
	snap *configSnapshot
	err  error
}

// configSnapshot is the configuration as one generation saw it. Read only once built.
type configSnapshot struct {
	gen uint64
	// dbGen is the committed configuration generation (config_generation) read before the
	// configuration itself, so the snapshot holds at least every edit up to it.
	dbGen    int64
	triggers []schema.Trigger // enabled, by position and id
	// approvalRules are the enabled approval rules, by position and id.
	approvalRules []schema.ApprovalRule
	policies      []schema.SLAPolicy
	calendars     map[string]schema.Calendar

	mu       sync.Mutex
	compiled map[string]compiledCalendar
}

type compiledCalendar struct {
	cal *calendar.Calendar
	err error
}

// NewConfigCache returns a cache that is not live yet.
func NewConfigCache() *ConfigCache { return &ConfigCache{read: loadConfig} }

// Invalidate drops the cached configuration: the next evaluation reads it again.
func (c *ConfigCache) Invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.snap = nil
}

// SetLive says whether configuration notifications reach this process. Either way what was
// cached is dropped: going live, edits made before LISTEN may be in it; going dead, edits will
// be missed.
func (c *ConfigCache) SetLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = live
	c.gen++
	c.snap = nil
}

// Generation is the current generation (for tests and logs).
func (c *ConfigCache) Generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// get returns the configuration, at least as new as generation atLeast (config_generation;
// 0: any): cached when live and nothing changed since it was read, otherwise read (once for
// all concurrent callers of the same generation). A load that an invalidation overtook is used
// by its callers (it began before their evaluation asked, as a read would have) but not kept.
//
// atLeast closes the window between an edit's commit and its NOTIFY reaching this process: an
// evaluation that must see the edit (a ticket created after it, a rollout's re-evaluation)
// finds the cached snapshot older, drops it and reads again.
func (c *ConfigCache) get(ctx context.Context, db bun.IDB, atLeast int64) (*configSnapshot, error) {
	if c == nil {
		return loadConfig(ctx, db, 0)
	}
	for attempt := 0; ; attempt++ {
		l, s := c.lookup(db, atLeast)
		if s != nil {
			return s, nil
		}
		if l == nil {
			return c.read(ctx, db, 0) // not live: every evaluation reads
		}
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		// A load that began before the generation asked for committed is read once more; a
		// fresh read older still is what the database has.
		if l.err != nil || l.snap.dbGen >= atLeast || attempt > 0 {
			return l.snap, l.err
		}
		c.drop(l.gen)
	}
}

// lookup returns the cached snapshot if it will do, else the load to wait for (started if
// none is in flight for the current generation); neither when the cache is not live.
func (c *ConfigCache) lookup(db bun.IDB, atLeast int64) (*configLoad, *configSnapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		return nil, nil
	}
	if c.snap != nil && c.snap.gen == c.gen {
		if c.snap.dbGen >= atLeast {
			return nil, c.snap
		}
		c.gen++ // older than the caller must see: its notification is still on the way
		c.snap = nil
	}
	l := c.loading
	if l == nil || l.gen != c.gen {
		l = &configLoad{gen: c.gen, done: make(chan struct{})}
		c.loading = l
		go c.load(db, l)
	}
	return l, nil
}

// drop moves past generation gen (if nothing else has), so the next lookup loads again.
func (c *ConfigCache) drop(gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.gen++
		c.snap = nil
	}
}

// load reads one generation on its own context: a caller that gives up does not fail the
// others waiting for the same load.
func (c *ConfigCache) load(db bun.IDB, l *configLoad) {
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	l.snap, l.err = c.read(ctx, db, l.gen)
	c.mu.Lock()
	if l.err == nil && c.live && c.gen == l.gen {
		c.snap = l.snap
	}
	if c.loading == l {
		c.loading = nil
	}
	c.mu.Unlock()
	close(l.done)
}

// loadTimeout bounds one read of the configuration.
const loadTimeout = workflows.ProjectionAttemptTimeout

func loadConfig(ctx context.Context, db bun.IDB, gen uint64) (*configSnapshot, error) {
	s := &configSnapshot{gen: gen, calendars: map[string]schema.Calendar{}, compiled: map[string]compiledCalendar{}}
	var err error
	if s.dbGen, err = schema.ConfigGeneration(ctx, db); err != nil { // first: what follows is at least as new
		return nil, err
	}
	if err := db.NewSelect().Model(&s.triggers).Where("enabled").OrderExpr("position, id").Scan(ctx); err != nil {
		return nil, err
	}
	if err := db.NewSelect().Model(&s.approvalRules).Where("enabled").OrderExpr("position, id").Scan(ctx); err != nil {
		return nil, err
	}
	if err := db.NewSelect().Model(&s.policies).OrderExpr("is_default, name, id").Scan(ctx); err != nil {
		return nil, err
	}
	var cals []schema.Calendar
	if err := db.NewSelect().Model(&cals).Scan(ctx); err != nil {
		return nil, err
	}
	for _, cal := range cals {
		s.calendars[cal.ID] = cal
	}
	return s, nil
}

// calendar is a calendar of the snapshot, compiled once; a missing one is an error wrapping
// sql.ErrNoRows, as schema.LoadCalendar's.
func (s *configSnapshot) calendar(id string) (*calendar.Calendar, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.compiled[id]; ok {
		return c.cal, c.err
	}
	var c compiledCalendar
	if row, ok := s.calendars[id]; !ok {
		c.err = fmt.Errorf("calendar %s: %w", id, sql.ErrNoRows)
	} else if c.cal, c.err = row.Spec().Compile(); c.err != nil {
		c.err = fmt.Errorf("calendar %s: %w", id, c.err)
	}
	s.compiled[id] = c
	return c.cal, c.err
}
