package inputs

import (
	"net"
	"net/url"
	"strings"

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
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		p.addf("%s %q uses plain http to a host that is not loopback; use https (the AuthKey would cross the network in clear text)", source, v)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		p.addf("%s %q must be a plain base URL, without query, fragment or user info", source, v)
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
