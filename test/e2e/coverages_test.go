package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// bothCoverages returns emulators of both coverages and the inputs and environment of
// a registration on both: each coverage named by its own variable, as the README says.
func bothCoverages(t *testing.T, changes map[string]string) (*soracomtest.Coverages, runOpts) {
	t.Helper()
	c := soracomtest.StartBoth(t)
	c.AddAuthKey(authKeyID, authKeySecret)
	_, in := registration(t, changes)
	in["soracom-endpoint"] = ""
	in["soracom-coverage-type"] = "both"
	for k, v := range changes {
		in[k] = v
	}
	env := map[string]string{"SORACOM_ENDPOINT_JP": c.JP.URL(), "SORACOM_ENDPOINT_G": c.G.URL()}
	return c, runOpts{inputs: in, env: env, secrets: inputSecrets}
}

func resultList(rs []result) string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s/%s %s", r.Coverage, r.CredentialID, r.Operation))
	}
	return strings.Join(out, ", ")
}

func TestCoverageBothRegistersEverySetOnBoth(t *testing.T) {
	c, o := bothCoverages(t, map[string]string{"credential-id": "funnel-aws\nharvest-aws"})
	putExistingSet(c.G, "harvest-aws")
	r := runAction(t, o)
	mustSucceed(t, r)
	want := "jp/funnel-aws created, jp/harvest-aws created, g/funnel-aws created, g/harvest-aws updated"
	if got := resultList(results(t, r)); got != want {
		t.Errorf("results %s, want %s", got, want)
	}
	c.Each(func(coverage string, s *soracomtest.Server) {
		for _, id := range []string{"funnel-aws", "harvest-aws"} {
			if set, ok := s.CredentialSet(id); !ok || set.Credentials["accessKeyId"] != awsKeyID {
				t.Errorf("%s on %s does not hold the key", id, coverage)
			}
		}
	})
	if n := c.LiveSessions(); n != 0 {
		t.Errorf("%d tokens left valid; one AuthKey, one token per coverage, each revoked", n)
	}
	checkContains(t, "summary", r.summary, "| `funnel-aws` | jp | aws-credentials | created |", "| `harvest-aws` | g | aws-credentials | updated |")
	checkContains(t, "log", r.stdout, "(coverage jp)", "(coverage g)", "Credential set harvest-aws on g: updated")
}

// One coverage refusing the AuthKey or out of reach stops the run before any write,
// on either coverage, and the error names the coverage.
func TestCoverageBothChangesNothingWhenOneCoverageFails(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(c *soracomtest.Coverages, o *runOpts)
		says    []string
	}{
		{"g refuses the AuthKey", func(c *soracomtest.Coverages, _ *runOpts) {
			// The AuthKey is the operator's, on both coverages; here g's endpoint says no.
			c.G.Inject("POST /v1/auth", soracomtest.Always, soracomtest.StatusFault(401))
		},
			[]string{"coverage g (http://127.0.0.1:", "SORACOM refused the AuthKey", "nothing was written on any coverage"}},
		{"jp cannot be reached", func(c *soracomtest.Coverages, _ *runOpts) {
			_ = c.JP.Close()
		}, []string{"coverage jp (http://127.0.0.1:", "got no answer", "nothing was written on any coverage"}},
		{"the coverages are two operators", func(c *soracomtest.Coverages, o *runOpts) {
			other := soracomtest.Start(t, soracomtest.WithOperatorID("OP0099999999"))
			other.AddAuthKey(authKeyID, authKeySecret)
			c.G = other
			o.env["SORACOM_ENDPOINT_G"] = other.URL()
		}, []string{"operator OP0012345678 on coverage jp and to operator OP0099999999 on coverage g", "nothing was written"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, o := bothCoverages(t, nil)
			tt.breakIt(c, &o)
			r := runAction(t, o)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1", r.code)
			}
			checkContains(t, "error", oneError(t, r), tt.says...)
			c.Each(func(coverage string, s *soracomtest.Server) {
				if n := len(s.CredentialSets()); n != 0 {
					t.Errorf("%d sets written on %s", n, coverage)
				}
				if n := s.LiveSessions(); n != 0 {
					t.Errorf("%d tokens left valid on %s", n, coverage)
				}
			})
		})
	}
}

