package workflows

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/rules"
)

// listenConfigChanged takes ConfigChanged signals: each queues one config.changed event, whose
// evaluation refreshes what the ticket holds from configuration (its SLA choice, recorded as a
// recalculation with its reason, and its time conditions, whose timers re-arm), exactly as
// the evaluation after a change does. It changes no field of the ticket, so no trigger sees an
// update. A signal while one is still queued adds nothing: the queued evaluation has not run,
// so it reads the newest configuration anyway. Closed tickets ignore it.
func (w *ticketWorkflow) listenConfigChanged(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, SignalConfigChanged)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var c ConfigChanged
			ch.Receive(ctx, &c)
			// Runs whose history has the signal unhandled (an older worker took it) replay
			// ignoring it.
			if workflow.GetVersion(ctx, "config-changed", workflow.DefaultVersion, 1) < 1 {
				continue
			}
			w.configChanged(ctx, c)
		}
	})
}

func (w *ticketWorkflow) configChanged(ctx workflow.Context, c ConfigChanged) {
	if !w.triggersOn || IsTerminal(w.st.Ticket.BaseStatus) {
		return
	}
	if i := slices.IndexFunc(w.events, func(e TriggerEvent) bool { return e.Name == EventConfigChanged }); i >= 0 {
		w.events[i].ConfigAtLeast = max(w.events[i].ConfigAtLeast, c.Generation)
		return
	}
	workflow.GetLogger(ctx).Info("configuration changed; re-evaluating", "change", c.ChangeID, "reason", c.Reason)
	w.events = append(w.events, TriggerEvent{Name: EventConfigChanged, Actor: SystemActor,
		Changes: map[string]rules.Change{}, Payload: map[string]any{"reason": c.Reason}, ConfigAtLeast: c.Generation})
}
