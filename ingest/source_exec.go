package ingest

import (
	"context"
	"errors"
)

// ExecSource runs a command and reads H.264 Annex-B from its stdout.
// (Being written.)
type ExecSource struct {
	Command string // run with /bin/sh -c
}

// Read implements Source.
func (s *ExecSource) Read(ctx context.Context, feed *Feed) error {
	return errors.New("exec: not implemented yet")
}
