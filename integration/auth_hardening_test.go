package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/api"
)

// mint creates a token through the API and returns the answer.
func (s *stack) mint(t *testing.T, by, person string, scopes ...string) *resp {
	t.Helper()
	body := map[string]any{"name": "minted"}
	if scopes != nil {
		body["scopes"] = scopes
	}
	return s.call(t, by, "POST", "/api/v1/persons/"+person+"/tokens", body)
}

func (s *stack) mintOK(t *testing.T, by, person string, scopes ...string) string {
	t.Helper()
	return s.mint(t, by, person, scopes...).expect(201).obj()["token"].(string)
}

// operatorID is the person the stack's admin token acts as.
func (s *stack) operatorID(t *testing.T) string {
	t.Helper()
	var id string
	require.NoError(t, s.db.NewSelect().Table("api_tokens").Column("person_id").
		Where("hash = ?", api.HashToken(s.admin)).Scan(t.Context(), &id))
	return id
}

// tokenID is the id of a token, as the database knows it.
func (s *stack) tokenID(t *testing.T, token string) string {
	t.Helper()
	var id string
	require.NoError(t, s.db.NewSelect().Table("api_tokens").Column("id").
		Where("hash = ?", api.HashToken(token)).Scan(t.Context(), &id))
	return id
}

// A token mints only tokens no more powerful than itself.
func TestAuthHardeningMint(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	admin := s.operatorID(t)

	pbx := s.mintOK(t, s.admin, p.agent, "telephony")
	s.mint(t, pbx, p.agent).expectError(403, "forbidden")
	s.mint(t, pbx, p.agent, "telephony").expectError(403, "forbidden")
	s.mint(t, pbx, admin).expectError(403, "forbidden")

	adminReader := s.mintOK(t, s.admin, admin, "tickets:read")
	s.mint(t, adminReader, p.customer).expectError(403, "forbidden")
	s.mint(t, adminReader, p.customer, "tickets:read").expectError(403, "forbidden")

	// A scoped admin token, even with people:write, mints only for its own person.
	adminPeople := s.mintOK(t, s.admin, admin, "people:write", "tickets:read")
	s.mint(t, adminPeople, p.customer, "tickets:read").expectError(403, "forbidden")
	narrow := s.mintOK(t, adminPeople, admin, "tickets:read")
	s.call(t, narrow, "GET", "/api/v1/tickets", nil).expect(200)
	s.call(t, narrow, "GET", "/api/v1/persons", nil).expectError(403, "forbidden")
	s.mint(t, adminPeople, admin).expectError(403, "forbidden")                 // unscoped from scoped
	s.mint(t, adminPeople, admin, "config:write").expectError(403, "forbidden") // a scope it lacks

	// An agent mints for itself within its own token's scopes, never for others.
	s.mintOK(t, p.agentTok, p.agent, "tickets:read")
	s.mintOK(t, p.agentTok, p.agent)
	s.mint(t, p.agentTok, p.agent2).expectError(403, "forbidden")
	s.mint(t, p.agentTok, admin).expectError(403, "forbidden")
	// Customers manage no tokens, not even their own.
	s.mint(t, p.customerTok, p.customer).expectError(403, "forbidden")
}

// A few random chains of mint calls through HTTP never end with more power than they began
// with (the exhaustive version is api.TestMintNeverEscalates).
func TestAuthHardeningMintChains(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	admin := s.operatorID(t)
	targets := []string{admin, p.agent, p.agent2, p.customer}
	rng := rand.New(rand.NewPCG(8, 8))
	for chain := range 6 {
		// Start from a random scoped token of the agent or a scoped admin token.
		holder := []string{p.agent, admin}[chain%2]
		role := map[string]string{p.agent: "agent", admin: "admin"}[holder]
		var start []string
		for _, sc := range randomScopes(rng) {
			if slices.Contains(api.EffectivePerms(role, nil), sc) {
				start = append(start, sc)
			}
		}
		if len(start) == 0 {
			start = []string{api.PermPeopleWrite}
		}
		tok := s.mintOK(t, s.admin, holder, start...)
		startPerms := s.effective(t, tok)
		for range 5 {
			target, scopes := targets[rng.IntN(len(targets))], randomScopes(rng)
			r := s.mint(t, tok, target, scopes...)
			if r.status != 201 {
				require.Contains(t, []int{403, 422}, r.status, "body: %s", r.body)
				continue
			}
			next := r.obj()["token"].(string)
			require.Equal(t, holder, target, "a scoped token minted for someone else")
			require.Subset(t, startPerms, s.effective(t, next), "a minted token gained permissions")
			tok = next
		}
	}
}

