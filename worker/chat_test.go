package worker

import (
	"context"
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
// calls: a chat nobody takes goes to the offline flow at its queue wait, the customer leaves a
// message, and the window closes (the activities that need PostgreSQL or Temporal answered by
// mocks here; integration tests run them for real).
func TestChatSessionRunsOnTheRegisteredActivities(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	Register(env, &activities.Activities{})
	env.OnActivity(workflows.ActivityPersistChat, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(workflows.ActivityNotifyChatDistributor, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(workflows.ActivityDeliverOfflineMessages, mock.Anything, mock.Anything).Return(workflows.OfflineDelivered{TicketID: 7}, nil)
	env.OnActivity(workflows.ActivityCloseOfflineIntake, mock.Anything, mock.Anything).Return(nil)
	for i, body := range []string{"yes", "my printer is on fire"} {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(workflows.UpdateChatSendMessage, body, &testsuite.TestUpdateCallback{
				OnReject: func(err error) { t.Error(err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
			}, workflows.SendChatMessageInput{AuthorID: "p-1", Role: workflows.ChatRoleCustomer, Body: body})
		}, time.Duration(i+2)*time.Minute)
	}
	ran := map[string]error{}
	record := func(info *activity.Info, _ converter.EncodedValue, err error) { ran[info.ActivityType.Name] = err }
	env.SetOnActivityCompletedListener(record)
	env.SetOnLocalActivityCompletedListener(record)
	env.ExecuteWorkflow(workflows.ChatSessionWorkflowType, workflows.ChatInput{ID: "c-1", Kind: workflows.ChatKindCustomer,
		GroupID: "support", CustomerID: "p-1", Group: workflows.ChatGroupSettings{QueueWait: time.Minute}})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var v workflows.ChatView
	require.NoError(t, env.GetWorkflowResult(&v))
	require.Equal(t, workflows.CloseOfflineFlow, *v.Chat.CloseReason)
	for _, name := range []string{workflows.ActivityNotifyChatDistributor, workflows.ActivityDeliverOfflineMessages, workflows.ActivityCloseOfflineIntake} {
		require.Contains(t, ran, name)
	}
	for name, err := range ran {
		require.NoError(t, err, name)
	}
}

// ChatTicketArchive is registered and archives 90 days after the ticket's creation.
func TestChatTicketArchiveRunsOnTheRegisteredActivity(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	Register(env, &activities.Activities{})
	created := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	env.SetStartTime(created.Add(time.Hour))
	var archivedAt time.Time
	env.OnActivity(workflows.ActivityArchiveChatTicket, mock.Anything, mock.Anything).Return(func(context.Context, workflows.ChatTicketArchiveInput) error {
		archivedAt = env.Now().UTC()
		return nil
	})
	env.ExecuteWorkflow(workflows.ChatTicketArchiveWorkflowType, workflows.ChatTicketArchiveInput{TicketID: 5, CreatedAt: created})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, created.Add(90*24*time.Hour), archivedAt)
}
