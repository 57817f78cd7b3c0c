package rules

import (
	"fmt"
	"slices"
	"strings"
	"text/template/parse"
)

// Action types a trigger may take.
const (
	ActionSetStatus          = "set_status"
	ActionSetUrgency         = "set_urgency"
	ActionSetCategory        = "set_category"
	ActionSetType            = "set_type"
	ActionSetSubject         = "set_subject"
	ActionAssignAgent        = "assign_agent"
	ActionAssignTeam         = "assign_team"
	ActionAddTags            = "add_tags"
	ActionRemoveTags         = "remove_tags"
	ActionSetTags            = "set_tags"
	ActionSetCustomField     = "set_custom_field"
	ActionAddAction          = "add_action"
	ActionNotifyAgents       = "notify_agents"
	ActionCallWebhook        = "call_webhook"
	ActionCreateChildTicket  = "create_child_ticket"
	ActionChangeParentStatus = "change_parent_status"
)

// ActionTypes lists every action type.
var ActionTypes = []string{ActionSetStatus, ActionSetUrgency, ActionSetCategory, ActionSetType, ActionSetSubject,
	ActionAssignAgent, ActionAssignTeam, ActionAddTags, ActionRemoveTags, ActionSetTags, ActionSetCustomField,
	ActionAddAction, ActionNotifyAgents, ActionCallWebhook, ActionCreateChildTicket, ActionChangeParentStatus}

// Action is one thing a trigger does: a flat object with a type and that type's parameters,
// e.g. {"type":"add_tags","tags":["vip"]} or {"type":"set_status","status":"Stopped",
// "justification":"..."}.
type Action struct {
	Type          string `json:"type"`
	Status        string `json:"status,omitempty"`
	Justification string `json:"justification,omitempty"`
	Urgency       string `json:"urgency,omitempty"`
	Category      string `json:"category,omitempty"`
	TicketType    string `json:"ticketType,omitempty"`
	Subject       string `json:"subject,omitempty"`
	AgentID       string `json:"agentId,omitempty"`
	TeamID        string `json:"teamId,omitempty"`
	// Distribution picks the agent within the team for assign_team: none (the team only),
	// round_robin or least_loaded among its active members.
	Distribution string   `json:"distribution,omitempty"`
	Tags         []string `json:"tags,omitempty"`
	Field        string   `json:"field,omitempty"`
	Value        any      `json:"value,omitempty"`
	ActionType   string   `json:"actionType,omitempty"` // add_action: public or internal
	Body         string   `json:"body,omitempty"`       // add_action, create_child_ticket: a template over the ticket
	AgentIDs     []string `json:"agentIds,omitempty"`   // notify_agents; empty: the ticket's owner
	Message      string   `json:"message,omitempty"`    // notify_agents: a template
	WebhookID    string   `json:"webhookId,omitempty"`
}

