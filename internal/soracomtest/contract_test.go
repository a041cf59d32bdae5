package soracomtest_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// contract loads the spec once for the whole test binary: it is a megabyte of YAML.
var contract = sync.OnceValues(func() (*soracomtest.Contract, error) {
	c, skip, err := soracomtest.LoadProjectContract()
	if skip != "" {
		return nil, skipError(skip)
	}
	return c, err
})

type skipError string

func (s skipError) Error() string { return string(s) }

func requireContract(t *testing.T) *soracomtest.Contract {
	t.Helper()
	c, err := contract()
	var skip skipError
	if errors.As(err, &skip) {
		t.Skip(string(skip))
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// contractCheck is a request, or a request and its response, to check against the spec.
type contractCheck struct {
	name   string
	method string
	path   string
	header map[string]string
	body   string
	// For a response check, status and the response; status 0 checks the request.
	status     int
	respHeader map[string]string
	respBody   string
	wantErr    string // substring; "" means it fits
}

// validate checks the request, or the response when the check has a status.
func (ck contractCheck) validate(t *testing.T, c *soracomtest.Contract) error {
	t.Helper()
	req, err := http.NewRequest(ck.method, "http://127.0.0.1:1"+ck.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range ck.header {
		req.Header.Set(k, v)
	}
	if ck.status == 0 {
		return c.ValidateRequest(req, []byte(ck.body))
	}
	h := http.Header{}
	for k, v := range ck.respHeader {
		h.Set(k, v)
	}
	return c.ValidateResponse(req, []byte(ck.body), ck.status, h, []byte(ck.respBody))
}

// TestEmulatorFitsTheSpec drives every operation, successes and errors, through an
// emulator that checks each request and response against the spec.
func TestEmulatorFitsTheSpec(t *testing.T) {
	s := soracomtest.Start(t, soracomtest.WithContract(requireContract(t)), soracomtest.WithGroupPageSize(1))
	s.AddAuthKey("keyId-test", "secret-test")
	putReferences(s)
	mustDo(t, s, nil, "POST", "/v1/auth", map[string]any{"authKeyId": "keyId-test", "authKey": "wrong"})
	r := mustDo(t, s, nil, "POST", "/v1/auth", map[string]any{"authKeyId": "keyId-test", "authKey": "secret-test", "tokenTimeoutSeconds": 3600})
	var a struct{ APIKey, Token string }
	r.json(t, &a)
	sess := &session{a.APIKey, a.Token}

	steps := []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/v1/credentials", nil, 200},
		{"POST", "/v1/credentials/aws", awsBody("AKIA1", "s1"), 201},
		{"POST", "/v1/credentials/aws", awsBody("AKIA1", "s1"), 400},
		{"POST", "/v1/credentials/role", map[string]any{"type": "aws-iam-role-credentials", "credentials": map[string]any{"roleArn": "arn:aws:iam::123456789012:role/r", "externalId": "e"}}, 201},
		{"POST", "/v1/credentials/x509", map[string]any{"type": "x509", "description": "", "credentials": map[string]any{"cert": "c", "ca": "a", "key": "k"}}, 201},
		{"PUT", "/v1/credentials/aws", awsBody("AKIA2", "s2"), 200},
		{"PUT", "/v1/credentials/missing", awsBody("AKIA2", "s2"), 400},
		{"GET", "/v1/credentials", nil, 200},
		{"GET", "/v1/groups?limit=10", nil, 200},
		{"GET", "/v1/groups?limit=10&last_evaluated_key=group-1", nil, 200},
		{"GET", "/v1/groups?limit=0", nil, 400},
		{"GET", "/v1/event_handlers", nil, 200},
		{"GET", "/v1/event_handlers?target=group", nil, 200},
		{"DELETE", "/v1/credentials/x509", nil, 204},
		{"DELETE", "/v1/credentials/x509", nil, 404},
		{"POST", "/v1/auth/logout", nil, 204},
		{"GET", "/v1/credentials", nil, 401},
	}
	for _, st := range steps {
		if r := mustDo(t, s, sess, st.method, st.path, st.body); r.status != st.want {
			t.Errorf("%s %s: %d, want %d (%s)", st.method, st.path, r.status, st.want, r.body)
		}
	}
	s.Inject("GET /v1/credentials", 1, soracomtest.TooManyRequests(10, true))
	mustDo(t, s, sess, "GET", "/v1/credentials", nil)
	s.Deny(soracomtest.PermListGroups)
	mustDo(t, s, sess, "GET", "/v1/groups", nil)

	for _, v := range s.ContractViolations() {
		t.Errorf("contract violation: %s", v)
	}
	if n := s.CountRequests("", "/v1/"); n != len(steps)+4 {
		t.Errorf("%d requests logged, want %d", n, len(steps)+4)
	}
}

// putReferences stores groups and event handlers that name credential sets in the
// shapes SORACOM documents, so that their answers are checked against the spec.
func putReferences(s *soracomtest.Server) {
	s.PutGroup(soracomtest.Group{ID: "group-1", Tags: map[string]string{"name": "sensors"}, Configuration: map[string]map[string]any{
		"SoracomFunnel": {"enabled": true, "credentials": map[string]any{"$credentialsId": "funnel-aws"},
			"destination": map[string]any{"provider": "aws", "service": "kinesis", "resourceUrl": "https://kinesis.example"}},
		"SoracomBeam": {"mqtt://beam.soracom.io:1883": map[string]any{"enabled": true, "clientCerts": map[string]any{"default": map[string]any{"$credentialsId": "beam-x509"}}}},
	}})
	s.PutGroup(soracomtest.Group{ID: "group-2", Configuration: map[string]map[string]any{
		"SoracomFunk":    {"enabled": true, "credentialsId": "funk-aws"},
		"SoracomHarvest": {"enabled": true},
	}})
	s.PutEventHandler(soracomtest.EventHandler{ID: "handler-1", Name: "to lambda", TargetGroupID: "group-1", Actions: []soracomtest.Action{
		{Type: "InvokeAWSLambdaAction", Properties: map[string]any{"credentialsId": "lambda-aws", "endpoint": "https://lambda.ap-northeast-1.amazonaws.com", "functionName": "f"}},
	}})
}

func TestContractFlagsWhatDoesNotFit(t *testing.T) {
	c := requireContract(t)
	auth := map[string]string{"X-Soracom-API-Key": "api-1", "X-Soracom-Token": "t", "Content-Type": "application/json"}
	aws := `{"type":"aws-credentials","credentials":{"accessKeyId":"A","secretAccessKey":"S"}}`
	model := `{"credentialsId":"x","type":"aws-credentials","credentials":{},"createDateTime":1,"updateDateTime":1,"lastUsedDateTime":0}`
	jsonCT := map[string]string{"Content-Type": "application/json"}
	checks := []contractCheck{
		{name: "a create request fits", method: "POST", path: "/v1/credentials/x", header: auth, body: aws},
		{name: "aws-iam-role-credentials fits though the request enum omits it", method: "PUT", path: "/v1/credentials/x", header: auth, body: `{"type":"aws-iam-role-credentials","credentials":{"roleArn":"r","externalId":"e"}}`},
		{name: "an unknown type does not fit", method: "PUT", path: "/v1/credentials/x", header: auth, body: `{"type":"aws-session","credentials":{}}`, wantErr: "type"},
		{name: "a request without the token header does not fit", method: "GET", path: "/v1/credentials", header: map[string]string{"X-Soracom-API-Key": "api-1"}, wantErr: "X-Soracom-Token"},
		{name: "a body without Content-Type does not fit", method: "POST", path: "/v1/credentials/x", header: map[string]string{"X-Soracom-API-Key": "a", "X-Soracom-Token": "t"}, body: aws, wantErr: "Content-Type"},
		{name: "a body on logout does not fit", method: "POST", path: "/v1/auth/logout", header: auth, body: `{}`, wantErr: "body"},
		{name: "an undocumented path does not fit", method: "GET", path: "/v1/credential", header: auth, wantErr: "no documented operation"},
		{name: "a path without /v1 does not fit", method: "GET", path: "/credentials", header: auth, wantErr: "no documented operation"},
		{name: "an auth request fits", method: "POST", path: "/v1/auth", header: jsonCT, body: `{"authKeyId":"k","authKey":"s","tokenTimeoutSeconds":600}`},
		{name: "tokenTimeoutSeconds over the maximum does not fit", method: "POST", path: "/v1/auth", header: jsonCT, body: `{"authKeyId":"k","authKey":"s","tokenTimeoutSeconds":172801}`, wantErr: "maximum"},

		{name: "201 with a full model fits", method: "POST", path: "/v1/credentials/x", header: auth, body: aws, status: 201, respHeader: jsonCT, respBody: model},
		{name: "a model without timestamps does not fit", method: "POST", path: "/v1/credentials/x", header: auth, body: aws, status: 201, respHeader: jsonCT, respBody: `{"credentialsId":"x","type":"aws-credentials","credentials":{}}`, wantErr: "createDateTime"},
		{name: "timestamps as strings do not fit", method: "PUT", path: "/v1/credentials/x", header: auth, body: aws, status: 200, respHeader: jsonCT, respBody: strings.Replace(model, `"createDateTime":1`, `"createDateTime":"1"`, 1), wantErr: "createDateTime"},
		{name: "create answering 200 does not fit", method: "POST", path: "/v1/credentials/x", header: auth, body: aws, status: 200, respHeader: jsonCT, respBody: model, wantErr: "status"},
		{name: "a list that is an object does not fit", method: "GET", path: "/v1/credentials", header: auth, status: 200, respHeader: jsonCT, respBody: `{"items":[]}`, wantErr: "array"},
		{name: "an undocumented 429 is allowed", method: "PUT", path: "/v1/credentials/x", header: auth, body: aws, status: 429, respHeader: map[string]string{"Content-Type": "text/html"}, respBody: "<html>"},
		{name: "an undocumented 409 is allowed", method: "POST", path: "/v1/credentials/x", header: auth, body: aws, status: 409, respHeader: jsonCT, respBody: `{"code":"X","message":"m"}`},
		{name: "the documented 400 of update allows any body", method: "PUT", path: "/v1/credentials/x", header: auth, body: aws, status: 400, respHeader: map[string]string{"Content-Type": "text/plain"}, respBody: `{"code":"X","message":"m"}`},
		{name: "a page of groups fits", method: "GET", path: "/v1/groups?limit=50&last_evaluated_key=g1", header: auth, status: 200, respHeader: jsonCT,
			respBody: `[{"groupId":"g2","operatorId":"OP1","tags":{"name":"n"},"configuration":{"SoracomFunnel":{"credentials":{"$credentialsId":"c"}}},"createdTime":1,"lastModifiedTime":1}]`},
		{name: "a namespace that is not an object does not fit", method: "GET", path: "/v1/groups", header: auth, status: 200, respHeader: jsonCT,
			respBody: `[{"groupId":"g2","configuration":{"SoracomFunnel":"c"}}]`, wantErr: "SoracomFunnel"},
		{name: "an event handler without handlerId does not fit", method: "GET", path: "/v1/event_handlers", header: auth, status: 200, respHeader: jsonCT,
			respBody: `[{"name":"n","status":"active","ruleConfig":{"type":"SimExpiredRule","properties":{"inactiveTimeoutDateConst":"NEVER"}},"actionConfigList":[]}]`, wantErr: "handlerId"},
		{name: "an auth response fits", method: "POST", path: "/v1/auth", header: jsonCT, body: `{"authKeyId":"k","authKey":"s"}`, status: 200, respHeader: jsonCT, respBody: `{"apiKey":"a","operatorId":"OP1","token":"t"}`},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			err := ck.validate(t, c)
			switch {
			case ck.wantErr == "" && err != nil:
				t.Errorf("flagged: %v", err)
			case ck.wantErr != "" && err == nil:
				t.Errorf("not flagged, want an error about %q", ck.wantErr)
			case ck.wantErr != "" && !strings.Contains(err.Error(), ck.wantErr):
				t.Errorf("error %q does not mention %q", err, ck.wantErr)
			}
		})
	}
}

