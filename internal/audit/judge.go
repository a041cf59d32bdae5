package audit

import (
	"fmt"
	"slices"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsid"
)

// judge turns AWS's answers about a set's key into findings, and fills in the facts the
// table shows.
//
// A key is key-missing only on a positive answer that it does not exist: IAM said
// NoSuchEntity for it and sts:GetAccessKeyInfo puts it in the audited account, or its
// user, listed, does not have it. AccessDenied is what a missing permission looks like,
// and also what a policy narrowed to some users (Resource user/soracom-*) answers for
// another user's key, so a denied lookup leaves the key unknown, naming the permission
// and the policy statement that grants it; so does anything IAM could not answer.
func (r *reads) judge(s Set, k *KeyFacts, p Policy) []Finding {
	out := r.judgeKey(k, p)
	for i := range out {
		f := &out[i]
		f.CredentialID, f.Type, f.AccessKeyID, f.UserName = s.ID, s.Type, k.ID, k.User
		if age, ok := knownAge(k.Created, p.Now); ok {
			f.AgeDays = ageDays(age)
		}
		if k.LastUsedKnown && !k.LastUsed.IsZero() {
			f.LastUsed = rfc3339(k.LastUsed)
		}
	}
	return out
}

func (r *reads) judgeKey(k *KeyFacts, p Policy) []Finding {
	id := k.ID
	if use, ok := r.uses[id]; ok {
		k.User, k.Account = use.User, r.caller
		k.LastUsed, k.LastUsedService, k.LastUsedKnown = use.Date, use.Service, true
		if use.User == "" {
			// No user to list: the status and age cannot be read (an account's root key?).
			return unknown(k, "", "IAM names no user for access key %s, so its status and age cannot be read; "+
				"if it is the account root user's key, replace it with an IAM user's key", Last4(id))
		}
		return r.judgeListed(k, p)
	}
	if user, key, ok := r.listed(id); ok {
		// GetAccessKeyLastUsed failed, but the key is among a listed user's keys.
		k.User, k.Account = user, r.caller
		return keyState(k, key, p)
	}
	err := r.useErrs[id]
	if !isDenied(err) && !isNoSuchEntity(err) {
		return unknown(k, "", "IAM did not answer for access key %s (%v); run the audit again later", Last4(id), err)
	}
	acct, aerr := r.accounts[id], r.acctErrs[id]
	switch {
	case aerr != nil:
		perm := permIf(aerr, PermGetAccessKeyInfo)
		return unknown(k, perm, "IAM %s access key %s in account %s, and sts:GetAccessKeyInfo could not say which account it belongs to (%v)%s",
			verdict(err), Last4(id), r.caller, aerr, grant(perm, "*"))
	case !awsid.AccountID(acct):
		return unknown(k, "", "IAM %s access key %s in account %s, and sts:GetAccessKeyInfo named no account for it; run the audit again later",
			verdict(err), Last4(id), r.caller)
	}
	k.Account = acct
	switch {
	case acct != r.caller:
		k.Status = StatusForeign
		return []Finding{{Check: ForeignAccount, Severity: Info, AccountID: acct,
			Message: fmt.Sprintf("access key %s belongs to AWS account %s, not the audited account %s: IAM checks are not possible there; audit with credentials of account %s to check it",
				Last4(id), acct, r.caller, acct)}}
	case isDenied(err):
		return unknown(k, PermGetAccessKeyLastUsed, "IAM denied %s for access key %s of account %s, so whether the key exists, and its status and age, are unknown "+
			"(the policy lacks the permission or does not cover the key's user, or the key was deleted: IAM may deny looking up a key it does not know)%s",
			PermGetAccessKeyLastUsed, Last4(id), acct, grant(PermGetAccessKeyLastUsed, "arn:aws:iam::"+acct+":user/*"))
	}
	k.Status = StatusMissing
	return []Finding{{Check: KeyMissing, Severity: Broken, AccountID: acct,
		Message: fmt.Sprintf("holds access key %s, which IAM in account %s does not know (deleted): whatever uses this set fails; "+
			"rotate with this action (iam-user-name) to store a new key, register a working key, or delete the set", Last4(id), acct)}}
}

// verdict says what IAM answered about a key it gave no facts for.
func verdict(err error) string {
	if isDenied(err) {
		return "denied looking up"
	}
	return "does not know"
}

// grant is the advice that ends a finding about a denied permission: the policy
// statement that grants it on resource. Empty when perm is.
func grant(perm, resource string) string {
	if perm == "" {
		return ""
	}
	return fmt.Sprintf(`; grant it with the policy statement {"Effect": "Allow", "Action": "%s", "Resource": "%s"}`, perm, resource)
}

// judgeListed checks a key whose user IAM named against that user's keys.
func (r *reads) judgeListed(k *KeyFacts, p Policy) []Finding {
	list, err := r.lists[k.User], r.listErrs[k.User]
	if err != nil {
		perm := permIf(err, PermListAccessKeys)
		return unknown(k, perm, "could not list the access keys of IAM user %s to read the status and age of %s (%v)%s",
			k.User, Last4(k.ID), err, grant(perm, "arn:aws:iam::"+r.caller+":user/"+k.User))
	}
	i := slices.IndexFunc(list, func(key Key) bool { return key.ID == k.ID })
	if i < 0 {
		k.Status = StatusMissing
		return []Finding{{Check: KeyMissing, Severity: Broken, AccountID: k.Account,
			Message: fmt.Sprintf("holds access key %s, which IAM user %s no longer has (deleted): whatever uses this set fails; "+
				"rotate with this action (iam-user-name: %s) to store a new key, or delete the set", Last4(k.ID), k.User, k.User)}}
	}
	return keyState(k, list[i], p)
}

