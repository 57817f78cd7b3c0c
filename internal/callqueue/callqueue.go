// Package callqueue decides, for a PBX's asterisk_receivedCall, which agent's extension takes
// the call, or why none can. Decisions for one queue are serialised by locking the group's row,
// and every call's offers are kept in call_offers, so that:
//   - agents are offered in the group's order, round-robin across calls;
//   - a repeated receivedCall for the same call (the PBX found the extension busy) gets the next
//     different extension;
//   - an agent offered to one call is reserved for it (ReserveFor, or until it is put through or
//     ends): other calls are offered other free agents, or hear "all busy".
package callqueue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/schema"
)

// The codes asterisk_receivedCall answers when it offers no extension.
const (
	CodeHoliday       = 0
	CodeClosed        = 1
	CodeNoAgentOnline = 2
	CodeNoPhoneOnline = 3
	CodeAllBusy       = 4
)

// ReserveFor is how long an offered agent is kept for the call it was offered to, unless the
// call is transferred or ends first. Other calls get other free agents meanwhile.
const ReserveFor = time.Minute

// Errors the API maps to 4xx answers.
var (
	ErrUnknownQueue = errors.New("unknown queue")
	ErrUnknownCall  = errors.New("unknown call")
)

// ConflictError is a callback the call's state does not allow.
type ConflictError struct{ Msg string }

func (e *ConflictError) Error() string { return e.Msg }

func conflict(format string, args ...any) error {
	return &ConflictError{Msg: fmt.Sprintf(format, args...)}
}

// Hours tells whether a call group is open. A group without a calendar is always open.
type Hours interface {
	IsHoliday(time.Time) bool
	IsOpen(time.Time) bool
}

// HoursLoader loads a calendar inside the distribution's transaction.
type HoursLoader func(ctx context.Context, db bun.IDB, calendarID string) (Hours, error)

// Offer is the answer to a receivedCall.
type Offer struct {
	Group     schema.CallGroup
	Extension string // the extension offered, or "" with a Code
	AgentID   string
	Code      *int
	First     bool // the first receivedCall of this call
	Attempt   int  // how many extensions this call has been offered, this one included
	// Repeat: the PBX asked again and gets the same answer as last time (a caller waiting while
	// every agent is busy); nothing new happened to the call.
	Repeat bool
}

// Answer is the plain-text body a PBX reads: the extension or the code.
func (o Offer) Answer() string {
	if o.Code != nil {
		return fmt.Sprint(*o.Code)
	}
	return o.Extension
}

// Call is a receivedCall as the PBX sent it.
type Call struct {
	ID           string
	QueueID      int64
	ClientNumber string
	Date         time.Time
}

// Receive decides the answer to a receivedCall.
func Receive(ctx context.Context, db *bun.DB, call Call, hours HoursLoader) (Offer, error) {
	var offer Offer
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		offer, err = receive(ctx, tx, call, hours)
		return err
	})
	return offer, err
}

