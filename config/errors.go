package config

import (
	"fmt"
	"strings"
)

// Error is returned by Load and Parse when the file has mistakes. It holds
// all of them, not just the first, so one run shows everything to fix
// instead of one edit-restart cycle per typo.
type Error struct {
	// File is the path given to Load, or "config" for Parse.
	File string
	// Problems in file order.
	Problems []Problem
}

// Problem is one mistake at one line of the file.
type Problem struct {
	Line int
	// Msg has no "FILE:LINE: " prefix and never holds a password.
	Msg string
}

// Error returns one "FILE:LINE: message" line per problem, the format
// editors and terminals turn into clickable locations.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s:%d: %s", e.File, p.Line, p.Msg)
	}
	return b.String()
}
