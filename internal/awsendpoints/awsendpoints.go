// Package awsendpoints lists the endpoints the AWS SDK (aws-sdk-go-v2/config) will
// call in a run, found where and in the order the SDK finds them, so that the action
// can check them all before its first call: the environment (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_<SERVICE>), the selected profile of the shared config and
// credentials files (its endpoint_url, and the endpoint_url of the service in the
// services section it names), and, where the SDK looks for credentials itself, the
// container credentials URL and the instance metadata endpoint. The files are read
// with the SDK's own parser.
package awsendpoints

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
)

// Endpoint is one endpoint URL the SDK will call, and where it was set.
type Endpoint struct {
	// Service says what is called: an SDK service id ("STS", "IAM", "SSO"), or
	// "container credentials" or "instance metadata".
	Service string
	// Source says where URL is set, for a message: a variable's name, or the setting
	// and the profile of the shared config.
	Source string
	URL    string
	// LocalHosts are the addresses besides loopback that plain http may reach for this
	// endpoint: the link-local addresses AWS serves credentials on, which never leave
	// the machine.
	LocalHosts []string
}

// Services the SDK calls while it looks for credentials itself: assume-role and
// web-identity profiles (STS), SSO profiles, and console login sessions.
var credentialServices = []string{"STS", "SSO", "SSO OIDC", "Signin"}

// The addresses of AWS's credential endpoints: ECS and EKS container credentials, and
// the instance metadata service (IPv4 and IPv6).
var (
	containerHosts = []string{"169.254.170.2", "169.254.170.23", "fd00:ec2::23"}
	metadataHosts  = []string{"169.254.169.254", "fd00:ec2::254"}
)

// Find returns the endpoint URLs the SDK may use for services (SDK service ids) and,
// when credentials is true (the SDK's default credential chain is used), those it may
// call to find credentials. Every value the SDK could pick is returned, also one that
// a value of higher precedence shadows today (AWS_ENDPOINT_URL_STS over
// AWS_ENDPOINT_URL, the services section over the profile's endpoint_url): a shadowed
// value is one unset variable away from being used. getenv is the process environment
// the SDK reads. An error is a shared config file the SDK could not load either.
func Find(getenv func(string) string, services []string, credentials bool) ([]Endpoint, error) {
	shared, source, err := loadProfile(getenv)
	if err != nil {
		return nil, err
	}
	ignore, err := ignoreConfigured(getenv, shared)
	if err != nil {
		return nil, err
	}
	if credentials {
		services = slices.Concat(services, credentialServices) // not into the caller's array
	}
	var out []Endpoint
	if !ignore && len(services) > 0 {
		out = configured(getenv, shared, source, services)
	}
	if credentials {
		out = append(out, credentialEndpoints(getenv, shared, source)...)
	}
	return out, nil
}

// loadProfile loads the profile the SDK selects (AWS_PROFILE, AWS_DEFAULT_PROFILE,
// else "default") from the files it reads (AWS_CONFIG_FILE and
// AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials). A profile
// that does not exist is no error, as for the SDK: nothing is configured.
func loadProfile(getenv func(string) string) (config.SharedConfig, string, error) {
	profile := firstSet(getenv, "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
	if profile == "" {
		profile = "default"
	}
	configFiles := files(getenv, "AWS_CONFIG_FILE", "config")
	credentialsFiles := files(getenv, "AWS_SHARED_CREDENTIALS_FILE", "credentials")
	source := fmt.Sprintf("profile %q of the AWS shared config (%s)", profile, strings.Join(append(configFiles, credentialsFiles...), ", "))
	shared, err := config.LoadSharedConfigProfile(context.Background(), profile, func(o *config.LoadSharedConfigOptions) {
		o.ConfigFiles, o.CredentialsFiles = configFiles, credentialsFiles
	})
	// Matched as the SDK matches it, without unwrapping: a profile whose source_profile
	// does not exist wraps this error, and the SDK fails on it.
	if _, missing := err.(config.SharedConfigProfileNotExistError); missing { //nolint:errorlint // see above
		return config.SharedConfig{}, source, nil
	}
	if err != nil {
		return config.SharedConfig{}, source, fmt.Errorf("the AWS shared config cannot be read: %w", err)
	}
	return shared, source, nil
}

// files is the file the variable names, else ~/.aws/<name>. Without HOME there is no
// default file (the SDK would ask the user database; a runner always sets HOME).
func files(getenv func(string) string, variable, name string) []string {
	if f := getenv(variable); f != "" {
		return []string{f}
	}
	if home := getenv("HOME"); home != "" {
		return []string{filepath.Join(home, ".aws", name)}
	}
	return []string{}
}

func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// ignoreConfigured is AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, else the profile's
// ignore_configured_endpoint_urls: when true the SDK uses none of the endpoint URLs
// configured in the environment or the files.
func ignoreConfigured(getenv func(string) string, shared config.SharedConfig) (bool, error) {
	switch v := getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"); {
	case v == "":
	case strings.EqualFold(v, "true"):
		return true, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	default:
		return false, fmt.Errorf("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is %q; the AWS SDK needs true or false", v)
	}
	return shared.IgnoreConfiguredEndpoints != nil && *shared.IgnoreConfiguredEndpoints, nil
}

