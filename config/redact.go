package config

import (
	"strings"
	"unicode"
)

// redacted replaces a password. Fixed length, so it says nothing about the
// real one.
const redacted = "xxxxx"

// Redact returns s with the password of every "scheme://user:pass@..." in it
// replaced by xxxxx, keeping the user name, so that logs and error messages
// can quote camera URLs. s may be a bare URL or any text that contains URLs,
// such as an error from a dialer. Text without credentials comes back
// unchanged, and so does a URL with a user but no password.
//
// Passwords are often written unescaped ("rtsp://admin:pa/ss#1@cam"), which
// no URL parser accepts, so Redact scans text instead of parsing: after each
// "://" the user info runs up to the last '@' before the next white space,
// and the password is everything after its first ':'. When that is ambiguous
// (an '@' in a path after a port) it hides too much rather than too little.
func Redact(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	rest := s
	for {
		i := strings.Index(rest, "://")
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		i += len("://")
		b.WriteString(rest[:i])
		rest = rest[i:]
		end := strings.IndexFunc(rest, unicode.IsSpace)
		if end < 0 {
			end = len(rest)
		}
		head, n := redactUserinfo(rest[:end])
		b.WriteString(head)
		rest = rest[n:]
	}
}

// redactURL is Redact for a string known to be a single URL, such as a
// camera's source: the URL may then hold white space (a password with a
// space in it) or lack "://" (a forgotten or mistyped scheme) and still
// never show its password.
func redactURL(s string) string {
	start := 0
	if i := strings.Index(s, "://"); i >= 0 && i < strings.LastIndexByte(s, '@') {
		start = i + len("://")
	}
	head, n := redactUserinfo(s[start:])
	return s[:start] + head + s[start+n:]
}

// redactUserinfo looks at authority, the text right after a "://" up to the
// end of the URL. If it starts with user:password@, it returns that prefix
// with the password replaced and the number of bytes of authority it
// covers; otherwise it returns "", 0.
func redactUserinfo(authority string) (string, int) {
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return "", 0
	}
	userinfo := authority[:at]
	colon := strings.IndexByte(userinfo, ':')
	if colon < 0 || colon == len(userinfo)-1 {
		// A user and no password: nothing to hide.
		return userinfo + "@", at + 1
	}
	return userinfo[:colon+1] + redacted + "@", at + 1
}
