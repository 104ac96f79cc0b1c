package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keyward/keyward/app/oauth"
	"github.com/keyward/keyward/models"
)

// grantHandlers serve the consent page's API and "apps you authorized".
type grantHandlers struct {
	svc OAuthServer
}

func oauthUser(c echo.Context) (oauth.User, error) {
	p, err := userPrincipal(c)
	if err != nil {
		return oauth.User{}, err
	}
	return oauth.User{Tenant: p.Tenant, AccountID: p.AccountID}, nil
}

type consentClientDTO struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type consentRequestDTO struct {
	ID           string           `json:"id"`
	Client       consentClientDTO `json:"client"`
	Scopes       []string         `json:"scopes"`
	Site         string           `json:"site"`
	RedirectHost string           `json:"redirectHost"`
	ExpiresAt    time.Time        `json:"expiresAt"`
	Allowed      bool             `json:"allowed"` // false: the user may only deny
}

// request shows a pending authorization request to the consent page.
func (h *grantHandlers) request(c echo.Context) error {
	u, err := oauthUser(c)
	if err != nil {
		return err
	}
	p, err := h.svc.PendingRequest(c.Request().Context(), u, c.Param("id"))
	if err != nil {
		return err
	}
	site := u.Tenant.DisplayURL
	if site == "" {
		site = u.Tenant.BaseURL
	}
	noStore(c)
	return c.JSON(http.StatusOK, consentRequestDTO{
		ID: p.Request.ID, Client: consentClientDTO{ID: p.Client.ID, Name: p.Client.Name}, Scopes: splitScopes(p.Request.Scopes),
		Site: site, RedirectHost: p.RedirectHost(), ExpiresAt: p.Request.ExpiresAt, Allowed: p.Allowed,
	})
}

type decisionRequest struct {
	Approve *bool `json:"approve"`
}

// decide records approve or deny and tells the page where to send the top
// window.
func (h *grantHandlers) decide(c echo.Context) error {
	u, err := oauthUser(c)
	if err != nil {
		return err
	}
	var req decisionRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.Approve == nil {
		return models.Invalid("approve", "required (true or false)")
	}
	to, err := h.svc.Decide(c.Request().Context(), u, c.Param("id"), *req.Approve)
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, map[string]string{"redirectTo": to})
}

// grantDTO is an app the user authorized.
type grantDTO struct {
	ID           string     `json:"id"`
	ClientID     string     `json:"clientId"`
	ClientName   string     `json:"clientName"`
	Scopes       []string   `json:"scopes"`
	Status       string     `json:"status"`
	CreatedAt    time.Time  `json:"createdAt"`
	ExpiresAt    *time.Time `json:"expiresAt,omitempty"`
	LastUsedAt   *time.Time `json:"lastUsedAt,omitempty"`
	LastUsedIP   string     `json:"lastUsedIp,omitempty"`
	RevokedAt    *time.Time `json:"revokedAt,omitempty"`
	RevokedBy    string     `json:"revokedBy,omitempty"`
	RevokeReason string     `json:"revokeReason,omitempty"`
	UseCount     int64      `json:"useCount"`
}

func toGrantDTO(g *models.Credential, now time.Time) grantDTO {
	return grantDTO{
		ID: g.ID, ClientID: g.ClientID, ClientName: g.Name, Scopes: splitScopes(g.Scopes), Status: string(g.Status(now)),
		CreatedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt, LastUsedAt: g.LastUsedAt, LastUsedIP: g.LastUsedIP,
		RevokedAt: g.RevokedAt, RevokedBy: g.RevokedBy, RevokeReason: g.RevokeReason, UseCount: g.UseCount,
	}
}

func (h *grantHandlers) list(c echo.Context) error {
	u, err := oauthUser(c)
	if err != nil {
		return err
	}
	grants, err := h.svc.Grants(c.Request().Context(), u)
	if err != nil {
		return err
	}
	now := time.Now()
	items := make([]grantDTO, 0, len(grants))
	for i := range grants {
		items = append(items, toGrantDTO(&grants[i], now))
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func (h *grantHandlers) revoke(c echo.Context) error {
	u, err := oauthUser(c)
	if err != nil {
		return err
	}
	var req revokeRequest
	if c.Request().ContentLength != 0 {
		if err := bindJSON(c, &req); err != nil {
			return err
		}
	}
	g, err := h.svc.RevokeOwnGrant(c.Request().Context(), u, c.Param("id"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toGrantDTO(g, time.Now()))
}
