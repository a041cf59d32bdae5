package action

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

func TestLogScrubsMaskedValuesFromEverythingItPrints(t *testing.T) {
	var out bytes.Buffer
	l := NewLog(&out, func(k string) string { return map[string]string{"GITHUB_ACTIONS": "true"}[k] })
	l.AddMask("s3cret-line-one\ns3cret-line-two")
	l.Infof("server said: %s", "bad key s3cret-line-one")
	l.Errorf("%v", errors.New("echo: s3cret-line-two"))
	l.Warningf("w s3cret-line-one")
	text := out.String()
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "::add-mask::") {
			continue
		}
		if strings.Contains(line, "s3cret") {
			t.Errorf("printed unscrubbed: %q", line)
		}
	}
	if !strings.Contains(text, "::add-mask::s3cret-line-one\n::add-mask::s3cret-line-two\n") {
		t.Errorf("masks not emitted line by line:\n%s", text)
	}
}

func TestLogEmitsNoMaskCommandsOutsideGitHub(t *testing.T) {
	var out bytes.Buffer
	l := NewLog(&out, func(string) string { return "" })
	l.AddMask("s3cret-value")
	l.Infof("value: s3cret-value")
	if strings.Contains(out.String(), "s3cret") {
		t.Errorf("outside GitHub the secret was printed:\n%s", out.String())
	}
}

func TestOutputsUseARandomDelimiterThatTheValueDoesNotContain(t *testing.T) {
	d1, err := delimiter("x")
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := delimiter("x")
	if d1 == d2 || !strings.HasPrefix(d1, "ghadelimiter_") {
		t.Errorf("delimiters %q %q", d1, d2)
	}
}

// The secrets the Log tests mask: an AWS secret key, a password with spaces, quotes and
// HTML characters, and a token.
var logSecrets = []string{
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	`pa ss  "w<o>rd"&more`,
	"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
}

func githubEnv(k string) string { return map[string]string{"GITHUB_ACTIONS": "true"}[k] }

func TestLogPrintsNoLineThatStartsACommand(t *testing.T) {
	injected := "boom\n::stop-commands::x\r::add-mask::y\r\n  ::error::forged ##[warning]z"
	for _, env := range []struct {
		name   string
		getenv func(string) string
		own    []string // the Log's own prefixes, in order
	}{
		{"on GitHub", githubEnv, []string{"::warning::", "::error::", "::debug::", "::group::", "::endgroup::"}},
		{"outside GitHub", func(string) string { return "" }, []string{"warning: ", "error: ", "debug: ", "boom"}},
	} {
		t.Run(env.name, func(t *testing.T) {
			var out bytes.Buffer
			l := NewLog(&out, env.getenv)
			l.Infof("SORACOM said: %s", injected)
			l.Infof("operator %s", untrusted.Text(injected))
			l.Warningf("%s", injected)
			l.Errorf("%s", injected)
			l.Debugf("%s", injected)
			l.Group(injected)
			l.EndGroup()
			own := env.own
			for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
				if len(own) > 0 && strings.HasPrefix(line, own[0]) {
					own = own[1:]
					continue
				}
				if untrusted.IsCommand(line) {
					t.Errorf("forged command line %q in:\n%s", line, out.String())
				}
			}
			if len(own) > 0 {
				t.Errorf("the Log's own commands %q missing:\n%s", own, out.String())
			}
		})
	}
}

func TestLogPrintsPlainLinesOutsideGitHub(t *testing.T) {
	var out bytes.Buffer
	l := NewLog(&out, func(string) string { return "" })
	l.Errorf("first line\nsecond line 100%%")
	l.Warningf("careful")
	l.Noticef("fyi")
	l.Group("Plan")
	l.EndGroup()
	l.AddMask("secret-value-1")
	if got, want := out.String(), "error: first line\nsecond line 100%\nwarning: careful\nnotice: fyi\nPlan\n"; got != want {
		t.Errorf("outside GitHub printed %q", got)
	}
	out.Reset()
	NewLog(&out, githubEnv).Errorf("first line\nsecond line 100%%")
	if got := out.String(); got != "::error::first line%0Asecond line 100%25\n" {
		t.Errorf("on GitHub printed %q", got)
	}
}

