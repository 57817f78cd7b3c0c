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
		_, err := c.get(ctx, nil)
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
		_, err := c.get(ctx, nil)
		require.NoError(t, err)
	}()
	require.Eventually(t, func() bool { return reads.Load() == 1 }, 5*time.Second, time.Millisecond)
	c.Invalidate() // the edit commits while the read is in flight
	close(release)
	<-done
	_, err := c.get(ctx, nil)
	require.NoError(t, err)
	require.EqualValues(t, 2, reads.Load(), "the overtaken read was not cached")
	_, err = c.get(ctx, nil)
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
			_, err := c.get(ctx, nil)
			require.NoError(t, err)
		}()
	}
	require.Eventually(t, func() bool { return reads.Load() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond) // let the others queue behind the read
	close(release)
	wg.Wait()
	require.EqualValues(t, 1, reads.Load())
}
