package integration

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/activities"
	"github.com/switchboardhq/switchboard/worker"
)

// A workflow task that panics is retried, not failed, by a worker built as production builds
// it (worker.New with its default options), on the real Temporal server: while the code panics
// the workflow stays running and shows the failed task; once it stops panicking the same run
// completes. (The SDK's default is the same, but nothing else would notice a change to it.)
func TestPanickingWorkflowTaskIsRetried(t *testing.T) {
	s := env(t)
	queue := randomName("panic-")
	var attempts atomic.Int32
	panicky := func(ctx workflow.Context) (int32, error) {
		if n := attempts.Add(1); n <= 2 {
			panic("a bug in this workflow's code")
		}
		return attempts.Load(), nil
	}
	w := worker.New(s.tc, &activities.Activities{}, worker.DefaultOptions().WithTaskQueue(queue))
	w.RegisterWorkflowWithOptions(panicky, workflow.RegisterOptions{Name: "PanicsTwice"})
	require.NoError(t, w.Start())
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: queue, TaskQueue: queue}, "PanicsTwice")
	require.NoError(t, err)
	eventually(t, 30*time.Second, func() bool { return attempts.Load() >= 1 }, "the first task ran")
	d, err := s.tc.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, d.WorkflowExecutionInfo.Status, "a panic does not fail the run")

	var got int32
	require.NoError(t, run.Get(ctx, &got), "the same run completes once the task stops panicking")
	require.Equal(t, int32(3), got)
	hist := s.tc.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	failed := 0
	for hist.HasNext() {
		e, err := hist.Next()
		require.NoError(t, err)
		if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED {
			failed++
			require.Contains(t, e.GetWorkflowTaskFailedEventAttributes().GetFailure().GetMessage(), "a bug in this workflow's code")
		}
	}
	require.GreaterOrEqual(t, failed, 1, "the panic is recorded as a failed task, for operators to see")
}
