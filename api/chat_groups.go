package api

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/internal/chatconfig"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// Chat groups are the live-chat counterpart of call groups: ordered agents, how chats are
// distributed among them, business hours, an optional department and the chat timeouts. Plain
// configuration, written with config:write and read with config:read; the ChatSession
// workflows read it through activities.
func (s *Server) chatGroupRoutes(r fiber.Router) {
	r.Post("/chat-groups", requirePerm(PermConfigWrite), s.createChatGroup)
	r.Get("/chat-groups", requirePerm(PermConfigRead), s.listChatGroups)
	r.Get("/chat-groups/:id", requirePerm(PermConfigRead), getOne("id", s.loadChatGroup))
	r.Patch("/chat-groups/:id", requirePerm(PermConfigWrite), s.updateChatGroup)
	r.Delete("/chat-groups/:id", requirePerm(PermConfigWrite), s.deleteChatGroup)
}

// nullable is a JSON field that may be absent (Set false), null (Value nil) or a value.
type nullable[T any] struct {
	Set   bool
	Value *T
}

func (n *nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.Value = &v
	return nil
}

type chatMemberInput struct {
	AgentID string `json:"agentId" validate:"required,max=64"`
}

type chatDistributionInput struct {
	Automatic *bool `json:"automatic"`
	// null: no limit
	MaxConcurrentPerAgent nullable[int] `json:"maxConcurrentPerAgent"`
}

type chatTimeoutsInput struct {
	AcceptWithin       *string `json:"acceptWithin" validate:"omitnil,max=32"`
	CustomerInactivity *string `json:"customerInactivity" validate:"omitnil,max=32"`
	QueueWait          *string `json:"queueWait" validate:"omitnil,max=32"`
}

// chatOfflineInput is a group's offline flow; null or empty texts are the defaults.
type chatOfflineInput struct {
	Prompt        nullable[string] `json:"prompt"`
	Autoresponder nullable[string] `json:"autoresponder"`
	IntakeClose   *string          `json:"intakeClose" validate:"omitnil,max=32"`
}

// apply writes the offline flow's fields over g.
func (in *chatOfflineInput) apply(g *schema.ChatGroup, fields map[string]string) {
	for _, t := range []struct {
		field string
		in    nullable[string]
		dst   **string
	}{{"offline.prompt", in.Prompt, &g.OfflinePrompt}, {"offline.autoresponder", in.Autoresponder, &g.OfflineAutoresponder}} {
		if !t.in.Set {
			continue
		}
		v := nilIfEmptyPtr(t.in.Value)
		if v != nil && len([]rune(*v)) > chatconfig.MaxOfflineText {
			fields[t.field] = fmt.Sprintf("must be at most %d characters (it has %d)", chatconfig.MaxOfflineText, len([]rune(*v)))
			continue
		}
		*t.dst = v
	}
	if in.IntakeClose != nil {
		secs, problem := chatconfig.IntakeClose.Parse(*in.IntakeClose)
		if problem != "" {
			fields[chatconfig.IntakeClose.Field] = problem
			return
		}
		g.IntakeCloseSeconds = secs
	}
}

// chatGroupInput is a chat group as clients write it; on an edit, absent fields stay.
type chatGroupInput struct {
	Name         *string                `json:"name" validate:"omitnil,notblank,max=100"`
	DisplayName  *string                `json:"displayName" validate:"omitnil,notblank,max=200"`
	Members      *[]chatMemberInput     `json:"members" validate:"omitnil,max=500,dive"`
	Distribution *chatDistributionInput `json:"distribution"`
	// null or empty: none (always open / no department)
	CalendarID   nullable[string]   `json:"calendarId"`
	DepartmentID nullable[string]   `json:"departmentId"`
	Timeouts     *chatTimeoutsInput `json:"timeouts"`
	Offline      *chatOfflineInput  `json:"offline"`
}

