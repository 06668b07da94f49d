package workflows

import "time"

// How a batch lists, moves and verifies assets. Each value shapes the commands a run records:
// changing one changes the history of runs in flight, so it needs workflow.GetVersion and a replay
// fixture.
const (
	// ReassignSampleSize is how many matched assets the plan shows.
	ReassignSampleSize = 10
	// ReassignPageSize is how many asset ids one page activity lists.
	ReassignPageSize = 100
	// ReassignRangeSize is how many assets one ReassignRange moves (ReassignInRanges), and
	// ReassignRangeTail how many more the batch's last range takes rather than leave them to a
	// range of their own (one more activity and workflow task, for a few assets). Listings ask
	// for both, so that such a tail is seen along with the range before it.
	ReassignRangeSize = 1000
	ReassignRangeTail = 100
	// ReassignRangeBudget is how long a range starts assets: progress and pauses reach the
	// workflow about this often however slow the API is.
	ReassignRangeBudget = time.Second
	// DefaultAssetsPerRunInRanges replaces lifecycle.DefaultAssetsPerRun for ReassignInRanges: a range
	// adds a handful of events and its answer about 50 bytes per asset, so a run of this many
	// stays near 150 events and 1 MB of history, and lasts long enough that continue-as-new is
	// not slowed by the server's minimum interval between runs (1 s by default).
	DefaultAssetsPerRunInRanges = 20_000
	// FailureStreakLimit pauses a batch whose last assets all failed: something is wrong for all.
	FailureStreakLimit = 50
	// A batch that has handled every asset it listed verifies its selector: the assets still
	// matching and not at the target (failed ones apart) are moved in another round, up to
	// ReassignVerifyBatch of them a round, and verified again; it ends incomplete after
	// VerifyStallRounds verifications in a row without fewer of them, or MaxVerifyRounds in all.
	ReassignVerifyBatch = 1000
	VerifyStallRounds   = 2
	MaxVerifyRounds     = 100
	// MaxReassignNotes bounds the notes a batch keeps (the latest).
	MaxReassignNotes = 10
)
