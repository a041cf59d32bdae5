// Package awstest runs fake AWS STS and IAM endpoints and a fake GitHub Actions OIDC
// token endpoint on loopback, for tests that drive the real AWS SDK (or the built
// action) against them.
//
// The fakes speak the AWS query protocol the SDK uses for STS and IAM: form-encoded POST
// with Action and Version, XML answers in each service's namespace, and XML error
// documents the SDK turns into smithy.APIError codes. They check the SigV4 signature of
// every signed request against the keys they issued, so a key that was mangled on its way
// (or is inactive, deleted, or not yet propagated) is refused the way AWS refuses it.
//
// Point a process at them with the SDK's own endpoint variables; see Account.Env and
// OIDC.Env.
package awstest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awsid"
)

// DefaultAccountID is the account id of a new Account.
const DefaultAccountID = "123456789012"

// Region is the region Env points the SDK at.
const Region = "us-east-1"

// Key statuses, as IAM spells them.
const (
	Active   = "Active"
	Inactive = "Inactive"
)

// Key is an access key in the fake account.
type Key struct {
	ID      string
	Secret  string
	User    string
	Status  string // Active or Inactive
	Created time.Time
}

// Trust is a role's trust policy for GitHub's OIDC provider: which issuer signs the
// tokens, which audience the provider lists, and which sub the policy allows (a
// StringLike pattern where * matches anything).
type Trust struct {
	Issuer   *OIDC
	Audience string
	Subject  string
}

// Fault is an error answer to inject in place of an action's normal answer.
type Fault struct {
	Status  int    // HTTP status; 400 when zero
	Code    string // error code, e.g. Throttling
	Message string
	Times   int // how many requests in a row get it; 1 when zero
	// AfterHandling carries the action out before answering the error: a request that
	// took effect though its caller saw it fail (a 5xx from a proxy after the write).
	AfterHandling bool
}

// Throttling is the answer STS and IAM give when a caller exceeds its request rate.
func Throttling(times int) Fault {
	return Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded", Times: times}
}

// Unavailable is a 503 answer.
func Unavailable(times int) Fault {
	return Fault{Status: 503, Code: "ServiceUnavailable", Message: "Service is unavailable", Times: times}
}

// Request is one request the fakes received.
type Request struct {
	Service   string     // sts or iam
	Action    string     // e.g. CreateAccessKey
	Caller    string     // access key id that signed it; empty when unsigned
	CallerArn string     // who that key belongs to, when the key was accepted
	Params    url.Values // form parameters; WebIdentityToken is redacted
	Error     string     // error code answered, if any
}

type principal struct {
	key          Key
	sessionToken string // for assumed-role credentials
	arn, userID  string
	expires      time.Time // for assumed-role credentials
	propagatesAt time.Time
	deleted      bool
	// lastUsed is when the key last signed a request IAM or STS accepted, and where.
	lastUsed                    time.Time
	lastService, lastUsedRegion string
}

// Account is a fake AWS account with STS and IAM endpoints. Its methods are safe for
// concurrent use; the servers stop when the test ends.
type Account struct {
	tb  TB
	sts *httptest.Server
	iam *httptest.Server

	mu       sync.Mutex
	id       string
	users    []string              // IAM user names
	keys     map[string]*principal // access key id → principal (users' keys and sessions)
	roles    map[string]Trust
	delay    time.Duration
	faults   map[string][]Fault
	requests []Request
	seq      int
	// latency is added to every request before it is handled, outside the lock, so
	// concurrent requests overlap as they would against AWS.
	latency time.Duration
	// foreign are key ids of other accounts: key id → account id.
	foreign map[string]string
	// unknownKey is the error code GetAccessKeyLastUsed answers for a key IAM does not
	// know (AWS does not document which; NoSuchEntity by default).
	unknownKey string
	// denied are the actions the callers' policies do not allow.
	denied map[string]bool
	// policy, when not nil, is every caller's identity policy (see SetPolicy).
	policy []statement
	// paging is how ListAccessKeys pages; pages counts the pages answered.
	paging Paging
	pages  int
}

