package awskeys_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awskeys"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/httpclient"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/secret"
)

// fastBounds keep black-hole tests short; the shape is the default's.
var fastBounds = awskeys.Bounds{Attempt: 200 * time.Millisecond, Call: time.Second}

// callBounds returns the bounds a call under test is given.
func (w world) callBounds() awskeys.Bounds {
	if w.bounds == (awskeys.Bounds{}) {
		return fastBounds
	}
	return w.bounds
}

// awsCall is one of the calls the action makes to AWS or to the OIDC token service,
// against w (whose endpoints a test may have moved).
type awsCall struct {
	name string
	env  string // the variable pointing at the endpoint under test
	run  func(t *testing.T, w world) error
}

var awsCalls = []awsCall{
	{"OIDC token request", "", func(t *testing.T, w world) error {
		_, err := awskeys.Load(context.Background(), awskeys.Settings{Role: w.role, Bounds: w.callBounds()}, &masks{})
		return err
	}},
	{"sts:AssumeRoleWithWebIdentity", "AWS_ENDPOINT_URL_STS", func(t *testing.T, w world) error {
		_, err := awskeys.Load(context.Background(), awskeys.Settings{Role: w.role, Bounds: w.callBounds()}, &masks{})
		return err
	}},
	{"sts:GetCallerIdentity", "AWS_ENDPOINT_URL_STS", func(t *testing.T, w world) error {
		key := w.acct.AddKey("funnel", awstest.Active)
		cfg, err := awskeys.LoadDefault(context.Background(), awskeys.Settings{Bounds: w.callBounds()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = awskeys.VerifyGivenKey(context.Background(), cfg, awskeys.AccessKey{ID: key.ID, Secret: secret.New(key.Secret)}, 3*time.Second)
		return err
	}},
	{"iam:ListAccessKeys", "AWS_ENDPOINT_URL_IAM", func(t *testing.T, w world) error {
		admin := w.acct.AddKey("admin", awstest.Active)
		awstest.Setenv(t, awstest.KeyEnv(admin))
		cfg, err := awskeys.Load(context.Background(), awskeys.Settings{Bounds: w.callBounds()}, &masks{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = awskeys.NewIAM(cfg, &masks{}).ListAccessKeys(context.Background(), "funnel")
		return err
	}},
}

// point moves the endpoint of call to url.
func (c awsCall) point(t *testing.T, w *world, url string) {
	if c.env == "" {
		w.role.IDTokenRequestURL = url + "/idtoken?api-version=2.0"
		return
	}
	t.Setenv(c.env, url)
}

// No AWS or OIDC call follows a redirect, whatever its kind and target; the error
// names the status and the target's origin, never its path or query.
func TestAWSRedirectsAreNeverFollowed(t *testing.T) {
	const querySecret = "querysecret-0123456789"
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, target := range []string{"another port", "another host", "same origin", "unreadable"} {
			for _, call := range awsCalls {
				t.Run(http.StatusText(status)+"/"+target+"/"+call.name, func(t *testing.T) {
					w := newWorld(t)
					// A redirect is answered at once: generous bounds keep a busy machine
					// from turning it into a timeout.
					w.bounds = awskeys.Bounds{Attempt: 20 * time.Second, Call: 40 * time.Second}
					var stolen atomic.Int32
					thief := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { stolen.Add(1) }))
					defer thief.Close()
					var sent atomic.Int32
					redirector := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
						sent.Add(1)
						loc := map[string]string{
							"another port": thief.URL + "/x?token=" + querySecret,
							"another host": strings.Replace(thief.URL, "127.0.0.1", "localhost", 1) + "/x?token=" + querySecret,
							"same origin":  "/elsewhere?token=" + querySecret,
							"unreadable":   "http://[x]:y/elsewhere?token=" + querySecret, // Go's client fails on it before its redirect policy
						}[target]
						rw.Header().Set("Location", loc)
						rw.WriteHeader(status)
					}))
					defer redirector.Close()
					call.point(t, &w, redirector.URL)
					checkRefusedRedirect(t, call.run(t, w), status, querySecret)
					if stolen.Load() != 0 {
						t.Errorf("the redirect target got %d requests", stolen.Load())
					}
					if sent.Load() != 1 {
						t.Errorf("the call was sent %d times, want once (no retry, no follow)", sent.Load())
					}
				})
			}
		}
	}
}

// checkRefusedRedirect checks that err is the redirect refused, naming no part of the
// target's path or query.
func checkRefusedRedirect(t *testing.T, err error, status int, querySecret string) {
	t.Helper()
	var re *httpclient.RedirectError
	if !errors.As(err, &re) || re.Status != status {
		t.Fatalf("err = %v, want a refused %d", err, status)
	}
	if msg := err.Error(); strings.Contains(msg, querySecret) || strings.Contains(msg, "elsewhere") {
		t.Errorf("error shows the Location's path or query: %s", msg)
	}
}

// blackHole accepts connections and never answers.
func blackHole(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

// An endpoint that accepts connections and never answers ends every call within its
// bound, with an error naming the call.
func TestAWSBlackHolesEndWithinTheBound(t *testing.T) {
	for _, call := range awsCalls {
		t.Run(call.name, func(t *testing.T) {
			w := newWorld(t)
			call.point(t, &w, blackHole(t))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- call.run(t, w) }()
			var err error
			select {
			case err = <-done:
			case <-ctx.Done():
				t.Fatal("the call hung past every bound")
			}
			if err == nil {
				t.Fatal("no error")
			}
			name := call.name[strings.Index(call.name, ":")+1:]
			if call.env == "" {
				name = "OIDC token"
			}
			t.Log(err)
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error does not name %s: %v", name, err)
			}
		})
	}
}

// Without AWS credentials the SDK asks the instance metadata service, and a service
// that refuses tokens makes the SDK warn on stderr about falling back to IMDSv1. The
// action reports the missing credentials itself; stderr stays empty.
func TestNoCredentialsPrintsNothingFromTheSDK(t *testing.T) {
	newWorld(t)
	imds := httptest.NewServer(http.NotFoundHandler())
	defer imds.Close()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = wr
	_, err = awskeys.Load(context.Background(), awskeys.Settings{Bounds: fastBounds}, &masks{})
	os.Stderr = stderr
	wr.Close()
	printed, _ := io.ReadAll(r)
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials found") {
		t.Errorf("err = %v, want the action's own report", err)
	}
	if len(printed) > 0 {
		t.Errorf("the SDK printed on stderr: %s", printed)
	}
}
