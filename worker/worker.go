// Package worker registers every workflow and activity with a Temporal worker.
package worker

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/activities"
	"github.com/switchboardhq/switchboard/workflows"
)

// Options sizes the worker. Bursts of timers falling in the same second queue workflow tasks
// behind each other, so the defaults poll and execute generously for a 2-core machine.
type Options struct {
	TaskQueue              string
	WorkflowPollers        int
	ActivityPollers        int
	MaxConcurrentWorkflows int
	MaxConcurrentActivites int
}

// DefaultOptions are the sizes used unless configured otherwise.
func DefaultOptions() Options {
	return Options{TaskQueue: workflows.DefaultTaskQueue, WorkflowPollers: 8, ActivityPollers: 4,
		MaxConcurrentWorkflows: 256, MaxConcurrentActivites: 256}
}

// WithTaskQueue returns the options for another task queue.
func (o Options) WithTaskQueue(q string) Options {
	o.TaskQueue = q
	return o
}

// New builds a worker with every workflow and activity registered.
// With a database it also runs the configuration listener (see configListener), which keeps
// acts.Config (set up here when nil) current and rolls configuration edits out to open tickets.
func New(c client.Client, acts *activities.Activities, o Options) worker.Worker {
	w := worker.New(c, o.TaskQueue, o.sdkOptions())
	Register(w, acts)
	if acts.DB == nil {
		return w
	}
	if acts.Config == nil {
		acts.Config = activities.NewConfigCache()
	}
	return &configWorker{Worker: w, l: newConfigListener(acts.DB, c, o.TaskQueue, acts.Config)}
}

// sdkOptions are the SDK's worker options. A workflow task that panics (or meets
// non-determinism) is retried, never turned into a failed workflow: BlockWorkflow, the SDK's
// default, said out loud so that nobody flips it to FailWorkflow without reading this.
func (o Options) sdkOptions() worker.Options {
	return worker.Options{
		MaxConcurrentWorkflowTaskPollers:        o.WorkflowPollers,
		MaxConcurrentActivityTaskPollers:        o.ActivityPollers,
		MaxConcurrentWorkflowTaskExecutionSize:  o.MaxConcurrentWorkflows,
		MaxConcurrentActivityExecutionSize:      o.MaxConcurrentActivites,
		MaxConcurrentLocalActivityExecutionSize: o.MaxConcurrentActivites,
		WorkflowPanicPolicy:                     worker.BlockWorkflow,
		Interceptors:                            []interceptor.WorkerInterceptor{&failureLog{}},
	}
}

// Register adds every workflow and activity to a registry: a worker, or a test environment.
func Register(r interface {
	RegisterWorkflowWithOptions(any, workflow.RegisterOptions)
	RegisterActivityWithOptions(any, activity.RegisterOptions)
}, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.Ticket, workflow.RegisterOptions{Name: workflows.TicketWorkflowType})
	r.RegisterWorkflowWithOptions(workflows.PhoneCall, workflow.RegisterOptions{Name: workflows.CallWorkflowType})
	r.RegisterWorkflowWithOptions(workflows.ChatSession, workflow.RegisterOptions{Name: workflows.ChatSessionWorkflowType})
	r.RegisterWorkflowWithOptions(workflows.ChatDistributor, workflow.RegisterOptions{Name: workflows.ChatDistributorWorkflowType})
	r.RegisterWorkflowWithOptions(workflows.WebhookDelivery, workflow.RegisterOptions{Name: workflows.WebhookWorkflowType})
	r.RegisterWorkflowWithOptions(workflows.ConfigRollout, workflow.RegisterOptions{Name: workflows.ConfigRolloutWorkflowType})
	r.RegisterWorkflowWithOptions(workflows.AttachmentExpiry, workflow.RegisterOptions{Name: workflows.AttachmentExpiryWorkflowType})
	r.RegisterWorkflowWithOptions(workflows.ChatTicketArchive, workflow.RegisterOptions{Name: workflows.ChatTicketArchiveWorkflowType})
	r.RegisterWorkflowWithOptions(workflows.Approval, workflow.RegisterOptions{Name: workflows.ApprovalWorkflowType})
	r.RegisterActivityWithOptions(acts, activity.RegisterOptions{})
}
