package inputs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"
)

// actionInputs reads the inputs action.yml declares: the single source of input names
// and defaults that the code is held to.
func actionInputs(t *testing.T) map[string]struct {
	Default  string `yaml:"default"`
	Required bool   `yaml:"required"`
} {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Inputs map[string]struct {
			Default  string `yaml:"default"`
			Required bool   `yaml:"required"`
		} `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		t.Fatal(err)
	}
	return meta.Inputs
}

func TestSpecsMatchActionYML(t *testing.T) {
	declared := actionInputs(t)
	for _, s := range specs {
		in, ok := declared[s.Name]
		if !ok {
			t.Errorf("the code reads input %q, which action.yml does not declare", s.Name)
			continue
		}
		if in.Default != s.Default {
			t.Errorf("input %s: action.yml default %q, code default %q", s.Name, in.Default, s.Default)
		}
		if in.Required != s.Required {
			t.Errorf("input %s: action.yml required %v, code required %v", s.Name, in.Required, s.Required)
		}
	}
	for name := range declared {
		if !slices.ContainsFunc(specs, func(s Spec) bool { return s.Name == name }) {
			t.Errorf("action.yml declares input %q, which the code does not know", name)
		}
	}
}

// Every input action.yml declares is read, in every mode: an input that is declared
// but never read would silently do nothing.
func TestReadReadsEveryDeclaredInput(t *testing.T) {
	for mode, vars := range map[Mode]map[string]string{
		Register: valid(nil),
		Rotate:   rotationVars(nil),
		Audit:    auditVars(nil),
	} {
		t.Run(string(mode), func(t *testing.T) {
			read := map[string]bool{}
			getenv := env(t, vars)
			cfg, err := Read(func(k string) string { read[k] = true; return getenv(k) }, &masks{}, time.Now())
			if err != nil || cfg.Mode != mode {
				t.Fatalf("mode %v, err %v", cfg.Mode, err)
			}
			for name := range actionInputs(t) {
				if !read[EnvName(name)] {
					t.Errorf("input %s is never read", name)
				}
			}
		})
	}
}

func TestEveryDefaultIsValid(t *testing.T) {
	// With every input at its default and only the required ones set, a run is valid
	// but has nothing to store: no default trips a rule.
	_, err := Read(env(t, map[string]string{EnvName(AuthKeyID): "keyId-x", EnvName(AuthKey): testAuthSecret, EnvName(CredentialID): "a"}), &masks{}, time.Now())
	ie, ok := asError(err)
	if !ok || len(ie.Problems) != 1 || !strings.HasPrefix(ie.Problems[0], "nothing to store") {
		t.Errorf("err = %v", err)
	}
}
