package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun/dialect/pgdialect"
	"go.temporal.io/sdk/client"

	"github.com/switchboardhq/switchboard/api"
	"github.com/switchboardhq/switchboard/workflows"
)

// chat-drain: 50 chats wait in an automatic group whose 10 agents (limit 5) are all offline;
// the agents come online at once (50 seats open) and the time until the last of the 50 is
// offered is measured (from the chats' recorded offers, read every 10 ms), next to 50 bare
// signal round trips sent at once in the same run. Three rounds. Target: drained within 2 s.
//
// chat-delivery: 100 visitor chats at once through the public widget API, each accepted by one
// of 10 agents who hold their /api/v1/stream open; each visitor sends 10 messages at a person's
// pace (1-3 s apart), timed from the visitor's POST to the chat.message event on the agent's
// stream, next to a bare NOTIFY round trip at the same concurrency. Target: p99 under 100 ms.

// chatAgents creates n agents and answers their ids.
func (s *scale) chatAgents(root string, n int, tag string) ([]string, error) {
	ids := make([]string, n)
	for i := range ids {
		var p struct {
			ID string `json:"id"`
		}
		if err := apiCall(s.hc, root, s.token, "POST", "/api/v1/persons", map[string]any{"name": fmt.Sprintf("Chat agent %d %s", i, tag),
			"profile": "agent", "emails": []string{fmt.Sprintf("chat%d-%s@example.com", i, tag)}}, &p); err != nil {
			return nil, err
		}
		ids[i] = p.ID
	}
	return ids, nil
}

// chatGroup creates a chat group of the agents and answers its id.
func (s *scale) chatGroup(root, tag string, agents []string, distribution map[string]any) (string, error) {
	members := []map[string]any{}
	for _, a := range agents {
		members = append(members, map[string]any{"agentId": a})
	}
	var g struct {
		ID string `json:"id"`
	}
	err := apiCall(s.hc, root, s.token, "POST", "/api/v1/chat-groups", map[string]any{"name": "bench-" + tag, "members": members,
		"distribution": distribution, "timeouts": map[string]any{"acceptWithin": "1h", "queueWait": "24h", "customerInactivity": "24h"}}, &g)
	return g.ID, err
}

func (s *scale) setChatPresence(agents []string, status string) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(agents))
	for _, a := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- apiCall(s.hc, s.root, s.token, "PUT", "/api/v1/agents/"+a+"/chat", map[string]any{"status": status}, nil)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *scale) benchChatDrain() error {
	const agentCount, limit, chats, rounds = 10, 5, 50, 3
	tag := randomHex()
	agents, err := s.chatAgents(s.root, agentCount, tag)
	if err != nil {
		return err
	}
	g, err := s.chatGroup(s.root, tag, agents, map[string]any{"automatic": true, "maxConcurrentPerAgent": limit})
	if err != nil {
		return err
	}
	fmt.Printf("chat-drain: %d chats waiting, %d agents (limit %d) come online at once; time until the last is offered\n", chats, agentCount, limit)
	var drains []time.Duration
	for round := range rounds {
		d, err := s.drainRound(g, agents, chats)
		if err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		drains = append(drains, d)
	}
	base, err := s.signalBurst(chats)
	if err != nil {
		return err
	}
	worst := drains[0]
	parts := make([]string, len(drains))
	for i, d := range drains {
		worst = max(worst, d)
		parts[i] = fmt.Sprintf("%.0f ms", ms(d))
	}
	fmt.Printf("  %-44s %s\n", "50 seats open -> 50 chats offered", strings.Join(parts, ", "))
	fmt.Printf("  %-44s %.0f ms (ratio %.1f)\n", "baseline: 50 signal round trips at once", ms(base), float64(worst)/float64(base))
	verdict := "meets"
	if worst >= 2*time.Second {
		verdict = "MISSES"
	}
	fmt.Printf("  %s the target (drained within 2 s)\n\n", verdict)
	return nil
}

