//go:build noemulator

package localrun

import "errors"

// withEmulators is left out of this build: the container image is built with the
// noemulator tag, because the emulators would add about 3 MB to a 12 MB budget.
func withEmulators(*runSetup) (func(), []string, error) {
	return nil, nil, errors.New("this binary was built without the emulators (the container image leaves them out to stay small): " +
		"run `go run . --emulator` from a clone of the repository")
}
