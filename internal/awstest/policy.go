package awstest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Policies and paging: the knobs of the fake that play a caller whose identity policy
// covers some resources only, and an IAM whose ListAccessKeys pages (or never ends).

// statement is one statement of an IAM policy document.
type statement struct {
	Effect   string
	Action   stringList
	Resource stringList
}

// stringList is a policy element that is one string or a list of them.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("a policy element must be a string or a list of strings: %w", err)
	}
	*l = many
	return nil
}

// SetPolicy gives every caller the identity policy doc (a JSON IAM policy document
// with Allow and Deny statements, wildcards in actions and resources): from then on a
// request is allowed only when a statement allows its action on its resource and none
// denies it, as IAM evaluates an identity policy. The resource of a user's key action
// is the user's ARN (arn:aws:iam::<account>:user/<name>); of GetAccessKeyLastUsed for a
// key the account does not know, user/* (no user can be named); of GetAccessKeyInfo, *.
// sts:GetCallerIdentity needs no permission, as in AWS.
func (a *Account) SetPolicy(doc string) error {
	var p struct{ Statement []statement }
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return fmt.Errorf("policy document: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.policy = p.Statement
	if a.policy == nil {
		a.policy = []statement{}
	}
	return nil
}

// allowedLocked says whether the policy lets the caller do service:action on the
// request's resource; the resource, for the error.
func (a *Account) allowedLocked(service, action string, params url.Values, caller *principal) (bool, string) {
	if a.policy == nil || service == "sts" && action != "GetAccessKeyInfo" {
		return true, ""
	}
	resource := a.resourceLocked(service, action, params, caller)
	allowed := false
	for _, st := range a.policy {
		if !matchesAny(st.Action, service+":"+action, true) || !matchesAny(st.Resource, resource, false) {
			continue
		}
		if strings.EqualFold(st.Effect, "Deny") {
			return false, resource
		}
		allowed = allowed || strings.EqualFold(st.Effect, "Allow")
	}
	return allowed, resource
}

func (a *Account) resourceLocked(service, action string, params url.Values, caller *principal) string {
	userARN := func(user string) string { return fmt.Sprintf("arn:aws:iam::%s:user/%s", a.id, user) }
	switch {
	case service == "sts":
		return "*"
	case action == "GetAccessKeyLastUsed":
		if p, ok := a.keys[params.Get("AccessKeyId")]; ok && !p.deleted && p.sessionToken == "" {
			return userARN(p.key.User)
		}
		return userARN("*")
	}
	user := params.Get("UserName")
	if user == "" && caller != nil {
		user = caller.key.User
	}
	return userARN(user)
}

func matchesAny(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p, s = strings.ToLower(p), strings.ToLower(s)
		}
		if stringLike(p, s) {
			return true
		}
	}
	return false
}

// Paging is how the fake IAM pages ListAccessKeys.
type Paging struct {
	// PerPage is the most keys a page holds (the request's MaxItems when lower); 0
	// means all on one page.
	PerPage int
	// Endless answers IsTruncated=true on every page: with a new marker each time, or
	// with SameMarker, the same marker every time.
	Endless, SameMarker bool
}

// SetPaging sets how ListAccessKeys pages from now on.
func (a *Account) SetPaging(p Paging) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.paging = p
}

// listPageLocked answers one ListAccessKeys page of keys.
func (a *Account) listPageLocked(user string, keys []Key, params url.Values) string {
	start := 0
	if m := params.Get("Marker"); m != "" {
		_, _ = fmt.Sscanf(m, "page-%d", &start)
	}
	per := a.paging.PerPage
	if n := 0; params.Get("MaxItems") != "" {
		if _, err := fmt.Sscanf(params.Get("MaxItems"), "%d", &n); err == nil && n > 0 && (per == 0 || n < per) {
			per = n
		}
	}
	end := len(keys)
	if per > 0 && start+per < end {
		end = start + per
	}
	var b strings.Builder
	b.WriteString("<ListAccessKeysResult><AccessKeyMetadata>")
	for _, k := range keys[min(start, len(keys)):end] {
		fmt.Fprintf(&b, "<member><UserName>%s</UserName><AccessKeyId>%s</AccessKeyId><Status>%s</Status>%s</member>",
			esc(user), k.ID, k.Status, createDate(k))
	}
	b.WriteString("</AccessKeyMetadata>")
	a.pages++
	switch {
	case a.paging.Endless && a.paging.SameMarker:
		b.WriteString("<IsTruncated>true</IsTruncated><Marker>page-0</Marker>")
	case a.paging.Endless:
		fmt.Fprintf(&b, "<IsTruncated>true</IsTruncated><Marker>page-%d</Marker>", 1000+a.pages)
	case end < len(keys):
		fmt.Fprintf(&b, "<IsTruncated>true</IsTruncated><Marker>page-%d</Marker>", end)
	default:
		b.WriteString("<IsTruncated>false</IsTruncated>")
	}
	b.WriteString("</ListAccessKeysResult>")
	return b.String()
}

// createDate is a key's CreateDate element; none for a key created at the zero time
// (see AddKeyCreated), as a broken answer would have it.
func createDate(k Key) string {
	if k.Created.IsZero() {
		return ""
	}
	return "<CreateDate>" + k.Created.UTC().Format("2006-01-02T15:04:05Z") + "</CreateDate>"
}
