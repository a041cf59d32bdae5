package e2e

import (
	"strings"
	"testing"
)

// The description input through the built action: empty keeps what a set holds (a
// description written in the console survives the pipeline) at the cost of one list,
// "-" clears it, a value replaces it.
func TestDescriptionInput(t *testing.T) {
	tests := []struct {
		name, input, want string
		trips             string
	}{
		{"empty keeps the stored description", "", "written in the console",
			"POST /v1/auth, GET /v1/credentials, PUT /v1/credentials/funnel-aws, POST /v1/auth/logout"},
		{"a value replaces it", "rotated by CI", "rotated by CI",
			"POST /v1/auth, PUT /v1/credentials/funnel-aws, POST /v1/auth/logout"},
		{"- clears it", "-", "",
			"POST /v1/auth, PUT /v1/credentials/funnel-aws, POST /v1/auth/logout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, in := registration(t, map[string]string{"description": tt.input})
			putExistingSet(s, "funnel-aws")
			set, _ := s.CredentialSet("funnel-aws")
			set.Description = "written in the console"
			s.PutCredentialSet(set)
			s.Reset()
			r := runAction(t, runOpts{inputs: in, secrets: inputSecrets})
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stdout)
			}
			got, _ := s.CredentialSet("funnel-aws")
			if got.Description != tt.want || got.Credentials["secretAccessKey"] != awsSecret {
				t.Errorf("description %q, want %q (or the key was not written)", got.Description, tt.want)
			}
			var trips []string
			for _, rq := range s.Requests() {
				trips = append(trips, rq.Method+" "+rq.Path)
			}
			if strings.Join(trips, ", ") != tt.trips {
				t.Errorf("round trips:\n%s\nwant\n%s", strings.Join(trips, ", "), tt.trips)
			}
		})
	}
}
