// Package awskeys is the AWS side of the action: it turns the job's GitHub OIDC token
// into credentials for the role in role-to-assume (or takes the job's ambient
// credentials), manages an IAM user's access keys, and tells when a freshly created key
// has propagated far enough to be used.
//
// Every value that could let someone act as AWS — the OIDC token, the temporary
// credentials of the assumed role, a new access key's id and secret — is masked through
// a secret.Masker the moment it arrives, and no error built here contains one.
//
// Clients are always built from an aws.Config that came from config.LoadDefaultConfig,
// so the SDK's standard endpoint overrides (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_STS,
// AWS_ENDPOINT_URL_IAM) apply to every call, including the anonymous
// AssumeRoleWithWebIdentity call and the GetCallerIdentity call signed with a new key.
// The SDK reads those variables from the process environment only (the service
// packages call os.LookupEnv), so tests point it at fakes with t.Setenv.
package awskeys

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/httpclient"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// DefaultRegion is the last resort when neither Settings.Region nor AWS_REGION names a
// region (the action always passes its aws-region input). IAM is global, so the region
// only picks the STS endpoint and signing region.
const DefaultRegion = "us-east-1"

// Settings says where the action's AWS credentials come from.
type Settings struct {
	// Region for STS; empty means AWS_REGION / the shared config, then DefaultRegion.
	Region string
	// Role to assume with the job's OIDC token; a zero Role means the ambient
	// credentials of the job (environment, shared files, instance role).
	Role Role
	// HTTPClient for the token endpoint and AWS; nil means the defaults. It never
	// follows a redirect, whatever its own policy.
	HTTPClient *http.Client
	// Bounds bound every STS, IAM and OIDC call; zero fields mean DefaultBounds.
	Bounds Bounds
}

// Bounds bound each AWS and OIDC call the way SORACOM calls are bounded, so an endpoint
// that accepts connections and never answers ends the run instead of hanging it.
type Bounds struct {
	// Attempt bounds one attempt: connecting, sending, and reading the whole answer.
	Attempt time.Duration
	// Call bounds a call with all its attempts and the waits between them.
	Call time.Duration
}

// DefaultBounds are the bounds of the SORACOM calls: an attempt may take 30 s, a call
// that keeps failing is given up within two minutes.
func DefaultBounds() Bounds { return Bounds{Attempt: 30 * time.Second, Call: 2 * time.Minute} }

func (b Bounds) orDefault() Bounds {
	d := DefaultBounds()
	if b.Attempt <= 0 {
		b.Attempt = d.Attempt
	}
	if b.Call <= 0 {
		b.Call = d.Call
	}
	return b
}

// CallTimeoutError is an AWS call that got no usable answer within its bound.
type CallTimeoutError struct {
	Bounds Bounds
	Err    error
}

func (e *CallTimeoutError) Error() string {
	return fmt.Sprintf("no answer within %s (each attempt bounded to %s): %v", e.Bounds.Call, e.Bounds.Attempt, e.Err)
}

func (e *CallTimeoutError) Unwrap() error { return e.Err }

// boundCalls bounds every operation of every client built from the config: the
// SDK retries on its own schedule, with no deadline of its own.
func boundCalls(b Bounds) func(*middleware.Stack) error {
	bound := middleware.InitializeMiddlewareFunc("CallBound", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		cctx, cancel := context.WithTimeout(ctx, b.Call)
		defer cancel()
		out, md, err := next.HandleInitialize(cctx, in)
		if err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
			// The SDK wraps this in an error naming the service and operation.
			err = &CallTimeoutError{Bounds: b, Err: err}
		}
		return out, md, err
	})
	return func(st *middleware.Stack) error { return st.Initialize.Add(bound, middleware.Before) }
}

