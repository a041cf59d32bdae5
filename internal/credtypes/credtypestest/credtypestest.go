// Package credtypestest makes valid credential sets for tests: X.509 certificates and
// keys generated at test time (so no key is ever committed and none expires in the
// repository), a Google service-account key file, and a valid `credentials` object for
// every type credtypes knows.
package credtypestest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// Algorithm is the kind of key to generate.
type Algorithm int

// The key algorithms; the zero value is ECDSA P-256, the fastest to generate.
const (
	ECDSA Algorithm = iota
	RSA
	Ed25519
)

// Encoding is the PEM encoding of a private key.
type Encoding int

// The key encodings; the zero value is PKCS#8, which holds every algorithm. PKCS#1
// holds RSA keys only, SEC 1 ECDSA keys only.
const (
	PKCS8 Encoding = iota
	PKCS1
	SEC1
)

// CertOptions says what certificate to make. The zero value makes a self-signed ECDSA
// certificate valid from an hour ago for a year.
type CertOptions struct {
	// CommonName is the subject's CN; "device" when empty.
	CommonName string
	// NotBefore and NotAfter bound the validity; zero means an hour ago and a year
	// from now.
	NotBefore, NotAfter time.Time
	Algorithm           Algorithm
	Encoding            Encoding
	// IsCA makes a CA certificate that can sign others.
	IsCA bool
	// Parent signs the certificate; nil means self-signed.
	Parent *Cert
}

// Cert is a generated certificate and its private key.
type Cert struct {
	// CertPEM is the certificate as one PEM "CERTIFICATE" block.
	CertPEM string
	// KeyPEM is the private key, PEM-encoded as CertOptions.Encoding says.
	KeyPEM      string
	Certificate *x509.Certificate
	Key         crypto.Signer
}

// NewCert generates a key and a certificate for it. It fails the test on an impossible
// combination (an Ed25519 key in PKCS#1, say).
func NewCert(tb testing.TB, opts CertOptions) Cert {
	tb.Helper()
	key := NewKey(tb, opts.Algorithm)
	if opts.NotBefore.IsZero() {
		opts.NotBefore = time.Now().Add(-time.Hour)
	}
	if opts.NotAfter.IsZero() {
		opts.NotAfter = time.Now().AddDate(1, 0, 0)
	}
	if opts.CommonName == "" {
		opts.CommonName = "device"
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: opts.CommonName},
		NotBefore:             opts.NotBefore,
		NotAfter:              opts.NotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  opts.IsCA,
	}
	if opts.IsCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		tmpl.ExtKeyUsage = nil
	}
	parent, signer := tmpl, key
	if opts.Parent != nil {
		parent, signer = opts.Parent.Certificate, opts.Parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return Cert{
		CertPEM:     string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM:      KeyPEM(tb, key, opts.Encoding),
		Certificate: cert,
		Key:         key,
	}
}

