package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// KeyService is the API key service as the self-service API uses it.
type KeyService interface {
	CreateKey(ctx context.Context, o credentials.Owner, in credentials.CreateKeyInput) (*credentials.IssuedKey, error)
	ListKeys(ctx context.Context, o credentials.Owner) ([]models.Credential, error)
	GetKey(ctx context.Context, o credentials.Owner, id string) (*models.Credential, error)
	RegenerateKey(ctx context.Context, o credentials.Owner, id string, overlapMinutes int) (*credentials.IssuedKey, error)
	RevokeKey(ctx context.Context, o credentials.Owner, id, reason string) (*models.Credential, error)
}

// AccessLogReader reads the access log.
type AccessLogReader interface {
	List(ctx context.Context, f store.AccessLogFilter) ([]models.AccessLogEntry, error)
}

// MaxKeyLifetime tells a site's upper bound of key lifetimes.
type MaxKeyLifetime interface {
	MaxKeyLifetimeDays(t *models.Tenant) int
}

type keyHandlers struct {
	keys     KeyService
	log      AccessLogReader
	lifetime MaxKeyLifetime
}

// keyDTO is an API key as the API shows it: never a secret, only its hint.
type keyDTO struct {
	ID           string     `json:"id"`
	Kind         string     `json:"kind"`
	Name         string     `json:"name"`
	Hint         string     `json:"hint"`
	Access       string     `json:"access"`
	Scopes       []string   `json:"scopes"`
	Status       string     `json:"status"`
	CreatedAt    time.Time  `json:"createdAt"`
	ExpiresAt    *time.Time `json:"expiresAt,omitempty"`
	RevokedAt    *time.Time `json:"revokedAt,omitempty"`
	RevokedBy    string     `json:"revokedBy,omitempty"`
	RevokeReason string     `json:"revokeReason,omitempty"`
	LastUsedAt   *time.Time `json:"lastUsedAt,omitempty"`
	LastUsedIP   string     `json:"lastUsedIp,omitempty"`
	LastUsedUA   string     `json:"lastUsedUserAgent,omitempty"`
	UseCount     int64      `json:"useCount"`
}

func toKeyDTO(c *models.Credential, now time.Time) keyDTO {
	scopes := splitScopes(c.Scopes)
	access := credentials.AccessCustom
	if len(scopes) == 1 && scopes[0] == "full" {
		access, scopes = credentials.AccessFull, []string{}
	}
	return keyDTO{
		ID: c.ID, Kind: string(c.Kind), Name: c.Name, Hint: c.Hint, Access: access, Scopes: scopes, Status: string(c.Status(now)),
		CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt, RevokedAt: c.RevokedAt, RevokedBy: c.RevokedBy, RevokeReason: c.RevokeReason,
		LastUsedAt: c.LastUsedAt, LastUsedIP: c.LastUsedIP, LastUsedUA: c.LastUsedUA, UseCount: c.UseCount,
	}
}

func splitScopes(s string) []string {
	out := []string{}
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return out
}

func (h *keyHandlers) owner(c echo.Context) (credentials.Owner, error) {
	p, err := userPrincipal(c)
	if err != nil {
		return credentials.Owner{}, err
	}
	return credentials.Owner{TenantID: p.Tenant.ID, AccountID: p.AccountID, MaxLifetimeDays: h.lifetime.MaxKeyLifetimeDays(p.Tenant)}, nil
}

type createKeyRequest struct {
	Name          string   `json:"name"`
	ExpiresInDays *int     `json:"expiresInDays"`
	Access        string   `json:"access"`
	Scopes        []string `json:"scopes"`
}

type issuedKeyResponse struct {
	Key    keyDTO `json:"key"`
	Secret string `json:"secret"`
	Notice string `json:"notice"`
}

const secretNotice = "Copy this secret now: it is shown only once and cannot be recovered."

func (h *keyHandlers) create(c echo.Context) error {
	o, err := h.owner(c)
	if err != nil {
		return err
	}
	var req createKeyRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	issued, err := h.keys.CreateKey(c.Request().Context(), o, credentials.CreateKeyInput{Name: req.Name, ExpiresInDays: req.ExpiresInDays, Access: req.Access, Scopes: req.Scopes})
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusCreated, issuedKeyResponse{Key: toKeyDTO(&issued.Key, time.Now()), Secret: issued.Secret, Notice: secretNotice})
}

