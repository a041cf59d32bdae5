package action

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// schedule is when the key behind the sets is due (the input rotate-after), for the
// outputs rotated, key-age-days and next-rotation, and for the summary.
type schedule struct {
	now         time.Time
	rotateAfter time.Duration
	// keyCreated is when the key the sets held at the start was created; zero when IAM
	// does not know it.
	keyCreated time.Time
	heldKey    string
	rotated    bool
	notDue     bool
	// next is when the next rotation is due; zero when rotate-after is not set.
	next time.Time
}

func newSchedule(due rotation.Schedule, after time.Duration, now time.Time) schedule {
	s := schedule{now: now, rotateAfter: after, keyCreated: due.KeyCreated, heldKey: due.HeldKey, notDue: !due.Due, next: due.NextRotation}
	if due.Due && after > 0 {
		// Due already: since the held key reached rotate-after, or now when its age is
		// not what made it due.
		s.next = now
		if !s.keyCreated.IsZero() && s.keyCreated.Add(after).Before(now) {
			s.next = s.keyCreated.Add(after)
		}
	}
	return s
}

// rotatedTo records a rotation that moved every set to a key created at created.
func (s *schedule) rotatedTo(created time.Time) {
	s.rotated = true
	if s.rotateAfter == 0 {
		return
	}
	if created.IsZero() {
		created = s.now
	}
	s.next = created.Add(s.rotateAfter)
}

// outputs are the rotation-mode outputs the schedule gives.
func (s schedule) outputs() map[string]string {
	out := map[string]string{"rotated": strconv.FormatBool(s.rotated)}
	if !s.keyCreated.IsZero() {
		out["key-age-days"] = strconv.Itoa(rotation.AgeDays(s.keyCreated, s.now))
	}
	if !s.next.IsZero() {
		out["next-rotation"] = s.next.UTC().Format(time.RFC3339)
	}
	return out
}

// writeNotDue is the summary of a run that found the key not due.
func (s schedule) writeNotDue(w io.Writer) {
	fmt.Fprintf(w, "Access key not due until %s: the key %s the sets hold is %s old (rotate-after: %s). Nothing was changed.\n\n",
		s.next.UTC().Format(time.RFC3339), untrusted.Code(secret.ShortID(s.heldKey)), rotation.Days(s.now.Sub(s.keyCreated)), rotation.Span(s.rotateAfter))
}

// notDue reports a run whose key is not due: every target set is skipped, nothing
// changed.
func (r *run) notDue(rep *Report, names setNames, inv rotation.Inventory, due rotation.Schedule, sched schedule) *Report {
	r.log.Infof("Not due: %s. Nothing was changed.", due.Reason)
	for _, s := range inv.Sets {
		if s.MayHoldKey() {
			r.log.Warningf("%s could not be read from SORACOM's list (%s): whether it holds a key of IAM user %s is unknown; look at it in the SORACOM console",
				capitalize(s.Name()), s.Unreadable, r.cfg.IAMUserName)
		}
	}
	if due.OtherActive != "" && r.cfg.OldKey != rotation.Keep {
		r.log.Warningf("IAM user %s also has the active access key %s, which no credential set holds (left by an interrupted rotation?): "+
			"deactivate it if nothing else uses it", r.cfg.IAMUserName, untrusted.Text(due.OtherActive))
	}
	for _, name := range inv.DueTargets(names.all(r.cfg.CredentialIDs, r.cfg.Coverages)) {
		coverage, id := names.split(name)
		rep.add(coverage, id, rotation.AWSCredentials, "skipped", time.Time{})
	}
	rep.AWSAccessKeyID = due.HeldKey
	rep.Rotation = &RotationReport{Schedule: sched}
	return rep
}

// capitalize starts a sentence with a name ("credential set x", "the credential set at…").
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
