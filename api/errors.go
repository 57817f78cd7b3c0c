package api

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun/driver/pgdriver"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/switchboardhq/switchboard/workflows"
)

// Error is an API error. Every error leaves the API as
// {"error":{"code":"...","message":"...","fields":{...}}}.
type Error struct {
	Status     int               `json:"-"`
	Code       string            `json:"code"`
	Message    string            `json:"message"`
	Fields     map[string]string `json:"fields,omitempty"`
	RetryAfter int               `json:"-"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func errBadRequest(format string, args ...any) *Error {
	return &Error{Status: fiber.StatusBadRequest, Code: "bad_request", Message: fmt.Sprintf(format, args...)}
}

func errNotFound(format string, args ...any) *Error {
	return &Error{Status: fiber.StatusNotFound, Code: "not_found", Message: fmt.Sprintf(format, args...)}
}

func errConflict(format string, args ...any) *Error {
	return &Error{Status: fiber.StatusConflict, Code: "conflict", Message: fmt.Sprintf(format, args...)}
}

func errForbidden(format string, args ...any) *Error {
	return &Error{Status: fiber.StatusForbidden, Code: "forbidden", Message: fmt.Sprintf(format, args...)}
}

func errUnauthorized(msg string) *Error {
	return &Error{Status: fiber.StatusUnauthorized, Code: "unauthorized", Message: msg}
}

// errInvalid is a 422 naming the fields that were wrong.
func errInvalid(fields map[string]string) *Error {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	return &Error{Status: fiber.StatusUnprocessableEntity, Code: "validation_failed",
		Message: "invalid fields: " + strings.Join(sortedStrings(names), ", "), Fields: fields}
}

func errField(field, format string, args ...any) *Error {
	return errInvalid(map[string]string{field: fmt.Sprintf(format, args...)})
}

func errUnavailable(what string) *Error {
	return &Error{Status: fiber.StatusServiceUnavailable, Code: "unavailable",
		Message: what + " is unreachable; retry later", RetryAfter: 5}
}

// errorHandler is fiber's one error handler: it turns every error into the envelope, and logs
// what is unexpected.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		var accepted *chatAccepted
		if errors.As(err, &accepted) {
			return c.Status(fiber.StatusAccepted).JSON(accepted)
		}
		e := toAPIError(err)
		if e.Status >= 500 {
			log.Error("request failed", "method", c.Method(), "path", c.Path(), "status", e.Status, "err", err)
		}
		if e.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(e.RetryAfter))
		}
		return c.Status(e.Status).JSON(fiber.Map{"error": e})
	}
}

// toAPIError maps domain, fiber, Temporal and SQL errors to API errors.
func toAPIError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fromFiber(fe)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return errNotFound("not found")
	}
	if e := fromTemporal(err); e != nil {
		return e
	}
	if e := fromPostgres(err); e != nil {
		return e
	}
	return &Error{Status: fiber.StatusInternalServerError, Code: "internal", Message: "internal error"}
}

func fromFiber(fe *fiber.Error) *Error {
	switch fe.Code {
	case fiber.StatusNotFound:
		return errNotFound("%s", fe.Message)
	case fiber.StatusRequestEntityTooLarge:
		return &Error{Status: fe.Code, Code: "payload_too_large", Message: "request body is larger than the limit"}
	case fiber.StatusMethodNotAllowed:
		return &Error{Status: fe.Code, Code: "method_not_allowed", Message: fe.Message}
	}
	if fe.Code >= 400 && fe.Code < 500 {
		return &Error{Status: fe.Code, Code: "bad_request", Message: fe.Message}
	}
	return &Error{Status: fiber.StatusInternalServerError, Code: "internal", Message: "internal error"}
}

func fromTemporal(err error) *Error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case workflows.ErrTypeConflict:
			return errConflict("%s", appErr.Message())
		case workflows.ErrTypeForbidden:
			return errForbidden("%s", appErr.Message())
		case workflows.ErrTypeInvalid:
			field := workflows.ErrorField(err)
			if field == "" {
				field = "body"
			}
			return errField(field, "%s", appErr.Message())
		case workflows.ErrTypeExpired:
			return &Error{Status: fiber.StatusServiceUnavailable, Code: "unavailable", RetryAfter: 5,
				Message: "the ticket's workflow did not take the change in time; it was not applied; retry later"}
		}
	}
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return errConflict("the workflow is already running")
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return errConflict("the ticket's workflow is not running; reload the ticket")
	}
	// Temporal unreachable or too slow to answer: the change was not accepted (an accepted one is
	// answered 202 by the handler), and its deadline makes sure it never is.
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	var exhausted *serviceerror.ResourceExhausted
	var updateRPC *client.WorkflowUpdateServiceTimeoutOrCanceledError
	if errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.As(err, &exhausted) ||
		errors.As(err, &updateRPC) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return errUnavailable("Temporal")
	}
	if s, ok := status.FromError(err); ok && (s.Code() == codes.Unavailable || s.Code() == codes.DeadlineExceeded) {
		return errUnavailable("Temporal")
	}
	return nil
}

func fromPostgres(err error) *Error {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		code := pgErr.Field('C')
		switch {
		case code == "23505":
			return errConflict("a record with the same unique value already exists")
		case code == "23503":
			return errInvalid(map[string]string{"body": "refers to a record that does not exist"})
		case strings.HasPrefix(code, "22"):
			return errInvalid(map[string]string{"body": pgErr.Field('M')})
		case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "57P"), strings.HasPrefix(code, "53"):
			return errUnavailable("PostgreSQL")
		}
		return nil
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, sql.ErrConnDone) {
		return errUnavailable("PostgreSQL")
	}
	return nil
}
