package credtypes_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes/credtypestest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// now is the fixed clock every case validates certificates against.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// readmeTypes is the type column of the table in the project's notes on the SORACOM
// API, which is SORACOM's own list.
var readmeTypes = []string{
	"api-token-credentials", "aws-credentials", "aws-iam-role-credentials", "azure-credentials",
	"azureIoT-credentials", "esrij-credentials", "google-service-account-json", "googleIoT-credentials",
	"infoteria-platio-credentials", "kii-thingif-credentials", "landlog-credentials", "mmcloud-credentials",
	"motionboard-credentials", "optim-cloud-IoT-OS-credentials", "private-key-pem", "psk",
	"pubnub-credentials", "sensorcorpus-credentials", "username-password-credentials", "x509",
}

// deleted, as a value in with, removes the field.
const deleted = "\x00deleted"

// with returns a copy of raw with the given name/value pairs set (or deleted).
func with(raw map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range raw {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		name := kv[i].(string)
		if kv[i+1] == deleted {
			delete(out, name)
			continue
		}
		out[name] = kv[i+1]
	}
	return out
}

// typo misspells a field name the way people do: a letter missing, or one too many on
// a short name.
func typo(name string) string {
	if len(name) >= 5 {
		return name[:len(name)-1]
	}
	return name + "s"
}

type parseCase struct {
	name string
	typ  string
	raw  map[string]any
	// wantErr lists substrings the error must contain; empty means Parse succeeds.
	wantErr []string
	// check inspects a successful result.
	check func(t *testing.T, c credtypes.Credentials)
}

func TestTypesAreExactlyTheREADMETable(t *testing.T) {
	if got := credtypes.Types(); !slices.Equal(got, readmeTypes) {
		t.Errorf("Types() = %v\nwant      %v", got, readmeTypes)
	}
	for _, typ := range readmeTypes {
		if _, ok := credtypes.Lookup(typ); !ok {
			t.Errorf("Lookup(%q) found nothing", typ)
		}
	}
}

func TestSchemasFollowTheREADMETable(t *testing.T) {
	// The fields column of the table in docs/credential-types.md: `*` marks a secret field.
	table := map[string]string{
		"aws-credentials":                "accessKeyId, secretAccessKey*",
		"aws-iam-role-credentials":       "roleArn, externalId*",
		"azure-credentials":              "policyName, key*",
		"azureIoT-credentials":           "sharedAccessKeyName, sharedAccessKey*",
		"api-token-credentials":          "token*",
		"esrij-credentials":              "refererUrl",
		"google-service-account-json":    "credentials*",
		"googleIoT-credentials":          "algorithm, deviceId, projectId, region, registryId, privateKey*",
		"infoteria-platio-credentials":   "tokenId, secretToken*",
		"kii-thingif-credentials":        "app_id, app_key*, client_id, client_secret*",
		"landlog-credentials":            "client_id, client_secret*",
		"mmcloud-credentials":            "commandcode, customerid, machineid, machineidtype",
		"motionboard-credentials":        "tenant, template, authkey*",
		"optim-cloud-IoT-OS-credentials": "client_id, client_secret*",
		"psk":                            "key*",
		"pubnub-credentials":             "pubKey*, subKey*",
		"sensorcorpus-credentials":       "session_code*",
		"username-password-credentials":  "username, password*",
		"x509":                           "cert, ca, key*",
	}
	for typ, fields := range table {
		s, _ := credtypes.Lookup(typ)
		var got []string
		for _, f := range s.Fields {
			got = append(got, f.Name+map[bool]string{true: "*"}[f.Secret])
			if f.Secret == credtypes.NonSecret(typ, f.Name) {
				t.Errorf("NonSecret(%q, %q) = %v, want %v", typ, f.Name, !f.Secret, !f.Secret)
			}
		}
		if strings.Join(got, ", ") != fields {
			t.Errorf("%s fields = %s, want %s", typ, strings.Join(got, ", "), fields)
		}
	}
	if s, _ := credtypes.Lookup("private-key-pem"); !s.OpenFields || credtypes.NonSecret("private-key-pem", "privateKey") {
		t.Errorf("private-key-pem: want open fields, all secret")
	}
	if credtypes.NonSecret("no-such-type", "username") || credtypes.NonSecret("aws-credentials", "no-such-field") {
		t.Errorf("NonSecret must say false (mask) for an unknown type or field")
	}
}

