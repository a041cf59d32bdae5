package inputs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsendpoints"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
)

const (
	testAuthSecret = "secret-0123456789abcdefSECRET"
	testAWSKeyID   = "AKIAIOSFODNN7EXAMPLE"
	testAWSSecret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// env is a strict fake environment: reading a variable the test did not list fails the
// test, so no hidden dependency on the environment can creep in.
func env(t *testing.T, vars map[string]string) Getenv {
	t.Helper()
	allowed := map[string]bool{"SORACOM_ENDPOINT": true, "SORACOM_ENDPOINT_JP": true, "SORACOM_ENDPOINT_G": true, "GITHUB_WORKSPACE": true, "ACTIONS_ID_TOKEN_REQUEST_URL": true}
	for _, v := range awsendpoints.Variables("STS", "IAM") {
		allowed[v] = true
	}
	for _, s := range specs {
		allowed[EnvName(s.Name)] = true
	}
	return func(k string) string {
		if !allowed[k] {
			t.Errorf("read unexpected environment variable %s", k)
		}
		return vars[k]
	}
}

// valid returns the variables of a valid aws-credentials registration, with changes.
func valid(changes map[string]string) map[string]string {
	v := map[string]string{
		EnvName(CredentialID):       "my-funnel",
		EnvName(AuthKeyID):          "keyId-0123456789abcdef",
		EnvName(AuthKey):            testAuthSecret,
		EnvName(AWSAccessKeyID):     testAWSKeyID,
		EnvName(AWSSecretAccessKey): testAWSSecret,
	}
	for k, val := range changes {
		if val == "" {
			delete(v, EnvName(k))
			continue
		}
		v[EnvName(k)] = val
	}
	return v
}

type masks []string

// asError returns Read's *Error, however it is wrapped.
func asError(err error) (*Error, bool) {
	var ie *Error
	ok := errors.As(err, &ie)
	return ie, ok
}

// wantProblems checks Read's error: none when want is empty, else one that says each of
// want.
func wantProblems(t *testing.T, err error, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("err = %v", err)
		}
		return
	}
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q:\n%v", w, err)
		}
	}
}

func (m *masks) AddMask(v string) { *m = append(*m, v) }

func TestEnvNameKeepsHyphensAsTheRunnerDoes(t *testing.T) {
	if got := EnvName("soracom-auth-key-id"); got != "INPUT_SORACOM-AUTH-KEY-ID" {
		t.Fatalf("EnvName = %q", got)
	}
}