func randomScopes(rng *rand.Rand) []string {
	var out []string
	for _, sc := range api.Scopes {
		if rng.IntN(3) == 0 {
			out = append(out, sc)
		}
	}
	return out
}

// effective reads a token's effective permissions from the database: its person's role
// narrowed by its scopes.
func (s *stack) effective(t *testing.T, token string) []string {
	t.Helper()
	var row struct {
		Role   string   `bun:"role"`
		Scopes []string `bun:"scopes,array"`
	}
	require.NoError(t, s.db.NewRaw(`SELECT p.role, t.scopes FROM api_tokens t JOIN persons p ON p.id = t.person_id
		WHERE t.hash = ?`, api.HashToken(token)).Scan(t.Context(), &row))
	return api.EffectivePerms(row.Role, row.Scopes)
}

// No person write by a non-admin touches an admin.
func TestAuthHardeningPatchAdmin(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	admin := s.operatorID(t)
	s.call(t, p.agentTok, "PATCH", "/api/v1/persons/"+admin, map[string]any{"isActive": false}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "PATCH", "/api/v1/persons/"+admin, map[string]any{"emails": []string{"mine@example.com"}}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "PATCH", "/api/v1/persons/"+admin, map[string]any{"name": "Mallory"}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "DELETE", "/api/v1/persons/"+admin, nil).expectError(403, "forbidden")
	s.call(t, s.admin, "GET", "/api/v1/tickets", nil).expect(200)
	// Agents still edit agents.
	s.call(t, p.agentTok, "PATCH", "/api/v1/persons/"+p.agent2, map[string]any{"name": "Bob B"}).expect(200)
}

// Idempotency keys are checked against the route's permission first, are per token, and never
// replay a shown-once secret.
func TestAuthHardeningIdempotency(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	admin := s.operatorID(t)
	key := header{"Idempotency-Key", randomName("key-")}
	body := map[string]any{"name": "Receiver " + randomName(""), "url": "http://127.0.0.1:9/hook"}
	first := s.call(t, s.admin, "POST", "/api/v1/webhooks", body, key).expect(201).obj()
	require.NotEmpty(t, first["secret"])

	// The same person's telephony token, same key and body: the route's permission decides.
	pbx := s.mintOK(t, s.admin, admin, "telephony")
	s.call(t, pbx, "POST", "/api/v1/webhooks", body, key).expectError(403, "forbidden")

	// The replay to the same token has no secret, and says so.
	again := s.call(t, s.admin, "POST", "/api/v1/webhooks", body, key).expect(201)
	require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	require.Equal(t, "secret", again.header.Get("Idempotent-Redacted"))
	require.NotContains(t, again.obj(), "secret")
	require.Equal(t, first["id"], again.obj()["id"])
	var stored []byte
	require.NoError(t, s.db.NewRaw(`SELECT body FROM idempotency_keys WHERE key = ?`, key.v).Scan(t.Context(), &stored))
	require.NotContains(t, string(stored), first["secret"].(string), "the secret is not stored")

	// Rotation and minted tokens alike.
	rkey := header{"Idempotency-Key", randomName("key-")}
	rotated := s.call(t, s.admin, "POST", "/api/v1/webhooks/"+first["id"].(string)+"/rotate-secret", nil, rkey).expect(200).obj()
	require.NotEmpty(t, rotated["secret"])
	require.NotContains(t, s.call(t, s.admin, "POST", "/api/v1/webhooks/"+first["id"].(string)+"/rotate-secret", nil, rkey).expect(200).obj(), "secret")
	tkey := header{"Idempotency-Key", randomName("key-")}
	minted := s.call(t, s.admin, "POST", "/api/v1/persons/"+p.agent+"/tokens", map[string]any{"name": "x"}, tkey).expect(201).obj()
	replayed := s.call(t, s.admin, "POST", "/api/v1/persons/"+p.agent+"/tokens", map[string]any{"name": "x"}, tkey).expect(201)
	require.Equal(t, "token", replayed.header.Get("Idempotent-Redacted"))
	require.NotContains(t, replayed.obj(), "token")
	require.Equal(t, minted["id"], replayed.obj()["id"])
	for key, secret := range map[string]string{rkey.v: rotated["secret"].(string), tkey.v: minted["token"].(string)} {
		require.NoError(t, s.db.NewRaw(`SELECT body FROM idempotency_keys WHERE key = ?`, key).Scan(t.Context(), &stored))
		require.NotContains(t, string(stored), secret, "a rotated secret or minted token is not stored")
	}

	// Keys are per token: another token of the same admin runs the request anew.
	other := s.mintOK(t, s.admin, admin)
	fresh := s.call(t, other, "POST", "/api/v1/persons/"+p.agent+"/tokens", map[string]any{"name": "x"}, tkey).expect(201)
	require.Empty(t, fresh.header.Get("Idempotent-Replayed"))
	require.NotEqual(t, minted["id"], fresh.obj()["id"])
}

