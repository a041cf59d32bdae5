package e2e

// Documentation: README's inputs and outputs tables match action.yml, and every workflow
// example in README passes actionlint.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// actionlint is run as a module at a fixed version, so the linter is not a dependency of
// the action's own module.
const actionlintModule = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"

// readmeTable returns the rows of the first markdown table under heading, as cells.
func readmeTable(t *testing.T, heading string) [][]string {
	t.Helper()
	data, err := os.ReadFile(repoFile("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(data), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no %q section", heading)
	}
	var rows [][]string
	inTable := false
	for _, line := range strings.Split(after, "\n") {
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		if strings.HasPrefix(line, "|---") {
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "|"), " | ") {
			cells = append(cells, strings.TrimSpace(c))
		}
		rows = append(rows, cells)
	}
	if len(rows) < 2 {
		t.Fatalf("no table under %q", heading)
	}
	return rows[1:] // without the header row
}

func unquote(cell string) string { return strings.Trim(cell, "`") }

func TestReadmeInputsTableMatchesActionYML(t *testing.T) {
	meta := readActionYML(t)
	seen := map[string]bool{}
	for _, row := range readmeTable(t, "## Inputs") {
		name := unquote(row[0])
		seen[name] = true
		in, ok := meta.Inputs[name]
		if !ok {
			t.Errorf("README documents input %q that action.yml does not declare", name)
			continue
		}
		var want string
		switch {
		case in.Required:
			want = "(required)"
		case in.Default == "":
			want = "empty"
		default:
			want = "`" + in.Default + "`"
		}
		if row[1] != want {
			t.Errorf("README says input %s defaults to %s; action.yml: %s", name, row[1], want)
		}
	}
	for name := range meta.Inputs {
		if !seen[name] {
			t.Errorf("action.yml input %q is missing from README's Inputs table", name)
		}
	}
}

func TestReadmeOutputsTableMatchesActionYML(t *testing.T) {
	meta := readActionYML(t)
	var readme, yml []string
	for _, row := range readmeTable(t, "## Outputs") {
		readme = append(readme, unquote(row[0]))
	}
	for name := range meta.Outputs {
		yml = append(yml, name)
	}
	sort.Strings(readme)
	sort.Strings(yml)
	if strings.Join(readme, ",") != strings.Join(yml, ",") {
		t.Errorf("README outputs %v, action.yml outputs %v", readme, yml)
	}
}

func TestActionYMLIsAContainerActionWithDocumentedInputs(t *testing.T) {
	meta := readActionYML(t)
	if meta.Runs.Using != "docker" || meta.Runs.Image == "" {
		t.Errorf("runs = %+v", meta.Runs)
	}
	for name, in := range meta.Inputs {
		if strings.TrimSpace(in.Description) == "" {
			t.Errorf("input %s has no description", name)
		}
	}
}

var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// readmeWorkflows returns README's workflow examples: whole workflows as they are, and
// step snippets inside a minimal workflow so they can be linted too. A YAML block that
// is neither fails the test: every example must be lintable.
func readmeWorkflows(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(repoFile("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for i, m := range yamlBlock.FindAllStringSubmatch(string(data), -1) {
		body := m[1]
		name := fmt.Sprintf("readme-example-%02d.yml", i+1)
		switch {
		case strings.Contains(body, "\njobs:"):
			out[name] = body
		case strings.HasPrefix(strings.TrimSpace(body), "- "):
			out[name] = "name: example\non: workflow_dispatch\njobs:\n  example:\n    runs-on: ubuntu-latest\n    steps:\n" + body
		default:
			t.Errorf("README YAML block %d is neither a workflow nor a list of steps, so actionlint cannot check it:\n%s", i+1, body)
		}
	}
	if len(out) < 5 {
		t.Fatalf("found only %d workflow examples in README.md", len(out))
	}
	return out
}

func TestReadmeWorkflowExamplesPassActionlint(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for name, body := range readmeWorkflows(t) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	sort.Strings(files)
	cmd := exec.Command("go", append([]string{"run", actionlintModule, "-no-color"}, files...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || strings.Contains(string(out), "go: ") {
			if os.Getenv("CI") == "" {
				t.Skipf("actionlint could not be built here (%v): %s", err, out)
			}
		}
		t.Fatalf("actionlint on README's workflow examples:\n%s", out)
	}
}

// TestReadmeLinksResolve holds README's links to the repository: a relative link names a
// file that exists, and an in-page link names a heading (GitHub's anchor rules: lower
// case, punctuation dropped, spaces as hyphens). The security model points readers at
// SECURITY.md and at other sections, and a broken link there hides how to report.
func TestReadmeLinksResolve(t *testing.T) {
	data, err := os.ReadFile(repoFile("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#{1,6} (.+)$`).FindAllStringSubmatch(text, -1) {
		anchors[githubAnchor(m[1])] = true
	}
	links := regexp.MustCompile(`\]\(([^)\s]+)\)`).FindAllStringSubmatch(text, -1)
	if len(links) == 0 {
		t.Fatal("README has no links: the pattern is wrong")
	}
	for _, m := range links {
		target := m[1]
		switch {
		case strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:"):
			continue
		case strings.HasPrefix(target, "#"):
			if !anchors[target[1:]] {
				t.Errorf("README links to %s, but no heading has that anchor", target)
			}
		default:
			path, _, _ := strings.Cut(target, "#")
			if _, err := os.Stat(repoFile(path)); err != nil {
				t.Errorf("README links to %s: %v", target, err)
			}
		}
	}
	if !strings.Contains(text, "## Security model") || !strings.Contains(text, "(.github/SECURITY.md)") {
		t.Error("README has no Security model section pointing at .github/SECURITY.md")
	}
}

// githubAnchor is the id GitHub gives a heading.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}
