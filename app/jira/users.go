package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/keyward/keyward/models"
)

// MaxBulkUsers is the most accountIds keyward puts in one user/bulk call.
const MaxBulkUsers = 90

// ErrBadAnswer means Jira answered 2xx with a body that is not the
// expected page of users.
var ErrBadAnswer = errors.New("unexpected jira answer")

// User is a Jira account as the user API returns it (unknown fields
// ignored).
type User struct {
	AccountID    string `json:"accountId"`
	AccountType  string `json:"accountType"`
	DisplayName  string `json:"displayName"`
	EmailAddress string `json:"emailAddress"`
	Active       bool   `json:"active"`
}

// bulkPage is one page of a user/bulk answer (a PageBeanUser). Values is
// a pointer so that a missing or null "values" can be told from an empty
// page.
type bulkPage struct {
	Values        *[]bulkUser    `json:"values"`
	IsLast        *bool          `json:"isLast"`
	NextPage      string         `json:"nextPage"`
	Total         int            `json:"total"`
	ErrorMessages []string       `json:"errorMessages"`
	Errors        map[string]any `json:"errors"`
}

// bulkUser is a user as decoded: active must be present, never defaulted.
type bulkUser struct {
	AccountID    string `json:"accountId"`
	AccountType  string `json:"accountType"`
	DisplayName  string `json:"displayName"`
	EmailAddress string `json:"emailAddress"`
	Active       *bool  `json:"active"`
}

// BulkUsers returns the accounts Jira knows among ids (at most
// MaxBulkUsers) through GET /rest/api/3/user/bulk, following pages
// (isLast, nextPage, total) when Jira splits the answer. Ids missing from
// the result are unknown or deleted accounts, so only a well-formed answer
// counts: every page must carry a "values" array whose users have an
// accountId and an active flag, and an error body is refused
// (ErrBadAnswer). Whether a well-formed answer that misses many of the
// asked ids is believable is the caller's call (see offboard).
func (c *Client) BulkUsers(ctx context.Context, t *models.Tenant, ids []string) (map[string]User, error) {
	if len(ids) > MaxBulkUsers {
		return nil, fmt.Errorf("bulk users: %d ids, at most %d: %w", len(ids), MaxBulkUsers, models.ErrInvalid)
	}
	out := make(map[string]User, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	asked := make(map[string]bool, len(ids))
	for _, id := range ids {
		asked[id] = true
	}
	startAt := 0
	for range MaxBulkUsers + 1 {
		q := url.Values{"accountId": ids, "maxResults": {strconv.Itoa(MaxBulkUsers)}}
		if startAt > 0 {
			q.Set("startAt", strconv.Itoa(startAt))
		}
		resp, err := c.Do(ctx, t, http.MethodGet, "/rest/api/3/user/bulk", q, nil)
		if err != nil {
			return nil, err
		}
		values, last, err := decodeBulkPage(resp.Body)
		if err != nil {
			return nil, err
		}
		for _, u := range values {
			if asked[u.AccountID] {
				out[u.AccountID] = u
			}
		}
		startAt += len(values)
		if last.done(startAt) {
			return out, nil
		}
		if len(values) == 0 {
			return nil, fmt.Errorf("user/bulk: empty page at %d before the last: %w", startAt, ErrBadAnswer)
		}
	}
	return nil, fmt.Errorf("user/bulk: no last page after %d pages: %w", MaxBulkUsers+1, ErrBadAnswer)
}

// pageEnd is what a page says about the pages after it.
type pageEnd struct {
	isLast   *bool
	nextPage string
	total    int
}

// done reports whether nothing follows once next results were read: the
// page says isLast, or, when it does not say, names no next page; a total
// already reached ends it too.
func (e pageEnd) done(next int) bool {
	if e.total > 0 && next >= e.total {
		return true
	}
	if e.isLast != nil {
		return *e.isLast
	}
	return e.nextPage == ""
}

// decodeBulkPage reads one user/bulk page and refuses anything that is not
// one (see BulkUsers).
func decodeBulkPage(body []byte) ([]User, pageEnd, error) {
	var p bulkPage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, pageEnd{}, fmt.Errorf("decode user/bulk answer: %w: %w", ErrBadAnswer, err)
	}
	if len(p.ErrorMessages) > 0 || len(p.Errors) > 0 {
		return nil, pageEnd{}, fmt.Errorf("user/bulk answered with errors %q: %w", clipBody(body), ErrBadAnswer)
	}
	if p.Values == nil {
		return nil, pageEnd{}, fmt.Errorf("user/bulk answer has no values array (%q): %w", clipBody(body), ErrBadAnswer)
	}
	users := make([]User, 0, len(*p.Values))
	for i, u := range *p.Values {
		if u.AccountID == "" || u.Active == nil {
			return nil, pageEnd{}, fmt.Errorf("user/bulk answer: user %d has no accountId or active flag: %w", i, ErrBadAnswer)
		}
		users = append(users, User{AccountID: u.AccountID, AccountType: u.AccountType, DisplayName: u.DisplayName,
			EmailAddress: u.EmailAddress, Active: *u.Active})
	}
	return users, pageEnd{isLast: p.IsLast, nextPage: p.NextPage, total: p.Total}, nil
}

// clipBody returns the first bytes of an answer for an error message.
func clipBody(b []byte) string {
	return string(b[:min(len(b), 200)])
}
