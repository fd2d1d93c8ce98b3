//go:build race

package e2e

// raceEnabled: the tests run with -race, so the server binary is built
// with it too and a data race in the server fails the run.
const raceEnabled = true
