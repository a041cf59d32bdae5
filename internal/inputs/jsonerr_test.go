package inputs

import (
	"strings"
	"testing"
	"time"
)

// TestCredentialsThatDoNotParseSayWhyAndWhere: the parser's reason and the position,
// and the hint that fits the cause: JSON in single quotes is told about double quotes,
// not about passwords; a value broken by a quote or a backslash is told to use toJSON;
// a text cut short gets no hint.
func TestCredentialsThatDoNotParseSayWhyAndWhere(t *testing.T) {
	const toJSONHint = "${{ toJSON(secrets.NAME) }}"
	tests := []struct {
		name, text    string
		want, notWant []string
	}{
		{"single quotes", `{'username': 'device', 'password': 'pa55word'}`,
			[]string{`invalid character '\'' looking for beginning of object key string`, "line 1, column 2 (byte 2)", `JSON quotes names and strings with " not '`},
			[]string{toJSONHint}},
		{"a password with a quote, pasted between quotes", `{"username": "device", "password": "pa"ss\word"}`,
			[]string{"after object key:value pair", "line 1, column 40", toJSONHint},
			[]string{`'s'`, `ss\word`, "not '"}},
		{"a password with a backslash", "{\"username\": \"device\",\n \"password\": \"pa\\qss\"}",
			[]string{"in string escape code", "line 2, column 18", toJSONHint},
			[]string{"'q'"}},
		{"a text cut short", `{"username": "device", `,
			[]string{"unexpected end of input", "line 1, column 23"},
			[]string{toJSONHint, "not '"}},
		{"a trailing comma", `{"username": "device", "password": "x",}`,
			[]string{`invalid character '}' looking for beginning of object key string`},
			[]string{toJSONHint}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := valid(map[string]string{AWSAccessKeyID: "", AWSSecretAccessKey: "", CredentialType: "username-password-credentials", Credentials: tt.text})
			_, err := Read(env(t, vars), &masks{}, time.Now())
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error says %q:\n%v", w, err)
				}
			}
		})
	}
}
