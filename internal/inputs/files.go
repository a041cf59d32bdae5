package inputs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// readWorkspaceFile reads a file named relative to the workspace (GITHUB_WORKSPACE, else
// the current directory). An absolute path is accepted when it lies inside the
// workspace. The path is resolved with its symbolic links first, and a file outside
// the workspace is refused with a message that says why: a workflow input must not make
// the action read, and upload to SORACOM, a file of the runner or of another job. The
// file is then opened through an os.Root on the workspace, so that a link swapped in
// between (a race with another process of the job) cannot lead the open outside it.
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
	rel, err := filepath.Rel(root, resolved)
	if err == nil {
		var data []byte
		if data, err = readConfined(root, rel); err == nil {
			return data, nil
		}
	}
	return nil, fmt.Errorf("cannot read %q: %w; give a path relative to the workspace (%s) of a JSON file", name, unwrapPath(err), label)
}

// readConfined reads rel, a path without symbolic links, beneath root through an
// os.Root: every component is opened relative to the one before, and a symbolic link
// that appeared since the path was resolved is followed only while it stays beneath
// root (os.Root refuses the rest with "path escapes from parent").
func readConfined(root, rel string) ([]byte, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if err := checkRegular(r.Lstat(rel)); err != nil {
		return nil, err
	}
	return readOpened(r, rel)
}

// readOpened opens rel beneath r without blocking (a FIFO swapped in after the type
// check would otherwise block the open until a writer comes), then reads it as readOpen
// does.
func readOpened(r *os.Root, rel string) ([]byte, error) {
	f, err := r.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	return readOpen(f)
}

// maxFileSize bounds what credentials-file may hold. The largest credential set (an x509
// certificate, its key and a CA chain) is a few tens of KiB; a bigger file is a mistake,
// and reading and masking it without a bound would let an input exhaust the runner.
const maxFileSize = 1 << 20

// errNotRegular is the cause when credentials-file names a FIFO, a device, a socket or a
// directory: reading a FIFO or a device can block forever (a signal does not end a
// blocked open or read) or never reach an end.
var errNotRegular = errors.New("not a regular file")

// errTooLarge is the cause when credentials-file is larger than maxFileSize.
var errTooLarge = errors.New("larger than 1 MiB, far more than any credential set holds")

// readOpen checks the open file's type and size (again: it may have changed since the
// check by name), reads at most maxFileSize bytes of it (a file may grow while it is
// read), and closes it.
func readOpen(f *os.File) ([]byte, error) {
	defer f.Close()
	if err := checkRegular(f.Stat()); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, errTooLarge
	}
	return data, nil
}

// checkRegular refuses a file that is not regular or is larger than maxFileSize.
func checkRegular(fi fs.FileInfo, err error) error {
	switch {
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%w (a directory)", errNotRegular)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%w (%s)", errNotRegular, kind(fi.Mode()))
	case fi.Size() > maxFileSize:
		return fmt.Errorf("%w (%d bytes)", errTooLarge, fi.Size())
	}
	return nil
}

// kind names a file type that is not regular.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "type " + m.Type().String()
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
