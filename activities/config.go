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
	gen       uint64
	triggers  []schema.Trigger // enabled, by position and id
	policies  []schema.SLAPolicy
	calendars map[string]schema.Calendar

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

// get returns the configuration: cached when live and nothing changed since it was read,
// otherwise read (once for all concurrent callers of the same generation). A load that an
// invalidation overtook is used by its callers (it began before their evaluation asked, as a
// read would have) but not kept.
func (c *ConfigCache) get(ctx context.Context, db bun.IDB) (*configSnapshot, error) {
	if c == nil {
		return loadConfig(ctx, db, 0)
	}
	c.mu.Lock()
	if !c.live {
		c.mu.Unlock()
		return c.read(ctx, db, 0)
	}
	if c.snap != nil && c.snap.gen == c.gen {
		s := c.snap
		c.mu.Unlock()
		return s, nil
	}
	l := c.loading
	if l == nil || l.gen != c.gen {
		l = &configLoad{gen: c.gen, done: make(chan struct{})}
		c.loading = l
		go c.load(db, l)
	}
	c.mu.Unlock()
	select {
	case <-l.done:
		return l.snap, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
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
	if err := db.NewSelect().Model(&s.triggers).Where("enabled").OrderExpr("position, id").Scan(ctx); err != nil {
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
