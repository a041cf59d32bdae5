package credtypes_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes/credtypestest"
)

func TestSecretValuesMaskEverySecretFieldAndNoPublicOne(t *testing.T) {
	for _, typ := range credtypes.Types() {
		t.Run(typ, func(t *testing.T) {
			raw := credtypestest.Valid(t, typ, now)
			got := credtypes.SecretValues(typ, raw)
			forms := maskedForms(typ, raw)
			for name, v := range raw {
				if s, isString := v.(string); isString {
					checkFieldMasking(t, typ, name, s, got, forms)
				}
			}
			checkSentFormsMasked(t, typ, raw, got)
		})
	}
}

// checkSentFormsMasked checks that every secret field is masked in the form it is sent
// in, which may differ from the form it was given in (a normalized PEM value).
func checkSentFormsMasked(t *testing.T, typ string, raw map[string]any, got []string) {
	t.Helper()
	c, err := credtypes.Parse(typ, raw, now)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := credtypes.Lookup(typ)
	for name, v := range c.Fields {
		if f, ok := s.Field(name); (ok && f.Secret || s.OpenFields) && !slices.Contains(got, v.(string)) {
			t.Errorf("the secret field %q is not masked in the form it is sent in", name)
		}
	}
}

// checkFieldMasking checks one string field: a public one is not masked; a secret one
// is, and each line of it (the runner masks multi-line values, PEM keys, line by line).
func checkFieldMasking(t *testing.T, typ, name, v string, got, forms []string) {
	t.Helper()
	if credtypes.NonSecret(typ, name) {
		if slices.Contains(got, v) {
			t.Errorf("the public field %q is masked", name)
		}
		return
	}
	if !slices.Contains(got, v) {
		t.Errorf("the secret field %q is not masked", name)
	}
	for _, line := range strings.Split(v, "\n") {
		if strings.TrimSpace(line) != "" && !slices.Contains(forms, line) {
			t.Errorf("line %.12q… of the secret field %q is not masked", line, name)
		}
	}
}

func TestSecretValuesMaskAServiceAccountKeyFileInEveryForm(t *testing.T) {
	typ := "google-service-account-json"
	key := credtypestest.ServiceAccountKey(t)
	pretty, err := json.MarshalIndent(key, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"an object": key, "its text": string(pretty)} {
		t.Run(name, func(t *testing.T) {
			raw := map[string]any{"credentials": v}
			got := credtypes.SecretValues(typ, raw)
			c, err := credtypes.Parse(typ, raw, now)
			if err != nil {
				t.Fatal(err)
			}
			checkServiceAccountMasking(t, key, string(pretty), c.Fields["credentials"], got, maskedForms(typ, raw))
		})
	}
}

func TestSecretValuesMaskWhatCannotBeKnownPublic(t *testing.T) {
	key := credtypestest.KeyPEM(t, credtypestest.NewKey(t, credtypestest.ECDSA), credtypestest.SEC1)
	crlfKey := strings.ReplaceAll(key, "\n", "\r\n")
	for _, c := range []struct {
		name string
		typ  string
		raw  map[string]any
		want []string
	}{
		{
			name: "every string of an unknown type, at any depth",
			typ:  "no-such-type", raw: map[string]any{"username": "u-1", "nested": map[string]any{"list": []any{"n-1", 2.0}}},
			want: []string{"n-1", "u-1"},
		},
		{
			name: "an unknown field of a known type",
			typ:  "username-password-credentials", raw: map[string]any{"username": "u-1", "passwd": "pw-1"},
			want: []string{"pw-1"},
		},
		{
			name: "a secret key given as accessKeyId",
			typ:  "aws-credentials", raw: map[string]any{"accessKeyId": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
			want: []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		},
		{
			name: "a roleArn that is not an ARN",
			typ:  "aws-iam-role-credentials", raw: map[string]any{"roleArn": "ext-1", "externalId": "arn:aws:iam::123456789012:role/r"},
			want: []string{"arn:aws:iam::123456789012:role/r", "ext-1"},
		},
		{
			name: "a private key given as cert, in both forms it may travel",
			typ:  "x509", raw: map[string]any{"cert": crlfKey},
			want: []string{crlfKey, key},
		},
		{
			name: "a non-string value in a public field",
			typ:  "username-password-credentials", raw: map[string]any{"username": []any{"u-1"}},
			want: []string{"u-1"},
		},
		{
			name: "a service-account key file that is not JSON, whole",
			typ:  "google-service-account-json", raw: map[string]any{"credentials": "{not json"},
			want: []string{"{not json"},
		},
		{
			name: "nothing for an empty or blank value",
			typ:  "psk", raw: map[string]any{"key": " "},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := credtypes.SecretValues(c.typ, c.raw)
			if !slices.Equal(got, c.want) {
				t.Errorf("SecretValues = %q\nwant %q", got, c.want)
			}
		})
	}
}

