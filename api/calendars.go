package api

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/internal/calendar"
	"github.com/switchboardhq/switchboard/schema"
)

func (s *Server) calendarRoutes(r fiber.Router) {
	r.Post("/calendars", requirePerm(PermConfigWrite), s.createCalendar)
	r.Get("/calendars", requirePerm(PermConfigRead), s.listCalendars)
	r.Get("/calendars/:id", requirePerm(PermConfigRead), getOne("id", s.loadCalendar))
	r.Patch("/calendars/:id", requirePerm(PermConfigWrite), s.updateCalendar)
	r.Delete("/calendars/:id", requirePerm(PermConfigWrite), s.deleteCalendar)
}

// calendarInput is the body of create and update. The schedule (timezone, week, holidays,
// exceptions) is checked as a whole by calendar.Spec.Validate, whose field paths
// (week.monday[1], holidays[0].date, exceptions[2].intervals[0]) are the 422's fields.
type calendarInput struct {
	Name       *string                         `json:"name" validate:"omitnil,notblank,max=100"`
	Timezone   *string                         `json:"timezone"`
	Week       *map[string][]calendar.Interval `json:"week"`
	Holidays   *[]calendar.Holiday             `json:"holidays"`
	Exceptions *[]calendar.Exception           `json:"exceptions"`
}

func (s *Server) createCalendar(c *fiber.Ctx) error {
	var in calendarInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Name == nil {
		return errField("name", "is required")
	}
	now := time.Now().UTC()
	cal := schema.Calendar{ID: uuid.Must(uuid.NewV7()).String(), CreatedAt: now, UpdatedAt: now}
	return s.saveCalendar(c, &cal, nil, in, "create", fiber.StatusCreated)
}

func (s *Server) updateCalendar(c *fiber.Ctx) error {
	var in calendarInput
	if err := decode(c, &in); err != nil {
		return err
	}
	before, err := s.loadCalendar(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	cal := *before
	cal.UpdatedAt = time.Now().UTC()
	return s.saveCalendar(c, &cal, before, in, "update", fiber.StatusOK)
}

// saveCalendar applies the input, validates the resulting schedule as a whole and writes the
// calendar and the audit entry in one transaction.
func (s *Server) saveCalendar(c *fiber.Ctx, cal, before *schema.Calendar, in calendarInput, action string, status int) error {
	if in.Name != nil {
		cal.Name = strings.TrimSpace(*in.Name)
	}
	set(&cal.Timezone, in.Timezone)
	set(&cal.Week, in.Week)
	set(&cal.Holidays, in.Holidays)
	set(&cal.Exceptions, in.Exceptions)
	normalizeCalendar(cal)
	if fields := cal.Spec().Validate(); len(fields) > 0 {
		return errInvalid(fields)
	}
	return writeConfig(c, s.db, calendars, cal, before, action, status)
}

var calendars = &configResource[schema.Calendar]{entity: "calendar", noun: "calendar",
	columns:   []string{"name", "timezone", "week", "holidays", "exceptions", "updated_at"},
	id:        func(cal *schema.Calendar) string { return cal.ID },
	normalize: normalizeCalendar,
	writeError: func(cal *schema.Calendar, err error) error {
		switch {
		case uniqueViolation(err):
			return errConflict("a calendar named %q exists already", cal.Name)
		case foreignKeyViolation(err):
			return errCalendarInUse
		}
		return err
	},
}

// normalizeCalendar makes absent lists empty, so the calendar always answers with an object
// and arrays, never null.
func normalizeCalendar(cal *schema.Calendar) {
	if cal.Week == nil {
		cal.Week = map[string][]calendar.Interval{}
	}
	for day, ivs := range cal.Week {
		if ivs == nil {
			cal.Week[day] = []calendar.Interval{}
		}
	}
	if cal.Holidays == nil {
		cal.Holidays = []calendar.Holiday{}
	}
	if cal.Exceptions == nil {
		cal.Exceptions = []calendar.Exception{}
	}
	for i := range cal.Exceptions {
		if cal.Exceptions[i].Intervals == nil {
			cal.Exceptions[i].Intervals = []calendar.Interval{}
		}
	}
}

var errCalendarInUse = errConflict("calendar is used by a call group or a chat group; point the group at another calendar first")

// deleteCalendar removes a calendar. One that a call or chat group refers to stays (409): checked by a
// query when the groups' tables exist, and by the foreign keys on their calendar_id,
// when there is one, against a call group created meanwhile.
func (s *Server) deleteCalendar(c *fiber.Ctx) error {
	ctx := c.UserContext()
	before, err := s.loadCalendar(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	err = calendars.remove(ctx, s.db, principal(c).Person.ID, before, func(ctx context.Context, tx bun.Tx) error {
		for _, table := range []string{"call_groups", "chat_groups"} {
			var used bool
			if err := tx.NewRaw("SELECT to_regclass(?) IS NOT NULL", table).Scan(ctx, &used); err != nil {
				return err
			}
			if used {
				if err := tx.NewRaw("SELECT EXISTS (SELECT 1 FROM ? WHERE calendar_id = ?)", bun.Ident(table), before.ID).Scan(ctx, &used); err != nil {
					return err
				}
			}
			if used {
				return errCalendarInUse
			}
		}
		return nil
	})
	if foreignKeyViolation(err) { // a constraint checked at commit
		return errCalendarInUse
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) loadCalendar(ctx context.Context, id string) (*schema.Calendar, error) {
	return calendars.load(ctx, s.db, id)
}

func (s *Server) listCalendars(c *fiber.Ctx) error {
	return calendars.list(c, s.db, configList[schema.Calendar]{filter: nameFilter})
}
