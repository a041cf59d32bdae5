package action

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// fileCommands writes step outputs and the job summary to the files the runner names.
// go-githubactions is not used for these: it panics when GITHUB_OUTPUT is unset (a run
// outside GitHub), and it uses a fixed, public heredoc delimiter that a value could
// contain.
type fileCommands struct {
	log     *Log
	stdout  io.Writer
	output  string // GITHUB_OUTPUT
	summary string // GITHUB_STEP_SUMMARY
}

// SetOutput writes one output. Without GITHUB_OUTPUT it prints name=value instead, so a
// local run shows what a workflow would receive. Values are not scrubbed: outputs are
// built from ids and times only, and a rotation's new key id is masked in the log yet
// is an output that later steps of the job need.
func (f *fileCommands) SetOutput(name, value string) error {
	if f.output == "" {
		_, err := fmt.Fprintf(f.stdout, "output %s=%s\n", name, value)
		return err
	}
	delim, err := delimiter(value)
	if err != nil {
		return err
	}
	return appendFile(f.output, fmt.Sprintf("%s<<%s\n%s\n%s\n", name, delim, value, delim))
}

// delimiter returns a random heredoc delimiter that does not occur in value.
func delimiter(value string) (string, error) {
	for range 8 {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		d := "ghadelimiter_" + hex.EncodeToString(b)
		if !strings.Contains(value, d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("no heredoc delimiter fits the output value")
}

// AddSummary appends markdown to the job summary. Outside GitHub there is none.
func (f *fileCommands) AddSummary(markdown string) error {
	if f.summary == "" {
		return nil
	}
	return appendFile(f.summary, f.log.Scrub(markdown))
}

func appendFile(path, text string) error {
	file, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := file.WriteString(text); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}
