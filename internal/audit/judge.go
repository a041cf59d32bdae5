package audit

import (
	"fmt"
	"slices"
)

// judge turns AWS's answers about a set's key into findings, and fills in the facts the
// table shows.
//
// IAM's answer for a key it does not know is not documented: it may be NoSuchEntity or
// AccessDenied, and AccessDenied is also what a missing permission looks like. So a key
// is key-missing only when sts:GetAccessKeyInfo puts it in the audited account and
// either IAM said NoSuchEntity, or IAM said AccessDenied while the same credentials did
// look up another key; or when the key's user, listed, does not have it. Anything IAM
// could not answer leaves the key unknown, never broken.
func (r *reads) judge(s Set, k *KeyFacts, p Policy) []Finding {
	out := r.judgeKey(k, p)
	for i := range out {
		f := &out[i]
		f.CredentialID, f.Type, f.AccessKeyID, f.UserName = s.ID, s.Type, k.ID, k.User
		if !k.Created.IsZero() {
			f.AgeDays = ageDays(p.Now.Sub(k.Created))
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
	if aerr != nil {
		return unknown(k, permIf(aerr, PermGetAccessKeyInfo),
			"IAM does not know access key %s in account %s, and sts:GetAccessKeyInfo could not say which account it belongs to (%v)", Last4(id), r.caller, aerr)
	}
	k.Account = acct
	if acct != r.caller {
		k.Status = StatusForeign
		return []Finding{{Check: ForeignAccount, Severity: Info, AccountID: acct,
			Message: fmt.Sprintf("access key %s belongs to AWS account %s, not the audited account %s: IAM checks are not possible there; audit with credentials of account %s to check it",
				Last4(id), acct, r.caller, acct)}}
	}
	if isNoSuchEntity(err) || r.anyUse {
		k.Status = StatusMissing
		return []Finding{{Check: KeyMissing, Severity: Broken, AccountID: acct,
			Message: fmt.Sprintf("holds access key %s, which IAM in account %s does not know (deleted): whatever uses this set fails; "+
				"rotate with this action (iam-user-name) to store a new key, register a working key, or delete the set", Last4(id), acct)}}
	}
	return unknown(k, PermGetAccessKeyLastUsed,
		"IAM denied looking up access key %s, and no other key either: grant %s to tell whether the key exists", Last4(id), PermGetAccessKeyLastUsed)
}

// judgeListed checks a key whose user IAM named against that user's keys.
func (r *reads) judgeListed(k *KeyFacts, p Policy) []Finding {
	list, err := r.lists[k.User], r.listErrs[k.User]
	if err != nil {
		return unknown(k, permIf(err, PermListAccessKeys),
			"could not list the access keys of IAM user %s to read the status and age of %s (%v)", k.User, Last4(k.ID), err)
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

// keyState checks a key IAM listed: inactive, or older than max-key-age (an age of
// exactly max-key-age is not old yet, see Slack).
func keyState(k *KeyFacts, key Key, p Policy) []Finding {
	k.Status, k.Created = key.Status, key.Created
	var out []Finding
	if key.Status == StatusInactive {
		out = append(out, Finding{Check: KeyInactive, Severity: Broken,
			Message: fmt.Sprintf("holds access key %s of IAM user %s, which is Inactive: whatever uses this set fails; "+
				"rotate with this action (iam-user-name: %s) to store a new active key, or reactivate the key", Last4(k.ID), k.User, k.User)})
	}
	if age := p.Now.Sub(key.Created); age > p.MaxKeyAge+Slack {
		out = append(out, Finding{Check: KeyOld, Severity: Warning,
			Message: fmt.Sprintf("access key %s of IAM user %s is %d days old (max-key-age is %s): rotate it with this action (iam-user-name: %s)",
				Last4(k.ID), k.User, *ageDays(age), Days(p.MaxKeyAge), k.User)})
	}
	return out
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
		k := &KeyFacts{ID: key.ID, User: p.IAMUser, Status: key.Status, Created: key.Created, Account: r.caller}
		rows = append(rows, Row{Set: Set{Type: AWSCredentials}, Key: k, Findings: []Finding{{
			Type: AWSCredentials, Check: OrphanKey, Severity: Warning, AccessKeyID: key.ID, UserName: p.IAMUser,
			AgeDays: ageDays(p.Now.Sub(key.Created)),
			Message: fmt.Sprintf("active access key %s of IAM user %s is held by no credential set (left over by a manual or interrupted rotation?): "+
				"if nothing else uses it, deactivate or delete it", Last4(key.ID), p.IAMUser),
		}}})
	}
	return rows
}
