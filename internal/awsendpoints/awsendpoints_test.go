package awsendpoints

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Find lists every endpoint the SDK may use for the services, from the environment
// first, then the selected profile, then its services section; and the credential
// endpoints only when the SDK's own chain is used.
func TestFindListsEveryConfiguredEndpoint(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config")
	text := "[profile ci]\nendpoint_url = https://all.example\nec2_metadata_service_endpoint = http://169.254.169.254\nservices = s\n" +
		"[services s]\nsts =\n  endpoint_url = https://sts.example\nsso_oidc =\n  endpoint_url = https://oidc.example\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"AWS_CONFIG_FILE": file, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"), "AWS_PROFILE": "ci",
		"AWS_ENDPOINT_URL_IAM": "https://iam.example", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/creds"}
	getenv := func(k string) string { return vars[k] }
	sources := func(credentials bool) []string {
		endpoints, err := Find(getenv, []string{"STS", "IAM"}, credentials)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range endpoints {
			out = append(out, e.Service+" "+e.URL)
		}
		return out
	}
	want := []string{"IAM https://iam.example", "AWS https://all.example", "STS https://sts.example"}
	if got := sources(false); !reflect.DeepEqual(got, want) {
		t.Errorf("without the credential chain: %q, want %q", got, want)
	}
	want = append(want, "SSO OIDC https://oidc.example", "container credentials http://127.0.0.1:9/creds", "instance metadata http://169.254.169.254")
	if got := sources(true); !reflect.DeepEqual(got, want) {
		t.Errorf("with the credential chain: %q, want %q", got, want)
	}
	vars["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "maybe"
	if _, err := Find(getenv, []string{"STS"}, false); err == nil {
		t.Error("an AWS_IGNORE_CONFIGURED_ENDPOINT_URLS the SDK refuses is accepted")
	}
}

// Find and Variables add the credential services to a list of their own: a caller's
// slice with room to spare is not written into.
func TestFindLeavesTheCallersServicesAlone(t *testing.T) {
	backing := make([]string, 1, 8)
	backing[0] = "STS"
	spare := backing[:cap(backing)]
	getenv := func(string) string { return "" }
	if _, err := Find(getenv, backing, true); err != nil {
		t.Fatal(err)
	}
	_ = Variables(backing...)
	for i, s := range spare[1:] {
		if s != "" {
			t.Errorf("the caller's array was written at %d: %q", i+1, s)
		}
	}
}
