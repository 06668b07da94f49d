package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/lifecycle"
)

var engineeringPolicy = activities.Policy{
	Defaults: activities.Provision{Entitlements: []string{"okta-base", "slack-member"}, AssetTypes: []string{"Laptop"}},
	Rules: []activities.Rule{{Department: "Engineering",
		Provision: activities.Provision{Entitlements: []string{"github-engineering"}, AssetTypes: []string{"Monitor"}}}},
}

func hire(n int, startDate string) lifecycle.OnboardingInput {
	return lifecycle.OnboardingInput{
		EmployeeID: fmt.Sprintf("E-E2E-%d", n), Email: fmt.Sprintf("e2e.hire%d@example.com", n),
		FirstName: "Hire", LastName: fmt.Sprint(n), Title: "Engineer", Department: "Engineering",
		ManagerEmail: "it.manager@example.com", TimeZone: "Europe/Paris", StartDate: startDate,
	}
}

// today is a start date whose local midnight has passed, so day one is now.
func today() string { return time.Now().UTC().Add(-24 * time.Hour).Format(time.DateOnly) }

func TestOnboardingEndToEnd(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{}, engineeringPolicy)
	in := hire(1, today())
	run := e.startOnboarding(in)

	var res lifecycle.OnboardingResult
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	require.NoError(t, run.Get(ctx, &res))
	assert.Equal(t, lifecycle.OutcomeCompleted, res.Outcome)

	requireOnboarded(t, e.sim, in.Email, []string{"okta-base", "slack-member", "github-engineering"}, []string{"Laptop", "Monitor"})

	desc, err := e.client.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	sa := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
	require.Contains(t, sa, "LifecycleStage")
	assert.Contains(t, string(sa["LifecycleStage"].GetData()), lifecycle.StageCompleted)
	assert.Contains(t, string(sa["EmployeeId"].GetData()), in.EmployeeID)
	assert.Contains(t, string(sa["AtomicworkRequest"].GetData()), res.RequestID)
	assert.Contains(t, string(sa["AtomicworkUserId"].GetData()), fmt.Sprint(res.UserID))
	for name, p := range sa {
		assert.NotContains(t, string(p.GetData()), "@", "search attribute %s holds an email", name)
	}

	// A repeated start (the HR system sends the event again) lands on the finished run: nothing is redone.
	again := e.startOnboarding(in)
	assert.Equal(t, run.GetRunID(), again.GetRunID())

	e.requireNoKeyLeak(run.GetID(), run.GetRunID())
	recordHistory(t, e, run.GetID(), run.GetRunID(), "onboarding-completed.json")
}

func TestOnboardingUnderFaultsEndsInTheSameState(t *testing.T) {
	// The faults follow the order of the requests, which three concurrent onboardings vary with
	// the machine's speed: WriteThen500 is frequent enough that some write loses its answer
	// whichever requests the drawn faults land on.
	e := newEnv(t, atomicworktest.Options{Faults: atomicworktest.Faults{Seed: 7, ServerError: 0.10, RateLimit: 0.05, WriteThen500: 0.2}}, engineeringPolicy)
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	var runs []struct {
		in  lifecycle.OnboardingInput
		id  string
		run string
	}
	for n := 10; n < 13; n++ {
		in := hire(n, today())
		run := e.startOnboarding(in)
		runs = append(runs, struct {
			in  lifecycle.OnboardingInput
			id  string
			run string
		}{in, run.GetID(), run.GetRunID()})
	}
	for _, r := range runs {
		var res lifecycle.OnboardingResult
		require.NoError(t, e.client.GetWorkflow(ctx, r.id, r.run).Get(ctx, &res), "onboarding %s", r.id)
		assert.Equal(t, lifecycle.OutcomeCompleted, res.Outcome)
		requireOnboarded(t, e.sim, r.in.Email, []string{"okta-base", "slack-member", "github-engineering"}, []string{"Laptop", "Monitor"})
		e.requireNoKeyLeak(r.id, r.run)
	}
	stats := e.sim.Stats()
	injected := stats.FaultsInjected["server_error"] + stats.FaultsInjected["rate_limit"] + stats.FaultsInjected["write_then_500"]
	t.Logf("faults injected: %v; writes applied: %d", stats.FaultsInjected, stats.WritesApplied)
	assert.Positive(t, stats.FaultsInjected["write_then_500"], "the run must have lost at least one write's answer")
	assert.Positive(t, injected)
}

