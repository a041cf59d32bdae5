package soracom_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// Each entry of a list answer is read on its own: an entry that cannot be read, or that
// holds an identifier without its shape, marks that set unreadable (naming the field,
// keeping no bad value), and every other set comes back whole.
func TestListReadsEachEntryOnItsOwn(t *testing.T) {
	const forged = "\n::error::FORGED"
	tests := []struct {
		name     string
		set      soracomtest.CredentialSet
		wantID   string // the id kept of the unreadable set
		wantType string
		want     string // the first unreadable field
	}{
		{"a float lastUsedDateTime", awsEntry("float-used", map[string]any{"lastUsedDateTime": json.RawMessage("1.7e12")}),
			"float-used", "aws-credentials", soracom.FieldLastUsedDateTime},
		{"a string createDateTime", awsEntry("text-created", map[string]any{"createDateTime": "yesterday"}),
			"text-created", "aws-credentials", soracom.FieldCreateDateTime},
		{"a time centuries ahead", awsEntry("far-future", map[string]any{"updateDateTime": int64(1) << 60}),
			"far-future", "aws-credentials", soracom.FieldUpdateDateTime},
		{"a number as type", awsEntry("typed-7", map[string]any{"type": 7}), "typed-7", "", soracom.FieldType},
		{"a forged id", awsEntry("x", map[string]any{"credentialsId": "set" + forged}), "", "aws-credentials", soracom.FieldID},
		{"an id as a number", awsEntry("x", map[string]any{"credentialsId": 12}), "", "aws-credentials", soracom.FieldID},
		{"a forged key id", awsEntry("forged-key", map[string]any{"credentials": map[string]any{"accessKeyId": "AKIAIOSFODNN7EXAMPLE" + forged}}),
			"forged-key", "aws-credentials", soracom.FieldAccessKeyID},
		{"a key id of 24 characters", awsEntry("long-key", map[string]any{"credentials": map[string]any{"accessKeyId": "AKIAIOSFODNN7EXAMPLEABCD"}}),
			"long-key", "aws-credentials", soracom.FieldAccessKeyID},
		{"a key id as a number", awsEntry("numeric-key", map[string]any{"credentials": map[string]any{"accessKeyId": 42}}),
			"numeric-key", "aws-credentials", soracom.FieldAccessKeyID},
		{"credentials as text", awsEntry("text-creds", map[string]any{"credentials": "AKIA"}), "text-creds", "aws-credentials", soracom.FieldCredentials},
		{"a description as an object", awsEntry("odd-desc", map[string]any{"description": map[string]any{"a": 1}}),
			"odd-desc", "aws-credentials", soracom.FieldDescription},
		{"an entry that is no object", awsEntry("gone", map[string]any{"": "set-1"}), "", "", soracom.FieldEntry},
		{"a certificate as a number", soracomtest.CredentialSet{ID: "cert-9", Type: "x509", Listed: map[string]any{"credentials": map[string]any{"cert": 9}}},
			"cert-9", "x509", soracom.FieldCert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := offContract(t) // the answers break the spec on purpose
			seed(s, "a-good")
			seed(s, "z-good")
			s.PutCredentialSet(tt.set)
			sets, err := login(t, s, nil).ListCredentials(context.Background())
			if err != nil {
				t.Fatalf("ListCredentials: %v", err)
			}
			if len(sets) != 3 {
				t.Fatalf("%d sets, want 3", len(sets))
			}
			checkUnreadable(t, sets, tt.wantID, tt.wantType, tt.want)
			if err := soracom.Whole(sets); err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "FORGED") {
				t.Errorf("Whole = %v, want an error naming %s and not the value", err, tt.want)
			}
		})
	}
}

func awsEntry(id string, listed map[string]any) soracomtest.CredentialSet {
	return soracomtest.CredentialSet{ID: id, Type: "aws-credentials", Listed: listed,
		Credentials: map[string]any{"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "secret"}}
}

// checkUnreadable checks that exactly one set is unreadable, as wanted, and that the
// good ones came back whole.
func checkUnreadable(t *testing.T, sets []soracom.CredentialSet, id, typ, field string) {
	t.Helper()
	var odd []soracom.CredentialSet
	for _, set := range sets {
		if len(set.Unreadable) > 0 {
			odd = append(odd, set)
			continue
		}
		if !strings.HasSuffix(set.ID, "-good") || set.Field("accessKeyId") == "" {
			t.Errorf("a good set was not read whole: %+v", set)
		}
	}
	if len(odd) != 1 {
		t.Fatalf("%d unreadable sets, want 1: %+v", len(odd), sets)
	}
	u := odd[0]
	if u.Unreadable[0] != field || u.ID != id || u.Type != typ || u.Credentials != nil || u.LastUsedDateTime != 0 || u.Description != "" {
		t.Errorf("unreadable set = %+v, want id %q, type %q, field %s and nothing else", u, id, typ, field)
	}
	if want := slices.IndexFunc(sets, func(s soracom.CredentialSet) bool { return len(s.Unreadable) > 0 }); u.Index != want {
		t.Errorf("index %d, want %d", u.Index, want)
	}
}

// A list answer is bounded in entries: past soracom.MaxSets the list is refused with an
// error naming the service and the call, and a body that is no JSON array fails whole.
func TestListAnswerBounds(t *testing.T) {
	many := "[" + strings.Repeat(`{"credentialsId":"a","type":"psk"},`, soracom.MaxSets) + `{"credentialsId":"b","type":"psk"}]`
	tests := []struct {
		name, body, want string
	}{
		{"more entries than the action reads", many, fmt.Sprintf("SORACOM listCredentials answered more than %d entries", soracom.MaxSets)},
		{"more entries of nothing but numbers", "[" + strings.Repeat("1,", soracom.MaxSets) + "1]", "more than"},
		{"an object instead of an array", `{"credentialsId":"a"}`, "not a JSON array"},
		{"an array cut short", `[{"credentialsId":"a","type":"psk"}`, "not a JSON array"},
		{"two arrays", `[][]`, "more follows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := offContract(t)
			sess := login(t, s, nil)
			s.Inject("GET /v1/credentials", 1, soracomtest.Fault{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: tt.body})
			sets, err := sess.ListCredentials(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ListCredentials = %d sets, %v; want an error saying %q", len(sets), err, tt.want)
			}
			var long *soracom.ListTooLongError
			if strings.Contains(tt.want, "more than") && !errors.As(err, &long) {
				t.Errorf("err %T is no ListTooLongError", err)
			}
		})
	}
}

// offContract starts an emulator that does not hold its answers to the spec, for
// answers that break it on purpose.
func offContract(t *testing.T) *soracomtest.Server {
	s := soracomtest.Start(t)
	s.AddAuthKey(keyID, keySecret)
	return s
}