// configured returns the endpoint URLs set for services: AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> in the environment, the profile's endpoint_url and the
// endpoint_url of each service in the services section the profile names (keys in
// lower case with "_" for a space, as the SDK looks them up).
func configured(getenv func(string) string, shared config.SharedConfig, source string, services []string) []Endpoint {
	var out []Endpoint
	add := func(service, where, url string) {
		if url != "" {
			out = append(out, Endpoint{Service: service, Source: where, URL: url})
		}
	}
	add("AWS", "AWS_ENDPOINT_URL", getenv("AWS_ENDPOINT_URL"))
	seen := map[string]bool{}
	for _, service := range services {
		if !seen[service] {
			seen[service] = true
			name := "AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(service), " ", "_")
			add(service, name, getenv(name))
		}
	}
	add("AWS", "endpoint_url of "+source, shared.BaseEndpoint)
	keys := map[string]bool{}
	for _, service := range services {
		key := strings.ReplaceAll(strings.ToLower(service), " ", "_")
		if keys[key] {
			continue
		}
		keys[key] = true
		where := fmt.Sprintf("endpoint_url of %s in [services %s], named by %s", key, shared.ServicesSectionName, source)
		add(service, where, shared.Services.ServiceValues[key]["endpoint_url"])
	}
	return out
}

// credentialEndpoints are the container credentials URL (a relative URI always goes to
// the ECS address) and the instance metadata endpoint set in the environment or the
// profile, unless instance metadata is disabled.
func credentialEndpoints(getenv func(string) string, shared config.SharedConfig, source string) []Endpoint {
	var out []Endpoint
	if u := getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"); u != "" && getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") == "" {
		out = append(out, Endpoint{Service: "container credentials", Source: "AWS_CONTAINER_CREDENTIALS_FULL_URI", URL: u, LocalHosts: containerHosts})
	}
	if strings.EqualFold(getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		return out
	}
	metadata := Endpoint{Service: "instance metadata", LocalHosts: metadataHosts}
	switch {
	case getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT") != "":
		metadata.Source, metadata.URL = "AWS_EC2_METADATA_SERVICE_ENDPOINT", getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT")
	case shared.EC2IMDSEndpoint != "":
		metadata.Source, metadata.URL = "ec2_metadata_service_endpoint of "+source, shared.EC2IMDSEndpoint
	default:
		return out
	}
	return append(out, metadata)
}

// Variables returns every environment variable Find may read for services: tests of
// the callers list them in their strict fake environments.
func Variables(services ...string) []string {
	vars := []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "HOME",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_ENDPOINT_URL", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT"}
	for _, s := range slices.Concat(services, credentialServices) {
		vars = append(vars, "AWS_ENDPOINT_URL_"+strings.ReplaceAll(strings.ToUpper(s), " ", "_"))
	}
	return vars
}
