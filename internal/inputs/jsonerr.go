package inputs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// errNotJSON is a credentials text that does not parse as JSON at all.
var errNotJSON = errors.New("not valid JSON")

// jsonCause is what most likely broke a credentials text, for the hint.
type jsonCause int

const (
	causeOther jsonCause = iota
	// causeSingleQuotes: the text quotes with ' (JSON takes ").
	causeSingleQuotes
	// causeBrokenString: a value's string ended early or holds a bad escape, as when a
	// secret with " or \ is pasted between quotes in the workflow.
	causeBrokenString
)

// syntaxError is credentials text that does not parse: where, and the parser's reason.
type syntaxError struct {
	line, column int
	offset       int64
	reason       string
	cause        jsonCause
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("%v at line %d, column %d (byte %d): %s", errNotJSON, e.line, e.column, e.offset, e.reason)
}

func (e *syntaxError) Is(target error) bool { return target == errNotJSON }

// quotedChar is the character a json.SyntaxError quotes, as in "invalid character 'x'".
var quotedChar = regexp.MustCompile(`character '((?:\\.|[^'])+)'`)

// describeJSONError turns a decoding error of text into a syntaxError. The reason is
// the parser's, except the character it quotes, shown only when it is JSON's own
// punctuation: any other is part of a value, which may be a secret.
func describeJSONError(text string, err error) *syntaxError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	e := &syntaxError{offset: int64(len(text)), reason: "unexpected end of input"}
	switch {
	case errors.As(err, &se):
		e.offset, e.reason = se.Offset, se.Error()
	case errors.As(err, &te):
		e.offset, e.reason = te.Offset, "unexpected "+te.Value
	case !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		e.reason = err.Error()
	}
	// The parser stopped at the byte before offset; at the end of input, past the end.
	at := len(text)
	bad := byte(0)
	if se != nil || te != nil {
		at = min(int(max(e.offset-1, 0)), len(text))
		if at < len(text) {
			bad = text[at]
		}
	}
	e.reason = quotedChar.ReplaceAllStringFunc(e.reason, func(m string) string {
		if bad != 0 && strings.IndexByte(`{}[]:,"'\`, bad) >= 0 {
			return m
		}
		return "character (not shown: it may be part of a secret)"
	})
	before := text[:at]
	e.line = strings.Count(before, "\n") + 1
	e.column = len(before) - strings.LastIndexByte(before, '\n')
	e.cause = jsonCauseOf(e.reason, bad)
	return e
}

// jsonCauseOf guesses what broke the text from the parser's reason and the character
// it stopped at.
func jsonCauseOf(reason string, bad byte) jsonCause {
	switch {
	case bad == '\'':
		return causeSingleQuotes
	case strings.Contains(reason, "in string escape code"),
		strings.Contains(reason, "in string literal"),
		strings.Contains(reason, "after object key:value pair"),
		strings.Contains(reason, "after array element"):
		return causeBrokenString
	}
	return causeOther
}

// jsonHint says how to build credentials that parse, when the cause is one it knows: JSON
// quoted with ' instead of ", or a secret with a quote or a backslash pasted between
// quotes in the workflow.
func jsonHint(err error) string {
	var se *syntaxError
	if !errors.As(err, &se) {
		return ""
	}
	switch se.cause {
	case causeSingleQuotes:
		return `; JSON quotes names and strings with " not ', as in {"username": "device-fleet"}`
	case causeBrokenString:
		return "; a quote or backslash inside a value (often a password) breaks JSON written in the workflow: " +
			"insert each secret with ${{ toJSON(secrets.NAME) }}, which adds the quotes and escapes it " +
			"(\"password\": ${{ toJSON(secrets.PASSWORD) }}), or write the object to a file with a JSON tool and give " + CredentialsFile +
			" (see docs/credential-types.md, \"Credentials with quotes or backslashes\")"
	}
	return ""
}
