package action

import (
	"context"
	"errors"
	"io"
)

// RotationReport is what a rotation did to the keys.
type RotationReport struct {
	OldKeyID, NewKeyID string
	OldKeyAction       string
}

func (r *RotationReport) writeSummary(w io.Writer) {}

func (r *run) rotate(ctx context.Context) (*Report, error) {
	return nil, errors.New("rotation is not implemented yet")
}
