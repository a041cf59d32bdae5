package refs_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/audit/refs"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/shape"
)

func decode[T any](t testing.TB, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("test JSON %s: %v", s, err)
	}
	return v
}

// refList shows references as namespace:id, in order.
func refList(f refs.Found) string {
	var out []string
	for _, r := range f.References {
		out = append(out, r.Namespace+":"+r.SetID)
	}
	return strings.Join(out, " ")
}

func reasons(f refs.Found) string {
	var out []string
	for _, m := range f.Malformed {
		out = append(out, m.Namespace+": "+m.Reason)
	}
	return strings.Join(out, "; ")
}

// The shapes below are those of SORACOM's API description and documentation: Funnel's
// and Funk's credentials object ({"$credentialsId": …}) and the spec's
// FunnelConfiguration.credentialsId, Beam's client certificates per entry point, the
// Junction inspection report (a FunnelConfiguration one level down), the
// passwordCredentialsId and keyCredentialsId of the spec's SSH and RTSP settings, and
// Harvest, which names no set.
func TestReferencesInGroupConfigurations(t *testing.T) {
	tests := []struct {
		name, configuration string
		want                string // namespace:id ...
		malformed           string
	}{
		{name: "Funnel names its set in credentials.$credentialsId",
			configuration: `{"SoracomFunnel":{"enabled":true,"contentType":"json","credentials":{"$credentialsId":"funnel-aws"},
				"destination":{"provider":"aws","service":"kinesis","resourceUrl":"https://kinesis.ap-northeast-1.amazonaws.com/stream"}}}`,
			want: "SoracomFunnel:funnel-aws"},
		{name: "Funnel as the spec's FunnelConfiguration: credentialsId",
			configuration: `{"SoracomFunnel":{"enabled":true,"addSimId":false,"credentialsId":"funnel-aws","destination":{"provider":"aws","service":"firehose"}}}`,
			want:          "SoracomFunnel:funnel-aws"},
		{name: "Funk names its set like Funnel",
			configuration: `{"SoracomFunk":{"enabled":true,"credentials":{"$credentialsId":"funk-aws"},
				"destination":{"provider":"aws","service":"lambda","resourceUrl":"arn:aws:lambda:ap-northeast-1:123456789012:function:f"}}}`,
			want: "SoracomFunk:funk-aws"},
		{name: "Beam names sets per entry point, deeper down",
			configuration: `{"SoracomBeam":{
				"mqtt://beam.soracom.io:1883":{"enabled":true,"destination":"mqtts://broker.example:8883","useClientCert":true,"clientCerts":{"default":{"$credentialsId":"beam-x509"}}},
				"http://beam.soracom.io:8888":{"enabled":true,"useSignature":true,"psk":{"$credentialsId":"beam-psk"},"customHeaders":{}}}}`,
			want: "SoracomBeam:beam-psk SoracomBeam:beam-x509"},
		{name: "Harvest names no set",
			configuration: `{"SoracomHarvest":{"enabled":true,"customTimestamp":{"format":"iso-8601","type":"jsonpointer","value":"/time"}}}`},
		{name: "a Funnel configuration one level down (Junction's inspection report)",
			configuration: `{"SoracomJunction":{"inspection":{"enabled":true,"report":{"credentialsId":"junction-aws","enabled":true}}}}`,
			want:          "SoracomJunction:junction-aws"},
		{name: "passwordCredentialsId and keyCredentialsId, in arrays",
			configuration: `{"SoracomNapter":{"targets":[{"authentication":{"type":"password","passwordCredentialsId":"ssh-password"}},
				{"authentication":{"type":"publickey","keyCredentialsId":"ssh-key"}}]}}`,
			want: "SoracomNapter:ssh-password SoracomNapter:ssh-key"},
		{name: "the configuration API's key/value form",
			configuration: `{"SoracomFunnel":[{"key":"credentials","value":{"$credentialsId":"nested"}},{"key":"credentialsId","value":"paired"},{"key":"destination","value":"x"}]}`,
			want:          "SoracomFunnel:nested SoracomFunnel:paired"},
		{name: "key names in any case",
			configuration: `{"SoracomFunnel":{"CREDENTIALSID":"a","$CredentialsID":"b","tokenCredentialsid":"c"}}`,
			want:          "SoracomFunnel:b SoracomFunnel:a SoracomFunnel:c"},
		{name: "several namespaces, in name order, each set once per namespace",
			configuration: `{"SoracomFunnel":{"credentialsId":"shared","credentials":{"$credentialsId":"shared"}},"SoracomFunk":{"credentialsId":"shared"}}`,
			want:          "SoracomFunk:shared SoracomFunnel:shared"},
		{name: "keys that only contain credentialsId are not references",
			configuration: `{"SoracomFunnel":{"credentialsIdHint":"x","credentials":{"id":"y"},"myCredentials":"z"}}`},
		{name: "a value that is not text names no set",
			configuration: `{"SoracomFunnel":{"credentialsId":42,"credentials":{"$credentialsId":null},"keyCredentialsId":{"credentialsId":"inner"}}}`,
			want:          "SoracomFunnel:inner"},
		{name: "an empty value names no set",
			configuration: `{"SoracomFunnel":{"enabled":false,"credentialsId":""}}`},
		{name: "a value that is not a set id is malformed, named without the value",
			configuration: `{"SoracomFunnel":{"credentialsId":"evil\n::error::pwned"},"SoracomFunk":{"credentialsId":"../../etc"}}`,
			malformed:     "SoracomFunk: " + refs.ReasonNotSetID + "; SoracomFunnel: " + refs.ReasonNotSetID},
		{name: "a namespace that is not a SORACOM name is malformed, its references still count",
			configuration: `{"Soracom\u0060Funnel\u0060\n":{"credentialsId":"funnel-aws"}}`,
			want:          ":funnel-aws", malformed: ": " + refs.ReasonNamespace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := refs.InGroup("g-1", "sensors", decode[map[string]any](t, tt.configuration))
			if got := refList(f); got != tt.want {
				t.Errorf("references %q, want %q", got, tt.want)
			}
			if got := reasons(f); got != tt.malformed {
				t.Errorf("malformed %q, want %q", got, tt.malformed)
			}
			for _, r := range f.References {
				if r.Kind != refs.Group || r.ID != "g-1" || r.Name != "sensors" {
					t.Errorf("reference %+v does not name the group", r)
				}
			}
			if f.Incomplete {
				t.Errorf("incomplete, though every part was read")
			}
		})
	}
}

