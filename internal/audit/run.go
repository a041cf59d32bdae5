package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsid"
)

// Keys is the read-only view of AWS the IAM checks need. Errors carry AWS's error code
// through an ErrorCode method (as the SDK's do): NoSuchEntity and AccessDenied are told
// apart from failures; throttling and 5xx are retried by the implementation, and what
// still fails leaves the key unknown.
type Keys interface {
	// CallerAccount is the account of the credentials (sts:GetCallerIdentity): the
	// audited account.
	CallerAccount(ctx context.Context) (string, error)
	// AccessKeyAccount is the account a key belongs to (sts:GetAccessKeyInfo).
	AccessKeyAccount(ctx context.Context, keyID string) (string, error)
	// AccessKeyLastUsed is the key's user and last use (iam:GetAccessKeyLastUsed).
	AccessKeyLastUsed(ctx context.Context, keyID string) (LastUse, error)
	// ListAccessKeys lists a user's keys (iam:ListAccessKeys).
	ListAccessKeys(ctx context.Context, user string) ([]Key, error)
}

// LastUse is IAM's answer to GetAccessKeyLastUsed.
type LastUse struct {
	User string
	// Date is zero for a key never used; Service and Region are then "N/A".
	Date    time.Time
	Service string
	Region  string
}

// Key is an access key as ListAccessKeys shows it.
type Key struct {
	ID      string
	Status  string // Active or Inactive
	Created time.Time
}

// Input is what an audit looks at.
type Input struct {
	// Sets are the sets to audit.
	Sets []Set
	// All are every set of the operator (a superset of Sets): a key is shared or an
	// orphan according to all of them, audited or not.
	All []Set
	// Keys reads AWS; nil skips the IAM checks, for the reason in NoKeys.
	Keys   Keys
	NoKeys string
	// Usage is, by coverage, what the groups and event handlers say about the sets;
	// nil skips the reference checks (and every row's usage is unknown).
	Usage map[string]*Usage
	// Named are the ids credential-id names: a dangling reference is reported for
	// these only. Empty: the audit covers every set, and every dangling reference.
	Named []string
	// Scope is the coverage of findings about no one coverage (an orphan key): the
	// coverage audited, or "both".
	Scope string
	// Unaudited are the coverages of the run that could not be audited at all (the
	// AuthKey refused, the endpoint out of reach, the sets not listed): each is one
	// coverage-unaudited finding, and a key no audited set holds may be held by a set
	// there, which an orphan-key finding says.
	Unaudited []Unaudited
}

// Unaudited is a coverage the audit could not look at, and why.
type Unaudited struct {
	Coverage string
	// Reason is the failure, for the message (rendered through the log's untrusted
	// path like every message).
	Reason string
}

// Run audits the sets. It changes nothing anywhere. It fails only when ctx ends; every
// other problem is part of the report.
func Run(ctx context.Context, in Input, p Policy) (*Report, error) {
	if p.Concurrency <= 0 {
		p.Concurrency = DefaultConcurrency
	}
	holders := map[string][]string{}
	several := severalCoverages(in.All)
	for _, s := range in.All {
		if s.Type == AWSCredentials && s.AccessKeyID != "" && len(s.Unreadable) == 0 {
			holders[s.AccessKeyID] = append(holders[s.AccessKeyID], s.label(several))
		}
	}
	rep := &Report{}
	for _, s := range in.Sets {
		if len(s.Unreadable) > 0 {
			rep.Rows = append(rep.Rows, Row{Set: s, Findings: []Finding{malformed(s)}})
			continue
		}
		row := Row{Set: s, Findings: setFindings(s, s.label(several), holders, p)}
		if s.Type == AWSCredentials && s.AccessKeyID != "" {
			row.Key = &KeyFacts{ID: s.AccessKeyID, Status: StatusUnknown}
			if isTemporary(s.AccessKeyID) {
				row.Key.Status = StatusTemporary
			}
		}
		rep.Rows = append(rep.Rows, row)
	}
	if in.Keys == nil {
		rep.IAMSkipped = in.NoKeys
		if rep.IAMSkipped == "" {
			rep.IAMSkipped = "no AWS credentials"
		}
	} else if err := checkKeys(ctx, in, p, holders, rep, unreadableHolders(in.All)+unauditedHolders(in.Unaudited)); err != nil {
		return nil, err
	}
	newUsage(in, p).check(rep)
	rep.General = append(rep.General, unauditedFindings(in.Unaudited)...)
	fillUsedBy(rep, in.Scope)
	sortRows(rep.Rows)
	return rep, nil
}

