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
				s, isString := v.(string)
				switch {
				case !isString:
				case credtypes.NonSecret(typ, name):
					if slices.Contains(got, s) {
						t.Errorf("the public field %q is masked", name)
					}
				default:
					if !slices.Contains(got, s) {
						t.Errorf("the secret field %q is not masked", name)
					}
					// Multi-line values (PEM keys) are masked line by line.
					for _, line := range strings.Split(s, "\n") {
						if strings.TrimSpace(line) != "" && !slices.Contains(forms, line) {
							t.Errorf("line %.12q… of the secret field %q is not masked", line, name)
						}
					}
				}
			}
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
		})
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
			for what, want := range map[string]any{
				"the JSON text as sent": c.Fields["credentials"],
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
			forms := maskedForms(typ, raw)
			for _, line := range strings.Split(string(pretty), "\n") {
				if !strings.Contains(line, `"private_key`) {
					continue
				}
				if !slices.ContainsFunc(forms, func(f string) bool { return len(f) > 30 && strings.Contains(line, f) }) {
					t.Errorf("the line %.30q… of the key file is not masked", line)
				}
			}
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
