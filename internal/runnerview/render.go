// Package runnerview renders what a GitHub Actions step left behind the way a person
// sees it on github.com: the log with masks applied and workflow commands turned into
// annotations and groups, then the step's outputs as a table and its job summary.
//
// It reads the runner protocol, not the action's code: the stdout of the step (with its
// workflow commands), the GITHUB_OUTPUT file and the GITHUB_STEP_SUMMARY file. The demo
// and the local runner use it so that a run in a terminal reads like the real log, and
// so that a secret the action forgot to mask shows up there as it would on GitHub.
package runnerview

import (
	"io"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// Input is one input as the step header lists it.
type Input struct {
	Name, Value string
}

// Result is what a step leaves when it ends.
type Result struct {
	ExitCode int
	Output   string // the GITHUB_OUTPUT file
	Summary  string // the GITHUB_STEP_SUMMARY file (Markdown)
}

// Step is a whole step, for rendering in one go.
type Step struct {
	// Uses is what the step runs, shown as the header "Run <Uses>"; empty for no header.
	Uses string
	// With are the inputs the workflow set, listed under the header.
	With []Input
	// Secrets are values the workflow took from secrets: GitHub hides them from the
	// first line on, the header included.
	Secrets []string
	Stdout  string
	Result
}

// Render writes s as github.com shows it.
func Render(w io.Writer, s Step) error {
	l := NewLog(w)
	for _, v := range s.Secrets {
		l.AddMask(v)
	}
	if s.Uses != "" {
		l.Header(s.Uses, s.With)
	}
	if _, err := io.WriteString(l, s.Stdout); err != nil {
		return err
	}
	return l.Finish(s.Result)
}

// Header renders the line GitHub starts a step with, and the inputs it was given.
func (l *Log) Header(uses string, with []Input) {
	l.Linef("Run %s", uses)
	if len(with) == 0 {
		return
	}
	l.Linef("  with:")
	for _, in := range with {
		l.Linef("    %s: %s", in.Name, in.Value)
	}
}

// Finish closes the log and renders the end of the step: the runner's own error when the
// output file is malformed or the step failed, then the outputs and the job summary,
// masked with every mask the step registered.
func (l *Log) Finish(r Result) error {
	if err := l.Close(); err != nil {
		return err
	}
	outs, err := ParseOutputs(r.Output)
	if err != nil {
		l.Linef("Error: Unable to process file command 'output' successfully.")
		l.Linef("Error: %s", err)
	}
	if r.ExitCode != 0 {
		l.Linef("Error: Docker run failed with exit code %d", r.ExitCode)
	}
	l.Linef("")
	l.outputs(outs)
	l.Linef("")
	l.summary(r.Summary)
	return l.Close()
}

func (l *Log) outputs(outs []Output) {
	if len(outs) == 0 {
		l.Linef("Outputs: none")
		return
	}
	l.Linef("Outputs:")
	width := 0
	for _, o := range outs {
		width = max(width, len(o.Name))
	}
	for _, o := range outs {
		lines := strings.Split(o.Value, "\n")
		l.Linef("  %-*s  %s", width, o.Name, lines[0])
		for _, more := range lines[1:] {
			l.Linef("  %-*s  %s", width, "", more)
		}
	}
}

// summary shows the Markdown as the text github.com would show (untrusted.PlainText):
// a terminal is no Markdown viewer, and character references such as &#96; are noise
// there.
func (l *Log) summary(markdown string) {
	markdown = strings.TrimRight(markdown, "\n")
	if strings.TrimSpace(markdown) == "" {
		l.Linef("Job summary: none")
		return
	}
	l.Linef("Job summary:")
	for _, line := range strings.Split(untrusted.PlainText(markdown), "\n") {
		l.Linef("  %s", line)
	}
}