func TestLogCapsTextFromOutside(t *testing.T) {
	huge := strings.Repeat("A server message that goes on. ", 100_000) // 3 MB
	var out bytes.Buffer
	l := NewLog(&out, githubEnv)
	l.Infof("SORACOM said %s; retrying", untrusted.Text(huge))
	if n := len([]rune(out.String())); n > untrusted.MaxFragment+40 {
		t.Errorf("a quoted server text printed %d characters", n)
	}
	out.Reset()
	l.Errorf("SORACOM failed: %s. To fix: run again", huge)
	line := out.String()
	if n := len([]rune(line)); n > maxLine+20 {
		t.Errorf("an error with a server text printed %d characters", n)
	}
	if !strings.HasSuffix(line, "To fix: run again\n") {
		t.Errorf("the hint at the end was cut: %q", line[len(line)-60:])
	}
}

func TestLogHidesSecretsInEveryForm(t *testing.T) {
	var out bytes.Buffer
	l := NewLog(&out, githubEnv)
	for _, s := range logSecrets {
		l.AddMask(s)
	}
	masks := out.Len()
	aws := logSecrets[0]
	l.Errorf("400 echo: %s…", aws[:39])
	l.Infof("%s", `{"password":"pa ss  \"w<o>rd\"&more"}`)
	l.Infof("collapsed: %s", "pa ss \"w<o>rd\"&more")
	l.Infof("html: %s", "pa ss  &#34;w&lt;o&gt;rd&#34;&amp;more")
	l.Infof("url: %s", "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl&x=1")
	l.Infof("quoted %s", untrusted.Text("body: "+aws[:20]))
	printed := out.String()[masks:]
	for _, s := range logSecrets {
		for _, form := range untrusted.Forms(s) {
			if len(form) >= 8 && strings.Contains(printed, form[:8]) {
				t.Errorf("printed the start of a form of a secret (%q):\n%s", form[:8], printed)
			}
		}
	}
	if !strings.Contains(printed, "quoted "+untrusted.Withheld) {
		t.Errorf("a quoted text with the start of a secret was not withheld:\n%s", printed)
	}
}

func TestLogDoesNotGarbleWordsWithAShortSecret(t *testing.T) {
	var out bytes.Buffer
	l := NewLog(&out, func(string) string { return "" })
	l.AddMask("u")
	l.Errorf("invalid inputs: did you mean u?")
	if got := out.String(); got != "error: invalid inputs: did you mean ***?\n" {
		t.Errorf("printed %q", got)
	}
}

func TestOutputsRefuseValuesOfTheWrongShape(t *testing.T) {
	tests := []struct {
		name, output, value string
		ok                  bool
	}{
		{"an operator id", "operator-id", "OP0012345678", true},
		{"an operator id with a newline", "operator-id", "OP0012345678\n::stop-commands::x", false},
		{"an operator id of another shape", "operator-id", "op-12", false},
		{"an AWS key id", "aws-access-key-id", "AKIAIOSFODNN7EXAMPLE", true},
		{"an AWS key id in lower case", "previous-aws-access-key-id", "akiaiosfodnn7example", false},
		{"an account id", "aws-account-id", "123456789012", true},
		{"an account id of 11 digits", "aws-account-id", "12345678901", false},
		{"a certificate expiry", "certificate-not-after", "2030-01-02T03:04:05Z", true},
		{"a certificate without expiry", "certificate-not-after", "9999-12-31T23:59:59Z", true},
		{"a time out of range", "certificate-not-after", "1900-01-01T00:00:00Z", false},
		{"results", "results", `[{"credentialId":"a","updatedAt":"2026-01-02T03:04:05Z"}]`, true},
		{"results with a time far out of range", "results", `[{"credentialId":"a","updatedAt":"-283457-03-21T15:00:59Z"}]`, false},
		{"results that are not JSON", "results", `[{`, false},
		{"results with a stored type that is not a type", "results", `[{"credentialId":"a","type":"psk<img src=x>"}]`, false},
		{"results on both coverages", "results", `[{"credentialId":"a","coverage":"jp"},{"credentialId":"a","coverage":"g"}]`, true},
		{"results with a coverage that is not one", "results", `[{"credentialId":"a","coverage":"eu"}]`, false},
		{"any value with a control character", "operation", "created\r", false},
		{"any value with invalid UTF-8", "credential-id", "a\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckOutput(tt.output, tt.value)
			if (err == nil) != tt.ok {
				t.Errorf("CheckOutput(%q, %q) = %v", tt.output, tt.value, err)
			}
			var oe *OutputError
			if err != nil && (!errors.As(err, &oe) || strings.Contains(err.Error(), "\n")) {
				t.Errorf("error %q is not a one-line OutputError", err)
			}
		})
	}
}