// NewKey generates a private key.
func NewKey(tb testing.TB, alg Algorithm) crypto.Signer {
	tb.Helper()
	var key crypto.Signer
	var err error
	switch alg {
	case RSA:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case Ed25519:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

// KeyPEM encodes a private key as PEM.
func KeyPEM(tb testing.TB, key crypto.Signer, enc Encoding) string {
	tb.Helper()
	var block *pem.Block
	switch enc {
	case PKCS1:
		k, ok := key.(*rsa.PrivateKey)
		if !ok {
			tb.Fatalf("PKCS#1 holds RSA keys only, not %T", key)
		}
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	case SEC1:
		k, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			tb.Fatalf("SEC 1 holds ECDSA keys only, not %T", key)
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			tb.Fatal(err)
		}
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	default:
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			tb.Fatal(err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	return string(pem.EncodeToMemory(block))
}

// ServiceAccountKey returns a Google service-account key file, decoded as
// encoding/json decodes it, with a freshly generated RSA key. The project and email
// are made up.
func ServiceAccountKey(tb testing.TB) map[string]any {
	tb.Helper()
	return map[string]any{
		"type":                        "service_account",
		"project_id":                  "example-project",
		"private_key_id":              "7c1e4b9a2f6d8e0351b4c7a9d2e6f8a0b3c5d7e9",
		"private_key":                 KeyPEM(tb, NewKey(tb, RSA), PKCS8),
		"client_email":                "soracom@example-project.iam.gserviceaccount.com",
		"client_id":                   "123456789012345678901",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   "https://oauth2.googleapis.com/token",
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"client_x509_cert_url":        "https://www.googleapis.com/robot/v1/metadata/x509/soracom%40example-project.iam.gserviceaccount.com",
		"universe_domain":             "googleapis.com",
	}
}

// Valid returns a valid `credentials` object for typ, as the action's `credentials`
// input decodes. Secret values are distinct made-up strings; certificates are valid
// around now. It fails the test for a type it does not know.
func Valid(tb testing.TB, typ string, now time.Time) map[string]any {
	tb.Helper()
	switch typ {
	case "api-token-credentials":
		return map[string]any{"token": "tok-Secret-8d1f"}
	case "aws-credentials":
		// AWS's own documentation example key.
		return map[string]any{"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	case "aws-iam-role-credentials":
		return map[string]any{"roleArn": "arn:aws:iam::123456789012:role/soracom/SoracomAccess", "externalId": "ext-Secret-52c9"}
	case "azure-credentials":
		return map[string]any{"policyName": "RootManageSharedAccessKey", "key": "azk-Secret-0e77"}
	case "azureIoT-credentials":
		return map[string]any{"sharedAccessKeyName": "iothubowner", "sharedAccessKey": "azs-Secret-a3b0"}
	case "esrij-credentials":
		return map[string]any{"refererUrl": "https://example.com"}
	case "google-service-account-json":
		return map[string]any{"credentials": ServiceAccountKey(tb)}
	case "googleIoT-credentials":
		return map[string]any{
			"algorithm": "RS256", "deviceId": "device-1", "projectId": "example-project",
			"region": "asia-east1", "registryId": "registry-1",
			"privateKey": KeyPEM(tb, NewKey(tb, ECDSA), PKCS8),
		}
	case "infoteria-platio-credentials":
		return map[string]any{"tokenId": "token-id-1", "secretToken": "pst-Secret-9f12"}
	case "kii-thingif-credentials":
		return map[string]any{"app_id": "app-1", "app_key": "kak-Secret-1c4e", "client_id": "client-1", "client_secret": "kcs-Secret-77aa"}
	case "landlog-credentials":
		return map[string]any{"client_id": "client-1", "client_secret": "llc-Secret-3d90"}
	case "mmcloud-credentials":
		return map[string]any{"commandcode": "code-1", "customerid": "customer-1", "machineid": "machine-1", "machineidtype": "type-1"}
	case "motionboard-credentials":
		return map[string]any{"tenant": "tenant-1", "template": "template-1", "authkey": "mba-Secret-b6d2"}
	case "optim-cloud-IoT-OS-credentials":
		return map[string]any{"client_id": "client-1", "client_secret": "occ-Secret-e015"}
	case "private-key-pem":
		return map[string]any{"privateKey": KeyPEM(tb, NewKey(tb, ECDSA), PKCS8)}
	case "psk":
		return map[string]any{"key": "psk-Secret-4a6b"}
	case "pubnub-credentials":
		return map[string]any{"pubKey": "pub-c-Secret-5e1d", "subKey": "sub-c-Secret-0b83"}
	case "sensorcorpus-credentials":
		return map[string]any{"session_code": "scs-Secret-c2f4"}
	case "username-password-credentials":
		return map[string]any{"username": "device-user", "password": "pw-Secret-6a0c"}
	case "x509":
		ca := NewCert(tb, CertOptions{CommonName: "Example CA", IsCA: true, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(2, 0, 0)})
		leaf := NewCert(tb, CertOptions{Parent: &ca, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0)})
		return map[string]any{"cert": leaf.CertPEM, "key": leaf.KeyPEM, "ca": ca.CertPEM}
	}
	tb.Fatalf("credtypestest.Valid: no example for type %q", typ)
	return nil
}
