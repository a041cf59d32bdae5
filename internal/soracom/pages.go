package soracom

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/paging"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/shape"
)

// SORACOM pages a list by a next key: an answer with more to come names it in the
// x-soracom-next-key header, and the next page is asked for with last_evaluated_key.
// The spec documents this for groups only, and calls the credential set, event handler
// and AuthKey lists unpaged; whether they ever page is not documented. Every list is
// read through paging.Collect all the same and follows a next key within its bounds:
// a list that says it is incomplete is never taken for the whole, as a rotation that
// missed a set on a later page would retire a key still in use.

// maxNextKey bounds the next key a page names; it goes back in a query string.
const maxNextKey = 1024

// maxListBytes bounds the answers of one listing, every page together: each answer is
// bounded (8 MiB), but a group's configuration can be any JSON, so the item caps alone
// do not bound the memory of a listing of many pages.
const maxListBytes = 32 << 20

// listLimit is the bound of one SORACOM listing, named call: at most maxPages pages and
// maxItems entries, maxListBytes in all, and the time of one call for all its pages.
func (s *Session) listLimit(call string, maxPages, maxItems int) paging.Limit {
	return paging.Limit{Service: "SORACOM", Call: call, MaxPages: maxPages, MaxItems: maxItems, MaxBytes: maxListBytes, Deadline: s.c.retry.Deadline}
}

// pagePath is path with the last_evaluated_key of marker added; path itself for the
// first page (marker "").
func pagePath(path, marker string) string {
	if marker == "" {
		return path
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + url.Values{"last_evaluated_key": {marker}}.Encode()
}

// sendPage sends one page's call and returns the answer and its next key ("" on the
// last page). The next key is one line of bounded length, as it goes back into a
// query string; an answer with another is refused without repeating it.
func (s *Session) sendPage(ctx context.Context, cl call) (response, string, error) {
	resp, err := s.send(ctx, cl)
	if err != nil {
		return response{}, "", err
	}
	next := resp.header.Get("X-Soracom-Next-Key")
	if len(next) > maxNextKey || !shape.Line(next) {
		return response{}, "", newAnswerError(cl, "x-soracom-next-key header", fmt.Sprintf("one line of at most %d characters", maxNextKey), next)
	}
	return resp, next, nil
}
