package localrun

import (
	"fmt"
	"strconv"
	"strings"
)

// Input is one input declared in action.yml.
type Input struct {
	Name, Description, Default string
	Required                   bool
}

// Boolean reports whether the input takes true or false, so that a bare --name means true.
func (in Input) Boolean() bool { return in.Default == "true" || in.Default == "false" }

// ReadInputs returns the inputs action.yml declares, in the file's order.
//
// It reads only the shape action.yml has: an `inputs:` mapping of names to
// description/required/default with plain or quoted one-line scalars. A YAML library
// would add half a megabyte to a binary whose image has a 12 MB budget, for --help
// alone; a test holds this reader to a real YAML parser on the real file, and anything
// it does not understand is an error, not a guess.
func ReadInputs(actionYML []byte) ([]Input, error) {
	var inputs []Input
	inBlock := false
	for n, raw := range strings.Split(string(actionYML), "\n") {
		line := strings.TrimRight(raw, " \r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case indent == 0:
			inBlock = line == "inputs:"
		case !inBlock:
		case indent == 2 && strings.HasSuffix(line, ":"):
			inputs = append(inputs, Input{Name: strings.TrimSpace(strings.TrimSuffix(line, ":"))})
		case indent == 4 && len(inputs) > 0:
			if err := setField(&inputs[len(inputs)-1], strings.TrimSpace(line)); err != nil {
				return nil, fmt.Errorf("action.yml line %d: %w", n+1, err)
			}
		default:
			return nil, fmt.Errorf("action.yml line %d: unexpected %q in inputs", n+1, strings.TrimSpace(line))
		}
	}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("action.yml declares no inputs")
	}
	return inputs, nil
}

func setField(in *Input, line string) error {
	key, raw, ok := strings.Cut(line, ":")
	if !ok {
		return fmt.Errorf("expected key: value, got %q", line)
	}
	value, err := scalar(strings.TrimSpace(raw))
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	switch key {
	case "description":
		in.Description = value
	case "default":
		in.Default = value
	case "required":
		in.Required = value == "true"
	case "deprecationMessage":
	default:
		return fmt.Errorf("unknown input field %q", key)
	}
	return nil
}

// scalar reads a one-line YAML scalar: double-quoted, single-quoted or plain.
func scalar(s string) (string, error) {
	switch {
	case strings.HasPrefix(s, `"`):
		return strconv.Unquote(s)
	case strings.HasPrefix(s, "'"):
		if len(s) < 2 || !strings.HasSuffix(s, "'") {
			return "", fmt.Errorf("unterminated quote in %s", s)
		}
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), nil
	case strings.HasPrefix(s, "|") || strings.HasPrefix(s, ">"):
		return "", fmt.Errorf("block scalars are not supported here: write the value on one line")
	}
	if i := strings.Index(s, " #"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s, nil
}
