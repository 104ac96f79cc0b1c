package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// maxLeeway caps every clock leeway: Atlassian's own Java library allows 30 s.
const maxLeeway = 30 * time.Second

// clampLeeway keeps a configured leeway within [0, maxLeeway].
func clampLeeway(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	if d > maxLeeway {
		return maxLeeway
	}
	return d
}

// nowOr returns now() or, when now is nil, the wall clock.
func nowOr(now func() time.Time) time.Time {
	if now == nil {
		return time.Now()
	}
	return now()
}

// numericDate is a JWT NumericDate: seconds since the epoch, possibly
// fractional. Strings, negatives and absurd values are refused.
type numericDate struct{ time.Time }

// maxNumericDate is 9999-12-31T23:59:59Z.
const maxNumericDate = 253402300799

func (d *numericDate) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return fmt.Errorf("invalid numeric date %.32q", b)
	}
	sec, frac := math.Modf(f)
	d.Time = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return nil
}

// audience is the aud claim: a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*a = l
	return nil
}

func (a audience) contains(s string) bool {
	for _, v := range a {
		if v == s {
			return true
		}
	}
	return false
}

// timeClaims are the registered time claims shared by every token kind.
type timeClaims struct {
	IssuedAt  *numericDate `json:"iat"`
	ExpiresAt *numericDate `json:"exp"`
	NotBefore *numericDate `json:"nbf"`
}

// validate requires exp and iat and checks exp, iat and (when present) nbf
// against now with the given leeway.
func (t timeClaims) validate(now time.Time, leeway time.Duration) error {
	if t.ExpiresAt == nil {
		return fmt.Errorf("missing exp: %w", ErrClaims)
	}
	if t.IssuedAt == nil {
		return fmt.Errorf("missing iat: %w", ErrClaims)
	}
	if !now.Before(t.ExpiresAt.Add(leeway)) {
		return fmt.Errorf("expired at %s: %w", t.ExpiresAt.Format(time.RFC3339), ErrExpired)
	}
	if t.IssuedAt.After(now.Add(leeway)) {
		return fmt.Errorf("issued in the future (%s): %w", t.IssuedAt.Format(time.RFC3339), ErrClaims)
	}
	if t.NotBefore != nil && t.NotBefore.After(now.Add(leeway)) {
		return fmt.Errorf("not valid before %s: %w", t.NotBefore.Format(time.RFC3339), ErrClaims)
	}
	return nil
}

func (t timeClaims) issuedAt() time.Time  { return derefDate(t.IssuedAt) }
func (t timeClaims) expiresAt() time.Time { return derefDate(t.ExpiresAt) }

func derefDate(d *numericDate) time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.Time
}
