package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/atomicflow/atomicflow/internal/serverconfig"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// result is one run of the starter.
type result struct {
	code           int
	stdout, stderr string
}

// runStarter executes the command line with env as the environment and dial as the connection.
func runStarter(t *testing.T, env map[string]string, dial dialFunc, args ...string) result {
	t.Helper()
	if _, ok := env["TEMPORAL_CONFIG_FILE"]; !ok {
		env["TEMPORAL_CONFIG_FILE"] = filepath.Join(t.TempDir(), "absent.toml") // not the developer's own
	}
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr, dial: dial, lookup: func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}}
	code := execute(context.Background(), args, a)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// noDial fails the test if the command tries to reach Temporal.
func noDial(t *testing.T) dialFunc {
	return func(context.Context, func(string) (string, bool), io.Writer) (*connection, error) {
		t.Error("the command dialed Temporal although its flags are invalid")
		return nil, errors.New("no server in this test")
	}
}

var validArgs = []string{"onboard", "--employee-id", "E-1001", "--email", "ada@example.com",
	"--first-name", "Ada", "--last-name", "Lovelace", "--start-date", "2099-12-01"}

func with(extra ...string) []string { return append(append([]string{}, validArgs...), extra...) }

func TestBadCommandLinesExit2BeforeDialing(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing required flags", []string{"onboard", "--email", "ada@example.com"}, `required flag(s) "employee-id", "first-name", "last-name", "start-date" not set`},
		{"employee id with a space", with("--employee-id", "E 1"), "employee id"},
		{"employee id that is an email", with("--employee-id", "ada@example.com"), "opaque id"},
		{"bad email", with("--email", "ada"), `--email: "ada" is not an email address`},
		{"bad start date", with("--start-date", "01/12/2026"), "YYYY-MM-DD"},
		{"bad time zone", with("--timezone", "Mars/Olympus"), "IANA"},
		{"bad manager email", with("--manager-email", "boss"), `--manager-email: "boss" is not an email address`},
		{"negative workspace", with("--workspace-id", "-1"), "workspace id"},
		{"workspace not a number", with("--workspace-id", "IT"), "workspace-id"},
		{"unknown flag", with("--colour", "blue"), "unknown flag: --colour"},
		{"positional argument", with("extra"), `unknown command "extra"`},
		{"unknown command", []string{"onbaord"}, `unknown command "onbaord"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runStarter(t, map[string]string{}, noDial(t), tc.args...)
			assert.Equal(t, 2, r.code)
			assert.Contains(t, r.stderr, tc.want)
			assert.Contains(t, r.stderr, "--help' for usage")
			assert.Empty(t, r.stdout)
		})
	}
}

func TestHelpShowsAnExample(t *testing.T) {
	r := runStarter(t, map[string]string{}, noDial(t), "onboard", "--help")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "Examples:")
	assert.Contains(t, r.stdout, "starter onboard --employee-id E-2002")
}

func TestDevServerFlagsListTheContractAndTheServerConfig(t *testing.T) {
	r := runStarter(t, map[string]string{}, noDial(t), "dev-server-flags")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, len(lifecycle.SearchAttributes())+len(serverconfig.Settings))
	assert.Contains(t, lines, "--search-attribute=EmployeeId=Keyword")
	assert.Contains(t, lines, "--search-attribute=LifecycleStage=Keyword")
	assert.Contains(t, lines, "--dynamic-config-value=history.transferProcessorMaxPollRPS=1000")
	assert.Contains(t, lines, "--dynamic-config-value=system.enableActivityEagerExecution=true")
}

// mockDial returns a dial function over a mocked client that records the start.
func mockDial(c *mocks.Client) dialFunc {
	return func(context.Context, func(string) (string, bool), io.Writer) (*connection, error) {
		return &connection{Client: c, Namespace: "hr"}, nil
	}
}

func TestOnboardBuildsTheInputAndStartOptions(t *testing.T) {
	c := mocks.NewClient(t)
	run := mocks.NewWorkflowRun(t)
	run.On("GetID").Return("onboarding-E-1001")
	run.On("GetRunID").Return("run-1")
	var opts client.StartWorkflowOptions
	var in lifecycle.OnboardingInput
	c.On("ExecuteWorkflow", mock.Anything, mock.Anything, lifecycle.OnboardingWorkflowName, mock.Anything).
		Run(func(args mock.Arguments) {
			opts = args.Get(1).(client.StartWorkflowOptions)
			in = args.Get(3).(lifecycle.OnboardingInput)
		}).Return(run, nil)
	c.On("Close").Return()

	r := runStarter(t, map[string]string{"ATOMICFLOW_TASK_QUEUE": "hr-queue", "ATOMICFLOW_UI_URL": "https://temporal.example.com/"}, mockDial(c),
		with("--title", "Engineer", "--department", "Engineering", "--manager-email", "grace@example.com",
			"--timezone", "Europe/London", "--workspace-id", "3", "--entitlement", "okta-base",
			"--entitlement", "github-engineering", "--asset-type", "Laptop")...)
	require.Equal(t, 0, r.code, r.stderr)

	assert.Equal(t, lifecycle.OnboardingInput{
		WorkspaceID: 3, EmployeeID: "E-1001", Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace",
		Title: "Engineer", Department: "Engineering", ManagerEmail: "grace@example.com", TimeZone: "Europe/London",
		StartDate: "2099-12-01", Entitlements: []string{"okta-base", "github-engineering"}, AssetTypes: []string{"Laptop"},
	}, in)
	assert.Equal(t, "onboarding-E-1001", opts.ID)
	assert.Equal(t, "hr-queue", opts.TaskQueue)
	assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, opts.WorkflowIDConflictPolicy)
	assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY, opts.WorkflowIDReusePolicy)
	id, _ := opts.TypedSearchAttributes.GetKeyword(lifecycle.EmployeeIDKey)
	stage, _ := opts.TypedSearchAttributes.GetKeyword(lifecycle.LifecycleStageKey)
	assert.Equal(t, "E-1001", id)
	assert.Equal(t, lifecycle.StagePlanning, stage)
	assert.Equal(t, "Onboarding E-1001 · day one 2099-12-01", opts.StaticSummary)
	for _, pii := range []string{"Ada", "Lovelace", "@"} {
		assert.NotContains(t, opts.StaticSummary, pii)
		assert.NotContains(t, opts.StaticDetails, pii)
	}
	assert.Contains(t, opts.StaticDetails, "Europe/London")

	assert.Contains(t, r.stdout, "Started onboarding-E-1001 (run run-1)")
	assert.Contains(t, r.stdout, "https://temporal.example.com/namespaces/hr/workflows/onboarding-E-1001")
}

func TestOnboardJSONWithoutWait(t *testing.T) {
	c := mocks.NewClient(t)
	run := mocks.NewWorkflowRun(t)
	run.On("GetID").Return("onboarding-E-1001")
	run.On("GetRunID").Return("run-1")
	c.On("ExecuteWorkflow", mock.Anything, mock.Anything, lifecycle.OnboardingWorkflowName, mock.Anything).Return(run, nil)
	c.On("Close").Return()

	r := runStarter(t, map[string]string{}, mockDial(c), with("--json")...)
	require.Equal(t, 0, r.code, r.stderr)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
	assert.Equal(t, map[string]any{
		"workflow_id":       "onboarding-E-1001",
		"run_id":            "run-1",
		"already_running":   false,
		"already_completed": false,
		"namespace":         "hr",
		"ui_url":            "http://localhost:8233/namespaces/hr/workflows/onboarding-E-1001",
		"status":            "running",
	}, got)
}

func TestConnectionFailureExits1(t *testing.T) {
	dial := func(context.Context, func(string) (string, bool), io.Writer) (*connection, error) {
		return nil, errors.New("cannot connect to Temporal at 127.0.0.1:7233 (namespace default): connection refused")
	}
	r := runStarter(t, map[string]string{}, dial, validArgs...)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "cannot connect to Temporal")
	assert.NotContains(t, r.stderr, "--help")
}

func TestBadTemporalConfigurationExits2(t *testing.T) {
	r := runStarter(t, map[string]string{"TEMPORAL_PROFILE": "nope"}, dialTemporal, validArgs...)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "profile nope")
}
