package main

import "context"

// rotationScenario names the rotation scenario, which only the action runs.
const rotationScenario = "rotation"

// rotationResult is what the rotation runs measured.
type rotationResult struct{}

func (b *bench) measureRotation(ctx context.Context) (*rotationResult, error) {
	return nil, nil
}

func (p *printer) rotation(r report) {}
