package schema

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/internal/calendar"
)

// Calendar is a business-hours calendar: a weekly schedule in a time zone, less holidays, with
// exceptions (dates with their own intervals); see internal/calendar for the rules.
type Calendar struct {
	bun.BaseModel `bun:"table:calendars" json:"-"`

	ID         string                         `bun:"id,pk" json:"id"`
	Name       string                         `bun:"name" json:"name"`
	Timezone   string                         `bun:"timezone" json:"timezone"`
	Week       map[string][]calendar.Interval `bun:"week,type:jsonb" json:"week"`
	Holidays   []calendar.Holiday             `bun:"holidays,type:jsonb" json:"holidays"`
	Exceptions []calendar.Exception           `bun:"exceptions,type:jsonb" json:"exceptions"`
	CreatedAt  time.Time                      `bun:"created_at" json:"createdAt"`
	UpdatedAt  time.Time                      `bun:"updated_at" json:"updatedAt"`
}

// Spec is the calendar's schedule, to validate or compile.
func (c Calendar) Spec() calendar.Spec {
	return calendar.Spec{Timezone: c.Timezone, Week: c.Week, Holidays: c.Holidays, Exceptions: c.Exceptions}
}

// LoadCalendar reads a calendar and compiles it. A missing calendar is an error wrapping
// sql.ErrNoRows.
func LoadCalendar(ctx context.Context, db bun.IDB, id string) (*calendar.Calendar, error) {
	var row Calendar
	if err := db.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("calendar %s: %w", id, err)
	}
	cal, err := row.Spec().Compile()
	if err != nil {
		return nil, fmt.Errorf("calendar %s: %w", id, err)
	}
	return cal, nil
}
