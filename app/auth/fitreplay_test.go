package auth

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFITReplayRefused: a FIT is accepted once; the same token again, or
// another token with its jti, is refused with ErrReplay, also when both
// arrive in parallel. A token refused for another reason does not use up
// its jti.
func TestFITReplayRefused(t *testing.T) {
	k := testKey(t, 0)
	srv := newJWKSServer(t, map[string]*rsa.PrivateKey{"fit-1": k})
	v := newTestFITVerifier(t, srv.URL, 5*time.Second)
	ctx := context.Background()
	rs := map[string]any{"alg": "RS256", "kid": "fit-1"}
	base := fitSample(t)

	wrongAud := signRS(t, rs, claims(base, map[string]any{"aud": "ari:cloud:ecosystem::app/other"}), k)
	if _, err := v.Verify(ctx, wrongAud); !errors.Is(err, ErrClaims) {
		t.Fatalf("wrong aud: %v", err)
	}
	tok := signRS(t, rs, base, k)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("first use (after a refused token with the same jti): %v", err)
	}
	if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrReplay) {
		t.Fatalf("second use: %v, want ErrReplay", err)
	}
	again := signRS(t, rs, claims(base, map[string]any{"exp": testNow.Add(20 * time.Second).Unix()}), k)
	if _, err := v.Verify(ctx, again); !errors.Is(err, ErrReplay) {
		t.Fatalf("another token with a used jti: %v, want ErrReplay", err)
	}

	parallel := signRS(t, rs, fitSample(t), k)
	var wg sync.WaitGroup
	var ok, replays atomic.Int32
	for range 16 {
		wg.Go(func() {
			switch _, err := v.Verify(ctx, parallel); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrReplay):
				replays.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || replays.Load() != 15 {
		t.Fatalf("16 parallel uses: %d accepted, %d replays; want 1 and 15", ok.Load(), replays.Load())
	}

	// The set is per verifier (per process): another one accepts the token.
	other := newTestFITVerifier(t, srv.URL, 5*time.Second)
	if _, err := other.Verify(ctx, tok); err != nil {
		t.Fatalf("another verifier: %v", err)
	}
}

// TestJTISetExpiresAndStaysBounded: a jti is held until its time, then
// forgotten; a full set drops the entries closest to expiry first.
func TestJTISetExpiresAndStaysBounded(t *testing.T) {
	var s jtiSet
	now := testNow
	if !s.use("a", now.Add(30*time.Second), now) || s.use("a", now.Add(30*time.Second), now.Add(29*time.Second)) {
		t.Fatal("a jti was accepted twice inside its lifetime")
	}
	if !s.use("a", now.Add(90*time.Second), now.Add(30*time.Second)) {
		t.Fatal("a jti was still held after its time")
	}
	if s.use("a", now.Add(90*time.Second), now.Add(60*time.Second)) {
		t.Fatal("a jti recorded again was forgotten with its older entry")
	}
	for i := range maxSeenJTIs + 10 {
		s.use(fmt.Sprintf("j-%d", i), now.Add(time.Hour+time.Duration(i)*time.Millisecond), now)
	}
	if len(s.until) > maxSeenJTIs || len(s.order) > maxSeenJTIs+1 {
		t.Fatalf("set holds %d jtis (%d heap entries), bound %d", len(s.until), len(s.order), maxSeenJTIs)
	}
	last := fmt.Sprintf("j-%d", maxSeenJTIs+9)
	if s.use(last, now.Add(2*time.Hour), now) {
		t.Error("the newest jti was dropped from a full set")
	}
	if !s.use("j-0", now.Add(2*time.Hour), now) {
		t.Error("a full set kept the entry closest to expiry")
	}
	// Expired entries go first.
	later := now.Add(3 * time.Hour)
	s.use("fresh", later.Add(time.Minute), later)
	if len(s.until) != 1 {
		t.Errorf("after every other entry expired the set holds %d jtis, want 1", len(s.until))
	}
}
