// Package refs finds where credential sets are used. SORACOM has no reverse lookup:
// groups name sets inside their configuration (SoracomFunnel, SoracomFunk,
// SoracomBeam, …) and event handlers inside their actions (InvokeAWSLambdaAction), by
// id, under keys whose name ends in credentialsId (credentialsId, $credentialsId,
// passwordCredentialsId, keyCredentialsId, …), at any depth, or as a key/value pair
// ({"key": "credentialsId", "value": id}, the form the configuration API takes). This package walks that
// JSON and returns the references it holds.
//
// The JSON is server text, so every id is checked against the set-id shape before it
// is used, and the walk is bounded in depth, size and number of references. What does
// not fit is reported as Malformed, naming the group or handler and never the value.
// The package is pure: it sees decoded JSON, not the API.
package refs

import (
	"maps"
	"slices"
	"strings"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/shape"
)

// Kind is what uses a set.
type Kind string

// The kinds of user.
const (
	Group        Kind = "group"
	EventHandler Kind = "event-handler"
)

// User is a group or event handler that uses a set, where it does: the configuration
// namespace of a group (SoracomFunnel, …) or the action type of an event handler
// (InvokeAWSLambdaAction, …). Namespace is empty when the name was not a SORACOM name;
// Name when the group has no name tag. Every field is always in the JSON, empty or
// not, so a consumer of the findings output reads the same four keys on every user.
type User struct {
	Kind      Kind   `json:"kind"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// Reference is a user naming a credential set.
type Reference struct {
	User
	SetID string
}

// Malformed is a user whose JSON could not be read whole, or held a reference that is
// not a set id. Reason names what, never the value, which may be anything.
type Malformed struct {
	User
	Reason string
	// Entry is the place (from 1) of the group or handler in SORACOM's listing, to name
	// it when its id could not be read; zero when not known.
	Entry int
}

// Found is what the JSON of one user holds.
type Found struct {
	References []Reference
	Malformed  []Malformed
	// Incomplete is true when part of the JSON was not read (too deep, too large, too
	// many references): a set it names may be missing from References.
	Incomplete bool
}

// Bounds of one user's walk. SORACOM's configurations are a few levels deep and name
// a handful of sets; a forged answer may be anything.
const (
	MaxDepth      = 32
	MaxNodes      = 20000
	MaxReferences = 100
)

// Reasons a user is malformed.
const (
	ReasonNotSetID     = "a reference (a key ending in credentialsId) whose value is not " + shape.CredentialIDShape
	ReasonNamespace    = "a namespace or action type that is not " + shape.NamespaceShape
	ReasonTooDeep      = "JSON nested deeper than 32 levels; what lies below was not read"
	ReasonTooLarge     = "JSON of more than 20000 values; the rest was not read"
	ReasonTooManyRefs  = "more than 100 references; the rest were not read"
	referenceKeySuffix = "credentialsId"
)

// InGroup finds the references in a group's configuration: namespace → any JSON.
func InGroup(id, name string, configuration map[string]any) Found {
	w := newWalker(User{Kind: Group, ID: id, Name: name})
	for _, ns := range slices.Sorted(maps.Keys(configuration)) {
		w.under(ns, configuration[ns])
	}
	return w.found
}

// InEventHandler finds the references in an event handler's actionConfigList, each
// action under its type.
func InEventHandler(id, name string, actions []any) Found {
	w := newWalker(User{Kind: EventHandler, ID: id, Name: name})
	for _, a := range actions {
		typ := ""
		if m, ok := a.(map[string]any); ok {
			typ, _ = m["type"].(string)
		}
		w.under(typ, a)
	}
	return w.found
}

// IsReferenceKey reports whether a JSON key names a credential set: its name ends in
// credentialsId, in any case of ASCII letters.
func IsReferenceKey(key string) bool {
	n := len(referenceKeySuffix)
	return len(key) >= n && strings.EqualFold(key[len(key)-n:], referenceKeySuffix)
}

type walker struct {
	user    User
	found   Found
	nodes   int
	stopped bool
	seen    map[Reference]bool
}

func newWalker(u User) *walker { return &walker{user: u, seen: map[Reference]bool{}} }

// under walks v as the part of the user that namespace names.
func (w *walker) under(namespace string, v any) {
	w.user.Namespace = namespace
	if !shape.Namespace(namespace) {
		w.user.Namespace = ""
		w.malformed(ReasonNamespace)
	}
	w.walk(v, 1)
}

func (w *walker) walk(v any, depth int) {
	if w.stopped {
		return
	}
	if w.nodes++; w.nodes > MaxNodes {
		w.cut(ReasonTooLarge)
		return
	}
	switch v := v.(type) {
	case map[string]any:
		if depth >= MaxDepth {
			w.cut(ReasonTooDeep)
			return
		}
		w.object(v, depth)
	case []any:
		if depth >= MaxDepth {
			w.cut(ReasonTooDeep)
			return
		}
		for _, x := range v {
			w.walk(x, depth+1)
		}
	}
}

// object walks a JSON object: a key/value pair that names a set, each key that names
// one, and below every other value.
func (w *walker) object(v map[string]any, depth int) {
	if id, ok := pairReference(v); ok {
		w.reference(id)
	}
	for _, k := range slices.Sorted(maps.Keys(v)) {
		if w.stopped {
			return
		}
		if s, ok := v[k].(string); ok && IsReferenceKey(k) {
			w.reference(s)
			continue
		}
		w.walk(v[k], depth+1)
	}
}

// pairReference reads a configuration entry in the key/value form that SORACOM's
// configuration API takes ({"key": "credentialsId", "value": "funnel-aws"}): a key that
// names a set, with a string value.
func pairReference(m map[string]any) (string, bool) {
	key, ok := m["key"].(string)
	if !ok || !IsReferenceKey(key) {
		return "", false
	}
	id, ok := m["value"].(string)
	return id, ok
}

// reference records one id. An empty value names no set (a service switched off
// keeps its keys); anything else must be a set id.
func (w *walker) reference(id string) {
	switch {
	case id == "":
		return
	case !shape.CredentialID(id):
		w.malformed(ReasonNotSetID)
		return
	}
	r := Reference{User: w.user, SetID: id}
	if w.seen[r] {
		return
	}
	if len(w.found.References) >= MaxReferences {
		w.cut(ReasonTooManyRefs)
		return
	}
	w.seen[r] = true
	w.found.References = append(w.found.References, r)
}

// cut stops the walk: what is left is not read.
func (w *walker) cut(reason string) {
	w.stopped = true
	w.found.Incomplete = true
	w.malformed(reason)
}

// malformed records a reason once per user and namespace.
func (w *walker) malformed(reason string) {
	m := Malformed{User: w.user, Reason: reason}
	if !slices.Contains(w.found.Malformed, m) {
		w.found.Malformed = append(w.found.Malformed, m)
	}
}
