package e2e

// The Dockerfile builds with Docker, buildah and podman alike, with no registries
// configuration: every image is named in full and pinned by digest, and no FROM takes
// a stage name from an ARG (buildah looks such a name up as an image).

import (
	"regexp"
	"strings"
	"testing"
)

// fullImage is an image named in full: a registry host (with a dot), a repository, an
// optional tag, and a digest.
var fullImage = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+)?@sha256:[0-9a-f]{64}$`)

var (
	argLine  = regexp.MustCompile(`^ARG ([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?$`)
	fromLine = regexp.MustCompile(`^FROM (?:--platform=\S+ )?(\S+)(?: AS (\S+))?$`)
	argRef   = regexp.MustCompile(`^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$`)
)

func TestDockerfileNamesEveryImageInFull(t *testing.T) {
	args := map[string]string{}
	stages := map[string]bool{}
	froms := 0
	for _, line := range strings.Split(readDoc(t, "Dockerfile"), "\n") {
		if m := argLine.FindStringSubmatch(line); m != nil {
			args[m[1]] = m[2]
			continue
		}
		m := fromLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		froms++
		ref := m[1]
		if a := argRef.FindStringSubmatch(ref); a != nil {
			def, ok := args[a[1]]
			switch {
			case !ok:
				t.Errorf("FROM %s: no ARG %s before it", ref, a[1])
			case stages[def]:
				t.Errorf("FROM %s: the default %q is a stage name, which buildah and podman look up as an image", ref, def)
			case !fullImage.MatchString(def):
				t.Errorf("FROM %s: the default %q is not an image named in full and pinned by digest", ref, def)
			}
		} else if ref != "scratch" && !stages[ref] && !fullImage.MatchString(ref) {
			t.Errorf("FROM %s is not an image named in full (registry/repository:tag@sha256:…)", ref)
		}
		if m[2] != "" {
			stages[m[2]] = true
		}
	}
	if froms < 2 {
		t.Fatalf("found %d FROM lines: the pattern is wrong", froms)
	}
}