// severalCoverages reports whether the sets are on more than one coverage: messages
// then name each set's coverage.
func severalCoverages(all []Set) bool {
	for _, s := range all {
		if s.Coverage != all[0].Coverage {
			return true
		}
	}
	return false
}

// label names a set among others: its id, and its coverage when there are several.
func (s Set) label(several bool) string {
	if several && s.Coverage != "" {
		return s.ID + " (" + s.Coverage + ")"
	}
	return s.ID
}

// reads are the answers AWS gave, by key id and user.
type reads struct {
	caller    string
	uses      map[string]LastUse
	useErrs   map[string]error
	accounts  map[string]string
	acctErrs  map[string]error
	lists     map[string][]Key
	listErrs  map[string]error
	anyUse    bool // some GetAccessKeyLastUsed succeeded: the permission is there
	anyList   bool
	anyAcct   bool
	deniedUse bool
	// mayHold ends an orphan key's message when sets that could not be read may hold it.
	mayHold string
}

// checkKeys asks AWS about every distinct key once, then every distinct user once, and
// adds what it learns to the rows.
func checkKeys(ctx context.Context, in Input, p Policy, holders map[string][]string, rep *Report, mayHold string) error {
	var ids []string
	seen := map[string]bool{}
	for _, s := range in.Sets {
		if s.Type == AWSCredentials && s.AccessKeyID != "" && !isTemporary(s.AccessKeyID) && !seen[s.AccessKeyID] {
			seen[s.AccessKeyID] = true
			ids = append(ids, s.AccessKeyID)
		}
	}
	if len(ids) == 0 && p.IAMUser == "" {
		return nil
	}
	r, err := read(ctx, in.Keys, ids, p)
	if err != nil {
		rep.IAMSkipped = err.Error()
		return ctx.Err()
	}
	rep.Account, r.mayHold = r.caller, mayHold
	rep.Denied = r.denied()
	for i := range rep.Rows {
		if k := rep.Rows[i].Key; k != nil && k.Status != StatusTemporary {
			rep.Rows[i].Findings = append(rep.Rows[i].Findings, r.judge(rep.Rows[i].Set, k, p)...)
		}
	}
	if p.IAMUser != "" {
		rep.Rows = append(rep.Rows, r.orphans(p, holders, rep)...)
	}
	return nil
}

// read makes the calls: the caller's account and each key's last use together, then the
// account of each key IAM did not know, then each user's keys.
func read(ctx context.Context, keys Keys, ids []string, p Policy) (*reads, error) {
	r := &reads{uses: map[string]LastUse{}, useErrs: map[string]error{}, accounts: map[string]string{},
		acctErrs: map[string]error{}, lists: map[string][]Key{}, listErrs: map[string]error{}}
	var mu sync.Mutex
	var callerErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.caller, callerErr = keys.CallerAccount(ctx)
	}()
	parallel(ctx, p.Concurrency, ids, func(id string) {
		use, err := keys.AccessKeyLastUsed(ctx, id)
		mu.Lock()
		defer mu.Unlock()
		r.record(id, use, err)
	})
	<-done
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if callerErr != nil {
		return nil, fmt.Errorf("the AWS credentials do not work (sts:GetCallerIdentity: %w)", callerErr)
	}
	if !awsid.AccountID(r.caller) {
		return nil, errors.New("sts:GetCallerIdentity answered an account that is not " + awsid.AccountIDFormat)
	}
	var unknown []string
	for _, id := range ids {
		if err := r.useErrs[id]; isDenied(err) || isNoSuchEntity(err) {
			unknown = append(unknown, id)
		}
	}
	parallel(ctx, p.Concurrency, unknown, func(id string) {
		acct, err := keys.AccessKeyAccount(ctx, id)
		mu.Lock()
		defer mu.Unlock()
		r.accounts[id], r.acctErrs[id] = acct, err
		r.anyAcct = r.anyAcct || err == nil
	})
	parallel(ctx, p.Concurrency, r.users(ids, p.IAMUser), func(user string) {
		list, err := keys.ListAccessKeys(ctx, user)
		mu.Lock()
		defer mu.Unlock()
		r.lists[user], r.listErrs[user] = list, err
		r.anyList = r.anyList || err == nil
	})
	return r, ctx.Err()
}

