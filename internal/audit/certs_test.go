package audit_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/audit"
)

// Every certificate an x509 set's entry shows is checked: each of a chain of several
// PEM blocks in cert, and the CA certificate or certificates in ca. A TLS peer refuses
// the chain when any is expired or not valid yet, so each is broken; a field that is not
// PEM-encoded certificates is cert-unreadable. Each finding names the certificates it is
// about, one finding a check.
func TestEveryCertificateOfAChainAndItsCAIsChecked(t *testing.T) {
	valid := func(t *testing.T) string { return certificateFrom(t, now.Add(-day), now.Add(400*day)) }
	expired := func(t *testing.T) string { return certificate(t, now.Add(-day)) }
	expiring := func(t *testing.T) string { return certificate(t, now.Add(10*day)) }
	future := func(t *testing.T) string { return certificateFrom(t, now.Add(day), now.Add(400*day)) }
	const garbage = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"
	tests := []struct {
		name     string
		cert, ca func(t *testing.T) string
		want     []string // "check severity"
		says     []string // in the messages
	}{
		{"a valid leaf, intermediate and CA", func(t *testing.T) string { return valid(t) + valid(t) }, valid, nil, nil},
		{"the CA certificate expired", valid, expired, []string{"cert-expired broken"}, []string{"the CA certificate expired on"}},
		{"the CA certificate not valid yet", valid, future, []string{"cert-not-yet-valid broken"}, []string{"the CA certificate is not valid before"}},
		{"the CA certificate expiring", valid, expiring, []string{"cert-expiring warning"}, []string{"the CA certificate expires on", "in 10 days"}},
		{"the CA field unreadable", valid, func(*testing.T) string { return garbage }, []string{"cert-unreadable warning"}, []string{"the `ca` SORACOM shows"}},
		{"the second of two CA certificates expired", valid, func(t *testing.T) string { return valid(t) + expired(t) },
			[]string{"cert-expired broken"}, []string{"CA certificate 2 of 2 expired on"}},
		{"an intermediate of the chain in cert expired", func(t *testing.T) string { return valid(t) + expired(t) }, nil,
			[]string{"cert-expired broken"}, []string{"certificate 2 of the chain in `cert` expired on"}},
		{"an intermediate not valid yet", func(t *testing.T) string { return valid(t) + valid(t) + future(t) }, nil,
			[]string{"cert-not-yet-valid broken"}, []string{"certificate 3 of the chain in `cert` is not valid before"}},
		{"a second block of cert unreadable", func(t *testing.T) string { return valid(t) + garbage }, nil,
			[]string{"cert-unreadable warning"}, []string{"the `cert` SORACOM shows"}},
		{"a private key among the blocks", func(t *testing.T) string {
			return valid(t) + "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
		}, nil, []string{"cert-unreadable warning"}, nil},
		{"more certificates than a chain holds", func(t *testing.T) string { return strings.Repeat(valid(t), 11) }, nil,
			[]string{"cert-unreadable warning"}, nil},
		{"text around the blocks, as openssl writes it", func(t *testing.T) string {
			return "subject=CN = device\n" + valid(t) + "issuer=CN = ca\n" + valid(t)
		}, nil, nil, nil},
		{"both fields unreadable: one finding naming both", func(*testing.T) string { return "hello" }, func(*testing.T) string { return garbage },
			[]string{"cert-unreadable warning"}, []string{"the `cert` and `ca` SORACOM shows"}},
		{"the leaf and the CA expired: one finding naming both", expired, expired,
			[]string{"cert-expired broken"}, []string{"the certificate (", ") and the CA certificate (", ") expired"}},
		{"every kind at once", func(t *testing.T) string { return expired(t) + expiring(t) + future(t) }, func(*testing.T) string { return "x" },
			[]string{"cert-expired broken", "cert-expiring warning", "cert-not-yet-valid broken", "cert-unreadable warning"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := audit.Set{ID: "c", Type: audit.X509, LastUsed: now.Add(-time.Hour), Certificate: tt.cert(t)}
			if tt.ca != nil {
				set.CA = tt.ca(t)
			}
			rep := run(t, newFake(), policy, set)
			var got []string
			var messages string
			for _, f := range rep.Findings() {
				got = append(got, f.Check+" "+string(f.Severity))
				messages += f.Message + "\n"
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings = %q, want %q\n%s", got, tt.want, messages)
			}
			for _, s := range tt.says {
				if !strings.Contains(messages, s) {
					t.Errorf("the findings do not say %q:\n%s", s, messages)
				}
			}
		})
	}
}

// cert-not-yet-valid says when the certificate becomes valid (notBefore), and keeps its
// expiry in notAfter, each field holding what its name says.
func TestNotYetValidCarriesNotBeforeAndNotAfter(t *testing.T) {
	from, until := now.Add(2*day).Truncate(time.Second), now.Add(400*day).Truncate(time.Second)
	rep := run(t, nil, policy, audit.Set{ID: "c", Type: audit.X509, Certificate: certificateFrom(t, from, until), LastUsed: now})
	findings := rep.Findings()
	if len(findings) != 1 || findings[0].Check != audit.CertNotYetValid {
		t.Fatalf("findings %+v, want one cert-not-yet-valid", findings)
	}
	f := findings[0]
	if f.NotBefore != from.UTC().Format(time.RFC3339) || f.NotAfter != until.UTC().Format(time.RFC3339) {
		t.Errorf("notBefore %q, notAfter %q; want %s and %s", f.NotBefore, f.NotAfter, from.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))
	}
}
