package runner_test

import (
	"testing"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/runner"
)

func TestOnGitHub(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"GitHub's runner sets GITHUB_ACTIONS=true", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": "/github/file_commands/set_output_1"}, true},
		{"a GITHUB_OUTPUT file alone asks for the runner's protocol", map[string]string{"GITHUB_OUTPUT": "/tmp/out"}, true},
		{"a terminal, cron or another CI sets neither", map[string]string{}, false},
		{"GITHUB_ACTIONS other than true is not GitHub", map[string]string{"GITHUB_ACTIONS": "false"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			if got := runner.OnGitHub(getenv); got != tt.want {
				t.Errorf("OnGitHub = %v, want %v", got, tt.want)
			}
		})
	}
}
