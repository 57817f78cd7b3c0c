// Package integration holds the tests that run Switchboard over real HTTP against a real
// PostgreSQL and a real Temporal dev server, both started by `make test` (scripts/test.sh), which
// passes their addresses in SWITCHBOARD_TEST_TEMPORAL_ADDRESS and SWITCHBOARD_TEST_DATABASE_URL.
// Without them the tests skip, except under CI, where they fail.
package integration

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/switchboardhq/switchboard/activities"
	"github.com/switchboardhq/switchboard/api"
	"github.com/switchboardhq/switchboard/internal/blobstore"
	"github.com/switchboardhq/switchboard/internal/webhook"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/worker"
)

// autoClose is the resolved-ticket close period of the shared environment: short, so the
// lifecycle test sees a real timer fire on a real server.
const autoClose = 3 * time.Second

var shared *stack

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.close()
	}
	os.Exit(code)
}

// services returns the addresses of the test services, skipping (or failing under CI) when
// they are not there.
func services(t testing.TB) (temporalAddr, dbURL string) {
	t.Helper()
	temporalAddr, dbURL = os.Getenv("SWITCHBOARD_TEST_TEMPORAL_ADDRESS"), os.Getenv("SWITCHBOARD_TEST_DATABASE_URL")
	if temporalAddr == "" || dbURL == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but SWITCHBOARD_TEST_TEMPORAL_ADDRESS / SWITCHBOARD_TEST_DATABASE_URL are not: run `make test`")
		}
		t.Skip("integration services not configured; run `make test`")
	}
	return temporalAddr, dbURL
}

