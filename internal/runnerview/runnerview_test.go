package runnerview

import (
	"reflect"
	"strings"
	"testing"
)

func render(t *testing.T, stdout string) string {
	t.Helper()
	var b strings.Builder
	l := NewLog(&b)
	if _, err := l.Write([]byte(stdout)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestLogShowsWhatGitHubShows(t *testing.T) {
	tests := []struct {
		name, stdout, want string
	}{
		{"plain lines pass through", "hello\nworld\n", "hello\nworld\n"},
		{"a last line without newline is shown", "hello\nlast", "hello\nlast\n"},
		{"CRLF line endings are shown as lines", "a\r\nb\r\n", "a\nb\n"},
		{"add-mask is consumed and the value shown as *** afterwards",
			"::add-mask::s3cr3t-value\nkey is s3cr3t-value.\n", "key is ***.\n"},
		{"a line printed before its mask stays as printed",
			"early s3cr3t-value\n::add-mask::s3cr3t-value\nlate s3cr3t-value\n", "early s3cr3t-value\nlate ***\n"},
		{"the longer of two overlapping masks is hidden whole",
			"::add-mask::abcd\n::add-mask::abcdefgh\nabcdefgh abcd\n", "*** ***\n"},
		{"a blank mask hides nothing", "::add-mask:: \nplain words\n", "plain words\n"},
		{"a mask hides the value inside annotations too",
			"::add-mask::tok-123\n::error::bad token tok-123\n", "Error: bad token ***\n"},
		{"error, warning and notice become labelled lines",
			"::error::it broke\n::warning::careful\n::notice::fyi\n", "Error: it broke\nWarning: careful\nNotice: fyi\n"},
		{"a multi-line message shows as lines aligned under the first",
			"::error::first%0Asecond%0D%0Athird\n", "Error: first\n       second\n       third\n"},
		{"%25 decodes to a percent sign and %250A stays literal",
			"::warning::100%25 done, %250A is not a newline\n", "Warning: 100% done, %0A is not a newline\n"},
		{"annotation properties are not part of the message",
			"::error file=main.go,line=3,title=Build::missing semicolon\n", "Error: missing semicolon\n"},
		{"command names are case-insensitive and may follow blanks",
			"  ::ERROR::shouted\n", "Error: shouted\n"},
		{"a group is a header with its lines indented",
			"before\n::group::Plan\none\ntwo\n::endgroup::\nafter\n", "before\n▼ Plan\n  one\n  two\nafter\n"},
		{"a new group ends the one before (GitHub does not nest them)",
			"::group::A\na\n::group::B\nb\n", "▼ A\n  a\n▼ B\n  b\n"},
		{"an annotation inside a group is indented with it",
			"::group::G\n::warning::w%0Ax\n::endgroup::\n", "▼ G\n  Warning: w\n           x\n"},
		{"debug lines are hidden", "::debug::internal detail\nshown\n", "shown\n"},
		{"an unknown command is printed as it is", "::frobnicate::x\n", "::frobnicate::x\n"},
		{"a line with one :: pair only is text", "::error no end\n", "::error no end\n"},
		{"the legacy ##[ form is a command anywhere on the line",
			"prefix ##[error]legacy%3B%5D failure\n##[group]Old group\nin\n##[endgroup]\n", "Error: legacy;] failure\n▼ Old group\n  in\n"},
		{"state commands change the run, not the log",
			"::set-output name=x::1\n::save-state name=y::2\n::echo::on\nvisible\n", "visible\n"},
		{"stop-commands prints everything up to its token as text",
			"::stop-commands::pause-42\n::add-mask::notamask\n::error::not an error notamask\n::pause-42::\n::error::real\n",
			"::stop-commands::pause-42\n::add-mask::notamask\n::error::not an error notamask\n::pause-42::\nError: real\n"},
		{"masks registered before stop-commands still apply while stopped",
			"::add-mask::hidden-v\n::stop-commands::tok\nhidden-v\n::tok::\n", "::stop-commands::tok\n***\n::tok::\n"},
		{"control characters cannot drive the terminal",
			"\x1b[2Jcleared?\a\n::error::bad\x1b]0;title\x07\n", "\\x1b[2Jcleared?\\x07\nError: bad\\x1b]0;title\\x07\n"},
		{"invalid UTF-8 is shown as escapes", "a\xffb\n", "a\\xffb\n"},
		{"tabs stay", "a\tb\n", "a\tb\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(t, tt.stdout); got != tt.want {
				t.Errorf("rendered\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestLogRendersLinesSplitAcrossWrites(t *testing.T) {
	var b strings.Builder
	l := NewLog(&b)
	for _, chunk := range []string{"::add-", "mask::sec", "ret-1\nthe sec", "ret-1 is hidden\n::err", "or::x%0", "Ay\n"} {
		if _, err := l.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	want := "the *** is hidden\nError: x\n       y\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestParseOutputs(t *testing.T) {
	tests := []struct {
		name, file string
		want       []Output
		wantErr    string
	}{
		{"name=value lines", "a=1\nb=two words\n", []Output{{"a", "1"}, {"b", "two words"}}, ""},
		{"a value may hold = signs", "a=x=y\n", []Output{{"a", "x=y"}}, ""},
		{"heredoc with a random delimiter", "results<<ghadelimiter_1\n[1,\n2]\nghadelimiter_1\nop<<EOF\ncreated\nEOF\n",
			[]Output{{"results", "[1,\n2]"}, {"op", "created"}}, ""},
		{"an empty heredoc value", "a<<D\nD\n", []Output{{"a", ""}}, ""},
		{"blank lines are skipped", "\na=1\n\n", []Output{{"a", "1"}}, ""},
		{"a name set twice keeps its place and its last value", "a=1\nb=2\na=3\n", []Output{{"a", "3"}, {"b", "2"}}, ""},
		{"CRLF files", "a<<D\r\nv\r\nD\r\n", []Output{{"a", "v"}}, ""},
		{"= before << is a plain value", "a=x<<y\n", []Output{{"a", "x<<y"}}, ""},
		{"an empty file", "", nil, ""},
		{"a heredoc without its delimiter", "a<<D\nvalue\n", nil, `invalid value: matching delimiter not found "D"`},
		{"a line that is neither form", "just text\n", nil, `invalid format "just text"`},
		{"a name that is empty", "=v\n", nil, `invalid format "=v"`},
		{"a heredoc without a delimiter", "a<<\n", nil, `invalid format "a<<"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOutputs(tt.file)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRenderAWholeStep(t *testing.T) {
	tests := []struct {
		name string
		step Step
		want string
	}{
		{
			name: "a successful step with outputs and a summary",
			step: Step{
				Uses:    "soracom-credentials-action/soracom-credentials-action@v1",
				With:    []Input{{"credential-id", "funnel-aws"}, {"soracom-auth-key", "secret-abc"}},
				Secrets: []string{"secret-abc"},
				Stdout:  "::add-mask::AKIANEWKEY\nStored AKIANEWKEY\n",
				Result: Result{
					Output:  "credential-id<<D1\nfunnel-aws\nD1\nresults<<D2\n[{\"a\":1},\n {\"b\":2}]\nD2\naws-access-key-id=AKIANEWKEY\n",
					Summary: "### Sets\n\n| Set | Operation |\n|---|---|\n| `funnel-aws` | updated |\n",
				},
			},
			want: `Run soracom-credentials-action/soracom-credentials-action@v1
  with:
    credential-id: funnel-aws
    soracom-auth-key: ***
Stored ***

Outputs:
  credential-id      funnel-aws
  results            [{"a":1},
                      {"b":2}]
  aws-access-key-id  ***

Job summary:
  Sets
  ====

  Set         Operation
  ----------  ---------
  funnel-aws  updated
`,
		},
		{
			name: "a failed step with nothing written",
			step: Step{Stdout: "::error::it broke\n", Result: Result{ExitCode: 1}},
			want: "Error: it broke\nError: Docker run failed with exit code 1\n\nOutputs: none\n\nJob summary: none\n",
		},
		{
			name: "a malformed output file is the runner's error, and no output is set",
			step: Step{Stdout: "done\n", Result: Result{Output: "a<<EOF\nx\n", Summary: "ok\n"}},
			want: "done\nError: Unable to process file command 'output' successfully.\n" +
				"Error: invalid value: matching delimiter not found \"EOF\"\n\nOutputs: none\n\nJob summary:\n  ok\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Render(&b, tt.step); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("rendered\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}
