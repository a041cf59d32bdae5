package action

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awskeys"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
)

// RotationReport is what a rotation did to the keys, for the summary.
type RotationReport struct {
	OldKeyID, NewKeyID string
	// Stored is how many sets hold the new key.
	Stored int
	// Failed is set when the rotation stopped with an error.
	Failed bool
	// OldKeyAction is what happened to the old key (rotation.OldKey*), or the plan.
	OldKeyAction string
	// DeletedInactiveKey is an inactive key deleted to make room.
	DeletedInactiveKey string
	// Plan is the plan's text in a dry run.
	Plan string
}

func (r *RotationReport) writeSummary(w io.Writer) {
	if r.Plan != "" {
		fmt.Fprintf(w, "Rotation plan:\n\n%s\n", r.Plan)
		return
	}
	oldKey := "none"
	if r.OldKeyID != "" {
		oldKey = "`" + shortKey(r.OldKeyID) + "`"
	}
	switch {
	case r.Failed && r.Stored == 0:
		fmt.Fprintf(w, "**Rotation failed**: no credential set holds a new key; the old key %s is unchanged", oldKey)
	case r.Failed:
		fmt.Fprintf(w, "**Rotation incomplete**: %s → `%s` in %d set(s) listed below; old key: **%s**", oldKey, shortKey(r.NewKeyID), r.Stored, r.OldKeyAction)
	default:
		fmt.Fprintf(w, "Access key rotated: %s → `%s`; old key: **%s**", oldKey, shortKey(r.NewKeyID), r.OldKeyAction)
	}
	if r.DeletedInactiveKey != "" {
		fmt.Fprintf(w, "; inactive key `%s` from an earlier rotation deleted", shortKey(r.DeletedInactiveKey))
	}
	fmt.Fprint(w, "\n\n")
}

// rotate replaces the IAM user's access key behind the credential sets
// as the README describes it: create, wait until it works, move every set, retire.
func (r *run) rotate(ctx context.Context) (*Report, error) {
	cfg := r.cfg
	awsCfg, err := r.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	keys := awskeys.UserKeys{IAM: awskeys.NewIAM(awsCfg, r.log), User: cfg.IAMUserName, Config: awsCfg, Budget: r.env.KeyWait}
	var rotKeys rotation.Keys = keys
	if !cfg.VerifyAWSKey {
		r.log.Warningf("verify-aws-key is false: the new key is stored without waiting until AWS accepts it, so consumers may fail for a few seconds")
		rotKeys = unverifiedKeys{keys}
	}
	rotKeys = loggedKeys{Keys: rotKeys, log: r.log}

	// The token must outlive the wait for the new key, which comes between the plan and
	// the updates.
	sess, logout, err := r.session(ctx, rotationTokenLifetime(r.env.Retry, r.env.KeyWait))
	if err != nil {
		return nil, err
	}
	defer logout()
	rep := &Report{DryRun: cfg.DryRun, OperatorID: sess.OperatorID}
	sets := &credentialSets{log: r.log, sess: sess, description: cfg.Description}

	plan, err := rotation.Prepare(ctx, rotKeys, sets, cfg.CredentialIDs)
	if err != nil {
		return rep, err
	}
	r.log.Infof("Rotation plan for IAM user %s:\n%s", cfg.IAMUserName, strings.TrimRight(plan.Describe(rotation.OldKeyPolicy(cfg.OldKey)), "\n"))
	rep.PreviousAWSAccessKeyID = plan.Replace
	if cfg.DryRun {
		for _, t := range plan.Targets {
			would := "update"
			if !t.Exists {
				would = "create"
			}
			rep.addPlanned(t.ID, rotation.AWSCredentials, would)
		}
		rep.Rotation = &RotationReport{OldKeyID: plan.Replace, Plan: shortenKeys(plan.Describe(rotation.OldKeyPolicy(cfg.OldKey)), plan)}
		r.log.Infof("Dry run: nothing was changed in IAM or SORACOM")
		return rep, nil
	}

	res, err := rotation.Execute(ctx, plan, rotation.OldKeyPolicy(cfg.OldKey))
	if len(res.Updated) > 0 {
		// Only a key that some set holds is "the key now stored"; after a rollback
		// the new key no longer exists.
		rep.AWSAccessKeyID = res.NewKeyID
	}
	rep.PreviousAWSAccessKeyID = res.PreviousKeyID
	rep.AWSAccountID = res.Account
	for _, s := range res.Updated {
		op := "updated"
		if !sets.existed[s.ID] {
			op = "created"
		}
		rep.add(s.ID, rotation.AWSCredentials, op, s.UpdatedAt)
	}
	rep.Rotation = &RotationReport{OldKeyID: res.PreviousKeyID, NewKeyID: res.NewKeyID, OldKeyAction: res.OldKeyAction,
		DeletedInactiveKey: res.DeletedInactiveKey, Stored: len(res.Updated), Failed: err != nil}
	if err == nil {
		r.log.Infof("Rotated: %d credential set(s) hold the new key %s; the old key %s was %s", len(res.Updated), shortKey(res.NewKeyID), orNone(res.PreviousKeyID), res.OldKeyAction)
	}
	return rep, err
}

