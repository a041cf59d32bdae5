package inputs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
)

// rotation returns the variables of a valid rotation, with changes.
func rotationVars(changes map[string]string) map[string]string {
	v := valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", IAMUserName: "soracom-funnel"})
	for k, val := range changes {
		v[EnvName(k)] = val
	}
	return v
}

// auditVars returns the variables of a valid audit of every set, with changes.
func auditVars(changes map[string]string) map[string]string {
	v := valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialID: "", AuditInput: "true"})
	for k, val := range changes {
		if val == "" {
			delete(v, EnvName(k))
			continue
		}
		v[EnvName(k)] = val
	}
	return v
}

func TestReadAuditModeNeedsNoCredentialIDAndAppliesItsDefaults(t *testing.T) {
	cfg, err := Read(env(t, auditVars(nil)), &masks{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != Audit || len(cfg.CredentialIDs) != 0 {
		t.Errorf("mode %s, ids %q", cfg.Mode, cfg.CredentialIDs)
	}
	if cfg.MaxKeyAge != 90*24*time.Hour || cfg.UnusedAfter != 90*24*time.Hour || cfg.ExpiryWarning != 30*24*time.Hour || cfg.FailOn != FailOnBroken {
		t.Errorf("audit defaults not applied: %+v", cfg)
	}
}

func TestReadAuditModeTakesItsSettings(t *testing.T) {
	cfg, err := Read(env(t, auditVars(map[string]string{
		CredentialID: "a\nb", MaxKeyAge: "2w", UnusedAfter: "36h", ExpiryWarning: "1h30m", FailOnInput: "warning",
		IAMUserName: "soracom-funnel", RoleToAssume: "arn:aws:iam::123456789012:role/auditor",
	})), &masks{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != Audit || strings.Join(cfg.CredentialIDs, ",") != "a,b" || cfg.IAMUserName != "soracom-funnel" {
		t.Errorf("cfg = %+v", cfg)
	}
	if cfg.MaxKeyAge != 14*24*time.Hour || cfg.UnusedAfter != 36*time.Hour || cfg.ExpiryWarning != 90*time.Minute || cfg.FailOn != FailOnWarning {
		t.Errorf("settings not read: %+v", cfg)
	}
}

func TestReadModeProblems(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want []string
	}{
		{"audit refuses keys to store", auditVars(map[string]string{AWSAccessKeyID: testAWSKeyID, AWSSecretAccessKey: testAWSSecret}), []string{"audit: true reports and changes nothing", "aws-access-key-id/aws-secret-access-key must not be set"}},
		{"audit refuses credentials", auditVars(map[string]string{Credentials: `{"key":"v"}`}), []string{"credentials must not be set"}},
		{"audit refuses a description", auditVars(map[string]string{Description: "x"}), []string{"description applies when sets are written, and audit: true writes nothing"}},
		{"audit refuses write settings", auditVars(map[string]string{IfExists: "skip", DryRun: "true", VerifyAWSKey: "false", MaxParallel: "8"}), []string{"if-exists applies when sets are written", "dry-run applies", "verify-aws-key applies", "max-parallel applies"}},
		{"audit refuses rotation settings", auditVars(map[string]string{OldKey: "delete", RotateAfter: "30d"}), []string{"old-key applies to a rotation", "rotate-after applies to a rotation"}},
		{"audit that is not a boolean", auditVars(map[string]string{AuditInput: "yes"}), []string{"audit must be true or false"}},
		{"fail-on outside the enum", auditVars(map[string]string{FailOnInput: "error"}), []string{`fail-on must be broken, warning or never, not "error"`}},
		{"audit settings without audit", valid(map[string]string{MaxKeyAge: "30d", FailOnInput: "never"}), []string{"max-key-age applies to a health report", "fail-on applies to a health report"}},
		{"rotate-after without a rotation", valid(map[string]string{RotateAfter: "30d"}), []string{"rotate-after applies to a rotation, which iam-user-name starts"}},
		{"a bad rotate-after", rotationVars(map[string]string{RotateAfter: "30 days"}), []string{`rotate-after "30 days" is not a duration`, "e.g. 90d"}},
		{"a negative max-key-age", auditVars(map[string]string{MaxKeyAge: "-1d"}), []string{`max-key-age "-1d" is not a duration`}},
		{"a zero max-key-age", auditVars(map[string]string{MaxKeyAge: "0"}), []string{"max-key-age must be longer than 0"}},
		{"a day count in fractions", auditVars(map[string]string{UnusedAfter: "1.5d"}), []string{`unused-after "1.5d" is not a duration`}},
		{"credential-id still required in a rotation", rotationVars(map[string]string{CredentialID: ""}), []string{"credential-id is required"}},
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

func TestReadRotateAfter(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "0": 0, "90d": 90 * 24 * time.Hour, "12h": 12 * time.Hour, "2w": 14 * 24 * time.Hour} {
		cfg, err := Read(env(t, rotationVars(map[string]string{RotateAfter: in})), &masks{}, time.Now())
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if cfg.Mode != Rotate || cfg.RotateAfter != want {
			t.Errorf("%q: mode %s, RotateAfter %s, want %s", in, cfg.Mode, cfg.RotateAfter, want)
		}
	}
}

func TestReadOldKeyIsTyped(t *testing.T) {
	for in, want := range map[string]rotation.OldKeyPolicy{"deactivate": rotation.Deactivate, "delete": rotation.Delete, "keep": rotation.Keep} {
		cfg, err := Read(env(t, rotationVars(map[string]string{OldKey: in})), &masks{}, time.Now())
		if err != nil || cfg.OldKey != want {
			t.Errorf("%s: OldKey %q, err %v", in, cfg.OldKey, err)
		}
	}
}

func TestReadDescription(t *testing.T) {
	tests := []struct {
		name, input string
		keep        bool
		want        string
	}{
		{"empty keeps the stored description", "", true, ""},
		{"blank keeps it too", "  ", true, ""},
		{"a dash clears it", "-", false, ""},
		{"a value replaces it", "Funnel to S3", false, "Funnel to S3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := valid(nil)
			vars[EnvName(Description)] = tt.input
			cfg, err := Read(env(t, vars), &masks{}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if (cfg.Description == nil) != tt.keep || (!tt.keep && *cfg.Description != tt.want) {
				t.Errorf("Description = %v", cfg.Description)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	good := map[string]time.Duration{
		"90d": 90 * day, "12h": 12 * time.Hour, "2w": 14 * day, "36h": 36 * time.Hour, "1h30m": 90 * time.Minute,
		"1w3d": 10 * day, "3d12h": 84 * time.Hour, "0": 0, "0d": 0, "36500d": 36500 * day,
	}
	for in, want := range good {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "90", "90 d", "-1h", "-2d", "1d-1h", "3d1w", "1.5d", "90days", "36501d", "999999999w", "2562047h", "1d2562047h"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %s, want an error", in, got)
		}
	}
}

// linkedWorkspace makes a workspace ws under root with files inside, a file outside,
// and symbolic links that leave it or stay inside (see the test below).
func linkedWorkspace(t *testing.T) (root, ws, outside string) {
	t.Helper()
	root = t.TempDir()
	ws = filepath.Join(root, "ws")
	outside = filepath.Join(root, "outside.json")
	for path, data := range map[string]string{
		outside:                            `{"key":"outside-psk-secret"}`,
		filepath.Join(ws, "in.json"):       `{"key":"inside-psk-secret"}`,
		filepath.Join(ws, "sub", "x.json"): `{"key":"sub-psk-secret"}`,
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(ws, "link.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root, filepath.Join(ws, "up")); err != nil {
		t.Fatal(err)
	}
	// Links that stay inside: to a file (relative and absolute), to a directory, and a
	// workspace named through a link.
	for link, target := range map[string]string{
		filepath.Join(ws, "in-link.json"): "sub/x.json", filepath.Join(ws, "abs-link.json"): filepath.Join(ws, "in.json"),
		filepath.Join(ws, "sub-link"): "sub", filepath.Join(root, "ws-link"): "ws",
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	return root, ws, outside
}

func TestReadCredentialsFileStaysInTheWorkspace(t *testing.T) {
	root, ws, outside := linkedWorkspace(t)
	tests := []struct {
		name, file, want string // want: a problem, or "" for success
		workspace        string // GITHUB_WORKSPACE; ws when empty
	}{
		{name: "a symbolic link to a file inside", file: "in-link.json"},
		{name: "a symbolic link to a file inside, by its absolute path", file: "abs-link.json"},
		{name: "a path through a symbolic link to a directory inside", file: "sub-link/x.json"},
		{name: "a workspace named through a symbolic link", file: "in.json", workspace: filepath.Join(root, "ws-link")},
		{name: "an absolute path through the workspace's link", file: filepath.Join(root, "ws-link", "sub", "x.json"), workspace: filepath.Join(root, "ws-link")},
		{name: "a relative path inside", file: "in.json"},
		{name: "a path through a subdirectory", file: "sub/../sub/x.json"},
		{name: "an absolute path inside", file: filepath.Join(ws, "sub", "x.json")},
		{name: "dot-dot out of the workspace", file: "../outside.json", want: "is outside the workspace (GITHUB_WORKSPACE)"},
		{name: "an absolute path outside", file: outside, want: "is outside the workspace"},
		{name: "a symbolic link to a file outside", file: "link.json", want: "once its symbolic links are followed"},
		{name: "a symbolic link to a directory outside", file: "up/outside.json", want: "once its symbolic links are followed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m masks
			vars := valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "psk", CredentialsFile: tt.file})
			vars["GITHUB_WORKSPACE"] = ws
			if tt.workspace != "" {
				vars["GITHUB_WORKSPACE"] = tt.workspace
			}
			cfg, err := Read(env(t, vars), &m, time.Now())
			if tt.want == "" {
				wantProblems(t, err)
				if cfg.Credentials.Fields["key"] == nil {
					t.Errorf("file not read")
				}
				return
			}
			wantProblems(t, err, tt.want, CredentialsFile)
			if contains(m, "outside-psk-secret") {
				t.Errorf("the file outside was read")
			}
		})
	}
}

func TestReadAuditThatIsNotABooleanIsOneProblem(t *testing.T) {
	_, err := Read(env(t, auditVars(map[string]string{AuditInput: "yes"})), &masks{}, time.Now())
	ie, ok := asError(err)
	if !ok || len(ie.Problems) != 1 || !strings.Contains(ie.Problems[0], `audit must be true or false`) {
		t.Errorf("want one problem about audit, got %v", err)
	}
}

// Outside GitHub (no GITHUB_WORKSPACE) the workspace is the current directory.
func TestReadCredentialsFileWithoutAWorkspaceIsConfinedToTheCurrentDirectory(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "here")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string]string{filepath.Join(dir, "psk.json"): `{"key":"here-psk-secret"}`, filepath.Join(root, "up.json"): `{"key":"up-psk-secret"}`} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	read := func(file string) (*Config, error) {
		return Read(env(t, valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "psk", CredentialsFile: file})), &masks{}, time.Now())
	}
	if cfg, err := read("psk.json"); err != nil || cfg.Credentials.Fields["key"] != "here-psk-secret" {
		t.Errorf("relative file not read: %v", err)
	}
	_, err := read("../up.json")
	wantProblems(t, err, `credentials-file: "../up.json" is outside the workspace (the current directory)`)
}

// Every mode works on both coverages: a registration writes both, a rotation moves the
// sets of both, an audit covers both.
func TestEveryModeTakesBothCoverages(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"registration": valid(map[string]string{CoverageType: "both"}),
		"rotation":     rotationVars(map[string]string{CoverageType: "both"}),
		"audit":        auditVars(map[string]string{CoverageType: "both"}),
	} {
		cfg, err := Read(env(t, vars), &masks{}, time.Now())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(cfg.Coverages) != 2 || cfg.Coverages[0].Name != "jp" || cfg.Coverages[1].Name != "g" {
			t.Errorf("%s: coverages %+v", name, cfg.Coverages)
		}
	}
}