// stack is one Switchboard (API + worker) on its own database and task queue.
type stack struct {
	base      string
	dbURL     string
	db        *bun.DB
	tc        client.Client
	worker    sdkworker.Worker
	app       interface{ Shutdown() error }
	admin     string
	taskQueue string
	router    routers.Router
	dropDB    func()
	blobs     *blobstore.Store // the attachment store, in a directory of its own
	blobDir   string
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// env returns the stack shared by the tests of this package, built on first use.
func env(t *testing.T) *stack {
	t.Helper()
	if shared == nil {
		shared = newStack(t, stackOptions{worker: true, autoClose: autoClose})
	}
	return shared
}

type stackOptions struct {
	worker    bool
	autoClose time.Duration
	taskQueue string
	dbURL     string // an existing database (default: a new one)
	temporal  string // a Temporal address (default: the test server)
	rateLimit int    // requests per token per minute (default: the API's default)
	// webhooks configures delivery (default: receivers on 127.0.0.0/8 allowed, retries after
	// 300 ms, 600 ms, ... instead of 10 s, 20 s, ...)
	webhooks *webhook.Options
	// messengerRule turns on the messenger's rule that agents message customers only on
	// tickets they own (the product's default; off here so other tests need not accept first).
	messengerRule bool
	// videoTemplate turns video sessions on.
	videoTemplate string
	// blobURL is the attachment store's bucket (default: a directory of its own).
	blobURL string
	// attachmentMaxBytes is the per-file upload limit (default: testAttachmentMax).
	attachmentMaxBytes int64
	// attachmentExpireAfter keeps unreferenced uploads this long (default: the real 24 hours),
	// through the API's test-only option.
	attachmentExpireAfter time.Duration
	// whatsapp turns the WhatsApp channel on (API and worker) with this configuration.
	whatsapp *api.WhatsAppConfig
}

// testAttachmentMax is the stacks' per-file upload limit: small, so that going over it is cheap,
// and above 4 MiB, the largest body any other route reads, so that an upload under it proves
// that uploads are streamed past the API-wide body limit.
const testAttachmentMax = 6 << 20

func newStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	temporalAddr, serverURL := services(t)
	if o.temporal != "" {
		temporalAddr = o.temporal
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := &stack{taskQueue: o.taskQueue, dbURL: o.dbURL}
	if s.taskQueue == "" {
		s.taskQueue = randomName("it-")
	}
	if s.dbURL == "" {
		s.dbURL = databaseURL(t, serverURL, randomName("sb_it_"))
		require.NoError(t, schema.EnsureDatabase(ctx, s.dbURL))
		s.dropDB = func() { dropDatabase(serverURL, s.dbURL) }
	}
	s.db = schema.Open(s.dbURL)
	_, err := schema.Migrate(ctx, s.db)
	require.NoError(t, err)
	if s.dropDB != nil {
		// Test databases share one Temporal namespace: give each its own range of ticket
		// numbers so that ticket/<id> workflow IDs never collide between them.
		_, err = s.db.ExecContext(ctx, fmt.Sprintf("ALTER SEQUENCE ticket_id_seq RESTART WITH %d", randomStart()))
		require.NoError(t, err)
	}
	s.admin = api.NewToken()
	_, err = api.EnsureAdmin(ctx, s.db, s.admin)
	require.NoError(t, err)

	s.blobDir, err = os.MkdirTemp("", "sb-blobs-")
	require.NoError(t, err)
	s.blobs, err = blobstore.Open(ctx, cmp.Or(o.blobURL, blobstore.FileURL(s.blobDir)))
	require.NoError(t, err)

	s.tc, err = client.NewLazyClient(client.Options{HostPort: temporalAddr, Logger: quietLogger()})
	require.NoError(t, err)
	// Load the server's capabilities before concurrent use (see warmUp in cmd/switchboard).
	_, _ = s.tc.CheckHealth(ctx, &client.CheckHealthRequest{})
	if o.worker {
		if o.webhooks == nil {
			o.webhooks = &webhook.Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
				RetryInitial: 300 * time.Millisecond}
		}
		s.worker = worker.New(s.tc, &activities.Activities{DB: s.db, Temporal: s.tc, Webhooks: *o.webhooks, Blobs: s.blobs, AutoCloseAfter: o.autoClose,
			WhatsApp: whatsappSender(o.whatsapp)}, worker.Options{TaskQueue: s.taskQueue,
			WorkflowPollers: 4, ActivityPollers: 2, MaxConcurrentWorkflows: 64, MaxConcurrentActivites: 64})
		require.NoError(t, s.worker.Start())
	}
	cfg := api.DefaultConfig()
	cfg.TaskQueue, cfg.AutoCloseAfter, cfg.UpdateTimeout = s.taskQueue, o.autoClose, 20*time.Second
	if o.rateLimit > 0 {
		cfg.RateLimit = o.rateLimit
	}
	cfg.MessengerRequireOwner, cfg.VideoURLTemplate, cfg.WhatsApp = o.messengerRule, o.videoTemplate, o.whatsapp
	cfg.Blobs, cfg.AttachmentMaxBytes, cfg.AttachmentExpireAfter = s.blobs, testAttachmentMax, o.attachmentExpireAfter
	if o.attachmentMaxBytes > 0 {
		cfg.AttachmentMaxBytes = o.attachmentMaxBytes
	}
	app := api.New(s.db, s.tc, cfg, quietLogger(), nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = app.Listener(ln) }()
	s.app = app
	s.base = "http://" + ln.Addr().String()
	s.router = openAPIRouter(t, s.base)
	return s
}

func (s *stack) close() {
	if s.app != nil {
		_ = s.app.Shutdown()
	}
	if s.worker != nil {
		s.worker.Stop()
	}
	s.tc.Close()
	_ = s.db.Close()
	_ = s.blobs.Close()
	_ = os.RemoveAll(s.blobDir)
	if s.dropDB != nil {
		s.dropDB()
	}
}

func randomStart() int64 {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
	return n.Int64()*1000 + 1
}

