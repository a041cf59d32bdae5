package action

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsid"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/shape"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// maxSummary bounds the job summary. GitHub drops a step summary over 1 MiB whole; a
// quarter of that leaves room for other steps' summaries and is far more than a table of
// credential sets needs.
const maxSummary = 256 << 10

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

// SetOutput writes one output, after checking it has the shape its name promises (see
// CheckOutput): values come from servers, and a later step may put them in a shell
// command or a URL. Without GITHUB_OUTPUT it prints name=value instead, so a local run
// shows what a workflow would receive. Values are not scrubbed: a rotation's new key id
// is masked in the log yet is an output that later steps of the job need. Any other
// value that holds a part of a secret is refused whole.
func (f *fileCommands) SetOutput(name, value string) error {
	if err := CheckOutput(name, value); err != nil {
		return err
	}
	if !awsid.AccessKeyID(value) && f.log.secrets.Leaks(value) {
		return &OutputError{Name: name, Value: untrusted.Withheld, Want: "free of every secret"}
	}
	if f.output == "" {
		_, err := fmt.Fprintln(f.stdout, untrusted.Defang("output "+name+"="+value))
		return err
	}
	delim, err := delimiter(value)
	if err != nil {
		return err
	}
	return appendFile(f.output, fmt.Sprintf("%s<<%s\n%s\n%s\n", name, delim, value, delim))
}

// Years a timestamp from a server may fall in. Certificates may say 9999 ("no
// expiry", RFC 5280) but not before 1950 (the start of UTCTime); SORACOM's own times
// are recent.
const (
	minYear, maxYear         = 1970, 2200
	minCertYear, maxCertYear = 1950, 9999
)

// CheckOutput reports whether value has the shape of the output name: an operator id is
// OP and digits, an AWS access key id as awsid defines it, an
// account id 12 digits, timestamps RFC 3339 within a sane range of years; every value is
// one line of valid UTF-8 without control characters.
func CheckOutput(name, value string) error {
	if !shape.Line(value) {
		return outputError(name, value, shape.LineShape)
	}
	switch name {
	case "operator-id":
		if !shape.OperatorID(value) {
			return outputError(name, value, shape.OperatorIDShape)
		}
	case "aws-access-key-id", "previous-aws-access-key-id":
		if !awsid.AccessKeyID(value) {
			return outputError(name, value, awsid.AccessKeyIDFormat)
		}
	case "aws-account-id":
		if !awsid.AccountID(value) {
			return outputError(name, value, awsid.AccountIDFormat)
		}
	case "certificate-not-after":
		return checkTime(name, value, minCertYear, maxCertYear)
	case "next-rotation":
		return checkTime(name, value, minYear, maxYear)
	case "key-age-days":
		if !shape.Days(value) {
			return outputError(name, value, shape.DaysShape)
		}
	case "auth-key-id":
		if !shape.AuthKeyID(value) {
			return outputError(name, value, shape.AuthKeyIDShape)
		}
	case "auth-key-next-rotation":
		return checkTime(name, value, minYear, maxYear)
	case "rotated", "auth-key-rotated", "findings-truncated":
		if value != "true" && value != "false" {
			return outputError(name, value, "true or false")
		}
	case "findings":
		return checkFindings(value)
	case "results":
		return checkResults(value)
	}
	return nil
}

// checkResults checks the results output: a JSON array of objects whose *At fields are
// timestamps and whose type (a skipped set's is the stored one, from SORACOM) is a
// credential set type.
func checkResults(value string) error {
	var results []map[string]any
	if err := json.Unmarshal([]byte(value), &results); err != nil {
		return outputError("results", value, "a JSON array of objects")
	}
	for _, res := range results {
		for k, v := range res {
			s, _ := v.(string)
			var err error
			switch {
			case strings.HasSuffix(k, "At"):
				err = checkTime("results ("+k+")", s, minYear, maxYear)
			case k == "type" && !shape.CredentialType(s):
				err = outputError("results (type)", s, shape.CredentialTypeShape)
			case k == "coverage" && !slices.Contains(soracom.CoverageTypes(), s):
				err = outputError("results (coverage)", s, "a coverage ("+strings.Join(soracom.CoverageTypes(), " or ")+")")
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// checkFindings checks the findings output: a JSON array of at most maxFindingsOutput
// bytes whose identifiers have their formats (they came from SORACOM, IAM and STS, and
// a later step may put them in a command).
func checkFindings(value string) error {
	var findings []struct {
		CredentialID, Type, AccessKeyID, UserName, AccountID string
	}
	if len(value) > maxFindingsOutput || json.Unmarshal([]byte(value), &findings) != nil {
		return outputError("findings", value, "a JSON array of findings of at most 1 MiB")
	}
	for _, f := range findings {
		for _, c := range []struct {
			field, v, want string
			ok             func(string) bool
		}{
			{"credentialId", f.CredentialID, shape.CredentialIDShape, shape.CredentialID},
			{"type", f.Type, shape.CredentialTypeShape, shape.CredentialType},
			{"accessKeyId", f.AccessKeyID, awsid.AccessKeyIDFormat, awsid.AccessKeyID},
			{"userName", f.UserName, awsid.UserNameFormat, awsid.UserName},
			{"accountId", f.AccountID, awsid.AccountIDFormat, awsid.AccountID},
		} {
			if c.v != "" && !c.ok(c.v) {
				return outputError("findings ("+c.field+")", c.v, c.want)
			}
		}
	}
	return nil
}

func checkTime(name, value string, minYear, maxYear int) error {
	t, err := time.Parse(time.RFC3339, value)
	if err != nil || t.Year() < minYear || t.Year() > maxYear {
		return outputError(name, value, fmt.Sprintf("an RFC 3339 time between the years %d and %d", minYear, maxYear))
	}
	return nil
}

// OutputError is a value refused for an output: the server answered something that is
// not what the output promises, so later steps do not get it.
type OutputError struct {
	Name, Value, Want string
}

func (e *OutputError) Error() string {
	return fmt.Sprintf("output %s not set: the value %q is not %s (it came from a server; report it if it persists)", e.Name, e.Value, e.Want)
}

func outputError(name, value, want string) error {
	return &OutputError{Name: name, Value: untrusted.Clip(value, 40), Want: want}
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

// AddSummary appends Markdown to the job summary, scrubbed and capped at maxSummary.
// Text from outside in it must already be rendered inert (see Log.Markdown). Without
// GITHUB_STEP_SUMMARY it goes to stdout, each line unable to start a workflow command:
// outside GitHub as plain text (untrusted.PlainText), redacted again once decoded.
func (f *fileCommands) AddSummary(markdown string) error {
	markdown = f.log.Scrub(markdown)
	if len(markdown) > maxSummary {
		cut := strings.LastIndexByte(markdown[:maxSummary], '\n') + 1
		markdown = markdown[:cut] + fmt.Sprintf("\n\n*(summary cut: %d more bytes)*\n", len(markdown)-cut)
	}
	if f.summary == "" {
		text := markdown
		if !f.log.OnGitHub() {
			text = f.log.Scrub(untrusted.PlainText(markdown))
		}
		// Each line redacted once more: Lines drops control characters, which could
		// join two pieces of text into a run of a secret.
		lines := untrusted.Lines(text)
		for i, line := range lines {
			lines[i] = f.log.Scrub(line)
		}
		// A blank line first: the summary follows the log and the outputs.
		_, err := io.WriteString(f.stdout, "\n"+strings.Join(lines, "\n"))
		return err
	}
	return appendFile(f.summary, markdown)
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
