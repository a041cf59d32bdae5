package action

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/authkeyrotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awskeys"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/ghsecrets"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/httpclient"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
)

// hinter is an error that knows what the user should do about it.
type hinter interface{ Hint() string }

// describe turns an error into the one line the ::error:: annotation shows: what failed,
// the server's answer, and what to do.
func describe(err error) string {
	msg := err.Error()
	if h := hint(err); h != "" {
		msg = strings.TrimRight(msg, ". ") + ". To fix: " + h
	}
	return msg
}

// hint says what to change, in terms of the action's inputs. The API clients report
// facts (status, code, operation, permission); naming inputs is this layer's job.
func hint(err error) string {
	var rot *rotation.Error
	if errors.As(err, &rot) && !rot.Resumable {
		// The rotation error says what to do next; a cause's advice would contradict it.
		return ""
	}
	var ak *authkeyrotation.Error
	if errors.As(err, &ak) && strings.HasPrefix(ak.Next, "To fix") {
		return "" // the error names the one command that fixes it
	}
	var refused *authKeyRefused
	var apiErr *soracom.APIError
	var netErr *soracom.NetworkError
	var redirect *httpclient.RedirectError
	var send *smithyhttp.RequestSendError // an AWS call that got no answer
	var timeout *awskeys.CallTimeoutError
	var ghNet *ghsecrets.NetworkError
	var h hinter
	switch {
	case errors.As(err, &refused):
		return refused.hint()
	case errors.As(err, &apiErr):
		return apiHint(apiErr)
	case errors.As(err, &netErr) && netErr.NotSent:
		return "" // cancelled before it was sent: the network is not to blame
	case errors.As(err, &netErr):
		return "check soracom-endpoint / soracom-coverage-type and the runner's network access to the SORACOM API"
	case errors.As(err, &redirect):
		return "AWS and the runner's token service never redirect, so a proxy or a wrong endpoint did: point AWS_ENDPOINT_URL, " +
			"AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL_IAM (when set) at the service itself, and check for a proxy in front of them"
	case errors.As(err, &send) || errors.As(err, &timeout):
		return "check the runner's network access to AWS and, when set, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL_IAM"
	case errors.As(err, &ghNet):
		return "check the runner's network access to the GitHub API and, when set, GITHUB_API_URL"
	case errors.As(err, &h):
		return h.Hint()
	}
	return ""
}

// apiHint says what to change after a SORACOM error answer.
func apiHint(e *soracom.APIError) string {
	switch {
	case e.Redirected():
		return "SORACOM never redirects, so a proxy or a wrong URL did: set soracom-endpoint (or soracom-coverage-type) to the API's own https URL"
	case e.Operation == "auth" && e.Status == http.StatusBadRequest:
		return "check the format of soracom-auth-key-id (keyId-…) and soracom-auth-key (secret-…)"
	case e.Status == http.StatusForbidden:
		return fmt.Sprintf("grant the SAM user the permission %q in its permission policy", e.Permission())
	case e.Status == http.StatusUnauthorized:
		return "the API token was rejected; check that the SAM user and its AuthKey are still active"
	case e.Status == http.StatusTooManyRequests:
		return "SORACOM's rate limit for this operator was hit and did not refresh in time; run again later or spread the workflows out"
	case e.Status >= 500:
		return "SORACOM or a proxy in front of it failed; run again later, and check https://status.soracom.io"
	case e.Operation == "createCredential" || e.Operation == "updateCredential":
		return "check credential-type and the fields of credentials for that type"
	}
	return ""
}

// authKeyRefused is SORACOM refusing the AuthKey (401 or 403 to /auth). It says so
// once: SORACOM's own message ("Check the auth key ID and the auth key") is left out
// when it only repeats what the hint says.
type authKeyRefused struct {
	keyID string
	err   *soracom.APIError
}

// refusedAuthKey wraps err when it is SORACOM refusing the AuthKey.
func refusedAuthKey(keyID string, err error) error {
	var apiErr *soracom.APIError
	if errors.As(err, &apiErr) && apiErr.Operation == "auth" &&
		(apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden) {
		return &authKeyRefused{keyID: keyID, err: apiErr}
	}
	return fmt.Errorf("authenticating to SORACOM: %w", err)
}

func (e *authKeyRefused) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "SORACOM refused the AuthKey %s (%d %s", e.keyID, e.err.Status, http.StatusText(e.err.Status))
	if e.err.Code != "" {
		fmt.Fprintf(&b, ", code %s", e.err.Code)
	}
	b.WriteString(")")
	if m := e.err.Message; m != "" && !strings.Contains(strings.ToLower(m), "auth key") {
		fmt.Fprintf(&b, ": %s", m)
	}
	return b.String()
}

func (e *authKeyRefused) Unwrap() error { return e.err }

func (e *authKeyRefused) hint() string {
	return "check soracom-auth-key-id and soracom-auth-key: the AuthKey must belong to an active SAM user (or the operator) " +
		"and match the coverage type/endpoint"
}

// awsSetupError is a run that found no way to AWS: no OIDC token for role-to-assume, or
// no credentials at all. Its hint depends on where the run is: on GitHub a job permission
// or a setup step; elsewhere the usual AWS credentials of a machine, since a GitHub OIDC
// token exists only in a GitHub Actions job.
type awsSetupError struct {
	err      error
	onGitHub bool
}

// placeAWSSetup wraps err with a hint for where the run is, when err is one of the two
// errors that mean "no way to AWS".
func placeAWSSetup(err error, onGitHub bool) error {
	if errors.Is(err, awskeys.ErrIDTokenUnavailable) || errors.Is(err, awskeys.ErrNoCredentials) {
		return &awsSetupError{err: err, onGitHub: onGitHub}
	}
	return err
}

func (e *awsSetupError) Error() string { return e.err.Error() }
func (e *awsSetupError) Unwrap() error { return e.err }

// Hint says what to change, on GitHub or off it.
func (e *awsSetupError) Hint() string {
	switch {
	case errors.Is(e.err, awskeys.ErrIDTokenUnavailable) && e.onGitHub:
		return "add `permissions: id-token: write` to the job or the workflow (a job's permissions replace the workflow's; " +
			"a pull request from a fork gets no OIDC token)"
	case errors.Is(e.err, awskeys.ErrIDTokenUnavailable):
		return "role-to-assume uses the OIDC token of a GitHub Actions job, which a run outside GitHub does not have: " +
			"leave role-to-assume empty and " + ambientAWSHint
	case e.onGitHub:
		return "set role-to-assume (the job needs `permissions: id-token: write`), " +
			"or run aws-actions/configure-aws-credentials before this step"
	}
	return ambientAWSHint
}

// ambientAWSHint says how a machine outside GitHub gives the AWS SDK credentials.
const ambientAWSHint = "give this machine's AWS credentials: AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, " +
	"~/.aws/credentials, an instance or task role, or AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN " +
	"to assume a role with this platform's own OIDC token"
