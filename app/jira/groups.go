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

// IsGroupMember reports whether a user belongs to any of the groups, named
// by groupId (preferred) or group name, using
// GET /rest/api/3/user/groups?accountId= (the user's direct and nested
// groups). It needs the READ scope.
func (c *Client) IsGroupMember(ctx context.Context, t *models.Tenant, accountID string, groups []string) (bool, error) {
	if accountID == "" || len(groups) == 0 {
		return false, nil
	}
	resp, err := c.Do(ctx, t, http.MethodGet, "/rest/api/3/user/groups", url.Values{"accountId": {accountID}}, nil)
	if err != nil {
		return false, err
	}
	var out []struct {
		Name    string `json:"name"`
		GroupID string `json:"groupId"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return false, fmt.Errorf("decode user groups: %w", err)
	}
	for _, g := range out {
		if (g.GroupID != "" && slices.Contains(groups, g.GroupID)) || (g.Name != "" && slices.Contains(groups, g.Name)) {
			return true, nil
		}
	}
	return false, nil
}
