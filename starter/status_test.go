package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListQuery(t *testing.T) {
	f := listFlags{kind: "onboarding", stage: "onboarding.access", employeeID: `E'1\x"`, open: true, limit: 10}
	q, err := f.query()
	require.NoError(t, err)
	assert.Equal(t, `WorkflowType = 'Onboarding' AND LifecycleStage = 'onboarding.access' AND EmployeeId = 'E\'1\\x\"' AND ExecutionStatus = 'Running'`, q)

	f = listFlags{kind: "reassignment", closed: true, scheduledBy: "nightly", limit: 1}
	q, err = f.query()
	require.NoError(t, err)
	assert.Equal(t, `WorkflowType = 'AssetReassignment' AND TemporalScheduledById = 'nightly' AND ExecutionStatus != 'Running'`, q)

	q, err = (&listFlags{limit: 50}).query()
	require.NoError(t, err)
	assert.Empty(t, q, "no filter lists everything")
}

func TestViewCommandsValidateBeforeDialing(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"list bad type", []string{"list", "--type", "payroll"}, `--type "payroll" is not a workflow type: use onboarding, offboarding, reassignment, reconciliation`},
		{"list open and closed", []string{"list", "--open", "--closed"}, "[closed open] were all set"},
		{"list limit", []string{"list", "--limit", "0"}, "--limit 0 is out of range: use 1 to 1000"},
		{"list blank stage", []string{"list", "--stage", " "}, "--stage is empty"},
		{"list control characters", []string{"list", "--employee-id", "E\n1"}, "--employee-id: employee id \"E\\n1\" must be printable ASCII"},
		{"list an email as employee id", []string{"list", "--employee-id", "ada@example.com"}, "--employee-id: employee id \"ada@example.com\" must be an opaque id"},
		{"status without id", []string{"status"}, "accepts 1 arg(s), received 0"},
		{"status two ids", []string{"status", "a", "b"}, "accepts 1 arg(s), received 2"},
		{"status blank id", []string{"status", " "}, "workflow id \" \" is empty"},
		{"watch without id", []string{"watch"}, "accepts 1 arg(s), received 0"},
		{"watch interval", []string{"watch", "onboarding-E-1", "--interval", "1ms"}, "--interval 1ms is below 10ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runStarter(t, map[string]string{}, noDial(t), tc.args...)
			assert.Equal(t, 2, res.code, res.stderr)
			assert.Contains(t, res.stderr, tc.want)
			assert.Empty(t, res.stdout)
		})
	}
}

func TestViewCommandsHelpShowsExamples(t *testing.T) {
	for _, cmd := range []string{"status", "list", "watch"} {
		res := runStarter(t, map[string]string{}, noDial(t), cmd, "--help")
		assert.Equal(t, 0, res.code)
		assert.Contains(t, res.stdout, "Examples:")
		assert.Contains(t, res.stdout, "starter "+cmd+" ")
	}
}

func TestFactsOf(t *testing.T) {
	s := &workflowSnapshot{Kind: "onboarding", Stage: "onboarding.access",
		State: []byte(`{"stage":"onboarding.access","done":["onboarding.account","onboarding.request"],"request_id":"REQ-1","user_id":7}`)}
	assert.Equal(t, []fact{
		{"stage", "stage", "onboarding.access"},
		{"done:onboarding.account", "done", "onboarding.account"},
		{"done:onboarding.request", "done", "onboarding.request"},
		{"user", "Atomicwork user", "7"},
		{"request", "request", "REQ-1"},
	}, factsOf(s))

	s = &workflowSnapshot{Kind: "reassignment", Stage: "reassignment.running",
		State: []byte(`{"stage":"reassignment.running","total":10,"done":4,"skipped":1,"failed":0,"remaining":5,"rate":3.2,"as_of":"2026-11-26T10:00:00Z"}`)}
	assert.Equal(t, []fact{{"stage", "stage", "reassignment.running"}, {"progress", "progress", "4 of 10 done, 1 skipped, 0 failed, 5 remaining"}}, factsOf(s))

	// Another workflow: its scalar fields, minus the ones that change every second.
	s = &workflowSnapshot{Kind: "", Stage: "x.y", State: []byte(`{"stage":"x.y","fixed":2,"as_of":"now","drift":[1,2]}`)}
	assert.Equal(t, []fact{{"stage", "stage", "x.y"}, {"field:fixed", "fixed", "2"}}, factsOf(s))

	// Without a worker: the stage search attribute only.
	assert.Equal(t, []fact{{"stage", "stage", "onboarding.account"}}, factsOf(&workflowSnapshot{Kind: "onboarding", Stage: "onboarding.account"}))
}
