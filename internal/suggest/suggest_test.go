package suggest_test

import (
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/suggest"
)

func TestClosest(t *testing.T) {
	inputs := []string{"credential-id", "credential-type", "credentials", "credentials-file", "dry-run", "soracom-endpoint"}
	tests := []struct {
		name       string
		candidates []string
		want       string // "" for no suggestion
	}{
		{"CREDENTIAL_ID", inputs, "credential-id"}, // case and punctuation do not count
		{"credentail-id", inputs, "credential-id"}, // a swap is one typo
		{"dryrun", inputs, "dry-run"},              //
		{"soracom-endpiont", inputs, "soracom-endpoint"},
		{"accessKeyID", []string{"accessKeyId", "secretAccessKey"}, "accessKeyId"},
		{"access_key_id", []string{"accessKeyId", "secretAccessKey"}, "accessKeyId"},
		{"pass", []string{"username", "password"}, "password"}, // one inside the other
		{"region", inputs, ""},                                 // nothing close
	}
	for _, tt := range tests {
		got, ok := suggest.Closest(tt.name, tt.candidates)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Closest(%q) = %q, %v; want %q", tt.name, got, ok, tt.want)
		}
	}
}