func TestReadValidRegistration(t *testing.T) {
	var m masks
	cfg, err := Read(env(t, valid(nil)), &m, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != Register || cfg.Type != "aws-credentials" || cfg.CoverageType != "jp" || cfg.IfExists != soracom.Update || cfg.MaxParallel != 4 || cfg.DryRun || !cfg.VerifyAWSKey {
		t.Errorf("defaults not applied: %+v", cfg)
	}
	if len(cfg.Coverages) != 1 || cfg.Coverages[0] != (Coverage{"jp", "https://api.soracom.io"}) {
		t.Errorf("Coverages = %v", cfg.Coverages)
	}
	if got := cfg.Credentials.Fields["accessKeyId"]; got != testAWSKeyID {
		t.Errorf("accessKeyId = %v", got)
	}
	if cfg.AuthKey.Reveal() != testAuthSecret {
		t.Errorf("AuthKey not read")
	}
	for _, s := range []string{testAuthSecret, testAWSSecret} {
		if !contains(m, s) {
			t.Errorf("%s... was not masked; masks: %d", s[:6], len(m))
		}
	}
	if contains(m, testAWSKeyID) {
		t.Errorf("the access key id was masked; it is an output users pass on")
	}
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func TestReadReportsEveryProblemAtOnce(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		want    []string // substrings, each must appear
		notMode bool
	}{
		{"missing required inputs are all named", map[string]string{}, []string{"credential-id is required", "soracom-auth-key-id is required", "soracom-auth-key is required", "nothing to store"}, false},
		{"unknown coverage type", valid(map[string]string{CoverageType: "us"}), []string{"soracom-coverage-type must be jp, g or both"}, false},
		{"unknown if-exists", valid(map[string]string{IfExists: "replace"}), []string{"if-exists must be update, skip or fail"}, false},
		{"aws-credentials without the secret", valid(map[string]string{AWSSecretAccessKey: ""}), []string{"aws-secret-access-key is required"}, false},
		{"aws-credentials without the key id", valid(map[string]string{AWSAccessKeyID: ""}), []string{"aws-access-key-id is required"}, false},
		{"malformed access key id", valid(map[string]string{AWSAccessKeyID: "not-a-key"}), []string{"aws-access-key-id is not an AWS access key id"}, false},
		{"temporary STS key", valid(map[string]string{AWSAccessKeyID: "ASIAIOSFODNN7EXAMPLE"}), []string{"temporary (STS) key", "aws-iam-role-credentials"}, false},
		{"credentials that are not a JSON object", valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", Credentials: `["a"]`}), []string{"credentials must be a JSON object", "array"}, false},
		{"credentials that are not JSON", valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", Credentials: `{"accessKeyId": `}), []string{"credentials must be a JSON object", "not valid JSON"}, false},
		{"AWS key inputs together with credentials", valid(map[string]string{Credentials: `{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","secretAccessKey":"x"}`}), []string{"not both"}, false},
		{"id with a character outside the set", valid(map[string]string{CredentialID: "my funnel"}), []string{`credential-id "my funnel" may contain only`}, false},
		{"id longer than 100", valid(map[string]string{CredentialID: strings.Repeat("a", 101)}), []string{"101 characters long"}, false},
		{"plain http to a host that is not loopback", valid(map[string]string{Endpoint: "http://api.soracom.io"}), []string{"plain http"}, false},
		{"endpoint that is not a URL", valid(map[string]string{Endpoint: "api.soracom.io"}), []string{"is not an http(s) URL"}, false},
		{"boolean outside YAML 1.2", valid(map[string]string{DryRun: "yes"}), []string{"dry-run must be true or false"}, false},
		{"max-parallel of 0", valid(map[string]string{MaxParallel: "0"}), []string{`max-parallel must be a whole number from 1 to 16, not "0"`}, false},
		{"max-parallel over 16", valid(map[string]string{MaxParallel: "17"}), []string{`max-parallel must be a whole number from 1 to 16, not "17"`}, false},
		{"max-parallel that is not a number", valid(map[string]string{MaxParallel: "all"}), []string{`max-parallel must be a whole number from 1 to 16, not "all"`}, false},
		{"auth key id that is not one", valid(map[string]string{AuthKeyID: "secret-abc"}), []string{`must start with "keyId-"`}, false},
		{"role without a user to rotate", valid(map[string]string{RoleToAssume: "arn:aws:iam::123456789012:role/r"}), []string{"role-to-assume is used to rotate"}, false},
		{"rotation together with given keys", valid(map[string]string{IAMUserName: "funnel"}), []string{"iam-user-name rotates", "must not be set"}, true},
		{"rotation of a non-AWS type", valid(map[string]string{IAMUserName: "funnel", AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "psk"}), []string{"needs credential-type aws-credentials"}, true},
		{"rotation with if-exists skip", valid(map[string]string{IAMUserName: "funnel", AWSAccessKeyID: "", AWSSecretAccessKey: "", IfExists: "skip"}), []string{"if-exists must be update"}, true},
		{"bad role ARN", valid(map[string]string{IAMUserName: "funnel", AWSAccessKeyID: "", AWSSecretAccessKey: "", RoleToAssume: "arn:aws:iam::123:user/x"}), []string{"is not an IAM role ARN"}, true},
		{"bad session name", valid(map[string]string{IAMUserName: "funnel", AWSAccessKeyID: "", AWSSecretAccessKey: "", RoleToAssume: "arn:aws:iam::123456789012:role/r", RoleSessionName: "a b"}), []string{"role-session-name"}, true},
		{"role duration out of range", valid(map[string]string{IAMUserName: "funnel", AWSAccessKeyID: "", AWSSecretAccessKey: "", RoleToAssume: "arn:aws:iam::123456789012:role/r", RoleDurationSeconds: "60"}), []string{"role-duration-seconds"}, true},
		{"old-key without a rotation", valid(map[string]string{OldKey: "delete"}), []string{"old-key applies to a rotation"}, false},
		{"role settings without a role", valid(map[string]string{IAMUserName: "funnel", AWSAccessKeyID: "", AWSSecretAccessKey: "", Audience: "custom", RoleDurationSeconds: "3600"}), []string{"audience applies to the role", "role-duration-seconds applies to the role"}, true},
		{"unknown old-key value", valid(map[string]string{IAMUserName: "funnel", AWSAccessKeyID: "", AWSSecretAccessKey: "", OldKey: "remove"}), []string{"old-key must be deactivate, delete or keep"}, true},
		{"unknown credential type", valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "aws-credential", Credentials: `{"a":"b"}`}), []string{"credential-type: unknown credential set type `aws-credential`; did you mean `aws-credentials`?"}, false},
		{"unknown credential type with the key inputs", valid(map[string]string{CredentialType: "x059"}), []string{"credential-type: unknown credential set type `x059`; did you mean `x509`?"}, false},
		{"unknown credential type without credentials", valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "pks"}), []string{"did you mean `psk`?", "nothing to store"}, false},
		{"unknown field with a suggestion", valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", Credentials: `{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","secretAccesKey":"x"}`}), []string{"did you mean `secretAccessKey`"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m masks
			_, err := Read(env(t, tt.vars), &m, time.Now())
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			for _, s := range []string{testAuthSecret, testAWSSecret} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error contains a secret")
				}
			}
		})
	}
}

func TestReadReportsEachCredentialsProblemOnItsOwn(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want []string
	}{
		{"a malformed key id, credentials not an object, and both given", valid(map[string]string{AWSAccessKeyID: "akia123", Credentials: "[1]"}),
			[]string{"not both", "aws-access-key-id is not an AWS access key id", "credentials must be a JSON object"}},
		{"a bad coverage type and an unknown field", valid(map[string]string{CoverageType: "eu", AWSAccessKeyID: "", AWSSecretAccessKey: "", Credentials: `{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","secretAccesKey":"x"}`}),
			[]string{"soracom-coverage-type", "did you mean `secretAccessKey`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(env(t, tt.vars), &masks{}, time.Now())
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestReadReportsNothingTwice(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"a temporary key":         valid(map[string]string{AWSAccessKeyID: "ASIAIOSFODNN7EXAMPLE"}),
		"a secret without key id": valid(map[string]string{AWSAccessKeyID: ""}),
		"a key id without secret": valid(map[string]string{AWSSecretAccessKey: ""}),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Read(env(t, vars), &masks{}, time.Now())
			ie, ok := asError(err)
			if !ok || len(ie.Problems) != 1 {
				t.Errorf("want exactly one problem, got %v", err)
			}
		})
	}
}

