package action

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awskeys"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
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
	return rotation.Identity{Account: id.Account, Unknown: id.Unknown}, err
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
	if err == nil && id.Unknown != nil {
		k.log.Warningf("%s", oddIdentity(secret.ShortID(key.ID), id.Account, id.Unknown))
	}
	return id, err
}

// credentialSets is the operator's credential sets as the rotation sees them: those of
// every coverage of the run, as one list whose names say where each set is (see
// setNames), so that the rotation moves every set holding the old key on either
// coverage and retires the key only once all of them hold the new one.
type credentialSets struct {
	log         *Log
	places      []place
	names       setNames
	description *string // nil keeps each set's description
	// listed are the sets as the plan saw them, by name; existed says which were there.
	listed  map[string]soracom.CredentialSet
	existed map[string]bool
	// ops is what each write did (created or updated); writes run in parallel.
	mu       sync.Mutex
	ops      map[string]soracom.Operation
	newKeyID string
}

func newCredentialSets(log *Log, places []place, description *string) *credentialSets {
	return &credentialSets{log: log, places: places, names: setNames{several: len(places) > 1, first: places[0].coverage},
		description: description, ops: map[string]soracom.Operation{}}
}

// List lists the sets of every coverage at once, jp's first in the result.
func (c *credentialSets) List(ctx context.Context) ([]rotation.Set, error) {
	lists := make([][]soracom.CredentialSet, len(c.places))
	errs := make([]error, len(c.places))
	var wg sync.WaitGroup
	for i, p := range c.places {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lists[i], errs[i] = p.sess.ListCredentials(ctx)
			if errs[i] != nil && c.names.several {
				errs[i] = fmt.Errorf("coverage %s: %w", p.coverage, errs[i])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// The first list is the plan's: it says which sets existed before the rotation.
	// Later lists (after a failure) must not change that.
	first := c.listed == nil
	if first {
		c.listed, c.existed = map[string]soracom.CredentialSet{}, map[string]bool{}
	}
	var out []rotation.Set
	for i, all := range lists {
		out = append(out, c.rotationSets(c.places[i].coverage, all, first)...)
	}
	return out, nil
}

// rotationSets turns one coverage's list into the rotation's sets.
func (c *credentialSets) rotationSets(coverage string, all []soracom.CredentialSet, first bool) []rotation.Set {
	out := make([]rotation.Set, 0, len(all))
	for _, s := range all {
		name := ""
		if s.ID != "" {
			name = c.names.name(coverage, s.ID)
		}
		if first && name != "" {
			c.listed[name], c.existed[name] = s, true
		}
		if len(s.Unreadable) > 0 {
			// Nothing of the entry is believed but its id and type: the rotation never
			// writes it and keeps the old key while it may hold it.
			what := "its " + strings.Join(s.Unreadable, ", ")
			if c.names.several {
				what += ", on coverage " + coverage
			}
			out = append(out, rotation.Set{ID: name, Type: s.Type, Entry: s.Index + 1, Unreadable: what})
			continue
		}
		out = append(out, rotation.Set{ID: name, Type: s.Type, AccessKeyID: s.Field("accessKeyId"), Entry: s.Index + 1})
	}
	return out
}

// session is the session of the coverage a set's name says. A name of no coverage
// this run authenticated to is a bug; it is refused rather than written elsewhere.
func (c *credentialSets) session(name string) (*soracom.Session, string, error) {
	coverage, id := c.names.split(name)
	for _, p := range c.places {
		if p.coverage == coverage {
			return p.sess, id, nil
		}
	}
	return nil, id, fmt.Errorf("credential set %s names no coverage this run signed in to", name)
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
	sess, setID, err := c.session(id)
	if err != nil {
		return time.Time{}, &rotation.OutcomeError{Outcome: rotation.NotSent, Err: err}
	}
	stored, err := sess.StoreAll(ctx, []string{setID}, content, soracom.Update, nil)
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

// setNames is how the rotation names sets on several coverages: "funnel-aws on g". A
// set id never holds a space, so a name splits back into its coverage and id without
// doubt; the rotation's messages then say where each set is. On one coverage a set's
// name is its id.
type setNames struct {
	several bool
	first   string // the coverage of a run on one
}

func (n setNames) name(coverage, id string) string {
	if !n.several {
		return id
	}
	return id + " on " + coverage
}

func (n setNames) split(name string) (coverage, id string) {
	if id, coverage, ok := strings.Cut(name, " on "); ok && n.several {
		return coverage, id
	}
	return n.first, name
}

// all names ids on every coverage: the sets credential-id names, on each.
func (n setNames) all(ids []string, coverages []inputs.Coverage) []string {
	if !n.several {
		return ids
	}
	var out []string
	for _, c := range coverages {
		for _, id := range ids {
			out = append(out, n.name(c.Name, id))
		}
	}
	return out
}
