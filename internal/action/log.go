// Package action holds the use cases of the action (register given credentials, rotate an
// IAM user's key) and everything they say to the runner: masks, log lines, outputs and
// the job summary.
package action

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/sethvargo/go-githubactions"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/runner"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// Limits of what one message prints. Text from outside is capped far lower on its own
// (untrusted.MaxFragment); these bound a message whose server text came inside an error.
const (
	maxLine    = 1000  // characters of one line
	maxMessage = 20000 // characters of one message, all lines together
)

// Log writes workflow commands and log lines to the runner, and is the one choke point
// for what the action prints: every message is redacted (every masked value in every
// form, in the text as it is and as decoding reads it, any start of one of 8 or more
// bytes and any run of 8 bytes of one; see untrusted.Redactor), split into the lines
// the runner will read with none able to start a workflow command, capped in length,
// and redacted again after each of these steps, the runner's escaping included. Arguments of
// type untrusted.Text are rendered by Quote. The runner hides masked values in the log it
// shows, but outputs, the summary and a run outside GitHub see the raw text, and a
// server may echo a secret in an error message.
type Log struct {
	// gh writes every command but add-mask through scrubbed, which redacts again what
	// the runner's escaping made of each line; masks writes the add-mask commands, which
	// must hold the secret.
	gh, masks *githubactions.Action
	w         io.Writer
	// onGitHub is false outside GitHub (see runner.OnGitHub). There no workflow command
	// is printed: another CI would print ::add-mask::<secret> as it is, and nothing
	// reads ::error::; annotations are "error: …" lines and groups a plain title.
	onGitHub bool
	secrets  untrusted.Redactor

	mu     sync.Mutex // orders writes, guards masked and the annotation counts
	masked map[string]bool
	// annotations counts the annotations written; past MaxAnnotations a message is a
	// plain log line, and the first maxUnannotated of those are kept for the summary.
	annotations int
	unannotated []string
	dropped     int
}

// MaxAnnotations is how many annotations (errors, warnings, notices) a run writes: the
// runner shows no more per step. The last one is kept for the error the run ends with
// (Failf); further messages are plain log lines, listed in the summary (Unannotated).
const MaxAnnotations = 10

// maxUnannotated bounds how many messages past MaxAnnotations the summary lists.
const maxUnannotated = 50

// NewLog writes to w. It speaks the runner's protocol (workflow commands, ::add-mask::)
// when it runs under GitHub's runner, and prints plain lines elsewhere (runner.OnGitHub).
func NewLog(w io.Writer, getenv func(string) string) *Log {
	l := &Log{
		masks:    githubactions.New(githubactions.WithWriter(w), githubactions.WithGetenv(getenv)),
		w:        w,
		onGitHub: runner.OnGitHub(getenv),
		masked:   map[string]bool{},
	}
	l.gh = githubactions.New(githubactions.WithWriter(scrubbed{l}), githubactions.WithGetenv(getenv))
	return l
}

// scrubbed writes what go-githubactions prints, redacted once more: the runner's
// escaping of a command's data (%25, %0A) is the last transformation of a line, and a
// secret holding "%25" or "%0A" could be spelled by it. A command's name is left
// alone so that the line stays the command it was.
type scrubbed struct{ l *Log }

