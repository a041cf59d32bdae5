package credtypes

import "strings"

// parseOpen validates a type whose field names SORACOM does not document
// (private-key-pem): any name goes, every value must be a non-blank string, and at
// least one must be a PEM private key. Values that are PEM private keys are sent
// normalized like x509's key; the others as given.
func (p *parser) parseOpen(raw map[string]any) {
	typ := p.schema.Type
	if len(raw) == 0 {
		p.fail("", "missing fields for type %s: give at least one field holding a PEM private key, e.g. `privateKey`", typ)
		return
	}
	foundKey := false
	var keyErr error
	for _, name := range sortedKeys(raw) {
		v := raw[name]
		s, isString := v.(string)
		switch {
		case v == nil || (isString && strings.TrimSpace(s) == ""):
			p.fail(name, "field `%s` for type %s is empty; give a value or leave the field out", name, typ)
			continue
		case !isString:
			p.fail(name, "field `%s` for type %s must be a JSON string, not %s", name, typ, JSONKind(v))
			continue
		}
		p.values[name] = s
		p.out[name] = s
		if strings.Contains(s, "-----BEGIN") {
			if _, err := parsePrivateKey(s); err != nil {
				keyErr = err
				continue
			}
			foundKey = true
			p.out[name] = normalizePEM(s)
		}
	}
	switch {
	case foundKey:
	case keyErr != nil:
		p.fail("", "type %s needs a PEM private key, but the PEM value given is not one: %v", typ, keyErr)
	default:
		p.fail("", "type %s needs a PEM private key, but no field holds one (a value starting with \"-----BEGIN\")", typ)
	}
}
