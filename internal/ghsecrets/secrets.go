package ghsecrets

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/nacl/box"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/paging"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/shape"
)

// PublicKey is the key a scope's secrets are encrypted with.
type PublicKey struct {
	ID  string
	Key [32]byte
}

// Organization secret visibilities.
const (
	VisibilityAll      = "all"
	VisibilityPrivate  = "private"
	VisibilitySelected = "selected"
)

// Secret is a secret's metadata: GitHub never returns a value.
type Secret struct {
	Name      string
	UpdatedAt time.Time
	// Visibility is an organization secret's: all, private or selected.
	Visibility string
}

// OrgAccess is which repositories an organization secret reaches. A write carries it,
// so that rotating a value leaves the secret reaching exactly what it reached.
type OrgAccess struct {
	Visibility              string
	SelectedRepositoryIDs   []int64
	SelectedRepositoryNames []string // for messages and the gh command
}

// PublicKey returns the public key of the scope's secrets. A token that may not read
// them fails here with an *APIError whose Refused is true.
func (c *Client) PublicKey(ctx context.Context, s Scope) (PublicKey, error) {
	cl := call{operation: s.operation("public-key"), method: http.MethodGet, path: s.path() + "/public-key"}
	body, err := c.do(ctx, cl)
	if err != nil {
		return PublicKey{}, err
	}
	a, err := decode[struct {
		KeyID string `json:"key_id"`
		Key   string `json:"key"`
	}](cl, body)
	if err != nil {
		return PublicKey{}, err
	}
	raw, derr := base64.StdEncoding.DecodeString(a.Key)
	if !shape.PublicKeyID(a.KeyID) || derr != nil || len(raw) != 32 {
		return PublicKey{}, fmt.Errorf("GitHub %s (%s %s) answered a key that is not a public key id and a base64 Curve25519 key; nothing was encrypted with it",
			cl.operation, cl.method, cl.path)
	}
	k := PublicKey{ID: a.KeyID}
	copy(k.Key[:], raw)
	return k, nil
}

type secretAnswer struct {
	Name       string `json:"name"`
	UpdatedAt  string `json:"updated_at"`
	Visibility string `json:"visibility"`
}

type listAnswer struct {
	TotalCount int            `json:"total_count"`
	Secrets    []secretAnswer `json:"secrets"`
}

