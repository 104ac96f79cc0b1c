package auth

import "errors"

// Sentinel errors returned (wrapped) by the verifiers. Test them with
// errors.Is; the wrapping message says what exactly failed.
var (
	// ErrMalformed means the token is not a well-formed compact JWS/JWT.
	ErrMalformed = errors.New("malformed token")
	// ErrExpired means the token's exp lies in the past, beyond the leeway.
	ErrExpired = errors.New("token expired")
	// ErrSignature means the signature does not verify with the expected key.
	ErrSignature = errors.New("invalid token signature")
	// ErrAlgorithm means the header names an algorithm this path refuses.
	ErrAlgorithm = errors.New("token algorithm not allowed")
	// ErrClaims means a required claim is missing or has the wrong value.
	ErrClaims = errors.New("invalid token claims")
	// ErrQSH means the qsh claim is missing or does not match the request.
	ErrQSH = errors.New("query string hash mismatch")
	// ErrUnknownIssuer means there is no installation for the token's clientKey.
	ErrUnknownIssuer = errors.New("unknown token issuer")
	// ErrUnknownKey means no public key is known for the token's kid.
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrReplay means a single-use token (a Forge Invocation Token's jti)
	// was presented again.
	ErrReplay = errors.New("token already used")
)
