package oauth

import (
	"errors"
	"net/http"
)

// Error codes of RFC 6749 sections 4.1.2.1 and 5.2, RFC 7009 and RFC 7636.
const (
	ErrCodeInvalidRequest          = "invalid_request"
	ErrCodeInvalidClient           = "invalid_client"
	ErrCodeInvalidGrant            = "invalid_grant"
	ErrCodeUnauthorizedClient      = "unauthorized_client"
	ErrCodeUnsupportedGrantType    = "unsupported_grant_type"
	ErrCodeUnsupportedResponseType = "unsupported_response_type"
	ErrCodeUnsupportedTokenType    = "unsupported_token_type"
	ErrCodeInvalidScope            = "invalid_scope"
	ErrCodeAccessDenied            = "access_denied"
	ErrCodeServerError             = "server_error"
	ErrCodeTemporarilyUnavailable  = "temporarily_unavailable"
)

// Error is an OAuth protocol error, shown to the client as
// {"error": Code, "error_description": Description}.
type Error struct {
	Code        string
	Description string
	// Redirect says whether an authorization endpoint error may be sent
	// back to the client's redirect_uri. It is false for an unknown client
	// or redirect_uri: those get an error page, never a redirect.
	Redirect bool
	// BasicAuth marks an invalid_client after the client authenticated with
	// HTTP Basic, which calls for a WWW-Authenticate challenge.
	BasicAuth bool
}

func (e *Error) Error() string {
	if e.Description == "" {
		return "oauth: " + e.Code
	}
	return "oauth: " + e.Code + ": " + e.Description
}

// Status is the HTTP status of the error on the token, revocation and
// introspection endpoints.
func (e *Error) Status() int {
	switch e.Code {
	case ErrCodeInvalidClient:
		return http.StatusUnauthorized
	case ErrCodeServerError:
		return http.StatusInternalServerError
	case ErrCodeTemporarilyUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

func oerr(code, description string) *Error { return &Error{Code: code, Description: description} }

// redirectErr is an authorization error that goes back to the client.
func redirectErr(code, description string) *Error {
	return &Error{Code: code, Description: description, Redirect: true}
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
