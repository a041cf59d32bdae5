package e2e

// The layout CONTRIBUTING.md describes ("Where things live"): every package is listed
// with its job, and imports go one way.

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/soracom-credentials-action/soracom-credentials-action/"

// layers are the levels of CONTRIBUTING's import rule, lowest first. A package imports
// from its own layer or a lower one; two groups of one level (the API clients and the
// pure cores) do not import each other.
var layers = []struct {
	group    string
	level    int
	packages []string
}{
	{"shared", 0, []string{"httpclient", "untrusted", "retry", "paging", "parallel", "secret", "shape", "awsid", "awsendpoints", "suggest", "runner"}},
	{"core", 1, []string{"rotation", "authkeyrotation", "audit", "audit/refs", "credtypes"}},
	{"client", 1, []string{"soracom", "ghsecrets", "awskeys"}},
	{"inputs", 2, []string{"inputs"}},
	{"action", 3, []string{"action"}},
	{"command line", 4, []string{"localrun", "runnerview"}},
}

// fakes are the emulators and test helpers: imported by tests, cmd/, bench/ and the
// --emulator files of localrun only.
var fakes = []string{"soracomtest", "awstest", "ghtest", "tripwire", "credtypes/credtypestest"}

// goPackages returns every directory below root holding Go files that are not tests,
// relative to the repository, with those files' paths.
func goPackages(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(repoFile(root), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		rel, err := filepath.Rel(repoRoot, filepath.Dir(p))
		out[filepath.ToSlash(rel)] = append(out[filepath.ToSlash(rel)], p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestContributingListsEveryPackage(t *testing.T) {
	text := readDoc(t, "CONTRIBUTING.md")
	start, end := strings.Index(text, "## Where things live"), strings.Index(text, "## Rules every change keeps")
	if start < 0 || end < start {
		t.Fatal("CONTRIBUTING.md has no \"Where things live\" before \"Rules every change keeps\"")
	}
	where := text[start:end]
	for _, root := range []string{"internal", "cmd"} {
		for dir := range goPackages(t, root) {
			if !strings.Contains(where, dir+"/") && !strings.Contains(where, dir+",") && !strings.Contains(where, dir+" ") {
				t.Errorf("CONTRIBUTING.md's \"Where things live\" does not list %s", dir)
			}
		}
	}
}

// place is where a package stands in the import rule.
type place struct {
	group string
	level int
}

// places maps each internal package to its place in the rule.
func places() map[string]place {
	where := map[string]place{}
	for _, l := range layers {
		for _, p := range l.packages {
			where["internal/"+p] = place{l.group, l.level}
		}
	}
	for _, f := range fakes {
		where["internal/"+f] = place{"fake", -1}
	}
	return where
}

func TestImportsGoOneWay(t *testing.T) {
	where := places()
	for dir, files := range goPackages(t, "internal") {
		from, ok := where[dir]
		if !ok {
			t.Errorf("%s is in no layer of CONTRIBUTING's import rule: add it to the rule and to layers here", dir)
			continue
		}
		for _, file := range files {
			for _, imp := range importsOf(t, file) {
				if to, ok := where[imp]; ok {
					if why := breaksRule(from, to, emulatorFile(t, file)); why != "" {
						t.Errorf("%s (%s) imports %s (%s): %s", file, from.group, imp, to.group, why)
					}
				}
			}
		}
	}
}

// breaksRule says why an import from one place to another breaks the rule, or "".
func breaksRule(from, to place, emulator bool) string {
	switch {
	case to.group == "fake":
		if from.group != "fake" && !emulator {
			return "only tests, cmd/, bench/ and --emulator files may import a fake"
		}
	case from.group == "fake":
	case to.level > from.level || to.level == from.level && to.group != from.group:
		return "imports go one way (CONTRIBUTING.md)"
	}
	return ""
}

// importsOf lists the module's packages a file imports, relative to the module.
func importsOf(t *testing.T, file string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if rest, ok := strings.CutPrefix(path, modulePath); ok {
			out = append(out, rest)
		}
	}
	return out
}

// emulatorFile reports whether a file is left out of the image (the --emulator files).
func emulatorFile(t *testing.T, file string) bool {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(data), "//go:build !noemulator")
}
