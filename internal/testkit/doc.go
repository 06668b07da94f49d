// Package testkit is what the tests and the bench share to run atomicflow for real:
//
//   - the Temporal CLI dev server (bin/temporal, from `make tools`, never downloaded) with
//     atomicflow's search attributes registered;
//   - `starter listen` as a child process, so that what is tested and measured is the real binary,
//     flags, environment and signals included;
//   - a buffer that background output (a server's, a worker's) goes to while a test reads it;
//   - the dead time of an activity whose worker was killed: from the kill to its next attempt's
//     start, read off the pending activities Temporal describes (the e2e test and `bench crash`).
//
// No binary that ships imports it.
package testkit
