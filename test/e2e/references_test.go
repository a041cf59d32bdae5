package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// Configurations in the shapes of SORACOM's API description: Funnel's and Funk's
// credentials.$credentialsId, Beam's client certificate per entry point, Harvest naming
// no set, an event handler's Lambda action.
func funnelConf(id string) map[string]map[string]any {
	return map[string]map[string]any{"SoracomFunnel": {"enabled": true, "credentials": map[string]any{"$credentialsId": id},
		"destination": map[string]any{"provider": "aws", "service": "kinesis", "resourceUrl": "https://kinesis.ap-northeast-1.amazonaws.com/s"}}}
}

func usageWorld(t *testing.T, s *soracomtest.Server) {
	t.Helper()
	s.PutGroup(soracomtest.Group{ID: "11111111-sensors", Tags: map[string]string{"name": "sensors"}, Configuration: funnelConf("funnel-aws")})
	s.PutGroup(soracomtest.Group{ID: "22222222-lambda", Tags: map[string]string{"name": "lambda"},
		Configuration: map[string]map[string]any{"SoracomFunk": {"enabled": true, "credentials": map[string]any{"$credentialsId": "funk-gone"}}}})
	s.PutGroup(soracomtest.Group{ID: "33333333-mqtt", Tags: map[string]string{"name": "mqtt"},
		Configuration: map[string]map[string]any{
			"SoracomBeam":    {"mqtt://beam.soracom.io:1883": map[string]any{"enabled": true, "clientCerts": map[string]any{"default": map[string]any{"$credentialsId": "harvest-aws"}}}},
			"SoracomHarvest": {"enabled": true},
		}})
	s.PutEventHandler(soracomtest.EventHandler{ID: "44444444-alert", Name: "low balance", Actions: []soracomtest.Action{
		{Type: "InvokeAWSLambdaAction", Properties: map[string]any{"credentialsId": "lambda-gone", "endpoint": "https://lambda.ap-northeast-1.amazonaws.com", "functionName": "f"}}}})
}

func usedByIDs(f map[string]any) []string {
	var out []string
	list, _ := f["usedBy"].([]any)
	for _, u := range list {
		m := u.(map[string]any)
		out = append(out, m["kind"].(string)+":"+m["id"].(string)+":"+m["namespace"].(string))
	}
	return out
}

// The built action lists the groups and event handlers: a set they name that does not
// exist is a broken dangling-reference (an ::error:: naming the group or handler and the
// missing id), every finding says where its set is used, and the summary has a Used by
// column and a row for each missing set.
func TestAuditFindsDanglingReferencesAndShowsWhereSetsAreUsed(t *testing.T) {
	w := newAuditWorld(t)
	usageWorld(t, w.soracom)
	r := w.run(t)
	fs := findingsOf(t, r)
	var dangling []string
	for _, f := range fs {
		if f["coverage"] != "jp" {
			t.Errorf("finding without coverage jp: %v", f)
		}
		switch {
		case f["check"] == "dangling-reference":
			dangling = append(dangling, f["credentialId"].(string)+" "+strings.Join(usedByIDs(f), ","))
		case f["credentialId"] == "funnel-aws" && f["check"] == "static-key":
			if got := usedByIDs(f); !slices.Equal(got, []string{"group:11111111-sensors:SoracomFunnel"}) {
				t.Errorf("static-key usedBy %q", got)
			}
		case f["credentialId"] == "harvest-aws":
			if got := usedByIDs(f); !slices.Equal(got, []string{"group:33333333-mqtt:SoracomBeam"}) {
				t.Errorf("%s usedBy %q", f["check"], got)
			}
		}
	}
	slices.Sort(dangling)
	if want := []string{"funk-gone group:22222222-lambda:SoracomFunk", "lambda-gone event-handler:44444444-alert:InvokeAWSLambdaAction"}; !slices.Equal(dangling, want) {
		t.Errorf("dangling references %q, want %q", dangling, want)
	}
	checkContains(t, "log", r.stdout,
		`::error::Dangling reference: group "lambda" (22222222-lambda) names credential set funk-gone in SoracomFunk, and no such set exists on coverage jp`,
		`::error::Dangling reference: event handler "low balance" (44444444-alert) names credential set lambda-gone in InvokeAWSLambdaAction`)
	checkContains(t, "summary", r.summary, "| Used by |",
		"| `funnel-aws` | jp | aws-credentials | group \"sensors\" (11111111-sensors) in SoracomFunnel |",
		"| `funk-gone` | jp | **does not exist** | group \"lambda\" (22222222-lambda) in SoracomFunk |",
		"| `other-aws` | jp | aws-credentials | none |")
}

