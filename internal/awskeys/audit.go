package awskeys

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsid"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// Bounds of the retries of an audit's reads. IAM throttles per account and the audit
// runs several reads at once, so a throttled read backs off (jittered, growing up to
// DefaultAuditMaxBackoff) a few times before its key is reported as not checkable.
const (
	auditMaxAttempts = 5
	// DefaultAuditMaxBackoff is the longest wait between two attempts of a read.
	DefaultAuditMaxBackoff = 2 * time.Second
)

// KeyReader makes the read-only calls of an audit: it can tell who a key belongs to,
// when it was last used and which keys a user has, and change nothing. Its errors wrap
// the SDK's, so AWS's error code (NoSuchEntity, AccessDenied) stays readable with
// errors.As.
type KeyReader struct {
	iam *iam.Client
	sts *sts.Client
}

// NewKeyReader returns a KeyReader built from cfg (so the endpoint overrides and call
// bounds apply) that tries each read up to five times on throttling, 5xx and network
// errors, waiting at most maxBackoff between attempts (zero means
// DefaultAuditMaxBackoff).
func NewKeyReader(cfg aws.Config, maxBackoff time.Duration) *KeyReader {
	if maxBackoff <= 0 {
		maxBackoff = DefaultAuditMaxBackoff
	}
	retryer := func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = auditMaxAttempts
			o.MaxBackoff = maxBackoff
		})
	}
	return &KeyReader{
		iam: iam.NewFromConfig(cfg, func(o *iam.Options) { o.Retryer = retryer() }),
		sts: sts.NewFromConfig(cfg, func(o *sts.Options) { o.Retryer = retryer() }),
	}
}

// LastUse is GetAccessKeyLastUsed's answer.
type LastUse struct {
	User string
	// Date is zero for a key never used; Service and Region are "N/A" then.
	Date            time.Time
	Service, Region string
}

// CallerAccount returns the account of the reader's own credentials
// (sts:GetCallerIdentity, which needs no permission).
func (r *KeyReader) CallerAccount(ctx context.Context) (string, error) {
	out, err := r.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("sts:GetCallerIdentity: %w", err)
	}
	if acct := aws.ToString(out.Account); awsid.AccountID(acct) {
		return acct, nil
	}
	return "", &AnswerError{Service: "STS", Call: "GetCallerIdentity", Field: "Account", Want: awsid.AccountIDFormat}
}

// AccessKeyAccount returns the account key id belongs to (sts:GetAccessKeyInfo), which
// STS answers for any key, of any account, deleted or not.
// An empty or malformed account is an error: the key's account is unknown, which is not
// another account.
func (r *KeyReader) AccessKeyAccount(ctx context.Context, id string) (string, error) {
	if !awsid.AccessKeyID(id) {
		return "", &RequestError{Service: "STS", Call: "GetAccessKeyInfo", Param: "AccessKeyId", Want: awsid.AccessKeyIDFormat}
	}
	out, err := r.sts.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("sts:GetAccessKeyInfo for %s: %w", secret.ShortID(id), err)
	}
	if acct := aws.ToString(out.Account); awsid.AccountID(acct) {
		return acct, nil
	}
	return "", &AnswerError{Service: "STS", Call: "GetAccessKeyInfo", Field: "Account", Want: awsid.AccountIDFormat}
}

// AccessKeyLastUsed returns the key's user and last use (iam:GetAccessKeyLastUsed). A
// user name without IAM's format is an error: it is neither printed nor listed.
func (r *KeyReader) AccessKeyLastUsed(ctx context.Context, id string) (LastUse, error) {
	if !awsid.AccessKeyID(id) {
		return LastUse{}, &RequestError{Service: "IAM", Call: "GetAccessKeyLastUsed", Param: "AccessKeyId", Want: awsid.AccessKeyIDFormat}
	}
	out, err := r.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
	if err != nil {
		return LastUse{}, fmt.Errorf("iam:GetAccessKeyLastUsed for %s: %w", secret.ShortID(id), err)
	}
	use := LastUse{User: aws.ToString(out.UserName)}
	if use.User != "" && !awsid.UserName(use.User) {
		return LastUse{}, &AnswerError{Service: "IAM", Call: "GetAccessKeyLastUsed", Field: "UserName", Want: awsid.UserNameFormat}
	}
	if u := out.AccessKeyLastUsed; u != nil {
		use.Date, use.Service, use.Region = aws.ToTime(u.LastUsedDate), aws.ToString(u.ServiceName), aws.ToString(u.Region)
	}
	return use, nil
}

// ListAccessKeys returns the user's keys, oldest first (iam:ListAccessKeys), through
// the bounded pager. Unlike IAM.ListAccessKeys, a denial names no write permission: an
// audit needs none.
func (r *KeyReader) ListAccessKeys(ctx context.Context, user string) ([]KeyMetadata, error) {
	keys, err := listAccessKeys(ctx, r.iam, user)
	if err != nil {
		return nil, fmt.Errorf("iam:ListAccessKeys for IAM user %s: %w", user, err)
	}
	return keys, nil
}
