package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
