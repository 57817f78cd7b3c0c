package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/schema"
)

// Permissions. A role grants a set of them; a token's scopes, when it has any, narrow that set.
const (
	PermTicketsRead  = "tickets:read"
	PermTicketsWrite = "tickets:write"
	PermPeopleRead   = "people:read"
	PermPeopleWrite  = "people:write"
	PermConfigRead   = "config:read"
	PermConfigWrite  = "config:write"
	PermTelephony    = "telephony"
)

// Scopes is every scope a token may carry.
var Scopes = []string{PermTicketsRead, PermTicketsWrite, PermPeopleRead, PermPeopleWrite, PermConfigRead, PermConfigWrite, PermTelephony}

// rolePerms: admins may do everything; agents work tickets and people and read configuration;
// customers read and write tickets, limited to their own by visibleTo.
var rolePerms = map[string][]string{
	schema.RoleAdmin:    Scopes,
	schema.RoleAgent:    {PermTicketsRead, PermTicketsWrite, PermPeopleRead, PermPeopleWrite, PermConfigRead, PermTelephony},
	schema.RoleCustomer: {PermTicketsRead, PermTicketsWrite},
}

// Principal is who a request acts for.
type Principal struct {
	Person  schema.Person
	TokenID string
	Scopes  []string
}

func (p *Principal) can(perm string) bool {
	if !slices.Contains(rolePerms[p.Person.Role], perm) {
		return false
	}
	return len(p.Scopes) == 0 || slices.Contains(p.Scopes, perm)
}

// EffectivePerms is what a token may do: its person's role narrowed by its scopes, when it has any.
func EffectivePerms(role string, scopes []string) []string {
	var out []string
	for _, perm := range rolePerms[role] {
		if len(scopes) == 0 || slices.Contains(scopes, perm) {
			out = append(out, perm)
		}
	}
	return out
}

func (p *Principal) isCustomer() bool { return p.Person.Role == schema.RoleCustomer }

const principalKey = "principal"

func principal(c *fiber.Ctx) *Principal { return c.Locals(principalKey).(*Principal) }

// NewToken returns a fresh bearer token: "sb_" and 32 random bytes, URL-safe.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "sb_" + base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is what is stored for a token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateToken stores a token for a person and returns the token in clear, once.
func CreateToken(ctx context.Context, db bun.IDB, personID, name string, scopes []string, token string) (*schema.APIToken, error) {
	if token == "" {
		token = NewToken()
	}
	t := &schema.APIToken{ID: uuid.Must(uuid.NewV7()).String(), PersonID: personID, Name: name,
		Scopes: orEmpty(scopes), Hash: HashToken(token), CreatedAt: time.Now().UTC()}
	if _, err := db.NewInsert().Model(t).On("CONFLICT (hash) DO NOTHING").Exec(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// tokenCache keeps resolved tokens for a few seconds so that authentication costs no query on
// most requests. A deactivation in this process purges it at once; other API instances see it
// within the TTL.
type tokenCache struct {
	mu      sync.RWMutex
	ttl     time.Duration
	entries map[string]cachedPrincipal
}

type cachedPrincipal struct {
	p       *Principal
	expires time.Time
}

func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, entries: map[string]cachedPrincipal{}}
}

func (tc *tokenCache) get(key string) *Principal {
	tc.mu.RLock()
	defer tc.mu.RUnlock()
	e, ok := tc.entries[key]
	if !ok || time.Now().After(e.expires) {
		return nil
	}
	return e.p
}

func (tc *tokenCache) put(key string, p *Principal) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if len(tc.entries) > 10000 {
		clear(tc.entries)
	}
	tc.entries[key] = cachedPrincipal{p: p, expires: time.Now().Add(tc.ttl)}
}

func (tc *tokenCache) purge() {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	clear(tc.entries)
}

