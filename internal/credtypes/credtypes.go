// Package credtypes knows every SORACOM credential set type: which fields each one
// takes, which of them are secret, and what a valid value looks like. It turns the
// user's `credentials` object into exactly what goes into a create or update request,
// or into a list of every problem at once, and it tells the caller which values to mask
// before any of that happens.
//
// The package is pure: no network, no runner I/O. Field names and the type list come
// from the request examples in SORACOM's OpenAPI description (see the project's notes on
// the SORACOM API); where the examples leave a question open, the choice made is written
// next to the schema.
package credtypes

import (
	"slices"
)

// Schema describes one credential set type.
type Schema struct {
	// Type is the type name exactly as SORACOM spells it, e.g. "aws-credentials".
	Type string
	// Fields lists the fields of the `credentials` object, in SORACOM's order.
	Fields []Field
	// OpenFields means SORACOM does not document the field names (private-key-pem):
	// any field name is accepted and every field is secret.
	OpenFields bool
}

// Field describes one field of a credential set's `credentials` object.
type Field struct {
	// Name is the field name exactly as SORACOM spells it (camelCase or snake_case).
	Name string
	// Secret fields are write-only on SORACOM's side: masked in the log and never
	// printed, not even in an error.
	Secret bool
	// Required fields must be present and non-blank.
	Required bool
}

// Field returns the named field and whether the schema has it.
func (s Schema) Field(name string) (Field, bool) {
	i := slices.IndexFunc(s.Fields, func(f Field) bool { return f.Name == name })
	if i < 0 {
		return Field{}, false
	}
	return s.Fields[i], true
}

// FieldNames returns the names of the schema's fields in SORACOM's order; required
// only narrows it to the required ones.
func (s Schema) FieldNames(requiredOnly bool) []string {
	var names []string
	for _, f := range s.Fields {
		if f.Required || !requiredOnly {
			names = append(names, f.Name)
		}
	}
	return names
}

// AWSCredentials is the type that holds an IAM user's access key: the type a key given
// in aws-access-key-id is stored as, and the only one a rotation writes.
const AWSCredentials = "aws-credentials"

// plain, secretField and optional are shorthands that keep the schema table readable.
func plain(name string) Field       { return Field{Name: name, Required: true} }
func secretField(name string) Field { return Field{Name: name, Secret: true, Required: true} }
func optional(f Field) Field        { f.Required = false; return f }

// schemas returns every type SORACOM's API lists. It is built on each call so that no
// caller can change the table for another one.
func schemas() []Schema {
	return []Schema{
		{Type: "api-token-credentials", Fields: []Field{secretField("token")}},
		{Type: AWSCredentials, Fields: []Field{plain("accessKeyId"), secretField("secretAccessKey")}},
		// SORACOM's example sends externalId, but an IAM role's trust policy need not
		// demand one, so it is optional; when given it is secret because it is what
		// guards the role against the confused-deputy problem.
		{Type: "aws-iam-role-credentials", Fields: []Field{plain("roleArn"), optional(secretField("externalId"))}},
		{Type: "azure-credentials", Fields: []Field{plain("policyName"), secretField("key")}},
		{Type: "azureIoT-credentials", Fields: []Field{plain("sharedAccessKeyName"), secretField("sharedAccessKey")}},
		{Type: "esrij-credentials", Fields: []Field{plain("refererUrl")}},
		// The whole service-account key file is one secret string in SORACOM's API.
		{Type: "google-service-account-json", Fields: []Field{secretField("credentials")}},
		{Type: "googleIoT-credentials", Fields: []Field{
			plain("algorithm"), plain("deviceId"), plain("projectId"),
			plain("region"), plain("registryId"), secretField("privateKey"),
		}},
		{Type: "infoteria-platio-credentials", Fields: []Field{plain("tokenId"), secretField("secretToken")}},
		{Type: "kii-thingif-credentials", Fields: []Field{
			plain("app_id"), secretField("app_key"), plain("client_id"), secretField("client_secret"),
		}},
		{Type: "landlog-credentials", Fields: []Field{plain("client_id"), secretField("client_secret")}},
		{Type: "mmcloud-credentials", Fields: []Field{
			plain("commandcode"), plain("customerid"), plain("machineid"), plain("machineidtype"),
		}},
		{Type: "motionboard-credentials", Fields: []Field{plain("tenant"), plain("template"), secretField("authkey")}},
		{Type: "optim-cloud-IoT-OS-credentials", Fields: []Field{plain("client_id"), secretField("client_secret")}},
		// SORACOM lists private-key-pem as a type but gives no example, so its field
		// names are unknown. Rather than guess a name and refuse the real one, any
		// field name is accepted, every value is secret, and at least one value must
		// be a PEM private key: the one thing the type's name promises.
		{Type: "private-key-pem", OpenFields: true},
		{Type: "psk", Fields: []Field{secretField("key")}},
		{Type: "pubnub-credentials", Fields: []Field{secretField("pubKey"), secretField("subKey")}},
		{Type: "sensorcorpus-credentials", Fields: []Field{secretField("session_code")}},
		{Type: "username-password-credentials", Fields: []Field{plain("username"), secretField("password")}},
		// SORACOM's example sends ca, but a client certificate and its key are all a
		// device needs to authenticate; ca (the CA that verifies the server) is only
		// needed when the server's CA is not a public one, so it is optional. The
		// certificates are public; only the key is secret.
		{Type: "x509", Fields: []Field{plain("cert"), optional(plain("ca")), secretField("key")}},
	}
}

// Type is a credential set type as SORACOM spells it ("aws-credentials", "x509"). The
// inputs check the credential-type input once against the schemas; past them the run
// carries the checked value as a Type, never as a bare string.
type Type string

// String returns the type's name.
func (t Type) String() string { return string(t) }

// Lookup returns the schema of typ, spelled exactly as SORACOM spells it.
func Lookup(typ string) (Schema, bool) {
	for _, s := range schemas() {
		if s.Type == typ {
			return s, true
		}
	}
	return Schema{}, false
}

// Types returns every supported type name, sorted.
func Types() []string {
	var types []string
	for _, s := range schemas() {
		types = append(types, s.Type)
	}
	slices.Sort(types)
	return types
}

// NonSecret reports whether a field of a type is known not to be secret. It is used to
// decide masking before validation, so anything unknown (type or field) is secret.
func NonSecret(typ, field string) bool {
	s, ok := Lookup(typ)
	if !ok {
		return false
	}
	f, ok := s.Field(field)
	return ok && !f.Secret
}