func TestContractViolationsAreRecorded(t *testing.T) {
	s := soracomtest.Start(t, soracomtest.WithContract(requireContract(t)))
	// A client bug: a body without Content-Type, to an undocumented path too.
	req, _ := http.NewRequest("POST", s.URL()+"/v1/credentials/x", strings.NewReader(`{}`))
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mustDo(t, s, nil, "GET", "/v1/nothing", nil)
	v := s.ContractViolations()
	if len(v) != 2 || v[0].Status != 0 || v[1].Status != 0 {
		t.Fatalf("violations %v, want one per bad request", v)
	}
	s.Reset()
	if v := s.ContractViolations(); len(v) != 0 {
		t.Errorf("after Reset: %v", v)
	}
}

func TestFindSpecSkipsWhereTheSpecIsAbsent(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "internal", "pkg")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	t.Setenv(soracomtest.SpecEnv, "")
	c, skip, err := soracomtest.LoadProjectContract()
	if c != nil || err != nil || !strings.Contains(skip, soracomtest.SpecPathFromRoot) {
		t.Errorf("LoadProjectContract() = %v, %q, %v; want a skip reason naming the path", c, skip, err)
	}
	for _, how := range []string{soracomtest.SpecEnv, "github.com/soracom/soracom-cli"} {
		if !strings.Contains(skip, how) {
			t.Errorf("skip reason %q does not say how to get the spec (%s)", skip, how)
		}
	}
}

