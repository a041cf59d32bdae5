package main

import (
	"time"

	"github.com/soracom-credentials-action/soracom-credentials-action/internal/soracomtest"
)

// scenario is the state of the emulator a run starts from, and what the action is
// held to there.
type scenario struct {
	name  string
	label string
	// exists says whether the set is there (with another key) before the run.
	exists bool
	// keepDescription: the set's stored description must survive the run (the
	// action's empty description input); the scripts cannot do that.
	keepDescription bool
	// fault scripts the emulator's answers for the run.
	fault func(e *soracomtest.Emulator)
	// serverWait is a wait the server asks for; a client that succeeds cannot avoid it,
	// so it counts in the floor of a successful run.
	serverWait time.Duration
	// maxRoundTrips is the target for the action; 0 means none.
	maxRoundTrips int
	// gapCause says where time beyond the floor goes in this scenario, for a missed
	// target.
	gapCause string
}

// storedDescription is the description an existing set holds before a run.
const storedDescription = "written in the console"

// writes matches every create and update of a set.
const writes = "* /v1/credentials/*"

func allScenarios() []scenario {
	return []scenario{
		{name: "exists", label: "set exists", exists: true, maxRoundTrips: 3},
		{name: "keep-description", label: "set exists, stored description kept", exists: true, keepDescription: true, maxRoundTrips: 4},
		{name: "missing", label: "set missing", maxRoundTrips: 4},
		{
			name: "429", label: "429 on the write (refresh in 2 s)", exists: true,
			// SORACOM's rate limiter names the wait in its own header only; it documents
			// no Retry-After.
			fault:      func(e *soracomtest.Emulator) { e.Inject(writes, 1, soracomtest.TooManyRequests(2, false)) },
			serverWait: 2 * time.Second,
		},
		{
			name: "503", label: "503 on the first write", exists: true,
			fault:    func(e *soracomtest.Emulator) { e.Inject(writes, 1, soracomtest.StatusFault(503)) },
			gapCause: "the backoff before the retry, which the 503 did not ask for",
		},
	}
}

func scenarioNames() []string {
	var names []string
	for _, s := range allScenarios() {
		names = append(names, s.name)
	}
	return append(names, extraScenarios...)
}
