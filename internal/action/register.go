package action

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awskeys"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/credtypes"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// register stores the given credentials in every named set.
func (r *run) register(ctx context.Context) (*Report, error) {
	cfg := r.cfg
	if cfg.Credentials.Fields == nil {
		// inputs.Read guarantees content in Register mode; an empty body would wipe the set.
		return nil, errors.New("nothing to store: the credentials are empty")
	}
	rep := &Report{DryRun: cfg.DryRun, CertificateNotAfter: cfg.Credentials.CertificateNotAfter}
	keyID, _ := cfg.Credentials.Fields["accessKeyId"].(string)
	if cfg.Type == credtypes.AWSCredentials && cfg.VerifyAWSKey {
		if err := r.verifyGivenKey(ctx, rep, keyID); err != nil {
			return nil, err
		}
	}

	sess, logout, err := r.session(ctx, soracom.MinTokenLifetime)
	if err != nil {
		return nil, err
	}
	defer logout()
	rep.OperatorID = sess.OperatorID

	r.log.Infof("Content: %s", describeContent(cfg, r.log.Quote))
	if cfg.DryRun {
		return rep, r.plan(ctx, sess, rep)
	}
	content := soracom.Content{Type: cfg.Type.String(), Credentials: soracom.Fields(cfg.Credentials.Fields)}
	if cfg.Description != nil {
		content.Description = *cfg.Description
	} else {
		// An empty description input keeps what the set holds (say, one written in
		// the console); a new set gets none.
		content.KeepDescription = true
	}
	stored, err := sess.StoreAll(ctx, cfg.CredentialIDs, content, cfg.IfExists)
	for _, s := range stored {
		typ := cfg.Type.String()
		if s.Operation == soracom.Skipped && s.Set.Type != "" {
			// A skipped set keeps what it holds: report its type, not the requested one.
			typ = s.Set.Type
		}
		rep.add(s.ID, typ, string(s.Operation), s.Set.UpdatedAt())
		r.log.Infof("Credential set %s: %s", s.ID, s.Operation)
		if s.Operation != soracom.Skipped && cfg.Type == credtypes.AWSCredentials {
			// The output names the key a set now holds: only once one does.
			rep.AWSAccessKeyID = keyID
		}
	}
	if err != nil {
		var unknown []string
		if id := r.failedOn(stored); id != "" && soracom.WriteInDoubt(err) {
			// The write was sent and its answer never came: it may have landed.
			unknown = []string{id}
			rep.add(id, cfg.Type.String(), "unknown", time.Time{})
			err = fmt.Errorf("%w; whether credential set %s was changed is unknown (the write was sent, and no answer says whether it was applied): run again to be sure", err, id)
		}
		rep.NotChanged = r.untouched(stored, unknown)
		return rep, r.partial(err, stored, unknown)
	}
	return rep, nil
}

// failedOn returns the set a failed StoreAll stopped at: it stores in order, so the
// first set it did not report.
func (r *run) failedOn(stored []soracom.Stored) string {
	if rest := r.untouched(stored, nil); len(rest) > 0 {
		return rest[0]
	}
	return ""
}

// partial says, for a run with several sets, which ones were changed before the failure.
func (r *run) partial(err error, stored []soracom.Stored, unknown []string) error {
	if len(r.cfg.CredentialIDs) < 2 {
		return err
	}
	var changed []string
	for _, s := range stored {
		changed = append(changed, fmt.Sprintf("%s (%s)", s.ID, s.Operation))
	}
	untouched := r.untouched(stored, unknown)
	if len(changed) == 0 && len(unknown) == 0 {
		if errors.Is(err, soracom.ErrExists) {
			return err // it says so already
		}
		return fmt.Errorf("%w; no credential set was changed", err)
	}
	var parts []string
	if len(changed) > 0 {
		parts = append(parts, "done before the failure: "+strings.Join(changed, ", "))
	}
	if len(untouched) > 0 {
		parts = append(parts, "not changed: "+strings.Join(untouched, ", "))
	}
	return fmt.Errorf("%w; %s (run again to finish)", err, strings.Join(parts, "; "))
}

