package e2e

// Validation: bad inputs fail before the first network call, all problems reported at
// once in one error, and the inputs that look unusual but are right are accepted.

import (
	"maps"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

func TestValidationEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 101)
	cases := []struct {
		name    string
		changes map[string]string
		env     map[string]string
		want    []string
	}{
		{"missing required", map[string]string{"credential-id": "", "soracom-auth-key-id": "", "soracom-auth-key": ""}, nil,
			[]string{"credential-id", "soracom-auth-key-id", "soracom-auth-key"}},
		{"coverage + if-exists + bad id + long id", map[string]string{"soracom-coverage-type": "us", "if-exists": "replace", "credential-id": "ok\nbad/id\n" + long}, nil,
			[]string{"soracom-coverage-type", "if-exists", "bad/id", "100"}},
		{"only key id", map[string]string{"aws-secret-access-key": ""}, nil, []string{"aws-secret-access-key"}},
		{"only secret", map[string]string{"aws-access-key-id": ""}, nil, []string{"aws-access-key-id"}},
		{"malformed key id", map[string]string{"aws-access-key-id": "akia-lower"}, nil, []string{"aws-access-key-id"}},
		{"credentials array", map[string]string{"aws-access-key-id": "", "aws-secret-access-key": "", "credentials": `["x"]`}, nil, []string{"credentials", "object"}},
		{"credentials not json", map[string]string{"aws-access-key-id": "", "aws-secret-access-key": "", "credentials": `nope`}, nil, []string{"credentials"}},
		{"keys and credentials", map[string]string{"credentials": `{"accessKeyId":"AKIAE2ETESTKEY000002","secretAccessKey":"abcdefSecretQA"}`}, nil, []string{"credentials", "aws-access-key-id"}},
		{"http to non-loopback", map[string]string{"soracom-endpoint": "http://api.example.com"}, nil, []string{"soracom-endpoint", "https"}},
		{"http via SORACOM_ENDPOINT", map[string]string{"soracom-endpoint": ""}, map[string]string{"SORACOM_ENDPOINT": "http://10.1.2.3:8080"}, []string{"SORACOM_ENDPOINT"}},
		{"many at once", map[string]string{"soracom-coverage-type": "eu", "if-exists": "x", "credential-id": "a b", "soracom-endpoint": "http://example.org", "aws-access-key-id": "bad"}, nil,
			[]string{"5 invalid inputs", "soracom-coverage-type", "if-exists", "credential-id", "soracom-endpoint", "aws-access-key-id"}},
		{"a missing key with four bad values", map[string]string{"credential-id": "bad id", "soracom-coverage-type": "eu", "if-exists": "overwrite", "aws-access-key-id": "", "dry-run": "yes"}, nil,
			[]string{"credential-id", "soracom-coverage-type", "if-exists", "aws-access-key-id is required", "dry-run"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, in := registration(t, tc.changes)
			var secs []string
			if in["soracom-auth-key"] != "" {
				secs = []string{authKeySecret}
			}
			r := runAction(t, runOpts{inputs: in, env: tc.env, secrets: secs})
			if r.code != 1 {
				t.Fatalf("exit %d", r.code)
			}
			msg := oneError(t, r)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			if n := len(s.Requests()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
			if len(r.outputs) != 0 {
				t.Errorf("outputs were written: %v", r.outputs)
			}
		})
	}
}

func TestValidationAccepts(t *testing.T) {
	t.Parallel()
	id100 := strings.Repeat("a", 100)
	for _, tc := range []struct {
		name    string
		changes func(s *soracomtest.Server) map[string]string
		env     func(s *soracomtest.Server) map[string]string
	}{
		{"id of 100 chars with . _ -", func(*soracomtest.Server) map[string]string {
			return map[string]string{"credential-id": id100[:97] + "._-"}
		}, nil},
		{"localhost endpoint", func(s *soracomtest.Server) map[string]string {
			return map[string]string{"soracom-endpoint": strings.Replace(s.URL(), "127.0.0.1", "localhost", 1)}
		}, nil},
		{"SORACOM_ENDPOINT env", func(*soracomtest.Server) map[string]string { return map[string]string{"soracom-endpoint": ""} },
			func(s *soracomtest.Server) map[string]string { return map[string]string{"SORACOM_ENDPOINT": s.URL()} }},
		{"endpoint with /v1", func(s *soracomtest.Server) map[string]string {
			return map[string]string{"soracom-endpoint": s.URL() + "/v1"}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, in := registration(t, nil)
			for k, v := range tc.changes(s) {
				in[k] = v
			}
			var env map[string]string
			if tc.env != nil {
				env = tc.env(s)
			}
			r := runAction(t, runOpts{inputs: in, env: env, secrets: inputSecrets})
			mustSucceed(t, r)
		})
	}
}

