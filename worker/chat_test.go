package worker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/switchboardhq/switchboard/activities"
	"github.com/switchboardhq/switchboard/workflows"
)

// The ChatSession workflow and its activities are registered under the names the workflow
// calls: a chat nobody takes runs to its queue-wait close on them (PersistChat, which needs
// PostgreSQL, and NotifyChatDistributor, which needs Temporal, answered by mocks here;
// integration tests run them for real).
func TestChatSessionRunsOnTheRegisteredActivities(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	Register(env, &activities.Activities{})
	env.OnActivity(workflows.ActivityPersistChat, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(workflows.ActivityNotifyChatDistributor, mock.Anything, mock.Anything).Return(nil)
	ran := map[string]error{}
	record := func(info *activity.Info, _ converter.EncodedValue, err error) { ran[info.ActivityType.Name] = err }
	env.SetOnActivityCompletedListener(record)
	env.SetOnLocalActivityCompletedListener(record)
	env.ExecuteWorkflow(workflows.ChatSessionWorkflowType, workflows.ChatInput{ID: "c-1", Kind: workflows.ChatKindCustomer,
		GroupID: "support", Group: workflows.ChatGroupSettings{QueueWait: time.Minute}})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var v workflows.ChatView
	require.NoError(t, env.GetWorkflowResult(&v))
	require.Equal(t, workflows.CloseQueueWait, *v.Chat.CloseReason)
	for _, name := range []string{workflows.ActivityNotifyChatDistributor, workflows.ActivityHandOffChatOffline, workflows.ActivityChatClosed} {
		require.Contains(t, ran, name)
	}
	for name, err := range ran {
		require.NoError(t, err, name)
	}
}