func TestReadCredentialsFileProblemIsNotAlsoReportedAsMissingFields(t *testing.T) {
	vars := valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "username-password-credentials", CredentialsFile: "cfg/nope.json"})
	vars["GITHUB_WORKSPACE"] = t.TempDir()
	_, err := Read(env(t, vars), &masks{}, time.Now())
	ie, ok := asError(err)
	if !ok || len(ie.Problems) != 1 || !strings.Contains(ie.Problems[0], `"cfg/nope.json"`) {
		t.Errorf("want one problem naming the file, got %v", err)
	}
}

func TestReadRefusesAnEmptyCredentialsFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x509.json"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	vars := valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "x509", CredentialsFile: "x509.json"})
	vars["GITHUB_WORKSPACE"] = dir
	_, err := Read(env(t, vars), &masks{}, time.Now())
	if err == nil || !strings.Contains(err.Error(), `"x509.json"`) || !strings.Contains(err.Error(), "empty") {
		t.Errorf("err = %v", err)
	}
}

func TestReadAllProblemsCountedOnce(t *testing.T) {
	vars := valid(map[string]string{CoverageType: "us", IfExists: "x", DryRun: "maybe", CredentialID: "a b"})
	_, err := Read(env(t, vars), &masks{}, time.Now())
	ie, ok := asError(err)
	if !ok {
		t.Fatalf("err = %T %v", err, err)
	}
	if len(ie.Problems) != 4 {
		t.Errorf("want 4 problems, got %d:\n%v", len(ie.Problems), err)
	}
}

func TestReadBooleansAcceptYAML12Forms(t *testing.T) {
	for _, v := range []string{"true", "True", "TRUE", "false", "False", "FALSE"} {
		cfg, err := Read(env(t, valid(map[string]string{DryRun: v})), &masks{}, time.Now())
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if cfg.DryRun != strings.EqualFold(v, "true") {
			t.Errorf("%s read as %v", v, cfg.DryRun)
		}
	}
}