func TestBooleansYAML12(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"true", "True", "TRUE", "false", "False", "FALSE"} {
		s, in := registration(t, map[string]string{"dry-run": v, "verify-aws-key": "FALSE"})
		r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
		mustSucceed(t, r)
		dry := strings.EqualFold(v, "true")
		if _, stored := s.CredentialSet("funnel-aws"); stored == dry {
			t.Errorf("dry-run=%s: stored=%v", v, stored)
		}
		if dry && r.outputs["operation"] != "planned" {
			t.Errorf("dry-run=%s: operation %q", v, r.outputs["operation"])
		}
	}
	for _, v := range []string{"yes", "1", "on", "tRUE", "no"} {
		s, in := registration(t, map[string]string{"dry-run": v})
		r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
		if r.code != 1 || len(s.Requests()) != 0 || !strings.Contains(oneError(t, r), "dry-run") {
			t.Errorf("dry-run=%q accepted (exit %d)", v, r.code)
		}
	}
}

func TestRotationContradictionsBeforeNetwork(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		changes map[string]string
		want    []string
	}{
		{"iam-user + keys", map[string]string{"aws-access-key-id": awsKeyID, "aws-secret-access-key": awsSecret}, []string{"iam-user-name", "aws-access-key-id"}},
		{"iam-user + credentials", map[string]string{"credentials": `{"accessKeyId":"AKIAE2ETESTKEY000001","secretAccessKey":"abcdefghSecretQA"}`}, []string{"iam-user-name", "credentials"}},
		{"iam-user + other type", map[string]string{"credential-type": "x509"}, []string{"iam-user-name", "aws-credentials"}},
		{"role without iam-user", map[string]string{"iam-user-name": "", "aws-access-key-id": awsKeyID, "aws-secret-access-key": awsSecret}, []string{"role-to-assume", "iam-user-name"}},
		{"bad session name", map[string]string{"role-session-name": "a b"}, []string{"role-session-name"}},
		{"session name too long", map[string]string{"role-session-name": strings.Repeat("s", 65)}, []string{"role-session-name"}},
		{"duration too short", map[string]string{"role-duration-seconds": "899"}, []string{"role-duration-seconds"}},
		{"bad old-key", map[string]string{"old-key": "remove"}, []string{"old-key"}},
		{"bad role arn", map[string]string{"role-to-assume": "arn:aws:iam::123:user/x"}, []string{"role-to-assume"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newRotationWorld(t)
			maps.Copy(w.inputs, tc.changes)
			r := runAction(t, runOpts{inputs: w.inputs, env: w.env, secrets: []string{authKeySecret}})
			if r.code != 1 {
				t.Fatalf("exit %d", r.code)
			}
			msg := oneError(t, r)
			for _, s := range tc.want {
				if !strings.Contains(msg, s) {
					t.Errorf("error lacks %q: %s", s, msg)
				}
			}
			if len(w.soracom.Requests()) != 0 || len(w.acct.Requests()) != 0 || w.oidc.Attempts() != 0 {
				t.Errorf("network calls before validation failed")
			}
		})
	}
}

// The error a runner shows for bad inputs, whole: one annotation listing every problem
// and what to change (the leak scan of runAction checks the secrets were masked).
func TestBadInputsPrintEveryProblemInOneError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		golden  string
		changes map[string]string
	}{
		{"bad-registration-inputs", map[string]string{
			"credential-id": "bad id", "soracom-coverage-type": "eu", "if-exists": "overwrite",
			"aws-access-key-id": "", "dry-run": "yes",
		}},
		{"bad-rotation-inputs", map[string]string{
			"iam-user-name": rotUser, "role-session-name": "a b", "role-duration-seconds": "899", "old-key": "remove",
		}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			s, in := registration(t, tc.changes)
			r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
			if r.code != 1 || len(s.Requests()) != 0 {
				t.Fatalf("exit %d after %d requests", r.code, len(s.Requests()))
			}
			checkGolden(t, tc.golden, oneError(t, r)+"\n")
		})
	}
}
