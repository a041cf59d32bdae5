package action_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An AWS endpoint over plain http in the shared config file (the profile's
// endpoint_url, or a service's in the services section it names) ends a rotation with
// the input report, before any call to SORACOM or AWS.
func TestPlainHTTPAWSEndpointInTheSharedConfigStopsTheRunBeforeAnyCall(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"the profile's endpoint_url", "[profile ci]\nendpoint_url = http://aws.example.com\n", `endpoint_url of profile "ci"`},
		{"iam in the services section", "[profile ci]\nservices = here\n[services here]\niam =\n  endpoint_url = http://iam.example.com:8080\n", "endpoint_url of iam in [services here]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			file := filepath.Join(t.TempDir(), "config")
			if err := os.WriteFile(file, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			o := w.runWith(t, shortBounds(), map[string]string{"AWS_CONFIG_FILE": file, "AWS_PROFILE": "ci"})
			if o.code != 1 || !strings.Contains(o.stdout, tt.want) || !strings.Contains(o.stdout, "uses plain http") {
				t.Errorf("exit %d; want 1 and %q in:\n%s", o.code, tt.want, o.stdout)
			}
			if n := len(w.soracom.Requests()); n != 0 {
				t.Errorf("%d requests to SORACOM", n)
			}
			if n := len(w.acct.Requests()); n != 0 {
				t.Errorf("%d requests to AWS", n)
			}
		})
	}
}