// authenticate resolves the bearer token into a Principal.
func (s *Server) authenticate(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	token, ok := strings.CutPrefix(h, "Bearer ")
	if h == "" && isStreamPath(c.Path()) {
		token, ok = c.Query("token"), true // EventSource cannot send headers
	}
	if !ok || strings.TrimSpace(token) == "" {
		return errUnauthorized("send a token in the Authorization header: Bearer <token>")
	}
	p, err := s.lookupToken(c.UserContext(), strings.TrimSpace(token))
	if err != nil {
		return err
	}
	c.Locals(principalKey, p)
	return c.Next()
}

func (s *Server) lookupToken(ctx context.Context, token string) (*Principal, error) {
	hash := HashToken(token)
	key := string(hash)
	if p := s.tokens.get(key); p != nil {
		return p, nil
	}
	var t schema.APIToken
	err := s.db.NewSelect().Model(&t).Where("hash = ?", hash).Where("revoked_at IS NULL").Scan(ctx)
	if err != nil {
		if isNoRows(err) {
			return nil, errUnauthorized("the token is not valid")
		}
		return nil, err
	}
	var person schema.Person
	if err := s.db.NewSelect().Model(&person).Where("id = ?", t.PersonID).Scan(ctx); err != nil {
		return nil, err
	}
	if !person.IsActive {
		return nil, errUnauthorized("the token's person is deactivated")
	}
	p := &Principal{Person: person, TokenID: t.ID, Scopes: t.Scopes}
	s.tokens.put(key, p)
	return p, nil
}

// requirePerm rejects a request whose principal lacks a permission. Every /api/v1 route starts
// with it, and it is what runs the Idempotency-Key middleware, so that a stored answer is
// replayed only to a request that passed the route's permission check.
func requirePerm(perm string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principal(c)
		if !p.can(perm) {
			if slices.Contains(rolePerms[p.Person.Role], perm) {
				return errForbidden("this token's scopes do not include %s", perm)
			}
			return errForbidden("the %s role does not allow %s", p.Person.Role, perm)
		}
		if s, ok := c.Locals(serverKey).(*Server); ok {
			return s.idempotency(c)
		}
		return c.Next()
	}
}

const serverKey = "server"

// withServer makes the server reachable from requirePerm, which is a plain handler.
func (s *Server) withServer(c *fiber.Ctx) error {
	c.Locals(serverKey, s)
	return c.Next()
}

// checkMint decides whether by may mint a token for target with these scopes: a token never has
// more power than the one that minted it. Minting needs people:write; a scoped token mints only
// scoped tokens, each scope one it holds itself; an unscoped token only comes from an unscoped
// one; a token for someone else needs an unscoped admin token; and the target's role must allow
// every scope.
func checkMint(by *Principal, target *schema.Person, scopes []string) error {
	if !by.can(PermPeopleWrite) {
		return errForbidden("creating tokens needs %s", PermPeopleWrite)
	}
	if by.Person.ID != target.ID && (by.Person.Role != schema.RoleAdmin || len(by.Scopes) > 0) {
		return errForbidden("only an unscoped admin token creates tokens for other people")
	}
	if len(scopes) == 0 && len(by.Scopes) > 0 {
		return errForbidden("a scoped token creates only scoped tokens: list the scopes, each one this token has")
	}
	for i, sc := range scopes {
		field := "scopes[" + itoa(i) + "]"
		switch {
		case !slices.Contains(Scopes, sc):
			return errField(field, "unknown scope %q; allowed: %s", sc, strings.Join(Scopes, ", "))
		case !slices.Contains(rolePerms[target.Role], sc):
			return errField(field, "the %s role does not allow %s", target.Role, sc)
		case !by.can(sc):
			return errForbidden("this token cannot give %s, which it does not have itself", sc)
		}
	}
	return nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// isStreamPath: the Server-Sent Events routes, which browsers' EventSource opens without
// headers, so they also take ?token=.
func isStreamPath(path string) bool {
	return path == "/api/v1/stream" || (strings.HasPrefix(path, "/api/v1/tickets/") && strings.HasSuffix(path, "/stream"))
}