func TestParse(t *testing.T) {
	var cases []parseCase
	add := func(c ...parseCase) { cases = append(cases, c...) }

	add(schemaCases(t)...)

	add(
		parseCase{
			name: "unknown type/is refused with the supported types listed", typ: "foo",
			raw: map[string]any{}, wantErr: []string{"unknown credential set type `foo`", "aws-credentials, aws-iam-role-credentials"},
		},
		parseCase{
			name: "unknown type/suggests `x509` for `X.509`", typ: "X.509",
			raw: map[string]any{}, wantErr: []string{"did you mean `x509`?"},
		},
		parseCase{
			name: "unknown type/suggests `aws-credentials` for `aws-credential`", typ: "aws-credential",
			raw: map[string]any{}, wantErr: []string{"did you mean `aws-credentials`?"},
		},
		parseCase{
			name: "unknown type/suggests `azureIoT-credentials` whatever the case", typ: "azureiot-credentials",
			raw: map[string]any{}, wantErr: []string{"did you mean `azureIoT-credentials`?"},
		},
		parseCase{
			name: "every type/reports every problem at once", typ: "username-password-credentials",
			raw:     map[string]any{"login": "device-user", "password": 1.0},
			wantErr: []string{"unknown field `login`", "missing field `username`", "`password` for type username-password-credentials must be a JSON string"},
		},
	)

	aws := credtypestest.Valid(t, "aws-credentials", now)
	add(
		parseCase{
			name: "aws-credentials/sends accessKeyId and secretAccessKey unchanged", typ: "aws-credentials", raw: aws,
			check: wantFields(aws),
		},
		parseCase{
			name: "aws-credentials/suggests `secretAccessKey` for `secretAccesKey`", typ: "aws-credentials",
			raw:     with(aws, "secretAccesKey", aws["secretAccessKey"], "secretAccessKey", deleted),
			wantErr: []string{"unknown field `secretAccesKey` for type aws-credentials; did you mean `secretAccessKey`?"},
		},
		parseCase{
			name: "aws-credentials/suggests `accessKeyId` for `access_key_id`", typ: "aws-credentials",
			raw: with(aws, "access_key_id", "AKIAIOSFODNN7EXAMPLE"), wantErr: []string{"did you mean `accessKeyId`?"},
		},
		parseCase{
			name: "aws-credentials/refuses a temporary STS key (ASIA…), pointing to aws-iam-role-credentials", typ: "aws-credentials",
			raw:     with(aws, "accessKeyId", "ASIAIOSFODNN7EXAMPLE"),
			wantErr: []string{"temporary STS access key", "session token", "aws-iam-role-credentials"},
		},
		parseCase{
			name: "aws-credentials/refuses an accessKeyId that is not an access key id", typ: "aws-credentials",
			raw: with(aws, "accessKeyId", "AIDAIOSFODNN7EXAMPLE"), wantErr: []string{"`accessKeyId` for type aws-credentials is not an AWS access key id"},
		},
		parseCase{
			name: "aws-credentials/refuses a lower-case accessKeyId", typ: "aws-credentials",
			raw: with(aws, "accessKeyId", "akiaiosfodnn7example"), wantErr: []string{"is not an AWS access key id"},
		},
		parseCase{
			name: "aws-credentials/points out whitespace in accessKeyId", typ: "aws-credentials",
			raw: with(aws, "accessKeyId", "AKIAIOSFODNN7EXAMPLE "), wantErr: []string{"is not an AWS access key id", "contains whitespace"},
		},
		parseCase{
			name: "aws-credentials/notices accessKeyId and secretAccessKey swapped", typ: "aws-credentials",
			raw:     map[string]any{"accessKeyId": aws["secretAccessKey"], "secretAccessKey": aws["accessKeyId"]},
			wantErr: []string{"looks swapped with `secretAccessKey`"},
		},
		parseCase{
			name: "aws-credentials/refuses a secretAccessKey with a trailing newline", typ: "aws-credentials",
			raw: with(aws, "secretAccessKey", aws["secretAccessKey"].(string)+"\n"), wantErr: []string{"`secretAccessKey` for type aws-credentials contains whitespace"},
		},
		parseCase{
			name: "aws-credentials/refuses a secretAccessKey too short to be one", typ: "aws-credentials",
			raw: with(aws, "secretAccessKey", "abc"), wantErr: []string{"`secretAccessKey` for type aws-credentials is only 3 characters long; an AWS secret access key has 40"},
		},
		parseCase{
			name: "aws-credentials/accepts a secretAccessKey of 16 characters", typ: "aws-credentials",
			raw: with(aws, "secretAccessKey", "0123456789abcdeF"),
		},
	)

	add(roleCases(t)...)
	add(x509Cases(t)...)
	add(serviceAccountCases(t)...)
	add(privateKeyPEMCases(t)...)

	add(
		parseCase{
			name: "psk/refuses a key of spaces as missing", typ: "psk",
			raw: map[string]any{"key": "   "}, wantErr: []string{"missing field `key` for type psk"},
		},
		parseCase{
			name: "psk/sends the key exactly as given, spaces included", typ: "psk",
			raw: map[string]any{"key": " psk-Secret with spaces "}, check: wantFields(map[string]any{"key": " psk-Secret with spaces "}),
		},
		parseCase{
			name: "username-password-credentials/shows the username in the summary, not the password", typ: "username-password-credentials",
			raw: credtypestest.Valid(t, "username-password-credentials", now),
			check: wantSummary(
				credtypes.SummaryItem{Name: "username", Value: "device-user"},
				credtypes.SummaryItem{Name: "password", Value: secret.Redacted},
			),
		},
	)

	names := map[string]bool{}
	for _, c := range cases {
		if names[c.name] {
			t.Fatalf("duplicate case name %q", c.name)
		}
		names[c.name] = true
		t.Run(c.name, func(t *testing.T) { runParseCase(t, c) })
	}
}