// awsHTTPClient is the HTTP client of every AWS call: never following a redirect (the
// SDK's own client follows 307 and 308), and with a timeout per attempt (the SDK
// retries a timed-out attempt as a network error). hc is the caller's client, or nil
// for loaded: the client the SDK configured (with AWS_CA_BUNDLE, say), whose transport
// tune, when not nil, adjusts.
func awsHTTPClient(hc *http.Client, loaded aws.HTTPClient, b Bounds, tune func(*http.Transport)) aws.HTTPClient {
	if hc == nil {
		hc = &http.Client{}
		if bc, ok := loaded.(*awshttp.BuildableClient); ok {
			// The SDK's transport: its dial and TLS timeouts and any custom CA bundle.
			hc.Transport = bc.GetTransport()
		} else {
			hc.Transport = awshttp.NewBuildableClient().GetTransport()
		}
		if tune != nil {
			tune(hc.Transport.(*http.Transport))
		}
	}
	c := httpclient.NoRedirects(hc)
	c.Timeout = b.Attempt
	return httpclient.Refusing{Client: c}
}

// Role is the IAM role to assume with the job's GitHub OIDC token.
type Role struct {
	ARN string // arn:aws:iam::123456789012:role/name
	// SessionName, Duration and Audience come from the inputs, whose defaults
	// (action.yml's) fill them in.
	SessionName string        // names the role session in CloudTrail
	Duration    time.Duration // the session's length
	Audience    string        // aud claim to request

	// Where to get the OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL and
	// ACTIONS_ID_TOKEN_REQUEST_TOKEN.
	IDTokenRequestURL   string
	IDTokenRequestToken secret.Secret
}

// ErrNoCredentials means no role-to-assume was given and the SDK's default chain
// (environment, shared files, instance or task role, web identity) found nothing. How to
// give credentials depends on where the run is, which the caller knows.
var ErrNoCredentials = errors.New("no AWS credentials found")

// Load returns the aws.Config the action manages IAM with: the assumed role's
// credentials when s.Role.ARN is set, otherwise the SDK's default credential chain,
// which is where aws-actions/configure-aws-credentials leaves its credentials. It fails
// early, with a message saying what to do, when no credentials can be found.
func Load(ctx context.Context, s Settings, m secret.Masker) (aws.Config, error) {
	base, err := LoadDefault(ctx, s)
	if err != nil {
		return aws.Config{}, err
	}
	if s.Role.ARN == "" {
		if _, err := base.Credentials.Retrieve(ctx); err != nil {
			return aws.Config{}, fmt.Errorf("%w: %w", ErrNoCredentials, err)
		}
		return base, nil
	}
	tok, err := fetchIDToken(ctx, s.HTTPClient, s.Role.IDTokenRequestURL, s.Role.IDTokenRequestToken, s.Role.Audience, m,
		idTokenRetryWithin(s.Bounds.orDefault()))
	if err != nil {
		return aws.Config{}, err
	}
	return AssumeRole(ctx, base, s.Role, tok, m)
}