// A key left in progress by a process that died is taken over after its lease; one still
// within its lease is a 409 with Retry-After.
func TestAuthHardeningIdempotencyLease(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Lease"})
	path := fmt.Sprintf("/api/v1/tickets/%d/actions", tk.ID)
	body := map[string]any{"type": "internal", "body": "after a crash"}
	raw, _ := json.Marshal(body)
	owner := s.tokenID(t, p.agentTok)
	insert := func(key string, leaseUntil time.Time) {
		_, err := s.db.NewRaw(`INSERT INTO idempotency_keys (owner_id, key, method, path, request_hash, lease_until)
			VALUES (?, ?, 'POST', ?, ?, ?)`, owner, key, path, api.RequestHash("POST", path, raw), leaseUntil).Exec(t.Context())
		require.NoError(t, err)
	}
	dead := randomName("key-")
	insert(dead, time.Now().Add(-time.Second))
	r := s.call(t, p.agentTok, "POST", path, raw, header{"Idempotency-Key", dead}).expect(200)
	require.Empty(t, r.header.Get("Idempotent-Replayed"))
	require.Equal(t, tk.ActionCount+1, s.ticket(t, p.agentTok, tk.ID).ActionCount)
	// Its answer is stored now.
	r = s.call(t, p.agentTok, "POST", path, raw, header{"Idempotency-Key", dead}).expect(200)
	require.Equal(t, "true", r.header.Get("Idempotent-Replayed"))
	require.Equal(t, tk.ActionCount+1, s.ticket(t, p.agentTok, tk.ID).ActionCount)

	live := randomName("key-")
	insert(live, time.Now().Add(time.Minute))
	r = s.call(t, p.agentTok, "POST", path, raw, header{"Idempotency-Key", live})
	r.expectError(409, "conflict")
	retry, err := strconv.Atoi(r.header.Get("Retry-After"))
	require.NoError(t, err)
	require.InDelta(t, 60, retry, 2)
}

