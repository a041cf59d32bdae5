package awstest

import (
	"fmt"
	"net/url"
	"time"
)

// The reads an audit makes: sts:GetAccessKeyInfo and iam:GetAccessKeyLastUsed, with the
// knobs a test needs to play every answer AWS may give.

// SetLatency delays every request by d before it is handled, as a distant endpoint
// does. Requests still overlap: the delay is not spent holding the account's lock.
func (a *Account) SetLatency(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.latency = d
}

// Deny makes the callers' policies deny actions (e.g. "GetAccessKeyLastUsed"): every
// request for them answers AccessDenied, as AWS does for a permission the policy lacks.
func (a *Account) Deny(actions ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, action := range actions {
		a.denied[action] = true
	}
}

// SetUnknownKeyAnswer sets the error code GetAccessKeyLastUsed answers for a key this
// account does not know (deleted, never created, or another account's): "NoSuchEntity"
// (the default) or "AccessDenied". AWS documents neither; both are seen.
func (a *Account) SetUnknownKeyAnswer(code string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.unknownKey = code
}

// AddForeignKey returns a key id of another AWS account: GetAccessKeyInfo names that
// account for it, and this account's IAM does not know it. Every other key id, known
// or not, belongs to this account as far as GetAccessKeyInfo is concerned.
func (a *Account) AddForeignKey(accountID string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	id := "AKIA" + randomString(16, upperAlnum)
	a.foreign[id] = accountID
	return id
}

// AddKeyCreated gives user (created if needed) a key with the given status and
// creation time that works at once: an old key, or one created at an exact age.
func (a *Account) AddKeyCreated(user, status string, created time.Time) Key {
	a.AddUser(user)
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.newKeyLocked(user, status, created.UTC())
	p.propagatesAt = time.Time{}
	return p.key
}

// SetLastUsed records that the key id was last used at t, by service in region, as
// GetAccessKeyLastUsed reports it. A key signing a request to the fakes records it too.
func (a *Account) SetLastUsed(id string, t time.Time, service, region string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p, ok := a.keys[id]; ok {
		p.lastUsed, p.lastService, p.lastUsedRegion = t.UTC(), service, region
	}
}

// accessKeyInfoLocked answers sts:GetAccessKeyInfo: the account of any key id.
func (a *Account) accessKeyInfoLocked(params url.Values) (string, *apiError) {
	id := params.Get("AccessKeyId")
	if len(id) < 16 {
		return "", errorf(400, "ValidationError", "1 validation error detected: Value '%s' at 'accessKeyId' failed to satisfy constraint", id)
	}
	acct := a.id
	if f, ok := a.foreign[id]; ok {
		acct = f
	}
	return fmt.Sprintf("<GetAccessKeyInfoResult><Account>%s</Account></GetAccessKeyInfoResult>", acct), nil
}

// lastUsedLocked answers iam:GetAccessKeyLastUsed as IAM does: the key's user, and
// LastUsedDate only when the key was used (ServiceName and Region are N/A otherwise).
func (a *Account) lastUsedLocked(params url.Values) (string, *apiError) {
	id := params.Get("AccessKeyId")
	p, ok := a.keys[id]
	if !ok || p.deleted || p.sessionToken != "" {
		if a.unknownKey == "AccessDenied" {
			return "", errorf(403, "AccessDenied", "User is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key %s", id)
		}
		return "", errorf(404, a.unknownKey, "The Access Key with id %s cannot be found.", id)
	}
	used := "<Region>N/A</Region><ServiceName>N/A</ServiceName>"
	if !p.lastUsed.IsZero() {
		used = fmt.Sprintf("<LastUsedDate>%s</LastUsedDate><Region>%s</Region><ServiceName>%s</ServiceName>",
			p.lastUsed.Format(time.RFC3339), esc(p.lastUsedRegion), esc(p.lastService))
	}
	return fmt.Sprintf("<GetAccessKeyLastUsedResult><AccessKeyLastUsed>%s</AccessKeyLastUsed><UserName>%s</UserName></GetAccessKeyLastUsedResult>",
		used, esc(p.key.User)), nil
}

// signingRegion is the region of a SigV4 Authorization header's credential scope.
func signingRegion(auth string) string {
	if m := credentialPattern.FindStringSubmatch(auth); m != nil {
		return m[3]
	}
	return ""
}

// DeleteKey deletes the key id, as someone deleting it in the console would.
func (a *Account) DeleteKey(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p, ok := a.keys[id]; ok {
		p.deleted = true
	}
}

// SetKeyStatus sets the key id Active or Inactive.
func (a *Account) SetKeyStatus(id, status string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p, ok := a.keys[id]; ok {
		p.key.Status = status
	}
}