func TestReadEndpoint(t *testing.T) {
	tests := []struct {
		name, input, coverage string
		env                   map[string]string
		want                  string // coverage=endpoint ...
	}{
		{"jp production by default", "", "", nil, "jp=https://api.soracom.io"},
		{"g production for coverage g", "", "g", nil, "g=https://g.api.soracom.io"},
		{"both production endpoints for both", "", "both", nil, "jp=https://api.soracom.io g=https://g.api.soracom.io"},
		{"SORACOM_ENDPOINT when the input is empty", "", "", map[string]string{"SORACOM_ENDPOINT": "https://api-sandbox.soracom.io"}, "jp=https://api-sandbox.soracom.io"},
		{"the input wins over SORACOM_ENDPOINT", "https://proxy.example.com/soracom", "", map[string]string{"SORACOM_ENDPOINT": "https://api-sandbox.soracom.io"}, "jp=https://proxy.example.com/soracom"},
		{"a coverage's own variable wins over SORACOM_ENDPOINT", "", "g", map[string]string{"SORACOM_ENDPOINT": "https://api-sandbox.soracom.io", "SORACOM_ENDPOINT_G": "https://g.api-sandbox.soracom.io"}, "g=https://g.api-sandbox.soracom.io"},
		{"the other coverage's variable does not apply", "", "jp", map[string]string{"SORACOM_ENDPOINT_G": "https://g.api-sandbox.soracom.io"}, "jp=https://api.soracom.io"},
		{"both with a variable each", "", "both", map[string]string{"SORACOM_ENDPOINT_JP": "http://127.0.0.1:1", "SORACOM_ENDPOINT_G": "http://127.0.0.1:2"}, "jp=http://127.0.0.1:1 g=http://127.0.0.1:2"},
		{"both with a variable each ignore SORACOM_ENDPOINT", "", "both", map[string]string{"SORACOM_ENDPOINT": "https://x.example", "SORACOM_ENDPOINT_JP": "https://api-sandbox.soracom.io", "SORACOM_ENDPOINT_G": "https://g.api-sandbox.soracom.io"}, "jp=https://api-sandbox.soracom.io g=https://g.api-sandbox.soracom.io"},
		{"both with one variable: the other coverage is production", "", "both", map[string]string{"SORACOM_ENDPOINT_JP": "https://proxy.example.com"}, "jp=https://proxy.example.com g=https://g.api.soracom.io"},
		{"a trailing /v1 is dropped", "https://g.api-sandbox.soracom.io/v1/", "", nil, "jp=https://g.api-sandbox.soracom.io"},
		{"plain http to 127.0.0.1 is allowed", "http://127.0.0.1:8080", "", nil, "jp=http://127.0.0.1:8080"},
		{"plain http to localhost is allowed", "http://localhost:8080", "", nil, "jp=http://localhost:8080"},
		{"plain http to ::1 is allowed", "http://[::1]:8080", "", nil, "jp=http://[::1]:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := withEnv(valid(map[string]string{Endpoint: tt.input, CoverageType: tt.coverage}), tt.env)
			cfg, err := Read(env(t, vars), &masks{}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cfg.Coverages {
				got = append(got, c.Name+"="+c.Endpoint)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("coverages %q, want %q", strings.Join(got, " "), tt.want)
			}
		})
	}
}

func TestReadRefusesOneEndpointForBothCoverages(t *testing.T) {
	tests := []struct {
		name  string
		input string
		env   map[string]string
		want  string
	}{
		{"soracom-endpoint", "https://proxy.example.com", nil,
			"soracom-endpoint names one endpoint, and soracom-coverage-type both works on two: leave soracom-endpoint empty and set SORACOM_ENDPOINT_JP and SORACOM_ENDPOINT_G"},
		{"soracom-endpoint, even with a variable each", "https://proxy.example.com", map[string]string{"SORACOM_ENDPOINT_JP": "https://a.example", "SORACOM_ENDPOINT_G": "https://b.example"},
			"soracom-endpoint names one endpoint"},
		{"SORACOM_ENDPOINT", "", map[string]string{"SORACOM_ENDPOINT": "https://api-sandbox.soracom.io"},
			"SORACOM_ENDPOINT names one endpoint, and soracom-coverage-type both works on two"},
		{"SORACOM_ENDPOINT with a variable for jp only", "", map[string]string{"SORACOM_ENDPOINT": "https://api-sandbox.soracom.io", "SORACOM_ENDPOINT_JP": "https://a.example"},
			"SORACOM_ENDPOINT names one endpoint"},
		{"the same endpoint twice", "", map[string]string{"SORACOM_ENDPOINT_JP": "https://a.example/", "SORACOM_ENDPOINT_G": "https://a.example"},
			"SORACOM_ENDPOINT_JP and SORACOM_ENDPOINT_G name the same endpoint https://a.example"},
		{"plain http in a coverage's variable", "", map[string]string{"SORACOM_ENDPOINT_G": "http://10.0.0.1"},
			`SORACOM_ENDPOINT_G "http://10.0.0.1" uses plain http`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := withEnv(valid(map[string]string{Endpoint: tt.input, CoverageType: "both", DryRun: "maybe"}), tt.env)
			_, err := Read(env(t, vars), &masks{}, time.Now())
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "dry-run must be true or false") {
				t.Errorf("error %v; want it to say %q, with the other problems", err, tt.want)
			}
		})
	}
}