func receive(ctx context.Context, tx bun.Tx, call Call, hours HoursLoader) (Offer, error) {
	queueID, callID, callDate := call.QueueID, call.ID, call.Date
	var g schema.CallGroup
	if err := tx.NewSelect().Model(&g).Where("queue_id = ?", queueID).For("UPDATE").Scan(ctx); err != nil {
		if isNoRows(err) {
			return Offer{}, ErrUnknownQueue
		}
		return Offer{}, err
	}
	if !g.IsActive {
		return Offer{}, ErrUnknownQueue
	}
	off, err := loadOffer(ctx, tx, callID)
	if err != nil {
		return Offer{}, err
	}
	o := Offer{Group: g, First: off == nil}
	if off == nil {
		off = &schema.CallOffer{CallID: callID, QueueID: queueID, GroupID: g.ID, ClientNumber: call.ClientNumber,
			ReceivedAt: callDate, Round: []string{}, Offered: []string{}, State: schema.OfferQueued}
	}
	switch {
	case off.QueueID != queueID:
		return Offer{}, conflict("call %s is in queue %d, not %d", callID, off.QueueID, queueID)
	case off.State == schema.OfferEnded:
		return Offer{}, conflict("call %s has ended (%s); a call id cannot be used again", callID, deref(off.EndKind))
	case off.State == schema.OfferOngoing:
		// Already transferred: a late or repeated receivedCall gets the same answer.
		o.Extension, o.AgentID, o.Attempt = deref(off.Extension), deref(off.AgentID), len(off.Offered)
		return o, nil
	}
	code, pick, err := choose(ctx, tx, &g, off, callDate, hours)
	if err != nil {
		return Offer{}, err
	}
	now := time.Now().UTC()
	off.UpdatedAt = now
	if code != nil {
		o.Code = code
		off.State, off.Extension, off.AgentID, off.OfferedAt = schema.OfferQueued, nil, nil, nil
	} else {
		o.Extension, o.AgentID = pick.Extension, pick.AgentID
		off.State, off.Extension, off.AgentID, off.OfferedAt = schema.OfferOffered, &pick.Extension, &pick.AgentID, &now
		off.Round = append(off.Round, pick.Extension)
		off.Offered = append(off.Offered, pick.Extension)
		g.RRNext = slices.IndexFunc(g.Members, func(m schema.CallMember) bool { return m.AgentID == pick.AgentID }) + 1
		if _, err := tx.NewUpdate().Model(&g).Column("rr_next").WherePK().Exec(ctx); err != nil {
			return Offer{}, err
		}
	}
	o.Attempt = len(off.Offered)
	answer := o.Answer()
	o.Repeat = off.LastAnswer != nil && *off.LastAnswer == answer
	off.LastAnswer = &answer
	_, err = tx.NewInsert().Model(off).On("CONFLICT (call_id) DO UPDATE").
		Set("round = EXCLUDED.round, offered = EXCLUDED.offered, extension = EXCLUDED.extension").
		Set("agent_id = EXCLUDED.agent_id, offered_at = EXCLUDED.offered_at, state = EXCLUDED.state").
		Set("last_answer = EXCLUDED.last_answer, updated_at = EXCLUDED.updated_at").Exec(ctx)
	return o, err
}

// choose returns a code, or the member to offer.
func choose(ctx context.Context, tx bun.Tx, g *schema.CallGroup, off *schema.CallOffer, callDate time.Time, hours HoursLoader) (*int, schema.CallMember, error) {
	if g.CalendarID != nil {
		h, err := hours(ctx, tx, *g.CalendarID)
		if err != nil {
			return nil, schema.CallMember{}, err
		}
		if h.IsHoliday(callDate) {
			return code(CodeHoliday), schema.CallMember{}, nil
		}
		if !h.IsOpen(callDate) {
			return code(CodeClosed), schema.CallMember{}, nil
		}
	}
	st, err := memberStates(ctx, tx, g, off.CallID)
	if err != nil {
		return nil, schema.CallMember{}, err
	}
	var online, phone, free []schema.CallMember
	for _, m := range g.Members {
		s := st[m.AgentID]
		if s.online {
			online = append(online, m)
			if s.phoneOnline {
				phone = append(phone, m)
				// An agent offered to another call moments ago is kept for that call: offering
				// them here too would ring one phone for two callers.
				if !s.busy && !s.reserved {
					free = append(free, m)
				}
			}
		}
	}
	switch {
	case len(online) == 0:
		return code(CodeNoAgentOnline), schema.CallMember{}, nil
	case len(phone) == 0:
		return code(CodeNoPhoneOnline), schema.CallMember{}, nil
	case len(free) == 0:
		return code(CodeAllBusy), schema.CallMember{}, nil
	}
	// Extensions this call was already offered in this round are skipped; when every free agent
	// was tried, the round starts over after answering "all busy" once.
	fresh := slices.DeleteFunc(slices.Clone(free), func(m schema.CallMember) bool { return slices.Contains(off.Round, m.Extension) })
	if len(fresh) == 0 {
		off.Round = []string{}
		return code(CodeAllBusy), schema.CallMember{}, nil
	}
	return nil, nextInOrder(g, fresh), nil
}

// nextInOrder is the first candidate at or after the group's round-robin position.
func nextInOrder(g *schema.CallGroup, candidates []schema.CallMember) schema.CallMember {
	n := len(g.Members)
	for i := range n {
		m := g.Members[(g.RRNext+i)%n]
		if slices.Contains(candidates, m) {
			return m
		}
	}
	return candidates[0]
}

type memberState struct{ online, phoneOnline, busy, reserved bool }

