package loadgen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// rawClient is one viewer's keep-alive HTTP/1.1 connection, spoken by
// hand: a request is one write of bytes built in a reused buffer, a
// response is parsed in place from a bufio.Reader, and a part's body is
// skipped in that reader without being copied out. net/http's client
// costs the generator about as much CPU per request as the server spends
// answering it (a goroutine hand-off to its connection's read and write
// loops, a Request, a Response and a header map each time); on a 2-core
// machine that CPU is taken from the server being measured.
type rawClient struct {
	addr string // host:port
	host string // Host header
	conn net.Conn
	br   *bufio.Reader
	req  []byte
	body bodyReader
	stop func() bool // ends the context.AfterFunc of conn
}

// gzipReader is a viewer's gzip.Reader, made on the first gzip answer and
// reset for each next one.
type gzipReader struct{ r *gzip.Reader }

func (z *gzipReader) reset(src io.Reader) error {
	if z.r == nil {
		r, err := gzip.NewReader(src)
		z.r = r
		return err
	}
	return z.r.Reset(src)
}

func newRawClient(base string) (*rawClient, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("loadgen: only http:// URLs (got %q)", base)
	}
	addr := u.Host
	if u.Port() == "" {
		addr += ":80"
	}
	return &rawClient{addr: addr, host: u.Host, br: bufio.NewReaderSize(nil, 64<<10), req: make([]byte, 0, 512)}, nil
}

func (c *rawClient) close() {
	if c.conn != nil {
		c.stop()
		c.conn.Close()
		c.conn = nil
	}
}

func (c *rawClient) dial(ctx context.Context) error {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	c.conn = conn
	c.br.Reset(conn)
	// The end of the run unblocks a request waiting on the server.
	c.stop = context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) }) //nolint:errcheck // closing anyway
	return nil
}

var errStatus = errors.New("loadgen: status not 200")

// get sends GET path and reads the answer. The body goes to body (gzip
// inflated by zr, which it may create) when body is non-nil, and is
// skipped otherwise. A transport error closes the connection; the next
// get dials again.
func (c *rawClient) get(ctx context.Context, path string, body *bytes.Buffer, zr *gzipReader) error {
	if c.conn == nil {
		if err := c.dial(ctx); err != nil {
			return err
		}
	}
	c.req = append(c.req[:0], "GET "...)
	c.req = append(c.req, path...)
	c.req = append(c.req, " HTTP/1.1\r\nHost: "...)
	c.req = append(c.req, c.host...)
	// The headers net/http's client sent here before: the same work
	// for the server's request parsing as in the earlier figures.
	c.req = append(c.req, "\r\nUser-Agent: Go-http-client/1.1"...)
	if body != nil {
		c.req = append(c.req, "\r\nAccept-Encoding: gzip"...)
	}
	c.req = append(c.req, "\r\n\r\n"...)
	if _, err := c.conn.Write(c.req); err != nil {
		c.close()
		return err
	}
	err := c.readResponse(body, zr)
	if err != nil && err != errStatus {
		c.close()
	}
	return err
}

func (c *rawClient) readResponse(body *bytes.Buffer, zr *gzipReader) error {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return fmt.Errorf("loadgen: bad status line %q", line)
	}
	status := atoi(line[9:])
	length, chunked, gz, closing := int64(-1), false, false, false
	for {
		line, err = c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break // the blank line
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return fmt.Errorf("loadgen: bad header line %q", line)
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case asciiEqualFold(name, "Content-Length"):
			length = int64(atoi(value))
		case asciiEqualFold(name, "Transfer-Encoding"):
			chunked = bytes.Contains(value, []byte("chunked"))
		case asciiEqualFold(name, "Content-Encoding"):
			gz = bytes.Equal(value, []byte("gzip"))
		case asciiEqualFold(name, "Connection"):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	var r io.Reader
	br := &c.body
	switch {
	case chunked:
		*br = bodyReader{br: c.br, chunked: true}
	case length >= 0:
		*br = bodyReader{br: c.br, n: length}
	default:
		return errors.New("loadgen: answer without length")
	}
	r = br
	if status == 200 && body != nil {
		body.Reset()
		if gz {
			if err := zr.reset(br); err != nil {
				return err
			}
			r = zr.r
		}
		if _, err := body.ReadFrom(r); err != nil {
			return err
		}
	}
	// Whatever is left (a part, an error's text, the gzip trailer): skip.
	if err := br.skip(); err != nil {
		return err
	}
	if closing {
		c.close()
	}
	if status != 200 {
		return errStatus
	}
	return nil
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i]|0x20, s[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// bodyReader reads one response body from the connection's reader: n
// bytes, or chunked. It is an io.ByteReader so that gzip reads from it
// without a bufio.Reader of its own.
type bodyReader struct {
	br      *bufio.Reader
	n       int64 // bytes left (of the current chunk when chunked)
	chunked bool
	done    bool // chunked: the last chunk was read
}

func (b *bodyReader) nextChunk() error {
	if !b.chunked || b.done || b.n > 0 {
		return nil
	}
	line, err := b.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	line = bytes.TrimRight(line, "\r\n")
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	n, err := strconv.ParseInt(string(line), 16, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("loadgen: bad chunk size %q", line)
	}
	if n == 0 {
		b.done = true
		// Trailers (none expected) end with a blank line.
		for {
			line, err := b.br.ReadSlice('\n')
			if err != nil {
				return err
			}
			if len(line) <= 2 {
				return nil
			}
		}
	}
	b.n = n
	return nil
}

// endChunk reads the CRLF after a chunk's data.
func (b *bodyReader) endChunk() error {
	if b.chunked && b.n == 0 && !b.done {
		_, err := b.br.Discard(2)
		return err
	}
	return nil
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if err := b.nextChunk(); err != nil {
		return 0, err
	}
	if b.n == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.br.Read(p)
	b.n -= int64(n)
	if err == nil {
		err = b.endChunk()
	}
	return n, err
}

func (b *bodyReader) ReadByte() (byte, error) {
	if err := b.nextChunk(); err != nil {
		return 0, err
	}
	if b.n == 0 {
		return 0, io.EOF
	}
	c, err := b.br.ReadByte()
	if err == nil {
		b.n--
		err = b.endChunk()
	}
	return c, err
}

// skip discards the rest of the body without copying it out.
func (b *bodyReader) skip() error {
	for {
		if err := b.nextChunk(); err != nil {
			return err
		}
		if b.n == 0 {
			return nil
		}
		n, err := b.br.Discard(int(b.n))
		b.n -= int64(n)
		if err != nil {
			return err
		}
		if err := b.endChunk(); err != nil {
			return err
		}
		if !b.chunked {
			return nil
		}
	}
}
