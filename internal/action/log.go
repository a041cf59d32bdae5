// Package action holds the use cases of the action (register given credentials, rotate an
// IAM user's key) and everything they say to the runner: masks, log lines, outputs and
// the job summary.
package action

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/sethvargo/go-githubactions"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// Log writes workflow commands and log lines to the runner. Every value masked through it
// is also scrubbed from whatever it prints afterwards: the runner hides masked values in
// the log it shows, but outputs, the summary and a run outside GitHub see the raw text,
// and a server may echo a secret in an error message.
type Log struct {
	gh *githubactions.Action
	// emitMasks is false outside GitHub: another CI would print ::add-mask::<secret>
	// as it is. Values are still scrubbed from everything printed.
	emitMasks bool

	mu     sync.Mutex
	masked []string // longest first, so a secret containing another is scrubbed whole
}

// NewLog writes to w. It emits ::add-mask:: commands when it runs under GitHub's
// runner (GITHUB_ACTIONS=true, or the runner's GITHUB_OUTPUT file is there).
func NewLog(w io.Writer, getenv func(string) string) *Log {
	return &Log{
		gh:        githubactions.New(githubactions.WithWriter(w), githubactions.WithGetenv(getenv)),
		emitMasks: getenv("GITHUB_ACTIONS") == "true" || getenv("GITHUB_OUTPUT") != "",
	}
}

// AddMask tells the runner to hide every form of v (see secret.Forms) and remembers them
// for scrubbing. It implements secret.Masker.
func (l *Log) AddMask(v string) {
	forms := secret.Forms(v)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range forms {
		if contains(l.masked, f) {
			continue
		}
		if l.emitMasks {
			l.gh.AddMask(f)
		}
		l.masked = append(l.masked, f)
	}
	sort.SliceStable(l.masked, func(i, j int) bool { return len(l.masked[i]) > len(l.masked[j]) })
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// Scrub replaces every masked value in s with the redaction.
func (l *Log) Scrub(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.masked {
		s = strings.ReplaceAll(s, m, secret.Redacted)
	}
	return s
}

// Infof prints a plain log line.
func (l *Log) Infof(format string, a ...any) { l.gh.Infof("%s", l.Scrub(fmt.Sprintf(format, a...))) }

// Noticef prints a notice annotation.
func (l *Log) Noticef(format string, a ...any) {
	l.gh.Noticef("%s", l.Scrub(fmt.Sprintf(format, a...)))
}

// Warningf prints a warning annotation.
func (l *Log) Warningf(format string, a ...any) {
	l.gh.Warningf("%s", l.Scrub(fmt.Sprintf(format, a...)))
}

// Errorf prints an error annotation: one ::error:: line, whatever newlines the message has.
func (l *Log) Errorf(format string, a ...any) { l.gh.Errorf("%s", l.Scrub(fmt.Sprintf(format, a...))) }

// Debugf prints a debug line, shown when the workflow runs with debug logging.
func (l *Log) Debugf(format string, a ...any) { l.gh.Debugf("%s", l.Scrub(fmt.Sprintf(format, a...))) }

// Group opens a collapsible group in the log.
func (l *Log) Group(title string) { l.gh.Group(l.Scrub(title)) }

// EndGroup closes it.
func (l *Log) EndGroup() { l.gh.EndGroup() }
