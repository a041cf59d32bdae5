package action

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awskeys"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
)

// iamKeys is an IAM user's access keys as the rotation sees them: awskeys' IAM calls
// bound to the user, and VerifyKey as the way to wait for a new key.
type iamKeys struct {
	iam    *awskeys.IAM
	user   string
	config aws.Config    // for VerifyKey: region, endpoints, HTTP client
	budget time.Duration // for VerifyKey
	verify bool          // false: verify-aws-key is false, no wait
}

func (k iamKeys) List(ctx context.Context) ([]rotation.Key, error) {
	keys, err := k.iam.ListAccessKeys(ctx, k.user)
	if err != nil {
		return nil, iamFailure(err)
	}
	out := make([]rotation.Key, len(keys))
	for i, key := range keys {
		out[i] = rotation.Key{ID: key.ID, Status: rotation.KeyStatus(key.Status), Created: key.Created}
	}
	return out, nil
}

func (k iamKeys) Create(ctx context.Context) (rotation.NewKey, error) {
	key, err := k.iam.CreateAccessKey(ctx, k.user)
	if err != nil {
		return rotation.NewKey{}, iamFailure(err)
	}
	return rotation.NewKey{ID: key.ID, Secret: key.Secret, Created: key.Created}, nil
}

func (k iamKeys) WaitUntilWorks(ctx context.Context, key rotation.NewKey) (rotation.Identity, error) {
	if !k.verify {
		return rotation.Identity{}, nil
	}
	id, err := awskeys.VerifyKey(ctx, k.config, awskeys.AccessKey{ID: key.ID, Secret: key.Secret}, k.budget)
	return rotation.Identity{Account: id.Account}, err
}

func (k iamKeys) Deactivate(ctx context.Context, id string) error {
	return iamFailure(k.iam.Deactivate(ctx, k.user, id))
}

func (k iamKeys) Delete(ctx context.Context, id string) error {
	return iamFailure(k.iam.Delete(ctx, k.user, id))
}

// iamFailure tells the rotation whether a failed IAM call may still take effect.
func iamFailure(err error) error {
	if err == nil {
		return nil
	}
	outcome := rotation.InDoubt
	if awskeys.Answered(err) {
		outcome = rotation.Answered
	}
	return &rotation.OutcomeError{Outcome: outcome, Err: err}
}

// loggedKeys says in the log what the rotation does to the keys as it happens, so the
// wait for a new key does not look like a hang.
type loggedKeys struct {
	rotation.Keys
	log *Log
}

func (k loggedKeys) Create(ctx context.Context) (rotation.NewKey, error) {
	key, err := k.Keys.Create(ctx)
	if err == nil {
		k.log.Infof("Created the new access key %s", secret.ShortID(key.ID))
	}
	return key, err
}

func (k loggedKeys) WaitUntilWorks(ctx context.Context, key rotation.NewKey) (rotation.Identity, error) {
	k.log.Infof("Waiting until AWS accepts the new key %s (a new key takes a few seconds to propagate)", secret.ShortID(key.ID))
	start := time.Now()
	id, err := k.Keys.WaitUntilWorks(ctx, key)
	if err == nil {
		k.log.Infof("The new key %s works (after %s)", secret.ShortID(key.ID), time.Since(start).Round(100*time.Millisecond))
	}
	return id, err
}

// credentialSets is the operator's credential sets as the rotation sees them.
type credentialSets struct {
	log         *Log
	sess        *soracom.Session
	description *string // nil keeps each set's description
	// listed are the sets as the plan saw them; existed says which ids were there.
	listed  map[string]soracom.CredentialSet
	existed map[string]bool
	// ops is what each write did (created or updated); writes run in parallel.
	mu       sync.Mutex
	ops      map[string]soracom.Operation
	newKeyID string
}

func (c *credentialSets) List(ctx context.Context) ([]rotation.Set, error) {
	all, err := c.sess.ListCredentials(ctx)
	if err != nil {
		return nil, err
	}
	// The first list is the plan's: it says which sets existed before the rotation.
	// Later lists (after a failure) must not change that.
	first := c.listed == nil
	if first {
		c.listed, c.existed = map[string]soracom.CredentialSet{}, map[string]bool{}
	}
	out := make([]rotation.Set, 0, len(all))
	for _, s := range all {
		if first && s.ID != "" {
			c.listed[s.ID], c.existed[s.ID] = s, true
		}
		if len(s.Unreadable) > 0 {
			// Nothing of the entry is believed but its id and type: the rotation never
			// writes it and keeps the old key while it may hold it.
			out = append(out, rotation.Set{ID: s.ID, Type: s.Type, Entry: s.Index + 1, Unreadable: "its " + strings.Join(s.Unreadable, ", ")})
			continue
		}
		out = append(out, rotation.Set{ID: s.ID, Type: s.Type, AccessKeyID: s.Field("accessKeyId"), Entry: s.Index + 1})
	}
	return out, nil
}

// Store writes the new key into a set. A set's description is kept unless the
// description input gives a new one: a rotation changes the key, nothing else.
func (c *credentialSets) Store(ctx context.Context, id string, key rotation.NewKey) (time.Time, error) {
	desc := c.listed[id].Description
	if c.description != nil {
		desc = *c.description
	}
	content := soracom.Content{Type: rotation.AWSCredentials, Description: desc, Credentials: soracom.Fields{
		"accessKeyId": key.ID, "secretAccessKey": key.Secret.Reveal(),
	}}
	stored, err := c.sess.StoreAll(ctx, []string{id}, content, soracom.Update, nil)
	if err != nil {
		return time.Time{}, &rotation.OutcomeError{Outcome: soracomOutcome(err), Err: err}
	}
	c.mu.Lock()
	c.ops[id], c.newKeyID = stored[0].Operation, key.ID
	c.mu.Unlock()
	return stored[0].Set.UpdatedAt(), nil
}

// logStored says in the log that a set took the new key; the rotation calls it in plan
// order, whatever order the writes in parallel end in.
func (c *credentialSets) logStored(id string) {
	c.mu.Lock()
	op, keyID := c.ops[id], c.newKeyID
	c.mu.Unlock()
	c.log.Infof("Credential set %s: %s with the new key %s", id, op, secret.ShortID(keyID))
}

// soracomOutcome tells whether a failed write may still land. It may when SORACOM did
// not answer after the request left (cut off, timed out, cancelled in flight) or a
// gateway answered in its place; it cannot when the request never left. Otherwise
// SORACOM answered the last attempt, so no attempt is still on its way, and a list of
// the sets shows what the write (or an earlier attempt whose answer was lost) did.
func soracomOutcome(err error) rotation.Outcome {
	var netErr *soracom.NetworkError
	if errors.As(err, &netErr) {
		if netErr.InDoubt {
			return rotation.InDoubt
		}
		return rotation.NotSent
	}
	var apiErr *soracom.APIError
	if !errors.As(err, &apiErr) {
		return rotation.InDoubt
	}
	switch apiErr.Status {
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return rotation.InDoubt
	}
	return rotation.Answered
}