func quietLogger() *slog.Logger {
	level := slog.LevelError
	if os.Getenv("SWITCHBOARD_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func databaseURL(t *testing.T, serverURL, name string) string {
	u, err := url.Parse(serverURL)
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String()
}

func dropDatabase(serverURL, dbURL string) {
	u, _ := url.Parse(dbURL)
	db := schema.Open(serverURL)
	defer db.Close()
	_, _ = db.Exec("DROP DATABASE IF EXISTS " + strings.TrimPrefix(u.Path, "/") + " WITH (FORCE)")
}

func openAPIRouter(t *testing.T, base string) routers.Router {
	doc, err := api.LoadOpenAPI()
	require.NoError(t, err)
	doc.Servers = openapi3.Servers{{URL: base}}
	r, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)
	return r
}

// resp is an HTTP answer.
type resp struct {
	t      *testing.T
	status int
	header http.Header
	body   []byte
}

func (r *resp) decode(v any) {
	r.t.Helper()
	require.NoError(r.t, json.Unmarshal(r.body, v), string(r.body))
}

func (r *resp) obj() map[string]any {
	var m map[string]any
	r.decode(&m)
	return m
}

// apiError is the error envelope's content.
func (r *resp) apiError() (code string, fields map[string]any) {
	r.t.Helper()
	var e struct {
		Error struct {
			Code    string         `json:"code"`
			Message string         `json:"message"`
			Fields  map[string]any `json:"fields"`
		} `json:"error"`
	}
	r.decode(&e)
	require.NotEmpty(r.t, e.Error.Message, "errors carry a message: %s", r.body)
	return e.Error.Code, e.Error.Fields
}

// expect asserts the status, printing the body when it differs.
func (r *resp) expect(status int) *resp {
	r.t.Helper()
	require.Equal(r.t, status, r.status, "body: %s", r.body)
	return r
}

// expectError asserts an error status, code and (when given) the field it names.
func (r *resp) expectError(status int, code string, field ...string) {
	r.t.Helper()
	r.expect(status)
	gotCode, fields := r.apiError()
	require.Equal(r.t, code, gotCode, "body: %s", r.body)
	for _, f := range field {
		require.Contains(r.t, fields, f, "the error names the field: %s", r.body)
	}
}

type header struct{ k, v string }

