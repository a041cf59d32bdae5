package action_test

import (
	"strings"
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/awstest"
	"github.com/soracom-credentials-action/soracom-credentials-action/internal/inputs"
)

// The service and region IAM names for a key's last use are checked too: one that is
// not a service name (or region) is left out, the date still shown, nothing of it
// printed or written.
func TestALastUseServiceThatIsNoneIsLeftOut(t *testing.T) {
	for name, forged := range map[string]string{
		"a service holding a workflow command": "<ServiceName>s3" + forgedXML + "</ServiceName><Region>us-east-1</Region>",
		"a region holding markup":              "<ServiceName>s3</ServiceName><Region>us-east-1 [x](https://evil.example)</Region>",
		"a service of 200 characters":          "<ServiceName>" + strings.Repeat("s", 200) + "</ServiceName><Region>us-east-1</Region>",
	} {
		t.Run(name, func(t *testing.T) {
			w := newAuditWorld(t)
			k := w.acct.AddKey("soracom-funnel", awstest.Active)
			w.put("a", k.ID)
			w.inputs[inputs.IAMUserName] = "soracom-funnel"
			proxy := forgingProxy(t, w.acct.Env()["AWS_ENDPOINT_URL_IAM"], "GetAccessKeyLastUsed", func(b string) string {
				return strings.Replace(b, "<Region>N/A</Region><ServiceName>N/A</ServiceName>",
					"<LastUsedDate>2026-01-02T03:04:05Z</LastUsedDate>"+forged, 1)
			})
			w.endpoint = map[string]string{"AWS_ENDPOINT_URL_IAM": proxy}
			o := w.run(t)
			if got := o.checks(); len(got) != 0 {
				t.Errorf("findings %q: the key is fine", got)
			}
			if !strings.Contains(o.summary, "2026-01-02") {
				t.Errorf("the summary does not show the date of the last use:\n%s", o.summary)
			}
			noneOf(t, o.outcome, "FORGED", "touch", "evil.example", strings.Repeat("s", 100))
		})
	}
}
