package auth

import (
	"context"
	"crypto/rsa"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// key finds kid in the cached JWKS. When kid is unknown (or the cache holds
// no set yet) it forces one refresh, at most once per forcedEvery.
func (v *FITVerifier) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	ctx, cancel := context.WithTimeout(ctx, jwksFetchTimeout)
	defer cancel()
	set, err := v.cache.Get(ctx, v.jwksURL)
	if err == nil {
		if k, ok := rsaKey(set, kid); ok {
			return k, nil
		}
	}
	if v.allowForcedRefresh() {
		set, err = v.cache.Refresh(ctx, v.jwksURL)
	} else {
		// Another caller may be refreshing right now; Get waits for it.
		set, err = v.cache.Get(ctx, v.jwksURL)
	}
	if err != nil {
		return nil, fmt.Errorf("fetch forge jwks: %w", err)
	}
	if k, ok := rsaKey(set, kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("fit kid %.64q: %w", kid, ErrUnknownKey)
}

func (v *FITVerifier) allowForcedRefresh() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := time.Now()
	if !v.lastForced.IsZero() && now.Sub(v.lastForced) < v.forcedEvery {
		return false
	}
	v.lastForced = now
	return true
}

// rsaKey returns the RSA signing key kid of set, refusing keys marked for
// another algorithm or use.
func rsaKey(set jwk.Set, kid string) (*rsa.PublicKey, bool) {
	if set == nil {
		return nil, false
	}
	k, ok := set.LookupKeyID(kid)
	if !ok || k.KeyType() != jwa.RSA {
		return nil, false
	}
	if alg := k.Algorithm().String(); alg != "" && alg != jwa.RS256.String() {
		return nil, false
	}
	if use := k.KeyUsage(); use != "" && use != "sig" {
		return nil, false
	}
	var raw any
	if err := k.Raw(&raw); err != nil {
		return nil, false
	}
	pub, ok := raw.(*rsa.PublicKey)
	if !ok || pub.N.BitLen() < minRSABits {
		return nil, false
	}
	return pub, true
}
