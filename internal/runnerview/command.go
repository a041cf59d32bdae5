package runnerview

import "strings"

// command is one workflow command found on a log line.
type command struct {
	name  string // lower case
	props map[string]string
	data  string
}

// The commands GitHub's runner registers. A line naming any other command is printed
// as it is, exactly as the runner does.
var registered = map[string]bool{
	"add-mask": true, "debug": true, "error": true, "warning": true, "notice": true,
	"group": true, "endgroup": true, "echo": true, "stop-commands": true,
	"set-output": true, "save-state": true, "set-env": true, "add-path": true,
	"add-matcher": true, "remove-matcher": true,
}

// parseCommand reads a workflow command the way the runner does (ActionCommand.TryParseV2,
// then the legacy TryParse): `::name k=v,k=v::data` after leading blanks, or `##[name
// k=v;k=v]data` anywhere on the line. Names compare case-insensitively; extra holds a
// command name that is registered only for a while (the stop-commands resume token).
func parseCommand(line, extra string) (command, bool) {
	if c, ok := parseV2(line, extra); ok {
		return c, true
	}
	return parseLegacy(line, extra)
}

func known(name, extra string) bool {
	name = strings.ToLower(name)
	return registered[name] || (extra != "" && name == strings.ToLower(extra))
}

func parseV2(line, extra string) (command, bool) {
	msg := strings.TrimLeft(line, " \t")
	if !strings.HasPrefix(msg, "::") {
		return command{}, false
	}
	end := strings.Index(msg[2:], "::")
	if end < 0 {
		return command{}, false
	}
	info, data := msg[2:2+end], msg[2+end+2:]
	name, propText, _ := strings.Cut(info, " ")
	if !known(name, extra) {
		return command{}, false
	}
	return command{
		name:  strings.ToLower(name),
		props: parseProps(strings.TrimSpace(propText), ",", unescapeProperty),
		data:  unescapeData(data),
	}, true
}

func parseLegacy(line, extra string) (command, bool) {
	start := strings.Index(line, "##[")
	if start < 0 {
		return command{}, false
	}
	rest := line[start+3:]
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return command{}, false
	}
	name, propText, _ := strings.Cut(rest[:end], " ")
	if !known(name, extra) {
		return command{}, false
	}
	return command{
		name:  strings.ToLower(name),
		props: parseProps(propText, ";", unescapeLegacy),
		data:  unescapeLegacy(rest[end+1:]),
	}, true
}

func parseProps(text, sep string, unescape func(string) string) map[string]string {
	props := map[string]string{}
	for _, p := range strings.Split(text, sep) {
		k, v, ok := strings.Cut(p, "=")
		if ok && k != "" && v != "" {
			props[strings.ToLower(k)] = unescape(v)
		}
	}
	return props
}

// The runner unescapes with one replacement after another, in this order, so %250A
// stays %0A rather than becoming a newline.
var (
	dataEscapes   = []string{"%0D", "\r", "%0A", "\n", "%25", "%"}
	propEscapes   = []string{"%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%"}
	legacyEscapes = []string{"%3B", ";", "%0D", "\r", "%0A", "\n", "%5D", "]", "%25", "%"}
)

// replaceInOrder applies each old→new pair to the whole string in turn, as the
// runner's loop of String.Replace calls does.
func replaceInOrder(s string, pairs []string) string {
	for i := 0; i < len(pairs); i += 2 {
		s = strings.ReplaceAll(s, pairs[i], pairs[i+1])
	}
	return s
}

func unescapeData(s string) string     { return replaceInOrder(s, dataEscapes) }
func unescapeProperty(s string) string { return replaceInOrder(s, propEscapes) }
func unescapeLegacy(s string) string   { return replaceInOrder(s, legacyEscapes) }
