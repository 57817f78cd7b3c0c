package api

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/switchboardhq/switchboard/internal/callqueue"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// The Movidesk-compatible telephony callbacks, under /public/v1, as a PBX calls them (see
// ../shared/seeds/movidesk-telephony-api.txt): POST, parameters in the query string (or a form
// or JSON body), the token as the `token` parameter. Successful answers are plain text: the
// extension or code for asterisk_receivedCall, "OK" for the others. Errors use the API's JSON
// envelope with the status code a PBX script can branch on: 400 a missing or malformed
// parameter (named), 401 a bad token, 403 a token without the telephony scope, 404 an unknown
// queueId or call id, 409 a callback the call's state does not allow.
func (s *Server) telephonyRoutes(app *fiber.App) {
	g := app.Group("/public/v1", s.telephonyAuth, s.limit)
	g.Post("/asterisk_receivedCall", s.receivedCall)
	g.Post("/asterisk_transferedCall", s.transferredCall)
	g.Post("/asterisk_completedCall", s.endedCall(workflows.CallCompleted, "completedDate"))
	g.Post("/asterisk_lostCall", s.endedCall(workflows.CallMissed, "completedDate"))
	g.Post("/asterisk_canceledCall", s.endedCall(workflows.CallCanceled, "canceledDate"))
	g.Post("/setMadeCallLink", s.setMadeCallLink)
}

// telephonyAuth takes the token from the `token` parameter; it needs the telephony scope.
func (s *Server) telephonyAuth(c *fiber.Ctx) error {
	p, err := readParams(c)
	if err != nil {
		return err
	}
	token := p.get("token")
	if token == "" {
		return errUnauthorized("send the API token as the token parameter")
	}
	pr, err := s.lookupToken(c.UserContext(), token)
	if err != nil {
		return err
	}
	if !pr.can(PermTelephony) {
		return errForbidden("this token does not have the telephony scope")
	}
	c.Locals(principalKey, pr)
	c.Locals(paramsKey, p)
	return c.Next()
}

const paramsKey = "pbxParams"

// pbxParams reads a callback's parameters from the query string, then a form body, then a
// JSON body.
type pbxParams struct {
	c    *fiber.Ctx
	body map[string]any
}

func readParams(c *fiber.Ctx) (*pbxParams, error) {
	p := &pbxParams{c: c}
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) && len(strings.TrimSpace(string(c.Body()))) > 0 {
		if err := json.Unmarshal(c.Body(), &p.body); err != nil {
			return nil, errBadRequest("the body is not a JSON object: %s", err.Error())
		}
	}
	return p, nil
}