func TestReadSeveralIDsOnePerLine(t *testing.T) {
	cfg, err := Read(env(t, valid(map[string]string{CredentialID: "a\n b \n\nc\na\n"})), &masks{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.CredentialIDs, ",") != "a,b,c" {
		t.Errorf("ids = %q", cfg.CredentialIDs)
	}
}

func TestReadMasksCredentialsStringsExceptKnownNonSecretFields(t *testing.T) {
	var m masks
	creds := `{"username":"device-user","password":"line1-pass\nline2-pass"}`
	_, err := Read(env(t, valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "username-password-credentials", Credentials: creds})), &m, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"line1-pass", "line2-pass", `line1-pass\nline2-pass`} {
		if !contains(m, want) {
			t.Errorf("%q not masked; masks: %q", want, m)
		}
	}
	if contains(m, "device-user") {
		t.Errorf("username masked: it is not secret")
	}
}

func TestReadMasksEveryLineOfCredentialsThatAreNotJSON(t *testing.T) {
	var m masks
	_, err := Read(env(t, valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", Credentials: "{\"secretAccessKey\": \"abc-secret-value\n"})), &m, time.Now())
	if err == nil {
		t.Fatal("no error")
	}
	joined := strings.Join(m, "\n")
	if !strings.Contains(joined, "abc-secret-value") {
		t.Errorf("the unparseable credentials were not masked: %q", m)
	}
	if strings.Contains(err.Error(), "abc-secret-value") {
		t.Errorf("error shows the secret: %v", err)
	}
}

func TestReadMasksEachValueOfCredentialsThatAreNotJSON(t *testing.T) {
	var m masks
	_, err := Read(env(t, valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", Credentials: `{"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "abc-secret-value",}`})), &m, time.Now())
	if err == nil {
		t.Fatal("no error")
	}
	if !contains(m, "abc-secret-value") {
		t.Errorf("the value was not masked on its own: %q", m)
	}
}

func TestReadCredentialsFileRelativeToWorkspace(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "psk.json"), []byte(`{"key":"file-psk-secret"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var m masks
	vars := valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "psk", CredentialsFile: "psk.json"})
	vars["GITHUB_WORKSPACE"] = dir
	cfg, err := Read(env(t, vars), &m, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Credentials.Fields["key"] != "file-psk-secret" || !contains(m, "file-psk-secret") {
		t.Errorf("file not read or not masked: %v", cfg.Credentials)
	}
}

func TestReadCredentialsFileProblemsNameThePath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`not json`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"missing.json", "bad.json"} {
		vars := valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "psk", CredentialsFile: name})
		vars["GITHUB_WORKSPACE"] = dir
		_, err := Read(env(t, vars), &masks{}, time.Now())
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error does not name the path: %v", name, err)
		}
	}
}

func TestReadRotationMode(t *testing.T) {
	cfg, err := Read(env(t, valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", IAMUserName: "soracom-funnel", RoleToAssume: "arn:aws-cn:iam::123456789012:role/path/rotator"})), &masks{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != Rotate || cfg.OldKey != rotation.Deactivate || cfg.AWS.RoleDuration != 900*time.Second || cfg.AWS.Audience != "sts.amazonaws.com" {
		t.Errorf("cfg = %+v", cfg)
	}
}

// Secrets must be masked even when the run fails validation.
func TestReadMasksBeforeValidating(t *testing.T) {
	var m masks
	_, err := Read(env(t, map[string]string{EnvName(AuthKey): testAuthSecret, EnvName(AWSSecretAccessKey): testAWSSecret}), &m, time.Now())
	if err == nil {
		t.Fatal("no error")
	}
	if !contains(m, testAuthSecret) || !contains(m, testAWSSecret) {
		t.Errorf("secrets not masked: %q", m)
	}
}

var _ secret.Masker = (*masks)(nil)
