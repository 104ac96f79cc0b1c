package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/models"
)

// errorBody is the one error shape of the HTTP API.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string              `json:"code"`
	Message string              `json:"message"`
	Fields  []models.FieldError `json:"fields,omitempty"`
}

// apiError is an error with a chosen status, code and public message.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func newAPIError(status int, code, message string) error {
	return &apiError{status: status, code: code, message: message}
}

var errUnauthenticated = newAPIError(http.StatusUnauthorized, "unauthorized", "authentication required or invalid")

// errorHandler maps error kinds to statuses, hides internal messages and
// logs each failure once with request id and tenant.
func errorHandler(log *logrus.Entry) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, body := classify(err)
		entry := requestLog(c, log).WithField("status", status)
		if status >= 500 {
			entry.WithError(err).Error("request failed")
		} else {
			entry.WithField("reason", err.Error()).Info("request refused")
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, body)
	}
}

func classify(err error) (int, errorBody) {
	var (
		api *apiError
		ve  *models.ValidationError
		he  *echo.HTTPError
	)
	switch {
	case errors.As(err, &api):
		return api.status, errorBody{errorDetail{Code: api.code, Message: api.message}}
	case errors.As(err, &ve):
		return http.StatusBadRequest, errorBody{errorDetail{Code: "invalid_input", Message: "the request has invalid fields", Fields: ve.Fields}}
	case errors.Is(err, models.ErrInvalid):
		return http.StatusBadRequest, errorBody{errorDetail{Code: "invalid_input", Message: "the request is invalid"}}
	case errors.Is(err, models.ErrUnauthorized):
		return http.StatusUnauthorized, errorBody{errorDetail{Code: "unauthorized", Message: "authentication required or invalid"}}
	case errors.Is(err, models.ErrForbidden):
		return http.StatusForbidden, errorBody{errorDetail{Code: "forbidden", Message: "you are not allowed to do this"}}
	case errors.Is(err, models.ErrNotFound):
		return http.StatusNotFound, errorBody{errorDetail{Code: "not_found", Message: "not found"}}
	case errors.Is(err, models.ErrConflict):
		return http.StatusConflict, errorBody{errorDetail{Code: "conflict", Message: "the resource changed or already exists"}}
	case errors.Is(err, models.ErrUnavailable):
		return http.StatusServiceUnavailable, errorBody{errorDetail{Code: "unavailable", Message: "temporarily unavailable"}}
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && he.Code < 500 {
			msg = m
		}
		return he.Code, errorBody{errorDetail{Code: codeForStatus(he.Code), Message: msg}}
	default:
		return http.StatusInternalServerError, errorBody{errorDetail{Code: "internal", Message: "internal error"}}
	}
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusTooManyRequests:
		return "rate_limited"
	}
	if status >= 500 {
		return "internal"
	}
	return "bad_request"
}