// drainRound starts chats into the group while its agents are offline, waits until they all
// wait, brings the agents online and answers the time until every chat was offered. The
// chats are closed (and the agents set offline) afterwards.
func (s *scale) drainRound(group string, agents []string, chats int) (time.Duration, error) {
	ctx := s.ctx
	if err := s.setChatPresence(agents, "offline"); err != nil {
		return 0, err
	}
	ids := make([]string, chats)
	for i := range ids {
		ids[i] = uuid.NewString()
		_, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ChatWorkflowID(ids[i]), TaskQueue: s.queue},
			workflows.ChatSessionWorkflowType, workflows.ChatInput{ID: ids[i], Kind: workflows.ChatKindCustomer, GroupID: group,
				Group: workflows.ChatGroupSettings{AcceptWithin: time.Hour, QueueWait: 24 * time.Hour, CustomerInactivity: 24 * time.Hour}})
		if err != nil {
			return 0, err
		}
	}
	count := func(query string) (int, error) {
		var n int
		err := s.db.NewRaw(query, pgdialect.Array(ids)).Scan(ctx, &n)
		return n, err
	}
	if err := waitFor(time.Minute, func() (bool, error) {
		n, err := count(`SELECT count(*) FROM chats WHERE id = ANY(?::text[]) AND queue_position IS NOT NULL`)
		return n == chats, err
	}); err != nil {
		return 0, fmt.Errorf("the chats never all waited: %w", err)
	}
	t0 := time.Now()
	if err := s.setChatPresence(agents, "online"); err != nil {
		return 0, err
	}
	if err := waitFor(time.Minute, func() (bool, error) {
		n, err := count(`SELECT count(DISTINCT chat_id) FROM chat_events WHERE chat_id = ANY(?::text[]) AND type = 'offered'`)
		return n == chats, err
	}); err != nil {
		return 0, fmt.Errorf("the chats were never all offered: %w", err)
	}
	took := time.Since(t0)
	for _, id := range ids {
		h, err := s.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.ChatWorkflowID(id), UpdateName: workflows.UpdateChatClose,
			Args: []any{workflows.CloseChatInput{By: "bench", Reason: workflows.CloseByCustomer}}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err != nil {
			return 0, fmt.Errorf("closing chat %s: %w", id, err)
		}
	}
	return took, nil
}

// waitFor polls cond every 10 ms until it holds, fails or the wait is over.
func waitFor(wait time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("not within %s", wait)
}

const benchOrigin = "https://bench.example"

// publicCall is a call to the public widget API from the widget's page (its Origin), with the
// visitor's token when there is one.
func (s *scale) publicCall(root, token, method, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, _ := http.NewRequestWithContext(s.ctx, method, root+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", benchOrigin)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		var e bytes.Buffer
		_, _ = e.ReadFrom(res.Body)
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, e.String())
	}
	if out != nil {
		return json.NewDecoder(res.Body).Decode(out)
	}
	return nil
}

// chatArrival is a chat.message event as an agent's stream delivered it.
type chatArrival struct {
	seq int64
	at  time.Time
}

// agentChatStream opens the agent's /api/v1/stream and sends each chat.message event to its
// chat's inbox (created on first use under mu).
func (s *scale) agentChatStream(ctx context.Context, root, token string, mu *sync.Mutex, inbox map[string]chan chatArrival) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", root+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	if res.StatusCode != 200 {
		res.Body.Close()
		return fmt.Errorf("agent stream: %d", res.StatusCode)
	}
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var event string
		for sc.Scan() {
			line := sc.Text()
			if name, ok := strings.CutPrefix(line, "event: "); ok {
				event = name
				continue
			}
			data, ok := strings.CutPrefix(line, "data: ")
			if !ok || event != "chat.message" {
				continue
			}
			at := time.Now()
			var e struct {
				ChatID string `json:"chatId"`
				Seq    int64  `json:"seq"`
			}
			if json.Unmarshal([]byte(data), &e) != nil {
				continue
			}
			mu.Lock()
			ch := inbox[e.ChatID]
			mu.Unlock()
			if ch != nil {
				ch <- chatArrival{e.Seq, at}
			}
		}
	}()
	return nil
}

