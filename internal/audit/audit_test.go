package audit_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/audit"
)

const (
	account = "123456789012"
	day     = 24 * time.Hour
)

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// codeErr is an AWS error answer, carrying its code as the SDK's errors do.
type codeErr string

func (e codeErr) Error() string     { return "api error " + string(e) + ": refused" }
func (e codeErr) ErrorCode() string { return string(e) }

type fakeKey struct {
	user, status string
	created      time.Time
	used         time.Time
}

// fakeKeys is an AWS account in memory, answering the audit's reads.
type fakeKeys struct {
	mu       sync.Mutex
	keys     map[string]fakeKey // keys of the audited account
	foreign  map[string]string  // key id → account, keys of other accounts
	deleted  map[string]bool    // ids of the audited account IAM no longer knows
	unlisted map[string]bool    // ids deleted between GetAccessKeyLastUsed and ListAccessKeys
	unknown  string             // IAM's answer for a key it does not know
	denied   map[string]bool    // operations the credentials may not call
	// deniedKeys are keys whose user the credentials' policy does not cover.
	deniedKeys map[string]bool
	failing    map[string]error // key id or user → an answer that is not IAM's verdict
	callerEr   error
	calls      []string
	inflight   int
	peak       int
}

func newFake() *fakeKeys {
	return &fakeKeys{keys: map[string]fakeKey{}, foreign: map[string]string{}, deleted: map[string]bool{}, unlisted: map[string]bool{},
		unknown: "NoSuchEntity", denied: map[string]bool{}, failing: map[string]error{}, deniedKeys: map[string]bool{}}
}

func (f *fakeKeys) enter(call string) func() {
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.inflight++
	f.peak = max(f.peak, f.inflight)
	f.mu.Unlock()
	time.Sleep(time.Millisecond) // lets concurrent calls overlap
	return func() { f.mu.Lock(); f.inflight--; f.mu.Unlock() }
}

func (f *fakeKeys) CallerAccount(context.Context) (string, error) {
	defer f.enter("GetCallerIdentity")()
	return account, f.callerEr
}

func (f *fakeKeys) AccessKeyAccount(_ context.Context, id string) (string, error) {
	defer f.enter("GetAccessKeyInfo " + id)()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.denied["GetAccessKeyInfo"] {
		return "", codeErr("AccessDenied")
	}
	if a, ok := f.foreign[id]; ok {
		return a, nil
	}
	return account, nil
}

func (f *fakeKeys) AccessKeyLastUsed(_ context.Context, id string) (audit.LastUse, error) {
	defer f.enter("GetAccessKeyLastUsed " + id)()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.denied["GetAccessKeyLastUsed"] || f.deniedKeys[id] {
		return audit.LastUse{}, codeErr("AccessDenied")
	}
	if err := f.failing[id]; err != nil {
		return audit.LastUse{}, err
	}
	k, ok := f.keys[id]
	if !ok || f.deleted[id] {
		return audit.LastUse{}, codeErr(f.unknown)
	}
	if k.used.IsZero() {
		return audit.LastUse{User: k.user, Service: "N/A", Region: "N/A"}, nil
	}
	return audit.LastUse{User: k.user, Date: k.used, Service: "s3", Region: "ap-northeast-1"}, nil
}

func (f *fakeKeys) ListAccessKeys(_ context.Context, user string) ([]audit.Key, error) {
	defer f.enter("ListAccessKeys " + user)()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.denied["ListAccessKeys"] {
		return nil, codeErr("AccessDenied")
	}
	if err := f.failing[user]; err != nil {
		return nil, err
	}
	var out []audit.Key
	for id, k := range f.keys {
		if k.user == user && !f.deleted[id] && !f.unlisted[id] {
			out = append(out, audit.Key{ID: id, Status: k.status, Created: k.created})
		}
	}
	return out, nil
}

func (f *fakeKeys) add(id, user, status string, age time.Duration) {
	f.keys[id] = fakeKey{user: user, status: status, created: now.Add(-age), used: now.Add(-time.Hour)}
}

func (f *fakeKeys) callsOf(op string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, op) {
			out = append(out, c)
		}
	}
	return out
}

var policy = audit.Policy{Now: now, MaxKeyAge: 90 * day, UnusedAfter: 90 * day, ExpiryWarning: 30 * day}

