package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/inventory"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// InventoryService is the admin console's service as the admin API uses it.
type InventoryService interface {
	List(ctx context.Context, tenantID string, in inventory.ListInput) (*inventory.Page, error)
	Get(ctx context.Context, tenantID, id string) (*inventory.Detail, error)
	Revoke(ctx context.Context, a inventory.Admin, id, reason string) (*store.InventoryCredential, error)
	RevokeUser(ctx context.Context, a inventory.Admin, accountID, reason string) (int, error)
	PreviewRevoke(ctx context.Context, a inventory.Admin, sel inventory.Selection) (*inventory.Preview, error)
	ConfirmRevoke(ctx context.Context, a inventory.Admin, token, reason string) (int, error)
	Users(ctx context.Context, tenantID string, in inventory.UsersInput) (*inventory.UsersPage, error)
	AccessLog(ctx context.Context, tenantID string, in inventory.AccessLogInput) (*inventory.AccessLogPage, error)
	ExportCredentials(ctx context.Context, a inventory.Admin, f inventory.Filter, sort inventory.Sort, format string) (*inventory.CredentialExport, error)
	ExportAccessLog(ctx context.Context, a inventory.Admin, f inventory.AccessLogFilter, format string) (*inventory.AccessLogExport, error)
}

type inventoryHandlers struct {
	svc InventoryService
	log *logrus.Entry
}

func (h *inventoryHandlers) register(g *echo.Group) {
	g.GET("/credentials", h.list)
	g.POST("/credentials/revoke/preview", h.preview)
	g.POST("/credentials/revoke", h.confirm)
	g.GET("/credentials/:id", h.get)
	g.POST("/credentials/:id/revoke", h.revoke)
	g.GET("/users", h.users)
	g.POST("/users/:accountId/revoke", h.revokeUser)
	g.GET("/access-log", h.accessLog)
	g.GET("/export/credentials", h.exportCredentials)
	g.GET("/export/access-log", h.exportAccessLog)
}

func adminOf(c echo.Context) (inventory.Admin, error) {
	p, err := userPrincipal(c)
	if err != nil {
		return inventory.Admin{}, err
	}
	return inventory.Admin{TenantID: p.Tenant.ID, AccountID: p.AccountID}, nil
}

