package audit

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"time"
)

// maxChain bounds the certificates read from one field: a chain holds a few, and a list
// answer that holds more is not read further (its field is unreadable).
const maxChain = 10

// certificate is one certificate of an x509 set, with how a message names it.
type certificate struct {
	name string
	c    *x509.Certificate
}

// certFindings checks every certificate an x509 set's list entry shows: the device's
// (cert, maybe followed by the intermediates of its chain) and the CA's (ca, one or
// more). A TLS peer refuses the chain when any of them is not valid yet or expired, so
// each of those is broken; a field that is not PEM-encoded X.509 certificates is
// cert-unreadable, never taken as healthy. A certificate is valid from its notBefore up
// to and including its notAfter second. There is at most one finding of each check,
// naming every certificate it is about.
func certFindings(s Set, p Policy) []Finding {
	var certs []certificate
	var unreadable []string
	for _, f := range []struct{ field, text string }{{"cert", s.Certificate}, {"ca", s.CA}} {
		if strings.TrimSpace(f.text) == "" {
			continue
		}
		chain, ok := readChain(f.text)
		if !ok {
			unreadable = append(unreadable, "`"+f.field+"`")
			continue
		}
		for i, c := range chain {
			certs = append(certs, certificate{name: certName(f.field, i, len(chain)), c: c})
		}
	}
	var out []Finding
	if f, ok := notYetValid(certs, p.Now); ok {
		out = append(out, f)
	}
	out = append(out, expiry(certs, p)...)
	if len(unreadable) > 0 {
		out = append(out, Finding{Check: CertUnreadable, Severity: Warning,
			Message: fmt.Sprintf("the %s SORACOM shows for this set is not PEM-encoded X.509 certificates, so its validity is unknown; "+
				"check the set and register the device's certificate again", joinNames(unreadable))})
	}
	return out
}

// readChain reads the PEM blocks of a field. It fails when there is none, when one is
// not a certificate or does not parse, or when there are more than maxChain. Text
// around the blocks (openssl writes subject lines there) is let be.
func readChain(text string) ([]*x509.Certificate, bool) {
	var chain []*x509.Certificate
	rest := []byte(text)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" || len(chain) == maxChain {
			return nil, false
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, false
		}
		chain = append(chain, c)
	}
	return chain, len(chain) > 0
}

// certName names certificate i of n in field for a message.
func certName(field string, i, n int) string {
	switch {
	case field == "cert" && i == 0:
		return "the certificate"
	case field == "cert":
		return fmt.Sprintf("certificate %d of the chain in `cert`", i+1)
	case n == 1:
		return "the CA certificate"
	}
	return fmt.Sprintf("CA certificate %d of %d", i+1, n)
}

// dated is a certificate named with the date a message gives for it.
type dated struct{ name, date string }

// phrase says what verb one certificate does on its date ("the certificate expired on
// 2024-05-01"), or what several do, each with its date in brackets.
func phrase(items []dated, one, several string) string {
	if len(items) == 1 {
		return fmt.Sprintf("%s %s %s", items[0].name, one, items[0].date)
	}
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = fmt.Sprintf("%s (%s)", it.name, it.date)
	}
	return joinNames(names) + " " + several
}

func notYetValid(certs []certificate, now time.Time) (Finding, bool) {
	var items []dated
	var first *x509.Certificate
	for _, c := range certs {
		if now.Before(c.c.NotBefore) {
			items = append(items, dated{c.name, rfc3339(c.c.NotBefore)})
			if first == nil {
				first = c.c
			}
		}
	}
	if first == nil {
		return Finding{}, false
	}
	return Finding{Check: CertNotYetValid, Severity: Broken, NotAfter: rfc3339(first.NotAfter), NotBefore: rfc3339(first.NotBefore),
		Message: phrase(items, "is not valid before", "are not valid yet") + ", so TLS peers refuse the chain until then; " +
			"register certificates that are valid now, or check the clock of whatever issued them"}, true
}

// expiry gives cert-expired for the certificates past their notAfter and cert-expiring
// for those within expiry-warning of it; NotAfter is the earliest of each.
func expiry(certs []certificate, p Policy) []Finding {
	var expired, expiring []dated
	var firstExpired, firstExpiring time.Time
	for _, c := range certs {
		left := c.c.NotAfter.Sub(p.Now)
		switch {
		case p.Now.Before(c.c.NotBefore):
		case left < 0:
			expired = append(expired, dated{c.name, day(c.c.NotAfter)})
			firstExpired = earliest(firstExpired, c.c.NotAfter)
		case left <= p.ExpiryWarning:
			expiring = append(expiring, dated{c.name, fmt.Sprintf("%s, in %d days", day(c.c.NotAfter), *ageDays(left))})
			firstExpiring = earliest(firstExpiring, c.c.NotAfter)
		}
	}
	var out []Finding
	if len(expired) > 0 {
		out = append(out, Finding{Check: CertExpired, Severity: Broken, NotAfter: rfc3339(firstExpired),
			Message: phrase(expired, "expired on", "expired") + "; renew " + renewWhat(expired) + " in this set"})
	}
	if len(expiring) > 0 {
		out = append(out, Finding{Check: CertExpiring, Severity: Warning, NotAfter: rfc3339(firstExpiring),
			Message: fmt.Sprintf("%s (expiry-warning is %s); renew %s in this set before then",
				phrase(expiring, "expires on", "expire soon"), Days(p.ExpiryWarning), renewWhat(expiring))})
	}
	return out
}

// renewWhat says what to renew and register for items.
func renewWhat(items []dated) string {
	if len(items) == 1 {
		return "it and register the new certificate"
	}
	return "them and register the new certificates"
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// joinNames writes "a", "a and b", "a, b and c".
func joinNames(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
