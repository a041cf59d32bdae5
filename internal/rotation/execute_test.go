package rotation_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/rotation"
)

var (
	active       = []rotation.Key{key("k0", rotation.Active, 100)}
	twoSetsOnK0  = []rotation.Set{awsSet("cs-a", "k0"), awsSet("cs-b", "k0"), awsSet("other", "AKIAFOREIGN")}
	answered     = func(err error) fault { return fault{err: err, outcome: rotation.Answered} }
	cancelled    = fault{cancel: true, outcome: rotation.InDoubt, late: true}       // SIGTERM while the request is in flight; it lands later
	cancelledOut = fault{cancel: true, outcome: rotation.NotSent}                   // SIGTERM before the request left
	sigtermAfter = fault{cancel: true, pass: true}                                  // SIGTERM just after the step succeeded
	noAnswer     = fault{err: errors.New("i/o timeout"), outcome: rotation.InDoubt} // no answer, not cancelled
)

// The failures of docs/rotation.md, with a cancellation (SIGTERM) and an
// unanswered request at every step: the end state of IAM and SORACOM once every request
// still in flight has landed, what the Result says, and what the error says.
func TestExecute(t *testing.T) {
	tests := []executeCase{
		{
			name: "success: the named set and every set on the old key move, then the old key is deactivated",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-b"},
			wantKeys: "k0:Inactive new1:Active", wantSets: "cs-a=new1 cs-b=new1 other=AKIAFOREIGN",
			wantUpdated: []string{"cs-b", "cs-a"}, wantOldKey: rotation.OldKeyDeactivated,
		},
		{
			name: "old-key delete deletes the old key",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"}, old: rotation.Delete,
			wantKeys: "new1:Active", wantSets: "cs-a=new1 cs-b=new1 other=AKIAFOREIGN",
			wantUpdated: []string{"cs-a", "cs-b"}, wantOldKey: rotation.OldKeyDeleted,
		},
		{
			name: "old-key keep leaves the old key active",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"}, old: rotation.Keep,
			wantKeys: "k0:Active new1:Active", wantSets: "cs-a=new1 cs-b=new1 other=AKIAFOREIGN",
			wantUpdated: []string{"cs-a", "cs-b"}, wantOldKey: rotation.OldKeyKept,
		},
		{
			name:  "an inactive key left by an earlier rotation is deleted first to make room",
			keys:  []rotation.Key{key("k0", rotation.Inactive, 200), key("k1", rotation.Active, 100)},
			sets:  []rotation.Set{awsSet("cs-a", "k1")},
			named: []string{"cs-a"}, wantKeys: "k1:Inactive new1:Active", wantSets: "cs-a=new1",
			wantUpdated: []string{"cs-a"}, wantOldKey: rotation.OldKeyDeactivated,
		},
		{
			name: "a set that could not be read may hold the old key: the new key goes everywhere else, the old key stays active, the run fails naming the set",
			keys: active, sets: append(slices.Clone(twoSetsOnK0), rotation.Set{ID: "odd", Type: rotation.AWSCredentials, Unreadable: "its lastUsedDateTime", Entry: 3}),
			named: []string{"cs-a"}, wantKeys: "k0:Active new1:Active", wantSets: "cs-a=new1 cs-b=new1 odd= other=AKIAFOREIGN",
			wantUpdated: []string{"cs-a", "cs-b"}, wantOldKey: rotation.OldKeyStillActive, notResumable: true,
			wantErr: []string{"credential set odd (its lastUsedDateTime) could not be read", "the old key k0 stays active", "holds the new key"},
		},
		{
			name: "a set whose id and type could not be read is named by its place, and keeps the old key active too",
			keys: active, sets: append(slices.Clone(twoSetsOnK0), rotation.Set{Unreadable: "its credentialsId, type", Entry: 2}),
			named: []string{"cs-a"}, old: rotation.Delete, wantKeys: "k0:Active new1:Active", wantSets: "= cs-a=new1 cs-b=new1 other=AKIAFOREIGN",
			wantUpdated: []string{"cs-a", "cs-b"}, wantOldKey: rotation.OldKeyStillActive, notResumable: true,
			wantErr: []string{"the credential set at entry 2 of SORACOM's list (its credentialsId, type) could not be read", "stays active"},
		},
		{
			name: "a named set that could not be read is never written",
			keys: active, sets: []rotation.Set{awsSet("cs-a", "k0"), {ID: "odd", Type: rotation.AWSCredentials, Unreadable: "its credentials.accessKeyId", Entry: 2}},
			named: []string{"odd"}, wantKeys: "k0:Active new1:Active", wantSets: "cs-a=new1 odd=",
			wantUpdated: []string{"cs-a"}, wantOldKey: rotation.OldKeyStillActive, notResumable: true,
			wantErr: []string{"credential set odd (its credentials.accessKeyId) could not be read"},
		},
		{
			name: "a set of another type that could not be read holds no AWS key: the rotation completes",
			keys: active, sets: append(slices.Clone(twoSetsOnK0), rotation.Set{ID: "p", Type: "psk", Unreadable: "its lastUsedDateTime"}),
			named: []string{"cs-a"}, wantKeys: "k0:Inactive new1:Active", wantSets: "cs-a=new1 cs-b=new1 other=AKIAFOREIGN p=",
			wantUpdated: []string{"cs-a", "cs-b"}, wantOldKey: rotation.OldKeyDeactivated,
		},
		{
			name: "only a set that could not be read to write: nothing is created",
			keys: active, sets: []rotation.Set{{ID: "odd", Type: rotation.AWSCredentials, Unreadable: "its type", Entry: 1}},
			named: []string{"odd"}, wantKeys: "k0:Active", wantSets: "odd=", wantOldKey: "", wantNoCreate: true,
			wantErr: []string{"no credential set to update could be read", "credential set odd (its type)", "Nothing was changed"},
		},
		{
			name:  "a user with no key gets one, stored in the named set, which is created",
			named: []string{"fresh"}, wantKeys: "new1:Active", wantSets: "fresh=new1",
			wantUpdated: []string{"fresh"}, wantOldKey: rotation.OldKeyNone,
		},
		{
			name:  "a user with one inactive key keeps it, and the sets on the dead key move too",
			keys:  []rotation.Key{key("k0", rotation.Inactive, 100)},
			sets:  []rotation.Set{awsSet("stale", "k0")},
			named: []string{"cs-a"}, wantKeys: "k0:Inactive new1:Active", wantSets: "cs-a=new1 stale=new1",
			wantUpdated: []string{"cs-a", "stale"}, wantOldKey: rotation.OldKeyNone,
		},

		// Deleting the inactive key.
		{
			name:     "deleting the inactive key refused: nothing changed",
			keys:     []rotation.Key{key("k0", rotation.Inactive, 200), key("k1", rotation.Active, 100)},
			sets:     []rotation.Set{awsSet("cs-a", "k1")},
			named:    []string{"cs-a"},
			faults:   map[string]fault{"Delete k0": answered(errors.New("AccessDenied"))},
			wantErr:  []string{"could not delete the inactive access key k0: AccessDenied", "Nothing was changed."},
			wantKeys: "k0:Inactive k1:Active", wantSets: "cs-a=k1", wantNotUpdated: []string{"cs-a"},
			wantOldKey: rotation.OldKeyStillActive, wantNoCreate: true,
		},
		{
			name:     "SIGTERM while deleting the inactive key: the error says it may be deleted, nothing else changed",
			keys:     []rotation.Key{key("k0", rotation.Inactive, 200), key("k1", rotation.Active, 100)},
			sets:     []rotation.Set{awsSet("cs-a", "k1")},
			named:    []string{"cs-a"},
			faults:   map[string]fault{"Delete k0": cancelled},
			wantErr:  []string{"context canceled", "Nothing else was changed, but the inactive access key k0 may have been deleted"},
			wantKeys: "k1:Active", wantSets: "cs-a=k1", wantNotUpdated: []string{"cs-a"},
			wantOldKey: rotation.OldKeyStillActive, wantNoCreate: true,
		},
		{
			name:   "SIGTERM after the inactive key was deleted: no key is created",
			keys:   []rotation.Key{key("k0", rotation.Inactive, 200), key("k1", rotation.Active, 100)},
			sets:   []rotation.Set{awsSet("cs-a", "k1")},
			named:  []string{"cs-a"},
			faults: map[string]fault{"Delete k0": sigtermAfter},
			wantErr: []string{"could not create a new access key: context canceled",
				"The inactive access key k0 was deleted; every credential set still holds what it held before (cs-a on key k1)."},
			wantKeys: "k1:Active", wantSets: "cs-a=k1", wantNotUpdated: []string{"cs-a"},
			wantOldKey: rotation.OldKeyStillActive, wantNoCreate: true,
		},

		// Creating the key.
		{
			name: "CreateAccessKey refused: nothing changed",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults: map[string]fault{"Create": answered(errors.New("AccessDenied"))},
			wantErr: []string{"could not create a new access key: AccessDenied",
				"Every credential set still holds what it held before (cs-a, cs-b on key k0).", "run the workflow again"},
			wantKeys: "k0:Active", wantSets: "cs-a=k0 cs-b=k0 other=AKIAFOREIGN", wantNotUpdated: []string{"cs-a", "cs-b"},
			wantOldKey: rotation.OldKeyStillActive,
		},
		{
			name: "CreateAccessKey refused after an attempt that created a key all the same: that key is deleted",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults:   map[string]fault{"Create": {err: errors.New("ServiceFailure"), outcome: rotation.Answered, apply: true}},
			wantErr:  []string{"A key the failed request created all the same (…new1) was deleted."},
			wantKeys: "k0:Active", wantSets: "cs-a=k0 cs-b=k0 other=AKIAFOREIGN", wantNotUpdated: []string{"cs-a", "cs-b"},
			wantOldKey: rotation.OldKeyStillActive,
		},
		{
			name: "SIGTERM while CreateAccessKey is in flight: the key IAM makes afterwards is found and deleted",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults: map[string]fault{"Create": {cancel: true, outcome: rotation.InDoubt, late: true, lateLists: 2}},
			wantErr: []string{"could not create a new access key: context canceled", "A key the failed request created all the same (…new1) was deleted.",
				"The job was cancelled: run the workflow again to rotate."},
			wantKeys: "k0:Active", wantSets: "cs-a=k0 cs-b=k0 other=AKIAFOREIGN", wantNotUpdated: []string{"cs-a", "cs-b"},
			wantOldKey: rotation.OldKeyStillActive,
		},
		{
			name: "SIGTERM while CreateAccessKey is in flight and no key appears in the grace period: the error says what to look for",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults: map[string]fault{"Create": {cancel: true, outcome: rotation.InDoubt, late: true, lateLists: 1 << 30}},
			wantErr: []string{"No key made by the unanswered request appeared within",
				"if one appears later, it is the user's newest key and no set holds it: delete it"},
			wantKeys: "k0:Active new1:Active", wantSets: "cs-a=k0 cs-b=k0 other=AKIAFOREIGN", wantNotUpdated: []string{"cs-a", "cs-b"},
			wantOldKey: rotation.OldKeyStillActive,
		},
		{
			name: "SIGTERM before CreateAccessKey left: nothing to clean up",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults:   map[string]fault{"Create": cancelledOut},
			wantErr:  []string{"could not create a new access key: context canceled", "Every credential set still holds what it held before"},
			wantKeys: "k0:Active", wantSets: "cs-a=k0 cs-b=k0 other=AKIAFOREIGN", wantNotUpdated: []string{"cs-a", "cs-b"},
			wantOldKey: rotation.OldKeyStillActive,
		},

		// Waiting until the key works.
		{
			name: "the new key never works: it is deleted, nothing else changed",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults:   map[string]fault{"WaitUntilWorks": answered(errors.New("did not start working within 1m0s"))},
			wantErr:  []string{"could not wait until the new access key …new1 works", "The new access key …new1 was deleted; every credential set still holds what it held before"},
			wantKeys: "k0:Active", wantSets: "cs-a=k0 cs-b=k0 other=AKIAFOREIGN", wantNotUpdated: []string{"cs-a", "cs-b"},
			wantOldKey: rotation.OldKeyStillActive, wantNewDeleted: true,
		},
		{
			name: "SIGTERM after CreateAccessKey answered: the new key is deleted",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults:   map[string]fault{"Create": sigtermAfter},
			wantErr:  []string{"context canceled", "The new access key …new1 was deleted; every credential set still holds what it held before"},
			wantKeys: "k0:Active", wantSets: "cs-a=k0 cs-b=k0 other=AKIAFOREIGN", wantNotUpdated: []string{"cs-a", "cs-b"},
			wantOldKey: rotation.OldKeyStillActive, wantNewDeleted: true,
		},
		{
			name: "SIGTERM while waiting for the new key: it is deleted",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults:   map[string]fault{"WaitUntilWorks": {cancel: true}},
			wantErr:  []string{"context canceled", "The new access key …new1 was deleted"},
			wantKeys: "k0:Active", wantSets: "cs-a=k0 cs-b=k0 other=AKIAFOREIGN", wantNotUpdated: []string{"cs-a", "cs-b"},
			wantOldKey: rotation.OldKeyStillActive, wantNewDeleted: true,
		},
		{
			name: "a rollback that fails too says to delete the new key by hand",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults:       map[string]fault{"WaitUntilWorks": answered(errors.New("timeout")), "Delete new1": answered(errors.New("ServiceUnavailable"))},
			wantErr:      []string{"was not used, but deleting it failed", "delete it by hand", "Otherwise every credential set still holds"},
			notResumable: true,
			wantKeys:     "k0:Active new1:Active", wantSets: "cs-a=k0 cs-b=k0 other=AKIAFOREIGN", wantNotUpdated: []string{"cs-a", "cs-b"},
			wantOldKey: rotation.OldKeyStillActive,
		},

		// Storing the key in the sets.
		{
			name: "the first write refused: the new key is deleted, the state is as before",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults: map[string]fault{"Store cs-a": answered(errRefused)},
			wantErr: []string{"could not store the new key in credential set cs-a: SORACOM answered 403",
				"was deleted; every credential set still holds what it held before (cs-a, cs-b on key k0)"},
			wantKeys: "k0:Active", wantSets: "cs-a=k0 cs-b=k0 other=AKIAFOREIGN", wantNotUpdated: []string{"cs-a", "cs-b"},
			wantOldKey: rotation.OldKeyStillActive, wantNewDeleted: true,
		},
		{
			name: "the first write done but its answer lost: SORACOM shows the set on the new key, so the rotation goes on",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults:   map[string]fault{"Store cs-a": {err: errors.New("connection reset"), outcome: rotation.InDoubt, apply: true}},
			wantKeys: "k0:Inactive new1:Active", wantSets: "cs-a=new1 cs-b=new1 other=AKIAFOREIGN",
			wantUpdated: []string{"cs-a", "cs-b"}, wantOldKey: rotation.OldKeyDeactivated,
		},
		{
			name: "SIGTERM while the first write is in flight, and it lands afterwards: the new key is not deleted, the set is in doubt",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults: map[string]fault{"Store cs-a": cancelled},
			wantErr: []string{"could not store the new key in credential set cs-a: context canceled",
				"Both access keys are active, so every set works: on the new key …new1: none; still on the old key k0: cs-b",
				"in doubt: credential set cs-a (the write of the new key was sent but its outcome is unknown, so it holds either the new key or the old key k0)",
				"The new key was not deleted", "check which key cs-a holds", "Until then the next run changes nothing"},
			wantKeys: "k0:Active new1:Active", wantSets: "cs-a=new1 cs-b=k0 other=AKIAFOREIGN",
			wantInDoubt: []string{"cs-a"}, wantNotUpdated: []string{"cs-b"}, wantOldKey: rotation.OldKeyStillActive,
		},
		{
			name: "the first write unanswered (no cancellation): the same, the set is in doubt",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults:   map[string]fault{"Store cs-a": noAnswer},
			wantErr:  []string{"i/o timeout", "in doubt: credential set cs-a", "The new key was not deleted"},
			wantKeys: "k0:Active new1:Active", wantSets: "cs-a=k0 cs-b=k0 other=AKIAFOREIGN",
			wantInDoubt: []string{"cs-a"}, wantNotUpdated: []string{"cs-b"}, wantOldKey: rotation.OldKeyStillActive,
		},
		{
			name: "SIGTERM before the first write left: the new key is deleted",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults:   map[string]fault{"Store cs-a": cancelledOut},
			wantErr:  []string{"context canceled", "The new access key …new1 was deleted; every credential set still holds what it held before"},
			wantKeys: "k0:Active", wantSets: "cs-a=k0 cs-b=k0 other=AKIAFOREIGN", wantNotUpdated: []string{"cs-a", "cs-b"},
			wantOldKey: rotation.OldKeyStillActive, wantNewDeleted: true,
		},
		{
			name: "SIGTERM after WaitUntilWorks: no write is sent and the new key is deleted",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults:   map[string]fault{"WaitUntilWorks": sigtermAfter},
			wantErr:  []string{"could not store the new key in credential set cs-a: context canceled", "The new access key …new1 was deleted"},
			wantKeys: "k0:Active", wantSets: "cs-a=k0 cs-b=k0 other=AKIAFOREIGN", wantNotUpdated: []string{"cs-a", "cs-b"},
			wantOldKey: rotation.OldKeyStillActive, wantNewDeleted: true,
		},
		{
			name: "SIGTERM after the first write: the rest are not written, both keys stay active",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults: map[string]fault{"Store cs-a": sigtermAfter},
			wantErr: []string{"could not store the new key in credential set cs-b: context canceled",
				"Both access keys are active, so every set works: on the new key …new1: cs-a; still on the old key k0: cs-b."},
			wantKeys: "k0:Active new1:Active", wantSets: "cs-a=new1 cs-b=k0 other=AKIAFOREIGN",
			wantUpdated: []string{"cs-a"}, wantNotUpdated: []string{"cs-b"}, wantOldKey: rotation.OldKeyStillActive,
		},
		{
			name: "a later write refused: both keys stay active and the error lists the sets on each",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults: map[string]fault{"Store cs-b": answered(errRefused)},
			wantErr: []string{"could not store the new key in credential set cs-b",
				"Both access keys are active, so every set works: on the new key …new1: cs-a; still on the old key k0: cs-b.", "A person must finish: fix the cause"},
			wantKeys: "k0:Active new1:Active", wantSets: "cs-a=new1 cs-b=k0 other=AKIAFOREIGN",
			wantUpdated: []string{"cs-a"}, wantNotUpdated: []string{"cs-b"}, wantOldKey: rotation.OldKeyStillActive,
		},
		{
			name: "SIGTERM while a later write is in flight: that set is in doubt",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults:   map[string]fault{"Store cs-b": cancelled},
			wantErr:  []string{"on the new key …new1: cs-a; in doubt: credential set cs-b", "The new key was not deleted"},
			wantKeys: "k0:Active new1:Active", wantSets: "cs-a=new1 cs-b=new1 other=AKIAFOREIGN",
			wantUpdated: []string{"cs-a"}, wantInDoubt: []string{"cs-b"}, wantOldKey: rotation.OldKeyStillActive,
		},
		{
			name: "a refused write that SORACOM cannot be asked about is in doubt: the new key is kept",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults:   map[string]fault{"Store cs-a": answered(errRefused), "ListSets": answered(errors.New("503"))},
			wantErr:  []string{"in doubt: credential set cs-a", "The new key was not deleted"},
			wantKeys: "k0:Active new1:Active", wantSets: "cs-a=k0 cs-b=k0 other=AKIAFOREIGN",
			wantInDoubt: []string{"cs-a"}, wantNotUpdated: []string{"cs-b"}, wantOldKey: rotation.OldKeyStillActive,
		},
		{
			name:  "a later write failing names sets still on an inactive key this run deleted",
			keys:  []rotation.Key{key("k0", rotation.Inactive, 200), key("k1", rotation.Active, 100)},
			sets:  []rotation.Set{awsSet("cs-a", "k1"), awsSet("dead", "k0")},
			named: []string{"cs-a"}, faults: map[string]fault{"Store dead": answered(errRefused)},
			wantErr: []string{"Both access keys are active: on the new key …new1: cs-a",
				"still on the inactive key k0, which this run deleted (they did not work before either): dead"},
			wantKeys: "k1:Active new1:Active", wantSets: "cs-a=new1 dead=k0",
			wantUpdated: []string{"cs-a"}, wantNotUpdated: []string{"dead"}, wantOldKey: rotation.OldKeyStillActive,
		},

		// Retiring the old key.
		{
			name: "deactivating the old key refused: reported after the sets were updated",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults: map[string]fault{"Deactivate k0": answered(errors.New("AccessDenied"))},
			wantErr: []string{"could not deactivate the old access key k0: AccessDenied",
				"Every planned set (cs-a, cs-b) holds the new key …new1; the old key k0 is still active.", "Deactivate the old key k0 by hand"},
			wantKeys: "k0:Active new1:Active", wantSets: "cs-a=new1 cs-b=new1 other=AKIAFOREIGN",
			wantUpdated: []string{"cs-a", "cs-b"}, wantOldKey: rotation.OldKeyStillActive,
		},
		{
			name: "deleting the old key refused: reported after the sets were updated",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"}, old: rotation.Delete,
			faults:   map[string]fault{"Delete k0": answered(errors.New("AccessDenied"))},
			wantErr:  []string{"could not delete the old access key k0", "the old key k0 is still active", "Delete the old key k0 by hand"},
			wantKeys: "k0:Active new1:Active", wantSets: "cs-a=new1 cs-b=new1 other=AKIAFOREIGN",
			wantUpdated: []string{"cs-a", "cs-b"}, wantOldKey: rotation.OldKeyStillActive,
		},
		{
			name: "SIGTERM while deactivating the old key: its state is unknown, every set on the new key",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults:   map[string]fault{"Deactivate k0": cancelled},
			wantErr:  []string{"the old key k0 may be deactivated or still active (the request got no answer)"},
			wantKeys: "k0:Inactive new1:Active", wantSets: "cs-a=new1 cs-b=new1 other=AKIAFOREIGN",
			wantUpdated: []string{"cs-a", "cs-b"}, wantOldKey: rotation.OldKeyUnknown,
		},
		{
			name: "SIGTERM while deleting the old key (old-key: delete): its state is unknown, every set on the new key",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"}, old: rotation.Delete,
			faults:   map[string]fault{"Delete k0": cancelled},
			wantErr:  []string{"the old key k0 may be deleted or still active (the request got no answer)", "Delete the old key k0 by hand (IAM console, or aws iam) if it is still active"},
			wantKeys: "new1:Active", wantSets: "cs-a=new1 cs-b=new1 other=AKIAFOREIGN",
			wantUpdated: []string{"cs-a", "cs-b"}, wantOldKey: rotation.OldKeyUnknown,
		},
		{
			name: "SIGTERM after the last write: the old key is not retired, and the error says so",
			keys: active, sets: twoSetsOnK0, named: []string{"cs-a"},
			faults:   map[string]fault{"Store cs-b": sigtermAfter},
			wantErr:  []string{"could not deactivate the old access key k0: context canceled", "the old key k0 is still active"},
			wantKeys: "k0:Active new1:Active", wantSets: "cs-a=new1 cs-b=new1 other=AKIAFOREIGN",
			wantUpdated: []string{"cs-a", "cs-b"}, wantOldKey: rotation.OldKeyStillActive,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(tt.keys, tt.sets...)
			w.faults = tt.faults
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w.cancel = cancel
			res, err := run(ctx, w, tt.named, rotation.Options{OldKey: tt.old, Grace: 200 * time.Millisecond, PollEvery: time.Millisecond})
			w.settle()
			t.Logf("error: %v", err)
			checkErr(t, err, tt.wantErr)
			tt.check(t, w, res, err)
		})
	}
}

