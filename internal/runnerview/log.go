package runnerview

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Redacted is what the runner shows in place of a masked value.
const Redacted = "***"

// groupIndent is how the lines of an open group are set off from its header.
const groupIndent = "  "

// Log renders a step's stdout the way github.com shows it. Write the step's output to it
// (it is safe for concurrent writes); it renders each complete line as it arrives, and
// Close renders a last line that has no newline.
//
// What it does with the runner protocol: ::add-mask:: lines are consumed and their
// values shown as *** from then on; ::error::, ::warning:: and ::notice:: become
// "Error: …", "Warning: …" and "Notice: …" lines with %0A, %0D and %25 decoded; ::group::
// starts a header whose lines are indented until ::endgroup::; ::debug:: lines are
// hidden (a workflow shows them only with step debug logging); ::stop-commands::
// prints the lines up to its resume token as they are. Control characters are shown
// escaped, so nothing a step prints can drive the terminal.
type Log struct {
	mu        sync.Mutex
	w         io.Writer
	masks     []string // longest first
	inGroup   bool
	stopToken string // non-empty while commands are stopped
	partial   []byte
	err       error
}

// NewLog renders to w.
func NewLog(w io.Writer) *Log { return &Log{w: w} }

// AddMask hides v from everything rendered afterwards, as a secret the workflow passed
// in (a `${{ secrets.X }}`) is hidden before the step starts.
func (l *Log) AddMask(v string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addMaskLocked(v)
}

func (l *Log) addMaskLocked(v string) {
	// The runner refuses blank masks: they would hide every line.
	if strings.TrimSpace(v) == "" {
		return
	}
	for _, m := range l.masks {
		if m == v {
			return
		}
	}
	l.masks = append(l.masks, v)
	sort.SliceStable(l.masks, func(i, j int) bool { return len(l.masks[i]) > len(l.masks[j]) })
}

// Mask returns s with every value masked so far replaced by ***.
func (l *Log) Mask(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.maskLocked(s)
}

func (l *Log) maskLocked(s string) string {
	for _, m := range l.masks {
		s = strings.ReplaceAll(s, m, Redacted)
	}
	return s
}

// Write renders every complete line in p.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSuffix(string(l.partial[:i]), "\r")
		l.partial = l.partial[i+1:]
		l.lineLocked(line)
	}
	if l.err != nil {
		return 0, l.err
	}
	return len(p), nil
}

// Close renders the last line if it had no newline, and closes an open group.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.lineLocked(string(l.partial))
		l.partial = nil
	}
	l.inGroup = false
	return l.err
}

// Linef renders a line of the runner's own, such as its closing "Error: … exit code 1".
func (l *Log) Linef(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.printLocked(fmt.Sprintf(format, a...))
}

func (l *Log) lineLocked(line string) {
	c, ok := parseCommand(line, l.stopToken)
	switch {
	case !ok:
		l.printLocked(line)
	case l.stopToken != "":
		if c.name == strings.ToLower(l.stopToken) {
			l.stopToken = ""
		}
		// While stopped, every line is plain text, the resume line included.
		l.printLocked(line)
	default:
		l.commandLocked(c, line)
	}
}

func (l *Log) commandLocked(c command, line string) {
	switch c.name {
	case "add-mask":
		l.addMaskLocked(c.data)
	case "error", "warning", "notice":
		l.annotationLocked(strings.ToUpper(c.name[:1])+c.name[1:], c.data)
	case "group":
		l.inGroup = false
		l.printLocked("▼ " + c.data)
		l.inGroup = true
	case "endgroup":
		l.inGroup = false
	case "stop-commands":
		l.stopToken = c.data
		l.printLocked(line)
	}
	// debug is hidden; echo, set-output, save-state, set-env, add-path and the matcher
	// commands change the run, not what the log shows.
}

// annotationLocked prints "Kind: message", the message's further lines aligned under
// its first.
func (l *Log) annotationLocked(kind, msg string) {
	lines := strings.Split(strings.ReplaceAll(msg, "\r\n", "\n"), "\n")
	l.printLocked(kind + ": " + lines[0])
	pad := strings.Repeat(" ", len(kind)+2)
	for _, more := range lines[1:] {
		l.printLocked(pad + more)
	}
}

func (l *Log) printLocked(text string) {
	text = Inert(l.maskLocked(text))
	if l.inGroup {
		text = groupIndent + text
	}
	if l.err == nil {
		_, l.err = io.WriteString(l.w, strings.TrimRight(text, " ")+"\n")
	}
}

// Inert returns s with control characters (escape sequences, carriage returns, bells,
// a lone \r or \n) and invalid UTF-8 shown as escapes such as \x1b, so that text from a
// step cannot move the cursor, recolour or rewrite a terminal. Tabs stay.
func Inert(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