// BenchmarkLogMasksALargeCredentialsFile masks each line of a 100k-line credentials file
// that is not JSON, as inputs does, then prints a line: linear in the secrets' size,
// where one ReplaceAll per mask and a sort per AddMask took 20 s.
func BenchmarkLogMasksALargeCredentialsFile(b *testing.B) {
	lines := make([]string, 100_000)
	for i := range lines {
		lines[i] = fmt.Sprintf("key_%06d = %x", i, i*7919)
	}
	for b.Loop() {
		l := NewLog(io.Discard, githubEnv)
		for _, line := range lines {
			l.AddMask(line)
		}
		l.Infof("stored %d lines", len(lines))
	}
}

// The runner's escaping of a command's data ("%" as %25, a line break as %0A) is the last
// transformation of a line: a secret that it would spell is redacted after it, and the
// line stays the command it was.
func TestLogRedactsWhatTheRunnersEscapingSpells(t *testing.T) {
	tests := []struct{ secret, text string }{
		{"k%25e%25y%25Z", "k%e%y%Z"},
		{"Zq%0Aw9%25x", "Zq\nw9%x"},
	}
	for _, tt := range tests {
		t.Run(tt.secret, func(t *testing.T) {
			var out bytes.Buffer
			l := NewLog(&out, githubEnv)
			l.AddMask(tt.secret)
			masks := out.Len()
			l.Errorf("failed: %s", tt.text)
			l.Warningf("%s", tt.text)
			printed := out.String()[masks:]
			if strings.Contains(printed, tt.secret) || !strings.HasPrefix(printed, "::error::failed: ") {
				t.Errorf("printed %q", printed)
			}
		})
	}
}

// An output is the one place a value is written unredacted: one that holds a part of a
// secret is refused whole, except a masked AWS key id, which later steps need.
func TestOutputsRefuseAValueHoldingASecret(t *testing.T) {
	tests := []struct {
		name, output, value string
		written             bool
	}{
		{"results naming a part of a secret", "results", `[{"credentialId":"x-FEMI/K7MDENG"}]`, false},
		{"a credential id that is a URL-encoded part of a secret", "credential-id", "MDENG%2FbPxRf", false},
		{"a masked key id", "aws-access-key-id", "AKIAIOSFODNN7EXAMPLE", true},
		{"an operator id", "operator-id", "OP0012345678", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout bytes.Buffer
			l := NewLog(&stdout, githubEnv)
			for _, s := range append(logSecrets, "AKIAIOSFODNN7EXAMPLE") {
				l.AddMask(s)
			}
			file := filepath.Join(t.TempDir(), "out")
			err := (&fileCommands{log: l, stdout: &stdout, output: file}).SetOutput(tt.output, tt.value)
			written, _ := os.ReadFile(file)
			if got := strings.Contains(string(written), tt.value); got != tt.written || (err == nil) != tt.written {
				t.Errorf("written %v, error %v; want written %v:\n%s", got, err, tt.written, written)
			}
		})
	}
}