func TestTwentyOnboardingsNeverShareALaptop(t *testing.T) {
	e := newEnv(t, atomicworktest.Options{}, activities.Policy{})
	const hires, laptops = 20, 8
	keepAvailable(t, e.sim, "Laptop", laptops)

	start := time.Now().UTC().Add(30 * 24 * time.Hour).Format(time.DateOnly) // day one far away: they wait
	ins := make([]lifecycle.OnboardingInput, hires)
	var wg sync.WaitGroup
	for i := range ins {
		ins[i] = hire(100+i, start)
		ins[i].Entitlements, ins[i].AssetTypes = []string{"okta-base"}, []string{"Laptop"}
		wg.Go(func() { e.startOnboarding(ins[i]) })
	}
	wg.Wait()

	// Eventually every hire either holds a laptop (and waits for day one) or waits for one.
	ctx := context.Background()
	stages := map[string]string{}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, in := range ins {
			st, err := e.status(ctx, lifecycle.OnboardingID(in.EmployeeID))
			if !assert.NoError(c, err) {
				return
			}
			stages[in.EmployeeID] = st.Stage
			assert.Contains(c, []string{lifecycle.StageWaitingStart, lifecycle.StageWaitingForAsset}, st.Stage, in.EmployeeID)
		}
	}, runDeadline, 250*time.Millisecond)

	users := map[int64]bool{}
	for _, in := range ins {
		u, ok := e.sim.UserByEmail(in.Email)
		require.True(t, ok)
		users[u.ID] = true
	}
	holders := map[int64]int64{}
	for _, a := range e.sim.Assets() {
		if uid := a.AssigneeID(atomicwork.FieldAssignedTo); users[uid] {
			_, dup := holders[uid]
			assert.False(t, dup, "user %d holds two laptops", uid)
			holders[uid] = a.ID
		}
	}
	assert.Len(t, holders, laptops, "every available laptop went to exactly one hire")
	waiting := 0
	for _, s := range stages {
		if s == lifecycle.StageWaitingForAsset {
			waiting++
		}
	}
	assert.Equal(t, hires-laptops, waiting)

	// Withdraw every offer: the laptops go back to stock and the grants are revoked.
	for _, in := range ins {
		require.NoError(t, e.client.CancelWorkflow(ctx, lifecycle.OnboardingID(in.EmployeeID), ""))
	}
	for i, in := range ins {
		var res lifecycle.OnboardingResult
		run := e.client.GetWorkflow(ctx, lifecycle.OnboardingID(in.EmployeeID), "")
		require.NoError(t, run.Get(ctx, &res))
		assert.Equal(t, lifecycle.OutcomeCancelled, res.Outcome)
		e.requireNoKeyLeak(run.GetID(), run.GetRunID())
		if i == 0 {
			recordHistory(t, e, run.GetID(), run.GetRunID(), "onboarding-cancelled.json")
		}
	}
	for _, a := range e.sim.Assets() {
		assert.False(t, users[a.AssigneeID(atomicwork.FieldAssignedTo)], "asset %d is still assigned to a cancelled hire", a.ID)
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, g := range e.sim.Grants() {
			if g.User != nil && users[g.User.ID] {
				assert.False(c, g.Active(), "grant %d of a cancelled hire is still active", g.ID)
			}
		}
	}, settle, 100*time.Millisecond)
	for _, u := range e.sim.Users() {
		if users[u.ID] {
			assert.True(t, u.IsDeleted, "user %d created by a cancelled onboarding is still active", u.ID)
		}
	}
}

