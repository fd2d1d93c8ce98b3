package ingest

import (
	"context"
	"errors"
	"net/netip"
)

// RTPSource receives raw RTP over UDP as described by an SDP. (Being written.)
type RTPSource struct {
	Addr netip.AddrPort // address to listen on, or multicast group to join
	SDP  string
}

// Read implements Source.
func (s *RTPSource) Read(ctx context.Context, feed *Feed) error {
	return errors.New("rtp: not implemented yet")
}