// LoadDefault loads the SDK's default configuration (environment, shared files), with
// s.Region as the region when it is not empty and DefaultRegion as the last resort. Its
// clients, and the SDK's credential providers (instance metadata, container
// credentials, web identity, assume-role and SSO profiles), use s.HTTPClient (nil: the
// SDK's transport) without following redirects, and every call and attempt is bounded
// by s.Bounds. s.Role is not used.
func LoadDefault(ctx context.Context, s Settings) (aws.Config, error) {
	b := s.Bounds.orDefault()
	providers := &providerClients{}
	opts := []func(*config.LoadOptions) error{
		config.WithDefaultRegion(DefaultRegion),
		config.WithAPIOptions([]func(*middleware.Stack) error{boundCalls(b)}),
		// The action reports every failure itself; the SDK's own warnings (such as
		// "falling back to IMDSv1" when there are no credentials) would only be noise
		// on stderr, outside the action's log.
		config.WithLogger(logging.Nop{}),
		config.WithClientLogMode(0),
	}
	if s.Region != "" {
		opts = append(opts, config.WithRegion(s.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, append(opts, providers.options()...)...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	providers.fill(cfg, s.HTTPClient, b)
	cfg.HTTPClient = providers.api
	return cfg, nil
}

// AssumeRole exchanges the OIDC token for temporary credentials of r.ARN
// (sts:AssumeRoleWithWebIdentity, an unsigned call) and returns base with those
// credentials. The credentials are masked with m as soon as STS returns them. When STS
// rejects the token the error is a *TrustPolicyError explaining what to check.
func AssumeRole(ctx context.Context, base aws.Config, r Role, token secret.Secret, m secret.Masker) (aws.Config, error) {
	client := sts.NewFromConfig(base, func(o *sts.Options) {
		// The call is authenticated by the token; signing it would need the very
		// credentials it is meant to produce.
		o.Credentials = aws.AnonymousCredentials{}
	})
	out, err := client.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(r.ARN),
		RoleSessionName:  aws.String(r.SessionName),
		WebIdentityToken: aws.String(token.Reveal()),
		DurationSeconds:  aws.Int32(int32(r.Duration / time.Second)),
	})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			switch ae.ErrorCode() {
			case "AccessDenied", "InvalidIdentityToken", "IDPRejectedClaim":
				claims := unverifiedClaims(token)
				return aws.Config{}, &TrustPolicyError{
					Role: r.ARN, Code: ae.ErrorCode(), Audience: r.Audience,
					TokenSubject: claims.Sub, TokenAudience: claims.aud(), Err: err,
				}
			}
		}
		return aws.Config{}, fmt.Errorf("assuming role %s with the GitHub OIDC token: %w", r.ARN, err)
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil {
		return aws.Config{}, fmt.Errorf("assuming role %s: STS answered without credentials", r.ARN)
	}
	id := secret.Mask(m, *c.AccessKeyId)
	key := secret.Mask(m, *c.SecretAccessKey)
	session := secret.Mask(m, *c.SessionToken)
	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id.Reveal(), key.Reveal(), session.Reveal()))
	return cfg, nil
}

// TrustPolicyError is STS refusing the OIDC token for the role. Almost always the
// role's trust policy does not match the token's claims, so the message says which
// claims to compare.
type TrustPolicyError struct {
	Role          string // role ARN
	Code          string // AccessDenied, InvalidIdentityToken or IDPRejectedClaim
	Audience      string // the audience input
	TokenSubject  string // the token's sub claim, when it could be read
	TokenAudience string // the token's aud claim, when it could be read
	Err           error
}

func (e *TrustPolicyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "AWS refused to let this job assume role %s (%s). Check the role's trust policy: ", e.Role, e.Code)
	fmt.Fprintf(&b, "the condition on token.actions.githubusercontent.com:aud must equal the audience input (%q), ", e.Audience)
	b.WriteString("and the condition on token.actions.githubusercontent.com:sub must match this repository and the branch " +
		"or environment the job runs in (for example repo:OWNER/REPO:ref:refs/heads/main or repo:OWNER/REPO:environment:NAME)")
	if e.TokenSubject != "" {
		fmt.Fprintf(&b, "; this job's token has sub %q", e.TokenSubject)
		if e.TokenAudience != "" {
			fmt.Fprintf(&b, " and aud %q", e.TokenAudience)
		}
	}
	b.WriteString(". The account also needs an IAM OIDC identity provider for https://token.actions.githubusercontent.com " +
		"that lists the audience")
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *TrustPolicyError) Unwrap() error { return e.Err }

type jwtClaims struct {
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"` // a string or a list of strings
}

func (c jwtClaims) aud() string {
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		return one
	}
	var many []string
	if json.Unmarshal(c.Aud, &many) == nil {
		return strings.Join(many, ",")
	}
	return ""
}

// unverifiedClaims reads sub and aud from the JWT without checking its signature, only
// to explain a rejection: those claims name the repository and ref, which are not
// secret, while the token as a whole is.
func unverifiedClaims(token secret.Secret) jwtClaims {
	parts := strings.Split(token.Reveal(), ".")
	if len(parts) != 3 {
		return jwtClaims{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return jwtClaims{}
	}
	var c jwtClaims
	if json.Unmarshal(payload, &c) != nil {
		return jwtClaims{}
	}
	return c
}
