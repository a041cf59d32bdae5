package main

import (
	"fmt"
	"net/http"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// The demo's world: the names a reader sees in the log.
const (
	registeredSet = "demo-funnel-aws"
	rotatedUser   = "soracom-funnel"
	funnelSet     = "funnel-aws"
	harvestSet    = "harvest-aws"
	danglingSet   = "funnel-aws-2023"
	rotatorRole   = "arn:aws:iam::123456789012:role/soracom-key-rotator"
	// exampleKeyID and exampleSecret are AWS's documentation example key.
	exampleKeyID  = "AKIAIOSFODNN7EXAMPLE"
	exampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// input is one `with:` entry of a step.
type input struct {
	name, value string
}

// scene is one run of the action, as one workflow step.
type scene struct {
	title string
	// with are the step's inputs, in the order the workflow lists them; inputs, when set,
	// gives them as the step starts (from secrets an earlier step changed).
	with   []input
	inputs func() []input
	// before prepares the world (a fault to show a failure); after shows the state.
	before, after func()
}

func (d *demo) registration() []input {
	return []input{
		{inputs.CredentialID, registeredSet},
		{inputs.AuthKeyID, soracomtest.DemoAuthKeyID},
		{inputs.AuthKey, soracomtest.DemoAuthKey},
		{inputs.Endpoint, d.emu.SORACOM.URL()},
		{inputs.AWSAccessKeyID, exampleKeyID},
		{inputs.AWSSecretAccessKey, exampleSecret},
		// AWS's example key belongs to no account, not even the fake one.
		{inputs.VerifyAWSKey, "false"},
	}
}

func (d *demo) rotation(extra ...input) []input {
	return append([]input{
		{inputs.CredentialID, funnelSet},
		{inputs.IAMUserName, rotatedUser},
		{inputs.RoleToAssume, rotatorRole},
		{inputs.AuthKeyID, soracomtest.DemoAuthKeyID},
		{inputs.AuthKey, soracomtest.DemoAuthKey},
		{inputs.Endpoint, d.emu.SORACOM.URL()},
	}, extra...)
}

func with(base []input, changes ...input) []input {
	out := append([]input(nil), base...)
	for _, c := range changes {
		replaced := false
		for i := range out {
			if out[i].name == c.name {
				out[i].value, replaced = c.value, true
			}
		}
		if !replaced {
			out = append(out, c)
		}
	}
	return out
}

func (d *demo) scenes() []scene {
	reg := d.registration()
	return append([]scene{
		{title: "Register a key, dry run: what would change", with: with(reg, input{inputs.DryRun, "true"})},
		{title: "Register the key: the set is created", with: reg},
		{title: "Run again with a description: the set is updated", with: with(reg, input{inputs.Description, "Funnel to Kinesis"})},
		{title: "A wrong AuthKey fails clearly, and changes nothing", with: with(reg, input{inputs.AuthKey, "secret-not-the-right-one"})},
		{title: "Scheduled rotation: a new key for " + rotatedUser + ", stored in every set that held the old one",
			before: d.seedRotation, with: d.rotation(input{inputs.RotateAfter, "12h"}), after: d.showState},
		{title: "The next scheduled run, minutes later: the key is not due (rotate-after: 12h), nothing changes",
			with: d.rotation(input{inputs.RotateAfter, "12h"}), after: d.showState},
		{title: "A rotation that fails halfway: SORACOM refuses to update " + harvestSet,
			before: d.refuseHarvestUpdate, with: d.rotation(), after: d.showState},
		{title: "The nightly health report: where every set is used, and a group that names a set that does not exist",
			before: d.seedUsage, with: d.audit(), after: d.showState},
	}, d.authKeyScenes()...)
}

func (d *demo) audit() []input {
	return []input{
		{inputs.AuditInput, "true"},
		{inputs.AuthKeyID, soracomtest.DemoAuthKeyID},
		{inputs.AuthKey, soracomtest.DemoAuthKey},
		{inputs.Endpoint, d.emu.SORACOM.URL()},
	}
}

// seedUsage gives the operator what uses its sets: a group whose Funnel sends to
// Kinesis with funnel-aws, an event handler whose Lambda action signs with harvest-aws,
// and a group whose Funnel still names a set deleted long ago.
func (d *demo) seedUsage() {
	d.emu.SORACOM.PutGroup(soracomtest.Group{ID: "7f3c1a52-sensors", Tags: map[string]string{"name": "sensors"},
		Configuration: map[string]map[string]any{"SoracomFunnel": {"enabled": true, "credentials": map[string]any{"$credentialsId": funnelSet},
			"destination": map[string]any{"provider": "aws", "service": "kinesis", "resourceUrl": "https://kinesis.ap-northeast-1.amazonaws.com/sensors"}}}})
	d.emu.SORACOM.PutGroup(soracomtest.Group{ID: "0b9e44d1-cameras", Tags: map[string]string{"name": "cameras"},
		Configuration: map[string]map[string]any{"SoracomFunnel": {"enabled": true, "credentials": map[string]any{"$credentialsId": danglingSet},
			"destination": map[string]any{"provider": "aws", "service": "firehose", "resourceUrl": "https://firehose.ap-northeast-1.amazonaws.com/cameras"}}}})
	d.emu.SORACOM.PutEventHandler(soracomtest.EventHandler{ID: "e51d-low-balance", Name: "low balance", Actions: []soracomtest.Action{
		{Type: "InvokeAWSLambdaAction", Properties: map[string]any{"credentialsId": harvestSet, "endpoint": "https://lambda.ap-northeast-1.amazonaws.com",
			"functionName": "notify", "parameter1": "low balance"}}}})
	fmt.Fprintf(d.w, "Group sensors sends to Kinesis with %s; event handler \"low balance\" calls Lambda with %s; group cameras still names %s, which was deleted.\n",
		funnelSet, harvestSet, danglingSet)
}

// seedRotation gives the IAM user a key created a day ago, held by two sets, and a role
// that trusts the workflow's GitHub OIDC token.
func (d *demo) seedRotation() {
	d.emu.AWS.AddRole(rotatorRole, awstest.Trust{Issuer: d.emu.OIDC, Audience: "sts.amazonaws.com", Subject: "repo:octo/iot:ref:refs/heads/main"})
	d.emu.OIDC.SetSubject("repo:octo/iot:ref:refs/heads/main")
	old := d.emu.AWS.AddKey(rotatedUser, awstest.Active)
	d.secrets = append(d.secrets, old.Secret)
	for _, id := range []string{funnelSet, harvestSet} {
		d.emu.SORACOM.PutCredentialSet(soracomtest.CredentialSet{ID: id, Type: "aws-credentials", Description: id + " consumer",
			Credentials: map[string]any{"accessKeyId": old.ID, "secretAccessKey": old.Secret}})
	}
	fmt.Fprintf(d.w, "IAM user %s has one active key, %s, created a day ago; sets %s and %s hold it.\n",
		rotatedUser, short(old.ID), funnelSet, harvestSet)
}

func (d *demo) refuseHarvestUpdate() {
	d.emu.SORACOM.Inject("PUT /v1/credentials/"+harvestSet, 1, soracomtest.StatusFault(http.StatusForbidden))
}

// showState prints where the keys are after a rotation step: what a person would check
// in the IAM console and the SORACOM console.
func (d *demo) showState() {
	fmt.Fprintf(d.w, "\nState afterwards:\n  IAM user %s:", rotatedUser)
	for _, k := range d.emu.AWS.Keys(rotatedUser) {
		fmt.Fprintf(d.w, " %s %s;", short(k.ID), k.Status)
	}
	fmt.Fprintln(d.w)
	for _, id := range []string{funnelSet, harvestSet} {
		set, ok := d.emu.SORACOM.CredentialSet(id)
		key, _ := set.Credentials["accessKeyId"].(string)
		if !ok {
			key = "(missing)"
		}
		fmt.Fprintf(d.w, "  set %s holds %s\n", id, short(key))
	}
}

// short shows the end of a key id, as the job summary does: enough to tell keys apart.
func short(id string) string {
	if len(id) <= 4 {
		return id
	}
	return "…" + id[len(id)-4:]
}