// The event handler actions of the spec's examples: AWS Lambda with a credentialsId.
func TestReferencesInEventHandlerActions(t *testing.T) {
	actions := decode[[]any](t, `[
		{"type":"InvokeAWSLambdaAction","properties":{"credentialsId":"lambda-aws","endpoint":"https://lambda.ap-northeast-1.amazonaws.com",
			"executionDateTimeConst":"IMMEDIATELY","functionName":"f","parameter1":"${oldSpeedClass}"}},
		{"type":"SendMailToOperatorAction","properties":{"executionDateTimeConst":"IMMEDIATELY","title":"t","message":"m"}},
		{"type":"ExecuteWebRequestAction","properties":{"executionDateTimeConst":"IMMEDIATELY","url":"https://example.com","headers":{"credentialsId":"web-token"}}},
		"not an action",
		{"type":42,"properties":{"credentialsId":"untyped"}}]`)
	f := refs.InEventHandler("h-1", "100 MiB Limit", actions)
	if got, want := refList(f), "InvokeAWSLambdaAction:lambda-aws ExecuteWebRequestAction:web-token :untyped"; got != want {
		t.Errorf("references %q, want %q", got, want)
	}
	if got, want := reasons(f), ": "+refs.ReasonNamespace; got != want {
		t.Errorf("malformed %q, want %q", got, want)
	}
	for _, r := range f.References {
		if r.Kind != refs.EventHandler || r.ID != "h-1" || r.Name != "100 MiB Limit" {
			t.Errorf("reference %+v does not name the handler", r)
		}
	}
}

