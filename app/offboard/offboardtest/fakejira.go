// Package offboardtest has test doubles for offboarding: a fake Jira that
// answers user/bulk and the Personal Data Reporting API in the real shapes,
// with injectable rate limits, server errors, latency and missing accounts,
// and an environment that wires the real services on a test database.
package offboardtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyward/keyward/app/jira"
)

// Failure is an injected answer for the next calls.
type Failure struct {
	Status     int    // e.g. 429, 500, 503, 400
	RetryAfter string // Retry-After header value; "" for none
	Reason     string // RateLimit-Reason header value
}

// FakeJira is an httptest server standing in for a Jira site (and, for
// Forge sites, the api.atlassian.com gateway).
type FakeJira struct {
	*httptest.Server

	// Latency is added to every answer.
	Latency atomic.Int64 // nanoseconds
	// BulkCalls and ReportCalls count requests that reached the handlers
	// (injected failures included).
	BulkCalls, ReportCalls atomic.Int64
	// NoBrowseUsers makes mypermissions say the app lacks "Browse users
	// and groups".
	NoBrowseUsers atomic.Bool
	// MaxConcurrent is the most user/bulk calls seen in flight at once.
	MaxConcurrent atomic.Int64

	inflight atomic.Int64
	mu       sync.Mutex
	users    map[string]jira.User
	failures []Failure
	pageSize int               // >0: split user/bulk answers into pages
	statuses map[string]string // report-accounts answers: accountId -> closed|updated
	cycle    string            // Cycle-Period header of report answers
	reported [][]jira.ReportedAccount
	auth     []string // Authorization headers seen (first 100)
}

// NewFakeJira starts a fake Jira; it is closed with the test.
func NewFakeJira(t interface{ Cleanup(func()) }) *FakeJira {
	f := &FakeJira{users: map[string]jira.User{}, statuses: map[string]string{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// SetUser makes Jira know an account.
func (f *FakeJira) SetUser(accountID string, active bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[accountID] = jira.User{AccountID: accountID, AccountType: "atlassian", DisplayName: "User " + accountID, Active: active}
}

// SetUsers sets many accounts at once.
func (f *FakeJira) SetUsers(active bool, ids ...string) {
	for _, id := range ids {
		f.SetUser(id, active)
	}
}

// DeleteUser makes Jira forget an account (deleted users are missing from
// user/bulk answers).
func (f *FakeJira) DeleteUser(accountID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.users, accountID)
}

// Fail queues failures answered to the next calls, in order.
func (f *FakeJira) Fail(fs ...Failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, fs...)
}

// SetPageSize splits user/bulk answers into pages of n values.
func (f *FakeJira) SetPageSize(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pageSize = n
}

// SetLatency adds d to every answer.
func (f *FakeJira) SetLatency(d time.Duration) { f.Latency.Store(int64(d)) }

// SetAccountStatus makes report-accounts answer status ("closed" or
// "updated") for an account.
func (f *FakeJira) SetAccountStatus(accountID, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statuses[accountID] = status
}

// SetCyclePeriod sets the Cycle-Period header of report answers.
func (f *FakeJira) SetCyclePeriod(v string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cycle = v
}

// Reported returns the account batches reported so far.
func (f *FakeJira) Reported() [][]jira.ReportedAccount {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]jira.ReportedAccount(nil), f.reported...)
}

// AuthHeaders returns the Authorization headers seen (at most 100).
func (f *FakeJira) AuthHeaders() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auth...)
}

