package main

import "time"

// The deadlines of the waits in these tests bound what a busy machine may take (CI beside other
// jobs, the race detector, two cores), not what an idle one does. Every wait polls and returns as
// soon as its condition holds, so a long deadline costs nothing when the test passes.
const (
	// settle bounds something the dev server, a worker or a command does by itself: visibility
	// catching up, a poller showing up, a command printing, listening or stopping.
	settle = 2 * time.Minute
	// runDeadline bounds a workflow run, or a sequence of commands against one, to its end.
	runDeadline = 5 * time.Minute
)
