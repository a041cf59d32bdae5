package credtypes

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// normalizePEM is what a PEM value is sent as: line endings made \n (a file saved on
// Windows arrives with \r\n), surrounding whitespace dropped, one final newline as
// pem.Encode writes it. SecretValues masks this form too, since it is what travels.
func normalizePEM(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) + "\n"
}

// pemBlocks decodes every block of s and refuses text around or between them: such
// text is usually a mistake (a truncated paste, openssl's "Bag Attributes") and a
// device's TLS library may choke on it.
func pemBlocks(s string) ([]*pem.Block, error) {
	rest := []byte(normalizePEM(s))
	var blocks []*pem.Block
	for len(strings.TrimSpace(string(rest))) > 0 {
		if !strings.HasPrefix(strings.TrimSpace(string(rest)), "-----BEGIN ") {
			if len(blocks) == 0 {
				return nil, errors.New("it does not start with a PEM \"-----BEGIN\" line (remove any text before it)")
			}
			return nil, errors.New("it has text after a PEM block that is not another PEM block")
		}
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("its PEM block is malformed or truncated (check the BEGIN/END lines and the base64 between them)")
		}
		blocks = append(blocks, b)
	}
	if len(blocks) == 0 {
		return nil, errors.New("it holds no PEM block")
	}
	return blocks, nil
}

// parseCertificates parses a PEM value of one or more certificates. Certificates are
// public, so the parser's message may be quoted.
func parseCertificates(s string) ([]*x509.Certificate, error) {
	blocks, err := pemBlocks(s)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for i, b := range blocks {
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is a %q, not a \"CERTIFICATE\"", i+1, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d is not a valid certificate: %w", i+1, err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// parsePrivateKey parses a PEM private key: PKCS#1 ("RSA PRIVATE KEY"), SEC 1 ("EC
// PRIVATE KEY", possibly after the "EC PARAMETERS" block openssl ecparam writes) or
// PKCS#8 ("PRIVATE KEY"). The messages are fixed: a parser's message about a key could
// quote part of it.
func parsePrivateKey(s string) (crypto.Signer, error) {
	blocks, err := pemBlocks(s)
	if err != nil {
		return nil, err
	}
	if len(blocks) > 1 && blocks[0].Type == "EC PARAMETERS" {
		blocks = blocks[1:]
	}
	if len(blocks) != 1 {
		return nil, errors.New("it holds more than one PEM block; give the private key alone")
	}
	b := blocks[0]
	if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "" {
		return nil, errors.New("it is an encrypted private key; give it unencrypted (the credential set has no field for a passphrase)")
	}
	var key any
	switch b.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	default:
		return nil, fmt.Errorf("its PEM block is a %q, not a private key (\"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\")", b.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("its %q PEM block does not parse as one", b.Type)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("it is a private key of an unsupported kind")
	}
	return signer, nil
}

// checkX509 parses the certificate, its key and the CA certificates, so that a wrong
// paste fails here rather than in a device's TLS handshake, and refuses a certificate
// that has expired or is not valid yet.
func checkX509(p *parser) {
	var leaf *x509.Certificate
	if v, ok := p.values["cert"]; ok {
		certs, err := parseCertificates(v)
		if err != nil {
			p.fail("cert", "field `cert` for type x509 is not a PEM certificate: %v", err)
		} else {
			leaf = certs[0]
			p.out["cert"] = normalizePEM(v)
			p.checkValidity(leaf)
		}
	}
	var key crypto.Signer
	if v, ok := p.values["key"]; ok {
		k, err := parsePrivateKey(v)
		if err != nil {
			p.fail("key", "field `key` for type x509 is not a PEM private key: %v", err)
		} else {
			key = k
			p.out["key"] = normalizePEM(v)
		}
	}
	if leaf != nil && key != nil {
		pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(leaf.PublicKey) {
			p.fail("key", "field `key` for type x509 does not match the certificate in `cert` (its public key differs); give the key the certificate was issued for")
		}
	}
	if v, ok := p.values["ca"]; ok {
		cas, err := parseCertificates(v)
		if err != nil {
			p.fail("ca", "field `ca` for type x509 is not one or more PEM certificates: %v", err)
		} else {
			p.out["ca"] = normalizePEM(v)
			for _, c := range cas {
				p.derived = append(p.derived, SummaryItem{"ca certificate", c.Subject.String()})
			}
		}
	}
}

func (p *parser) checkValidity(c *x509.Certificate) {
	switch {
	case p.now.After(c.NotAfter):
		p.fail("cert", "field `cert` for type x509: the certificate expired at %s (it is now %s); renew it",
			rfc3339(c.NotAfter), rfc3339(p.now))
	case p.now.Before(c.NotBefore):
		p.fail("cert", "field `cert` for type x509: the certificate is not valid until %s (it is now %s); check the issuer's clock or wait",
			rfc3339(c.NotBefore), rfc3339(p.now))
	}
	p.notAfter = c.NotAfter
	p.derived = append(p.derived,
		SummaryItem{"certificate subject", c.Subject.String()},
		SummaryItem{"certificate issuer", c.Issuer.String()},
		SummaryItem{"certificate not after", rfc3339(c.NotAfter)},
	)
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
