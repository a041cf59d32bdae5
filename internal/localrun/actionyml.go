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
// description/required/default, each a plain, quoted or block (| or >) scalar. A YAML
// library would add half a megabyte to a binary whose image has a 12 MB budget, for
// --help alone; a test holds this reader to a real YAML parser on the real file, and
// anything it does not understand is an error, not a guess.
func ReadInputs(actionYML []byte) ([]Input, error) {
	lines := strings.Split(strings.ReplaceAll(string(actionYML), "\r\n", "\n"), "\n")
	var inputs []Input
	inBlock := false
	for n := 0; n < len(lines); n++ {
		line := strings.TrimRight(lines[n], " ")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		switch indent := indentOf(line); {
		case indent == 0:
			inBlock = line == "inputs:"
		case !inBlock:
		case indent == 2 && strings.HasSuffix(line, ":"):
			inputs = append(inputs, Input{Name: strings.TrimSpace(strings.TrimSuffix(line, ":"))})
		case indent == 4 && len(inputs) > 0:
			next, err := setField(&inputs[len(inputs)-1], lines, n)
			if err != nil {
				return nil, fmt.Errorf("action.yml line %d: %w", n+1, err)
			}
			n = next
		default:
			return nil, fmt.Errorf("action.yml line %d: unexpected %q in inputs", n+1, strings.TrimSpace(line))
		}
	}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("action.yml declares no inputs")
	}
	return inputs, nil
}

func indentOf(line string) int { return len(line) - len(strings.TrimLeft(line, " ")) }

// setField sets the field on lines[n] and returns the index of its last line.
func setField(in *Input, lines []string, n int) (int, error) {
	key, raw, ok := strings.Cut(strings.TrimSpace(lines[n]), ":")
	if !ok {
		return n, fmt.Errorf("expected key: value, got %q", strings.TrimSpace(lines[n]))
	}
	raw = strings.TrimSpace(raw)
	var value string
	var err error
	if strings.HasPrefix(raw, "|") || strings.HasPrefix(raw, ">") {
		value, n, err = blockScalar(raw, lines, n)
	} else {
		value, err = scalar(raw)
	}
	if err != nil {
		return n, fmt.Errorf("%s: %w", key, err)
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
		return n, fmt.Errorf("unknown input field %q", key)
	}
	return n, nil
}

// blockScalar reads a literal (|) or folded (>) block that starts after lines[n], with
// the chomping indicator - (no final newline), + (keep all) or none (one newline).
func blockScalar(header string, lines []string, n int) (string, int, error) {
	style, chomp := header[0], strings.TrimSpace(header[1:])
	if chomp != "" && chomp != "-" && chomp != "+" {
		return "", n, fmt.Errorf("block scalar header %q is not supported: use |, |-, >, or >-", header)
	}
	var body []string
	parent, indent := indentOf(lines[n]), 0
	for n+1 < len(lines) {
		line := strings.TrimRight(lines[n+1], " ")
		if line != "" && indentOf(line) <= parent {
			break
		}
		if indent == 0 && line != "" {
			indent = indentOf(line)
		}
		if len(line) >= indent {
			line = line[indent:]
		}
		body = append(body, line)
		n++
	}
	text := joinBlock(style, body)
	switch trimmed := strings.TrimRight(text, "\n"); chomp {
	case "-":
		return trimmed, n, nil
	case "+":
		return text + "\n", n, nil
	default:
		return trimmed + "\n", n, nil
	}
}

// joinBlock joins a block's lines: kept as lines (|), or folded into one line per
// paragraph (>).
func joinBlock(style byte, body []string) string {
	if style == '|' {
		return strings.Join(body, "\n")
	}
	var b strings.Builder
	for i, line := range body {
		// A blank line is a line break; the break before it, and after it, is dropped.
		switch {
		case i == 0, body[i-1] == "" && line != "":
		case line == "":
			b.WriteString("\n")
		default:
			b.WriteString(" ")
		}
		b.WriteString(line)
	}
	return b.String()
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
