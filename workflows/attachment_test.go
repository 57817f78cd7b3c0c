package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
)

// expiryActs stands in for ExpireAttachment: it records the simulated instant of each run and
// answers as a store in which referenced[id] says whether a message carries the upload.
type expiryActs struct {
	mu         sync.Mutex
	env        *testsuite.TestWorkflowEnvironment
	referenced map[string]bool
	runs       []time.Time
	// claimedAt[id]: a message claimed the upload at that instant (the result holds it for
	// AttachmentClaimHold from then).
	claimedAt map[string]time.Time
}

func (a *expiryActs) ExpireAttachment(_ context.Context, in AttachmentExpiryInput) (AttachmentExpiryResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.runs = append(a.runs, a.env.Now())
	if a.referenced[in.AttachmentID] {
		return AttachmentExpiryResult{Kept: true}, nil
	}
	if at, ok := a.claimedAt[in.AttachmentID]; ok && a.env.Now().Before(at.Add(AttachmentClaimHold)) {
		until := at.Add(AttachmentClaimHold)
		return AttachmentExpiryResult{KeepUntil: &until}, nil
	}
	return AttachmentExpiryResult{RowDeleted: true, BlobDeleted: true}, nil
}

func runExpiry(t *testing.T, in AttachmentExpiryInput, referenced bool) (*expiryActs, time.Time, AttachmentExpiryResult) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	acts := &expiryActs{env: env, referenced: map[string]bool{in.AttachmentID: referenced}}
	env.RegisterWorkflow(AttachmentExpiry)
	env.RegisterActivityWithOptions(acts.ExpireAttachment, activity.RegisterOptions{Name: ActivityExpireAttachment})
	start := env.Now()
	after := in.After
	if after == 0 {
		after = AttachmentExpiryAfter
	}
	// A second before the deadline nothing has run.
	env.RegisterDelayedCallback(func() {
		acts.mu.Lock()
		defer acts.mu.Unlock()
		require.Empty(t, acts.runs, "the expiry ran before its time")
	}, after-time.Second)
	env.ExecuteWorkflow(AttachmentExpiry, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res AttachmentExpiryResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return acts, start, res
}

func TestAttachmentExpiryRunsAtExactly24Hours(t *testing.T) {
	acts, start, res := runExpiry(t, AttachmentExpiryInput{AttachmentID: "a1", SHA256: "ab"}, false)
	require.Len(t, acts.runs, 1)
	require.Equal(t, 24*time.Hour, acts.runs[0].Sub(start))
	require.True(t, res.RowDeleted)
	require.True(t, res.BlobDeleted)
}

func TestAttachmentExpiryKeepsAReferencedUpload(t *testing.T) {
	acts, start, res := runExpiry(t, AttachmentExpiryInput{AttachmentID: "a2"}, true)
	require.Len(t, acts.runs, 1)
	require.Equal(t, AttachmentExpiryAfter, acts.runs[0].Sub(start))
	require.True(t, res.Kept)
	require.False(t, res.RowDeleted)
}

// After, from the input, is the only override of the 24 hours.
func TestAttachmentExpiryAfterFromInput(t *testing.T) {
	acts, start, _ := runExpiry(t, AttachmentExpiryInput{AttachmentID: "a3", After: 90 * time.Second}, false)
	require.Len(t, acts.runs, 1)
	require.Equal(t, 90*time.Second, acts.runs[0].Sub(start))
}

// An upload a message claimed an hour before its expiry is kept for the claim's hold and looked
// at again exactly when the hold ends (the message never came: it goes then).
func TestAttachmentExpiryWaitsOutAClaim(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	start := env.Now()
	acts := &expiryActs{env: env, claimedAt: map[string]time.Time{"a4": start.Add(23 * time.Hour)}}
	env.RegisterWorkflow(AttachmentExpiry)
	env.RegisterActivityWithOptions(acts.ExpireAttachment, activity.RegisterOptions{Name: ActivityExpireAttachment})
	env.ExecuteWorkflow(AttachmentExpiry, AttachmentExpiryInput{AttachmentID: "a4"})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res AttachmentExpiryResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Len(t, acts.runs, 2)
	require.Equal(t, AttachmentExpiryAfter, acts.runs[0].Sub(start))
	require.Equal(t, 23*time.Hour+AttachmentClaimHold, acts.runs[1].Sub(start), "again when the hold ends")
	require.True(t, res.RowDeleted)
}
