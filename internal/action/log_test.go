package action

import (
	"bytes"
	"errors"
	"strings"
	"testing"
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
