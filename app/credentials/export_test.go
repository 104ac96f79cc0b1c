package credentials

import "time"

// SetClock replaces the service's clock (tests only).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// SetClock replaces the verifier's clock (tests only). Call it before the
// verifier is shared with other goroutines.
func (v *Verifier) SetClock(now func() time.Time) { v.now = now }