// Validate checks an action's own parameters; it names each bad one. References to statuses,
// agents, teams and webhooks are checked by whoever saves the trigger, against the database.
func (a Action) Validate() map[string]string {
	bad := map[string]string{}
	need := func(field, v string) {
		if strings.TrimSpace(v) == "" {
			bad[field] = "is required for " + a.Type
		}
	}
	switch a.Type {
	case ActionSetStatus, ActionChangeParentStatus:
		need("status", a.Status)
	case ActionSetUrgency:
		need("urgency", a.Urgency)
	case ActionSetCategory:
		need("category", a.Category)
	case ActionSetType:
		if a.TicketType != "public" && a.TicketType != "internal" {
			bad["ticketType"] = "must be public or internal"
		}
	case ActionSetSubject:
		need("subject", a.Subject)
		checkTemplate(bad, "subject", a.Subject)
	case ActionAssignAgent:
		need("agentId", a.AgentID)
	case ActionAssignTeam:
		need("teamId", a.TeamID)
		if !slices.Contains([]string{"", "none", "round_robin", "least_loaded"}, a.Distribution) {
			bad["distribution"] = "must be none, round_robin or least_loaded"
		}
	case ActionAddTags, ActionRemoveTags, ActionSetTags:
		if len(a.Tags) == 0 && a.Type != ActionSetTags {
			bad["tags"] = "give at least one tag"
		}
		for i, t := range a.Tags {
			if strings.TrimSpace(t) == "" || len(t) > 50 {
				bad[fmt.Sprintf("tags[%d]", i)] = "must be 1 to 50 characters"
			}
		}
	case ActionSetCustomField:
		need("field", a.Field)
	case ActionAddAction:
		if a.ActionType != "public" && a.ActionType != "internal" {
			bad["actionType"] = "must be public or internal"
		}
		need("body", a.Body)
		checkTemplate(bad, "body", a.Body)
	case ActionNotifyAgents:
		need("message", a.Message)
		checkTemplate(bad, "message", a.Message)
	case ActionCallWebhook:
		need("webhookId", a.WebhookID)
	case ActionCreateChildTicket:
		need("subject", a.Subject)
		checkTemplate(bad, "subject", a.Subject)
		checkTemplate(bad, "body", a.Body)
	default:
		bad["type"] = fmt.Sprintf("unknown action type %q; allowed: %s", a.Type, strings.Join(ActionTypes, ", "))
	}
	return bad
}

// checkTemplate parses a template and refuses names the ticket does not have ({{.subjct}}),
// which would otherwise render as nothing. Names under range and with blocks are not checked:
// there the dot is something else.
func checkTemplate(bad map[string]string, field, text string) {
	tpl, _, err := parseTemplate(field, text)
	if err != nil {
		bad[field] = "is not a valid template: " + err.Error()
		return
	}
	known := templateData(Ticket{})
	var unknown []string
	for _, t := range tpl.Templates() {
		if t.Tree != nil {
			unknownNames(t.Tree.Root, true, known, &unknown)
		}
	}
	if len(unknown) > 0 {
		names := make([]string, 0, len(known))
		for k := range known {
			names = append(names, "."+k)
		}
		slices.Sort(names)
		bad[field] = fmt.Sprintf("is not a valid template: the ticket has no field %s; use %s",
			strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
}

func unknownNames(n parse.Node, top bool, known map[string]any, out *[]string) {
	check := func(name string) {
		if _, ok := known[name]; !ok && !slices.Contains(*out, "."+name) {
			*out = append(*out, "."+name)
		}
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				unknownNames(c, top, known, out)
			}
		}
	case *parse.ActionNode:
		unknownNames(n.Pipe, top, known, out)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				unknownNames(c, top, known, out)
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			unknownNames(a, top, known, out)
		}
	case *parse.FieldNode:
		if top {
			check(n.Ident[0])
		}
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			check(n.Ident[1])
		}
	case *parse.ChainNode:
		unknownNames(n.Node, top, known, out)
	case *parse.IfNode:
		unknownNames(n.Pipe, top, known, out)
		unknownNames(n.List, top, known, out)
		unknownNames(n.ElseList, top, known, out)
	case *parse.RangeNode:
		unknownNames(n.Pipe, top, known, out)
		unknownNames(n.List, false, known, out)
		unknownNames(n.ElseList, top, known, out)
	case *parse.WithNode:
		unknownNames(n.Pipe, top, known, out)
		unknownNames(n.List, false, known, out)
		unknownNames(n.ElseList, top, known, out)
	case *parse.TemplateNode:
		unknownNames(n.Pipe, top, known, out)
	}
}

func templateData(t Ticket) map[string]any {
	return map[string]any{"id": t.ID, "protocol": t.Protocol, "type": t.Type, "subject": t.Subject,
		"category": t.Category, "urgency": t.Urgency, "status": t.Status, "baseStatus": t.BaseStatus,
		"ownerId": t.OwnerID, "teamId": t.TeamID, "tags": t.Tags, "customFields": t.CustomFields}
}