// memberStates reads each member's status: online flags (an inactive person is offline), busy
// when a call was put through to them and has not ended, reserved when offered to another call
// moments ago. Busy comes from this ledger, which the callbacks update synchronously, not from
// the agent's currentCallId, which the call workflows keep a moment later.
func memberStates(ctx context.Context, tx bun.Tx, g *schema.CallGroup, callID string) (map[string]memberState, error) {
	ids := make([]string, len(g.Members))
	for i, m := range g.Members {
		ids[i] = m.AgentID
	}
	out := map[string]memberState{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		PersonID    string `bun:"person_id"`
		Online      bool   `bun:"online"`
		PhoneOnline bool   `bun:"phone_online"`
	}
	err := tx.NewRaw(`SELECT t.person_id, t.online, t.phone_online
		FROM agent_telephony t JOIN persons p ON p.id = t.person_id
		WHERE t.person_id IN (?) AND p.is_active`, bun.In(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.PersonID] = memberState{online: r.Online, phoneOnline: r.PhoneOnline}
	}
	var offers []schema.CallOffer
	err = tx.NewSelect().Model(&offers).Where("agent_id IN (?)", bun.In(ids)).
		Where("state IN (?)", bun.In([]string{schema.OfferOffered, schema.OfferOngoing})).Where("call_id <> ?", callID).Scan(ctx)
	if err != nil {
		return nil, err
	}
	cutoff := time.Now().Add(-ReserveFor)
	for _, o := range offers {
		s := out[*o.AgentID]
		if o.State == schema.OfferOngoing {
			s.busy = true
		} else if o.OfferedAt != nil && o.OfferedAt.After(cutoff) {
			s.reserved = true
		}
		out[*o.AgentID] = s
	}
	return out, nil
}

// Transfer records that the PBX put the call through to an extension. It returns the agent of
// that extension, and whether the call had ended already (a late callback, recorded only).
func Transfer(ctx context.Context, db *bun.DB, callID, extension string) (agentID string, ended bool, err error) {
	err = withCall(ctx, db, callID, func(tx bun.Tx, off *schema.CallOffer) error {
		if !slices.Contains(off.Offered, extension) {
			return conflict("extension %s was not offered for call %s (offered: %v)", extension, callID, off.Offered)
		}
		var g schema.CallGroup
		if err := tx.NewSelect().Model(&g).Where("queue_id = ?", off.QueueID).Scan(ctx); err != nil {
			return err
		}
		for _, m := range g.Members {
			if m.Extension == extension {
				agentID = m.AgentID
			}
		}
		if off.State == schema.OfferEnded {
			ended = true
			return nil
		}
		off.State, off.Extension, off.AgentID, off.UpdatedAt = schema.OfferOngoing, &extension, &agentID, time.Now().UTC()
		_, err := tx.NewUpdate().Model(off).Column("state", "extension", "agent_id", "updated_at").WherePK().Exec(ctx)
		return err
	})
	return agentID, ended, err
}

// End records the call's end. The same end twice is a duplicate (reported, nothing changes);
// a different end after the first is a conflict.
func End(ctx context.Context, db bun.IDB, callID, kind string) (duplicate bool, err error) {
	err = withCall(ctx, db, callID, func(tx bun.Tx, off *schema.CallOffer) error {
		if off.State == schema.OfferEnded {
			if deref(off.EndKind) == kind {
				duplicate = true
				return nil
			}
			return conflict("call %s has already ended as %s", callID, deref(off.EndKind))
		}
		off.State, off.EndKind, off.UpdatedAt = schema.OfferEnded, &kind, time.Now().UTC()
		_, err := tx.NewUpdate().Model(off).Column("state", "end_kind", "updated_at").WherePK().Exec(ctx)
		return err
	})
	return duplicate, err
}

// Find returns the call's ledger entry, or ErrUnknownCall.
func Find(ctx context.Context, db bun.IDB, callID string) (*schema.CallOffer, error) {
	off := &schema.CallOffer{}
	err := db.NewSelect().Model(off).Where("call_id = ?", callID).Scan(ctx)
	if isNoRows(err) {
		return nil, ErrUnknownCall
	}
	return off, err
}

// withCall runs f on the call's locked ledger entry, or answers ErrUnknownCall.
func withCall(ctx context.Context, db bun.IDB, callID string, f func(bun.Tx, *schema.CallOffer) error) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		off, err := loadOffer(ctx, tx, callID)
		if err != nil {
			return err
		}
		if off == nil {
			return ErrUnknownCall
		}
		return f(tx, off)
	})
}

func loadOffer(ctx context.Context, tx bun.IDB, callID string) (*schema.CallOffer, error) {
	off := &schema.CallOffer{}
	err := tx.NewSelect().Model(off).Where("call_id = ?", callID).For("UPDATE").Scan(ctx)
	if isNoRows(err) {
		return nil, nil
	}
	return off, err
}

func code(c int) *int { return &c }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
