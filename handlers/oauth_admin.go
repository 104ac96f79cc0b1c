package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keyward/keyward/app/oauth"
	"github.com/keyward/keyward/models"
)

// OAuthClientAdmin is OAuth client management for site admins.
type OAuthClientAdmin interface {
	CreateClient(ctx context.Context, a oauth.Admin, in oauth.ClientInput) (*oauth.IssuedClient, error)
	Clients(ctx context.Context, a oauth.Admin) ([]models.OAuthClient, error)
	Client(ctx context.Context, a oauth.Admin, id string) (*models.OAuthClient, error)
	UpdateClient(ctx context.Context, a oauth.Admin, id string, in oauth.ClientInput) (*models.OAuthClient, error)
	RotateSecret(ctx context.Context, a oauth.Admin, id string) (*oauth.IssuedClient, error)
	RevokeClientGrants(ctx context.Context, a oauth.Admin, id, reason string) ([]models.Credential, error)
	DeleteClient(ctx context.Context, a oauth.Admin, id, reason string) error
}

type oauthAdminHandlers struct {
	svc OAuthClientAdmin
}

func oauthAdmin(c echo.Context) (oauth.Admin, error) {
	p, err := userPrincipal(c)
	if err != nil {
		return oauth.Admin{}, err
	}
	return oauth.Admin{TenantID: p.Tenant.ID, AccountID: p.AccountID}, nil
}

// clientDTO is an OAuth client as the admin API shows it: never its secret.
type clientDTO struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Owner         string     `json:"owner"`
	Type          string     `json:"type"`
	RedirectURIs  []string   `json:"redirectUris"`
	AllowedScopes []string   `json:"allowedScopes"`
	AllowedUsers  []string   `json:"allowedUsers"`
	AllowedGroups []string   `json:"allowedGroups"`
	SecretHint    string     `json:"secretHint,omitempty"`
	CreatedBy     string     `json:"createdBy"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
	Disabled      bool       `json:"disabled"`
	DisabledAt    *time.Time `json:"disabledAt,omitempty"`
}

func toClientDTO(c *models.OAuthClient) clientDTO {
	return clientDTO{
		ID: c.ID, Name: c.Name, Owner: c.OwnerAccountID, Type: string(c.Type), RedirectURIs: nonNil(c.RedirectURIs),
		AllowedScopes: splitScopes(c.AllowedScopes), AllowedUsers: nonNil(c.AllowedUsers), AllowedGroups: nonNil(c.AllowedGroups),
		SecretHint: c.SecretHint, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Disabled: c.DisabledAt != nil, DisabledAt: c.DisabledAt,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type clientRequest struct {
	Name          *string   `json:"name"`
	Owner         *string   `json:"owner"`
	Type          string    `json:"type"`
	RedirectURIs  *[]string `json:"redirectUris"`
	AllowedScopes *[]string `json:"allowedScopes"`
	AllowedUsers  *[]string `json:"allowedUsers"`
	AllowedGroups *[]string `json:"allowedGroups"`
	Disabled      *bool     `json:"disabled"`
}

func (r *clientRequest) input() oauth.ClientInput {
	in := oauth.ClientInput{Name: r.Name, Owner: r.Owner, Type: models.OAuthClientType(r.Type), Disabled: r.Disabled}
	deref := func(p *[]string) []string {
		if p == nil {
			return nil
		}
		if *p == nil {
			return []string{}
		}
		return *p
	}
	in.RedirectURIs, in.AllowedScopes, in.AllowedUsers, in.AllowedGroups = deref(r.RedirectURIs), deref(r.AllowedScopes), deref(r.AllowedUsers), deref(r.AllowedGroups)
	return in
}

type issuedClientResponse struct {
	Client       clientDTO `json:"client"`
	ClientSecret string    `json:"clientSecret,omitempty"`
	Notice       string    `json:"notice,omitempty"`
}

func issuedClient(ic *oauth.IssuedClient) issuedClientResponse {
	out := issuedClientResponse{Client: toClientDTO(&ic.Client), ClientSecret: ic.Secret}
	if ic.Secret != "" {
		out.Notice = secretNotice
	}
	return out
}

func (h *oauthAdminHandlers) list(c echo.Context) error {
	a, err := oauthAdmin(c)
	if err != nil {
		return err
	}
	clients, err := h.svc.Clients(c.Request().Context(), a)
	if err != nil {
		return err
	}
	items := make([]clientDTO, 0, len(clients))
	for i := range clients {
		items = append(items, toClientDTO(&clients[i]))
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func (h *oauthAdminHandlers) create(c echo.Context) error {
	a, err := oauthAdmin(c)
	if err != nil {
		return err
	}
	var req clientRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ic, err := h.svc.CreateClient(c.Request().Context(), a, req.input())
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusCreated, issuedClient(ic))
}

func (h *oauthAdminHandlers) get(c echo.Context) error {
	a, err := oauthAdmin(c)
	if err != nil {
		return err
	}
	cl, err := h.svc.Client(c.Request().Context(), a, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toClientDTO(cl))
}

func (h *oauthAdminHandlers) update(c echo.Context) error {
	a, err := oauthAdmin(c)
	if err != nil {
		return err
	}
	var req clientRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.Type != "" {
		return models.Invalid("type", "cannot be changed; register a new app instead")
	}
	cl, err := h.svc.UpdateClient(c.Request().Context(), a, c.Param("id"), req.input())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toClientDTO(cl))
}

func (h *oauthAdminHandlers) delete(c echo.Context) error {
	a, err := oauthAdmin(c)
	if err != nil {
		return err
	}
	var req revokeRequest
	if c.Request().ContentLength != 0 {
		if err := bindJSON(c, &req); err != nil {
			return err
		}
	}
	if err := h.svc.DeleteClient(c.Request().Context(), a, c.Param("id"), req.Reason); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *oauthAdminHandlers) rotateSecret(c echo.Context) error {
	a, err := oauthAdmin(c)
	if err != nil {
		return err
	}
	ic, err := h.svc.RotateSecret(c.Request().Context(), a, c.Param("id"))
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, issuedClient(ic))
}

func (h *oauthAdminHandlers) revokeGrants(c echo.Context) error {
	a, err := oauthAdmin(c)
	if err != nil {
		return err
	}
	var req revokeRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	revoked, err := h.svc.RevokeClientGrants(c.Request().Context(), a, c.Param("id"), req.Reason)
	if err != nil {
		return err
	}
	ids := make([]string, len(revoked))
	for i := range revoked {
		ids[i] = revoked[i].ID
	}
	return c.JSON(http.StatusOK, map[string]any{"revoked": len(revoked), "grantIds": ids})
}
