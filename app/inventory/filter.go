package inventory

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// Filter is what an admin selects credentials by: the query parameters of
// the list and the exports, the "filter" object of a bulk preview.
type Filter struct {
	Kind          string     `json:"kind,omitempty"`
	Status        string     `json:"status,omitempty"`
	Owner         string     `json:"owner,omitempty"`
	Scope         string     `json:"scope,omitempty"`
	CreatedFrom   *time.Time `json:"createdFrom,omitempty"`
	CreatedTo     *time.Time `json:"createdTo,omitempty"`
	LastUsedFrom  *time.Time `json:"lastUsedFrom,omitempty"`
	LastUsedTo    *time.Time `json:"lastUsedTo,omitempty"`
	StaleDays     int        `json:"staleDays,omitempty"`
	OwnerInactive bool       `json:"ownerInactive,omitempty"`
	Q             string     `json:"q,omitempty"`
}

// FilterKeys are the names of the filter's parameters.
var FilterKeys = []string{"kind", "status", "owner", "scope", "createdFrom", "createdTo", "lastUsedFrom", "lastUsedTo", "staleDays", "ownerInactive", "q"}

var scopePattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]*(:[a-z0-9_.-]+)*$`)

// ParseFilter reads a filter through get (e.g. url.Values.Get); absent
// keys give "". Unknown keys are the caller's business.
func ParseFilter(get func(key string) string) (Filter, error) {
	var f Filter
	v := &models.ValidationError{}
	f.Kind = strings.TrimSpace(get("kind"))
	switch models.CredentialKind(f.Kind) {
	case "", models.KindAPIKey, models.KindOAuthGrant:
	default:
		v.Add("kind", "must be api_key or oauth_grant")
	}
	f.Status = strings.TrimSpace(get("status"))
	switch models.CredentialStatus(f.Status) {
	case "", models.StatusActive, models.StatusExpired, models.StatusRevoked:
	default:
		v.Add("status", "must be active, expired or revoked")
	}
	f.Owner = strings.TrimSpace(get("owner"))
	if len(f.Owner) > maxAccountIDChars {
		v.Add("owner", fmt.Sprintf("at most %d characters", maxAccountIDChars))
	}
	f.Scope = strings.TrimSpace(get("scope"))
	if f.Scope != "" && (len(f.Scope) > 64 || !scopePattern.MatchString(f.Scope)) {
		v.Add("scope", `must be one scope such as "worklogs:view", an area such as "worklogs", or "full"`)
	}
	f.CreatedFrom = parseTime(v, "createdFrom", get("createdFrom"))
	f.CreatedTo = parseTime(v, "createdTo", get("createdTo"))
	f.LastUsedFrom = parseTime(v, "lastUsedFrom", get("lastUsedFrom"))
	f.LastUsedTo = parseTime(v, "lastUsedTo", get("lastUsedTo"))
	checkRange(v, "createdTo", f.CreatedFrom, f.CreatedTo)
	checkRange(v, "lastUsedTo", f.LastUsedFrom, f.LastUsedTo)
	if s := strings.TrimSpace(get("staleDays")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 3650 {
			v.Add("staleDays", "must be an integer from 1 to 3650")
		}
		f.StaleDays = n
	}
	f.OwnerInactive = parseBool(v, "ownerInactive", get("ownerInactive"))
	f.Q = strings.TrimSpace(get("q"))
	if utf8.RuneCountInString(f.Q) > maxSearchLength {
		v.Add("q", fmt.Sprintf("at most %d characters", maxSearchLength))
	}
	return f, v.Err()
}

// FilterFromJSON reads a filter from a JSON object whose values are
// strings, numbers or booleans, with the keys of the list query.
func FilterFromJSON(obj map[string]any) (Filter, error) {
	vals := map[string]string{}
	v := &models.ValidationError{}
	for k, x := range obj {
		known := false
		for _, name := range FilterKeys {
			known = known || name == k
		}
		if !known {
			v.Add("filter."+k, "unknown filter")
			continue
		}
		switch x := x.(type) {
		case nil:
		case string:
			vals[k] = x
		case bool:
			vals[k] = strconv.FormatBool(x)
		case float64:
			vals[k] = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			v.Add("filter."+k, "must be a string, number or boolean")
		}
	}
	if err := v.Err(); err != nil {
		return Filter{}, err
	}
	f, err := ParseFilter(func(k string) string { return vals[k] })
	if ve, ok := err.(*models.ValidationError); ok {
		for i := range ve.Fields {
			ve.Fields[i].Field = "filter." + ve.Fields[i].Field
		}
	}
	return f, err
}

func parseTime(v *models.ValidationError, field, s string) *time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		v.Add(field, "must be an RFC 3339 time such as 2025-01-31T00:00:00Z")
		return nil
	}
	t = t.UTC()
	return &t
}

func checkRange(v *models.ValidationError, field string, from, to *time.Time) {
	if from != nil && to != nil && !from.Before(*to) {
		v.Add(field, "must be after the start of the range")
	}
}

func parseBool(v *models.ValidationError, field, s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "false", "0":
		return false
	case "true", "1":
		return true
	}
	v.Add(field, "must be true or false")
	return false
}

// storeFilter is the filter as the store runs it for a tenant at now.
func (f Filter) storeFilter(tenantID string, now time.Time) store.CredentialFilter {
	sf := store.CredentialFilter{
		TenantID: tenantID, Kind: models.CredentialKind(f.Kind), Status: models.CredentialStatus(f.Status),
		OwnerAccountID: f.Owner, Scope: f.Scope, ScopeIsArea: f.Scope != "" && f.Scope != "full" && !strings.Contains(f.Scope, ":"),
		CreatedFrom: f.CreatedFrom, CreatedTo: f.CreatedTo, LastUsedFrom: f.LastUsedFrom, LastUsedTo: f.LastUsedTo,
		OwnerInactive: f.OwnerInactive, Search: f.Q, Now: now,
	}
	if f.StaleDays > 0 {
		t := now.AddDate(0, 0, -f.StaleDays)
		sf.UnusedSince = &t
	}
	return sf
}

// AccessLogFilter is what an admin selects access log records by.
type AccessLogFilter struct {
	CredentialID string     `json:"credential,omitempty"`
	Owner        string     `json:"owner,omitempty"`
	Decision     string     `json:"decision,omitempty"`
	PathPrefix   string     `json:"path,omitempty"`
	From         *time.Time `json:"from,omitempty"`
	To           *time.Time `json:"to,omitempty"`
}

// ParseAccessLogFilter reads an access log filter through get.
func ParseAccessLogFilter(get func(key string) string) (AccessLogFilter, error) {
	v := &models.ValidationError{}
	f := AccessLogFilter{
		CredentialID: strings.TrimSpace(get("credential")),
		Owner:        strings.TrimSpace(get("owner")),
		Decision:     strings.TrimSpace(get("decision")),
		PathPrefix:   get("path"),
	}
	switch models.Decision(f.Decision) {
	case "", models.DecisionAllow, models.DecisionDeny:
	default:
		v.Add("decision", "must be allow or deny")
	}
	if len(f.CredentialID) > 64 {
		v.Add("credential", "at most 64 characters")
	}
	if len(f.Owner) > maxAccountIDChars {
		v.Add("owner", fmt.Sprintf("at most %d characters", maxAccountIDChars))
	}
	if len(f.PathPrefix) > 512 {
		v.Add("path", "at most 512 characters")
	}
	f.From = parseTime(v, "from", get("from"))
	f.To = parseTime(v, "to", get("to"))
	checkRange(v, "to", f.From, f.To)
	return f, v.Err()
}

func (f AccessLogFilter) storeFilter(tenantID string) store.AccessLogFilter {
	return store.AccessLogFilter{TenantID: tenantID, CredentialID: f.CredentialID, OwnerID: f.Owner, Decision: f.Decision, PathPrefix: f.PathPrefix, From: f.From, To: f.To}
}
