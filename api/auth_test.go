package api

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/switchboardhq/switchboard/schema"
)

func principalWith(role string, scopes ...string) *Principal {
	return &Principal{Person: schema.Person{ID: "p1", Role: role}, Scopes: scopes}
}

func TestRolePermissions(t *testing.T) {
	admin, agent, customer := principalWith(schema.RoleAdmin), principalWith(schema.RoleAgent), principalWith(schema.RoleCustomer)
	for _, perm := range Scopes {
		assert.True(t, admin.can(perm), "admins may %s", perm)
	}
	assert.True(t, agent.can(PermTicketsWrite))
	assert.True(t, agent.can(PermPeopleWrite))
	assert.True(t, agent.can(PermConfigRead))
	assert.False(t, agent.can(PermConfigWrite), "agents do not change configuration")
	assert.True(t, customer.can(PermTicketsRead))
	assert.True(t, customer.can(PermTicketsWrite))
	assert.False(t, customer.can(PermPeopleRead))
	assert.False(t, customer.can(PermTelephony))
}

// Scopes narrow a token; they never widen its role.
func TestScopesNarrowTheRole(t *testing.T) {
	reader := principalWith(schema.RoleAgent, PermTicketsRead)
	assert.True(t, reader.can(PermTicketsRead))
	assert.False(t, reader.can(PermTicketsWrite))
	pbx := principalWith(schema.RoleAgent, PermTelephony)
	assert.True(t, pbx.can(PermTelephony))
	assert.False(t, pbx.can(PermTicketsRead))
	widened := principalWith(schema.RoleCustomer, PermConfigWrite)
	assert.False(t, widened.can(PermConfigWrite))
}

func TestCustomerVisibilityRule(t *testing.T) {
	public := &schema.Ticket{Type: "public", ClientIDs: []string{"c1", "org1"}}
	internal := &schema.Ticket{Type: "internal", ClientIDs: []string{"c1"}}
	assert.True(t, canSee(public, nil), "staff see everything")
	assert.True(t, canSee(internal, nil))
	assert.True(t, canSee(public, []string{"c1"}))
	assert.True(t, canSee(public, []string{"c9", "org1"}), "through the organisation")
	assert.False(t, canSee(public, []string{"c2"}))
	assert.False(t, canSee(internal, []string{"c1"}), "never internal tickets")
}

func TestTokens(t *testing.T) {
	a, b := NewToken(), NewToken()
	assert.NotEqual(t, a, b)
	assert.Len(t, a, 3+43)
	assert.Equal(t, HashToken(a), HashToken(a))
	assert.NotEqual(t, HashToken(a), HashToken(b))
}
