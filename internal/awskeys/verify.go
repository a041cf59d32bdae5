package awskeys

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/cenkalti/backoff/v5"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// DefaultVerifyBudget is how long VerifyKey waits for a new key by default. IAM usually
// propagates a key within seconds; a minute covers the slow cases without making a
// broken run hang.
const DefaultVerifyBudget = time.Minute

// Identity is who a key signs as, from sts:GetCallerIdentity.
type Identity struct {
	Account string
	Arn     string
	UserID  string
}

// notYetPropagated tells the answers STS gives for a key IAM has created but not yet
// propagated to STS. SignatureDoesNotMatch and AuthFailure show up in the same window
// on some endpoints.
func notYetPropagated(code string) bool {
	switch code {
	case "InvalidClientTokenId", "SignatureDoesNotMatch", "AuthFailure":
		return true
	}
	return false
}

// KeyNotWorkingError is VerifyKey running out of time: STS still refuses the key.
type KeyNotWorkingError struct {
	KeyID  string // the key id, shortened (see secret.ShortID)
	Budget time.Duration
	Err    error // the last answer
}

func (e *KeyNotWorkingError) Error() string {
	var ae smithy.APIError
	if !errors.As(e.Err, &ae) {
		// No answer from STS says nothing about the key.
		return fmt.Sprintf("access key %s could not be checked within %s: STS did not answer: %v", e.KeyID, e.Budget, e.Err)
	}
	return fmt.Sprintf("access key %s did not start working within %s (STS still refuses it): %v", e.KeyID, e.Budget, e.Err)
}

func (e *KeyNotWorkingError) Unwrap() error { return e.Err }

// VerifyKey calls sts:GetCallerIdentity signed with key until STS accepts it, and
// returns the identity the key belongs to. A new key is refused (InvalidClientTokenId)
// for a few seconds after CreateAccessKey; VerifyKey retries through that with a short
// jittered backoff (about 250 ms growing to 1 s) for at most budget (zero means
// DefaultVerifyBudget). The interval is capped at a second so that the key is noticed
// within about a second of the moment it starts working: a long interval would make
// every rotation wait for it. Throttling, 5xx and network errors are retried too; any
// other answer is returned at once. base gives region, endpoints and HTTP client; its
// credentials are not used.
func VerifyKey(ctx context.Context, base aws.Config, key AccessKey, budget time.Duration) (Identity, error) {
	return verifyKey(ctx, base, key, budget, verifyBackoff(), 0)
}

// VerifyGivenKey is VerifyKey for a key the user gave (one an earlier step created,
// say). It gives up early on SignatureDoesNotMatch that lasts past a short grace: the
// key id is known to STS, so the secret is wrong, and waiting a minute would not help.
func VerifyGivenKey(ctx context.Context, base aws.Config, key AccessKey, budget time.Duration) (Identity, error) {
	return verifyKey(ctx, base, key, budget, verifyBackoff(), signatureGrace)
}

// signatureGrace is how long VerifyGivenKey rides out SignatureDoesNotMatch, which some
// endpoints answer for a moment after a key is created.
const signatureGrace = 5 * time.Second

func verifyBackoff() backoff.BackOff {
	return &backoff.ExponentialBackOff{
		InitialInterval:     250 * time.Millisecond,
		RandomizationFactor: 0.2,
		Multiplier:          1.5,
		MaxInterval:         800 * time.Millisecond, // with jitter: at most ~1 s
	}
}

// verifyKey polls STS with key; grace, when not zero, bounds how long a
// SignatureDoesNotMatch answer is taken for propagation.
func verifyKey(parent context.Context, base aws.Config, key AccessKey, budget time.Duration, b backoff.BackOff, grace time.Duration) (Identity, error) {
	if budget <= 0 {
		budget = DefaultVerifyBudget
	}
	started := time.Now()
	client := sts.NewFromConfig(base, func(o *sts.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(key.ID, key.Secret.Reveal(), "")
	})
	ctx, cancel := context.WithTimeout(parent, budget)
	defer cancel()

	retryable := retry.IsErrorRetryables(retry.DefaultRetryables)
	var last, refused error // the last answer; a non-retryable one
	call := func() (Identity, error) {
		out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err == nil {
			return Identity{Account: aws.ToString(out.Account), Arn: aws.ToString(out.Arn), UserID: aws.ToString(out.UserId)}, nil
		}
		if ctx.Err() != nil {
			// Out of time in the middle of a call: the answer before it is the one to report.
			return Identity{}, backoff.Permanent(ctx.Err())
		}
		last = err
		var ae smithy.APIError
		isAPI := errors.As(err, &ae)
		wrongSecret := isAPI && ae.ErrorCode() == "SignatureDoesNotMatch" && grace > 0 && time.Since(started) > grace
		if !wrongSecret && (isAPI && notYetPropagated(ae.ErrorCode()) || retryable.IsErrorRetryable(err) == aws.TrueTernary) {
			return Identity{}, err
		}
		refused = err
		return Identity{}, backoff.Permanent(err)
	}
	id, err := backoff.Retry(ctx, call, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(budget))
	switch {
	case err == nil:
		return id, nil
	case refused != nil:
		return Identity{}, fmt.Errorf("checking access key %s with sts:GetCallerIdentity: %w", secret.ShortID(key.ID), refused)
	case parent.Err() != nil:
		return Identity{}, parent.Err()
	}
	if last == nil {
		last = err // the very first call ran out of time
	}
	return Identity{}, &KeyNotWorkingError{KeyID: secret.ShortID(key.ID), Budget: budget, Err: last}
}

// Unreached reports whether err is STS never answering a key check (no connection, a
// timeout, a dropped answer), as opposed to STS judging the key: then the key is neither
// good nor bad, only unchecked. host is the endpoint the check went to, when the error
// names it.
func Unreached(err error) (host string, ok bool) {
	var ae smithy.APIError
	if err == nil || errors.As(err, &ae) {
		return "", false
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Host
		}
	}
	return host, true
}