// apply writes the input over g and answers what is wrong with the fields it could check
// without the database: timeouts, the limit and duplicate members.
func (in *chatGroupInput) apply(g *schema.ChatGroup) map[string]string {
	fields := map[string]string{}
	if in.Name != nil {
		g.Name = strings.TrimSpace(*in.Name)
	}
	if in.DisplayName != nil {
		g.DisplayName = strings.TrimSpace(*in.DisplayName)
	}
	if in.Members != nil {
		g.Members = []schema.ChatGroupMember{}
		for i, m := range *in.Members {
			if slices.ContainsFunc(g.Members, func(p schema.ChatGroupMember) bool { return p.AgentID == m.AgentID }) {
				fields["members["+itoa(i)+"].agentId"] = "agent " + m.AgentID + " is in the group already"
			}
			g.Members = append(g.Members, schema.ChatGroupMember{GroupID: g.ID, AgentID: m.AgentID, Position: i})
		}
	}
	if d := in.Distribution; d != nil {
		set(&g.Automatic, d.Automatic)
		if d.MaxConcurrentPerAgent.Set {
			g.MaxConcurrentPerAgent = d.MaxConcurrentPerAgent.Value
			if n := g.MaxConcurrentPerAgent; n != nil {
				if problem := chatconfig.CheckConcurrent(*n); problem != "" {
					fields["distribution.maxConcurrentPerAgent"] = problem
				}
			}
		}
	}
	if in.CalendarID.Set {
		g.CalendarID = nilIfEmptyPtr(in.CalendarID.Value)
	}
	if in.DepartmentID.Set {
		g.DepartmentID = nilIfEmptyPtr(in.DepartmentID.Value)
	}
	if in.Offline != nil {
		in.Offline.apply(g, fields)
	}
	if t := in.Timeouts; t != nil {
		for _, tm := range []struct {
			b   chatconfig.Bound
			in  *string
			dst *int
		}{
			{chatconfig.AcceptWithin, t.AcceptWithin, &g.AcceptWithinSeconds},
			{chatconfig.CustomerInactivity, t.CustomerInactivity, &g.InactivitySeconds},
			{chatconfig.QueueWait, t.QueueWait, &g.QueueWaitSeconds},
		} {
			if tm.in == nil {
				continue
			}
			secs, problem := tm.b.Parse(*tm.in)
			if problem != "" {
				fields[tm.b.Field] = problem
				continue
			}
			*tm.dst = secs
		}
	}
	return fields
}

// checkChatGroupRefs adds to fields what is wrong with the references the input gives (an
// edit checks only what it is given): members must be active agents, the calendar must exist,
// the department must be an active department.
func (s *Server) checkChatGroupRefs(ctx context.Context, g *schema.ChatGroup, in *chatGroupInput, fields map[string]string) error {
	var ids []string
	if in.Members != nil {
		for _, m := range g.Members {
			ids = append(ids, m.AgentID)
		}
	}
	if err := s.checkAgents(ctx, "members", ids); err != nil {
		e := toAPIError(err)
		if e.Fields == nil {
			return err
		}
		for k, v := range e.Fields { // members[i] -> members[i].agentId
			if _, dup := fields[k+".agentId"]; !dup {
				fields[k+".agentId"] = v
			}
		}
	}
	if in.CalendarID.Set && g.CalendarID != nil {
		var exists bool
		if err := s.db.NewRaw("SELECT EXISTS (SELECT 1 FROM calendars WHERE id = ?)", *g.CalendarID).Scan(ctx, &exists); err != nil {
			return err
		}
		if !exists {
			fields["calendarId"] = "no calendar with id " + *g.CalendarID
		}
	}
	if in.DepartmentID.Set && g.DepartmentID != nil {
		if msg := s.checkRef(ctx, *g.DepartmentID, "department"); msg != "" {
			fields["departmentId"] = msg
		}
	}
	return nil
}

func (s *Server) createChatGroup(c *fiber.Ctx) error {
	var in chatGroupInput
	if err := decode(c, &in); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	g := schema.ChatGroup{ID: uuid.Must(uuid.NewV7()).String(), Automatic: true, Members: []schema.ChatGroupMember{},
		AcceptWithinSeconds: chatconfig.AcceptWithin.Seconds(), InactivitySeconds: chatconfig.CustomerInactivity.Seconds(),
		QueueWaitSeconds: chatconfig.QueueWait.Seconds(), IntakeCloseSeconds: chatconfig.IntakeClose.Seconds(),
		CreatedAt: now, UpdatedAt: now}
	fields := in.apply(&g)
	if in.Name == nil {
		fields["name"] = "is required"
	}
	if in.DisplayName == nil {
		g.DisplayName = g.Name
	}
	return s.saveChatGroup(c, &g, nil, &in, fields, "create", fiber.StatusCreated)
}

