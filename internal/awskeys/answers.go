package awskeys

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsid"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/paging"
)

// AnswerError is an answer from STS or IAM (or a proxy in front of them) holding a value
// without the format it must have: an account id that is not 12 digits, a user name
// with a line break, a key id that is no key id. The value is not shown and nothing is
// done with it: it is neither printed, nor output, nor sent on to another call.
type AnswerError struct {
	Service, Call string // "IAM", "ListAccessKeys"
	Field         string // the answer's field, e.g. "UserName"
	Want          string // the format it must have
}

func (e *AnswerError) Error() string {
	return fmt.Sprintf("%s %s answered a field %s that is not %s; nothing was done with it", e.Service, e.Call, e.Field, e.Want)
}

// RequestError is a call not made because its parameter has not the format AWS's
// identifiers have: such a value came from somewhere untrusted and is not sent on.
type RequestError struct {
	Service, Call, Param, Want string
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("%s %s was not called: its %s is not %s", e.Service, e.Call, e.Param, e.Want)
}

// listLimit bounds a user's key listing. IAM allows two keys per user, and a page holds
// up to 100: more pages or keys than this are a server that never ends its answer; all
// its pages together get the time of one call.
var listLimit = paging.Limit{Service: "IAM", Call: "ListAccessKeys", MaxPages: 10, MaxItems: 100, Deadline: DefaultBounds().Call}

// listAccessKeys lists the user's keys, oldest first, through the bounded pager, and
// checks every key id and status against its format. A key without a CreateDate comes
// with a zero Created: its age is unknown, which callers must say.
func listAccessKeys(ctx context.Context, client *iam.Client, user string) ([]KeyMetadata, error) {
	if !awsid.UserName(user) {
		return nil, &RequestError{Service: "IAM", Call: "ListAccessKeys", Param: "UserName", Want: awsid.UserNameFormat}
	}
	keys, err := paging.Collect(ctx, listLimit, func(ctx context.Context, marker string) (paging.Page[KeyMetadata], error) {
		in := &iam.ListAccessKeysInput{UserName: aws.String(user), MaxItems: aws.Int32(100)}
		if marker != "" {
			in.Marker = aws.String(marker)
		}
		out, err := client.ListAccessKeys(ctx, in)
		if err != nil {
			return paging.Page[KeyMetadata]{}, err
		}
		page := paging.Page[KeyMetadata]{More: out.IsTruncated, Next: aws.ToString(out.Marker)}
		for _, k := range out.AccessKeyMetadata {
			key := KeyMetadata{ID: aws.ToString(k.AccessKeyId), Status: KeyStatus(k.Status), Created: aws.ToTime(k.CreateDate)}
			switch {
			case !awsid.AccessKeyID(key.ID):
				return page, &AnswerError{Service: "IAM", Call: "ListAccessKeys", Field: "AccessKeyId", Want: awsid.AccessKeyIDFormat}
			case key.Status != Active && key.Status != Inactive:
				return page, &AnswerError{Service: "IAM", Call: "ListAccessKeys", Field: "Status", Want: "Active or Inactive"}
			}
			page.Items = append(page.Items, key)
		}
		return page, nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].Created.Before(keys[j].Created) })
	return keys, nil
}