// Tokens are listed (never their secret) and revoked; a deactivation revokes them for good;
// the operator's SWITCHBOARD_ADMIN_TOKEN is made valid again at start.
func TestAuthHardeningTokens(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	admin := s.operatorID(t)
	second := s.mint(t, s.admin, p.agent, "tickets:read").expect(201).obj()

	var page struct {
		Data []map[string]any `json:"data"`
	}
	s.call(t, p.agentTok, "GET", "/api/v1/persons/"+p.agent+"/tokens", nil).expect(200).decode(&page)
	require.Len(t, page.Data, 2)
	for _, tk := range page.Data {
		require.NotContains(t, tk, "token")
		require.NotContains(t, tk, "hash")
		require.Nil(t, tk["revokedAt"])
	}
	s.call(t, p.agentTok, "GET", "/api/v1/persons/"+admin+"/tokens", nil).expectError(403, "forbidden")
	s.call(t, p.agentTok, "GET", "/api/v1/persons/"+p.agent2+"/tokens", nil).expectError(403, "forbidden")
	s.call(t, p.agentTok, "DELETE", "/api/v1/persons/"+admin+"/tokens/"+s.tokenID(t, s.admin), nil).expectError(403, "forbidden")
	s.call(t, s.admin, "GET", "/api/v1/persons/"+p.agent+"/tokens", nil).expect(200)

	// Revoking takes effect at once.
	reader := second["token"].(string)
	s.call(t, reader, "GET", "/api/v1/tickets", nil).expect(200)
	revoked := s.call(t, p.agentTok, "DELETE", "/api/v1/persons/"+p.agent+"/tokens/"+second["id"].(string), nil).expect(200).obj()
	require.NotNil(t, revoked["revokedAt"])
	s.call(t, reader, "GET", "/api/v1/tickets", nil).expectError(401, "unauthorized")
	s.call(t, p.agentTok, "DELETE", "/api/v1/persons/"+p.agent+"/tokens/"+second["id"].(string), nil).expect(200)
	s.call(t, p.agentTok, "DELETE", "/api/v1/persons/"+p.agent+"/tokens/nope", nil).expectError(404, "not_found")
	var n int
	require.NoError(t, s.db.NewRaw(`SELECT count(*) FROM audit_log WHERE entity = 'token' AND entity_id = ? AND action = 'revoke'`,
		second["id"]).Scan(t.Context(), &n))
	require.Equal(t, 1, n, "one revocation, audited once")

	// Reactivation does not revive old tokens, by PATCH or by DELETE.
	for _, deactivate := range []func(){
		func() {
			s.call(t, s.admin, "PATCH", "/api/v1/persons/"+p.agent2, map[string]any{"isActive": false}).expect(200)
		},
		func() { s.call(t, s.admin, "DELETE", "/api/v1/persons/"+p.agent2, nil).expect(200) },
	} {
		old := s.mintOK(t, s.admin, p.agent2)
		deactivate()
		s.call(t, old, "GET", "/api/v1/tickets", nil).expectError(401, "unauthorized")
		s.call(t, s.admin, "PATCH", "/api/v1/persons/"+p.agent2, map[string]any{"isActive": true}).expect(200)
		s.call(t, old, "GET", "/api/v1/tickets", nil).expectError(401, "unauthorized")
	}

	// The operator's token comes back at start, whoever deactivated its admin.
	other := s.mintOK(t, s.admin, p.agent)
	s.call(t, s.admin, "PATCH", "/api/v1/persons/"+p.agent, map[string]any{"role": "admin"}).expect(200)
	s.call(t, other, "DELETE", "/api/v1/persons/"+admin, nil).expect(200)
	s.call(t, s.admin, "GET", "/api/v1/tickets", nil).expectError(401, "unauthorized")
	_, err := api.EnsureAdmin(t.Context(), s.db, s.admin)
	require.NoError(t, err)
	eventually(t, 15*time.Second, func() bool {
		return s.call(t, s.admin, "GET", "/api/v1/tickets", nil).status == 200
	}, "the admin token works again (the token cache keeps a refusal for at most its TTL)")
}