// Without Group:listGroups the built action says so once, naming the permission, and
// runs every other check; nothing is called unreferenced.
func TestAuditWithoutPermissionToListGroupsSaysSoOnce(t *testing.T) {
	w := newAuditWorld(t)
	w.soracom.Deny(soracomtest.PermListGroups)
	r := w.run(t)
	var unknown []string
	for _, f := range findingsOf(t, r) {
		switch f["check"] {
		case "references-unknown":
			unknown = append(unknown, f["permission"].(string))
		case "unreferenced":
			t.Errorf("judged unreferenced without the groups: %v", f)
		}
	}
	if !slices.Equal(unknown, []string{"Group:listGroups"}) {
		t.Errorf("references-unknown %q, want one naming Group:listGroups", unknown)
	}
	if r.outputs["broken-count"] != "4" {
		t.Errorf("broken-count %q: the other checks must run", r.outputs["broken-count"])
	}
	checkContains(t, "summary", r.summary, "Group:listGroups", "| `funnel-aws` | jp | aws-credentials | unknown |")
}

// An audit of both coverages matches references per coverage; every finding carries its
// coverage.
func TestAuditOfBothCoveragesMatchesReferencesPerCoverage(t *testing.T) {
	c, o := bothCoverages(t, nil)
	for _, k := range []string{"credential-id", "aws-access-key-id", "aws-secret-access-key", "verify-aws-key", "description"} {
		delete(o.inputs, k)
	}
	o.inputs["audit"] = "true"
	o.secrets = []string{authKeySecret}
	o.env["AWS_EC2_METADATA_DISABLED"] = "true"
	c.JP.PutCredentialSet(soracomtest.CredentialSet{ID: "funnel-aws", Type: "psk", LastUsed: time.Now(), Credentials: map[string]any{"key": "psk-1"}})
	c.Each(func(_ string, s *soracomtest.Server) {
		s.PutGroup(soracomtest.Group{ID: "g-sensors", Configuration: funnelConf("funnel-aws")})
	})
	r := runAction(t, o)
	var got []string
	for _, f := range findingsOf(t, r) {
		if f["check"] == "dangling-reference" {
			got = append(got, f["coverage"].(string)+"/"+f["credentialId"].(string))
		}
	}
	if !slices.Equal(got, []string{"g/funnel-aws"}) {
		t.Errorf("dangling %q, want g/funnel-aws only\n%s", got, r.stdout)
	}
	checkContains(t, "summary", r.summary, "| `funnel-aws` | jp | psk | group g-sensors in SoracomFunnel |", "| `funnel-aws` | g | **does not exist** |")
}

// A rotation on both coverages moves every set on the old key on either, shows where
// each is used, and retires the old key once all hold the new one.
func TestRotationOnBothCoveragesMovesTheSetsOfBoth(t *testing.T) {
	w := newRotationWorld(t)
	g := soracomtest.Start(t)
	g.AddAuthKey(authKeyID, authKeySecret)
	g.PutCredentialSet(soracomtest.CredentialSet{ID: "g-funnel", Type: "aws-credentials", Credentials: map[string]any{"accessKeyId": w.old.ID, "secretAccessKey": "s"}})
	g.PutGroup(soracomtest.Group{ID: "g-sensors", Tags: map[string]string{"name": "berlin"}, Configuration: funnelConf("g-funnel")})
	delete(w.inputs, "soracom-endpoint")
	w.inputs["soracom-coverage-type"] = "both"
	w.env["SORACOM_ENDPOINT_JP"], w.env["SORACOM_ENDPOINT_G"] = w.soracom.URL(), g.URL()
	r := w.run(t)
	mustSucceed(t, r)
	if got, want := resultList(results(t, r)), "jp/funnel-aws updated, jp/harvest-aws updated, g/funnel-aws created, g/g-funnel updated"; got != want {
		t.Errorf("results %s, want %s", got, want)
	}
	old, _ := keyState(w)
	if old.Status != "Inactive" {
		t.Errorf("old key %s, want Inactive", old.Status)
	}
	if set, _ := g.CredentialSet("g-funnel"); set.Credentials["accessKeyId"] == w.old.ID {
		t.Errorf("g-funnel still holds the old key")
	}
	checkContains(t, "summary", r.summary, "| Used by |", "| `g-funnel` | g | aws-credentials | updated |", `group "berlin" (g-sensors) in SoracomFunnel |`)
}
