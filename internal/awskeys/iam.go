package awskeys

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsid"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// KeyStatus is an access key's status in IAM.
type KeyStatus string

// The two statuses IAM knows.
const (
	Active   KeyStatus = "Active"
	Inactive KeyStatus = "Inactive"
)

// KeyMetadata describes an existing access key. Its id is printable: only the secret
// key is a secret, and only a brand-new key id is masked (see AccessKey).
type KeyMetadata struct {
	ID      string
	Status  KeyStatus
	Created time.Time
}

// AccessKey is an access key with its secret, as CreateAccessKey returns it once.
type AccessKey struct {
	// ID is the access key id. A new key's id is masked in the log as well (it is
	// half of a credential); messages name it by secret.ShortID.
	ID     string
	Secret secret.Secret
	// Created is when IAM created the key; zero for a key the user gave.
	Created time.Time
}

// IAM manages IAM users' access keys.
type IAM struct {
	client *iam.Client
	masker secret.Masker
}

// NewIAM returns an IAM built from cfg (so AWS_ENDPOINT_URL_IAM applies) that masks new
// keys with m.
func NewIAM(cfg aws.Config, m secret.Masker) *IAM {
	return &IAM{client: iam.NewFromConfig(cfg), masker: m}
}

// ListAccessKeys returns the user's access keys, oldest first, through the bounded pager
// (see listAccessKeys). A key without a CreateDate has a zero Created.
func (c *IAM) ListAccessKeys(ctx context.Context, user string) ([]KeyMetadata, error) {
	keys, err := listAccessKeys(ctx, c.client, user)
	if err != nil {
		return nil, fmt.Errorf("listing the access keys of IAM user %s: %w", user, explain(err))
	}
	return keys, nil
}

// CreateAccessKey creates an access key for the user. Its id and secret are masked with
// the IAM's Masker before CreateAccessKey returns.
func (c *IAM) CreateAccessKey(ctx context.Context, user string) (AccessKey, error) {
	out, err := c.client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		return AccessKey{}, fmt.Errorf("creating an access key for IAM user %s: %w", user, explain(err))
	}
	k := out.AccessKey
	if k == nil || k.AccessKeyId == nil || k.SecretAccessKey == nil {
		return AccessKey{}, fmt.Errorf("creating an access key for IAM user %s: IAM answered without the key", user)
	}
	if !awsid.AccessKeyID(*k.AccessKeyId) {
		return AccessKey{}, fmt.Errorf("creating an access key for IAM user %s: %w", user,
			&AnswerError{Service: "IAM", Call: "CreateAccessKey", Field: "AccessKeyId", Want: awsid.AccessKeyIDFormat})
	}
	id := secret.Mask(c.masker, *k.AccessKeyId)
	return AccessKey{ID: id.Reveal(), Secret: secret.Mask(c.masker, *k.SecretAccessKey), Created: aws.ToTime(k.CreateDate)}, nil
}

// Deactivate makes the key Inactive: it stops working but can be reactivated.
func (c *IAM) Deactivate(ctx context.Context, user, id string) error {
	_, err := c.client.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
		UserName: aws.String(user), AccessKeyId: aws.String(id), Status: types.StatusTypeInactive,
	})
	if err != nil {
		return fmt.Errorf("deactivating access key %s of IAM user %s: %w", id, user, explain(err))
	}
	return nil
}

// Delete deletes the key for good.
func (c *IAM) Delete(ctx context.Context, user, id string) error {
	_, err := c.client.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(id)})
	if err != nil {
		return fmt.Errorf("deleting access key %s of IAM user %s: %w", id, user, explain(err))
	}
	return nil
}

// explain adds the likely cause to the IAM errors a person can act on.
func explain(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.ErrorCode() {
	case "AccessDenied":
		return fmt.Errorf("%w (the credentials need iam:ListAccessKeys, iam:CreateAccessKey, iam:UpdateAccessKey "+
			"and iam:DeleteAccessKey on the user)", err)
	case "LimitExceeded":
		return fmt.Errorf("%w (IAM allows two access keys per user)", err)
	case "NoSuchEntity":
		return fmt.Errorf("%w (check the IAM user name)", err)
	}
	return err
}

// Answered reports whether err carries AWS's answer to the request's last attempt, so
// that whatever the request did is visible now. A request that got no answer (cut off,
// timed out, cancelled in flight) or a gateway error may still take effect later.
func Answered(err error) bool {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil || re.Response.Response == nil {
		return false
	}
	// The SDK wraps a request cut off before any answer in a ResponseError too, with
	// status 0.
	switch re.HTTPStatusCode() {
	case 0, http.StatusBadGateway, http.StatusGatewayTimeout:
		return false
	}
	return true
}
