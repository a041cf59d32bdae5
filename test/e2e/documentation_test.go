package e2e

// Documentation: README.md is for users, in the order a newcomer reads it and within a
// budget; docs/ holds the rest. Every input and output table in README and docs/ matches
// action.yml, every workflow example passes actionlint, every link resolves (anchors
// too), every page of docs/ is reachable from README, and the hints the code prints
// name pages and sections that exist.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// actionlint is run as a module at a fixed version, so the linter is not a dependency of
// the action's own module.
const actionlintModule = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"

// readmeLineBudget is the most lines README.md may have. Past it, move a section's
// details into a page of docs/ and leave a sentence and a link.
const readmeLineBudget = 360

// readmeOrder is the order of README's sections: what a newcomer needs first comes
// first. Other sections may sit between them; "More" (the links to docs/) is last.
var readmeOrder = []string{
	"## Before you start",
	"## Your first workflow",
	"## Rotate",
	"## Health report",
	"## Inputs",
	"## Outputs",
	"## Troubleshooting",
	"## More",
}

// readmeTerms are the words a newcomer may not know: each is a link to SORACOM's page
// for it where README first uses it.
var readmeTerms = []string{"Funnel", "Funk", "Beam", "Harvest", "credential set", "SAM user", "AuthKey", "coverage"}

// docPage is one page of the user documentation: README.md or a page of docs/.
type docPage struct {
	name string // relative to the project root, with forward slashes
	text string
}