// schemaCases are generated from each type's schema.
func schemaCases(t *testing.T) []parseCase {
	var cases []parseCase
	add := func(c ...parseCase) { cases = append(cases, c...) }
	for _, typ := range credtypes.Types() {
		s, _ := credtypes.Lookup(typ)
		valid := credtypestest.Valid(t, typ, now)
		add(parseCase{name: typ + "/accepts a complete credentials object", typ: typ, raw: valid})
		if s.OpenFields {
			continue
		}
		var required []string
		for _, f := range s.Fields {
			if f.Required {
				required = append(required, "`"+f.Name+"`")
			}
		}
		for _, f := range s.Fields {
			add(fieldCases(typ, f, valid, required)...)
		}
		first := s.Fields[0].Name
		add(
			parseCase{
				name: typ + "/suggests `" + first + "` for the misspelt `" + typo(first) + "`", typ: typ,
				raw:     with(valid, typo(first), "typo-Secret-value", first, deleted),
				wantErr: []string{"unknown field `" + typo(first) + "` for type " + typ + "; did you mean `" + first + "`?"},
			},
			parseCase{
				name: typ + "/lists its fields for an unknown field that resembles none", typ: typ,
				raw: with(valid, "zzzzzzzz", "unknown-Secret-value"), wantErr: []string{"unknown field `zzzzzzzz`", "its fields are `" + first + "`"},
			},
		)
	}

	return cases
}

