// Package runner says where the action runs: under GitHub's runner, which reads workflow
// commands (::error::, ::add-mask::) from the log and Markdown from the job summary, or
// anywhere else (a terminal, cron, another CI), where the same text must be plain. It is
// the one place that decides; the log, the summary, the hints and the command line ask it.
package runner

// OnGitHub reports whether the action runs under GitHub's runner (or one that speaks its
// protocol, as GitHub Enterprise Server's and act do): GITHUB_ACTIONS is "true", or the
// GITHUB_OUTPUT file the runner names is set. A run given GITHUB_OUTPUT by hand asked for
// the runner's protocol and gets it.
func OnGitHub(getenv func(string) string) bool {
	return getenv("GITHUB_ACTIONS") == "true" || getenv("GITHUB_OUTPUT") != ""
}