// untouched returns the ids of the sets a failed run did not get to, but those whose
// outcome is unknown.
func (r *run) untouched(stored []soracom.Stored, unknown []string) []string {
	done := map[string]bool{}
	for _, s := range stored {
		done[s.ID] = true
	}
	for _, id := range unknown {
		done[id] = true
	}
	var ids []string
	for _, id := range r.cfg.CredentialIDs {
		if !done[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

// plan reports what a run would do, from one list of the sets.
func (r *run) plan(ctx context.Context, sess *soracom.Session, rep *Report) error {
	sets, err := sess.ListCredentials(ctx)
	if err == nil {
		err = soracom.Whole(sets) // the plan says what exists: every entry must be read
	}
	if err != nil {
		return err
	}
	var conflicts []string
	for _, id := range r.cfg.CredentialIDs {
		if _, exists := soracom.Find(sets, id); exists && r.cfg.IfExists == soracom.Fail {
			conflicts = append(conflicts, id)
		}
	}
	for _, id := range r.cfg.CredentialIDs {
		set, exists := soracom.Find(sets, id)
		would := "create"
		if exists {
			switch r.cfg.IfExists {
			case soracom.Update:
				would = "update"
			case soracom.Skip:
				would = "skip"
			case soracom.Fail:
				would = "fail"
			}
		}
		if len(conflicts) > 0 && !exists {
			// if-exists: fail writes nothing when any set exists, this one included.
			would = "none"
		}
		line := fmt.Sprintf("Dry run: credential set %s would be %s", id, pastTense(would))
		if exists && set.Type != r.cfg.Type.String() {
			line += fmt.Sprintf(" (its type changes from %s to %s)", r.log.Quote(set.Type), r.cfg.Type)
		}
		r.log.Infof("%s", line)
		rep.addPlanned(id, r.cfg.Type.String(), would)
	}
	if len(conflicts) > 0 {
		return fmt.Errorf("dry run: credential set %s %w and if-exists is fail; a real run would change nothing", strings.Join(conflicts, ", "), soracom.ErrExists)
	}
	return nil
}

func pastTense(verb string) string {
	switch verb {
	case "create":
		return "created"
	case "update":
		return "updated"
	case "skip":
		return "skipped (it exists)"
	case "none":
		return "left alone (another set exists and if-exists is fail)"
	}
	return "refused (it exists)"
}

// describeContent says what is stored, without secrets: the type's public fields and
// facts derived from the values (a certificate's subject and expiry), secrets as ***.
func describeContent(cfg *inputs.Config, quote func(string) string) string {
	parts := []string{"type " + cfg.Type.String()}
	for _, it := range cfg.Credentials.Summary() {
		// Values come from the user's files and certificates: a subject CN may hold a
		// newline or a workflow command.
		parts = append(parts, it.Name+" "+quote(it.Value))
	}
	return strings.Join(parts, "; ")
}

// verifyGivenKey proves the AWS key to store works, waiting while a key that an earlier
// step just created propagates through IAM.
func (r *run) verifyGivenKey(ctx context.Context, rep *Report, keyID string) error {
	base, err := awskeys.LoadDefault(ctx, awskeys.Settings{Region: r.cfg.AWS.Region, HTTPClient: r.env.HTTPClient, Bounds: r.awsBounds()})
	if err != nil {
		return err
	}
	key := awskeys.AccessKey{ID: keyID, Secret: secretOf(r.cfg.Credentials.Fields, "secretAccessKey")}
	r.log.Infof("Verifying AWS access key %s with sts:GetCallerIdentity", key.ID)
	id, err := awskeys.VerifyGivenKey(ctx, base, key, r.env.KeyWait)
	if host, unreached := awskeys.Unreached(err); unreached && ctx.Err() == nil {
		if host == "" {
			host = "its endpoint"
		}
		return fmt.Errorf("could not reach AWS STS at %s to check the AWS access key %s, so the key was not judged, and not stored: %w "+
			"(verify-aws-key: false stores it unchecked)", host, key.ID, err)
	}
	if err != nil {
		return fmt.Errorf("the AWS access key %s does not work, so it was not stored: %w (set verify-aws-key: false to store it anyway)", key.ID, err)
	}
	rep.AWSAccountID = id.Account
	r.log.Infof("AWS access key %s works: %s", key.ID, untrusted.Text(id.Arn))
	return nil
}
