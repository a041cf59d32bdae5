package soracomtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SpecPathFromRoot is where the SORACOM OpenAPI description lives relative to the
// project root (the directory holding go.mod). It is kept outside the project on
// purpose; tests skip where it is absent.
const SpecPathFromRoot = "../shared/soracom-api/soracom-api.en.yaml"

// SpecLinkFromRoot is the path, inside the project, through which the tests read the
// spec: a symbolic link, committed, to SpecPathFromRoot. go test caches a result with
// the files the test stat-ed or opened, but only those inside the module: a spec read at
// SpecPathFromRoot directly could appear, change or vanish and go test would still
// answer (cached). Read through the link, its state (target found or not, size, time)
// is part of the cache key, so a new or changed spec re-runs the contract tests.
const SpecLinkFromRoot = "internal/soracomtest/testdata/soracom-api.en.yaml"

// Contract is the SORACOM API description, ready to check requests and responses
// against the documented operations. It is read-only after LoadContract and safe for
// concurrent use; load it once per test binary, the file is large.
type Contract struct {
	router routers.Router
}

// ContractViolation is a request or response that does not fit the spec.
type ContractViolation struct {
	Method string
	Path   string
	// Status is the response status, or 0 for a request violation.
	Status int
	// Err says what does not fit.
	Err string
}

func (v ContractViolation) String() string {
	if v.Status == 0 {
		return fmt.Sprintf("request %s %s: %s", v.Method, v.Path, v.Err)
	}
	return fmt.Sprintf("response %d to %s %s: %s", v.Status, v.Method, v.Path, v.Err)
}

// LoadContract reads the spec at path and prepares it for checking.
func LoadContract(path string) (*Contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load SORACOM API spec: %w", err)
	}
	// No doc.Validate: the published file fails whole-document validation on defects
	// in operations the action never calls (an example in GetOrderResponse, a default
	// outside its enum under /query/sigfox_devices). Routing and request/response
	// validation work without it.
	if err := widenCredentialTypes(doc); err != nil {
		return nil, err
	}
	// The spec's servers are the production hosts with /v1; a relative server makes the
	// router match any host, so requests to the emulator (or a test server) route.
	doc.Servers = openapi3.Servers{{URL: "/v1"}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route SORACOM API spec: %w", err)
	}
	return &Contract{router: router}, nil
}

// widenCredentialTypes replaces the type enum of CreateAndUpdateCredentialsModel (the
// create/update request body) with that of CredentialsModel. The request enum is
// stale: it lists 4 types while the same spec's request examples use 19 and the
// response model lists 20, and the API accepts them (aws-iam-role-credentials among
// them). Checking against the stale enum would reject valid requests.
func widenCredentialTypes(doc *openapi3.T) error {
	enumOf := func(schema string) ([]any, error) {
		ref := doc.Components.Schemas[schema]
		if ref == nil || ref.Value == nil || ref.Value.Properties["type"] == nil || ref.Value.Properties["type"].Value == nil {
			return nil, fmt.Errorf("SORACOM API spec: no schema %s with a type property", schema)
		}
		return ref.Value.Properties["type"].Value.Enum, nil
	}
	all, err := enumOf("CredentialsModel")
	if err != nil {
		return err
	}
	if _, err := enumOf("CreateAndUpdateCredentialsModel"); err != nil {
		return err
	}
	doc.Components.Schemas["CreateAndUpdateCredentialsModel"].Value.Properties["type"].Value.Enum = slices.Clone(all)
	return nil
}

// SpecEnv names an environment variable holding the path of the spec file; CI sets
// it to the copy it downloads and checks. Where it is empty the spec is looked for at
// SpecPathFromRoot.
const SpecEnv = "SORACOM_API_SPEC"

// specSource says where the spec comes from, for skip messages.
const specSource = "soracom-api.en.yaml from github.com/soracom/soracom-cli (generators/assets/; " +
	".github/workflows/ci.yml downloads the pinned version and checks its SHA-256)"

