package worker

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
)

// A workflow task that panics is retried (the workflow blocks, visibly, until fixed code
// deploys), never turned into a failed workflow.
func TestPanickingWorkflowTaskIsRetriedNotFailed(t *testing.T) {
	require.Equal(t, worker.BlockWorkflow, DefaultOptions().sdkOptions().WorkflowPanicPolicy)
}
