package offboard

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// UserEvent is a user event from Jira, parsed leniently: unknown fields are
// ignored and only the accountId is required.
type UserEvent struct {
	Type        string // models.UserCreated, UserUpdated or UserDeleted
	AccountID   string
	Active      *bool
	DisplayName string
	AccountType string
	Email       string
	At          time.Time // zero when the event carries no usable timestamp (see parseTime)
	ID          string    // the event's own id, when it has one
}

type wireUser struct {
	AccountID    looseString `json:"accountId"`
	Active       looseBool   `json:"active"`
	DisplayName  looseString `json:"displayName"`
	AccountType  looseString `json:"accountType"`
	EmailAddress looseString `json:"emailAddress"`
}

// looseString takes a JSON string and ignores any other type, so a field
// that changes shape upstream never makes a delivery fail.
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	var v string
	if json.Unmarshal(b, &v) == nil {
		*s = looseString(v)
	}
	return nil
}

// looseBool takes a JSON boolean and leaves anything else as "not said".
type looseBool struct{ v *bool }

func (l *looseBool) UnmarshalJSON(b []byte) error {
	var v bool
	if json.Unmarshal(b, &v) == nil {
		l.v = &v
	}
	return nil
}

// looseMillis takes epoch milliseconds as a JSON number or numeric string;
// anything else, or a time outside what parseTime accepts, reads as 0 (no
// timestamp).
type looseMillis int64

func (m *looseMillis) UnmarshalJSON(b []byte) error {
	var n json.Number
	if json.Unmarshal(bytes.Trim(b, `"`), &n) == nil {
		if v, err := n.Int64(); err == nil && v > 0 && v <= maxEventTime.UnixMilli() {
			*m = looseMillis(v)
		}
	}
	return nil
}

// maxEventTime is the latest timestamp parsing accepts (what RFC 3339 can
// write and both engines can store).
var maxEventTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)

// parseTime keeps an event's timestamp when it lies after the Unix epoch
// and no later than year 9999; anything else is no timestamp (the zero
// time), so the event counts as happening when it was received. Ingest
// stores it bounded further by the receipt time (store.EventTime: at most
// store.EventSkew later), so no event can claim a far-future time.
func parseTime(t time.Time) time.Time {
	if !t.After(store.MinEventTime) || t.After(maxEventTime) {
		return time.Time{}
	}
	return t.UTC()
}

const maxFieldLen = 1024

// ParseConnectEvent reads a Connect webhook body ({timestamp, webhookEvent,
// user: {accountId, active, displayName, accountType, ...}}).
func ParseConnectEvent(body []byte) (*UserEvent, error) {
	var w struct {
		Timestamp    looseMillis `json:"timestamp"`
		WebhookEvent looseString `json:"webhookEvent"`
		User         *wireUser   `json:"user"`
		AccountID    looseString `json:"accountId"`
	}
	if err := decodeObject(body, &w); err != nil {
		return nil, err
	}
	ev := &UserEvent{Type: normaliseType(string(w.WebhookEvent))}
	if w.User != nil {
		ev.fill(*w.User)
	}
	if ev.AccountID == "" {
		ev.AccountID = strings.TrimSpace(string(w.AccountID))
	}
	if w.Timestamp > 0 {
		ev.At = parseTime(time.UnixMilli(int64(w.Timestamp)))
	}
	return ev, ev.validate()
}

// ParseForgeEvent reads a Forge product event ({payload: {eventType, user:
// {accountId, ...}}, context: {...}}); an envelope with eventType and user
// at the top level is read too.
func ParseForgeEvent(body []byte) (*UserEvent, error) {
	type inner struct {
		EventType looseString `json:"eventType"`
		ID        looseString `json:"id"`
		EventID   looseString `json:"eventId"`
		Timestamp looseString `json:"timestamp"`
		User      *wireUser   `json:"user"`
		AccountID looseString `json:"accountId"`
	}
	var w struct {
		inner
		Payload *inner `json:"payload"`
	}
	if err := decodeObject(body, &w); err != nil {
		return nil, err
	}
	in := w.inner
	if w.Payload != nil {
		in = *w.Payload
		in.ID = firstNonEmpty(in.ID, w.ID)
		in.EventID = firstNonEmpty(in.EventID, w.EventID)
	}
	ev := &UserEvent{Type: normaliseType(string(in.EventType)), ID: string(firstNonEmpty(in.EventID, in.ID))}
	if in.User != nil {
		ev.fill(*in.User)
	}
	if ev.AccountID == "" {
		ev.AccountID = strings.TrimSpace(string(in.AccountID))
	}
	if t, err := time.Parse(time.RFC3339Nano, string(in.Timestamp)); err == nil {
		ev.At = parseTime(t)
	}
	return ev, ev.validate()
}

func (ev *UserEvent) fill(u wireUser) {
	ev.AccountID = strings.TrimSpace(string(u.AccountID))
	ev.Active = u.Active.v
	ev.DisplayName = clip(string(u.DisplayName))
	ev.AccountType = clip(string(u.AccountType))
	ev.Email = clip(string(u.EmailAddress))
}

func (ev *UserEvent) validate() error {
	v := &models.ValidationError{}
	switch {
	case ev.AccountID == "":
		v.Add("user.accountId", "required")
	case len(ev.AccountID) > 128 || !utf8.ValidString(ev.AccountID) || strings.ContainsAny(ev.AccountID, "\x00\r\n"):
		v.Add("user.accountId", "not an accountId")
	}
	if ev.Type == "" {
		v.Add("webhookEvent", "must be a user event (user_created, user_updated, user_deleted)")
	}
	if len(ev.ID) > 200 {
		ev.ID = ""
	}
	return v.Err()
}

// normaliseType maps Connect and Forge event names to the model's.
func normaliseType(s string) string {
	switch s {
	case "user_created", "avi:jira:created:user":
		return models.UserCreated
	case "user_updated", "avi:jira:updated:user":
		return models.UserUpdated
	case "user_deleted", "avi:jira:deleted:user":
		return models.UserDeleted
	}
	return ""
}

func decodeObject(body []byte, dst any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return models.Invalid("body", "a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return models.Invalid("body", "malformed JSON")
	}
	if dec.More() {
		return models.Invalid("body", "only one JSON object is allowed")
	}
	return nil
}

func clip(s string) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "")
	if len(s) <= maxFieldLen {
		return s
	}
	cut := maxFieldLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func firstNonEmpty(a, b looseString) looseString {
	if a != "" {
		return a
	}
	return b
}

// BodyKey is the dedupe key of a delivery that carries no identifier: the
// SHA-256 of its body, so a retried identical body has one effect.
func BodyKey(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}