// call sends a request and checks the answer against the OpenAPI document.
func (s *stack) call(t *testing.T, token, method, path string, body any, headers ...header) *resp {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		raw, err = json.Marshal(b)
		require.NoError(t, err)
	}
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(raw))
	require.NoError(t, err)
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, h := range headers {
		req.Header.Set(h.k, h.v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	r := &resp{t: t, status: res.StatusCode, header: res.Header, body: data}
	s.checkOpenAPI(t, req, r)
	return r
}

// checkOpenAPI validates a response against the document, for every documented route.
func (s *stack) checkOpenAPI(t *testing.T, req *http.Request, r *resp) {
	t.Helper()
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		if strings.HasPrefix(req.URL.Path, "/api/v1/") && r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
			t.Fatalf("%s %s answered %d but is not in the OpenAPI document: %v", req.Method, req.URL.Path, r.status, err)
		}
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.status, Header: r.header,
		Body: io.NopCloser(bytes.NewReader(r.body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Fatalf("%s %s -> %d does not match the OpenAPI document: %v\nbody: %s", req.Method, req.URL.Path, r.status, err, r.body)
	}
}

// --- fixtures

type people struct {
	agent, agent2, customer, other, orgMate string
	agentTok, agent2Tok, customerTok        string
	otherTok, orgMateTok                    string
	org, team                               string
}

// newPeople creates, through the API, two agents in a team, an organisation with two customers
// (one who sees the organisation's tickets) and an unrelated customer, with a token each.
func (s *stack) newPeople(t *testing.T) people {
	t.Helper()
	p := people{}
	mk := func(body map[string]any) string {
		return s.call(t, s.admin, "POST", "/api/v1/persons", body).expect(201).obj()["id"].(string)
	}
	tag := randomName("")
	p.agent = mk(map[string]any{"name": "Ada " + tag, "profile": "agent", "emails": []string{"ada-" + tag + "@example.com"}})
	p.agent2 = mk(map[string]any{"name": "Bob " + tag, "profile": "agent", "emails": []string{"bob-" + tag + "@example.com"}})
	p.org = mk(map[string]any{"name": "Acme " + tag, "kind": "organization", "profile": "customer"})
	p.customer = mk(map[string]any{"name": "Carla " + tag, "profile": "customer", "organizationId": p.org,
		"emails": []string{"carla-" + tag + "@example.com"}})
	p.orgMate = mk(map[string]any{"name": "Dora " + tag, "profile": "customer", "organizationId": p.org,
		"seesOrganizationTickets": true})
	p.other = mk(map[string]any{"name": "Eve " + tag, "profile": "customer"})
	p.team = s.call(t, s.admin, "POST", "/api/v1/teams", map[string]any{"name": "Support " + tag,
		"memberIds": []string{p.agent, p.agent2}}).expect(201).obj()["id"].(string)
	tok := func(id string) string {
		return s.call(t, s.admin, "POST", "/api/v1/persons/"+id+"/tokens", map[string]any{"name": "test"}).
			expect(201).obj()["token"].(string)
	}
	p.agentTok, p.agent2Tok, p.customerTok = tok(p.agent), tok(p.agent2), tok(p.customer)
	p.otherTok, p.orgMateTok = tok(p.other), tok(p.orgMate)
	return p
}

// ticket is the subset of the ticket JSON the tests read.
type ticket struct {
	ID            int64          `json:"id"`
	Status        string         `json:"status"`
	BaseStatus    string         `json:"baseStatus"`
	OwnerID       *string        `json:"ownerId"`
	TeamID        *string        `json:"teamId"`
	Subject       string         `json:"subject"`
	Urgency       string         `json:"urgency"`
	Origin        int            `json:"origin"`
	Tags          []string       `json:"tags"`
	CustomFields  map[string]any `json:"customFields"`
	ClientIDs     []string       `json:"clientIds"`
	ActionCount   int            `json:"actionCount"`
	Version       int64          `json:"version"`
	ResolvedAt    *time.Time     `json:"resolvedAt"`
	ClosedAt      *time.Time     `json:"closedAt"`
	Actions       []action       `json:"actions"`
	StatusHistory []struct {
		Seq           int        `json:"seq"`
		Status        string     `json:"status"`
		Justification string     `json:"justification"`
		ChangedBy     string     `json:"changedBy"`
		EndedAt       *time.Time `json:"endedAt"`
	} `json:"statusHistory"`
	OwnerHistory []struct {
		OwnerID *string `json:"ownerId"`
		TeamID  *string `json:"teamId"`
	} `json:"ownerHistory"`
	Workflow struct {
		ID    string `json:"id"`
		RunID string `json:"runId"`
		UIURL string `json:"uiUrl"`
	} `json:"workflow"`
}

type action struct {
	ID       int    `json:"id"`
	Type     string `json:"type"`
	Body     string `json:"body"`
	AuthorID string `json:"authorId"`
}

func (s *stack) ticket(t *testing.T, token string, id int64) ticket {
	t.Helper()
	var tk ticket
	s.call(t, token, "GET", fmt.Sprintf("/api/v1/tickets/%d", id), nil).expect(200).decode(&tk)
	return tk
}

func (s *stack) createTicket(t *testing.T, token string, body map[string]any) ticket {
	t.Helper()
	var tk ticket
	s.call(t, token, "POST", "/api/v1/tickets", body).expect(201).decode(&tk)
	return tk
}

func (s *stack) post(t *testing.T, token string, id int64, sub string, body any) *resp {
	t.Helper()
	return s.call(t, token, "POST", fmt.Sprintf("/api/v1/tickets/%d/%s", id, sub), body)
}

// eventually polls f until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, f func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if f() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not within %s: %s", within, msg)
}

func mustParse(t *testing.T, raw string) *url.URL {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}

func httpGet(u string) (string, error) {
	res, err := http.Get(u)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), err
}
