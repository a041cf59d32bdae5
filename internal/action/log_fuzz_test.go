package action

import (
	"bytes"
	"html"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// FuzzLog: whatever text a server sends, what the Log prints holds no secret (no start of
// 8 bytes of any form of one, no 8 consecutive bytes of one that tell, as printed or
// with its character references decoded) and no workflow command but the Log's own.
func FuzzLog(f *testing.F) {
	f.Add("\n::stop-commands::x\n", "")
	f.Add("echo wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPL", "x")
	f.Add(`{"password":"pa ss  \"w<o>rd\"&more"}`, "pa")
	f.Add("wJalrXUt\x00nFEMI", "##[add-mask]")
	f.Add("<p>&#112;&#97; ss  &quot;w&lt;o&gt;rd&quot;&amp;more</p>", "c2lnbmF0dXJl%25")
	f.Fuzz(func(t *testing.T, text, extra string) {
		var out bytes.Buffer
		l := NewLog(&out, githubEnv)
		for _, s := range logSecrets {
			l.AddMask(s)
		}
		masks := out.Len()
		l.Infof("SORACOM said: %s", text)
		l.Infof("operator %s (%s)", untrusted.Text(text), untrusted.Text(extra))
		l.Warningf("%s%s", text, extra)
		l.Errorf("failed: %s", text)
		l.Debugf("%s", extra+text)
		l.Group(text)
		l.EndGroup()
		own := []string{"::warning::", "::error::", "::debug::", "::group::", "::endgroup::"}
		for _, line := range strings.Split(strings.TrimSuffix(out.String()[masks:], "\n"), "\n") {
			if len(own) > 0 && strings.HasPrefix(line, own[0]) {
				line = unescapeData(strings.TrimPrefix(line, own[0]))
				own = own[1:]
			} else if untrusted.IsCommand(line) {
				t.Fatalf("forged command %q", line)
			}
			if part := secretPart(line); part != "" {
				t.Fatalf("printed a part of a secret %q: %q", part, line)
			}
		}
	})
}

// secretPart returns the first 8 bytes of a form of a logSecrets value, or 8
// consecutive bytes of one that are untrusted.Telling, found in line as it is or with
// its references decoded.
func secretPart(line string) string {
	decoded := html.UnescapeString(line)
	for _, s := range logSecrets {
		for _, form := range untrusted.Forms(s) {
			if len(form) >= 8 && strings.Contains(line, form[:8]) {
				return form[:8]
			}
		}
		for i := 0; i+8 <= len(s); i++ {
			if part := s[i : i+8]; untrusted.Telling(part) && (strings.Contains(line, part) || strings.Contains(decoded, part)) {
				return part
			}
		}
	}
	return ""
}

// unescapeData undoes the runner's escaping of a command's data.
func unescapeData(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(s)
}
