// Package paging bounds paged listings (IAM's ListAccessKeys, and any paged call added
// later: SORACOM groups, event handlers, AuthKeys). A server, or a proxy in front of
// it, can answer "more pages" forever, with the same marker or a new one each time;
// a listing through Collect stops at a page cap, at a marker it has seen before, at
// an item cap and at a deadline for all its pages, with an error that names the
// service and the call, so the run ends within its bounds and its memory stays
// bounded.
package paging

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limit bounds one paged call.
type Limit struct {
	// Service and Call name the call in errors ("IAM", "ListAccessKeys").
	Service, Call string
	// MaxPages is the most pages read; MaxItems the most items kept in all.
	MaxPages, MaxItems int
	// MaxBytes, when not zero, is the most bytes of answers (as the pages' Bytes say)
	// read in all: an item can be large (a group's configuration is any JSON), so the
	// item cap alone does not bound memory.
	MaxBytes int
	// Deadline, when not zero, bounds the whole listing, every page with its retries:
	// each page has the bound of a call, and a server that answers each one slowly,
	// naming a new page every time, would otherwise hold the run for the page cap
	// times that bound.
	Deadline time.Duration
}

// Page is one page of a listing: its items, and whether more follow from Next.
type Page[T any] struct {
	Items []T
	More  bool
	Next  string // the marker (token, last evaluated key) of the next page
	// Bytes is the size of the page's answer, for MaxBytes (0 when not counted).
	Bytes int
}

// Error is a listing stopped because the server kept answering pages: past the cap, or
// with a marker it had given before.
type Error struct {
	Service, Call string
	// Reason says which bound stopped it.
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s kept answering more pages (%s); the listing was stopped, and nothing was done with it", e.Service, e.Call, e.Reason)
}

// Collect reads the pages of a listing, from marker "" on, through fetch, and returns
// every item. It stops with an *Error when the server answers more than MaxPages pages,
// MaxItems items or MaxBytes bytes, names as next a marker it named before (the first page's ""
// included), or has not answered the last page within Deadline of the first: such a
// listing would never end, or not within the run's bounds. A first page that alone
// takes too long is fetch's own error.
func Collect[T any](ctx context.Context, l Limit, fetch func(ctx context.Context, marker string) (Page[T], error)) ([]T, error) {
	lctx := ctx
	if l.Deadline > 0 {
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeout(ctx, l.Deadline)
		defer cancel()
	}
	var items []T
	seen := map[string]bool{"": true}
	marker := ""
	read := 0
	for pages := 1; ; pages++ {
		page, err := fetch(lctx, marker)
		if err != nil && pages > 1 && ctx.Err() == nil && errors.Is(lctx.Err(), context.DeadlineExceeded) {
			// The listing's own deadline, not the caller's: more pages than its time.
			return nil, &Error{Service: l.Service, Call: l.Call, Reason: fmt.Sprintf("more than %s for its pages", l.Deadline)}
		}
		if err != nil {
			return nil, err
		}
		if len(items)+len(page.Items) > l.MaxItems {
			return nil, &Error{Service: l.Service, Call: l.Call, Reason: fmt.Sprintf("more than %d items", l.MaxItems)}
		}
		if read += page.Bytes; l.MaxBytes > 0 && read > l.MaxBytes {
			return nil, &Error{Service: l.Service, Call: l.Call, Reason: "more than " + size(l.MaxBytes) + " in all"}
		}
		items = append(items, page.Items...)
		switch {
		case !page.More:
			return items, nil
		case seen[page.Next]:
			return nil, &Error{Service: l.Service, Call: l.Call, Reason: fmt.Sprintf("page %d named a next page it had named before", pages)}
		case pages >= l.MaxPages:
			return nil, &Error{Service: l.Service, Call: l.Call, Reason: fmt.Sprintf("more than %d pages", l.MaxPages)}
		}
		seen[page.Next] = true
		marker = page.Next
	}
}

// size writes a byte bound as people read it: whole MiB when it is some, else KiB or
// bytes (a bound under 1 MiB is not "0 MiB").
func size(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
