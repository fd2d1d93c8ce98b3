package ingest

import (
	"io"
	"log/slog"
	"sync/atomic"
)

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type atomicInt = atomic.Int64