func (s *Server) updateChatGroup(c *fiber.Ctx) error {
	var in chatGroupInput
	if err := decode(c, &in); err != nil {
		return err
	}
	before, err := s.loadChatGroup(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	g := *before
	g.Members = slices.Clone(before.Members)
	g.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	return s.saveChatGroup(c, &g, before, &in, in.apply(&g), "update", fiber.StatusOK)
}

func (s *Server) saveChatGroup(c *fiber.Ctx, g, before *schema.ChatGroup, in *chatGroupInput, fields map[string]string, action string, status int) error {
	if err := s.checkChatGroupRefs(c.UserContext(), g, in, fields); err != nil {
		return err
	}
	if len(fields) > 0 {
		return errInvalid(fields)
	}
	if err := writeConfig(c, s.db, chatGroups, g, before, action, status); err != nil {
		return err
	}
	return s.chatConfigChanged(c.UserContext(), workflows.ChatConfigChange{GroupIDs: []string{g.ID}})
}

// deleteChatGroup removes a group no widget offers (409 otherwise); its members go with it.
func (s *Server) deleteChatGroup(c *fiber.Ctx) error {
	ctx := c.UserContext()
	before, err := s.loadChatGroup(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	err = chatGroups.remove(ctx, s.db, principal(c).Person.ID, before, func(ctx context.Context, tx bun.Tx) error {
		// The group's row first: a widget saved meanwhile (it locks the groups it names) either
		// committed before, and is found below, or waits and then finds the group gone.
		if _, err := tx.NewRaw("SELECT 1 FROM chat_groups WHERE id = ? FOR UPDATE", before.ID).Exec(ctx); err != nil {
			return err
		}
		var widgets []string
		if err := tx.NewRaw("SELECT id FROM chat_widgets WHERE group_ids @> ARRAY[?]::text[] ORDER BY id", before.ID).
			Scan(ctx, &widgets); err != nil && !isNoRows(err) {
			return err
		}
		if len(widgets) > 0 {
			return errConflict("chat group %s is offered by chat widget %s; take it out of the widget first", before.ID, strings.Join(widgets, ", "))
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The distributor drops the group: nothing more is offered from its queue, whose chats
	// (none can arrive now: no widget offers it) reach the offline flow at their queue wait.
	if err := s.chatConfigChanged(ctx, workflows.ChatConfigChange{GroupIDs: []string{before.ID}}); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// chatGroupContent is what an edit may change, to tell a no-op.
func chatGroupContent(g *schema.ChatGroup) string {
	j := g.JSON()
	j.Version, j.UpdatedAt = 0, time.Time{}
	raw, _ := json.Marshal(j)
	return string(raw)
}

var chatGroups = &configResource[schema.ChatGroup]{entity: "chat_group", noun: "chat group",
	columns: []string{"name", "display_name", "automatic", "max_concurrent_per_agent", "calendar_id", "department_id",
		"accept_within_seconds", "customer_inactivity_seconds", "queue_wait_seconds", "offline_prompt",
		"offline_autoresponder", "intake_close_seconds", "updated_at"},
	id:      func(g *schema.ChatGroup) string { return g.ID },
	version: func(g *schema.ChatGroup) *int { return &g.Version },
	same:    func(a, b *schema.ChatGroup) bool { return chatGroupContent(a) == chatGroupContent(b) },
	writeError: func(g *schema.ChatGroup, err error) error {
		if uniqueViolation(err) {
			return errConflict("a chat group named %q exists already", g.Name)
		}
		return err
	},
	post: writeChatGroupMembers,
}

// writeChatGroupMembers replaces a group's members, in order, when they are new or changed.
func writeChatGroupMembers(ctx context.Context, tx bun.Tx, _ string, g, before *schema.ChatGroup) error {
	if before != nil && slices.EqualFunc(g.Members, before.Members, func(a, b schema.ChatGroupMember) bool { return a.AgentID == b.AgentID }) {
		return nil
	}
	if _, err := tx.NewDelete().Model((*schema.ChatGroupMember)(nil)).Where("group_id = ?", g.ID).Exec(ctx); err != nil {
		return err
	}
	if len(g.Members) == 0 {
		return nil
	}
	for i := range g.Members {
		g.Members[i].GroupID, g.Members[i].Position = g.ID, i
	}
	_, err := tx.NewInsert().Model(&g.Members).Exec(ctx)
	return err
}

func (s *Server) loadChatGroup(ctx context.Context, id string) (*schema.ChatGroup, error) {
	g, err := chatGroups.load(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	groups := []schema.ChatGroup{*g}
	if err := s.chatGroupMembers(ctx, groups); err != nil {
		return nil, err
	}
	g.Members = groups[0].Members
	return g, nil
}

// chatGroupMembers reads the members of the groups in one query, each list in the group's order.
func (s *Server) chatGroupMembers(ctx context.Context, gs []schema.ChatGroup) error {
	if len(gs) == 0 {
		return nil
	}
	at := make(map[string]int, len(gs))
	ids := make([]string, len(gs))
	for i, g := range gs {
		at[g.ID], ids[i] = i, g.ID
		gs[i].Members = []schema.ChatGroupMember{}
	}
	var rows []schema.ChatGroupMember
	if err := s.db.NewSelect().Model(&rows).Where("group_id IN (?)", bun.In(ids)).Order("group_id", "position").Scan(ctx); err != nil {
		return err
	}
	for _, m := range rows {
		gs[at[m.GroupID]].Members = append(gs[at[m.GroupID]].Members, m)
	}
	return nil
}

// listChatGroups lists the groups oldest first; filters agentId (a member), q (the name).
func (s *Server) listChatGroups(c *fiber.Ctx) error {
	return chatGroups.list(c, s.db, configList[schema.ChatGroup]{
		filter: func(c *fiber.Ctx, q *bun.SelectQuery) (*bun.SelectQuery, error) {
			if v := c.Query("agentId"); v != "" {
				q = q.Where("EXISTS (SELECT 1 FROM chat_group_members m WHERE m.group_id = chat_group.id AND m.agent_id = ?)", v)
			}
			return nameFilter(c, q)
		},
		expand: func(ctx context.Context, rows []schema.ChatGroup) error { return s.chatGroupMembers(ctx, rows) },
	})
}