// pathParam returns a path parameter, unescaped (accountIds carry ':').
func pathParam(c echo.Context, name string) string {
	v := c.Param(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// --- DTOs ---------------------------------------------------------------

// adminCredentialDTO is a credential as the admin API shows it: never a
// secret, only its hint; absent values are null.
type adminCredentialDTO struct {
	ID           string     `json:"id"`
	Kind         string     `json:"kind"`
	Name         string     `json:"name"`
	Hint         string     `json:"hint"`
	Access       string     `json:"access"`
	Scopes       []string   `json:"scopes"`
	Status       string     `json:"status"`
	Owner        ownerDTO   `json:"owner"`
	CreatedAt    time.Time  `json:"createdAt"`
	ExpiresAt    *time.Time `json:"expiresAt"`
	LastUsedAt   *time.Time `json:"lastUsedAt"`
	LastUsedIP   *string    `json:"lastUsedIp"`
	LastUsedUA   *string    `json:"lastUsedUserAgent"`
	UseCount     int64      `json:"useCount"`
	RevokedAt    *time.Time `json:"revokedAt"`
	RevokedBy    *string    `json:"revokedBy"`
	RevokeReason *string    `json:"revokeReason"`
	ClientID     *string    `json:"clientId"`
}

type ownerDTO struct {
	AccountID   string  `json:"accountId"`
	DisplayName *string `json:"displayName"`
	Active      bool    `json:"active"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toAdminCredential(c *store.InventoryCredential, now time.Time) adminCredentialDTO {
	k := toKeyDTO(&c.Credential, now)
	return adminCredentialDTO{
		ID: c.ID, Kind: string(c.Kind), Name: c.Name, Hint: c.Hint, Access: k.Access, Scopes: k.Scopes, Status: k.Status,
		Owner:     ownerDTO{AccountID: c.OwnerAccountID, DisplayName: nullable(c.OwnerDisplayName), Active: c.OwnerActive},
		CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt, LastUsedAt: c.LastUsedAt, LastUsedIP: nullable(c.LastUsedIP), LastUsedUA: nullable(c.LastUsedUA),
		UseCount: c.UseCount, RevokedAt: c.RevokedAt, RevokedBy: nullable(c.RevokedBy), RevokeReason: nullable(c.RevokeReason), ClientID: nullable(c.ClientID),
	}
}

func toAdminCredentials(rows []store.InventoryCredential, now time.Time) []adminCredentialDTO {
	out := make([]adminCredentialDTO, len(rows))
	for i := range rows {
		out[i] = toAdminCredential(&rows[i], now)
	}
	return out
}

type totalDTO struct {
	Value int64 `json:"value"`
	Exact bool  `json:"exact"`
}

type credentialPageDTO struct {
	Items      []adminCredentialDTO `json:"items"`
	NextCursor *string              `json:"nextCursor"`
	Total      totalDTO             `json:"total"`
}

func toAccessLogDTOs(entries []models.AccessLogEntry) []accessLogDTO {
	out := make([]accessLogDTO, len(entries))
	for i, e := range entries {
		out[i] = accessLogDTO{ID: e.ID, At: e.At, CredentialID: e.CredentialID, Kind: string(e.CredentialKind), Owner: e.OwnerAccountID,
			Method: e.Method, Path: e.Path, Decision: string(e.Decision), Reason: e.Reason, IP: e.IP, UserAgent: e.UserAgent}
	}
	return out
}

// --- handlers -----------------------------------------------------------

func (h *inventoryHandlers) list(c echo.Context) error {
	a, err := adminOf(c)
	if err != nil {
		return err
	}
	in, err := listInput(c)
	if err != nil {
		return err
	}
	page, err := h.svc.List(c.Request().Context(), a.TenantID, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, credentialPageDTO{Items: toAdminCredentials(page.Items, page.At), NextCursor: nullable(page.NextCursor),
		Total: totalDTO{Value: page.Total, Exact: page.TotalExact}})
}

// listInput reads the list query, reporting every bad parameter at once.
func listInput(c echo.Context) (inventory.ListInput, error) {
	v := &models.ValidationError{}
	f, err := inventory.ParseFilter(c.QueryParam)
	collect(v, err)
	sort, err := inventory.ParseSort(c.QueryParam("sort"))
	collect(v, err)
	limit, err := inventory.ParseLimit(c.QueryParam("limit"))
	collect(v, err)
	return inventory.ListInput{Filter: f, Sort: sort, Cursor: c.QueryParam("cursor"), Limit: limit}, v.Err()
}

func collect(v *models.ValidationError, err error) {
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		v.Fields = append(v.Fields, ve.Fields...)
	} else if err != nil {
		v.Add("query", err.Error())
	}
}

func (h *inventoryHandlers) get(c echo.Context) error {
	a, err := adminOf(c)
	if err != nil {
		return err
	}
	d, err := h.svc.Get(c.Request().Context(), a.TenantID, pathParam(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"credential": toAdminCredential(&d.Credential, d.At), "recentAccess": toAccessLogDTOs(d.RecentAccess)})
}

type adminRevokeRequest struct {
	Reason string `json:"reason"`
}

func (h *inventoryHandlers) revoke(c echo.Context) error {
	a, err := adminOf(c)
	if err != nil {
		return err
	}
	var req adminRevokeRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	cred, err := h.svc.Revoke(c.Request().Context(), a, pathParam(c, "id"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAdminCredential(cred, time.Now()))
}

func (h *inventoryHandlers) revokeUser(c echo.Context) error {
	a, err := adminOf(c)
	if err != nil {
		return err
	}
	var req adminRevokeRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	n, err := h.svc.RevokeUser(c.Request().Context(), a, pathParam(c, "accountId"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"revoked": n})
}

type previewRequest struct {
	IDs    []string       `json:"ids"`
	Filter map[string]any `json:"filter"`
	All    bool           `json:"all"`
}

func (h *inventoryHandlers) preview(c echo.Context) error {
	a, err := adminOf(c)
	if err != nil {
		return err
	}
	var req previewRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	sel := inventory.Selection{IDs: req.IDs, All: req.All}
	if req.Filter != nil {
		f, err := inventory.FilterFromJSON(req.Filter)
		if err != nil {
			return err
		}
		sel.Filter = &f
	}
	p, err := h.svc.PreviewRevoke(c.Request().Context(), a, sel)
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, map[string]any{"count": p.Count, "sample": toAdminCredentials(p.Sample, p.At), "confirmation": p.Confirmation, "expiresAt": p.ExpiresAt})
}

type confirmRequest struct {
	Confirmation string `json:"confirmation"`
	Reason       string `json:"reason"`
}

func (h *inventoryHandlers) confirm(c echo.Context) error {
	a, err := adminOf(c)
	if err != nil {
		return err
	}
	var req confirmRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	n, err := h.svc.ConfirmRevoke(c.Request().Context(), a, req.Confirmation, req.Reason)
	switch {
	case errors.Is(err, inventory.ErrConfirmationUnknown):
		return newAPIError(http.StatusBadRequest, "invalid_confirmation", "this confirmation token is unknown: preview the revocation again")
	case errors.Is(err, inventory.ErrConfirmationNotMine):
		return newAPIError(http.StatusForbidden, "confirmation_not_yours", "this confirmation token was issued to another administrator")
	case errors.Is(err, inventory.ErrConfirmationUsed):
		return newAPIError(http.StatusConflict, "confirmation_used", "this confirmation token was already used")
	case errors.Is(err, inventory.ErrConfirmationExpired):
		return newAPIError(http.StatusConflict, "confirmation_expired", "this confirmation token expired: preview the revocation again")
	case errors.Is(err, inventory.ErrSelectionChanged):
		// Grown (e.g. owners deactivated) or shrunk (e.g. a previewed key
		// revoked meanwhile): either way not what the admin confirmed.
		return newAPIError(http.StatusConflict, "selection_changed", "the selection changed since the preview; nothing was revoked: preview again")
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"revoked": n})
}

type userDTO struct {
	AccountID         string     `json:"accountId"`
	DisplayName       *string    `json:"displayName"`
	Active            bool       `json:"active"`
	ActiveCredentials int64      `json:"activeCredentials"`
	TotalCredentials  int64      `json:"totalCredentials"`
	LastUsedAt        *time.Time `json:"lastUsedAt"`
}

func (h *inventoryHandlers) users(c echo.Context) error {
	a, err := adminOf(c)
	if err != nil {
		return err
	}
	v := &models.ValidationError{}
	limit, err := inventory.ParseLimit(c.QueryParam("limit"))
	collect(v, err)
	inactive := false
	switch c.QueryParam("ownerInactive") {
	case "", "false", "0":
	case "true", "1":
		inactive = true
	default:
		v.Add("ownerInactive", "must be true or false")
	}
	if err := v.Err(); err != nil {
		return err
	}
	page, err := h.svc.Users(c.Request().Context(), a.TenantID, inventory.UsersInput{Q: c.QueryParam("q"), OwnerInactive: inactive, Cursor: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	items := make([]userDTO, len(page.Items))
	for i, u := range page.Items {
		items[i] = userDTO{AccountID: u.AccountID, DisplayName: nullable(u.DisplayName), Active: u.Active,
			ActiveCredentials: u.ActiveCredentials, TotalCredentials: u.TotalCredentials, LastUsedAt: u.LastUsedAt}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "nextCursor": nullable(page.NextCursor)})
}

func (h *inventoryHandlers) accessLog(c echo.Context) error {
	a, err := adminOf(c)
	if err != nil {
		return err
	}
	v := &models.ValidationError{}
	f, err := inventory.ParseAccessLogFilter(c.QueryParam)
	collect(v, err)
	limit, err := inventory.ParseLimit(c.QueryParam("limit"))
	collect(v, err)
	if err := v.Err(); err != nil {
		return err
	}
	page, err := h.svc.AccessLog(c.Request().Context(), a.TenantID, inventory.AccessLogInput{Filter: f, Cursor: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": toAccessLogDTOs(page.Items), "nextCursor": nullable(page.NextCursor)})
}
