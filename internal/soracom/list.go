package soracom

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsid"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/shape"
)

// MaxSets is the most credential sets a list may hold, in one answer and over all its
// pages. An answer is bounded in bytes too (8 MiB); this bounds the work and memory per
// entry, far above what an operator keeps.
const MaxSets = 10000

// MaxSetPages bounds the pages of the list, should SORACOM ever page it (see pagePath).
const MaxSetPages = 100

// The fields of a list entry, as Unreadable names them.
const (
	FieldEntry            = "entry" // the entry as a whole: not a JSON object
	FieldID               = "credentialsId"
	FieldType             = "type"
	FieldDescription      = "description"
	FieldCredentials      = "credentials"
	FieldAccessKeyID      = "credentials.accessKeyId"
	FieldCert             = "credentials.cert"
	FieldCA               = "credentials.ca"
	FieldCreateDateTime   = "createDateTime"
	FieldUpdateDateTime   = "updateDateTime"
	FieldLastUsedDateTime = "lastUsedDateTime"
)

// FieldWant says what a field of a list entry must be, for messages.
func FieldWant(field string) string {
	switch field {
	case FieldID:
		return shape.CredentialIDShape
	case FieldType:
		return shape.CredentialTypeShape
	case FieldAccessKeyID:
		return awsid.AccessKeyIDFormat
	case FieldCreateDateTime, FieldUpdateDateTime, FieldLastUsedDateTime:
		return "a time in whole epoch milliseconds between the years 2000 and 2200"
	case FieldEntry, FieldCredentials:
		return "a JSON object"
	}
	return "text"
}

// listEntry is a list entry with each field kept raw, so that each is read on its own.
type listEntry struct {
	ID               json.RawMessage `json:"credentialsId"`
	Type             json.RawMessage `json:"type"`
	Description      json.RawMessage `json:"description"`
	Credentials      json.RawMessage `json:"credentials"`
	CreateDateTime   json.RawMessage `json:"createDateTime"`
	UpdateDateTime   json.RawMessage `json:"updateDateTime"`
	LastUsedDateTime json.RawMessage `json:"lastUsedDateTime"`
}

// decodeList reads a list answer entry by entry: the array must be well-formed JSON of
// at most MaxSets entries, but an entry that is not what SORACOM sends only marks that
// set Unreadable (see readEntry). first is the index of its first entry in the whole
// list (the entries of the pages before it).
func decodeList(cl call, r response, first int) ([]CredentialSet, error) {
	raw, err := rawArray(r.body, MaxSets)
	if err != nil {
		return nil, fmt.Errorf("%s: SORACOM answered %d with a body that is not a JSON array of credential sets: %w", cl.operation, r.status, err)
	}
	if len(raw) > MaxSets {
		return nil, &ListTooLongError{Service: "SORACOM", Call: cl.operation, Max: MaxSets}
	}
	var sets []CredentialSet
	for i, e := range raw {
		sets = append(sets, readEntry(first+i, e))
	}
	return sets, nil
}

// ListTooLongError is a list answer with more entries than the action reads.
type ListTooLongError struct {
	Service, Call string
	Max           int
}

func (e *ListTooLongError) Error() string {
	return fmt.Sprintf("%s %s answered more than %d entries, more than the action reads; nothing was done with the answer", e.Service, e.Call, e.Max)
}

// readEntry reads entry index of a list. Each field is read on its own and identifiers
// are checked against their shape, so a broken or forged field marks the set
// Unreadable (naming the field) without hiding the other sets. Of an unreadable set
// only its id and type are kept, and only when they have their shapes: nothing else it
// holds is believed.
func readEntry(index int, raw json.RawMessage) CredentialSet {
	var e listEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return CredentialSet{Index: index, Unreadable: []string{FieldEntry}}
	}
	var set CredentialSet
	var bad []string
	check := func(field string, ok bool) {
		if !ok {
			bad = append(bad, field)
		}
	}
	check(FieldID, readString(e.ID, &set.ID) && shape.CredentialID(set.ID))
	check(FieldType, readString(e.Type, &set.Type) && shape.CredentialType(set.Type))
	check(FieldDescription, optional(e.Description, &set.Description))
	check(FieldCredentials, optional(e.Credentials, &set.Credentials))
	check(FieldCreateDateTime, readMillis(e.CreateDateTime, &set.CreateDateTime))
	check(FieldUpdateDateTime, readMillis(e.UpdateDateTime, &set.UpdateDateTime))
	check(FieldLastUsedDateTime, readMillis(e.LastUsedDateTime, &set.LastUsedDateTime))
	bad = append(bad, set.badFields()...)
	if len(bad) == 0 {
		set.Index = index
		return set
	}
	kept := CredentialSet{Index: index, Unreadable: bad}
	if !slices.Contains(bad, FieldID) {
		kept.ID = set.ID
	}
	if !slices.Contains(bad, FieldType) {
		kept.Type = set.Type
	}
	return kept
}

// badFields checks the public fields of the set's credentials that the action reads:
// the key id of an aws-credentials set, the certificates of an x509 set.
func (c CredentialSet) badFields() []string {
	var bad []string
	field := func(name, path string, ok func(string) bool) {
		v, present := c.Credentials[name]
		if !present || v == nil {
			return
		}
		if s, isText := v.(string); !isText || !ok(s) {
			bad = append(bad, path)
		}
	}
	switch c.Type {
	case "aws-credentials":
		field("accessKeyId", FieldAccessKeyID, awsid.AccessKeyID)
	case "x509":
		field("cert", FieldCert, func(string) bool { return true })
		field("ca", FieldCA, func(string) bool { return true })
	}
	return bad
}

// readString reads a required JSON string.
func readString(raw json.RawMessage, v *string) bool {
	return len(raw) > 0 && json.Unmarshal(raw, v) == nil
}

// optional reads a field that may be absent or null.
func optional[T any](raw json.RawMessage, v *T) bool {
	return len(raw) == 0 || json.Unmarshal(raw, v) == nil
}

// readMillis reads a timestamp: absent, null or 0 is none; anything else must be whole
// epoch milliseconds that Millis accepts (a float such as 1.7e12, or a time centuries
// away, is not a time SORACOM keeps).
func readMillis(raw json.RawMessage, v *int64) bool {
	if !optional(raw, v) {
		return false
	}
	return *v == 0 || !Millis(*v).IsZero()
}

// Whole returns an error for the first unreadable set of a list, nil when every entry
// was read. Callers whose decisions rest on the whole list (which sets exist, what
// their descriptions are) refuse a list that holds a forged entry, before any write.
func Whole(sets []CredentialSet) error {
	for _, s := range sets {
		if len(s.Unreadable) > 0 {
			f := s.Unreadable[0]
			return &AnswerError{Operation: "listCredentials", Method: http.MethodGet, Path: "/v1/credentials",
				Field: f, Want: FieldWant(f), Entry: s.Index + 1}
		}
	}
	return nil
}
