package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// hashPassword reads a password (the first line of in) and prints its
// bcrypt hash, for users: in config.yml, as the last line of out.
//
//	echo -n 'secret' | rtsp2hls hash-password
//
// The prompt goes to prompt (stderr) so that out carries the hash alone.
func hashPassword(in io.Reader, out, prompt io.Writer) error {
	fmt.Fprintln(prompt, "password (one line, then Enter):")
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	pw := strings.TrimRight(line, "\r\n")
	switch {
	case pw == "":
		return errors.New("no password given on standard input")
	case len(pw) > 72:
		// bcrypt looks at 72 bytes only; a longer password would be
		// silently cut.
		return errors.New("password is longer than 72 bytes, which bcrypt cannot hash")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(hash))
	return err
}
