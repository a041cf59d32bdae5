package awskeys

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// providerClients is the action's HTTP client for the SDK's own credential providers
// (instance metadata, container credentials, web identity and assume-role profiles,
// SSO): they get the same per-attempt bound and the same refusal of redirects as every
// other AWS call. The SDK builds those providers while it loads the configuration,
// before the action's client can be made from the loaded transport (which carries
// AWS_CA_BUNDLE), so the providers are handed this value and it is filled in once
// loading ends, before any provider runs.
type providerClients struct {
	api      aws.HTTPClient
	metadata *imds.Client
}

// Do sends a provider's request with the action's client.
func (p *providerClients) Do(r *http.Request) (*http.Response, error) { return p.api.Do(r) }

// fill makes the clients from the loaded configuration.
func (p *providerClients) fill(cfg aws.Config, hc *http.Client, b Bounds) {
	p.api = awsHTTPClient(hc, cfg.HTTPClient, b, nil)
	m := cfg.Copy()
	m.HTTPClient = awsHTTPClient(hc, cfg.HTTPClient, b, metadataTimeouts)
	p.metadata = imds.NewFromConfig(m)
}

// metadataTimeouts are the SDK's own for the instance metadata service, which is not
// there off EC2: a connection is given up after 250 ms and an answer's headers after
// 500 ms, so that a run without credentials fails fast.
func metadataTimeouts(tr *http.Transport) {
	tr.DialContext = (&net.Dialer{Timeout: 250 * time.Millisecond, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 500 * time.Millisecond
}

// options are the load options that hand p to every credential provider that makes
// HTTP calls. An operation's option sets the client for that call, keeping everything
// else the SDK resolved for the provider's client (endpoint, region, credentials of a
// source profile).
func (p *providerClients) options() []func(*config.LoadOptions) error {
	return []func(*config.LoadOptions) error{
		config.WithEC2RoleCredentialOptions(func(o *ec2rolecreds.Options) { o.Client = metadataVia{p} }),
		config.WithEndpointCredentialOptions(func(o *endpointcreds.Options) { o.HTTPClient = p }),
		config.WithWebIdentityRoleCredentialOptions(func(o *stscreds.WebIdentityRoleOptions) {
			o.Client = webIdentityVia{o.Client, p}
		}),
		config.WithAssumeRoleCredentialOptions(func(o *stscreds.AssumeRoleOptions) { o.Client = assumeRoleVia{o.Client, p} }),
		config.WithSSOProviderOptions(func(o *ssocreds.Options) { o.Client = ssoVia{o.Client, p} }),
		config.WithSSOTokenProviderOptions(func(o *ssocreds.SSOTokenProviderOptions) { o.Client = ssoTokenVia{o.Client, p} }),
	}
}

// metadataVia reads instance metadata through p's client.
type metadataVia struct{ p *providerClients }

func (m metadataVia) GetMetadata(ctx context.Context, in *imds.GetMetadataInput, fns ...func(*imds.Options)) (*imds.GetMetadataOutput, error) {
	return m.p.metadata.GetMetadata(ctx, in, fns...)
}

// webIdentityVia calls sts:AssumeRoleWithWebIdentity (AWS_WEB_IDENTITY_TOKEN_FILE, or a
// profile's web_identity_token_file) through p.
type webIdentityVia struct {
	c stscreds.AssumeRoleWithWebIdentityAPIClient
	p *providerClients
}

func (w webIdentityVia) AssumeRoleWithWebIdentity(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput, fns ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	return w.c.AssumeRoleWithWebIdentity(ctx, in, append(fns, func(o *sts.Options) { o.HTTPClient = w.p })...)
}

// assumeRoleVia calls sts:AssumeRole (a profile's role_arn) through p.
type assumeRoleVia struct {
	c stscreds.AssumeRoleAPIClient
	p *providerClients
}

func (a assumeRoleVia) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, fns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	return a.c.AssumeRole(ctx, in, append(fns, func(o *sts.Options) { o.HTTPClient = a.p })...)
}

// ssoVia calls sso:GetRoleCredentials through p.
type ssoVia struct {
	c ssocreds.GetRoleCredentialsAPIClient
	p *providerClients
}

func (s ssoVia) GetRoleCredentials(ctx context.Context, in *sso.GetRoleCredentialsInput, fns ...func(*sso.Options)) (*sso.GetRoleCredentialsOutput, error) {
	return s.c.GetRoleCredentials(ctx, in, append(fns, func(o *sso.Options) { o.HTTPClient = s.p })...)
}

// ssoTokenVia refreshes an SSO token (ssooidc:CreateToken) through p.
type ssoTokenVia struct {
	c ssocreds.CreateTokenAPIClient
	p *providerClients
}

func (s ssoTokenVia) CreateToken(ctx context.Context, in *ssooidc.CreateTokenInput, fns ...func(*ssooidc.Options)) (*ssooidc.CreateTokenOutput, error) {
	return s.c.CreateToken(ctx, in, append(fns, func(o *ssooidc.Options) { o.HTTPClient = s.p })...)
}
