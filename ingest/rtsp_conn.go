package ingest

import (
	"bufio"
	"context"
	"net"
)

// cameraReadBuffer is how much one read of a camera's RTSP connection may
// take in. gortsplib reads its TCP connection through a 4 KB bufio.Reader:
// a read system call for every two or three RTP packets (1.4 KB each), ~150
// a second for a 4 Mb/s camera, and on a busy server system calls and the
// wake-ups around them are most of what a camera costs. A 1080p frame
// (~20 KB at 4 Mb/s) arrives as a burst of packets; with this buffer one
// call takes in all that has arrived. 64 KB a camera is 1 % of its memory.
const cameraReadBuffer = 64 << 10

// dialCamera is the gortsplib Client's DialContext: a TCP connection read
// through a cameraReadBuffer. TLS (rtsps) goes on top of it, so it buffers
// the encrypted stream, which is as good.
func dialCamera(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &bufferedConn{Conn: c, r: bufio.NewReaderSize(c, cameraReadBuffer)}, nil
}

// bufferedConn is a net.Conn whose reads go through a buffer.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
