package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/keyward/keyward/models"
)

// MaxBulkUsers is the most accountIds keyward puts in one user/bulk call.
const MaxBulkUsers = 90

// User is a Jira account as the user API returns it (unknown fields
// ignored).
type User struct {
	AccountID    string `json:"accountId"`
	AccountType  string `json:"accountType"`
	DisplayName  string `json:"displayName"`
	EmailAddress string `json:"emailAddress"`
	Active       bool   `json:"active"`
}

type bulkPage struct {
	Values  []User `json:"values"`
	IsLast  *bool  `json:"isLast"`
	Total   int    `json:"total"`
	StartAt int    `json:"startAt"`
}

// BulkUsers returns the accounts Jira knows among ids (at most
// MaxBulkUsers) through GET /rest/api/3/user/bulk, following pages when
// Jira splits the answer. Ids missing from the result are unknown or
// deleted accounts.
func (c *Client) BulkUsers(ctx context.Context, t *models.Tenant, ids []string) (map[string]User, error) {
	if len(ids) > MaxBulkUsers {
		return nil, fmt.Errorf("bulk users: %d ids, at most %d: %w", len(ids), MaxBulkUsers, models.ErrInvalid)
	}
	out := make(map[string]User, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	startAt := 0
	for page := 0; page < MaxBulkUsers; page++ {
		q := url.Values{"accountId": ids, "maxResults": {strconv.Itoa(MaxBulkUsers)}}
		if startAt > 0 {
			q.Set("startAt", strconv.Itoa(startAt))
		}
		resp, err := c.Do(ctx, t, http.MethodGet, "/rest/api/3/user/bulk", q, nil)
		if err != nil {
			return nil, err
		}
		var p bulkPage
		if err := json.Unmarshal(resp.Body, &p); err != nil {
			return nil, fmt.Errorf("decode user/bulk answer: %w", err)
		}
		for _, u := range p.Values {
			if u.AccountID != "" {
				out[u.AccountID] = u
			}
		}
		startAt += len(p.Values)
		last := p.IsLast == nil || *p.IsLast || len(p.Values) == 0
		if last || (p.Total > 0 && startAt >= p.Total) {
			return out, nil
		}
	}
	return out, nil
}
