// Package rotation replaces the AWS access key behind SORACOM credential sets without
// leaving any consumer on a key that does not work.
//
// The algorithm (create the second key, wait until it works, move every set to it,
// then retire the old key) and what each failure leaves behind are those of
// docs/rotation.md. Every error is an *Error that states the end state and the step a
// person should take; every failure leaves either the starting state or a state in
// which every set holds an active key, and a write whose outcome is unknown is never
// undone.
//
// The package is pure: it knows neither the SORACOM client nor the AWS SDK. It works
// over the small Keys and Sets interfaces below and its own types for keys and sets;
// the action layer adapts IAM and SORACOM to them.
package rotation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// KeyStatus is an access key's status in IAM.
type KeyStatus string

// The two statuses IAM knows.
const (
	Active   KeyStatus = "Active"
	Inactive KeyStatus = "Inactive"
)

// Key is an existing access key of the IAM user. Its id is printable: only a key this
// run creates is masked (see NewKey).
type Key struct {
	ID      string
	Status  KeyStatus
	Created time.Time
}

// NewKey is a key this run created, with the secret IAM shows only once. Its id is
// masked in the log too (it is half of a credential); messages name it by ShortID.
type NewKey struct {
	ID      string
	Secret  secret.Secret
	Created time.Time // zero when IAM did not say
}

// Identity is the AWS identity a new key signs as.
type Identity struct {
	Account string // 12 digits; empty when unknown
	// Unknown, when not nil, says why the key's account is unknown though the key
	// works: its adapter found STS's answer malformed.
	Unknown error
}

// Keys is one IAM user's access keys.
type Keys interface {
	// List returns the user's keys.
	List(ctx context.Context) ([]Key, error)
	// Create creates a key; its id and secret are masked already. A failure should
	// say with an *OutcomeError whether IAM may have created the key all the same.
	Create(ctx context.Context) (NewKey, error)
	// WaitUntilWorks returns once AWS accepts the key, or fails after a bounded wait.
	WaitUntilWorks(ctx context.Context, key NewKey) (Identity, error)
	Deactivate(ctx context.Context, id string) error
	Delete(ctx context.Context, id string) error
}

// AWSCredentials is the type of the credential sets that hold an AWS access key.
const AWSCredentials = "aws-credentials"

// Set is a SORACOM credential set as the rotation sees it.
type Set struct {
	ID          string
	Type        string // e.g. aws-credentials
	AccessKeyID string // for aws-credentials sets: the key it holds
	// Unreadable, when not empty, says what of the set's list entry could not be read
	// ("its lastUsedDateTime"): nothing else of it is known (ID and Type may be empty),
	// so it is never written, and it may hold any key. Entry is its place in the list,
	// from 1, to name it when its id could not be read.
	Unreadable string
	Entry      int
}

// Name is how messages name the set.
func (s Set) Name() string {
	if s.ID != "" {
		return "credential set " + s.ID
	}
	return fmt.Sprintf("the credential set at entry %d of SORACOM's list", s.Entry)
}

// MayHoldKey reports whether the set could not be read and may be an aws-credentials
// set (its type says so, or could not be read either).
func (s Set) MayHoldKey() bool {
	return s.Unreadable != "" && (s.Type == AWSCredentials || s.Type == "")
}

// Sets is the SORACOM operator's credential sets.
type Sets interface {
	// List returns every credential set.
	List(ctx context.Context) ([]Set, error)
	// Store puts key into the aws-credentials set id, creating the set if it does not
	// exist, and returns the set's new update time. A failure should say with an
	// *OutcomeError whether the write may still land.
	Store(ctx context.Context, id string, key NewKey) (updatedAt time.Time, err error)
}

// Outcome is what a request that failed may have done on the server.
type Outcome int

// The outcomes of a failed request.
const (
	// InDoubt: the request was sent and got no answer (cancelled in flight, timed out,
	// connection lost, a gateway error): it may take effect now or later. The zero
	// value, so that an error that says nothing is taken for the worst case.
	InDoubt Outcome = iota
	// Answered: the server answered the last attempt; whatever the request did is
	// visible now, so listing tells whether it took effect.
	Answered
	// NotSent: the request never left the runner; nothing happened.
	NotSent
)

// OutcomeError is a failed request that says what it may have done.
type OutcomeError struct {
	Outcome Outcome
	Err     error
}

func (e *OutcomeError) Error() string { return e.Err.Error() }
func (e *OutcomeError) Unwrap() error { return e.Err }

// OutcomeOf tells what a failed request may have done: InDoubt unless err says
// otherwise with an *OutcomeError.
func OutcomeOf(err error) Outcome {
	var e *OutcomeError
	if errors.As(err, &e) {
		return e.Outcome
	}
	return InDoubt
}

// OldKeyPolicy says what happens to the replaced key once every set holds the new one.
type OldKeyPolicy string

// The old-key policies. The zero value means Deactivate.
const (
	// Deactivate the old key: it stops working but can be reactivated if a consumer
	// was missed; the next rotation deletes it.
	Deactivate OldKeyPolicy = "deactivate"
	// Delete the old key at once.
	Delete OldKeyPolicy = "delete"
	// Keep the old key active, for consumers outside SORACOM that still use it.
	Keep OldKeyPolicy = "keep"
)

func (p OldKeyPolicy) orDefault() OldKeyPolicy {
	if p == "" {
		return Deactivate
	}
	return p
}

const (
	nothingChanged = "Nothing was changed."
	runAgain       = "Fix the cause, then run the workflow again."
)

// Error is a failed rotation: which step failed, why, the state it left, and what a
// person should do.
type Error struct {
	// Resumable is true when the failure left the starting state, so running the
	// workflow again is the way on; then the cause's own advice applies too.
	Resumable bool
	Step      string // what was being done
	Err       error
	State     string // the end state, exactly
	Next      string // the step a person should take
}

// Error says what failed, the state and the next step on lines of their own: a log caps
// each line, and a rotation of many sets has a long state, which must not cut what
// failed or what to do out of the middle of one line.
func (e *Error) Error() string {
	// AWS messages end with a period of their own.
	return fmt.Sprintf("rotation failed: could not %s: %s.\n%s\n%s", e.Step, strings.TrimSuffix(e.Err.Error(), "."), e.State, e.Next)
}

func (e *Error) Unwrap() error { return e.Err }

// Hint is the cause's advice (say, the SAM permission to grant) when the failure left
// the starting state; otherwise nothing, as Next says what to do.
func (e *Error) Hint() string {
	var h interface{ Hint() string }
	if e.Resumable && errors.As(e.Err, &h) {
		return h.Hint()
	}
	return ""
}