// keyState checks a key IAM listed: inactive, older than max-key-age (an age of exactly
// max-key-age is not old yet, see Slack), or of unknown age (no CreateDate, or one in
// the future): the key may be any age, so it is reported, never taken as young.
func keyState(k *KeyFacts, key Key, p Policy) []Finding {
	k.Status = key.Status
	var out []Finding
	if key.Status == StatusInactive {
		out = append(out, Finding{Check: KeyInactive, Severity: Broken,
			Message: fmt.Sprintf("holds access key %s of IAM user %s, which is Inactive: whatever uses this set fails; "+
				"rotate with this action (iam-user-name: %s) to store a new active key, or reactivate the key", Last4(k.ID), k.User, k.User)})
	}
	age, known := knownAge(key.Created, p.Now)
	switch {
	case !known:
		out = append(out, Finding{Check: KeyAgeUnknown, Severity: Warning,
			Message: fmt.Sprintf("IAM gives access key %s of IAM user %s %s, so its age is unknown and it may be older than max-key-age (%s): "+
				"rotate it with this action (iam-user-name: %s) to replace it with a key of known age", Last4(k.ID), k.User, createdDate(key.Created), Days(p.MaxKeyAge), k.User)})
	case age > p.MaxKeyAge+Slack:
		k.Created = key.Created
		out = append(out, Finding{Check: KeyOld, Severity: Warning,
			Message: fmt.Sprintf("access key %s of IAM user %s is %d days old (max-key-age is %s): rotate it with this action (iam-user-name: %s)",
				Last4(k.ID), k.User, *ageDays(age), Days(p.MaxKeyAge), k.User)})
	default:
		k.Created = key.Created
	}
	return out
}

// knownAge is the age at now of a key created at created; false when IAM gave no
// creation date or one after now, which no age can be read from.
func knownAge(created, now time.Time) (time.Duration, bool) {
	if created.IsZero() || created.After(now) {
		return 0, false
	}
	return now.Sub(created), true
}

// createdDate says what IAM gave as a key's creation date that no age can be read from.
func createdDate(created time.Time) string {
	if created.IsZero() {
		return "no creation date"
	}
	return "a creation date in the future (" + rfc3339(created) + ")"
}

// listed finds a key among the users' keys listed so far.
func (r *reads) listed(id string) (string, Key, bool) {
	for user, keys := range r.lists {
		for _, key := range keys {
			if key.ID == id {
				return user, key, true
			}
		}
	}
	return "", Key{}, false
}

func unknown(k *KeyFacts, perm, format string, a ...any) []Finding {
	k.Status = StatusUnknown
	return []Finding{{Check: KeyUnknown, Severity: Unknown, Permission: perm, Message: fmt.Sprintf(format, a...)}}
}

func permIf(err error, perm string) string {
	if isDenied(err) {
		return perm
	}
	return ""
}

// denied returns the permissions AWS denied every time they were needed. A denied
// GetAccessKeyLastUsed counts only for keys of the audited account (or of an account
// nobody could tell): for another account's key, IAM denies whatever the policy says.
func (r *reads) denied() []string {
	var out []string
	if !r.anyUse && r.deniedUse {
		for id, err := range r.useErrs {
			if isDenied(err) && (r.acctErrs[id] != nil || r.accounts[id] == r.caller) {
				out = append(out, PermGetAccessKeyLastUsed)
				break
			}
		}
	}
	if !r.anyAcct && anyDenied(r.acctErrs) {
		out = append(out, PermGetAccessKeyInfo)
	}
	if !r.anyList && anyDenied(r.listErrs) {
		out = append(out, PermListAccessKeys)
	}
	return out
}

func anyDenied(errs map[string]error) bool {
	for _, err := range errs {
		if isDenied(err) {
			return true
		}
	}
	return false
}

// orphans are the active keys of iam-user-name that no set of the operator holds.
func (r *reads) orphans(p Policy, holders map[string][]string, rep *Report) []Row {
	list, err := r.lists[p.IAMUser], r.listErrs[p.IAMUser]
	switch {
	case isNoSuchEntity(err):
		rep.Notes = append(rep.Notes, fmt.Sprintf("IAM user %s does not exist in account %s: orphan keys were not checked; check iam-user-name", p.IAMUser, r.caller))
		return nil
	case err != nil && !isDenied(err):
		rep.Notes = append(rep.Notes, fmt.Sprintf("could not list the access keys of IAM user %s (%v): orphan keys were not checked", p.IAMUser, err))
		return nil
	}
	var rows []Row
	for _, key := range list {
		if key.Status != StatusActive || len(holders[key.ID]) > 0 {
			continue
		}
		k := &KeyFacts{ID: key.ID, User: p.IAMUser, Status: key.Status, Account: r.caller}
		f := Finding{Type: AWSCredentials, Check: OrphanKey, Severity: Warning, AccessKeyID: key.ID, UserName: p.IAMUser,
			Message: fmt.Sprintf("active access key %s of IAM user %s is held by no credential set (left over by a manual or interrupted rotation?): "+
				"if nothing else uses it, deactivate or delete it%s", Last4(key.ID), p.IAMUser, r.mayHold),
		}
		if age, ok := knownAge(key.Created, p.Now); ok {
			k.Created, f.AgeDays = key.Created, ageDays(age)
		}
		rows = append(rows, Row{Set: Set{Type: AWSCredentials}, Key: k, Findings: []Finding{f}})
	}
	return rows
}
