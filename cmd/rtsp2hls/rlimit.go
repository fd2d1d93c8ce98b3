package main

import "syscall"

// raiseOpenFiles raises the soft limit on open files to the hard limit:
// every viewer holds a socket, and a wall of thousands of LL-HLS viewers
// needs thousands of them while the usual soft limit is 1024. (Go's os
// package does the same at start on Unix since Go 1.19; doing it here
// makes it explicit and gives the figure to log.)
func raiseOpenFiles() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	return lim.Cur, nil
}