// executeCase is a row of TestExecute.
type executeCase struct {
	name   string
	keys   []rotation.Key
	sets   []rotation.Set
	named  []string
	old    rotation.OldKeyPolicy
	faults map[string]fault

	wantErr        []string // substrings of the error; none means success
	wantKeys       string   // after everything in flight landed
	wantSets       string
	wantUpdated    []string
	wantInDoubt    []string
	wantNotUpdated []string
	wantOldKey     string
	wantNewDeleted bool
	wantNoCreate   bool
	notResumable   bool // the failure left something for a person to clean up
}

// check compares the end state and the Result with the row's.
func (tt executeCase) check(t *testing.T, w *world, res rotation.Result, err error) {
	t.Helper()
	if got := w.keyState(); got != tt.wantKeys {
		t.Errorf("IAM keys = %q, want %q", got, tt.wantKeys)
	}
	if got := w.setState(); got != tt.wantSets {
		t.Errorf("sets = %q, want %q", got, tt.wantSets)
	}
	sameIDs(t, "updated", res.UpdatedIDs(), tt.wantUpdated)
	sameIDs(t, "in doubt", res.InDoubt, tt.wantInDoubt)
	sameIDs(t, "not updated", res.NotUpdated, tt.wantNotUpdated)
	if res.OldKeyAction != tt.wantOldKey || res.NewKeyDeleted != tt.wantNewDeleted {
		t.Errorf("old key %q, new key deleted %v; want %q, %v", res.OldKeyAction, res.NewKeyDeleted, tt.wantOldKey, tt.wantNewDeleted)
	}
	if want := len(tt.wantUpdated) > 0 && tt.wantNotUpdated == nil && tt.wantInDoubt == nil; res.Rotated() != want {
		t.Errorf("Rotated() = %v, want %v", res.Rotated(), want)
	}
	if created := slices.Contains(w.calls, "Create"); created == tt.wantNoCreate {
		t.Errorf("CreateAccessKey called: %v", created)
	}
	var rerr *rotation.Error
	if errors.As(err, &rerr) && len(tt.wantUpdated)+len(tt.wantInDoubt) == 0 && rerr.Resumable == tt.notResumable {
		t.Errorf("Resumable = %v after a failure that left the starting state (or not)", rerr.Resumable)
	}
	if err == nil && res.Account != "123456789012" {
		t.Errorf("account = %q", res.Account)
	}
}

func sameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) && len(got)+len(want) > 0 {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func run(ctx context.Context, w *world, named []string, opt rotation.Options) (rotation.Result, error) {
	inv, err := rotation.Survey(ctx, keysFake{w}, setsFake{w})
	if err != nil {
		return rotation.Result{}, err
	}
	plan, err := inv.Plan(named)
	if err != nil {
		return rotation.Result{}, err
	}
	return rotation.Execute(ctx, keysFake{w}, setsFake{w}, plan, opt)
}

func checkErr(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var rerr *rotation.Error
	if !errors.As(err, &rerr) {
		t.Fatalf("err = %v, want a *rotation.Error", err)
	}
	for _, s := range want {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%s", s, err)
		}
	}
	if strings.Contains(err.Error(), "secret-of-") {
		t.Errorf("error reveals a secret key:\n%s", err)
	}
}

func TestExecuteCallsNothingAfterAStoreWasCancelledBeforeItLeft(t *testing.T) {
	w := newWorld(active, twoSetsOnK0...)
	w.faults = map[string]fault{"Store cs-a": cancelledOut}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.cancel = cancel
	if _, err := run(ctx, w, []string{"cs-a"}, rotation.Options{Grace: time.Second}); err == nil {
		t.Fatal("no error")
	}
	// The rollback is the only call after the cancelled write: no list of the sets (the
	// write never left) and no other write.
	i := slices.Index(w.calls, "Store cs-a")
	if got := w.calls[i+1:]; !slices.Equal(got, []string{"Delete new1"}) {
		t.Errorf("calls after the cancelled write = %v", got)
	}
}

func TestExecuteRefusesAPlanNotMadeByPlan(t *testing.T) {
	w := newWorld(active)
	if _, err := rotation.Execute(context.Background(), keysFake{w}, setsFake{w}, rotation.Plan{}, rotation.Options{}); err == nil {
		t.Fatal("no error")
	}
}
