package action

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/audit"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/audit/refs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracom"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/untrusted"
)

// listedCoverage is what one coverage's listings answered: its sets, and where they
// are used.
type listedCoverage struct {
	place
	sets    []soracom.CredentialSet
	setsErr error
	usage   *audit.Usage
}

// listEverywhere lists, on every coverage at once, the credential sets, the groups and
// the event handlers: three listings a coverage, each one call a page, all in parallel.
func listEverywhere(ctx context.Context, places []place) []listedCoverage {
	out := make([]listedCoverage, len(places))
	var wg sync.WaitGroup
	for i, p := range places {
		out[i].place = p
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].sets, out[i].setsErr = p.sess.ListCredentials(ctx)
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].usage = usageOn(ctx, p.sess)
		}()
	}
	wg.Wait()
	return out
}

// usageOn lists one coverage's groups and event handlers and collects the references
// they hold. A listing that fails is recorded, not returned: the audit runs without it.
func usageOn(ctx context.Context, sess *soracom.Session) *audit.Usage {
	var groups []soracom.Group
	var handlers []soracom.EventHandler
	var gerr, herr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); groups, gerr = sess.ListGroups(ctx) }()
	go func() { defer wg.Done(); handlers, herr = sess.ListEventHandlers(ctx) }()
	wg.Wait()
	u := &audit.Usage{}
	if gerr != nil {
		u.Failed = append(u.Failed, listingFailure("groups", gerr))
	} else {
		for _, g := range groups {
			u.Add(groupReferences(g))
		}
	}
	if herr != nil {
		u.Failed = append(u.Failed, listingFailure("event handlers", herr))
	} else {
		for _, h := range handlers {
			u.Add(handlerReferences(h))
		}
	}
	return u
}

// groupReferences reads one group; an entry SORACOM's list did not show readably is a
// Malformed naming its fields, and its references are not believed.
func groupReferences(g soracom.Group) refs.Found {
	if len(g.Unreadable) == 0 {
		return refs.InGroup(g.ID, g.Name, g.Configuration)
	}
	return entryUnreadable(refs.User{Kind: refs.Group, ID: g.ID, Name: g.Name}, g.Index, g.Unreadable, g.Configuration != nil,
		func() refs.Found { return refs.InGroup(g.ID, "", g.Configuration) })
}

func handlerReferences(h soracom.EventHandler) refs.Found {
	if len(h.Unreadable) == 0 {
		return refs.InEventHandler(h.ID, h.Name, h.Actions)
	}
	return entryUnreadable(refs.User{Kind: refs.EventHandler, ID: h.ID, Name: h.Name}, h.Index, h.Unreadable, h.Actions != nil,
		func() refs.Found { return refs.InEventHandler(h.ID, "", h.Actions) })
}

// entryUnreadable is what an entry that could not be read whole yields: a Malformed
// naming its fields; its references too when only its name was bad (the content was
// kept), otherwise the usage is incomplete.
func entryUnreadable(u refs.User, index int, fields []string, contentKept bool, read func() refs.Found) refs.Found {
	m := refs.Malformed{User: u, Entry: index + 1,
		Reason: fmt.Sprintf("its %s in SORACOM's list %s not what SORACOM sends", strings.Join(fields, ", "), isAre(len(fields)))}
	if contentKept {
		f := read()
		f.Malformed = append([]refs.Malformed{m}, f.Malformed...)
		return f
	}
	return refs.Found{Malformed: []refs.Malformed{m}, Incomplete: true}
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// listingFailure records a listing that failed: a denial names the SAM permission;
// anything else is said as it was (it reaches the log through the untrusted path).
func listingFailure(listing string, err error) audit.ListingFailure {
	f := audit.ListingFailure{Listing: listing, Reason: untrusted.Clip(untrusted.OneLine(describe(err)), 400)}
	var apiErr *soracom.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusForbidden {
		f.Permission = apiErr.Permission()
	}
	return f
}

// targetUsage says, for each set a rotation will update (named as setNames names
// them), which groups and event handlers use it, in the log and for the summary. It
// never stops the rotation: a listing that fails makes the sets of its coverage
// "unknown", with why.
func (r *run) targetUsage(ctx context.Context, places []place, names setNames, targets []string) map[SetRef]string {
	usages := make([]*audit.Usage, len(places))
	var wg sync.WaitGroup
	for i, p := range places {
		wg.Add(1)
		go func() { defer wg.Done(); usages[i] = usageOn(ctx, p.sess) }()
	}
	wg.Wait()
	byCoverage := map[string]*audit.Usage{}
	for i, p := range places {
		byCoverage[p.coverage] = usages[i]
	}
	out := map[SetRef]string{}
	for _, name := range targets {
		coverage, id := names.split(name)
		text := byCoverage[coverage].UsedBy(id)
		out[SetRef{Coverage: coverage, ID: id}] = text
		r.log.Infof("Credential set %s is used by: %s", name, untrusted.Text(text))
	}
	return out
}
