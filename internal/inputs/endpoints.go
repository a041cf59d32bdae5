package inputs

import (
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsendpoints"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
)

// CoverageBoth is the soracom-coverage-type that names both coverages.
const CoverageBoth = "both"

// Coverage is one SORACOM coverage the run works on, and where its API is.
type Coverage struct {
	// Name is jp or g.
	Name string
	// Endpoint is the API base URL without /v1.
	Endpoint string
}

// EndpointEnv names the environment variable that points one coverage somewhere else
// (SORACOM_ENDPOINT_JP, SORACOM_ENDPOINT_G): with soracom-coverage-type both, the one
// endpoint of soracom-endpoint or SORACOM_ENDPOINT cannot serve two coverages.
func EndpointEnv(coverage string) string { return envEndpoint + "_" + strings.ToUpper(coverage) }

// envEndpoint is soracom-cli's variable for a custom endpoint.
const envEndpoint = "SORACOM_ENDPOINT"

// coverageNames lists the coverages a soracom-coverage-type names, nil for a value that
// names none (reported by its parser).
func coverageNames(coverageType string) []string {
	if coverageType == CoverageBoth {
		return soracom.CoverageTypes()
	}
	if _, ok := soracom.Endpoint(coverageType); ok {
		return []string{coverageType}
	}
	return nil
}

// coverages resolves where each coverage is reached: the soracom-endpoint input, else
// the coverage's own variable (SORACOM_ENDPOINT_JP, …), else SORACOM_ENDPOINT (as
// soracom-cli), else the coverage's production endpoint. With both coverages the input
// and SORACOM_ENDPOINT name one endpoint for two places, so they are refused unless
// each coverage has its own variable.
func coverages(input string, getenv Getenv, coverageType string, p *problems) []Coverage {
	names := coverageNames(coverageType)
	general := strings.TrimSpace(getenv(envEndpoint))
	if names == nil {
		// The coverage type is reported apart; the endpoint is still checked, so that
		// every problem shows at once.
		if v, source := input, Endpoint; v != "" {
			endpoint(v, source, "", p)
		} else if general != "" {
			endpoint(general, envEndpoint, "", p)
		}
		return nil
	}
	var out []Coverage
	var custom []string
	for _, name := range names {
		v, source := input, Endpoint
		if v == "" {
			v, source = strings.TrimSpace(getenv(EndpointEnv(name))), EndpointEnv(name)
		}
		if v == "" {
			v, source = general, envEndpoint
		}
		if len(names) > 1 && source != EndpointEnv(name) && v != "" {
			p.addf("%s names one endpoint, and %s %s works on two: leave %s empty and set %s and %s (or neither, for the production endpoints)",
				source, CoverageType, CoverageBoth, source, EndpointEnv(soracom.CoverageTypes()[0]), EndpointEnv(soracom.CoverageTypes()[1]))
			return nil
		}
		u := endpoint(v, source, name, p)
		if v != "" {
			custom = append(custom, u)
		}
		out = append(out, Coverage{Name: name, Endpoint: u})
	}
	if len(custom) == 2 && custom[0] == custom[1] {
		p.addf("%s and %s name the same endpoint %s; with %s %s they must be the two coverages' own",
			EndpointEnv(names[0]), EndpointEnv(names[1]), custom[0], CoverageType, CoverageBoth)
	}
	return out
}

// endpoint checks one custom base URL v from source; an empty v is the coverage's
// production endpoint.
func endpoint(v, source, coverage string, p *problems) string {
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
// runner's OIDC token URL (the AWS SDK's are found by awsendpoints).
const (
	envIDTokenRequestURL = "ACTIONS_ID_TOKEN_REQUEST_URL"
	plainHTTPRisk        = "the credentials it carries would cross the network in clear text"
)

// checkOtherEndpoints refuses, before any call, an endpoint the run will use that is not
// an http(s) URL, or that is plain http to a host other than loopback or localhost.
// Only the endpoints the mode uses are checked: STS when a key is verified, assumed or
// audited, IAM when keys are managed or audited, those of the SDK's credential chain
// (container credentials, instance metadata, SSO) when the job's ambient credentials
// are used, the OIDC URL when a role is assumed. The AWS ones come from the environment
// and from the shared config and credentials files, as the SDK reads them.
func checkOtherEndpoints(getenv Getenv, c *Config, p *problems) {
	usesSTS := c.Mode != Register || (c.Type == credtypes.AWSCredentials && c.VerifyAWSKey)
	usesIAM := c.Mode != Register
	ambient := c.Mode != Register && c.AWS.RoleToAssume == ""
	var services []string
	if usesSTS {
		services = append(services, "STS")
	}
	if usesIAM {
		services = append(services, "IAM")
	}
	if len(services) > 0 || ambient {
		endpoints, err := awsendpoints.Find(getenv, services, ambient)
		if err != nil {
			p.addf("%v; fix it, or name another file with AWS_CONFIG_FILE or AWS_SHARED_CREDENTIALS_FILE", err)
		}
		for _, e := range endpoints {
			checkURL(e.Source, strings.TrimSpace(e.URL), p, e.LocalHosts...)
		}
	}
	if c.Mode != Register && c.AWS.RoleToAssume != "" {
		if v := strings.TrimSpace(getenv(envIDTokenRequestURL)); v != "" {
			checkURL(envIDTokenRequestURL, v, p)
		}
	}
}

// checkURL checks one endpoint URL set where name says. Its query is not shown: the
// OIDC request URL may carry parameters of the runner. Plain http may reach loopback,
// localhost and the local hosts given (AWS's link-local credential addresses).
func checkURL(name, v string, p *problems, local ...string) {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		p.addf("%s is not an http(s) URL; use the service's https URL (e.g. %s) or unset it", name, urlExample(name))
		return
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) && !slices.Contains(local, u.Hostname()) {
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