func TestFindSpecPrefersTheFileSORACOM_API_SPECNames(t *testing.T) {
	named := filepath.Join(t.TempDir(), "spec.yaml")
	t.Setenv(soracomtest.SpecEnv, named)
	if path, skip := soracomtest.FindSpec(); path != named || skip != "" {
		t.Errorf("FindSpec() = %q, %q; want %q", path, skip, named)
	}
	// The named file does not exist: that fails the load instead of skipping, so a CI
	// that meant to run the contract tests cannot pass without them.
	c, skip, err := soracomtest.LoadProjectContract()
	if c != nil || skip != "" || err == nil {
		t.Errorf("LoadProjectContract() with a missing %s = %v, %q, %v; want an error", soracomtest.SpecEnv, c, skip, err)
	}
}

// TestSpecIsReadThroughALinkInsideTheModule: go test re-runs a cached test when a file it
// stat-ed or opened changed, but only for files inside the module. The spec lives
// outside (SpecPathFromRoot), so the tests read it through a committed link inside the
// module; adding, changing or removing the spec then re-runs the contract tests with
// no -count=1. Checked by hand too: with the link pointing at a copy, a second go test
// answered (cached), and after touching the copy it ran again.
func TestSpecIsReadThroughALinkInsideTheModule(t *testing.T) {
	t.Setenv(soracomtest.SpecEnv, "")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, filepath.FromSlash(soracomtest.SpecLinkFromRoot))
	info, err := os.Lstat(link)
	if err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("%s is not a symbolic link (%v, %v)", soracomtest.SpecLinkFromRoot, info, err)
	}
	target, err := os.Readlink(link)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, filepath.FromSlash(soracomtest.SpecPathFromRoot))
	if got := filepath.Join(filepath.Dir(link), target); got != want {
		t.Errorf("%s leads to %s, want %s", soracomtest.SpecLinkFromRoot, got, want)
	}
	if path, skip := soracomtest.FindSpec(); skip == "" && path != link {
		t.Errorf("FindSpec() = %q: the spec is read around the link, so go test's cache cannot see it change", path)
	}
}
