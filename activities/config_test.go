package activities

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
)

// countingCache is a cache whose reads are counted and can be held mid-way.
func countingCache() (*ConfigCache, *atomic.Int64, chan chan struct{}) {
	c := NewConfigCache()
	var reads atomic.Int64
	hold := make(chan chan struct{}, 1)
	c.read = func(ctx context.Context, _ bun.IDB, gen uint64) (*configSnapshot, error) {
		reads.Add(1)
		select {
		case release := <-hold:
			<-release
		default:
		}
		return &configSnapshot{gen: gen}, nil
	}
	return c, &reads, hold
}

// The configuration is read once per generation while the cache is live, and again after every
// notification (Invalidate) and after the listener reconnects (SetLive(true)); while no listener
// is connected every evaluation reads it.
func TestConfigCacheInvalidation(t *testing.T) {
	ctx := context.Background()
	c, reads, _ := countingCache()
	get := func() {
		_, err := c.get(ctx, nil, 0)
		require.NoError(t, err)
	}

	get()
	get()
	require.EqualValues(t, 2, reads.Load(), "not live (no LISTEN yet): every call reads")

	c.SetLive(true)
	get()
	get()
	get()
	require.EqualValues(t, 3, reads.Load(), "live: one read for the generation")

	c.Invalidate()
	get()
	get()
	require.EqualValues(t, 4, reads.Load(), "a notification drops the cache once")

	c.SetLive(false) // the connection is lost: notifications may be missed
	get()
	get()
	require.EqualValues(t, 6, reads.Load(), "without a listener, nothing is trusted")

	c.SetLive(true) // reconnected: what was cached before may be stale
	get()
	get()
	require.EqualValues(t, 7, reads.Load(), "re-read after a reconnect, then cached")

	c.SetLive(false) // a quick reconnect with no evaluation in between
	c.SetLive(true)
	get()
	require.EqualValues(t, 8, reads.Load(), "what was cached before the reconnect is not trusted")
}

// A read that a notification overtook is not kept: the edit it may have missed is read by the
// next evaluation.
func TestConfigCacheDropsAnOvertakenRead(t *testing.T) {
	ctx := context.Background()
	c, reads, hold := countingCache()
	c.SetLive(true)
	release := make(chan struct{})
	hold <- release
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := c.get(ctx, nil, 0)
		require.NoError(t, err)
	}()
	require.Eventually(t, func() bool { return reads.Load() == 1 }, 5*time.Second, time.Millisecond)
	c.Invalidate() // the edit commits while the read is in flight
	close(release)
	<-done
	_, err := c.get(ctx, nil, 0)
	require.NoError(t, err)
	require.EqualValues(t, 2, reads.Load(), "the overtaken read was not cached")
	_, err = c.get(ctx, nil, 0)
	require.NoError(t, err)
	require.EqualValues(t, 2, reads.Load())
}

// Evaluations that miss at once share one read.
func TestConfigCacheSharesOneReadPerGeneration(t *testing.T) {
	ctx := context.Background()
	c, reads, hold := countingCache()
	c.SetLive(true)
	release := make(chan struct{})
	hold <- release
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.get(ctx, nil, 0)
			require.NoError(t, err)
		}()
	}
	require.Eventually(t, func() bool { return reads.Load() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond) // let the others queue behind the read
	close(release)
	wg.Wait()
	require.EqualValues(t, 1, reads.Load())
}

// An evaluation that must see a generation newer than the cached snapshot (a ticket created
// after an edit whose NOTIFY has not arrived yet) reads again, once, and keeps the newer
// snapshot for the others; older demands keep using the cache.
func TestConfigCacheReadsAgainForANewerGeneration(t *testing.T) {
	ctx := context.Background()
	c := NewConfigCache()
	var reads, committed atomic.Int64
	c.read = func(ctx context.Context, _ bun.IDB, gen uint64) (*configSnapshot, error) {
		reads.Add(1)
		return &configSnapshot{gen: gen, dbGen: committed.Load()}, nil
	}
	c.SetLive(true)
	get := func(atLeast int64) int64 {
		s, err := c.get(ctx, nil, atLeast)
		require.NoError(t, err)
		return s.dbGen
	}
	committed.Store(4)
	require.EqualValues(t, 4, get(0))
	require.EqualValues(t, 4, get(4))
	require.EqualValues(t, 1, reads.Load(), "the cached snapshot serves what it has")

	committed.Store(5) // an edit commits; no notification yet
	require.EqualValues(t, 4, get(0), "an evaluation asking for nothing newer uses the cache")
	require.EqualValues(t, 5, get(5), "one asking for generation 5 reads it")
	require.EqualValues(t, 2, reads.Load())
	require.EqualValues(t, 5, get(0), "the newer snapshot is what the cache keeps")
	require.EqualValues(t, 2, reads.Load())

	// A database behind what is asked (another database's ticket, a restored backup) is read
	// twice at most, never looped on.
	require.EqualValues(t, 5, get(9))
	require.EqualValues(t, 4, reads.Load())
}