func (s *scale) benchChatDelivery() error {
	const agentCount, chats, perChat = 10, 100, 10
	root, stop, err := s.messengerServer(func(c *api.Config) {
		c.PublicChatRate, c.PublicChatStartRate, c.PublicChatSessionRate = 0, 0, 0 // one address plays 100 visitors
	})
	if err != nil {
		return err
	}
	defer stop()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	tag := randomHex()
	agents, err := s.chatAgents(root, agentCount, tag)
	if err != nil {
		return err
	}
	g, err := s.chatGroup(root, tag, agents, map[string]any{"automatic": false})
	if err != nil {
		return err
	}
	if err := s.setChatPresence(agents, "online"); err != nil { // else the chats go to the offline flow
		return err
	}
	var widget struct {
		Key string `json:"key"`
	}
	if err := apiCall(s.hc, root, s.token, "POST", "/api/v1/chat-widgets", map[string]any{"name": "bench " + tag, "groupIds": []string{g},
		"allowedOrigins": []string{benchOrigin}}, &widget); err != nil {
		return err
	}
	fmt.Printf("chat-delivery: %d visitor chats at once, %d agents, %d messages each at a person's pace, visitor POST -> agent stream; baseline: PostgreSQL NOTIFY round trip\n",
		chats, agentCount, perChat)
	base, err := s.notifyRoundTrips(chats, perChat)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	inbox := map[string]chan chatArrival{}
	for _, a := range agents {
		var tok struct {
			Token string `json:"token"`
		}
		if err := apiCall(s.hc, root, s.token, "POST", "/api/v1/persons/"+a+"/tokens", map[string]any{"name": "bench"}, &tok); err != nil {
			return err
		}
		if err := s.agentChatStream(ctx, root, tok.Token, &mu, inbox); err != nil {
			return err
		}
	}
	type visitor struct{ id, token string }
	visitors := make([]visitor, chats)
	for i := range visitors {
		var v struct {
			Session struct {
				ID string `json:"id"`
			} `json:"session"`
			VisitorToken string `json:"visitorToken"`
		}
		if err := s.publicCall(root, "", "POST", "/public/chat/v1/sessions", map[string]any{"widgetKey": widget.Key, "name": fmt.Sprintf("Visitor %d", i)}, &v); err != nil {
			return err
		}
		visitors[i] = visitor{v.Session.ID, v.VisitorToken}
		mu.Lock()
		inbox[v.Session.ID] = make(chan chatArrival, perChat+8)
		mu.Unlock()
		h, err := s.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.ChatWorkflowID(v.Session.ID), UpdateName: workflows.UpdateChatAccept,
			Args: []any{workflows.AcceptChatInput{AgentID: agents[i%agentCount]}}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err != nil {
			return fmt.Errorf("accepting chat %s: %w", v.Session.ID, err)
		}
	}
	var res result
	errs := make(chan error, chats)
	start := time.Now()
	var wg sync.WaitGroup
	for i, v := range visitors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			ch := inbox[v.id]
			mu.Unlock()
			for n := range perChat {
				time.Sleep(time.Second + time.Duration(mrand.Int64N(int64(2*time.Second))))
				var m struct {
					Seq int64 `json:"seq"`
				}
				t0 := time.Now()
				if err := s.publicCall(root, v.token, "POST", "/public/chat/v1/sessions/"+v.id+"/messages",
					map[string]any{"body": fmt.Sprintf("message %d of visitor %d", n, i), "clientMessageId": fmt.Sprintf("m-%d", n)}, &m); err != nil {
					errs <- err
					return
				}
				timeout := time.After(30 * time.Second)
			wait:
				for {
					select {
					case a := <-ch:
						if a.seq == m.Seq {
							mu.Lock()
							res.latencies = append(res.latencies, a.at.Sub(t0))
							mu.Unlock()
							break wait
						}
					case <-timeout:
						errs <- fmt.Errorf("message %d of chat %s never reached the agent's stream", m.Seq, v.id)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	res.elapsed, res.count = time.Since(start), len(res.latencies)
	close(errs)
	for err := range errs {
		return err
	}
	for _, v := range visitors {
		_ = s.publicCall(root, v.token, "POST", "/public/chat/v1/sessions/"+v.id+"/close", nil, nil)
	}
	fmt.Printf("  %-38s p50 %6.1f ms   p99 %6.1f ms   (%d)\n", "baseline: NOTIFY -> LISTEN", ms(base.pct(0.50)), ms(base.pct(0.99)), base.count)
	fmt.Printf("  %-38s p50 %6.1f ms   p99 %6.1f ms   (%d messages, %.0f /s; p99 ratio %.1f)\n", "visitor POST -> agent stream event",
		ms(res.pct(0.50)), ms(res.pct(0.99)), res.count, res.rate(), float64(res.pct(0.99))/float64(max(base.pct(0.99), time.Microsecond)))
	verdict := "meets"
	if res.pct(0.99) >= 100*time.Millisecond {
		verdict = "MISSES"
	}
	fmt.Printf("  %s the target (p99 under 100 ms)\n\n", verdict)
	return nil
}
