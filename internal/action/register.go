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

// register stores the given credentials in every named set, on every coverage of the
// run, one coverage after the other.
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

	places, logout, err := r.sessions(ctx, soracom.MinTokenLifetime)
	if err != nil {
		return nil, err
	}
	defer logout()
	rep.OperatorID = places[0].sess.OperatorID

	r.log.Infof("Content: %s", describeContent(cfg, r.log.Quote))
	if cfg.DryRun {
		return rep, r.planAll(ctx, places, rep)
	}
	if err := r.refuseExisting(ctx, places); err != nil {
		return rep, err
	}
	content := soracom.Content{Type: cfg.Type.String(), Credentials: soracom.Fields(cfg.Credentials.Fields)}
	if cfg.Description != nil {
		content.Description = *cfg.Description
	} else {
		// An empty description input keeps what the set holds (say, one written in
		// the console); a new set gets none.
		content.KeepDescription = true
	}
	for i, p := range places {
		if err := r.registerAt(ctx, p, content, rep, keyID); err != nil {
			return rep, r.stoppedAt(err, places[i:], rep)
		}
	}
	return rep, nil
}

// stoppedAt is a registration that failed on the first of places: the coverages after
// it were not written.
func (r *run) stoppedAt(err error, places []place, rep *Report) error {
	if len(r.cfg.Coverages) < 2 {
		return err
	}
	state := "the other coverages are as reported"
	if rest := places[1:]; len(rest) > 0 {
		var names []string
		for _, p := range rest {
			names = append(names, p.coverage)
			for _, id := range r.cfg.CredentialIDs {
				rep.NotChanged = append(rep.NotChanged, SetRef{Coverage: p.coverage, ID: id})
			}
		}
		state = "nothing was written on " + strings.Join(names, " and ")
	}
	return &coverageError{coverage: places[0].coverage, endpoint: places[0].endpoint, err: err, state: state}
}

// registerAt stores the credentials in every named set on one coverage.
func (r *run) registerAt(ctx context.Context, p place, content soracom.Content, rep *Report, keyID string) error {
	cfg := r.cfg
	stored, err := p.sess.StoreAll(ctx, cfg.CredentialIDs, content, cfg.IfExists, func(s soracom.Stored, err error) {
		if err == nil {
			r.log.Infof("Credential set %s%s: %s", s.ID, r.on(p.coverage), s.Operation)
		}
	})
	for _, s := range stored {
		typ := cfg.Type.String()
		if s.Operation == soracom.Skipped && s.Set.Type != "" {
			// A skipped set keeps what it holds: report its type, not the requested one.
			typ = s.Set.Type
		}
		rep.add(p.coverage, s.ID, typ, string(s.Operation), s.Set.UpdatedAt())
		if s.Operation != soracom.Skipped && cfg.Type == credtypes.AWSCredentials {
			// The output names the key a set now holds: only once one does.
			rep.AWSAccessKeyID = keyID
		}
	}
	if err == nil {
		return nil
	}
	unknown := inDoubt(err)
	for _, id := range unknown {
		// The write was sent and its answer never came: it may have landed.
		rep.add(p.coverage, id, cfg.Type.String(), "unknown", time.Time{})
	}
	rep.inOrder(p.coverage, cfg.CredentialIDs)
	if len(unknown) > 0 {
		err = fmt.Errorf("%w; whether credential set %s was changed is unknown (the write was sent, and no answer says whether it was applied): run again to be sure", err, strings.Join(unknown, ", "))
	}
	for _, id := range r.untouched(stored, unknown) {
		rep.NotChanged = append(rep.NotChanged, SetRef{Coverage: p.coverage, ID: id})
	}
	return r.partial(err, stored, unknown)
}

// refuseExisting makes if-exists: fail change nothing on any coverage when a set exists
// on one: each coverage's StoreAll checks only its own, and the first coverage would be
// written before the second's check.
func (r *run) refuseExisting(ctx context.Context, places []place) error {
	if r.cfg.IfExists != soracom.Fail || len(places) < 2 {
		return nil
	}
	var exist []string
	for _, p := range places {
		sets, err := p.sess.ListCredentials(ctx)
		if err == nil {
			// Which sets exist must be known on every coverage: an entry not read may be
			// one of them, and StoreAll, which refuses such a list, would refuse it only
			// after the coverages before were written.
			err = soracom.Whole(sets)
		}
		if err != nil {
			return &coverageError{coverage: p.coverage, endpoint: p.endpoint, err: err, state: "nothing was written on any coverage"}
		}
		for _, id := range r.cfg.CredentialIDs {
			if _, ok := soracom.Find(sets, id); ok {
				exist = append(exist, id+" on "+p.coverage)
			}
		}
	}
	if len(exist) > 0 {
		return fmt.Errorf("credential set %s %w and if-exists is fail; nothing was changed on any coverage. Use if-exists: update to replace it, or skip to leave it",
			strings.Join(exist, ", "), soracom.ErrExists)
	}
	return nil
}