func awsSet(id, key string) audit.Set {
	return audit.Set{ID: id, Type: audit.AWSCredentials, AccessKeyID: key, LastUsed: now.Add(-time.Hour)}
}

func certSet(t *testing.T, notAfter time.Time) audit.Set {
	return audit.Set{ID: "c", Type: audit.X509, Certificate: certificate(t, notAfter), LastUsed: now.Add(-time.Hour)}
}

func certificate(t *testing.T, notAfter time.Time) string {
	t.Helper()
	return certificateFrom(t, notAfter.Add(-365*day), notAfter)
}

func certificateFrom(t *testing.T, notBefore, notAfter time.Time) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "device"},
		NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// checks renders the findings as "set check severity" lines, sorted, for comparison.
func checks(rep *audit.Report) []string {
	var out []string
	for _, f := range rep.Findings() {
		out = append(out, strings.TrimSpace(f.CredentialID+" "+f.Check+" "+string(f.Severity)))
	}
	slices.Sort(out)
	return out
}

func run(t *testing.T, f *fakeKeys, p audit.Policy, sets ...audit.Set) *audit.Report {
	t.Helper()
	in := audit.Input{Sets: sets, All: sets}
	if f != nil {
		in.Keys = f
	}
	rep, err := audit.Run(context.Background(), in, p)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestChecks(t *testing.T) {
	const (
		good     = "AKIAGOODGOODGOOD0001"
		other    = "AKIAGOODGOODGOOD0002"
		gone     = "AKIAGONEGONEGONE0001"
		inactive = "AKIAINACTIVEKEY00001"
		old      = "AKIAOLDOLDOLDOLD0001"
		abroad   = "AKIAFOREIGNKEY000001"
		session  = "ASIATEMPORARYKEY0001"
	)
	tests := []struct {
		name   string
		setup  func(f *fakeKeys)
		policy func(p *audit.Policy)
		sets   func(t *testing.T) []audit.Set
		want   []string
	}{
		{"a young active key in use has no finding",
			func(f *fakeKeys) { f.add(good, "funnel", "Active", 10*day) }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", good)} }, nil},
		{"a key IAM answers NoSuchEntity for, in the audited account, is key-missing",
			func(f *fakeKeys) { f.add(gone, "funnel", "Active", day); f.deleted[gone] = true }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", gone)} }, []string{"a key-missing broken"}},
		{"a key IAM answers AccessDenied for is unknown, not missing, even when another key could be looked up",
			func(f *fakeKeys) {
				f.unknown = "AccessDenied"
				f.add(good, "funnel", "Active", day)
				f.add(gone, "funnel", "Active", day)
				f.deleted[gone] = true
			}, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", good), awsSet("b", gone)} }, []string{"b key-unknown unknown"}},
		{"a key of a user the policy does not cover is unknown, not missing",
			func(f *fakeKeys) {
				f.add(good, "soracom-funnel", "Active", day)
				f.add(other, "ops", "Active", day)
				f.deniedKeys[other] = true
			}, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", good), awsSet("b", other)} }, []string{"b key-unknown unknown"}},
		{"a key IAM does not know whose account STS leaves empty is unknown, not foreign",
			func(f *fakeKeys) { f.foreign[abroad] = "" }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", abroad)} }, []string{"a key-unknown unknown"}},
		{"a key IAM does not know whose account STS gives malformed is unknown, not foreign",
			func(f *fakeKeys) { f.foreign[abroad] = "12345 [x](http://e.test)" }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", abroad)} }, []string{"a key-unknown unknown"}},
		{"a key without a creation date is key-age-unknown, not ancient",
			func(f *fakeKeys) { f.keys[good] = fakeKey{user: "funnel", status: "Active"} }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", good)} }, []string{"a key-age-unknown warning"}},
		{"a key created in the future is key-age-unknown, not young",
			func(f *fakeKeys) { f.add(good, "funnel", "Active", -400*day) }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", good)} }, []string{"a key-age-unknown warning"}},
		{"an inactive key of unknown age is both",
			func(f *fakeKeys) { f.keys[good] = fakeKey{user: "funnel", status: "Inactive"} }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", good)} }, []string{"a key-age-unknown warning", "a key-inactive broken"}},
		{"a key IAM answers AccessDenied for, with no other key to compare, is unknown",
			func(f *fakeKeys) {
				f.unknown = "AccessDenied"
				f.add(gone, "funnel", "Active", day)
				f.deleted[gone] = true
			}, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", gone)} }, []string{"a key-unknown unknown"}},
		{"a key its user's list no longer has is key-missing",
			func(f *fakeKeys) { f.add(gone, "funnel", "Active", day); f.unlisted[gone] = true }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", gone)} }, []string{"a key-missing broken"}},
		{"an inactive key is key-inactive",
			func(f *fakeKeys) { f.add(inactive, "funnel", "Inactive", day) }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", inactive)} }, []string{"a key-inactive broken"}},
		{"a key exactly max-key-age old is not key-old",
			func(f *fakeKeys) { f.add(old, "funnel", "Active", 90*day) }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", old)} }, nil},
		{"a key created exactly max-key-age before the run started is not key-old while the run takes",
			func(f *fakeKeys) { f.add(old, "funnel", "Active", 90*day+audit.Slack) }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", old)} }, nil},
		{"a key older than max-key-age by more than the slack is key-old",
			func(f *fakeKeys) { f.add(old, "funnel", "Active", 90*day+audit.Slack+time.Second) }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", old)} }, []string{"a key-old warning"}},
		{"max-key-age is the policy's",
			func(f *fakeKeys) { f.add(old, "funnel", "Active", 31*day) }, func(p *audit.Policy) { p.MaxKeyAge = 30 * day },
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", old)} }, []string{"a key-old warning"}},
		{"an old inactive key is both",
			func(f *fakeKeys) { f.add(old, "funnel", "Inactive", 100*day) }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", old)} }, []string{"a key-inactive broken", "a key-old warning"}},
		{"a key of another account is foreign-account, not missing",
			func(f *fakeKeys) { f.foreign[abroad] = "210987654321" }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", abroad)} }, []string{"a foreign-account info"}},
		{"a temporary key is session-key and is not looked up",
			nil, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", session)} }, []string{"a session-key broken"}},
		{"a key held by two sets is shared-key on both",
			func(f *fakeKeys) { f.add(good, "funnel", "Active", day) }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", good), awsSet("b", good)} },
			[]string{"a shared-key info", "b shared-key info"}},
		{"a certificate past notAfter is cert-expired",
			nil, nil,
			func(t *testing.T) []audit.Set { return []audit.Set{certSet(t, now.Add(-time.Second))} }, []string{"c cert-expired broken"}},
		{"a certificate at exactly notAfter is still valid, and expiring",
			nil, nil,
			func(t *testing.T) []audit.Set { return []audit.Set{certSet(t, now)} }, []string{"c cert-expiring warning"}},
		{"a certificate expiring in exactly expiry-warning is cert-expiring",
			nil, nil,
			func(t *testing.T) []audit.Set { return []audit.Set{certSet(t, now.Add(30*day))} }, []string{"c cert-expiring warning"}},
		{"a certificate expiring a second after expiry-warning is fine",
			nil, nil,
			func(t *testing.T) []audit.Set { return []audit.Set{certSet(t, now.Add(30*day+time.Second))} }, nil},
		{"a certificate not valid yet is cert-not-yet-valid",
			nil, nil,
			func(t *testing.T) []audit.Set {
				return []audit.Set{{ID: "c", Type: audit.X509, Certificate: certificateFrom(t, now.Add(day), now.Add(400*day)), LastUsed: now}}
			}, []string{"c cert-not-yet-valid broken"}},
		{"a certificate valid from a second ago is fine",
			nil, nil,
			func(t *testing.T) []audit.Set {
				return []audit.Set{{ID: "c", Type: audit.X509, Certificate: certificateFrom(t, now.Add(-time.Second), now.Add(400*day)), LastUsed: now}}
			}, nil},
		{"PEM that does not parse is cert-unreadable",
			nil, nil,
			func(*testing.T) []audit.Set {
				return []audit.Set{{ID: "c", Type: audit.X509, Certificate: "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", LastUsed: now}}
			}, []string{"c cert-unreadable warning"}},
		{"text that is no PEM is cert-unreadable",
			nil, nil,
			func(*testing.T) []audit.Set {
				return []audit.Set{{ID: "c", Type: audit.X509, Certificate: "hello", LastUsed: now}}
			}, []string{"c cert-unreadable warning"}},
		{"a private key where the certificate belongs is cert-unreadable",
			nil, nil,
			func(*testing.T) []audit.Set {
				return []audit.Set{{ID: "c", Type: audit.X509, Certificate: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", LastUsed: now}}
			}, []string{"c cert-unreadable warning"}},
		{"a set whose list entry could not be read has one malformed-set finding and nothing else",
			func(f *fakeKeys) { f.add(good, "funnel", "Inactive", 400*day) }, nil,
			func(*testing.T) []audit.Set {
				return []audit.Set{{ID: "m", Type: audit.AWSCredentials, Entry: 1, Unreadable: []string{"lastUsedDateTime"}}, awsSet("a", good)}
			}, []string{"a key-inactive broken", "a key-old warning", "m malformed-set warning"}},
		{"a set whose id could not be read is named by its place",
			nil, nil,
			func(*testing.T) []audit.Set {
				return []audit.Set{{Entry: 3, Unreadable: []string{"credentialsId", "type"}}}
			},
			[]string{"malformed-set warning"}},
		{"an x509 set whose list answer shows no certificate is not judged on it",
			nil, nil,
			func(*testing.T) []audit.Set {
				return []audit.Set{{ID: "c", Type: audit.X509, LastUsed: now}}
			}, nil},
		{"a set SORACOM never used is never-used",
			nil, nil,
			func(*testing.T) []audit.Set { return []audit.Set{{ID: "p", Type: "psk"}} }, []string{"p never-used warning"}},
		{"a set last used exactly unused-after ago is in use",
			nil, nil,
			func(*testing.T) []audit.Set { return []audit.Set{{ID: "p", Type: "psk", LastUsed: now.Add(-90 * day)}} }, nil},
		{"a set last used unused-after and the slack ago is in use",
			nil, nil,
			func(*testing.T) []audit.Set {
				return []audit.Set{{ID: "p", Type: "psk", LastUsed: now.Add(-90*day - audit.Slack)}}
			}, nil},
		{"a set last used longer ago than that is unused",
			nil, nil,
			func(*testing.T) []audit.Set {
				return []audit.Set{{ID: "p", Type: "psk", LastUsed: now.Add(-90*day - audit.Slack - time.Second)}}
			}, []string{"p unused warning"}},
		{"a key IAM kept failing for is unknown, not broken",
			func(f *fakeKeys) {
				f.add(good, "funnel", "Active", day)
				f.failing[good] = errors.New("throttled after 5 attempts")
			}, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", good)} }, []string{"a key-unknown unknown"}},
		{"a key whose user cannot be listed is unknown",
			func(f *fakeKeys) {
				f.add(good, "funnel", "Active", day)
				f.failing["funnel"] = codeErr("ServiceUnavailable")
			}, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", good)} }, []string{"a key-unknown unknown"}},
		{"a key IAM names no user for is unknown, not missing",
			func(f *fakeKeys) { f.add(good, "", "Active", day) }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", good)} }, []string{"a key-unknown unknown"}},
		{"a key IAM does not know whose account cannot be found is unknown",
			func(f *fakeKeys) { f.denied["GetAccessKeyInfo"] = true }, nil,
			func(*testing.T) []audit.Set { return []audit.Set{awsSet("a", gone)} }, []string{"a key-unknown unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			if tt.setup != nil {
				tt.setup(f)
			}
			p := policy
			if tt.policy != nil {
				tt.policy(&p)
			}
			rep := run(t, f, p, tt.sets(t)...)
			if got := checks(rep); !slices.Equal(got, tt.want) {
				t.Errorf("findings = %q, want %q", got, tt.want)
			}
			for _, fd := range rep.Findings() {
				if fd.Message == "" {
					t.Errorf("%s has no message", fd.Check)
				}
			}
		})
	}
}

func TestEveryLookupDeniedIsOnePermissionProblemNotBrokenSets(t *testing.T) {
	f := newFake()
	f.denied["GetAccessKeyLastUsed"] = true
	var sets []audit.Set
	for i := range 5 {
		id := fmt.Sprintf("AKIADENIEDKEY%07d", i)
		f.add(id, "funnel", "Active", day)
		sets = append(sets, awsSet(fmt.Sprintf("set-%d", i), id))
	}
	rep := run(t, f, policy, sets...)
	if !slices.Equal(rep.Denied, []string{audit.PermGetAccessKeyLastUsed}) {
		t.Errorf("Denied = %q, want just %s", rep.Denied, audit.PermGetAccessKeyLastUsed)
	}
	if n := rep.Count(audit.Broken); n != 0 {
		t.Errorf("%d broken findings, want none: %q", n, checks(rep))
	}
	for _, fd := range rep.Findings() {
		if fd.Severity != audit.Unknown || fd.Permission != audit.PermGetAccessKeyLastUsed {
			t.Errorf("finding %s %s (permission %q), want unknown for the denied permission", fd.Check, fd.Severity, fd.Permission)
		}
	}
}

func TestDeniedPermissionsAreNamed(t *testing.T) {
	const key = "AKIAGOODGOODGOOD0001"
	tests := []struct {
		name   string
		denied []string
		want   []string
	}{
		{"ListAccessKeys", []string{"ListAccessKeys"}, []string{audit.PermListAccessKeys}},
		{"GetAccessKeyInfo alone is not needed while IAM knows every key", []string{"GetAccessKeyInfo"}, nil},
		{"GetAccessKeyLastUsed and GetAccessKeyInfo", []string{"GetAccessKeyLastUsed", "GetAccessKeyInfo"},
			[]string{audit.PermGetAccessKeyLastUsed, audit.PermGetAccessKeyInfo}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.add(key, "funnel", "Active", day)
			for _, op := range tt.denied {
				f.denied[op] = true
			}
			rep := run(t, f, policy, awsSet("a", key))
			if !slices.Equal(rep.Denied, tt.want) {
				t.Errorf("Denied = %q, want %q", rep.Denied, tt.want)
			}
			if rep.Count(audit.Broken) != 0 {
				t.Errorf("broken findings from a missing permission: %q", checks(rep))
			}
		})
	}
}

func TestAccessDeniedForAnotherAccountsKeyIsNoPermissionProblem(t *testing.T) {
	f := newFake()
	f.unknown = "AccessDenied"
	f.foreign["AKIAFOREIGNKEY000001"] = "210987654321"
	rep := run(t, f, policy, awsSet("a", "AKIAFOREIGNKEY000001"))
	if len(rep.Denied) != 0 {
		t.Errorf("Denied = %q, want none", rep.Denied)
	}
	if got := checks(rep); !slices.Equal(got, []string{"a foreign-account info"}) {
		t.Errorf("findings = %q", got)
	}
}

func TestOneLookupPerDistinctKeyAndOneListPerDistinctUser(t *testing.T) {
	f := newFake()
	var sets []audit.Set
	for i := range 60 {
		id := fmt.Sprintf("AKIAKEY%013d", i%12)
		f.add(id, fmt.Sprintf("user-%d", i%12%4), "Active", day)
		sets = append(sets, awsSet(fmt.Sprintf("set-%02d", i), id))
	}
	p := policy
	p.Concurrency = 3
	run(t, f, p, sets...)
	if n := len(f.callsOf("GetAccessKeyLastUsed")); n != 12 {
		t.Errorf("%d GetAccessKeyLastUsed calls, want one per distinct key: 12", n)
	}
	if n := len(f.callsOf("ListAccessKeys")); n != 4 {
		t.Errorf("%d ListAccessKeys calls, want one per distinct user: 4", n)
	}
	if n := len(f.callsOf("GetAccessKeyInfo")); n != 0 {
		t.Errorf("%d GetAccessKeyInfo calls, want none while IAM knows every key", n)
	}
	if f.peak > p.Concurrency+1 { // the caller's account is read beside the lookups
		t.Errorf("%d calls in flight at once, want at most %d", f.peak, p.Concurrency+1)
	}
	if f.peak < 2 {
		t.Errorf("calls never overlapped (peak %d): the lookups run one at a time", f.peak)
	}
}

func TestOrphanKeys(t *testing.T) {
	const held, spare, off, elsewhere = "AKIAHELDHELDHELD0001", "AKIASPARESPARE000001", "AKIAINACTIVE00000001", "AKIAELSEWHERE0000001"
	f := newFake()
	f.add(held, "funnel", "Active", day)
	f.add(spare, "funnel", "Active", 2*day)
	f.add(off, "funnel", "Inactive", 3*day)
	f.add(elsewhere, "funnel", "Active", 4*day)
	p := policy
	p.IAMUser = "funnel"
	audited := awsSet("a", held)
	// A set outside the audited ones still holds its key: that key is no orphan.
	rep, err := audit.Run(context.Background(), audit.Input{Sets: []audit.Set{audited},
		All: []audit.Set{audited, awsSet("b", elsewhere)}, Keys: f}, p)
	if err != nil {
		t.Fatal(err)
	}
	var orphans []string
	for _, fd := range rep.Findings() {
		if fd.Check == audit.OrphanKey {
			orphans = append(orphans, fd.AccessKeyID)
			if fd.Severity != audit.Warning || fd.UserName != "funnel" || fd.CredentialID != "" {
				t.Errorf("orphan finding %+v", fd)
			}
		}
	}
	if !slices.Equal(orphans, []string{spare}) {
		t.Errorf("orphans = %q, want only the active key no set holds", orphans)
	}
	if n := len(f.callsOf("ListAccessKeys")); n != 1 {
		t.Errorf("%d ListAccessKeys calls, want 1 (the key's user is iam-user-name)", n)
	}
}

func TestOrphanCheckOfAMissingUserIsANote(t *testing.T) {
	f := newFake()
	f.failing["nobody"] = codeErr("NoSuchEntity")
	p := policy
	p.IAMUser = "nobody"
	rep := run(t, f, p)
	if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "nobody does not exist") {
		t.Errorf("notes = %q", rep.Notes)
	}
}

func TestWithoutAWSTheSORACOMChecksStillRun(t *testing.T) {
	rep, err := audit.Run(context.Background(), audit.Input{
		Sets: []audit.Set{{ID: "a", Type: audit.AWSCredentials, AccessKeyID: "AKIAGOODGOODGOOD0001"}, awsSet("s", "ASIATEMPORARYKEY0001")},
		All:  []audit.Set{awsSet("s", "ASIATEMPORARYKEY0001")}, NoKeys: "no AWS credentials were given",
	}, policy)
	if err != nil {
		t.Fatal(err)
	}
	if rep.IAMSkipped != "no AWS credentials were given" {
		t.Errorf("IAMSkipped = %q", rep.IAMSkipped)
	}
	if got := checks(rep); !slices.Equal(got, []string{"a never-used warning", "s session-key broken"}) {
		t.Errorf("findings = %q", got)
	}
}

func TestCredentialsThatDoNotWorkSkipTheIAMChecks(t *testing.T) {
	f := newFake()
	f.callerEr = codeErr("ExpiredToken")
	f.add("AKIAGOODGOODGOOD0001", "funnel", "Active", day)
	rep := run(t, f, policy, awsSet("a", "AKIAGOODGOODGOOD0001"))
	if !strings.Contains(rep.IAMSkipped, "GetCallerIdentity") || len(rep.Findings()) != 0 {
		t.Errorf("IAMSkipped = %q, findings %q", rep.IAMSkipped, checks(rep))
	}
}

func TestRowsAreWorstFirstAndFindingsCarryWhatIsKnown(t *testing.T) {
	const good, old, gone = "AKIAGOODGOODGOOD0001", "AKIAOLDOLDOLDOLD0001", "AKIAGONEGONEGONE0001"
	f := newFake()
	f.add(good, "funnel", "Active", day)
	f.add(old, "funk", "Active", 100*day)
	f.keys[old] = fakeKey{user: "funk", status: "Active", created: now.Add(-100 * day), used: now.Add(-48 * time.Hour)}
	rep := run(t, f, policy, awsSet("a-fine", good), awsSet("b-old", old), awsSet("c-gone", gone), audit.Set{ID: "d-psk", Type: "psk"})
	var order []string
	for _, r := range rep.Rows {
		order = append(order, r.Set.ID)
	}
	if want := []string{"c-gone", "b-old", "d-psk", "a-fine"}; !slices.Equal(order, want) {
		t.Errorf("rows = %q, want %q", order, want)
	}
	fd := rep.Rows[1].Findings[0]
	if fd.Check != audit.KeyOld || fd.UserName != "funk" || fd.AgeDays == nil || *fd.AgeDays != 100 ||
		fd.LastUsed != now.Add(-48*time.Hour).Format(time.RFC3339) || fd.AccessKeyID != old {
		t.Errorf("key-old finding = %+v", fd)
	}
	if k := rep.Rows[3].Key; k.User != "funnel" || k.Status != "Active" || k.LastUsedService != "s3" || !k.Created.Equal(now.Add(-day)) {
		t.Errorf("facts of a fine key = %+v", k)
	}
	if k := rep.Rows[0].Key; k.Status != audit.StatusMissing {
		t.Errorf("status of a deleted key = %q", k.Status)
	}
	if got := []int{rep.Count(audit.Broken), rep.Count(audit.Warning), rep.Count(audit.Info)}; !slices.Equal(got, []int{1, 2, 0}) {
		t.Errorf("counts broken, warning, info = %v", got)
	}
}

func TestReaches(t *testing.T) {
	warn := &audit.Report{Rows: []audit.Row{{Findings: []audit.Finding{{Severity: audit.Warning}, {Severity: audit.Info}}}}}
	unknownOnly := &audit.Report{Rows: []audit.Row{{Findings: []audit.Finding{{Severity: audit.Unknown}}}}}
	clean := &audit.Report{Rows: []audit.Row{{}}}
	tests := []struct {
		rep  *audit.Report
		sev  audit.Severity
		want bool
	}{
		{warn, audit.Broken, false}, {warn, audit.Warning, true},
		{unknownOnly, audit.Warning, false}, {unknownOnly, audit.Broken, false},
		{clean, audit.Warning, false}, {clean, audit.Info, false},
	}
	for i, tt := range tests {
		if got := tt.rep.Reaches(tt.sev); got != tt.want {
			t.Errorf("%d: Reaches(%s) = %v, want %v", i, tt.sev, got, tt.want)
		}
	}
}

func TestCancelledAuditFails(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := newFake()
	_, err := audit.Run(ctx, audit.Input{Sets: []audit.Set{awsSet("a", "AKIAGOODGOODGOOD0001")}, Keys: f}, policy)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// A shared-key finding names the other holders up to audit.SharedNamed, never the set
// itself, and counts the rest.
func TestSharedKeyNamesAFewOtherSets(t *testing.T) {
	tests := []struct {
		holders int
		want    string
	}{
		{2, "held by 2 sets (this one and s1)"},
		{audit.SharedNamed + 1, "held by 6 sets (this one and s1, s2, s3, s4, s5)"},
		{audit.SharedNamed + 2, "held by 7 sets (this one and s1, s2, s3, s4, s5 and 1 more)"},
		{2000, "held by 2000 sets (this one and s1, s2, s3, s4, s5 and 1994 more)"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.holders), func(t *testing.T) {
			var sets []audit.Set
			for i := range tt.holders {
				sets = append(sets, awsSet(fmt.Sprintf("s%d", i), "AKIAGOODGOODGOOD0001"))
			}
			// The set audited is the first: the others are named from s1 on.
			in := audit.Input{Sets: sets[:1], All: sets}
			rep, err := audit.Run(context.Background(), in, policy)
			if err != nil {
				t.Fatal(err)
			}
			fs := rep.Findings()
			if len(fs) != 1 || fs[0].Check != audit.SharedKey || !strings.Contains(fs[0].Message, tt.want) {
				t.Fatalf("findings = %+v, want a shared-key message with %q", fs, tt.want)
			}
		})
	}
}

// A denied lookup leaves the key unknown and says what to grant: the permission and the
// policy statement, with the resource it needs.
func TestDeniedLookupsNameThePermissionAndThePolicyStatement(t *testing.T) {
	const covered, uncovered = "AKIAGOODGOODGOOD0001", "AKIAOPSOPSOPSOPS0001"
	tests := []struct {
		name            string
		setup           func(f *fakeKeys)
		perm, statement string
	}{
		{"a key of a user the policy does not cover", func(f *fakeKeys) { f.deniedKeys[uncovered] = true },
			audit.PermGetAccessKeyLastUsed, `"Action": "iam:GetAccessKeyLastUsed", "Resource": "arn:aws:iam::123456789012:user/*"`},
		{"a user whose keys may not be listed", func(f *fakeKeys) { f.failing["ops"] = codeErr("AccessDenied") },
			audit.PermListAccessKeys, `"Action": "iam:ListAccessKeys", "Resource": "arn:aws:iam::123456789012:user/ops"`},
		{"a key whose account may not be asked", func(f *fakeKeys) { f.deniedKeys[uncovered] = true; f.denied["GetAccessKeyInfo"] = true },
			audit.PermGetAccessKeyInfo, `"Action": "sts:GetAccessKeyInfo", "Resource": "*"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.add(covered, "soracom-funnel", "Active", day)
			f.add(uncovered, "ops", "Active", day)
			tt.setup(f)
			rep := run(t, f, policy, awsSet("a", covered), awsSet("b", uncovered))
			if got := checks(rep); !slices.Equal(got, []string{"b key-unknown unknown"}) {
				t.Fatalf("findings = %q", got)
			}
			fd := rep.Findings()[0]
			if fd.Permission != tt.perm || !strings.Contains(fd.Message, tt.statement) {
				t.Errorf("finding names %q, message %q; want %s and %s", fd.Permission, fd.Message, tt.perm, tt.statement)
			}
			if tt.perm != audit.PermGetAccessKeyInfo && len(rep.Denied) != 0 {
				t.Errorf("Denied = %q: one covered key could be read, so the permission is there", rep.Denied)
			}
		})
	}
}

// An orphan key's advice ("deactivate it") warns when a set that could not be read may
// hold it, and a malformed set names its fields and its place in the list.
func TestUnreadableSetsAreNamedNotTrusted(t *testing.T) {
	f := newFake()
	f.add("AKIAHELDHELDHELD0001", "soracom-funnel", "Active", day)
	f.add("AKIASPARESPARESP0001", "soracom-funnel", "Active", day)
	p := policy
	p.IAMUser = "soracom-funnel"
	odd := audit.Set{Type: audit.AWSCredentials, Entry: 4, Unreadable: []string{"credentialsId", "credentials.accessKeyId"}}
	rep := run(t, f, p, awsSet("a", "AKIAHELDHELDHELD0001"), odd)
	var orphan, bad audit.Finding
	for _, fd := range rep.Findings() {
		switch fd.Check {
		case audit.OrphanKey:
			orphan = fd
		case audit.MalformedSet:
			bad = fd
		}
	}
	if !strings.Contains(orphan.Message, "could not be read may hold it (the credential set at entry 4 of SORACOM's list)") {
		t.Errorf("orphan-key does not warn of the unreadable set: %q", orphan.Message)
	}
	if bad.Entry != 4 || bad.Field != "credentialsId, credentials.accessKeyId" || bad.CredentialID != "" ||
		!strings.Contains(bad.Message, "Entry 4") || !strings.Contains(bad.Message, "credentials.accessKeyId") {
		t.Errorf("malformed-set finding = %+v", bad)
	}
	if len(rep.Rows) != 3 || !rep.Rows[0].Orphan() && !rep.Rows[1].Orphan() || rep.Rows[0].Orphan() && rep.Rows[1].Orphan() {
		t.Errorf("rows: want the set, the malformed set (no orphan) and one orphan: %+v", rep.Rows)
	}
}

// A coverage that could not be audited is one coverage-unaudited finding (unknown)
// naming it and why; the other coverage is audited in full, and an active key no
// audited set holds may be held by a set there, which orphan-key says.
func TestAnUnauditedCoverageIsOneUnknownFinding(t *testing.T) {
	const held, spare = "AKIAHELDHELDHELD0001", "AKIASPARESPARE000001"
	f := newFake()
	f.add(held, "funnel", "Active", day)
	f.add(spare, "funnel", "Active", 2*day)
	p := policy
	p.IAMUser = "funnel"
	sets := []audit.Set{on("jp", awsSet("a", held))}
	rep, err := audit.Run(context.Background(), audit.Input{Sets: sets, All: sets, Keys: f, Scope: "jp",
		Unaudited: []audit.Unaudited{{Coverage: "g", Reason: "SORACOM refused the AuthKey"}}}, p)
	if err != nil {
		t.Fatal(err)
	}
	var unaudited, orphan []audit.Finding
	for _, fd := range rep.Findings() {
		switch fd.Check {
		case audit.CoverageUnaudited:
			unaudited = append(unaudited, fd)
		case audit.OrphanKey:
			orphan = append(orphan, fd)
		}
	}
	if len(unaudited) != 1 || unaudited[0].Severity != audit.Unknown || unaudited[0].Coverage != "g" ||
		!strings.Contains(unaudited[0].Message, "the coverage could not be audited (SORACOM refused the AuthKey)") {
		t.Errorf("coverage-unaudited = %+v", unaudited)
	}
	if len(rep.Rows) != 2 || rep.Rows[1].Set.ID != "a" {
		t.Errorf("rows %+v: want jp's set a audited (after the orphan key)", rep.Rows)
	}
	if len(orphan) != 1 || !strings.Contains(orphan[0].Message, "coverage g could not be audited and its sets may hold it") {
		t.Errorf("orphan-key = %+v: want it to say g's sets may hold it", orphan)
	}
}
