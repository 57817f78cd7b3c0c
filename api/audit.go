package api

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/schema"
)

// audit records a configuration change: who did what to which record, before and after. It
// cannot fail on content: before and after are recorded as storable JSON (auditable), so a
// stored record that no longer validates can still be edited, disabled and deleted.
func audit(ctx context.Context, db bun.IDB, actor, entity, id, action string, before, after any) error {
	_, err := db.NewInsert().Model(&schema.AuditEntry{ActorID: actor, Entity: entity, EntityID: id,
		Action: action, Before: auditable(before), After: auditable(after)}).Exec(ctx)
	return err
}

// auditable is v as JSON that jsonb accepts: U+0000, the text \u0000 and invalid UTF-8 become
// U+FFFD; a value that does not marshal is recorded as why.
func auditable(v any) any {
	if v == nil {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return map[string]string{"unrecordable": err.Error()}
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil { // Unmarshal already turns bad UTF-8 into U+FFFD
		return map[string]string{"unrecordable": err.Error()}
	}
	return scrub(tree)
}

// auditText replaces what jsonb refuses (U+0000) or bun cannot write (the text \u0000).
var auditText = strings.NewReplacer("\x00", "\uFFFD", `\u0000`, "\uFFFD")

func scrub(v any) any {
	switch v := v.(type) {
	case string:
		return auditText.Replace(v)
	case []any:
		for i := range v {
			v[i] = scrub(v[i])
		}
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[scrub(k).(string)] = scrub(e)
		}
		return out
	}
	return v
}