// fieldCases are what every field of a schema is held to: optional ones may be left
// out; required ones are refused missing, empty, null or of the wrong kind.
func fieldCases(typ string, f credtypes.Field, valid map[string]any, required []string) []parseCase {
	if !f.Required {
		return []parseCase{{name: typ + "/accepts the optional `" + f.Name + "` left out", typ: typ, raw: with(valid, f.Name, deleted)}}
	}
	return []parseCase{
		parseCase{
			name: typ + "/refuses a missing `" + f.Name + "`, naming every required field", typ: typ,
			raw:     with(valid, f.Name, deleted),
			wantErr: append([]string{"missing field `" + f.Name + "` for type " + typ}, required...),
		},
		parseCase{
			name: typ + "/counts an empty `" + f.Name + "` as missing", typ: typ,
			raw: with(valid, f.Name, ""), wantErr: []string{"missing field `" + f.Name + "`"},
		},
		parseCase{
			name: typ + "/counts a null `" + f.Name + "` as missing", typ: typ,
			raw: with(valid, f.Name, nil), wantErr: []string{"missing field `" + f.Name + "`"},
		},
		parseCase{
			name: typ + "/refuses a number in `" + f.Name + "`", typ: typ,
			raw: with(valid, f.Name, 42.0), wantErr: []string{"field `" + f.Name + "` for type " + typ + " must be", "not a number"},
		},
	}
}

// roleCases hold aws-iam-role-credentials to IAM's role ARN shape.
func roleCases(t *testing.T) []parseCase {
	var cases []parseCase
	add := func(c ...parseCase) { cases = append(cases, c...) }
	role := credtypestest.Valid(t, "aws-iam-role-credentials", now)
	for _, arn := range []string{
		"arn:aws:iam::123456789012:role/SoracomAccess",
		"arn:aws-cn:iam::123456789012:role/SoracomAccess",
		"arn:aws-us-gov:iam::123456789012:role/path/to/Soracom+Access=,.@-_",
		"arn:aws-iso-b:iam::123456789012:role/SoracomAccess",
	} {
		add(parseCase{
			name: "aws-iam-role-credentials/accepts the role ARN " + arn, typ: "aws-iam-role-credentials",
			raw: with(role, "roleArn", arn), check: wantFields(with(role, "roleArn", arn)),
		})
	}
	for _, c := range []struct{ why, arn, want string }{
		{"an sts assumed-role ARN", "arn:aws:sts::123456789012:assumed-role/SoracomAccess/session", "names a session"},
		{"an IAM user ARN", "arn:aws:iam::123456789012:user/alice", "not a role"},
		{"an account id of 11 digits", "arn:aws:iam::12345678901:role/SoracomAccess", "12 digits"},
		{"a role name alone", "SoracomAccess", "arn:<partition>:iam::<12-digit account id>:role/"},
		{"a role ARN with a trailing newline", "arn:aws:iam::123456789012:role/SoracomAccess\n", "whitespace"},
		{"a non-AWS partition", "arn:gcp:iam::123456789012:role/SoracomAccess", "is not an IAM role ARN"},
	} {
		add(parseCase{
			name: "aws-iam-role-credentials/refuses " + c.why, typ: "aws-iam-role-credentials",
			raw: with(role, "roleArn", c.arn), wantErr: []string{"field `roleArn`", c.want},
		})
	}
	add(parseCase{
		name: "aws-iam-role-credentials/quotes a wrong ARN, since ARNs are public", typ: "aws-iam-role-credentials",
		raw: with(role, "roleArn", "arn:aws:iam::123456789012:user/alice"), wantErr: []string{"`arn:aws:iam::123456789012:user/alice`"},
	})
	add(parseCase{
		name: "aws-iam-role-credentials/sends no externalId when it is left out", typ: "aws-iam-role-credentials",
		raw: with(role, "externalId", deleted), check: wantFields(with(role, "externalId", deleted)),
	})
	add(parseCase{
		name: "aws-iam-role-credentials/sends no externalId when it is empty", typ: "aws-iam-role-credentials",
		raw: with(role, "externalId", ""), check: wantFields(with(role, "externalId", deleted)),
	})
	return cases
}