// FindSpec returns the path of the spec: the file SORACOM_API_SPEC names, else
// SpecLinkFromRoot (which leads to SpecPathFromRoot) from the project root, found by
// walking up from the working directory to go.mod. Where neither applies it returns "" and a reason to skip
// that says how to get the file. A SORACOM_API_SPEC naming a missing file is not a
// reason to skip: loading it fails, so a misconfigured CI does not pass silently.
func FindSpec() (path, skipReason string) {
	if p := os.Getenv(SpecEnv); p != "" {
		return p, ""
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", "SORACOM API spec not found: " + err.Error()
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", "SORACOM API spec not found: no go.mod above the working directory"
		}
		dir = parent
	}
	path = filepath.Join(dir, filepath.FromSlash(SpecLinkFromRoot))
	if _, err := os.Stat(path); err != nil {
		return "", "SORACOM API spec not found: " + SpecEnv + " is not set and there is no " +
			SpecPathFromRoot + " from the project root; contract checks need it (it is not part of the project): " +
			"download " + specSource + " and set " + SpecEnv + " to its path"
	}
	return path, ""
}

// LoadProjectContract loads the spec from the project root. Where the file is absent
// it returns (nil, skipReason, nil) so the caller can skip; a file that is present but
// does not load is an error.
func LoadProjectContract() (c *Contract, skipReason string, err error) {
	path, skipReason := FindSpec()
	if skipReason != "" {
		return nil, skipReason, nil
	}
	c, err = LoadContract(path)
	return c, "", err
}

// SkipT is the part of testing.TB that RequireContract uses.
type SkipT interface {
	Helper()
	Skip(args ...any)
	Fatalf(format string, args ...any)
}

// RequireContract loads the project's spec, skipping the test where it is absent and
// failing it where it does not load.
func RequireContract(t SkipT) *Contract {
	t.Helper()
	c, skip, err := LoadProjectContract()
	if err != nil {
		t.Fatalf("%v", err)
	}
	if skip != "" {
		t.Skip(skip)
	}
	return c
}

// ValidateRequest checks a request and its body against the documented operation:
// path, method, parameters, the auth headers the operation's security asks for, the
// Content-Type and the body schema.
func (c *Contract) ValidateRequest(r *http.Request, body []byte) error {
	in, err := c.requestInput(r, body)
	if err != nil {
		return err
	}
	return openapi3filter.ValidateRequest(context.Background(), in)
}

// ValidateResponse checks a response to r against the documented operation. A status
// the operation documents must come with a fitting body and Content-Type; 2xx statuses
// it does not document are violations (a create answering 200 instead of 201). Error
// statuses it does not document are allowed: the spec documents almost none of them
// (401, 403, 409, 429, 5xx are missing for most operations) although the API sends
// them, so flagging them would flag the API itself.
func (c *Contract) ValidateResponse(r *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	in, err := c.requestInput(r, reqBody)
	if err != nil {
		return err
	}
	return validateResponse(in, status, header, body)
}

func validateResponse(in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte) error {
	if status >= 400 && in.Route.Operation.Responses.Status(status) == nil {
		return nil
	}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	})
}

func (c *Contract) requestInput(r *http.Request, body []byte) (*openapi3filter.RequestValidationInput, error) {
	// Route on a copy: the router and validator read the body and may set defaults.
	req := r.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return nil, fmt.Errorf("no documented operation: %w", err)
	}
	return &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			RejectWhenRequestBodyNotSpecified: true,
			AuthenticationFunc:                requireAuthHeaders,
		},
	}, nil
}

// requireAuthHeaders checks that a request carries the header each of its security
// schemes names (X-Soracom-API-Key, X-Soracom-Token); whether the values are valid is
// the emulator's business, not the contract's.
func requireAuthHeaders(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	if s == nil || s.Type != "apiKey" || s.In != "header" {
		return fmt.Errorf("security scheme %q is not an API key header", in.SecuritySchemeName)
	}
	if in.RequestValidationInput.Request.Header.Get(s.Name) == "" {
		return errors.New("missing header " + s.Name)
	}
	return nil
}

// check validates a request the emulator received and, when resp is not nil, the
// emulator's answer to it.
func (c *Contract) check(r *http.Request, body []byte, resp *response) []ContractViolation {
	violation := func(status int, err error) []ContractViolation {
		return []ContractViolation{{Method: r.Method, Path: r.URL.Path, Status: status, Err: err.Error()}}
	}
	in, err := c.requestInput(r, body)
	if err != nil {
		// An undocumented path says nothing about the answer; one violation is enough.
		return violation(0, err)
	}
	var out []ContractViolation
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		out = append(out, violation(0, err)...)
	}
	if resp != nil {
		if err := validateResponse(in, resp.status, resp.header, resp.body); err != nil {
			out = append(out, violation(resp.status, err)...)
		}
	}
	return out
}

// ContractViolations returns what did not fit the spec among the requests received and
// the responses sent since the last Reset (with WithContract; empty without).
func (e *Emulator) ContractViolations() []ContractViolation {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.violations)
}