// NewAccount starts a fake account's STS and IAM endpoints.
func NewAccount(tb TB) *Account {
	tb.Helper()
	a := &Account{
		tb:     tb,
		id:     DefaultAccountID,
		keys:   map[string]*principal{},
		roles:  map[string]Trust{},
		faults: map[string][]Fault{},

		foreign:    map[string]string{},
		unknownKey: "NoSuchEntity",
		denied:     map[string]bool{},
	}
	a.sts = httptest.NewServer(a.handler("sts"))
	a.iam = httptest.NewServer(a.handler("iam"))
	tb.Cleanup(a.sts.Close)
	tb.Cleanup(a.iam.Close)
	return a
}

// ID returns the account id.
func (a *Account) ID() string { return a.id }

// STSURL returns the STS endpoint.
func (a *Account) STSURL() string { return a.sts.URL }

// IAMURL returns the IAM endpoint.
func (a *Account) IAMURL() string { return a.iam.URL }

// Env returns the variables that point the AWS SDK at this account and keep it from
// reading anything else: the endpoints, the region, shared config files that do not
// exist, no instance metadata, and no ambient credentials (see KeyEnv for those).
func (a *Account) Env() map[string]string {
	dir := a.tb.TempDir()
	return map[string]string{
		"AWS_ENDPOINT_URL_STS":        a.sts.URL,
		"AWS_ENDPOINT_URL_IAM":        a.iam.URL,
		"AWS_ENDPOINT_URL":            "",
		"AWS_REGION":                  Region,
		"AWS_DEFAULT_REGION":          "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "absent-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "absent-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ACCESS_KEY_ID":           "",
		"AWS_SECRET_ACCESS_KEY":       "",
		"AWS_SESSION_TOKEN":           "",
		"AWS_ROLE_ARN":                "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "",
	}
}

// KeyEnv returns the variables aws-actions/configure-aws-credentials would leave for a
// job using key as its ambient credentials.
func KeyEnv(k Key) map[string]string {
	return map[string]string{"AWS_ACCESS_KEY_ID": k.ID, "AWS_SECRET_ACCESS_KEY": k.Secret}
}

// EnvList merges the maps (later maps win) into the KEY=value form of exec.Cmd.Env,
// sorted, for running the built action against the fakes.
func EnvList(envs ...map[string]string) []string {
	merged := map[string]string{}
	for _, env := range envs {
		for k, v := range env {
			merged[k] = v
		}
	}
	out := make([]string, 0, len(merged))
	for k, v := range merged {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// TB is the part of testing.TB the fakes use. Declaring it here keeps the testing
// package out of the programs that run the fakes outside a test (the demo, the local
// runner's --emulator).
type TB interface {
	Helper()
	Cleanup(func())
	TempDir() string
}

// Setenv sets every variable of every map for the rest of the test (later maps win).
func Setenv(t interface {
	Helper()
	Setenv(key, value string)
}, envs ...map[string]string) {
	t.Helper()
	for _, env := range envs {
		for k, v := range env {
			t.Setenv(k, v)
		}
	}
}

// AddUser creates an IAM user with no keys.
func (a *Account) AddUser(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !slices.Contains(a.users, name) {
		a.users = append(a.users, name)
	}
}

// AddKey gives user (created if needed) a key with the given status that works at once,
// as a key created long ago does.
func (a *Account) AddKey(user, status string) Key {
	a.AddUser(user)
	a.mu.Lock()
	defer a.mu.Unlock()
	// Seeded keys are older than any key the test creates, as in a real account.
	created := time.Now().Add(-24 * time.Hour).Add(time.Duration(len(a.keys)) * time.Second).UTC().Truncate(time.Second)
	p := a.newKeyLocked(user, status, created)
	p.propagatesAt = time.Time{}
	return p.key
}

// AddRole creates a role that trusts GitHub's OIDC tokens as t says.
func (a *Account) AddRole(arn string, t Trust) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.roles[arn] = t
}

// SetPropagationDelay makes keys created from now on refused by STS and IAM
// (InvalidClientTokenId) until d has passed, as real IAM does for a few seconds.
func (a *Account) SetPropagationDelay(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.delay = d
}

// Fail makes the next requests for action (e.g. "CreateAccessKey") answer f.
// Faults queue up in the order given.
func (a *Account) Fail(action string, f Fault) {
	if f.Status == 0 {
		f.Status = http.StatusBadRequest
	}
	if f.Times == 0 {
		f.Times = 1
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faults[action] = append(a.faults[action], f)
}

// Keys returns user's keys (not deleted), oldest first.
func (a *Account) Keys(user string) []Key {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.userKeysLocked(user)
}

// SessionSecrets returns the secret access keys and session tokens of every temporary
// credential STS issued, for tests that scan a run's output for leaks.
func (a *Account) SessionSecrets() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, p := range a.keys {
		if p.sessionToken != "" {
			out = append(out, p.key.Secret, p.sessionToken)
		}
	}
	return out
}

// SessionSecretsByUse splits SessionSecrets in two: those of the sessions whose key
// signed a request (so their holder had them), and the others. A caller can lose an
// answer it was sent (a connection dropped while the body was read) and ask again,
// so STS may have issued a session its caller never saw, and could neither use nor
// mask.
func (a *Account) SessionSecretsByUse() (used, unused []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	signed := map[string]bool{}
	for _, r := range a.requests {
		signed[r.Caller] = true
	}
	for id, p := range a.keys {
		switch {
		case p.sessionToken == "":
		case signed[id]:
			used = append(used, p.key.Secret, p.sessionToken)
		default:
			unused = append(unused, p.key.Secret, p.sessionToken)
		}
	}
	return used, unused
}

// Requests returns every request received so far.
func (a *Account) Requests() []Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.requests)
}

