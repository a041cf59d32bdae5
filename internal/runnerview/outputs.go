package runnerview

import (
	"fmt"
	"strings"
)

// Output is one step output.
type Output struct {
	Name, Value string
}

// ParseOutputs reads a GITHUB_OUTPUT file as the runner does: `name=value` lines and
// `name<<DELIMITER` heredocs whose value ends at a line equal to the delimiter; blank
// lines are skipped. A name written twice keeps its first place and its last value.
// A malformed file is an error, with the runner's wording, and then the runner sets no
// output at all.
func ParseOutputs(file string) ([]Output, error) {
	lines := strings.Split(strings.ReplaceAll(file, "\r\n", "\n"), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var outs []Output
	index := map[string]int{}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		name, value, next, err := parseOutput(lines, i)
		if err != nil {
			return nil, err
		}
		i = next
		if at, ok := index[name]; ok {
			outs[at].Value = value
			continue
		}
		index[name] = len(outs)
		outs = append(outs, Output{Name: name, Value: value})
	}
	return outs, nil
}

// parseOutput reads the output that starts at lines[i] and returns the index of its last
// line.
func parseOutput(lines []string, i int) (name, value string, last int, err error) {
	line := lines[i]
	eq, heredoc := strings.Index(line, "="), strings.Index(line, "<<")
	if eq >= 0 && (heredoc < 0 || eq < heredoc) {
		if eq == 0 {
			return "", "", i, fmt.Errorf("invalid format %q", line)
		}
		return line[:eq], line[eq+1:], i, nil
	}
	if heredoc <= 0 || heredoc+2 == len(line) {
		return "", "", i, fmt.Errorf("invalid format %q", line)
	}
	name, delim := line[:heredoc], line[heredoc+2:]
	for j := i + 1; j < len(lines); j++ {
		if lines[j] == delim {
			return name, strings.Join(lines[i+1:j], "\n"), j, nil
		}
	}
	return "", "", i, fmt.Errorf("invalid value: matching delimiter not found %q", delim)
}
