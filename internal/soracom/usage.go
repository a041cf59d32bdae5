package soracom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/paging"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/shape"
)

// Group is a SORACOM group as the audit reads it: its id, its name tag and its
// configuration (any JSON, by namespace), where credential sets are named.
type Group struct {
	ID   string
	Name string
	// Configuration is the group's configuration by namespace (SoracomFunnel, …).
	Configuration map[string]any
	// Index is the group's place in the listing, from 0, across pages.
	Index int
	// Unreadable names the fields of the entry that could not be read or have not
	// their shape (see Group fields); of such a group only what had its shape is kept,
	// and its configuration only when just the name was bad (see readGroup).
	Unreadable []string
}

// EventHandler is a SORACOM event handler as the audit reads it: its id, its name and
// its actions (any JSON), where credential sets are named.
type EventHandler struct {
	ID      string
	Name    string
	Actions []any
	// Index is the handler's place in the listing, from 0.
	Index int
	// Unreadable is as Group's.
	Unreadable []string
}

// The fields of group and event handler entries, as Unreadable names them.
const (
	FieldGroupID       = "groupId"
	FieldGroupName     = "tags.name"
	FieldConfiguration = "configuration"
	FieldHandlerID     = "handlerId"
	FieldHandlerName   = "name"
	FieldActions       = "actionConfigList"
)

// Bounds of the listings. SORACOM documents no limit on groups or event handlers; an
// operator with more than these is far beyond what one audit reads.
const (
	// GroupsPerPage is the limit asked for; the server may answer fewer a page.
	GroupsPerPage = 100
	// MaxGroups and MaxGroupPages bound the group listing.
	MaxGroups     = 10000
	MaxGroupPages = 1000
	// MaxEventHandlers and MaxEventHandlerPages bound the event handler listing, which
	// SORACOM does not page today; a next key is followed all the same, within bounds.
	MaxEventHandlers     = 10000
	MaxEventHandlerPages = 100
)

// ListGroups returns every group of the operator, page by page (limit and
// last_evaluated_key, the next key in x-soracom-next-key), through paging.Collect: the
// listing stops at MaxGroupPages pages, at MaxGroups groups and at a next key named
// before, with an error naming the call. An entry that is not what SORACOM sends marks
// that group Unreadable; the others come back whole.
func (s *Session) ListGroups(ctx context.Context) ([]Group, error) {
	lim := s.listLimit("listGroups (GET /v1/groups)", MaxGroupPages, MaxGroups)
	var index int
	return paging.Collect(ctx, lim, func(ctx context.Context, marker string) (paging.Page[Group], error) {
		path := pagePath("/groups?"+url.Values{"limit": {strconv.Itoa(GroupsPerPage)}}.Encode(), marker)
		cl := call{operation: "listGroups", method: http.MethodGet, path: path}
		raw, next, size, err := s.listPage(ctx, cl, "groups", MaxGroups)
		if err != nil {
			return paging.Page[Group]{}, err
		}
		page := paging.Page[Group]{Items: make([]Group, len(raw)), More: next != "", Next: next, Bytes: size}
		for i, r := range raw {
			page.Items[i] = readGroup(index, r)
			index++
		}
		return page, nil
	})
}

// ListEventHandlers returns every event handler of the operator, bounded like
// ListGroups. SORACOM answers them in one page; a next key, should one come, is
// followed within MaxEventHandlerPages pages.
func (s *Session) ListEventHandlers(ctx context.Context) ([]EventHandler, error) {
	lim := s.listLimit("listEventHandlers (GET /v1/event_handlers)", MaxEventHandlerPages, MaxEventHandlers)
	var index int
	return paging.Collect(ctx, lim, func(ctx context.Context, marker string) (paging.Page[EventHandler], error) {
		cl := call{operation: "listEventHandlers", method: http.MethodGet, path: pagePath("/event_handlers", marker)}
		raw, next, size, err := s.listPage(ctx, cl, "event handlers", MaxEventHandlers)
		if err != nil {
			return paging.Page[EventHandler]{}, err
		}
		page := paging.Page[EventHandler]{Items: make([]EventHandler, len(raw)), More: next != "", Next: next, Bytes: size}
		for i, r := range raw {
			page.Items[i] = readEventHandler(index, r)
			index++
		}
		return page, nil
	})
}