func (f *FakeJira) serve(w http.ResponseWriter, r *http.Request) {
	bulk := strings.HasSuffix(r.URL.Path, "/rest/api/3/user/bulk") && r.Method == http.MethodGet
	if bulk {
		// In flight from arrival, the added latency included.
		n := f.inflight.Add(1)
		defer f.inflight.Add(-1)
		for {
			m := f.MaxConcurrent.Load()
			if n <= m || f.MaxConcurrent.CompareAndSwap(m, n) {
				break
			}
		}
	}
	if d := time.Duration(f.Latency.Load()); d > 0 {
		time.Sleep(d)
	}
	f.mu.Lock()
	if len(f.auth) < 100 {
		f.auth = append(f.auth, r.Header.Get("Authorization"))
	}
	f.mu.Unlock()
	switch {
	case strings.HasSuffix(r.URL.Path, "/rest/api/3/mypermissions") && r.Method == http.MethodGet:
		// Injected failures are for user/bulk and report calls.
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"permissions":{"USER_PICKER":{"id":"27","key":"USER_PICKER","name":"Browse users and groups","type":"GLOBAL","havePermission":%t}}}`, !f.NoBrowseUsers.Load())
	case bulk:
		f.BulkCalls.Add(1)
		if f.injected(w) {
			return
		}
		f.bulk(w, r)
	case (strings.HasSuffix(r.URL.Path, "/rest/atlassian-connect/latest/report-accounts") || strings.HasSuffix(r.URL.Path, "/app/report-accounts/")) && r.Method == http.MethodPost:
		f.ReportCalls.Add(1)
		if f.injected(w) {
			return
		}
		f.report(w, r)
	default:
		http.Error(w, `{"errorMessages":["not found"]}`, http.StatusNotFound)
	}
}

func (f *FakeJira) injected(w http.ResponseWriter) bool {
	f.mu.Lock()
	if len(f.failures) == 0 {
		f.mu.Unlock()
		return false
	}
	fl := f.failures[0]
	f.failures = f.failures[1:]
	f.mu.Unlock()
	if fl.RetryAfter != "" {
		w.Header().Set("Retry-After", fl.RetryAfter)
	}
	if fl.Reason != "" {
		w.Header().Set("RateLimit-Reason", fl.Reason)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(fl.Status)
	fmt.Fprintf(w, `{"errorMessages":["injected %d"]}`, fl.Status)
	return true
}

func (f *FakeJira) bulk(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ids := q["accountId"]
	max, _ := strconv.Atoi(q.Get("maxResults"))
	start, _ := strconv.Atoi(q.Get("startAt"))
	if len(ids) == 0 || len(ids) > 90 || max > 90 {
		http.Error(w, `{"errorMessages":["bad request"]}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	var found []jira.User
	for _, id := range ids {
		if u, ok := f.users[id]; ok {
			found = append(found, u)
		}
	}
	size := f.pageSize
	f.mu.Unlock()
	if size <= 0 || size > max {
		size = max
	}
	if size <= 0 {
		size = 50
	}
	end := min(start+size, len(found))
	page := []jira.User{}
	if start < len(found) {
		page = found[start:end]
	}
	type value struct {
		AccountID   string `json:"accountId"`
		AccountType string `json:"accountType"`
		DisplayName string `json:"displayName"`
		Active      bool   `json:"active"`
	}
	out := struct {
		Self       string  `json:"self"`
		MaxResults int     `json:"maxResults"`
		StartAt    int     `json:"startAt"`
		Total      int     `json:"total"`
		IsLast     bool    `json:"isLast"`
		Values     []value `json:"values"`
	}{Self: "http://" + r.Host + r.URL.String(), MaxResults: size, StartAt: start, Total: len(found), IsLast: end >= len(found), Values: []value{}}
	for _, u := range page {
		out.Values = append(out.Values, value{AccountID: u.AccountID, AccountType: u.AccountType, DisplayName: u.DisplayName, Active: u.Active})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (f *FakeJira) report(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Accounts []jira.ReportedAccount `json:"accounts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Accounts) == 0 || len(in.Accounts) > 90 {
		http.Error(w, `{"errorMessages":["bad request"]}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.reported = append(f.reported, in.Accounts)
	var answer []jira.AccountStatus
	for _, a := range in.Accounts {
		if st, ok := f.statuses[a.AccountID]; ok {
			answer = append(answer, jira.AccountStatus{AccountID: a.AccountID, Status: st})
		}
	}
	cycle := f.cycle
	f.mu.Unlock()
	if cycle != "" {
		w.Header().Set("Cycle-Period", cycle)
	}
	if len(answer) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"accounts": answer})
}
