package inputs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// awsFiles writes the AWS config and credentials files a case gives (empty: none) in a
// fresh directory and returns the variables that name them.
func awsFiles(t *testing.T, configFile, credentialsFile string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{}
	for _, f := range []struct{ variable, name, text string }{
		{"AWS_CONFIG_FILE", "config", configFile}, {"AWS_SHARED_CREDENTIALS_FILE", "credentials", credentialsFile},
	} {
		path := filepath.Join(dir, f.name)
		if f.text != "" {
			if err := os.WriteFile(path, []byte(f.text), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		vars[f.variable] = path
	}
	return vars
}

func merged(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// Plain http to an AWS endpoint is refused wherever the SDK would read it: the
// selected profile's endpoint_url, the endpoint_url of a service in the services
// section the profile names, either file, the container credentials URL and the
// instance metadata endpoint. Loopback, AWS's own link-local credential addresses,
// https, profiles not selected and services not called are fine.
func TestReadRefusesPlainHTTPToAnAWSEndpointFromTheSharedConfig(t *testing.T) {
	const services = "[profile ci]\nservices = local\n[services local]\nsts =\n  endpoint_url = http://sts.example.com\niam =\n  endpoint_url = http://10.0.0.7:8080\ns3 =\n  endpoint_url = http://s3.example.com\n"
	tests := []struct {
		name                  string
		vars                  map[string]string
		configFile, credsFile string
		want                  []string
	}{
		{"the default profile's endpoint_url", rotationVars(nil), "[default]\nendpoint_url = http://aws.example.com\n", "",
			[]string{`endpoint_url of profile "default" of the AWS shared config`, `"http://aws.example.com" uses plain http`}},
		{"the endpoint_url of the profile AWS_PROFILE selects", merged(auditVars(nil), map[string]string{"AWS_PROFILE": "ci"}),
			"[default]\nregion = us-east-1\n[profile ci]\nendpoint_url = http://10.1.2.3:8080\n", "", []string{`endpoint_url of profile "ci"`, "http://10.1.2.3:8080"}},
		{"another profile's endpoint_url is not used", rotationVars(nil), "[profile other]\nendpoint_url = http://aws.example.com\n", "", nil},
		{"the services section: sts and iam of a rotation", merged(rotationVars(nil), map[string]string{"AWS_PROFILE": "ci"}), services, "",
			[]string{"endpoint_url of sts in [services local]", "endpoint_url of iam in [services local]", "http://10.0.0.7:8080", "2 invalid inputs"}},
		{"the services section: sts of a registration that verifies the key", merged(valid(nil), map[string]string{"AWS_PROFILE": "ci"}), services, "",
			[]string{"endpoint_url of sts in [services local]", "invalid input: "}},
		{"the credentials file's default profile", rotationVars(nil), "", "[default]\nendpoint_url = http://creds.example.com\n",
			[]string{`endpoint_url of profile "default"`, "http://creds.example.com"}},
		{"the credentials file's profile that AWS_DEFAULT_PROFILE selects", merged(auditVars(nil), map[string]string{"AWS_DEFAULT_PROFILE": "ci"}), "",
			"[ci]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\nendpoint_url = http://192.0.2.1\n", []string{`profile "ci"`, "http://192.0.2.1"}},
		{"the profile says to ignore configured endpoints", rotationVars(nil), "[default]\nendpoint_url = http://aws.example.com\nignore_configured_endpoint_urls = true\n", "", nil},
		{"loopback and https are fine", merged(rotationVars(nil), map[string]string{"AWS_PROFILE": "ci"}),
			"[profile ci]\nendpoint_url = http://127.0.0.1:4566\nservices = s\n[services s]\niam =\n  endpoint_url = https://iam.example.com\n", "", nil},
		{"a profile whose source profile is missing", rotationVars(nil), "[default]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = missing\n", "",
			[]string{"the AWS shared config cannot be read", "of profile missing"}},
		{"a profile whose SSO session is missing", rotationVars(nil), "[default]\nsso_session = nope\n", "", []string{"the AWS shared config cannot be read", "nope"}},
		{"container credentials over http to another host", merged(rotationVars(nil), map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://creds.example.com/v1"}), "", "",
			[]string{`AWS_CONTAINER_CREDENTIALS_FULL_URI "http://creds.example.com" uses plain http`}},
		{"container credentials over http to a private address", merged(auditVars(nil), map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://10.0.0.2:9000/creds"}), "", "",
			[]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI"}},
		{"container credentials at the EKS address or on loopback", merged(rotationVars(nil), map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials"}), "", "", nil},
		{"container credentials are not read with role-to-assume", merged(rotationVars(map[string]string{RoleToAssume: roleARN}), map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://creds.example.com/v1"}), "", "", nil},
		{"instance metadata over http to another host", merged(rotationVars(nil), map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://imds.example.com"}), "", "",
			[]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT"}},
		{"instance metadata from the profile", rotationVars(nil), "[default]\nec2_metadata_service_endpoint = http://imds.example.com\n", "", []string{`ec2_metadata_service_endpoint of profile "default"`}},
		{"instance metadata disabled", merged(rotationVars(nil), map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://imds.example.com", "AWS_EC2_METADATA_DISABLED": "true"}), "", "", nil},
		{"every problem at once, with the environment's", merged(rotationVars(nil), map[string]string{"AWS_PROFILE": "ci", "AWS_ENDPOINT_URL_IAM": "http://iam.example.com", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://creds.example.com"}),
			strings.Replace(services, "[profile ci]\n", "[profile ci]\nendpoint_url = http://aws.example.com\n", 1), "", []string{"5 invalid inputs", "AWS_ENDPOINT_URL_IAM", `endpoint_url of profile "ci"`, "[services local]", "AWS_CONTAINER_CREDENTIALS_FULL_URI"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := merged(tt.vars, awsFiles(t, tt.configFile, tt.credsFile))
			_, err := Read(env(t, vars), &masks{}, time.Now())
			wantProblems(t, err, tt.want...)
		})
	}
}

// Without AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE the SDK reads ~/.aws/config
// and ~/.aws/credentials; so does the check.
func TestReadChecksTheSharedConfigInTheHomeDirectory(t *testing.T) {
	for _, name := range []string{"config", "credentials"} {
		t.Run(name, func(t *testing.T) {
			home := t.TempDir()
			if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(home, ".aws", name), []byte("[default]\nendpoint_url = http://aws.example.com\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Read(env(t, merged(rotationVars(nil), map[string]string{"HOME": home})), &masks{}, time.Now())
			wantProblems(t, err, filepath.Join(home, ".aws", name), "plain http")
			if err != nil && strings.Count(err.Error(), "plain http") != 1 {
				t.Errorf("want one problem: %v", err)
			}
		})
	}
}
