package action_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// Certificates: every certificate the list shows for an x509 set is checked, the CA's in
// ca and each block of a chain in cert, not only the first; none that is expired, not
// valid yet or unreadable is called healthy.
func TestAuditChecksTheCAAndEveryCertificateOfAChain(t *testing.T) {
	now := time.Now()
	valid := certificateBetween(t, now.Add(-time.Hour), now.Add(400*24*time.Hour))
	future := certificateBetween(t, now.Add(24*time.Hour), now.Add(400*24*time.Hour))
	expired := certificateBetween(t, now.Add(-400*24*time.Hour), now.Add(-24*time.Hour))
	tests := []struct {
		name     string
		fields   map[string]any
		want     string
		says     string
		wantCode int
	}{
		{"the CA not valid yet", map[string]any{"cert": valid, "ca": future}, "cert-not-yet-valid", "the CA certificate is not valid before", 1},
		{"the CA expired", map[string]any{"cert": valid, "ca": expired}, "cert-expired", "the CA certificate expired on", 1},
		{"the CA unreadable", map[string]any{"cert": valid, "ca": "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"},
			"cert-unreadable", "`ca`", 0},
		{"an intermediate of the chain not valid yet", map[string]any{"cert": valid + future}, "cert-not-yet-valid", "certificate 2 of the chain", 1},
		{"a block of the chain unreadable", map[string]any{"cert": valid + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, "cert-unreadable", "`cert`", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAuditWorld(t)
			w.soracom.PutCredentialSet(soracomtest.CredentialSet{ID: "device", Type: "x509", LastUsed: now, Credentials: tt.fields})
			o := w.run(t)
			if got := o.checks(); !slices.Equal(got, []string{"device " + tt.want}) {
				t.Fatalf("findings = %q, want %s", got, tt.want)
			}
			if !strings.Contains(o.findings[0].Message, tt.says) {
				t.Errorf("the finding does not say %q: %s", tt.says, o.findings[0].Message)
			}
			if o.code != tt.wantCode {
				t.Errorf("exit %d, want %d (fail-on broken)", o.code, tt.wantCode)
			}
		})
	}
}
