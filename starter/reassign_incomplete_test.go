package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// TestAnIncompleteBatchSaysSoEverywhere: the report printer, status's result lines and watch's
// exit show the outcome incomplete and how many assets are still to do; a completed batch is
// not an error.
func TestAnIncompleteBatchSaysSoEverywhere(t *testing.T) {
	rep := lifecycle.ReassignmentReport{BatchID: "b-1", Outcome: lifecycle.OutcomeIncomplete, Total: 302, Done: 100,
		NotProcessed: 202, Unfinished: 202, Verifications: 3,
		Notes: []string{"verification 3 still found 202 assets matching the selector and not at the target: the batch ends incomplete"}}
	var out bytes.Buffer
	printReassignReport(&out, rep)
	assert.Contains(t, out.String(), "Outcome:      incomplete")
	assert.Contains(t, out.String(), "Still to do:  202 assets still match the selector and are not at the target after 3 verification(s)")
	assert.Contains(t, out.String(), "Note:         verification 3 still found 202")

	raw, err := json.Marshal(rep)
	require.NoError(t, err)
	assert.Contains(t, reassignmentKind.resultLines(raw), line{"  Still to do", unfinishedText(202, 3)})
	err = reassignmentKind.unfinishedResult("asset-reassignment-b-1", raw)
	require.Error(t, err, "watch exits non-zero")
	assert.Contains(t, err.Error(), "asset-reassignment-b-1 is incomplete: 202 assets")

	rep.Outcome, rep.Unfinished, rep.NotProcessed, rep.Done = lifecycle.OutcomeCompleted, 0, 0, 302
	raw, err = json.Marshal(rep)
	require.NoError(t, err)
	assert.NoError(t, reassignmentKind.unfinishedResult("asset-reassignment-b-1", raw))
	out.Reset()
	printReassignReport(&out, rep)
	assert.NotContains(t, out.String(), "Still to do")

	p := lifecycle.ReassignmentProgress{Stage: lifecycle.StageReassignRunning, Total: 302, Done: 100, Remaining: 202, Verifications: 1, Unfinished: 202}
	assert.Contains(t, progressText(p), "202 found still to do by verification 1")
	assert.Contains(t, describe(p), "verification 1 found 202 still to do")
}
