package ingest

import (
	"context"
	"errors"
	"log/slog"
)

// PublishServer is rtsp2hls's own RTSP server, where clients push streams
// with ANNOUNCE/RECORD at rtsp://HOST:PORT/{camera}. (Being written.)
type PublishServer struct{}

// StartPublishServer listens on addr.
func StartPublishServer(addr string, log *slog.Logger) (*PublishServer, error) {
	return nil, errors.New("publish: not implemented yet")
}

// Source returns the source of one publish camera; user and pass, if not
// empty, are the credentials a publisher must give.
func (s *PublishServer) Source(name, user, pass string) Source { return nil }

// Close stops the server and disconnects every publisher.
func (s *PublishServer) Close() {}

var _ = context.Background