// status queries a workflow's status.
func (e *env) status(ctx context.Context, workflowID string) (lifecycle.OnboardingStatus, error) {
	var st lifecycle.OnboardingStatus
	v, err := e.client.QueryWorkflow(ctx, workflowID, "", lifecycle.QueryStatus)
	if err != nil {
		return st, err
	}
	return st, v.Get(&st)
}

// keepAvailable retires all but n available assets of a type.
func keepAvailable(t *testing.T, sim *atomicworktest.Server, typeName string, n int) {
	t.Helper()
	c := sim.Client(t)
	typeID := sim.AssetTypeID(typeName)
	kept := 0
	for _, a := range sim.Assets() {
		if a.TypeID() != typeID || a.StatusValue(atomicwork.FieldStatus) != atomicwork.AssetAvailable {
			continue
		}
		if kept < n {
			kept++
			continue
		}
		_, _, err := c.SetAssignment(context.Background(), a.ID, atomicwork.Assignment{Status: atomicwork.AssetRetired})
		require.NoError(t, err)
	}
	require.Equal(t, n, kept, "the demo dataset has fewer than %d available %s", n, typeName)
}

// requireOnboarded asserts the simulator's final state for one hire: one active user, one
// resolved request with its notes, one active grant per entitlement, one asset per type.
func requireOnboarded(t *testing.T, sim *atomicworktest.Server, email string, entitlements, assetTypes []string) {
	t.Helper()
	users := 0
	var user atomicwork.User
	for _, u := range sim.Users() {
		if strings.EqualFold(u.Email, email) {
			users++
			user = u
		}
	}
	require.Equal(t, 1, users, "users with %s", email)
	assert.False(t, user.IsDeleted)

	var reqs []atomicwork.Request
	for _, r := range sim.Requests() {
		if r.Requester != nil && r.Requester.ID == user.ID {
			reqs = append(reqs, r)
		}
	}
	require.Len(t, reqs, 1, "requests for user %d", user.ID)
	assert.True(t, reqs[0].Status.Is(atomicwork.StatusResolved), "request %s is %v", reqs[0].DisplayID, reqs[0].Status)
	notes := sim.Notes(reqs[0].DisplayID)
	var plan, dayOne int
	for _, n := range notes {
		if strings.Contains(n.Description, "/plan -->") {
			plan++
		}
		if strings.Contains(n.Description, "/day-one -->") {
			dayOne++
		}
	}
	assert.Equal(t, 1, plan, "plan notes")
	assert.Equal(t, 1, dayOne, "day-one notes")

	for _, name := range entitlements {
		id := sim.EntitlementID(name)
		active := 0
		for _, g := range sim.Grants() {
			if g.User != nil && g.User.ID == user.ID && g.Entitlement != nil && g.Entitlement.ID == id && g.Active() {
				active++
			}
		}
		assert.Equal(t, 1, active, "active %s grants of user %d", name, user.ID)
	}
	for _, name := range assetTypes {
		typeID := sim.AssetTypeID(name)
		held := 0
		for _, a := range sim.Assets() {
			if a.TypeID() == typeID && a.AssigneeID(atomicwork.FieldAssignedTo) == user.ID {
				held++
				assert.Equal(t, atomicwork.AssetInUse, a.StatusValue(atomicwork.FieldStatus))
			}
		}
		assert.Equal(t, 1, held, "%s assets of user %d", name, user.ID)
	}
}

// recordHistory saves a history as a replay fixture when ATOMICFLOW_RECORD_HISTORY is set.
func recordHistory(t *testing.T, e *env, workflowID, runID, name string) {
	if os.Getenv("ATOMICFLOW_RECORD_HISTORY") == "" {
		return
	}
	path := filepath.Join("..", "workflows", "testdata", name)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, e.history(workflowID, runID), 0o644))
	t.Logf("recorded %s", path)
}