func readDoc(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(repoFile(name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// docPages returns README.md and every Markdown page under docs/, README first.
func docPages(t *testing.T) []docPage {
	t.Helper()
	pages := []docPage{{"README.md", readDoc(t, "README.md")}}
	var names []string
	err := filepath.WalkDir(repoFile("docs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			rel, _ := filepath.Rel(repoRoot, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	for _, n := range names {
		pages = append(pages, docPage{n, readDoc(t, n)})
	}
	if len(pages) < 5 {
		t.Fatalf("found only %d documentation pages", len(pages))
	}
	return pages
}

// markdownTables returns the tables of text, each as rows of cells, header row first
// and the |---| row left out.
func markdownTables(text string) [][][]string {
	var tables [][][]string
	var rows [][]string
	for _, line := range strings.Split(text+"\n", "\n") {
		if !strings.HasPrefix(line, "|") {
			if rows != nil {
				tables = append(tables, rows)
				rows = nil
			}
			continue
		}
		if strings.HasPrefix(line, "|---") {
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "|"), " | ") {
			cells = append(cells, strings.TrimSpace(c))
		}
		rows = append(rows, cells)
	}
	return tables
}

// readmeTable returns the rows of the first markdown table under heading, as cells.
func readmeTable(t *testing.T, heading string) [][]string {
	t.Helper()
	_, after, ok := strings.Cut(readDoc(t, "README.md"), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no %q section", heading)
	}
	tables := markdownTables(after)
	if len(tables) == 0 || len(tables[0]) < 2 {
		t.Fatalf("no table under %q", heading)
	}
	return tables[0][1:] // without the header row
}

func unquote(cell string) string { return strings.Trim(cell, "`") }

// defaultCell is how a table shows an input's default.
func defaultCell(in actionInput) string {
	switch {
	case in.Required:
		return "(required)"
	case in.Default == "":
		return "empty"
	default:
		return "`" + in.Default + "`"
	}
}

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
		if want := defaultCell(in); row[1] != want {
			t.Errorf("README says input %s defaults to %s; action.yml: %s", name, row[1], want)
		}
	}
	for name := range meta.Inputs {
		if !seen[name] {
			t.Errorf("action.yml input %q is missing from README's Inputs table", name)
		}
	}
}

// TestDocsInputAndOutputTablesMatchActionYML holds every table of inputs or outputs in
// README and docs/ (a table whose first header is "input" or "output") to action.yml: each
// row names a declared input or output, and a "default" column says its default.
func TestDocsInputAndOutputTablesMatchActionYML(t *testing.T) {
	meta := readActionYML(t)
	checked := 0
	for _, page := range docPages(t) {
		for _, table := range markdownTables(page.text) {
			switch table[0][0] {
			case "input":
				checked++
				checkInputRows(t, page.name, table, meta)
			case "output":
				checked++
				for _, row := range table[1:] {
					if _, ok := meta.Outputs[unquote(row[0])]; !ok {
						t.Errorf("%s documents output %s that action.yml does not declare", page.name, row[0])
					}
				}
			}
		}
	}
	if checked < 3 {
		t.Fatalf("found only %d input or output tables: the header pattern is wrong", checked)
	}
}

func checkInputRows(t *testing.T, page string, table [][]string, meta actionMetadata) {
	t.Helper()
	defaultCol := -1
	for i, h := range table[0] {
		if h == "default" {
			defaultCol = i
		}
	}
	for _, row := range table[1:] {
		name := unquote(row[0])
		in, ok := meta.Inputs[name]
		switch {
		case !ok:
			t.Errorf("%s documents input %q that action.yml does not declare", page, name)
		case defaultCol >= 0 && defaultCol < len(row) && row[defaultCol] != defaultCell(in):
			t.Errorf("%s says input %s defaults to %s; action.yml: %s", page, name, row[defaultCol], defaultCell(in))
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

// TestReadmeFitsItsBudgetInTheNewcomersOrder: README says what the action does in two
// paragraphs that explain its words, then what to set up, a first workflow, rotation,
// the audit, the inputs and outputs, troubleshooting, and links to the rest, in that
// order and within its line budget.
func TestReadmeFitsItsBudgetInTheNewcomersOrder(t *testing.T) {
	text := readDoc(t, "README.md")
	if n := strings.Count(text, "\n"); n > readmeLineBudget {
		t.Errorf("README.md has %d lines, over its budget of %d: move details to docs/ and link them", n, readmeLineBudget)
	}
	at := 0
	for _, heading := range readmeOrder {
		i := strings.Index(text[at:], "\n"+heading)
		if i < 0 {
			t.Fatalf("README has no section %q after the previous one; the order is %q", heading, readmeOrder)
		}
		at += i + 1
	}
	if strings.Contains(text[at:], "\n## ") {
		t.Errorf("README has a section after %q, which holds the links to the rest and comes last", readmeOrder[len(readmeOrder)-1])
	}
	intro, _, _ := strings.Cut(text, "\n## ")
	_, intro, _ = strings.Cut(intro, "\n\n") // without the title
	if n := len(strings.Split(strings.TrimSpace(intro), "\n\n")); n != 2 {
		t.Errorf("README's introduction has %d paragraphs, want 2", n)
	}
	for _, term := range readmeTerms {
		i := strings.Index(text, term)
		if i < 1 || text[i-1] != '[' || !strings.Contains(text[i:strings.Index(text[i:], ")")+i], "soracom") {
			t.Errorf("README does not link %q to SORACOM's page for it where it first uses it", term)
		}
	}
}

var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// docWorkflows returns the workflow examples of README and docs/: whole workflows as
// they are, and step snippets inside a minimal workflow so they can be linted too. A
// YAML block that is neither fails the test: every example must be lintable.
func docWorkflows(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, page := range docPages(t) {
		base := strings.TrimSuffix(strings.ReplaceAll(page.name, "/", "-"), ".md")
		for i, m := range yamlBlock.FindAllStringSubmatch(page.text, -1) {
			body := m[1]
			name := fmt.Sprintf("%s-example-%02d.yml", base, i+1)
			switch {
			case strings.Contains(body, "\njobs:"):
				out[name] = body
			case strings.HasPrefix(strings.TrimSpace(body), "- "):
				out[name] = "name: example\non: workflow_dispatch\njobs:\n  example:\n    runs-on: ubuntu-latest\n    steps:\n" + body
			default:
				t.Errorf("%s: YAML block %d is neither a workflow nor a list of steps, so actionlint cannot check it:\n%s", page.name, i+1, body)
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d workflow examples in README.md and docs/", len(out))
	}
	return out
}

func TestDocsWorkflowExamplesPassActionlint(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for name, body := range docWorkflows(t) {
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
		t.Fatalf("actionlint on the workflow examples of README and docs/:\n%s", out)
	}
}

var (
	headingLine = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)
	mdLink      = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	codeFence   = regexp.MustCompile("(?s)\n```.*?\n```")
)

// anchors returns the ids GitHub gives the headings of a page (code blocks left out:
// a shell comment is not a heading).
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	for _, m := range headingLine.FindAllStringSubmatch(codeFence.ReplaceAllString(text, "\n"), -1) {
		out[githubAnchor(m[1])] = true
	}
	return out
}

// TestDocsLinksResolve holds the links of README and docs/ to the repository: a relative
// link names a file that exists, and a link with an anchor names a heading of its page
// (GitHub's anchor rules: lower case, punctuation dropped, spaces as hyphens).
func TestDocsLinksResolve(t *testing.T) {
	pages := docPages(t)
	byName := map[string]string{}
	for _, p := range pages {
		byName[p.name] = p.text
	}
	for _, page := range pages {
		links := mdLink.FindAllStringSubmatch(page.text, -1)
		if len(links) == 0 {
			t.Errorf("%s has no links: the pattern is wrong, or the page leads nowhere", page.name)
		}
		for _, m := range links {
			checkLink(t, page, m[1], byName)
		}
	}
}

func checkLink(t *testing.T, page docPage, target string, byName map[string]string) {
	t.Helper()
	if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
		return
	}
	file, anchor, _ := strings.Cut(target, "#")
	name := page.name
	if file != "" {
		name = path.Clean(path.Join(path.Dir(page.name), file))
		if _, err := os.Stat(repoFile(name)); err != nil {
			t.Errorf("%s links to %s: %v", page.name, target, err)
			return
		}
	}
	if anchor == "" {
		return
	}
	text, ok := byName[name]
	if !ok {
		t.Errorf("%s links to %s, an anchor in a file that is not a documentation page", page.name, target)
		return
	}
	if !anchors(text)[anchor] {
		t.Errorf("%s links to %s, but no heading of %s has that anchor", page.name, target, name)
	}
}

// TestReadmeLinksEveryDocsPage: a page of docs/ that README does not link is a page no
// user finds. A new page gets a line in README's "More" list.
func TestReadmeLinksEveryDocsPage(t *testing.T) {
	readme := readDoc(t, "README.md")
	for _, page := range docPages(t)[1:] {
		if !strings.Contains(readme, "]("+page.name+")") && !strings.Contains(readme, "]("+page.name+"#") {
			t.Errorf("README.md does not link %s", page.name)
		}
	}
	security := readDoc(t, "docs/security.md")
	if !strings.Contains(security, "(../.github/SECURITY.md)") || !strings.Contains(security, "Report a vulnerability") {
		t.Error("docs/security.md does not say how to report a vulnerability (../.github/SECURITY.md)")
	}
}

// docReference is a mention of a documentation page in a message, with the section in
// quotes when there is one: docs/audit.md, "AWS set-up for the health report".
var docReference = regexp.MustCompile(`(docs/[a-z-]+\.md)(?:, \\"([^"\\]+)\\")?`)

// TestHintsNameDocsThatExist: an error or hint that sends the user to a page of docs/ (and
// a section of it) names a page and a heading that exist.
func TestHintsNameDocsThatExist(t *testing.T) {
	found := 0
	err := filepath.WalkDir(repoFile("internal"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range docReference.FindAllStringSubmatch(string(src), -1) {
			found++
			data, err := os.ReadFile(repoFile(m[1]))
			if err != nil {
				t.Errorf("%s sends users to %s: %v", p, m[1], err)
				continue
			}
			if m[2] != "" && !anchors(string(data))[githubAnchor(m[2])] {
				t.Errorf("%s sends users to the section %q of %s, which has no such heading", p, m[2], m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Fatal("no message names a page of docs/: the pattern is wrong")
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

// exampleUser is the IAM user every example names: README, docs/, the demo, the local
// runner's emulator and its help.
const exampleUser = "soracom-funnel"

// textFiles are the texts a user reads: README, docs/, action.yml, CONTRIBUTING, and the
// Go sources that print help, hints or the demo's story.
func textFiles(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range docPages(t) {
		out[p.name] = p.text
	}
	for _, name := range []string{"action.yml", "CONTRIBUTING.md"} {
		out[name] = readDoc(t, name)
	}
	for _, dir := range []string{"cmd", "internal/localrun", "internal/action", "internal/awskeys", "internal/inputs"} {
		err := filepath.WalkDir(repoFile(dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			data, err := os.ReadFile(p)
			out[p] = string(data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

var (
	iamUserExample = regexp.MustCompile(`(?:--iam-user-name[ =]|"--iam-user-name", "|iam-user-name: )([A-Za-z0-9_+=,.@-]+)`)
	userARN        = regexp.MustCompile(`arn:aws:iam::[0-9]{12}:user/([A-Za-z0-9_+=,.@*-]+)`)
)

// TestExamplesAndHintsAgree holds the texts together: every example names the same IAM
// user, the id-token permission is spelled as a workflow writes it, and nothing offers
// an install path that does not exist (the module is not published: build from a clone).
func TestExamplesAndHintsAgree(t *testing.T) {
	users := 0
	for name, text := range textFiles(t) {
		for _, re := range []*regexp.Regexp{iamUserExample, userARN} {
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				users++
				if u := m[1]; u != exampleUser && u != "soracom-*" && !strings.HasPrefix(u, "<") {
					t.Errorf("%s names IAM user %q in an example; the examples use %s", name, u, exampleUser)
				}
			}
		}
		if strings.Contains(text, "permissions, id-token") {
			t.Errorf("%s spells the permission %q; a workflow writes `permissions: id-token: write`", name, "permissions, id-token, write")
		}
		if regexp.MustCompile(`go install [^\n]*soracom-credentials-action@`).MatchString(text) {
			t.Errorf("%s offers go install of a module that is not published: build from a clone", name)
		}
	}
	if users < 5 {
		t.Fatalf("found only %d IAM user names in examples: the patterns are wrong", users)
	}
	help, err := exec.Command(binary, "--help").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(help), "`permissions: id-token: write`") {
		t.Errorf("--help does not spell the permission as a workflow writes it:\n%s", help)
	}
}