// Actions returns the actions received so far, in order: a compact view for asserting
// what a piece of code did.
func (a *Account) Actions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, r := range a.requests {
		out = append(out, r.Action)
	}
	return out
}

func (a *Account) userKeysLocked(user string) []Key {
	var out []Key
	for _, p := range a.keys {
		if p.key.User == user && p.sessionToken == "" && !p.deleted {
			out = append(out, p.key)
		}
	}
	slices.SortFunc(out, func(x, y Key) int {
		if c := x.Created.Compare(y.Created); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out
}

func (a *Account) newKeyLocked(user, status string, created time.Time) *principal {
	p := &principal{
		key: Key{
			ID:      "AKIA" + randomString(16, upperAlnum),
			Secret:  randomString(40, secretChars),
			User:    user,
			Status:  status,
			Created: created,
		},
		arn:          fmt.Sprintf("arn:aws:iam::%s:user/%s", a.id, user),
		userID:       "AIDA" + strings.ToUpper(hex.EncodeToString(sha256Sum(user))[:17]),
		propagatesAt: created.Add(a.delay),
	}
	a.keys[p.key.ID] = p
	return p
}

func (a *Account) nextRequestID() string {
	a.seq++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", a.seq)
}

// apiError is an error answer.
type apiError struct {
	status        int
	code, message string
}

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// actions are the operations each fake implements.
var actions = map[string][]string{
	"sts": {"GetCallerIdentity", "AssumeRoleWithWebIdentity", "GetAccessKeyInfo"},
	"iam": {"ListAccessKeys", "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "GetAccessKeyLastUsed"},
}

var errInvalidToken = &apiError{403, "InvalidClientTokenId", "The security token included in the request is invalid."}

// awsService is one fake endpoint: its name, API version and XML namespace.
type awsService struct{ name, version, ns string }

func (a *Account) handler(service string) http.Handler {
	svc := awsService{service, "2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/"}
	if service == "iam" {
		svc.version, svc.ns = "2010-05-08", "https://iam.amazonaws.com/doc/2010-05-08/"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.serve(svc, w, r) })
}

// serve answers one Query API call the way AWS does: an XML result or an XML error,
// each with a request id, and logs it.
func (a *Account) serve(svc awsService, w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	params, _ := url.ParseQuery(string(body))
	action := params.Get("Action")
	if !a.holdAnswer(r) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	rid := a.nextRequestID()
	logged := Request{Service: svc.name, Action: action, Params: redact(params)}
	result, aerr := a.callLocked(svc, r, body, params, &logged)
	if aerr != nil {
		logged.Error = aerr.code
		a.requests = append(a.requests, logged)
		writeXML(w, aerr.status, rid, fmt.Sprintf(`<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			svc.ns, esc(aerr.code), esc(aerr.message), rid))
		return
	}
	a.requests = append(a.requests, logged)
	writeXML(w, http.StatusOK, rid, fmt.Sprintf(`<%sResponse xmlns="%s">%s<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`,
		action, svc.ns, result, rid, action))
}

// holdAnswer holds the answer for the account's latency; false when the client gave up
// meanwhile.
func (a *Account) holdAnswer(r *http.Request) bool {
	a.mu.Lock()
	latency := a.latency
	a.mu.Unlock()
	if latency <= 0 {
		return true
	}
	select {
	case <-time.After(latency):
		return true
	case <-r.Context().Done():
		return false
	}
}

// callLocked checks the call (action, version, signature, denial), applies an injected
// fault and runs the action.
func (a *Account) callLocked(svc awsService, r *http.Request, body []byte, params url.Values, logged *Request) (string, *apiError) {
	action := params.Get("Action")
	if r.Method != http.MethodPost || action == "" {
		return "", errorf(400, "MissingAction", "Missing Action")
	}
	if params.Get("Version") != svc.version || !slices.Contains(actions[svc.name], action) {
		return "", errorf(400, "InvalidAction", "Could not find operation %s for version %s", action, params.Get("Version"))
	}
	caller, aerr := a.callerLocked(svc.name, action, r, body, logged)
	if aerr != nil {
		return "", aerr
	}
	if a.denied[action] {
		return "", errorf(403, "AccessDenied", "User: %s is not authorized to perform: %s:%s", logged.CallerArn, svc.name, action)
	}
	if ok, resource := a.allowedLocked(svc.name, action, params, caller); !ok {
		return "", errorf(403, "AccessDenied", "User: %s is not authorized to perform: %s:%s on resource: %s because no identity-based policy allows the %s:%s action",
			logged.CallerArn, svc.name, action, resource, svc.name, action)
	}
	f, faulted := a.takeFaultLocked(action)
	if faulted && !f.AfterHandling {
		return "", &apiError{f.Status, f.Code, f.Message}
	}
	var result string
	if svc.name == "sts" {
		result, aerr = a.stsLocked(action, params, caller)
	} else {
		result, aerr = a.iamLocked(action, params, caller)
	}
	if faulted {
		return "", &apiError{f.Status, f.Code, f.Message}
	}
	return result, aerr
}

// callerLocked authenticates the call's signature and records the key's last use;
// only AssumeRoleWithWebIdentity may come unsigned (nil caller).
func (a *Account) callerLocked(service, action string, r *http.Request, body []byte, logged *Request) (*principal, *apiError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if service == "sts" && action == "AssumeRoleWithWebIdentity" {
			return nil, nil
		}
		return nil, errorf(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	logged.Caller = credentialKeyID(auth)
	p, aerr := a.authenticateLocked(r, body, service)
	if aerr != nil {
		return nil, aerr
	}
	logged.CallerArn = p.arn
	p.lastUsed, p.lastService, p.lastUsedRegion = time.Now().UTC().Truncate(time.Second), service, signingRegion(auth)
	return p, nil
}

func (a *Account) takeFaultLocked(action string) (Fault, bool) {
	q := a.faults[action]
	if len(q) == 0 {
		return Fault{}, false
	}
	f := q[0]
	q[0].Times--
	if q[0].Times <= 0 {
		a.faults[action] = q[1:]
	}
	return f, true
}

var credentialPattern = regexp.MustCompile(`Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request`)
var signedHeadersPattern = regexp.MustCompile(`SignedHeaders=([^,\s]+)`)
var signaturePattern = regexp.MustCompile(`Signature=([0-9a-f]+)`)

func credentialKeyID(auth string) string {
	if m := credentialPattern.FindStringSubmatch(auth); m != nil {
		return m[1]
	}
	return ""
}

// authenticateLocked finds the key that signed r and checks the SigV4 signature by
// signing a copy of the request with that key's secret.
func (a *Account) authenticateLocked(r *http.Request, body []byte, service string) (*principal, *apiError) {
	auth := r.Header.Get("Authorization")
	cred := credentialPattern.FindStringSubmatch(auth)
	sh := signedHeadersPattern.FindStringSubmatch(auth)
	sig := signaturePattern.FindStringSubmatch(auth)
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || cred == nil || sh == nil || sig == nil {
		return nil, errorf(400, "IncompleteSignature", "Authorization header is malformed")
	}
	p, ok := a.keys[cred[1]]
	now := time.Now()
	switch {
	case !ok || p.deleted || p.key.Status != Active || now.Before(p.propagatesAt):
		return nil, errInvalidToken
	case p.sessionToken != "" && now.After(p.expires):
		return nil, errorf(403, "ExpiredToken", "The security token included in the request is expired")
	case p.sessionToken != "" && r.Header.Get("X-Amz-Security-Token") != p.sessionToken:
		return nil, errInvalidToken
	case cred[4] != service:
		return nil, errorf(403, "SignatureDoesNotMatch", "Credential should be scoped to correct service: '%s'.", service)
	}
	signingTime, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return nil, errorf(400, "IncompleteSignature", "X-Amz-Date is missing or malformed")
	}
	cp, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	cp.Host = r.Host
	cp.ContentLength = int64(len(body))
	for _, h := range strings.Split(sh[1], ";") {
		if h != "host" {
			cp.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: p.key.ID, SecretAccessKey: p.key.Secret, SessionToken: p.sessionToken}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, cp, hex.EncodeToString(sum[:]), cred[4], cred[3], signingTime); err != nil {
		return nil, errorf(400, "IncompleteSignature", "cannot check the signature")
	}
	want := signaturePattern.FindStringSubmatch(cp.Header.Get("Authorization"))
	if want == nil || want[1] != sig[1] {
		return nil, errorf(403, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return p, nil
}

func (a *Account) stsLocked(action string, params url.Values, caller *principal) (string, *apiError) {
	switch action {
	case "GetCallerIdentity":
		return fmt.Sprintf("<GetCallerIdentityResult><Arn>%s</Arn><UserId>%s</UserId><Account>%s</Account></GetCallerIdentityResult>",
			esc(caller.arn), esc(caller.userID), a.id), nil
	case "AssumeRoleWithWebIdentity":
		return a.assumeRoleLocked(params)
	case "GetAccessKeyInfo":
		return a.accessKeyInfoLocked(params)
	}
	return "", errorf(400, "InvalidAction", "Could not find operation %s for version 2011-06-15", action)
}

func (a *Account) assumeRoleLocked(params url.Values) (string, *apiError) {
	arn, session, token := params.Get("RoleArn"), params.Get("RoleSessionName"), params.Get("WebIdentityToken")
	duration := 3600
	if d := params.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			return "", errorf(400, "ValidationError", "1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint", d)
		}
		duration = n
	}
	if !awsid.SessionName(session) {
		return "", errorf(400, "ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint", session)
	}
	if len(token) < 4 {
		return "", errorf(400, "ValidationError", "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint")
	}
	trust, ok := a.roles[arn]
	if !ok {
		return "", errorf(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	}
	claims, err := trust.Issuer.Verify(token)
	switch {
	case errors.Is(err, errExpired):
		return "", errorf(400, "ExpiredTokenException", "Token expired")
	case err != nil:
		return "", errorf(400, "InvalidIdentityToken", "Couldn't verify the token: %v", err)
	case claims.Aud != trust.Audience:
		return "", errorf(400, "InvalidIdentityToken", "Incorrect token audience")
	case !stringLike(trust.Subject, claims.Sub):
		return "", errorf(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	}
	roleName := arn[strings.LastIndex(arn, "/")+1:]
	p := &principal{
		key: Key{
			ID:      "ASIA" + randomString(16, upperAlnum),
			Secret:  randomString(40, secretChars),
			Status:  Active,
			Created: time.Now().UTC(),
		},
		sessionToken: randomString(300, secretChars),
		arn:          fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", a.id, roleName, session),
		userID:       "AROA" + strings.ToUpper(hex.EncodeToString(sha256Sum(arn))[:17]) + ":" + session,
		expires:      time.Now().Add(time.Duration(duration) * time.Second),
	}
	a.keys[p.key.ID] = p
	return fmt.Sprintf("<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>"+
		"<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials><SubjectFromWebIdentityToken>%s</SubjectFromWebIdentityToken>"+
		"<AssumedRoleUser><Arn>%s</Arn><AssumedRoleId>%s</AssumedRoleId></AssumedRoleUser><Provider>%s</Provider><Audience>%s</Audience>"+
		"</AssumeRoleWithWebIdentityResult>",
		p.key.ID, esc(p.key.Secret), esc(p.sessionToken), p.expires.UTC().Format(time.RFC3339), esc(claims.Sub),
		esc(p.arn), esc(p.userID), esc(claims.Iss), esc(claims.Aud)), nil
}

// stringLike matches IAM's StringLike: * matches any run of characters, ? one.
func stringLike(pattern, s string) bool {
	var re strings.Builder
	re.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString("$")
	ok, _ := regexp.MatchString(re.String(), s)
	return ok
}

func (a *Account) iamLocked(action string, params url.Values, caller *principal) (string, *apiError) {
	if action == "GetAccessKeyLastUsed" {
		return a.lastUsedLocked(params)
	}
	user := params.Get("UserName")
	if user == "" && caller.sessionToken == "" {
		user = caller.key.User // IAM's default: the caller's own user
	}
	if user == "" {
		return "", errorf(400, "ValidationError", "Must specify userName when calling with non-User credentials")
	}
	if !slices.Contains(a.users, user) {
		return "", errorf(404, "NoSuchEntity", "The user with name %s cannot be found.", user)
	}
	keyParam := func() (*principal, *apiError) {
		id := params.Get("AccessKeyId")
		p, ok := a.keys[id]
		if !ok || p.deleted || p.key.User != user || p.sessionToken != "" {
			return nil, errorf(404, "NoSuchEntity", "The Access Key with id %s cannot be found.", id)
		}
		return p, nil
	}
	switch action {
	case "ListAccessKeys":
		return a.listPageLocked(user, a.userKeysLocked(user), params), nil
	case "CreateAccessKey":
		if len(a.userKeysLocked(user)) >= 2 {
			return "", errorf(409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
		}
		p := a.newKeyLocked(user, Active, time.Now().UTC().Truncate(time.Second))
		p.propagatesAt = time.Now().Add(a.delay)
		return fmt.Sprintf("<CreateAccessKeyResult><AccessKey><UserName>%s</UserName><AccessKeyId>%s</AccessKeyId><Status>Active</Status>"+
			"<SecretAccessKey>%s</SecretAccessKey><CreateDate>%s</CreateDate></AccessKey></CreateAccessKeyResult>",
			esc(user), p.key.ID, esc(p.key.Secret), p.key.Created.Format(time.RFC3339)), nil
	case "UpdateAccessKey":
		p, err := keyParam()
		if err != nil {
			return "", err
		}
		status := params.Get("Status")
		if status != Active && status != Inactive {
			return "", errorf(400, "ValidationError", "1 validation error detected: Value '%s' at 'status' failed to satisfy constraint", status)
		}
		p.key.Status = status
		return "", nil
	case "DeleteAccessKey":
		p, err := keyParam()
		if err != nil {
			return "", err
		}
		p.deleted = true
		return "", nil
	}
	return "", errorf(400, "InvalidAction", "Could not find operation %s for version 2010-05-08", action)
}

func redact(v url.Values) url.Values {
	v = cloneValues(v)
	if v.Has("WebIdentityToken") {
		v.Set("WebIdentityToken", "REDACTED")
	}
	return v
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func writeXML(w http.ResponseWriter, status int, rid, body string) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", rid) // where the SDK reads the request id from
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

const (
	upperAlnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func sha256Sum(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
