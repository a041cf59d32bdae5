package inputs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// readWorkspaceFile reads a file named relative to the workspace (GITHUB_WORKSPACE, else
// the current directory). An absolute path is accepted when it lies inside the
// workspace. The path is resolved with its symbolic links before it is read, and a file
// outside the workspace is refused: a workflow input must not make the action read, and
// upload to SORACOM, a file of the runner or of another job.
func readWorkspaceFile(getenv Getenv, name string) ([]byte, error) {
	ws, label := workspace(getenv)
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(ws, name)
	}
	root, err := filepath.EvalSymlinks(ws)
	if err == nil {
		root, err = filepath.Abs(root)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot resolve the workspace (%s): %w", label, unwrapPath(err))
	}
	resolved, err := filepath.EvalSymlinks(path)
	if err == nil {
		resolved, err = filepath.Abs(resolved)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %q: %w; give a path relative to the workspace (%s) of a JSON file", name, unwrapPath(err), label)
	}
	if !inside(root, resolved) {
		return nil, fmt.Errorf("%q is outside the workspace (%s)%s; give a path to a file inside the workspace, e.g. creds/x509.json", name, label, viaLink(path, resolved))
	}
	data, err := os.ReadFile(resolved)
	if err != nil {
		return nil, fmt.Errorf("cannot read %q: %w; give a path relative to the workspace (%s) of a JSON file", name, unwrapPath(err), label)
	}
	return data, nil
}

// inside reports whether path is root or below it; both are absolute and clean.
func inside(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// viaLink says that a path leaves the workspace through a symbolic link.
func viaLink(path, resolved string) string {
	if abs, err := filepath.Abs(path); err == nil && filepath.Clean(abs) != resolved {
		return " once its symbolic links are followed"
	}
	return ""
}

// unwrapPath drops the path from an fs error: the message names the input already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func workspace(getenv Getenv) (dir, label string) {
	if w := getenv("GITHUB_WORKSPACE"); w != "" {
		return w, "GITHUB_WORKSPACE"
	}
	return ".", "the current directory"
}
