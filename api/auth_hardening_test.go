package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/switchboardhq/switchboard/schema"
)

// mintPower is what a token may do: act as a person, with a set of permissions.
type mintPower struct {
	person schema.Person
	scopes []string
}

func (m mintPower) principal() *Principal {
	return &Principal{Person: m.person, TokenID: "t", Scopes: m.scopes}
}

// No chain of mint calls (random targets, random scopes, each minting from the token the last
// one made) ends with a token that acts as someone else or holds a permission the chain's first
// token lacks, unless the first token was an unscoped admin's, which may do anything.
func TestMintNeverEscalates(t *testing.T) {
	people := []schema.Person{
		{ID: "admin", Role: schema.RoleAdmin}, {ID: "agent", Role: schema.RoleAgent},
		{ID: "agent2", Role: schema.RoleAgent}, {ID: "customer", Role: schema.RoleCustomer},
	}
	pool := append(slices.Clone(Scopes), "everything")
	rng := rand.New(rand.NewPCG(1, 8))
	randomScopes := func() []string {
		var out []string
		for _, sc := range pool {
			if rng.IntN(3) == 0 {
				out = append(out, sc)
			}
		}
		return out
	}
	minted := 0
	for range 20000 {
		start := mintPower{person: people[rng.IntN(len(people))], scopes: randomScopes()}
		if slices.Contains(start.scopes, "everything") {
			start.scopes = nil // an unscoped token
		}
		if start.person.Role == schema.RoleAdmin && len(start.scopes) == 0 {
			continue // the top: nothing to escalate to
		}
		startPerms := EffectivePerms(start.person.Role, start.scopes)
		cur := start
		for range 6 {
			target := people[rng.IntN(len(people))]
			scopes := randomScopes()
			if err := checkMint(cur.principal(), &target, scopes); err != nil {
				continue
			}
			minted++
			require.Equal(t, start.person.ID, target.ID, "a %v token of %s minted for %s", start.scopes, start.person.ID, target.ID)
			got := EffectivePerms(target.Role, scopes)
			require.Subset(t, startPerms, got, "from %v: minted %v", start.scopes, scopes)
			cur = mintPower{person: target, scopes: scopes}
		}
	}
	require.Greater(t, minted, 100, "the chains minted something")
}

func TestCheckMint(t *testing.T) {
	admin, agent, customer := schema.Person{ID: "a", Role: schema.RoleAdmin}, schema.Person{ID: "g", Role: schema.RoleAgent},
		schema.Person{ID: "c", Role: schema.RoleCustomer}
	as := func(p schema.Person, scopes ...string) *Principal { return &Principal{Person: p, Scopes: scopes} }
	status := func(err error) int {
		if err == nil {
			return 201
		}
		return toAPIError(err).Status
	}
	assert.Equal(t, 403, status(checkMint(as(agent, PermTelephony), &agent, nil)), "telephony-only mints nothing")
	assert.Equal(t, 403, status(checkMint(as(agent, PermTelephony), &agent, []string{PermTelephony})))
	assert.Equal(t, 403, status(checkMint(as(admin, PermTicketsRead), &customer, nil)), "a scoped admin token mints for nobody else")
	assert.Equal(t, 403, status(checkMint(as(admin, PermPeopleWrite, PermTicketsRead), &customer, []string{PermTicketsRead})))
	assert.Equal(t, 201, status(checkMint(as(admin), &customer, nil)), "an unscoped admin mints for anyone")
	assert.Equal(t, 422, status(checkMint(as(admin), &customer, []string{PermConfigRead})), "within the target's role")
	assert.Equal(t, 201, status(checkMint(as(agent, PermPeopleWrite, PermTicketsRead), &agent, []string{PermTicketsRead})))
	assert.Equal(t, 403, status(checkMint(as(agent, PermPeopleWrite, PermTicketsRead), &agent, nil)), "unscoped only from unscoped")
	assert.Equal(t, 403, status(checkMint(as(agent, PermPeopleWrite), &agent, []string{PermTicketsWrite})))
	assert.Equal(t, 403, status(checkMint(as(agent), &admin, nil)))
	assert.Equal(t, 403, status(checkMint(as(customer), &customer, nil)), "customers have no people:write")
}

