package schema

import (
	"context"
	"slices"
	"strconv"

	"github.com/uptrace/bun"
)

// AgentProblems checks that every id is an active person with an agent profile, and answers
// each problem under field[i]; an error is the database's.
func AgentProblems(ctx context.Context, db bun.IDB, field string, ids []string) (map[string]string, error) {
	fields := map[string]string{}
	if len(ids) == 0 {
		return fields, nil
	}
	var found []Person
	err := db.NewSelect().Model(&found).Column("id", "profile", "is_active").Where("id IN (?)", bun.In(ids)).Scan(ctx)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		at := slices.IndexFunc(found, func(p Person) bool { return p.ID == id })
		key := field + "[" + strconv.Itoa(i) + "]"
		switch {
		case at < 0:
			fields[key] = "no person with id " + id
		case found[at].Profile == RoleCustomer:
			fields[key] = "person " + id + " is not an agent"
		case !found[at].IsActive:
			fields[key] = "person " + id + " is deactivated"
		}
	}
	return fields, nil
}
