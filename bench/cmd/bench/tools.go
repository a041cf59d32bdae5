package main

import (
	"os"
	"os/exec"
	"path/filepath"
)

// job is what every tool is asked to do in one run: store key in the set id.
type job struct {
	endpoint  string // emulator base URL, without /v1
	ca        string // PEM file of the emulator's CA
	home      string // an empty HOME, so no tool reads a user's configuration
	setID     string
	keyID     string
	keySecret string
	// keepDescription asks the tool to keep the set's stored description; otherwise it
	// writes an empty one, as the scripts always do.
	keepDescription bool
}

// tool is one way of doing the job: a command and the environment it reads.
type tool struct {
	name string
	// label is how the tables name the tool.
	label string
	// command returns the process for one run.
	command func(b *bench, j job) *exec.Cmd
}

const actionTool = "action"

func allTools() []tool {
	return []tool{
		{name: actionTool, label: "this action", command: actionCommand},
		{name: "python", label: "Python + requests", command: pythonCommand},
		{name: "curl", label: "curl + jq", command: curlCommand},
	}
}

func toolNames() []string {
	var names []string
	for _, t := range allTools() {
		names = append(names, t.name)
	}
	return names
}

// baseEnv is the environment every tool gets: no proxies, no ambient credentials, no
// user configuration, nothing from the shell that started the benchmark.
func baseEnv(j job) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + j.home, "LANG=C.UTF-8"}
}

// actionCommand runs the binary the way the runner runs the container: INPUT_<NAME>
// variables, hyphens kept. verify-aws-key is off: the baselines do not verify the key
// either, and no STS is needed for registration.
func actionCommand(b *bench, j job) *exec.Cmd {
	cmd := exec.Command(b.action)
	cmd.Env = append(baseEnv(j),
		"SSL_CERT_FILE="+j.ca,
		"INPUT_CREDENTIAL-ID="+j.setID,
		"INPUT_SORACOM-AUTH-KEY-ID="+authKeyID,
		"INPUT_SORACOM-AUTH-KEY="+authKey,
		"INPUT_SORACOM-ENDPOINT="+j.endpoint,
		"INPUT_AWS-ACCESS-KEY-ID="+j.keyID,
		"INPUT_AWS-SECRET-ACCESS-KEY="+j.keySecret,
		"INPUT_VERIFY-AWS-KEY=false",
	)
	if !j.keepDescription {
		// Write an empty description, as the scripts do: the same job, the same trips.
		cmd.Env = append(cmd.Env, "INPUT_DESCRIPTION=-")
	}
	return cmd
}

// scriptEnv is what both scripts read.
func scriptEnv(j job) []string {
	return append(baseEnv(j),
		"SORACOM_ENDPOINT="+j.endpoint,
		"SORACOM_AUTH_KEY_ID="+authKeyID,
		"SORACOM_AUTH_KEY="+authKey,
		"CREDENTIAL_ID="+j.setID,
		"AWS_KEY_ID="+j.keyID,
		"AWS_KEY_SECRET="+j.keySecret,
	)
}

func pythonCommand(b *bench, j job) *exec.Cmd {
	cmd := exec.Command("python3", filepath.Join(b.root, "bench", "scripts", "register.py"))
	cmd.Env = append(scriptEnv(j), "REQUESTS_CA_BUNDLE="+j.ca)
	return cmd
}

func curlCommand(b *bench, j job) *exec.Cmd {
	cmd := exec.Command("bash", filepath.Join(b.root, "bench", "scripts", "register.sh"))
	cmd.Env = append(scriptEnv(j), "CURL_CA_BUNDLE="+j.ca)
	return cmd
}
