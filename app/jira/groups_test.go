package jira

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/models"
)

type fixedSecret struct{}

func (fixedSecret) ConnectSecret(context.Context, *models.Tenant) ([]byte, error) {
	return []byte("shared-secret-0123456789"), nil
}
func (fixedSecret) ForgeSystemToken(*models.Tenant) (string, error) { return "", nil }

func TestIsGroupMember(t *testing.T) {
	var gotQuery, gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rest/api/3/user/groups" {
			http.NotFound(w, r)
			return
		}
		gotQuery, gotAuth = r.URL.RawQuery, r.Header.Get("Authorization")
		_, _ = io.WriteString(w, `[{"name":"jira-users","groupId":"g-users"},{"name":"svc-accounts","groupId":"g-svc"}]`)
	}))
	defer srv.Close()
	l := logrus.New()
	l.SetOutput(io.Discard)
	c := NewClient(srv.Client(), fixedSecret{}, "io.keyward.tempo-access", logrus.NewEntry(l))
	tn := &models.Tenant{ID: "t1", ClientKey: "ck", BaseURL: srv.URL}
	ctx := context.Background()
	for _, tc := range []struct {
		groups []string
		want   bool
	}{
		{[]string{"g-svc"}, true},
		{[]string{"svc-accounts"}, true},
		{[]string{"other", "g-users"}, true},
		{[]string{"admins"}, false},
	} {
		got, err := c.IsGroupMember(ctx, tn, "acc-1", tc.groups)
		if err != nil || got != tc.want {
			t.Errorf("IsGroupMember(%v) = %v, %v, want %v", tc.groups, got, err, tc.want)
		}
	}
	if gotQuery != "accountId=acc-1" || !strings.HasPrefix(gotAuth, "JWT ") {
		t.Errorf("request query %q, auth %q", gotQuery, gotAuth)
	}
	if ok, err := c.IsGroupMember(ctx, tn, "acc-1", nil); ok || err != nil {
		t.Errorf("no groups: %v, %v", ok, err)
	}
}