func (p *pbxParams) get(names ...string) string {
	for _, n := range names {
		if v := p.c.Query(n); v != "" {
			return v
		}
		if v := p.c.FormValue(n); v != "" {
			return v
		}
		switch v := p.body[n].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return ""
}

// text reads a required (or optional) parameter of at most max characters.
func (p *pbxParams) text(name string, max int, required bool, alts ...string) (string, error) {
	v := strings.TrimSpace(p.get(append([]string{name}, alts...)...))
	switch {
	case v == "" && required:
		return "", errBadRequest("missing parameter %s", name)
	case len(v) > max:
		return "", errBadRequest("parameter %s is longer than %d characters", name, max)
	}
	return v, nil
}

var queueIDPattern = regexp.MustCompile(`^[0-9]{1,10}$`)

// callID reads the PBX's id of the call: at most 256 characters of printable ASCII. It names the
// call's workflow (call/<id>), and Temporal sends workflow IDs in gRPC headers, which take
// nothing else (a U+FEFF in an id answered 500).
func (p *pbxParams) callID() (string, error) {
	id, err := p.text("id", 256, true)
	if err != nil {
		return "", err
	}
	for _, b := range []byte(id) {
		if b < 0x20 || b > 0x7e {
			return "", errBadRequest("parameter id may hold only printable ASCII (letters, digits, punctuation, space), got %q", id)
		}
	}
	return id, nil
}

// maxLink is the longest recording link a callback may carry, for every callback that sends
// one (PBXs send links of up to 8 KiB in the query string).
const maxLink = 8192

// PBX dates are between these years: a call dated 0000 or 9999 is a PBX's error, not a call.
const minPBXYear, maxPBXYear = 1970, 2100

var pbxDate = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?$`)

// ParsePBXDate reads a callback date: UTC, yyyy-MM-ddThh:mm with optional seconds, and month,
// day and hour possibly unpadded, as in the seed's own example 2018-5-1T17:00:00; the year is
// from 1970 to 2100.
func ParsePBXDate(v string) (time.Time, bool) {
	m := pbxDate.FindStringSubmatch(v)
	if m == nil {
		return time.Time{}, false
	}
	n := make([]int, 6)
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1]) // the regexp admits only digits; an empty second is 0
	}
	t := time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], 0, time.UTC)
	if n[0] < minPBXYear || n[0] > maxPBXYear {
		return time.Time{}, false
	}
	if t.Year() != n[0] || int(t.Month()) != n[1] || t.Day() != n[2] || t.Hour() != n[3] || t.Minute() != n[4] || t.Second() != n[5] {
		return time.Time{}, false // 2018-2-30 and 25:00 do not exist
	}
	return t, true
}

func (p *pbxParams) date(name string) (time.Time, error) {
	v := strings.TrimSpace(p.get(name))
	if v == "" {
		return time.Time{}, errBadRequest("missing parameter %s", name)
	}
	t, ok := ParsePBXDate(v)
	if !ok {
		return time.Time{}, errBadRequest("parameter %s must be a UTC date yyyy-MM-ddThh:mm, seconds optional (e.g. 2018-5-1T17:00:00), from 1970 to 2100, got %q", name, v)
	}
	return t, nil
}

func params(c *fiber.Ctx) *pbxParams { return c.Locals(paramsKey).(*pbxParams) }

// receivedCall answers with the extension that should take the call, or a code.
func (s *Server) receivedCall(c *fiber.Ctx) error {
	p := params(c)
	rawQueue, err := p.text("queueId", 10, true)
	if err != nil {
		return err
	}
	// A queueId is 1 to 10 decimal digits, nothing else: ParseInt alone would take "+100".
	queueID, err := strconv.ParseInt(rawQueue, 10, 64)
	if err != nil || !queueIDPattern.MatchString(rawQueue) {
		return errBadRequest("parameter queueId must be a whole number of at most 10 digits, got %q", rawQueue)
	}
	number, err := p.text("clientNumber", 128, true)
	if err != nil {
		return err
	}
	id, err := p.callID()
	if err != nil {
		return err
	}
	date, err := p.date("callDate")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	offer, err := callqueue.Receive(ctx, s.db, callqueue.Call{ID: id, QueueID: queueID, ClientNumber: number, Date: date}, s.loadHours)
	if err != nil {
		return callError(err, "queue", queueID)
	}
	if !offer.Repeat { // a waiting caller asking again with nothing new is not news for the call
		sig := workflows.CallOfferedSignal{Extension: offer.Extension, AgentID: offer.AgentID, Code: offer.Code,
			Attempt: offer.Attempt, At: time.Now().UTC()}
		if err := s.signalCall(ctx, id, workflows.SignalCallOffered, sig); err != nil && !errors.Is(err, errCallFinished) {
			return err
		}
	}
	return c.Type("txt").SendString(offer.Answer())
}

// loadHours is the calendar of a call group, when the calendars table knows it.
func (s *Server) loadHours(ctx context.Context, db bun.IDB, id string) (callqueue.Hours, error) {
	cal, err := schema.LoadCalendar(ctx, db, id)
	if err != nil {
		return nil, err
	}
	return cal, nil
}

func (s *Server) transferredCall(c *fiber.Ctx) error {
	p := params(c)
	id, err := p.callID()
	if err != nil {
		return err
	}
	ext, err := p.text("branchLine", 128, true)
	if err != nil {
		return err
	}
	date, err := p.date("transferDate")
	if err != nil {
		return err
	}
	agent, _, err := callqueue.Transfer(c.UserContext(), s.db, id, ext)
	if err != nil {
		return callError(err, "call", id)
	}
	sig := workflows.CallTransferredSignal{Extension: ext, AgentID: agent, At: date}
	if err := s.signalCall(c.UserContext(), id, workflows.SignalCallTransferred, sig); err != nil && !errors.Is(err, errCallFinished) {
		return err
	}
	return c.Type("txt").SendString("OK")
}

// endedCall handles completed, missed and canceled calls. The same end twice changes nothing;
// a different end after the first is a 409.
func (s *Server) endedCall(kind, dateParam string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := params(c)
		id, err := p.callID()
		if err != nil {
			return err
		}
		link := ""
		if kind != workflows.CallCanceled {
			if link, err = p.text("link", maxLink, false, "Link"); err != nil {
				return err
			}
		}
		date, err := p.date(dateParam)
		if err != nil {
			return err
		}
		if _, err := callqueue.End(c.UserContext(), s.db, id, kind); err != nil {
			return callError(err, "call", id)
		}
		// Signalled on a repeat too: if the first signal was lost, this one delivers it; the
		// workflow ignores an end it has.
		sig := workflows.CallEndedSignal{Kind: kind, Link: link, At: date}
		if err := s.signalCall(c.UserContext(), id, workflows.SignalCallEnded, sig); err != nil && !errors.Is(err, errCallFinished) {
			return err
		}
		return c.Type("txt").SendString("OK")
	}
}

func (s *Server) setMadeCallLink(c *fiber.Ctx) error {
	p := params(c)
	id, err := p.callID()
	if err != nil {
		return err
	}
	link, err := p.text("Link", maxLink, true, "link")
	if err != nil {
		return err
	}
	if err := s.signalCall(c.UserContext(), id, workflows.SignalCallLinkSet, workflows.CallLinkSetSignal{Link: link}); err != nil {
		if errors.Is(err, errCallFinished) {
			return errConflict("call %s ended more than %s ago; its recording link can no longer be set", id, workflows.DefaultLinkGrace)
		}
		return callError(err, "call", id)
	}
	return c.Type("txt").SendString("OK")
}

var errCallFinished = errors.New("the call's workflow has finished")

// signalCall delivers a callback to the call's workflow, starting it when it is not running yet
// (so a callback whose predecessor's signal was lost still finds its workflow). Once a call's
// workflow has finished, the ID is not reused: errCallFinished.
func (s *Server) signalCall(ctx context.Context, callID, signal string, arg any) error {
	off, err := callqueue.Find(ctx, s.db, callID)
	if err != nil {
		return err
	}
	_, err = s.temporal.SignalWithStartWorkflow(ctx, workflows.CallWorkflowID(callID), signal, arg,
		client.StartWorkflowOptions{ID: workflows.CallWorkflowID(callID), TaskQueue: s.cfg.TaskQueue,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE},
		workflows.CallWorkflowType, workflows.CallInput{ID: callID, QueueID: off.QueueID, GroupID: off.GroupID,
			ClientNumber: off.ClientNumber, ReceivedAt: off.ReceivedAt, NoEndAfter: s.cfg.CallNoEndAfter,
			LinkGrace: workflows.DefaultLinkGrace, AutoCloseAfter: s.cfg.AutoCloseAfter})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return errCallFinished
	}
	return err
}

// callError maps the distribution's errors to answers.
func callError(err error, what string, key any) error {
	var conflict *callqueue.ConflictError
	switch {
	case errors.Is(err, callqueue.ErrUnknownQueue):
		return errNotFound("no active call group has queueId %v", key)
	case errors.Is(err, callqueue.ErrUnknownCall):
		return errNotFound("no call with id %v: send asterisk_receivedCall first", key)
	case errors.As(err, &conflict):
		return errConflict("%s", conflict.Msg)
	}
	return err
}
