package offboard_test

import (
	"errors"
	"os"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/models"
)

func TestParseSamplePayloads(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ev, err := offboard.ParseConnectEvent(read("jira_user_updated_deactivated.json"))
	if err != nil || ev.Type != models.UserUpdated || ev.AccountID != alice || ev.Active == nil || *ev.Active ||
		ev.DisplayName != "Example Person" || ev.AccountType != "atlassian" || !ev.At.Equal(time.UnixMilli(1764763200123)) {
		t.Fatalf("user_updated: %+v %v", ev, err)
	}
	ev, err = offboard.ParseConnectEvent(read("jira_user_deleted.json"))
	if err != nil || ev.Type != models.UserDeleted || ev.AccountID != alice || ev.Active != nil {
		t.Fatalf("user_deleted: %+v %v", ev, err)
	}
	ev, err = offboard.ParseForgeEvent(read("forge_event_deleted_user.json"))
	if err != nil || ev.Type != models.UserDeleted || ev.AccountID != alice || ev.ID != "" || !ev.At.IsZero() {
		t.Fatalf("forge deleted: %+v %v", ev, err)
	}
	// Lenient: unknown fields, odd types of unused fields, a string timestamp.
	ev, err = offboard.ParseConnectEvent([]byte(`{"timestamp":"1764763200123","webhookEvent":"user_updated","extra":[1,2],
		"user":{"accountId":"abc","active":"yes","displayName":42,"groups":{"x":1}}}`))
	if err != nil || ev.AccountID != "abc" || ev.Active != nil || ev.DisplayName != "" || ev.At.IsZero() {
		t.Fatalf("lenient: %+v %v", ev, err)
	}
	ev, err = offboard.ParseForgeEvent([]byte(`{"eventId":"ev-1","payload":{"eventType":"avi:jira:updated:user","user":{"accountId":"abc","active":false}}}`))
	if err != nil || ev.ID != "ev-1" || ev.Active == nil || *ev.Active {
		t.Fatalf("forge id: %+v %v", ev, err)
	}
}

func FuzzParseConnectEvent(f *testing.F) {
	for _, s := range []string{
		`{"timestamp":1,"webhookEvent":"user_deleted","user":{"accountId":"a"}}`,
		`{"webhookEvent":"user_updated","user":{"accountId":"a","active":false,"displayName":"x"}}`,
		`{"payload":{"eventType":"avi:jira:deleted:user","user":{"accountId":"a"}}}`,
		`[]`, `{`, ``, `{"user":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, parse := range []func([]byte) (*offboard.UserEvent, error){offboard.ParseConnectEvent, offboard.ParseForgeEvent} {
			ev, err := parse(body)
			if err != nil {
				if !errors.Is(err, models.ErrInvalid) {
					t.Fatalf("error %v is not invalid input", err)
				}
				continue
			}
			if ev.AccountID == "" || len(ev.AccountID) > 128 || !utf8.ValidString(ev.AccountID) || !utf8.ValidString(ev.DisplayName) {
				t.Fatalf("accepted a bad event: %+v", ev)
			}
			switch ev.Type {
			case models.UserCreated, models.UserUpdated, models.UserDeleted:
			default:
				t.Fatalf("type %q", ev.Type)
			}
		}
	})
}
