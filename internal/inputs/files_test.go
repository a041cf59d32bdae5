//go:build unix

package inputs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// specialFiles makes, in a fresh workspace, the files credentials-file must refuse, and
// returns the workspace.
func specialFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.json"), 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	if err := os.Symlink("fifo.json", filepath.Join(dir, "link-to-fifo.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dir.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	big := `{"key":"file-psk-secret"}` + strings.Repeat(" ", maxFileSize)
	if err := os.WriteFile(filepath.Join(dir, "big.json"), []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// readWithin runs Read and fails the test, instead of hanging it, when Read blocks: a
// FIFO opened for reading blocks until a writer comes. On a block it opens the FIFO for
// writing so that the blocked Read can end.
func readWithin(t *testing.T, vars map[string]string, fifo string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := Read(env(t, vars), &masks{}, time.Now())
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Errorf("Read blocked on %s", fifo)
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		return <-done
	}
}

func TestReadRefusesCredentialsFileThatIsNotARegularFileOrTooLarge(t *testing.T) {
	dir := specialFiles(t)
	cases := []struct{ name, want string }{
		{"fifo.json", "not a regular file (a named pipe)"},
		{"link-to-fifo.json", "not a regular file (a named pipe)"},
		{"dir.json", "not a regular file (a directory)"},
		{"big.json", "larger than 1 MiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vars := valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "psk", CredentialsFile: c.name,
				CredentialID: strings.Repeat("a", 101)})
			vars["GITHUB_WORKSPACE"] = dir
			err := readWithin(t, vars, filepath.Join(dir, "fifo.json"))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, want := range []string{"credentials-file", c.name, c.want, "101 characters long"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the error does not say %q: %v", want, msg)
				}
			}
			if strings.Contains(msg, "file-psk-secret") {
				t.Errorf("the error shows the file's secret: %v", msg)
			}
		})
	}
}

func TestReadRegularFileAcceptsExactlyTheBound(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "psk.json")
	body := `{"key":"file-psk-secret"}`
	if err := os.WriteFile(path, []byte(body+strings.Repeat(" ", maxFileSize-len(body))), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := readConfined(dir, "psk.json")
	if err != nil || len(data) != maxFileSize {
		t.Fatalf("a file of exactly %d bytes: %d bytes, %v", maxFileSize, len(data), err)
	}
	if err := os.WriteFile(path, []byte(body+strings.Repeat(" ", maxFileSize+1-len(body))), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readConfined(dir, "psk.json"); !errors.Is(err, errTooLarge) {
		t.Fatalf("a file one byte over the bound: %v", err)
	}
}

// A FIFO swapped in after the type check must not block the open: the open is
// non-blocking and the type is checked again on the open file.
func TestReadRegularFileOpensAFIFOWithoutBlocking(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.json"), 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	done := make(chan error, 1)
	go func() {
		_, err := readOpened(r, "fifo.json")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, errNotRegular) {
			t.Fatalf("err = %v, want %v", err, errNotRegular)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the non-blocking open of a FIFO blocked")
	}
}