// listPage sends one page's call and returns its entries, raw, the next key ("" on
// the last page; see sendPage) and the size of the answer. The page must be a JSON
// array; of one with more than maxItems entries only maxItems+1 are read (see
// rawArray), which paging.Collect refuses by their number.
func (s *Session) listPage(ctx context.Context, cl call, what string, maxItems int) (raw []json.RawMessage, next string, size int, err error) {
	resp, next, err := s.sendPage(ctx, cl)
	if err != nil {
		return nil, "", 0, err
	}
	raw, err = rawArray(resp.body, maxItems)
	if err != nil {
		return nil, "", 0, fmt.Errorf("%s: SORACOM answered %d with a body that is not a JSON array of %s: %w", cl.operation, resp.status, what, err)
	}
	return raw, next, len(resp.body), nil
}

// rawArray splits a JSON array into its elements; null is an empty array. An array of
// more than max elements comes back as its first max elements and a nil one standing
// for the rest, which is not read: the caller refuses it by its length. An answer is
// bounded in bytes only, and one of millions of tiny entries would otherwise cost
// hundreds of megabytes before any item cap is checked.
func rawArray(body []byte, max int) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, errors.New("it does not start with [")
	}
	var out []json.RawMessage
	for dec.More() {
		if len(out) == max {
			return append(out, nil), nil
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		out = append(out, raw)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more follows the array")
	}
	return out, nil
}

// groupEntry is a group of the list with each field kept raw, read one by one.
type groupEntry struct {
	GroupID       json.RawMessage `json:"groupId"`
	Tags          json.RawMessage `json:"tags"`
	Configuration json.RawMessage `json:"configuration"`
}

// readGroup reads entry index of the group listing: the id must have its shape, the
// name tag (optional) must be a name, the configuration (optional) a JSON object.
func readGroup(index int, raw json.RawMessage) Group {
	var e groupEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return Group{Index: index, Unreadable: []string{FieldEntry}}
	}
	g := Group{Index: index}
	var tags map[string]any
	idOK := readString(e.GroupID, &g.ID) && shape.GroupID(g.ID)
	confOK := optional(e.Configuration, &g.Configuration)
	nameOK := optional(e.Tags, &tags)
	if nameOK {
		if v, present := tags["name"]; present && v != nil {
			g.Name, nameOK = v.(string)
			nameOK = nameOK && shape.Name(g.Name)
		}
	}
	g.Unreadable = failed(map[string]bool{FieldGroupID: idOK, FieldGroupName: nameOK, FieldConfiguration: confOK},
		FieldGroupID, FieldGroupName, FieldConfiguration)
	// Of an entry not read whole, only what had its shape is kept: the configuration
	// only when just the name was bad, so no reference of a forged entry is used.
	if !nameOK || !confOK {
		g.Name = ""
	}
	if !idOK || !confOK {
		g.Configuration = nil
		if !idOK {
			g.ID = ""
		}
	}
	return g
}

// eventHandlerEntry is an event handler of the list with each field kept raw.
type eventHandlerEntry struct {
	HandlerID json.RawMessage `json:"handlerId"`
	Name      json.RawMessage `json:"name"`
	Actions   json.RawMessage `json:"actionConfigList"`
}

// readEventHandler reads entry index of the event handler listing like readGroup.
func readEventHandler(index int, raw json.RawMessage) EventHandler {
	var e eventHandlerEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return EventHandler{Index: index, Unreadable: []string{FieldEntry}}
	}
	h := EventHandler{Index: index}
	idOK := readString(e.HandlerID, &h.ID) && shape.EventHandlerID(h.ID)
	nameOK := optional(e.Name, &h.Name) && shape.Name(h.Name)
	actionsOK := optional(e.Actions, &h.Actions)
	h.Unreadable = failed(map[string]bool{FieldHandlerID: idOK, FieldHandlerName: nameOK, FieldActions: actionsOK},
		FieldHandlerID, FieldHandlerName, FieldActions)
	// As readGroup: the actions are kept only when just the name was bad.
	if !nameOK || !actionsOK {
		h.Name = ""
	}
	if !idOK || !actionsOK {
		h.Actions = nil
		if !idOK {
			h.ID = ""
		}
	}
	return h
}

// failed lists, in order, the fields whose check did not pass.
func failed(ok map[string]bool, order ...string) []string {
	var bad []string
	for _, f := range order {
		if !ok[f] {
			bad = append(bad, f)
		}
	}
	return bad
}
