package oauth_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/models"
)

func credentialsOwner(e *env) credentials.Owner {
	return credentials.Owner{TenantID: e.a.ID, AccountID: alice, MaxLifetimeDays: 365}
}

func keyInput() credentials.CreateKeyInput {
	return credentials.CreateKeyInput{Name: "k", Access: credentials.AccessFull}
}

// TestSecretsAreNeverStored scans every table for the plaintext of client
// secrets, codes, access and refresh tokens.
func TestSecretsAreNeverStored(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ic := e.client(e.adminA, models.OAuthConfidential)
		code := e.code(e.userA, authParams(ic.Client.ID))
		tr := e.exchange(&ic.Client, code)
		tr2, err := e.token(&ic.Client, "grant_type", "refresh_token", "refresh_token", tr.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		needles := []string{ic.Secret, code, tr.AccessToken, tr.RefreshToken, tr2.AccessToken, tr2.RefreshToken}
		for _, table := range []string{"oauth_clients", "oauth_requests", "oauth_refresh_tokens", "credentials", "credential_secrets", "audit_events"} {
			rows, err := e.db.SQL().QueryContext(context.Background(), "SELECT * FROM "+table)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			n := 0
			for rows.Next() {
				n++
				vals := make([]sql.RawBytes, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				for i, v := range vals {
					for _, s := range needles {
						if strings.Contains(string(v), s) || strings.Contains(string(v), s[5:]) {
							t.Errorf("%s.%s holds a plaintext secret", table, cols[i])
						}
					}
				}
			}
			rows.Close()
			if n == 0 {
				t.Errorf("%s: no rows, nothing proven", table)
			}
		}
	})
}