func TestWalkIsBounded(t *testing.T) {
	deep := `{"credentialsId":"deepest"}`
	for range refs.MaxDepth + 5 {
		deep = `{"x":` + deep + `}`
	}
	var many []string
	for i := range refs.MaxReferences + 1 {
		many = append(many, fmt.Sprintf(`"k%03dcredentialsId":"set-%03d"`, i, i))
	}
	var huge []string
	for range refs.MaxNodes {
		huge = append(huge, "1")
	}
	tests := []struct {
		name, configuration, reason string
		refs                        int
	}{
		{"nesting deeper than the bound", `{"SoracomFunnel":{"credentialsId":"shallow","nested":` + deep + `}}`, refs.ReasonTooDeep, 1},
		{"more references than the bound", `{"SoracomBeam":{` + strings.Join(many, ",") + `}}`, refs.ReasonTooManyRefs, refs.MaxReferences},
		{"more values than the bound", `{"SoracomBeam":{"list":[` + strings.Join(huge, ",") + `],"zzCredentialsId":"after"}}`, refs.ReasonTooLarge, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := refs.InGroup("g", "", decode[map[string]any](t, tt.configuration))
			if !f.Incomplete || len(f.Malformed) != 1 || f.Malformed[0].Reason != tt.reason {
				t.Errorf("incomplete %v, malformed %+v; want incomplete with %q", f.Incomplete, f.Malformed, tt.reason)
			}
			if len(f.References) != tt.refs {
				t.Errorf("%d references, want %d", len(f.References), tt.refs)
			}
		})
	}
}

func TestIsReferenceKey(t *testing.T) {
	for key, want := range map[string]bool{
		"credentialsId": true, "$credentialsId": true, "passwordCredentialsId": true, "keyCredentialsId": true,
		"CREDENTIALSID": true, "credentialsIds": false, "credentials": false, "credentialId": false, "": false,
		"credentia\u017fsId": false, // a long s folds to s in Unicode, not in ASCII
	} {
		if got := refs.IsReferenceKey(key); got != want {
			t.Errorf("IsReferenceKey(%q) = %v, want %v", key, got, want)
		}
	}
}

// FuzzInGroup holds the walk to its promises on any JSON a server could send: only
// set ids come out as references, namespaces are SORACOM names or empty, and the
// bounds hold.
func FuzzInGroup(f *testing.F) {
	f.Add(`{"SoracomFunnel":{"credentials":{"$credentialsId":"funnel-aws"}}}`)
	f.Add(`{"SoracomBeam":{"mqtt://x":{"clientCerts":{"default":{"$credentialsId":"a\nb"}}}}}`)
	f.Add(`{"x y":[[[{"keyCredentialsId":"k"}]]]}`)
	f.Fuzz(func(t *testing.T, configuration string) {
		var conf map[string]any
		if json.Unmarshal([]byte(configuration), &conf) != nil {
			return
		}
		found := refs.InGroup("g", "n", conf)
		if len(found.References) > refs.MaxReferences {
			t.Errorf("%d references, over the bound", len(found.References))
		}
		for _, r := range found.References {
			if !shape.CredentialID(r.SetID) || (r.Namespace != "" && !shape.Namespace(r.Namespace)) {
				t.Errorf("reference %+v is not a set id under a SORACOM name", r)
			}
		}
		for _, m := range found.Malformed {
			if m.Namespace != "" && !shape.Namespace(m.Namespace) {
				t.Errorf("malformed %+v names an unchecked namespace", m)
			}
		}
	})
}
