package ghsecrets

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"golang.org/x/crypto/nacl/box"

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
	CreatedAt time.Time
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

// keyID is the shape of a public key id (digits on github.com; GHES the same).
var keyID = regexp.MustCompile(`^[A-Za-z0-9_=+/-]{1,100}$`)

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
	if !keyID.MatchString(a.KeyID) || derr != nil || len(raw) != 32 {
		return PublicKey{}, fmt.Errorf("GitHub %s (%s %s) answered a key that is not a public key id and a base64 Curve25519 key; nothing was encrypted with it",
			cl.operation, cl.method, cl.path)
	}
	k := PublicKey{ID: a.KeyID}
	copy(k.Key[:], raw)
	return k, nil
}

type secretAnswer struct {
	Name       string `json:"name"`
	CreatedAt  string `json:"created_at"`
	UpdatedAt  string `json:"updated_at"`
	Visibility string `json:"visibility"`
}

// Secret returns the metadata of the secret name. A secret that does not exist is an
// *APIError with Status 404.
func (c *Client) Secret(ctx context.Context, s Scope, name string) (Secret, error) {
	cl := call{operation: s.operation("get"), method: http.MethodGet, path: s.path() + "/" + url.PathEscape(name)}
	body, err := c.do(ctx, cl)
	if err != nil {
		return Secret{}, err
	}
	a, err := decode[secretAnswer](cl, body)
	if err != nil {
		return Secret{}, err
	}
	updated, uerr := time.Parse(time.RFC3339, a.UpdatedAt)
	created, _ := time.Parse(time.RFC3339, a.CreatedAt)
	switch {
	case uerr != nil:
		return Secret{}, fmt.Errorf("GitHub %s (%s %s) answered no readable updated_at, which confirms a write", cl.operation, cl.method, cl.path)
	case s.Kind == Organization && !validVisibility(a.Visibility):
		return Secret{}, fmt.Errorf("GitHub %s (%s %s) answered a visibility that is not all, private or selected", cl.operation, cl.method, cl.path)
	}
	return Secret{Name: name, CreatedAt: created.UTC(), UpdatedAt: updated.UTC(), Visibility: a.Visibility}, nil
}

func validVisibility(v string) bool {
	return v == VisibilityAll || v == VisibilityPrivate || v == VisibilitySelected
}

// Bounds of the selected-repositories list: 100 a page (GitHub's most), 10 pages.
const (
	perPage  = 100
	maxPages = 10
)

// SelectedRepositories returns the repositories an organization secret with selected
// visibility reaches, read page by page up to a bound.
func (c *Client) SelectedRepositories(ctx context.Context, s Scope, name string) (ids []int64, names []string, err error) {
	for page := 1; ; page++ {
		cl := call{operation: s.operation("list-selected-repos"), method: http.MethodGet,
			path: s.path() + "/" + url.PathEscape(name) + "/repositories?per_page=" + strconv.Itoa(perPage) + "&page=" + strconv.Itoa(page)}
		body, err := c.do(ctx, cl)
		if err != nil {
			return nil, nil, err
		}
		a, err := decode[struct {
			TotalCount   int `json:"total_count"`
			Repositories []struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			} `json:"repositories"`
		}](cl, body)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range a.Repositories {
			if r.ID <= 0 || !shape.Repository(s.Owner+"/"+r.Name) {
				return nil, nil, fmt.Errorf("GitHub %s answered a repository that is not an id and a name; the secret's repositories are unknown", cl.operation)
			}
			ids, names = append(ids, r.ID), append(names, r.Name)
		}
		switch {
		case len(ids) >= a.TotalCount || len(a.Repositories) == 0:
			return ids, names, nil
		case page == maxPages:
			return nil, nil, fmt.Errorf("organization secret %s reaches more than %d repositories, more than this action reads", name, maxPages*perPage)
		}
	}
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
