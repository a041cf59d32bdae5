package inputs

import (
	"net"
	"net/url"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
)

// endpoint resolves the API base URL: the input, else SORACOM_ENDPOINT (as soracom-cli),
// else the coverage type's production endpoint.
func endpoint(v string, getenv Getenv, coverage string, p *problems) string {
	source := Endpoint
	if v == "" {
		v, source = strings.TrimSpace(getenv("SORACOM_ENDPOINT")), "SORACOM_ENDPOINT"
	}
	if v == "" {
		u, _ := soracom.Endpoint(coverage)
		return u
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		p.addf("%s %q is not an http(s) URL; use e.g. https://api-sandbox.soracom.io", source, v)
		return ""
	}
	// Shown without user info, query or fragment: they may hold a credential.
	shown := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		p.addf("%s %q uses plain http to a host that is not loopback; use https (the AuthKey would cross the network in clear text)", source, shown)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		p.addf("%s %q must be a plain base URL, without query, fragment or user info", source, shown)
	}
	// The base URL is given without /v1; accept it with /v1 too, a common slip.
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/v1")
	return strings.TrimRight(u.String(), "/")
}

// loopback reports whether host is localhost or a loopback address: the only hosts plain
// http may reach (local emulators and proxies).
func loopback(host string) bool {
	// Only the name localhost itself: a subdomain of it goes to the resolver, which may
	// send it anywhere.
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// The environment variables that point the action's other clients somewhere else: the
// AWS SDK's endpoint overrides (read by the SDK itself) and the runner's OIDC token URL.
const (
	envAWSEndpoint        = "AWS_ENDPOINT_URL"
	envAWSEndpointSTS     = "AWS_ENDPOINT_URL_STS"
	envAWSEndpointIAM     = "AWS_ENDPOINT_URL_IAM"
	envIgnoreAWSEndpoints = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
	envIDTokenRequestURL  = "ACTIONS_ID_TOKEN_REQUEST_URL"
	plainHTTPRisk         = "the credentials it carries would cross the network in clear text"
)

// checkOtherEndpoints refuses, before any call, an endpoint the run will use that is not
// an http(s) URL, or that is plain http to a host other than loopback or localhost.
// Only the endpoints the mode uses are checked: STS when a key is verified, assumed or
// audited, IAM when keys are managed or audited, the OIDC URL when a role is assumed.
func checkOtherEndpoints(getenv Getenv, c *Config, p *problems) {
	usesSTS := c.Mode != Register || (c.Type == credtypes.AWSCredentials && c.VerifyAWSKey)
	usesIAM := c.Mode != Register
	var names []string
	if (usesSTS || usesIAM) && !strings.EqualFold(strings.TrimSpace(getenv(envIgnoreAWSEndpoints)), "true") {
		names = append(names, envAWSEndpoint)
		if usesSTS {
			names = append(names, envAWSEndpointSTS)
		}
		if usesIAM {
			names = append(names, envAWSEndpointIAM)
		}
	}
	if c.Mode != Register && c.AWS.RoleToAssume != "" {
		names = append(names, envIDTokenRequestURL)
	}
	for _, name := range names {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			checkURL(name, v, p)
		}
	}
}

// checkURL checks one endpoint URL from the environment. Its query is not shown: the
// OIDC request URL may carry parameters of the runner.
func checkURL(name, v string, p *problems) {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		p.addf("%s is not an http(s) URL; use the service's https URL (e.g. %s) or unset it", name, urlExample(name))
		return
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		p.addf("%s %q uses plain http to a host that is not loopback or localhost; use https (%s)", name, u.Scheme+"://"+u.Host, plainHTTPRisk)
	}
}

// urlExample is a URL of the kind the variable name holds, for errors.
func urlExample(name string) string {
	if name == "GITHUB_API_URL" {
		return "https://api.github.com, or https://HOST/api/v3 on GitHub Enterprise Server"
	}
	return "https://sts.us-east-1.amazonaws.com"
}