func (h *keyHandlers) list(c echo.Context) error {
	o, err := h.owner(c)
	if err != nil {
		return err
	}
	keys, err := h.keys.ListKeys(c.Request().Context(), o)
	if err != nil {
		return err
	}
	now := time.Now()
	items := make([]keyDTO, 0, len(keys))
	for i := range keys {
		items = append(items, toKeyDTO(&keys[i], now))
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func (h *keyHandlers) get(c echo.Context) error {
	o, err := h.owner(c)
	if err != nil {
		return err
	}
	k, err := h.keys.GetKey(c.Request().Context(), o, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toKeyDTO(k, time.Now()))
}

type regenerateRequest struct {
	OverlapMinutes int `json:"overlapMinutes"`
}

func (h *keyHandlers) regenerate(c echo.Context) error {
	o, err := h.owner(c)
	if err != nil {
		return err
	}
	var req regenerateRequest
	if c.Request().ContentLength != 0 {
		if err := bindJSON(c, &req); err != nil {
			return err
		}
	}
	issued, err := h.keys.RegenerateKey(c.Request().Context(), o, c.Param("id"), req.OverlapMinutes)
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, issuedKeyResponse{Key: toKeyDTO(&issued.Key, time.Now()), Secret: issued.Secret, Notice: secretNotice})
}

type revokeRequest struct {
	Reason string `json:"reason"`
}

func (h *keyHandlers) revoke(c echo.Context) error {
	o, err := h.owner(c)
	if err != nil {
		return err
	}
	var req revokeRequest
	if c.Request().ContentLength != 0 {
		if err := bindJSON(c, &req); err != nil {
			return err
		}
	}
	k, err := h.keys.RevokeKey(c.Request().Context(), o, c.Param("id"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toKeyDTO(k, time.Now()))
}

// accessLog lists the access log of one of the caller's keys.
func (h *keyHandlers) accessLog(c echo.Context) error {
	o, err := h.owner(c)
	if err != nil {
		return err
	}
	k, err := h.keys.GetKey(c.Request().Context(), o, c.Param("id"))
	if err != nil {
		return err
	}
	f := store.AccessLogFilter{TenantID: o.TenantID, CredentialID: k.ID, OwnerID: o.AccountID}
	if err := parsePage(c, &f.BeforeID, &f.Limit); err != nil {
		return err
	}
	entries, err := h.log.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, accessLogPage(entries, f.Limit))
}

type accessLogDTO struct {
	ID           int64     `json:"id"`
	At           time.Time `json:"at"`
	CredentialID string    `json:"credentialId"`
	Kind         string    `json:"kind"`
	Owner        string    `json:"ownerAccountId"`
	Method       string    `json:"method"`
	Path         string    `json:"path"`
	Decision     string    `json:"decision"`
	Reason       string    `json:"reason,omitempty"`
	IP           string    `json:"ip"`
	UserAgent    string    `json:"userAgent"`
}

func accessLogPage(entries []models.AccessLogEntry, limit int) map[string]any {
	items := make([]accessLogDTO, 0, len(entries))
	for _, e := range entries {
		items = append(items, accessLogDTO{ID: e.ID, At: e.At, CredentialID: e.CredentialID, Kind: string(e.CredentialKind), Owner: e.OwnerAccountID, Method: e.Method, Path: e.Path, Decision: string(e.Decision), Reason: e.Reason, IP: e.IP, UserAgent: e.UserAgent})
	}
	page := map[string]any{"items": items}
	if len(entries) == limit && limit > 0 {
		page["nextCursor"] = strconv.FormatInt(entries[len(entries)-1].ID, 10)
	}
	return page
}

// parsePage reads ?cursor= (an id) and ?limit= (1..1000, default 100).
func parsePage(c echo.Context, before *int64, limit *int) error {
	v := &models.ValidationError{}
	*limit = 100
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			v.Add("limit", "must be an integer from 1 to 1000")
		}
		*limit = n
	}
	if s := c.QueryParam("cursor"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			v.Add("cursor", "invalid cursor")
		}
		*before = n
	}
	return v.Err()
}

func noStore(c echo.Context) {
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Pragma", "no-cache")
}
