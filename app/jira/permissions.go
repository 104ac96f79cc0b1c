package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/keyward/keyward/models"
)

// HasGlobalPermission asks Jira's bulk permission check whether a user holds
// a global permission (e.g. ADMINISTER) in the tenant's site:
// POST /rest/api/3/permissions/check {accountId, globalPermissions}.
func (c *Client) HasGlobalPermission(ctx context.Context, t *models.Tenant, accountID, permission string) (bool, error) {
	body := map[string]any{"accountId": accountID, "globalPermissions": []string{permission}}
	resp, err := c.Do(ctx, t, http.MethodPost, "/rest/api/3/permissions/check", nil, body)
	if err != nil {
		return false, err
	}
	var out struct {
		GlobalPermissions []string `json:"globalPermissions"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return false, fmt.Errorf("decode permission check: %w", err)
	}
	return slices.Contains(out.GlobalPermissions, permission), nil
}

// CanBrowseUsers reports whether keyward itself (the Connect app user, or
// the Forge app) holds Jira's "Browse users and groups" global permission
// (USER_PICKER): GET /rest/api/3/mypermissions. Without it the user APIs
// answer as if accounts did not exist, which must never be read as
// deletions.
func (c *Client) CanBrowseUsers(ctx context.Context, t *models.Tenant) (bool, error) {
	resp, err := c.Do(ctx, t, http.MethodGet, "/rest/api/3/mypermissions", url.Values{"permissions": {"USER_PICKER"}}, nil)
	if err != nil {
		return false, err
	}
	var out struct {
		Permissions map[string]struct {
			HavePermission *bool `json:"havePermission"`
		} `json:"permissions"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return false, fmt.Errorf("decode mypermissions: %w: %w", ErrBadAnswer, err)
	}
	p, ok := out.Permissions["USER_PICKER"]
	if !ok || p.HavePermission == nil {
		return false, fmt.Errorf("mypermissions answer without USER_PICKER (%q): %w", clipBody(resp.Body), ErrBadAnswer)
	}
	return *p.HavePermission, nil
}