// Secrets returns the metadata of the secrets named, by name as asked (GitHub compares
// secret names without regard to case); a secret that does not exist is absent from the
// map. It reads the scope's list of secrets, which carries every secret's metadata: one
// request for all of them while they are on the first page of 100, and at most
// maxPages pages through internal/paging (GitHub holds at most 100 secrets in a
// repository or an environment and 1,000 in an organization).
func (c *Client) Secrets(ctx context.Context, s Scope, names []string) (map[string]Secret, error) {
	found := map[string]Secret{}
	seen := 0
	limit := paging.Limit{Service: "GitHub", Call: s.operation("list"), MaxPages: maxPages, MaxItems: len(names), Deadline: c.retry.Deadline}
	_, err := paging.Collect(ctx, limit, func(ctx context.Context, marker string) (paging.Page[Secret], error) {
		page := 1
		if marker != "" {
			page, _ = strconv.Atoi(marker)
		}
		cl := call{operation: s.operation("list"), method: http.MethodGet,
			path: s.path() + "?per_page=" + strconv.Itoa(perPage) + "&page=" + strconv.Itoa(page)}
		body, err := c.do(ctx, cl)
		if err != nil {
			return paging.Page[Secret]{}, err
		}
		a, err := decode[listAnswer](cl, body)
		if err != nil {
			return paging.Page[Secret]{}, err
		}
		matched, err := collect(cl, s, a.Secrets, names, found)
		seen += len(a.Secrets)
		more := len(found) < len(names) && seen < a.TotalCount && len(a.Secrets) > 0
		return paging.Page[Secret]{Items: matched, More: more, Next: strconv.Itoa(page + 1)}, err
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// collect checks the entries of one page that are among names, adds them to found and
// returns them.
func collect(cl call, s Scope, page []secretAnswer, names []string, found map[string]Secret) ([]Secret, error) {
	var matched []Secret
	for _, a := range page {
		i := slices.IndexFunc(names, func(n string) bool { return strings.EqualFold(n, a.Name) })
		if i < 0 {
			continue
		}
		updated, uerr := time.Parse(time.RFC3339, a.UpdatedAt)
		switch {
		case uerr != nil:
			return nil, fmt.Errorf("GitHub %s (%s %s) answered no readable updated_at for %s, which confirms a write", cl.operation, cl.method, cl.path, names[i])
		case s.Kind == Organization && !validVisibility(a.Visibility):
			return nil, fmt.Errorf("GitHub %s (%s %s) answered a visibility for %s that is not all, private or selected", cl.operation, cl.method, cl.path, names[i])
		}
		sec := Secret{Name: names[i], UpdatedAt: updated.UTC(), Visibility: a.Visibility}
		found[names[i]], matched = sec, append(matched, sec)
	}
	return matched, nil
}

func validVisibility(v string) bool {
	return v == VisibilityAll || v == VisibilityPrivate || v == VisibilitySelected
}

// Bounds of the lists (secrets, selected repositories): 100 a page (GitHub's most), 10
// pages.
const (
	perPage  = 100
	maxPages = 10
)

// SelectedRepositories returns the repositories an organization secret with selected
// visibility reaches, read page by page through internal/paging, up to a bound.
func (c *Client) SelectedRepositories(ctx context.Context, s Scope, name string) (ids []int64, names []string, err error) {
	type repo struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	limit := paging.Limit{Service: "GitHub", Call: s.operation("list-selected-repos"), MaxPages: maxPages, MaxItems: maxPages * perPage, Deadline: c.retry.Deadline}
	read := 0
	repos, err := paging.Collect(ctx, limit, func(ctx context.Context, marker string) (paging.Page[repo], error) {
		page := 1
		if marker != "" {
			page, _ = strconv.Atoi(marker)
		}
		cl := call{operation: s.operation("list-selected-repos"), method: http.MethodGet,
			path: s.path() + "/" + url.PathEscape(name) + "/repositories?per_page=" + strconv.Itoa(perPage) + "&page=" + strconv.Itoa(page)}
		body, err := c.do(ctx, cl)
		if err != nil {
			return paging.Page[repo]{}, err
		}
		a, err := decode[struct {
			TotalCount   int    `json:"total_count"`
			Repositories []repo `json:"repositories"`
		}](cl, body)
		if err != nil {
			return paging.Page[repo]{}, err
		}
		for _, r := range a.Repositories {
			if r.ID <= 0 || !shape.Repository(s.Owner+"/"+r.Name) {
				return paging.Page[repo]{}, fmt.Errorf("GitHub %s answered a repository that is not an id and a name; the secret's repositories are unknown", cl.operation)
			}
		}
		read += len(a.Repositories)
		return paging.Page[repo]{Items: a.Repositories, More: read < a.TotalCount && len(a.Repositories) > 0, Next: strconv.Itoa(page + 1)}, nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("organization secret %s: its selected repositories: %w", name, err)
	}
	for _, r := range repos {
		ids, names = append(ids, r.ID), append(names, r.Name)
	}
	return ids, names, nil
}

// Access reads which repositories an organization secret reaches, so that a write
// keeps it so.
func (c *Client) Access(ctx context.Context, s Scope, meta Secret) (*OrgAccess, error) {
	if s.Kind != Organization {
		return nil, nil
	}
	a := &OrgAccess{Visibility: meta.Visibility}
	if meta.Visibility != VisibilitySelected {
		return a, nil
	}
	ids, names, err := c.SelectedRepositories(ctx, s, meta.Name)
	if err != nil {
		return nil, err
	}
	a.SelectedRepositoryIDs, a.SelectedRepositoryNames = ids, names
	return a, nil
}

type putBody struct {
	EncryptedValue        string   `json:"encrypted_value"`
	KeyID                 string   `json:"key_id"`
	Visibility            string   `json:"visibility,omitempty"`
	SelectedRepositoryIDs *[]int64 `json:"selected_repository_ids,omitempty"`
}

// Put stores value in the secret name, encrypted with key. The encrypted value is
// masked before it is sent. An organization secret needs access (its visibility and
// repositories as read by Access): GitHub requires a visibility on every write. A
// write whose outcome is unknown is an error for which WriteInDoubt is true.
func (c *Client) Put(ctx context.Context, s Scope, name string, value secret.Secret, key PublicKey, access *OrgAccess) error {
	sealed, err := Seal(value, key)
	if err != nil {
		return err
	}
	secret.Mask(c.masker, sealed.Reveal())
	b := putBody{EncryptedValue: sealed.Reveal(), KeyID: key.ID}
	if s.Kind == Organization {
		if access == nil || !validVisibility(access.Visibility) {
			return fmt.Errorf("organization secret %s: its visibility is unknown, so it is not written (GitHub would reset it)", name)
		}
		b.Visibility = access.Visibility
		if access.Visibility == VisibilitySelected {
			ids := append([]int64{}, access.SelectedRepositoryIDs...) // [] rather than null
			b.SelectedRepositoryIDs = &ids
		}
	}
	payload, err := json.Marshal(b)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, call{operation: s.operation("create-or-update"), method: http.MethodPut,
		path: s.path() + "/" + url.PathEscape(name), body: payload})
	return err
}

// Seal encrypts value for key as GitHub requires: a libsodium sealed box (an ephemeral
// key pair, the nonce derived from both public keys), base64-encoded.
func Seal(value secret.Secret, key PublicKey) (secret.Secret, error) {
	out, err := box.SealAnonymous(nil, []byte(value.Reveal()), &key.Key, rand.Reader)
	if err != nil {
		return secret.Secret{}, fmt.Errorf("encrypting a secret: %w", err)
	}
	return secret.New(base64.StdEncoding.EncodeToString(out)), nil
}