func (s scrubbed) Write(p []byte) (int, error) {
	line := string(p)
	head := ""
	if strings.HasPrefix(line, "::") {
		if end := strings.Index(line[2:], "::"); end >= 0 {
			head, line = line[:end+4], line[end+4:]
		}
	}
	if _, err := io.WriteString(s.l.w, head+s.l.Scrub(line)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// OnGitHub reports whether the log speaks the runner's protocol.
func (l *Log) OnGitHub() bool { return l.onGitHub }

// AddMask tells the runner to hide every form of v that it needs (see secret.Forms) and
// remembers every form the Log hides itself (see untrusted.Forms). It implements
// secret.Masker. The cost is linear in the size of v.
func (l *Log) AddMask(v string) {
	l.secrets.Add(v)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range secret.Forms(v) {
		if l.masked[f] {
			continue
		}
		l.masked[f] = true
		if l.onGitHub {
			l.masks.AddMask(f)
		}
	}
}

// Scrub hides every masked value in s, every start of one of 8 bytes or more, and every
// run of 8 bytes of one that tells (see untrusted.Redactor.RedactParts).
func (l *Log) Scrub(s string) string { return l.secrets.RedactParts(s) }

// Quote renders one piece of text from outside (a server's message, an operator id, a
// certificate's subject) for a log line: secrets hidden before and after it is made one
// line, capped at untrusted.MaxFragment characters, and replaced by untrusted.Withheld
// when it still holds a secret or the start of one.
func (l *Log) Quote(s string) string {
	s = untrusted.OneLine(l.secrets.Redact(s))
	s = untrusted.Clip(l.secrets.Redact(s), untrusted.MaxFragment)
	if l.secrets.Leaks(s) {
		return untrusted.Withheld
	}
	return s
}

// Markdown renders one piece of text from outside for the job summary: Quote, then
// escaped so that it shows as literal text (see untrusted.Markdown).
func (l *Log) Markdown(s string) string { return l.inert(untrusted.Markdown(l.Quote(s))) }

// Code renders an id from outside for the job summary: a code span when it is a plain
// id, escaped text otherwise (see untrusted.Code).
func (l *Log) Code(s string) string { return l.inert(untrusted.Code(l.Quote(s))) }

// inert checks Markdown once more after escaping, the last transformation: when the
// escaped text spells part of a secret, it is withheld (a redaction's "***" would be
// Markdown emphasis).
func (l *Log) inert(markdown string) string {
	if l.secrets.Leaks(markdown) {
		return untrusted.Markdown(untrusted.Withheld)
	}
	return markdown
}

// MarkdownBlock renders a longer text that may hold text from outside (an error
// message) for the job summary, line by line, each prefixed with prefix: scrubbed,
// capped at maxLine characters a line and maxMessage in all, escaped.
func (l *Log) MarkdownBlock(s, prefix string) string {
	return untrusted.Block(strings.Join(l.lines("%s", []any{s}), "\n"), prefix)
}

// lines formats a message and returns the lines to print: redacted, defanged, capped.
func (l *Log) lines(format string, args []any) []string {
	a := make([]any, len(args))
	copy(a, args)
	for i, v := range a {
		if t, ok := v.(untrusted.Text); ok {
			a[i] = l.Quote(string(t))
		}
	}
	msg := l.Scrub(fmt.Sprintf(format, a...))
	msg = untrusted.ClipMiddle(msg, maxMessage)
	lines := untrusted.Lines(msg)
	for i, line := range lines {
		lines[i] = untrusted.ClipMiddle(l.Scrub(line), maxLine)
	}
	return lines
}

// Infof prints plain log lines.
func (l *Log) Infof(format string, a ...any) {
	text := strings.Join(l.lines(format, a), "\n")
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gh.Infof("%s", text)
}

// Noticef prints a notice annotation (a plain line past MaxAnnotations).
func (l *Log) Noticef(format string, a ...any) {
	l.annotate("notice", l.gh.Noticef, MaxAnnotations-1, format, a)
}

// Warningf prints a warning annotation (a plain line past MaxAnnotations).
func (l *Log) Warningf(format string, a ...any) {
	l.annotate("warning", l.gh.Warningf, MaxAnnotations-1, format, a)
}

// Errorf prints an error annotation (a plain line past MaxAnnotations). On GitHub it is
// one ::error:: line whatever newlines the message has (the runner escapes them as %0A
// and shows them as lines); elsewhere it is "error: " and the
// message, its further lines following as they are.
func (l *Log) Errorf(format string, a ...any) {
	l.annotate("error", l.gh.Errorf, MaxAnnotations-1, format, a)
}

// Failf prints the error annotation the run ends with: it may take the last of the
// MaxAnnotations, which the other annotations leave for it.
func (l *Log) Failf(format string, a ...any) {
	l.annotate("error", l.gh.Errorf, MaxAnnotations, format, a)
}

// Debugf prints a debug line, shown when the workflow runs with debug logging.
func (l *Log) Debugf(format string, a ...any) { l.annotate("debug", l.gh.Debugf, -1, format, a) }

// Unannotated returns the messages that became plain log lines past MaxAnnotations (at
// most maxUnannotated of them, each one line) and how many more there were.
func (l *Log) Unannotated() (messages []string, more int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.unannotated...), l.dropped
}

// annotate writes an annotation, unless limit (-1: none) annotations were written
// already: then the message is a plain line, kept for the summary.
func (l *Log) annotate(command string, issue func(string, ...any), limit int, format string, a []any) {
	lines := l.lines(format, a)
	l.mu.Lock()
	defer l.mu.Unlock()
	if limit >= 0 && l.annotations >= limit {
		l.gh.Infof("%s: %s", command, strings.Join(lines, "\n"))
		if len(l.unannotated) < maxUnannotated {
			l.unannotated = append(l.unannotated, command+": "+strings.Join(lines, " "))
		} else {
			l.dropped++
		}
		return
	}
	if limit >= 0 {
		l.annotations++
	}
	if l.onGitHub {
		issue("%s", strings.Join(lines, "\n"))
		return
	}
	fmt.Fprintf(l.w, "%s: %s\n", command, lines[0])
	for _, line := range lines[1:] {
		fmt.Fprintln(l.w, line)
	}
}

// Group opens a collapsible group in the log.
func (l *Log) Group(title string) {
	// Joining the lines is one more normalization: "pa" and "ss" on two lines become
	// "pa ss", which may be the start of a secret. Redact again, and withhold what
	// still shows one, as Quote does.
	text := l.secrets.Redact(strings.Join(l.lines("%s", []any{title}), " "))
	if l.secrets.Leaks(text) {
		text = untrusted.Withheld
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.onGitHub {
		fmt.Fprintln(l.w, text)
		return
	}
	l.gh.Group(text)
}

// EndGroup closes it; outside GitHub there is nothing to close.
func (l *Log) EndGroup() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.onGitHub {
		l.gh.EndGroup()
	}
}
