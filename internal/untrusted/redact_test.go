package untrusted

import (
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"
)

const awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" // 40 characters, like an AWS secret key

func TestRedactHidesEveryFormOfASecret(t *testing.T) {
	pw := `pa ss  "w<o>rd"&more`
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"the value as it is", []string{awsSecret}, "key " + awsSecret + " end", "key *** end"},
		{"JSON-escaped", []string{pw}, `{"password":"pa ss  \"w<o>rd\"&more"}`, `{"password":"***"}`},
		{"JSON-escaped the Go way", []string{pw}, `"pa ss  \"w\u003co\u003erd\"\u0026more"`, `"***"`},
		{"URL-escaped (query)", []string{pw}, "p=" + url.QueryEscape(pw), "p=***"},
		{"URL-escaped with %20 for a space", []string{pw}, "p=pa%20ss%20%20%22w%3Co%3Erd%22%26more", "p=***"},
		{"URL-escaped in lower-case hex", []string{awsSecret}, "k=wJalrXUtnFEMI%2fK7MDENG%2fbPxRfiCYEXAMPLEKEY", "k=***"},
		{"JSON-escaped with escaped slashes", []string{awsSecret}, `{"k":"wJalrXUtnFEMI\/K7MDENG\/bPxRfiCYEXAMPLEKEY"}`, `{"k":"***"}`},
		{"URL-escaped (path)", []string{pw}, "/x/" + url.PathEscape(pw), "/x/***"},
		{"HTML-escaped", []string{pw}, "<p>" + html.EscapeString(pw) + "</p>", "<p>***</p>"},
		{"HTML-escaped with named quotes", []string{pw}, "pa ss  &quot;w&lt;o&gt;rd&quot;&amp;more", "***"},
		{"echoed raw in a page whose tags were stripped", []string{pw}, `pa ss  "wrd"&more`, "***"},
		{"whitespace collapsed", []string{pw}, `pa ss "w<o>rd"&more`, "***"},
		{"one line of a multi-line secret", []string{"-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n-----END KEY-----"}, "bad line MIIBOgIBAAJBAKj34GkxFhD9 here", "bad line *** here"},
		{"Markdown-escaped", []string{"a_b*c|d-secret"}, "a&#95;b&#42;c&#124;d-secret", "***"},
		{"every occurrence", []string{"s3cret-value"}, "s3cret-value,s3cret-value", "***,***"},
		{"overlapping secrets are both hidden whole", []string{"abcdefgh", "fghijklm"}, "xxabcdefghijklmxx", "xx***xx"},
		{"a secret inside another", []string{"outer-secret-value", "secret"}, "outer-secret-value secret", "*** ***"},
		{"text without secrets is unchanged", []string{awsSecret}, "nothing here", "nothing here"},
		{"a short secret alone is hidden", []string{"u"}, "user u said", "user *** said"},
		{"a short secret inside a word is not", []string{"u"}, "invalid inputs: did you mean", "invalid inputs: did you mean"},
		{"a three-character secret next to punctuation", []string{"x9z"}, "(x9z),x9zz", "(***),x9zz"},
		{"blank secrets hide nothing", []string{"", "  ", "\n"}, "a  b\n", "a  b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Redactor
			r.Add(tt.secrets...)
			if got := r.Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactPartsHidesWhatACutLeftOfASecret(t *testing.T) {
	var r Redactor
	r.Add(awsSecret, "AKIAIOSFODNN7EXAMPLE")
	tests := []struct {
		name, in, want string
	}{
		{"39 of 40 characters, cut by a snippet", "echo: " + awsSecret[:39] + "…", "echo: ***…"},
		{"8 characters", "x " + awsSecret[:8] + " y", "x *** y"},
		{"7 characters are not a leak", "x " + awsSecret[:7] + " y", "x " + awsSecret[:7] + " y"},
		{"an AWS key id sharing the start of a masked one is not hidden", "old key AKIAIOSFODNN7OTHER1", "old key AKIAIOSFODNN7OTHER1"},
		{"the masked key id itself is", "new key AKIAIOSFODNN7EXAMPLE", "new key ***"},
		{"8 characters from its middle", "x " + awsSecret[10:18] + " y", "x *** y"},
		{"its end", "…" + awsSecret[25:], "…***"},
		{"a middle part written as numeric references", "x &#69;&#88;&#65;&#77;&#80;&#76;&#69;&#75; y", "x *** y"},
		{"a middle part URL-encoded inside a JSON string", `{"q":"NG%2FbPxRf"}`, `{"q":"***"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.RedactParts(tt.in); got != tt.want {
				t.Errorf("RedactParts(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if leaks := r.Leaks(tt.in); leaks != (tt.in != tt.want) {
				t.Errorf("Leaks(%q) = %v", tt.in, leaks)
			}
		})
	}
}

// What the printing path makes of a secret (the SORACOM client decodes an HTML page's
// references and strips its tags, JSON decoding undoes escapes) is hidden, and so is
// every run of 8 bytes of it, however the server wrote it.
func TestRedactPartsHidesTheDecodedFormsOfASecret(t *testing.T) {
	tests := []struct {
		name, secret, in, want string
	}{
		{"a password holding references, decoded by the client", "Tr0ub4dor&amp;3&lt;horse", "bad Tr0ub4dor&3<horse!", "bad ***!"},
		{"its part after a decoded reference", "Tr0ub4dor&amp;3&lt;horse-B4ttery9", "x 3<horse-B4ttery9", "x ***"},
		{"a password holding tags, stripped and decoded", "s<b>ecr</b>et&quot;Zq8vW3", `password=secret"Zq8vW3.`, "password=***."},
		{"a password holding a JSON escape, decoded", `Zq8\nvW3xK9pL2`, "Zq8\nvW3xK9pL2", "***"},
		{"every character a decimal reference", "Xk9#<mq&2zP", "&#88;&#107;&#57;&#35;&#60;&#109;&#113;&#38;&#50;&#122;&#80;", "***"},
		{"hexadecimal references and raw characters mixed", "Xk9#<mq&2zP", "[Xk9#&#x3c;mq&#X26;2zP]", "[***]"},
		{"HTML-escaped twice", `a<b>&c"d9Zq`, "&amp;lt;", "&amp;lt;"},
		{"HTML-escaped twice, whole", `a<b>&c"d9Zq`, "a&amp;lt;b&amp;gt;&amp;amp;c&amp;quot;d9Zq", "***"},
		{"URL-encoded then JSON-escaped", `pa ss/"w<o>rd`, `"pa+ss%2F%22w%3Co%3Erd"`, `"***"`},
		{"Go-quoted with a control character", "tab	here-9Zq8vW", `"tab\there-9Zq8vW"`, `"***"`},
		{"a cut through a multi-byte character leaves valid UTF-8", "pässwört-geheim", "x sswört-ge", "x ***"},
		{"a run of punctuation alone is not a part", `Zq8!"#$%&'()*+,-./`, `"#$%&'()*+`, `"#$%&'()*+`},
		{"nor a run of one kind: digits, as in an operator id", "key-0123456789-Zq", "OP0012345678", "OP0012345678"},
		{"nor a word", "secret-rotation-test-9Zq", "keyId-rotation-test", "keyId-rotation-test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Redactor
			r.Add(tt.secret)
			if got := r.RedactParts(tt.in); got != tt.want {
				t.Errorf("RedactParts(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactorKeepsEverySecretAcrossMergedLevels(t *testing.T) {
	var r Redactor
	var text strings.Builder
	for i := range 300 {
		s := fmt.Sprintf("secret-%04d-%s", i, strings.Repeat("x", i%17))
		r.Add(s)
		// Redacting between additions builds a level each time.
		if got := r.Redact(s); got != "***" {
			t.Fatalf("after adding %d secrets: Redact(%q) = %q", i+1, s, got)
		}
		fmt.Fprintf(&text, "[%s]", s)
	}
	if got, want := r.Redact(text.String()), strings.Repeat("[***]", 300); got != want {
		t.Errorf("not every secret hidden: %q", got)
	}
	if len(r.levels) > 10 {
		t.Errorf("%d levels for 300 additions: they are not merged", len(r.levels))
	}
}

func TestZeroRedactorHidesNothing(t *testing.T) {
	var r Redactor
	if got := r.Redact("anything"); got != "anything" || r.Leaks("anything") {
		t.Errorf("zero Redactor changed text: %q", got)
	}
}

// BenchmarkRedactLargeCredentialsFile masks every line of a 100k-line credentials file
// that is not JSON, as the action does, then scrubs a message: linear, where one
// ReplaceAll per mask was quadratic.
func BenchmarkRedactLargeCredentialsFile(b *testing.B) {
	lines := make([]string, 100_000)
	for i := range lines {
		lines[i] = fmt.Sprintf("line-%06d = %x", i, i*7919)
	}
	msg := strings.Repeat("an ordinary log line with nothing secret in it; ", 100)
	for b.Loop() {
		var r Redactor
		for _, l := range lines {
			r.Add(l)
		}
		_ = r.Redact(msg)
	}
}