// inDoubt returns the sets a failed StoreAll may have written all the same: the
// write was sent and no answer says whether it was applied.
func inDoubt(err error) []string {
	var se *soracom.StoreError
	if !errors.As(err, &se) {
		return nil
	}
	var ids []string
	for _, f := range se.Failed {
		if soracom.WriteInDoubt(f.Err) {
			ids = append(ids, f.ID)
		}
	}
	return ids
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

// planAll reports what a run would do on every coverage, from one list of each
// coverage's sets. With if-exists: fail, a set that exists on any coverage makes the
// real run change nothing on every one (see refuseExisting), and so does the plan.
func (r *run) planAll(ctx context.Context, places []place, rep *Report) error {
	var errs []error
	lists := make([][]soracom.CredentialSet, len(places))
	listed := make([]bool, len(places))
	var conflicts []string
	for i, p := range places {
		sets, err := p.sess.ListCredentials(ctx)
		if err == nil {
			err = soracom.Whole(sets) // the plan says what exists: every entry must be read
		}
		if err != nil {
			errs = append(errs, r.onCoverage(p.coverage, err))
			continue
		}
		lists[i], listed[i] = sets, true
		for _, id := range r.cfg.CredentialIDs {
			if _, exists := soracom.Find(sets, id); exists && r.cfg.IfExists == soracom.Fail {
				conflicts = append(conflicts, id+r.on(p.coverage))
			}
		}
	}
	for i, p := range places {
		if listed[i] {
			r.plan(p, lists[i], len(conflicts) > 0, rep)
		}
	}
	if len(conflicts) > 0 {
		errs = append(errs, fmt.Errorf("dry run: credential set %s %w and if-exists is fail; a real run would change nothing",
			strings.Join(conflicts, ", "), soracom.ErrExists))
	}
	return errors.Join(errs...)
}

// plan reports what a run would do on one coverage, given its sets.
func (r *run) plan(p place, sets []soracom.CredentialSet, conflicts bool, rep *Report) {
	for _, id := range r.cfg.CredentialIDs {
		set, exists := soracom.Find(sets, id)
		would := r.would(exists, conflicts)
		line := fmt.Sprintf("Dry run: credential set %s%s would be %s", id, r.on(p.coverage), pastTense(would))
		if exists && set.Type != r.cfg.Type.String() {
			line += fmt.Sprintf(" (its type changes from %s to %s)", r.log.Quote(set.Type), r.cfg.Type)
		}
		r.log.Infof("%s", line)
		rep.addPlanned(p.coverage, id, r.cfg.Type.String(), would)
	}
}

// would is what a real run would do to a set: create, update, skip, fail, or none
// (if-exists: fail writes nothing when any set exists, a missing one included).
func (r *run) would(exists, conflicts bool) string {
	switch {
	case !exists && conflicts:
		return "none"
	case !exists:
		return "create"
	case r.cfg.IfExists == soracom.Update:
		return "update"
	case r.cfg.IfExists == soracom.Skip:
		return "skip"
	}
	return "fail"
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
	if id.Unknown != nil {
		r.log.Warningf("%s", oddIdentity(key.ID, id.Account, id.Unknown))
		return nil
	}
	r.log.Infof("AWS access key %s works: %s", key.ID, untrusted.Text(id.Arn))
	return nil
}

// oddIdentity says that a key works but STS's answer about whom it signs as did not have
// its format: what it said is not used, and without an account aws-account-id is left
// empty.
func oddIdentity(keyID, account string, why error) string {
	msg := fmt.Sprintf("AWS access key %s works, but STS's answer about whom it signs as was not used (%s)",
		keyID, strings.ReplaceAll(why.Error(), "\n", "; "))
	if account == "" {
		msg += ": the AWS account it belongs to is unknown, and the output aws-account-id is left empty"
	}
	return msg
}