// shortenKeys shows the plan's key ids by their last four characters, as the summary
// shows every key.
func shortenKeys(text string, plan rotation.Plan) string {
	ids := []string{plan.Replace, plan.DeleteInactive}
	for _, t := range plan.Targets {
		ids = append(ids, t.AccessKeyID)
	}
	for _, id := range ids {
		if len(id) > 4 {
			text = strings.ReplaceAll(text, id, shortKey(id))
		}
	}
	return text
}

func orNone(id string) string {
	if id == "" {
		return "(none)"
	}
	return id
}

// awsConfig gets the credentials that manage the IAM user: the role in role-to-assume
// through the job's OIDC token, or the job's ambient credentials.
func (r *run) awsConfig(ctx context.Context) (aws.Config, error) {
	cfg := r.cfg
	s := awskeys.Settings{Region: cfg.AWS.Region, HTTPClient: r.env.HTTPClient, Bounds: r.awsBounds()}
	if cfg.AWS.RoleToAssume != "" {
		s.Role = awskeys.Role{
			ARN:                 cfg.AWS.RoleToAssume,
			SessionName:         cfg.AWS.RoleSessionName,
			Duration:            cfg.AWS.RoleDuration,
			Audience:            cfg.AWS.Audience,
			IDTokenRequestURL:   r.env.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"),
			IDTokenRequestToken: secret.Mask(r.log, r.env.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")),
		}
		r.log.Infof("Assuming %s with the job's GitHub OIDC token", cfg.AWS.RoleToAssume)
	} else {
		// configure-aws-credentials masks these too; an env set by hand may not be.
		for _, name := range []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
			if v := r.env.Getenv(name); v != "" {
				secret.Mask(r.log, v)
			}
		}
		r.log.Infof("Using the job's AWS credentials (no role-to-assume)")
	}
	return awskeys.Load(ctx, s, r.log)
}

// loggedKeys says in the log what the rotation does to the keys as it happens, so the
// wait for a new key does not look like a hang.
type loggedKeys struct {
	rotation.Keys
	log *Log
}

func (k loggedKeys) Create(ctx context.Context) (awskeys.AccessKey, error) {
	key, err := k.Keys.Create(ctx)
	if err == nil {
		k.log.Infof("Created the new access key %s", shortKey(key.ID))
	}
	return key, err
}

func (k loggedKeys) WaitUntilWorks(ctx context.Context, key awskeys.AccessKey) (awskeys.Identity, error) {
	k.log.Infof("Waiting until AWS accepts the new key %s (a new key takes a few seconds to propagate)", shortKey(key.ID))
	start := time.Now()
	id, err := k.Keys.WaitUntilWorks(ctx, key)
	if err == nil {
		k.log.Infof("The new key %s works (after %s)", shortKey(key.ID), time.Since(start).Round(100*time.Millisecond))
	}
	return id, err
}

// unverifiedKeys skips the wait for a new key (verify-aws-key: false).
type unverifiedKeys struct{ awskeys.UserKeys }

func (unverifiedKeys) WaitUntilWorks(context.Context, awskeys.AccessKey) (awskeys.Identity, error) {
	return awskeys.Identity{}, nil
}

// credentialSets is the operator's credential sets as the rotation sees them.
type credentialSets struct {
	log         *Log
	sess        *soracom.Session
	description string
	// listed are the sets as the plan saw them; existed says which ids were there.
	listed  map[string]soracom.CredentialSet
	existed map[string]bool
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
		if first {
			c.listed[s.ID], c.existed[s.ID] = s, true
		}
		keyID, _ := s.Credentials["accessKeyId"].(string)
		out = append(out, rotation.Set{ID: s.ID, Type: s.Type, AccessKeyID: keyID})
	}
	return out, nil
}

// Store writes the new key into a set. A set's description is kept unless the
// description input gives a new one: a rotation changes the key, nothing else.
func (c *credentialSets) Store(ctx context.Context, id string, key awskeys.AccessKey) (time.Time, error) {
	desc := c.description
	if desc == "" {
		desc = c.listed[id].Description
	}
	content := soracom.Content{Type: rotation.AWSCredentials, Description: desc, Credentials: soracom.Fields{
		"accessKeyId": key.ID, "secretAccessKey": key.Secret.Reveal(),
	}}
	stored, err := c.sess.StoreAll(ctx, []string{id}, content, soracom.Update)
	if err != nil {
		return time.Time{}, err
	}
	c.log.Infof("Credential set %s: %s with the new key %s", id, stored[0].Operation, shortKey(key.ID))
	return stored[0].Set.UpdatedAt(), nil
}