func (r *reads) record(id string, use LastUse, err error) {
	if err != nil {
		r.useErrs[id] = err
		r.deniedUse = r.deniedUse || isDenied(err)
		return
	}
	r.uses[id] = use
	r.anyUse = true
}

// users are the distinct users of the keys IAM knew, and the user of iam-user-name.
func (r *reads) users(ids []string, iamUser string) []string {
	var users []string
	if iamUser != "" {
		users = append(users, iamUser)
	}
	for _, id := range ids {
		if u, ok := r.uses[id]; ok && u.User != "" && !slices.Contains(users, u.User) {
			users = append(users, u.User)
		}
	}
	return users
}

// parallel calls f for every item, at most n at a time, and returns when all are done
// (or ctx ended before the rest started).
func parallel[T any](ctx context.Context, n int, items []T, f func(T)) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(it)
		}()
	}
	wg.Wait()
}

// malformed is the one finding of a set whose list entry could not be read: it names
// the set (by id, or by its place in the list) and the fields, never their values.
func malformed(s Set) Finding {
	fields := strings.Join(s.Unreadable, ", ")
	return Finding{CredentialID: s.ID, Type: s.Type, Check: MalformedSet, Severity: Warning, Field: fields, Entry: s.Entry,
		Message: fmt.Sprintf("%s cannot be read: %s not what SORACOM sends, so the set was not checked; "+
			"look at it in the SORACOM console or API, and if it looks right there, something between the runner and SORACOM changes the answers",
			entryOf(s), fieldsAre(s.Unreadable))}
}

// entryOf names a set's entry in SORACOM's list answer.
func entryOf(s Set) string {
	if s.ID == "" {
		return fmt.Sprintf("Entry %d of SORACOM's list answer (a set whose id is unknown)", s.Entry)
	}
	return fmt.Sprintf("SORACOM's list answer for credential set %s (entry %d)", s.ID, s.Entry)
}

// fieldsAre reads "its field x is" or "its fields x, y are"; the entry as a whole "it is".
func fieldsAre(fields []string) string {
	switch {
	case len(fields) == 1 && fields[0] == "entry":
		return "it is"
	case len(fields) == 1:
		return "its field " + fields[0] + " is"
	}
	return "its fields " + strings.Join(fields, ", ") + " are"
}

// unreadableHolders names the sets that could not be read and may hold an AWS key, for
// the advice about an orphan key: "deactivate it" would break such a set if it held it.
func unreadableHolders(all []Set) string {
	var names []string
	for _, s := range all {
		if s.mayHoldAWSKey() {
			names = append(names, s.Name())
		}
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("; but sets whose entry in SORACOM's list could not be read may hold it (%s): check them first", othersNamed("", names))
}

// unauditedHolders ends an orphan key's message when a coverage could not be audited:
// its sets may hold the key.
func unauditedHolders(unaudited []Unaudited) string {
	if len(unaudited) == 0 {
		return ""
	}
	names := make([]string, len(unaudited))
	for i, u := range unaudited {
		names[i] = u.Coverage
	}
	return fmt.Sprintf("; but coverage %s could not be audited and its sets may hold it: check them first", strings.Join(names, " and "))
}

// unauditedFindings are the coverage-unaudited findings: one per coverage the audit
// could not look at. Its sets, groups and event handlers are unknown, not healthy.
func unauditedFindings(unaudited []Unaudited) []Finding {
	out := make([]Finding, 0, len(unaudited))
	for _, u := range unaudited {
		out = append(out, Finding{Check: CoverageUnaudited, Severity: Unknown, Coverage: u.Coverage,
			Message: fmt.Sprintf("the coverage could not be audited (%s): none of its credential sets, groups or event handlers was checked, "+
				"so the report is incomplete: it covers the other coverage only. Fix the cause and run the audit again", u.Reason)})
	}
	return out
}
