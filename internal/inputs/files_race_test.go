//go:build unix

package inputs

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// swapTries bounds the race test: with the former check-then-open read, some reads in
// 2000 got the file outside (a few to a few dozen, in every run tried), here none may.
const swapTries = 2000

// flipper swaps a name in the workspace between something inside and a symbolic link
// that leads outside, each time by rename (atomic), until stop is closed.
type flipper func(t *testing.T, ws, outside string, stop <-chan struct{}, flips *atomic.Int64)

// A credentials-file whose path is swapped for a symbolic link leading outside the
// workspace, again and again while the action reads it, is never read from outside:
// the file is opened through an os.Root on the workspace, whatever happened after the
// path was checked.
func TestCredentialsFileSwappedForALinkOutsideIsNeverReadFromOutside(t *testing.T) {
	tests := []struct {
		name string
		file string // the credentials-file input
		flip flipper
	}{
		{"the file itself, between a regular file and a link to a file outside", "swap.json", flipFile},
		{"a directory on its path, swapped for a link to a directory outside", "real/creds.json", flipDir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			ws, outside := filepath.Join(root, "workspace"), filepath.Join(root, "outside")
			for _, d := range []string{filepath.Join(ws, "real"), outside} {
				if err := os.MkdirAll(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			writeFile(t, filepath.Join(outside, "creds.json"), `{"key":"outside-psk-Secret-value"}`)
			writeFile(t, filepath.Join(ws, "real", "creds.json"), `{"key":"inside-psk-Secret-value"}`)
			stop, done := make(chan struct{}), make(chan struct{})
			var flips atomic.Int64
			go func() { defer close(done); tt.flip(t, ws, outside, stop, &flips) }()
			inside, fromOutside := readRepeatedly(t, ws, tt.file)
			close(stop)
			<-done
			if fromOutside > 0 {
				t.Errorf("%d of %d reads returned the file outside the workspace", fromOutside, swapTries)
			}
			if flips.Load() == 0 || inside == 0 {
				t.Errorf("the race was not run: %d flips, %d reads from inside", flips.Load(), inside)
			}
		})
	}
}

// readRepeatedly reads file swapTries times as the action does and counts the reads
// that got the file inside and those that got the one outside.
func readRepeatedly(t *testing.T, ws, file string) (inside, outside int) {
	t.Helper()
	for range swapTries {
		var m masks
		vars := valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "psk", CredentialsFile: file})
		vars["GITHUB_WORKSPACE"] = ws
		_, _ = Read(env(t, vars), &m, time.Now())
		joined := strings.Join(m, "\n")
		if strings.Contains(joined, "outside-psk") {
			outside++
		}
		if strings.Contains(joined, "inside-psk") {
			inside++
		}
	}
	return inside, outside
}

func flipFile(t *testing.T, ws, outside string, stop <-chan struct{}, flips *atomic.Int64) {
	name := filepath.Join(ws, "swap.json")
	writeFile(t, name, `{"key":"inside-psk-Secret-value"}`)
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		tmp := filepath.Join(ws, ".swap.tmp")
		var err error
		if i%2 == 0 {
			err = os.Symlink(filepath.Join(outside, "creds.json"), tmp)
		} else {
			err = os.WriteFile(tmp, []byte(`{"key":"inside-psk-Secret-value"}`), 0o600)
		}
		if err == nil {
			err = os.Rename(tmp, name)
		}
		if err != nil {
			t.Error(err)
			return
		}
		flips.Add(1)
	}
}

// flipDir swaps the directory real on the file's path for a link to the directory
// outside and back, by two renames each way: the path is checked while real is a
// directory and opened after it became a link.
func flipDir(t *testing.T, ws, outside string, stop <-chan struct{}, flips *atomic.Int64) {
	real, parked, link := filepath.Join(ws, "real"), filepath.Join(ws, ".real.parked"), filepath.Join(ws, ".real.link")
	if err := os.Symlink(outside, link); err != nil {
		t.Error(err)
		return
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		for _, mv := range [][2]string{{real, parked}, {link, real}, {real, link}, {parked, real}} {
			if err := os.Rename(mv[0], mv[1]); err != nil {
				t.Error(err)
				return
			}
		}
		flips.Add(1)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