// Every route of the API checks a permission: narrow tokens get 403 on every route their scope
// does not cover, and never a 5xx.
func TestAuthHardeningRouteScopes(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	allowed := map[string][]string{
		"telephony": {"GET /api/v1/agents/:id/telephony", "PUT /api/v1/agents/:id/telephony"},
		"tickets:read": {"GET /api/v1/tickets", "GET /api/v1/tickets/:id", "GET /api/v1/statuses", "GET /api/v1/statuses/:name",
			"GET /api/v1/calls", "GET /api/v1/calls/:id", "GET /api/v1/stream", "GET /api/v1/notifications",
			"GET /api/v1/tickets/:id/sla", "GET /api/v1/tickets/:id/trigger-executions", "POST /api/v1/forms/ticket/evaluate",
			"GET /api/v1/assistant-links", "GET /api/v1/text-blocks", "GET /api/v1/text-blocks/:id",
			"POST /api/v1/tickets/:id/text-blocks/:blockId/render",
			"GET /api/v1/tickets/:id/messages", "GET /api/v1/tickets/:id/stream", "GET /api/v1/tickets/:id/video-sessions",
			"GET /api/v1/attachments/:id", "GET /api/v1/agents/:id/chat",
			"GET /api/v1/approval-delegations", "GET /api/v1/approvals", "GET /api/v1/approvals/:id", "GET /api/v1/tickets/:id/approvals",
			"GET /api/v1/chats", "GET /api/v1/chats/:id", "GET /api/v1/chats/:id/messages", "GET /api/v1/chat-tickets"},
	}
	routes := s.app.(*api.App).GetRoutes(true)
	for scope, want := range allowed {
		tok := s.mintOK(t, s.admin, p.agent, scope)
		var got []string
		for _, rt := range routes {
			if !strings.HasPrefix(rt.Path, "/api/v1/") || rt.Method == "HEAD" || rt.Path == "/api/v1/openapi.json" {
				continue
			}
			status := s.probe(t, tok, rt.Method, rt.Path)
			require.Less(t, status, 500, "%s %s with a %s token", rt.Method, rt.Path, scope)
			if status != 403 {
				got = append(got, rt.Method+" "+rt.Path)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		require.Equal(t, want, got, "routes a %s token is not refused", scope)
	}
	// A customer's read of a staff route says reading is forbidden.
	for _, path := range []string{"/api/v1/calls", "/api/v1/stream"} {
		r := s.call(t, p.customerTok, "GET", path, nil)
		r.expectError(403, "forbidden")
		require.Contains(t, string(r.body), "cannot read", path)
	}
}

// probe calls a route with placeholder parameters and an empty JSON body and returns the
// status; a stream that opens is closed at once.
func (s *stack) probe(t *testing.T, token, method, pattern string) int {
	t.Helper()
	path := pattern
	for _, seg := range strings.Split(pattern, "/") {
		if strings.HasPrefix(seg, ":") {
			path = strings.Replace(path, seg, "1", 1)
		}
	}
	if path == "/api/v1/stream" {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, method, s.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		return res.StatusCode
	}
	var body any
	if method != "GET" && method != "DELETE" {
		body = map[string]any{}
	}
	return s.call(t, token, method, path, body).status
}

// /public/v1 counts against the token's rate limit, and failed authentications against the
// client's address.
func TestAuthHardeningRateLimits(t *testing.T) {
	s := newStack(t, stackOptions{worker: false, autoClose: time.Hour, rateLimit: 5})
	defer s.close()
	agent := s.call(t, s.admin, "POST", "/api/v1/persons", map[string]any{"name": "PBX", "profile": "agent"}).expect(201).obj()["id"].(string)
	pbx := s.mintOK(t, s.admin, agent, "telephony")
	for range 5 {
		s.pbx(t, pbx, "setMadeCallLink", "id", "nope", "link", "https://x.example").expect(404)
	}
	r := s.pbx(t, pbx, "setMadeCallLink", "id", "nope", "link", "https://x.example")
	r.expectError(429, "rate_limited")
	require.NotEmpty(t, r.header.Get("Retry-After"))

	for i := range api.DefaultConfig().AuthFailureLimit {
		s.call(t, fmt.Sprintf("sb_bad%d", i), "GET", "/api/v1/tickets", nil).expectError(401, "unauthorized")
	}
	r = s.call(t, "sb_bad", "GET", "/api/v1/tickets", nil)
	r.expectError(429, "rate_limited")
	require.NotEmpty(t, r.header.Get("Retry-After"))
	s.pbx(t, "sb_bad", "setMadeCallLink", "id", "x", "link", "https://x.example").expectError(429, "rate_limited")
	s.pbx(t, "", "setMadeCallLink", "id", "x", "link", "https://x.example").expectError(429, "rate_limited")
}