// checkServiceAccountMasking checks the masks of a key file: the text as sent and each
// secret field, no public field, no lone brace, and every line of the pasted text that
// holds a secret.
func checkServiceAccountMasking(t *testing.T, key map[string]any, pretty string, sent any, got, forms []string) {
	t.Helper()
	for what, want := range map[string]any{
		"the JSON text as sent": sent,
		"private_key":           key["private_key"],
		"private_key_id":        key["private_key_id"],
	} {
		if !slices.Contains(got, want.(string)) {
			t.Errorf("%s is not masked", what)
		}
	}
	for _, public := range []string{"client_email", "project_id", "type", "token_uri"} {
		if slices.Contains(got, key[public].(string)) {
			t.Errorf("the public %s is masked", public)
		}
	}
	for _, v := range got {
		if strings.TrimSpace(v) == "{" || strings.TrimSpace(v) == "}" {
			t.Errorf("a lone brace is masked: the runner would hide every brace in the log")
		}
	}
	// Every line of the text a user pastes that holds a secret is covered.
	for _, line := range strings.Split(pretty, "\n") {
		if !strings.Contains(line, `"private_key`) {
			continue
		}
		if !slices.ContainsFunc(forms, func(f string) bool { return len(f) > 30 && strings.Contains(line, f) }) {
			t.Errorf("the line %.30q… of the key file is not masked", line)
		}
	}
}

// The key file's text is what SecretValues lists for it, and is to be hidden whole only
// when its secret fields are listed on their own: only for a key file that is an object.
func TestKeyFileTextIsTheTextSecretValuesLists(t *testing.T) {
	typ := "google-service-account-json"
	key := credtypestest.ServiceAccountKey(t)
	pretty, err := json.MarshalIndent(key, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"an object": key, "its text": string(pretty)} {
		t.Run(name, func(t *testing.T) {
			raw := map[string]any{"credentials": v}
			text, ok := credtypes.KeyFileText(typ, raw)
			if !ok || !slices.Contains(credtypes.SecretValues(typ, raw), text) {
				t.Fatalf("KeyFileText = %.20q, %v: not a value SecretValues lists", text, ok)
			}
			if !slices.Contains(credtypes.SecretValues(typ, raw), key["private_key"].(string)) {
				t.Errorf("the private key is not listed on its own")
			}
		})
	}
	for name, raw := range map[string]map[string]any{
		"text that is no JSON object": {"credentials": `["not", "an", "object"]`},
		"text that is no JSON":        {"credentials": "not json"},
		"another type":                {"credentials": key},
	} {
		t.Run(name, func(t *testing.T) {
			typ := typ
			if name == "another type" {
				typ = "username-password-credentials"
			}
			if text, ok := credtypes.KeyFileText(typ, raw); ok {
				t.Errorf("KeyFileText = %.20q, true: it would be hidden whole though nothing in it is listed on its own", text)
			}
		})
	}
}