// testServer is a server with no database: a request that gets past the permission checks
// into a handler fails loudly (a nil database), so a route without a check shows up.
func testServer(t *testing.T, reg *prometheus.Registry) (*Server, *App) {
	t.Helper()
	s, a := newServer(nil, nil, DefaultConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)), reg)
	t.Cleanup(func() { _ = a.Shutdown() })
	return s, a
}

// Every /api/v1 route checks a permission before doing anything: a token with none at all
// gets 403 from requirePerm on every route, so every write passes it before the
// Idempotency-Key middleware (which requirePerm runs) can replay anything.
func TestEveryRouteChecksAPermission(t *testing.T) {
	s, app := testServer(t, nil)
	s.tokens.put(string(HashToken("sb_nothing")), &Principal{Person: schema.Person{ID: "p", Role: schema.RoleAdmin, IsActive: true},
		TokenID: "t", Scopes: []string{"nothing"}})
	n := 0
	for _, rt := range app.GetRoutes(true) {
		if !strings.HasPrefix(rt.Path, "/api/v1/") || rt.Path == "/api/v1/openapi.json" {
			continue
		}
		n++
		path := regexp.MustCompile(`:[A-Za-z]+`).ReplaceAllString(rt.Path, "1")
		req := httptest.NewRequest(rt.Method, path, strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer sb_nothing")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "k")
		res, err := app.Test(req, -1)
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		require.Equal(t, 403, res.StatusCode, "%s %s: %s", rt.Method, rt.Path, body)
		if rt.Method != fiber.MethodHead {
			require.Contains(t, string(body), "scopes do not include", "%s %s", rt.Method, rt.Path)
		}
	}
	require.Greater(t, n, 80)
}

func TestStaffOnlyMessage(t *testing.T) {
	app := fiber.New(fiber.Config{ErrorHandler: errorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	customer := func(c *fiber.Ctx) error {
		c.Locals(principalKey, &Principal{Person: schema.Person{Role: schema.RoleCustomer}})
		return c.Next()
	}
	ok := func(c *fiber.Ctx) error { return c.SendString("ok") }
	app.Get("/x", customer, staffOnly, ok)
	app.Post("/x", customer, staffOnly, ok)
	for method, want := range map[string]string{"GET": "cannot read", "POST": "cannot make this change"} {
		res, err := app.Test(httptest.NewRequest(method, "/x", nil))
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		require.Equal(t, 403, res.StatusCode)
		require.Contains(t, string(body), want, method)
	}
}

// /metrics keeps real method names however many requests reuse fiber's buffers.
func TestMetricsLabelsAreCopies(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, app := testServer(t, reg)
	methods := []string{"GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "HEAD"}
	for i := range 300 {
		m := methods[i%len(methods)]
		path := []string{"/healthz", "/nowhere", "/api/v1/openapi.json"}[i%3]
		res, err := app.Test(httptest.NewRequest(m, path, nil), -1)
		require.NoError(t, err)
		_ = res.Body.Close()
	}
	res, err := app.Test(httptest.NewRequest("GET", "/metrics", nil), -1)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	require.Equal(t, 200, res.StatusCode, "%s", body)
	seen := regexp.MustCompile(`method="([^"]*)"`).FindAllStringSubmatch(string(body), -1)
	require.NotEmpty(t, seen)
	for _, m := range seen {
		require.Contains(t, methods, m[1], "a corrupted method label")
	}
}

func TestFailureLimit(t *testing.T) {
	f := newFailureLimit(3)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for range 3 {
		_, over := f.over("1.2.3.4", now)
		require.False(t, over)
		f.fail("1.2.3.4", now)
	}
	retry, over := f.over("1.2.3.4", now.Add(20*time.Second))
	require.True(t, over)
	require.Equal(t, 40, retry)
	_, over = f.over("5.6.7.8", now)
	require.False(t, over, "per address")
	_, over = f.over("1.2.3.4", now.Add(time.Minute))
	require.False(t, over, "a new window")
	_, over = newFailureLimit(0).over("1.2.3.4", now)
	require.False(t, over, "0 turns it off")
}

// testDB is a fresh, migrated database on the test PostgreSQL server, or a skip without one.
func testDB(t *testing.T) *Server {
	t.Helper()
	server := os.Getenv("SWITCHBOARD_TEST_DATABASE_URL")
	if server == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but SWITCHBOARD_TEST_DATABASE_URL is not: run `make test`")
		}
		t.Skip("no test database; run `make test`")
	}
	u, err := url.Parse(server)
	require.NoError(t, err)
	name := fmt.Sprintf("sb_api_%d", time.Now().UnixNano())
	u.Path = "/" + name
	ctx := context.Background()
	require.NoError(t, schema.EnsureDatabase(ctx, u.String()))
	db := schema.Open(u.String())
	t.Cleanup(func() {
		_ = db.Close()
		admin := schema.Open(server)
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		_ = admin.Close()
	})
	_, err = schema.Migrate(ctx, db)
	require.NoError(t, err)
	cfg := DefaultConfig()
	return &Server{db: db, cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// A retry with the key of a request whose workflow update failed is a new update (a new update
// id); a retry after a timeout keeps the update id and joins the change; a success is stored.
func TestIdempotencyRetriesAfterFailure(t *testing.T) {
	s := testDB(t)
	app := fiber.New(fiber.Config{ErrorHandler: errorHandler(s.log)})
	var ids []string
	var fail []error
	as := func(c *fiber.Ctx) error {
		c.Locals(principalKey, &Principal{Person: schema.Person{ID: "p", Role: schema.RoleAgent}, TokenID: "tok"})
		return c.Next()
	}
	app.Post("/change", as, s.withServer, requirePerm(PermTicketsWrite), func(c *fiber.Ctx) error {
		ids = append(ids, s.updateID(c))
		if len(fail) > 0 {
			err := fail[0]
			fail = fail[1:]
			return err
		}
		return c.JSON(fiber.Map{"done": len(ids)})
	})
	send := func(key string) (int, string) {
		req := httptest.NewRequest("POST", "/change", strings.NewReader(`{}`))
		req.Header.Set("Idempotency-Key", key)
		res, err := app.Test(req, -1)
		require.NoError(t, err)
		return res.StatusCode, res.Header.Get("Idempotent-Replayed")
	}

	fail = []error{temporal.NewApplicationError("projection failed", "boom"), context.DeadlineExceeded}
	st, _ := send("k1")
	require.Equal(t, 500, st)
	st, _ = send("k1")
	require.Equal(t, 503, st)
	st, replayed := send("k1")
	require.Equal(t, 200, st)
	require.Empty(t, replayed)
	require.Equal(t, []string{"tok/k1/0", "tok/k1/1", "tok/k1/1"}, ids,
		"a failed update is retried as a new one; a timeout's retry joins the same one")
	st, replayed = send("k1")
	require.Equal(t, 200, st)
	require.Equal(t, "true", replayed)
	require.Len(t, ids, 3, "the success is replayed, not run again")
	require.False(t, failedUpdate(errors.New("plain")))
}

func TestTokenSchemas(t *testing.T) {
	doc, err := LoadOpenAPI()
	require.NoError(t, err)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	tk := schema.APIToken{ID: "t1", PersonID: "p1", Name: "pbx", Scopes: []string{PermTelephony}, CreatedAt: now}
	revoked := tk
	revoked.RevokedAt = &now
	checkSchemas(t, doc, []schemaCase{
		{"TokenInfo", viewToken(tk)},
		{"TokenInfo", viewToken(revoked)},
		{"TokenPage", makePage([]tokenView{viewToken(tk)}, 25, func(v tokenView) cursor { return cursor{ID: v.ID} })},
	})
}