// runParseCase parses one case and checks it: accepted with no secret printed, or
// refused with every wanted message and no secret in the error.
func runParseCase(t *testing.T, c parseCase) {
	t.Helper()
	got, err := credtypes.Parse(c.typ, c.raw, now)
	secrets := maskedForms(c.typ, c.raw)
	if len(c.wantErr) == 0 {
		checkAccepted(t, c, got, err, secrets)
		return
	}
	if err == nil {
		t.Fatalf("Parse succeeded, want an error containing %q", c.wantErr)
	}
	for _, want := range c.wantErr {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
	var fe *credtypes.FieldError
	if !errors.As(err, &fe) && !errors.Is(err, credtypes.ErrUnknownType) {
		t.Errorf("error is neither a *FieldError nor ErrUnknownType: %v", err)
	}
	assertNoLeak(t, "the error", err.Error(), secrets)
}

func checkAccepted(t *testing.T, c parseCase, got credtypes.Credentials, err error, secrets []string) {
	t.Helper()
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got.Type != c.typ {
		t.Errorf("Type = %q, want %q", got.Type, c.typ)
	}
	for name, v := range got.Fields {
		if f, _ := credtypes.Lookup(c.typ); !f.OpenFields && credtypes.NonSecret(c.typ, name) {
			continue
		}
		if s, _ := v.(string); !slices.Contains(credtypes.SecretValues(c.typ, c.raw), s) {
			t.Errorf("the secret field %q is sent in a form SecretValues does not return", name)
		}
	}
	assertNoLeak(t, "the printed credentials", printed(t, got), secrets)
	if c.check != nil {
		c.check(t, got)
	}
}

// maskedForms is every form of every value SecretValues says to mask, as the runner
// would mask it.
func maskedForms(typ string, raw map[string]any) []string {
	var forms []string
	for _, v := range credtypes.SecretValues(typ, raw) {
		forms = append(forms, secret.Forms(v)...)
	}
	return forms
}

// assertNoLeak fails if text contains any of the secret forms. PEM armour lines are
// skipped: they are masked with the key around them but are not secret themselves.
func assertNoLeak(t *testing.T, what, text string, forms []string) {
	t.Helper()
	for _, f := range forms {
		if strings.HasPrefix(f, "-----") {
			continue
		}
		if strings.Contains(text, f) {
			t.Errorf("%s contains a secret value %.12q…:\n%s", what, f, text)
		}
	}
}

// printed is everything a careless caller could print of the credentials.
func printed(t *testing.T, c credtypes.Credentials) string {
	t.Helper()
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%v %+v %#v %s %q %x", c, c, c, c, c, c) + string(j) + fmt.Sprint(c.Summary())
}

func wantFields(want map[string]any) func(*testing.T, credtypes.Credentials) {
	return func(t *testing.T, c credtypes.Credentials) {
		t.Helper()
		if fmt.Sprint(c.Fields) != fmt.Sprint(want) {
			t.Errorf("Fields = %v, want %v", c.Fields, want)
		}
	}
}

func wantSummary(want ...credtypes.SummaryItem) func(*testing.T, credtypes.Credentials) {
	return func(t *testing.T, c credtypes.Credentials) {
		t.Helper()
		if got := c.Summary(); !slices.Equal(got, want) {
			t.Errorf("Summary() = %v, want %v", got, want)
		}
	}
}

// TestAMisspelledFieldIsOneProblem: `accessKeyID` for `accessKeyId` is one error that
// names the right field, not also "missing field `accessKeyId`".
func TestAMisspelledFieldIsOneProblem(t *testing.T) {
	for _, raw := range []map[string]any{
		{"accessKeyID": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		{"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
	} {
		_, err := credtypes.Parse("aws-credentials", raw, time.Now())
		if err == nil {
			t.Fatalf("%v: no error", raw)
		}
		msg := err.Error()
		if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "did you mean `accessKeyId`?") || strings.Contains(msg, "missing field") {
			t.Errorf("%v: want one error suggesting accessKeyId, got:\n%s", raw, msg)
		}
	}
}