// A write failing on jp stops the run before g: jp's sets are reported as they are,
// g's as not changed.
func TestCoverageBothStopsAtTheFirstCoverageThatFails(t *testing.T) {
	c, o := bothCoverages(t, nil)
	c.JP.Deny(soracomtest.PermCreateCredential)
	r := runAction(t, o)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	checkContains(t, "error", oneError(t, r), "coverage jp (", "Credential:createCredential", "nothing was written on g")
	checkContains(t, "summary", r.summary, "| `funnel-aws` | jp | aws-credentials | **not changed** (failed) |", "| `funnel-aws` | g | aws-credentials | **not changed** (failed) |")
	if n := c.G.CountRequests("", "/v1/credentials"); n != 0 {
		t.Errorf("%d requests to g's sets after jp failed", n)
	}
}

// if-exists: fail changes nothing on any coverage when the set exists on one.
func TestCoverageBothIfExistsFailChecksBothFirst(t *testing.T) {
	c, o := bothCoverages(t, map[string]string{"if-exists": "fail"})
	putExistingSet(c.G, "funnel-aws")
	r := runAction(t, o)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	checkContains(t, "error", oneError(t, r), "credential set funnel-aws on g already exists", "nothing was changed on any coverage")
	if _, ok := c.JP.CredentialSet("funnel-aws"); ok {
		t.Errorf("funnel-aws was created on jp")
	}
}

func TestCoverageBothDryRunPlansBoth(t *testing.T) {
	c, o := bothCoverages(t, map[string]string{"dry-run": "true"})
	putExistingSet(c.JP, "funnel-aws")
	r := runAction(t, o)
	mustSucceed(t, r)
	if got, want := resultList(results(t, r)), "jp/funnel-aws planned, g/funnel-aws planned"; got != want {
		t.Errorf("results %s, want %s", got, want)
	}
	checkContains(t, "log", r.stdout, "credential set funnel-aws on jp would be updated", "credential set funnel-aws on g would be created")
}

func TestCoverageBothNeedsAnEndpointPerCoverage(t *testing.T) {
	c, o := bothCoverages(t, nil)
	o.env = map[string]string{"SORACOM_ENDPOINT": c.JP.URL()}
	r := runAction(t, o)
	says := []string{"SORACOM_ENDPOINT names one endpoint, and soracom-coverage-type both works on two", "SORACOM_ENDPOINT_JP and SORACOM_ENDPOINT_G"}
	failedBeforeNetwork(t, c.JP, r, says)
}

// A dry run with if-exists: fail plans what the real run does: a set on one coverage
// makes it change nothing on either, and the plan says none for the other coverage.
func TestCoverageBothDryRunIfExistsFailPlansNothingOnEither(t *testing.T) {
	c, o := bothCoverages(t, map[string]string{"dry-run": "true", "if-exists": "fail"})
	putExistingSet(c.G, "funnel-aws")
	r := runAction(t, o)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	var planned []string
	for _, res := range results(t, r) {
		planned = append(planned, res.Coverage+"/"+res.CredentialID+" "+res.Planned)
	}
	if got, want := strings.Join(planned, ", "), "jp/funnel-aws none, g/funnel-aws fail"; got != want {
		t.Errorf("planned %s, want %s", got, want)
	}
	checkContains(t, "error", oneError(t, r), "credential set funnel-aws on g already exists", "a real run would change nothing")
	if strings.Contains(r.stdout, "would be created") {
		t.Errorf("the dry run says a set would be created, which the real run would not:\n%s", r.stdout)
	}
}
