package inputs

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/suggest"
)

// Strays returns a message for each INPUT_ variable of environ (NAME=VALUE entries, as
// os.Environ lists them) that names no input: a misspelled name, or a shell's spelling
// INPUT_CREDENTIAL_ID of the runner's INPUT_CREDENTIAL-ID. Such a variable would be
// ignored silently; each message names the closest input when one is close. Values are
// never read, so a secret in a stray variable is not printed.
func Strays(environ []string) []string {
	known := map[string]bool{}
	names := make([]string, 0, len(specs))
	for _, s := range specs {
		known[EnvName(s.Name)] = true
		names = append(names, s.Name)
	}
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		rest, ok := strings.CutPrefix(name, "INPUT_")
		if !ok || known[name] || rest == "" {
			continue
		}
		out = append(out, stray(name, rest, names))
	}
	sort.Strings(out)
	return out
}

func stray(variable, rest string, names []string) string {
	msg := fmt.Sprintf("%s names no input of action.yml, so it is ignored", variable)
	best, ok := suggest.Closest(rest, names)
	if !ok {
		return msg
	}
	msg += fmt.Sprintf("; did you mean %s? (its variable is %s", best, EnvName(best))
	if strings.Contains(best, "-") && !strings.Contains(rest, "-") {
		msg += ", with hyphens: set it with env, docker run -e or the flag --" + best
	}
	return msg + ")"
}

// WithProblems adds problems to the error Read returned: an *Error gains them, nil
// becomes one. Any other error is returned as it is, with the problems appended.
func WithProblems(err error, more []string) error {
	if len(more) == 0 {
		return err
	}
	if err == nil {
		return &Error{Problems: more}
	}
	var e *Error
	if errors.As(err, &e) {
		return &Error{Problems: append(append([]string(nil), e.Problems...), more...)}
	}
	return fmt.Errorf("%w; %s", err, strings.Join(more, "; "))
}
