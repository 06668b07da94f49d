package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/hrevents"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/internal/listener"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// TestBoomerangIsOffboardedAgain: an employee offboarded (account deleted after its grace period),
// rehired through the receiver, then terminated again ends with no active grant. Around it: the
// first termination delivered late stays ignored, and a second rehire that overtook its
// termination is answered 409 and starts nothing.
func TestBoomerangIsOffboardedAgain(t *testing.T) {
	devserver.RequireCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	bin, err := listener.Build(ctx, t.TempDir())
	require.NoError(t, err)
	e := newEnv(t, atomicworktest.Options{}, engineeringPolicy)
	rx := receiverFor(t, bin, e)
	leaver, emp := leaverFor(t, e, 0)
	id := emp["employee_id"].(string)
	send := func(ev hrEvent) answer {
		t.Helper()
		got, err := deliver(http.DefaultClient, rx.URL, ev.body())
		require.NoError(t, err)
		return got
	}

	// The first offboarding, with a short grace period so that it completes and deletes the account.
	fired := time.Now().UTC()
	firstRun := e.startOffboarding(lifecycle.OffboardingInput{EmployeeID: id, Email: leaver.Email, LastDay: day(fired, 0),
		TimeZone: "UTC", Immediate: true, GracePeriod: 2 * time.Second})
	var first lifecycle.OffboardingResult
	require.NoError(t, firstRun.Get(ctx, &first))
	require.Equal(t, lifecycle.OutcomeCompleted, first.Outcome)
	require.True(t, first.Deleted)
	require.Empty(t, e.sim.ActiveGrantsOf(leaver.ID))

	// The rehire onboards the employee again: the account is restored and granted access.
	person := map[string]any{"employee_id": id, "email": leaver.Email, "first_name": "Boomerang", "last_name": "Rehire",
		"title": "Engineer", "department": "Engineering", "manager_email": "it.manager@example.com", "timezone": "UTC",
		"start_date": today(), "last_working_day": nil}
	rehired := send(hrEvent{ID: "evt-rehire-1", Type: hrevents.TypeRehired, OccurredAt: time.Now().UTC(), Employee: person})
	require.Equal(t, http.StatusAccepted, rehired.Status, "%+v", rehired)
	require.Equal(t, lifecycle.OnboardingID(id), rehired.WorkflowID)
	var onboarded lifecycle.OnboardingResult
	require.NoError(t, e.client.GetWorkflow(ctx, rehired.WorkflowID, rehired.RunID).Get(ctx, &onboarded))
	require.Equal(t, lifecycle.OutcomeCompleted, onboarded.Outcome)
	require.NotEmpty(t, e.sim.ActiveGrantsOf(leaver.ID), "the rehire gave access back")

	// The first termination, delivered late, decided before the rehire: it changes nothing.
	late := send(hrEvent{ID: "evt-term-1", Type: hrevents.TypeTerminated, OccurredAt: fired.Add(-time.Hour),
		Employee: withField(emp, "last_working_day", day(fired, 0))})
	assert.Equal(t, http.StatusOK, late.Status, "%+v", late)
	assert.Equal(t, hrevents.ResultIgnored, late.Outcome)

	// A second rehire that overtook the termination it answers: 409, delivered again later.
	early := send(hrEvent{ID: "evt-rehire-2", Type: hrevents.TypeRehired, OccurredAt: time.Now().UTC(), Employee: person})
	assert.Equal(t, http.StatusConflict, early.Status, "%+v", early)
	assert.Equal(t, hrevents.CodeNotStartedYet, early.Code)
	assert.NotEmpty(t, early.RetryAfter)

	// The new termination offboards again, on a new run of the same workflow id.
	again := send(hrEvent{ID: "evt-term-2", Type: hrevents.TypeTerminated, OccurredAt: time.Now().UTC(),
		Employee: withField(emp, "last_working_day", day(time.Now().UTC(), -1))})
	t.Logf("the boomerang's termination was answered %d %s %q", again.Status, again.Outcome, again.Note)
	require.Equal(t, http.StatusAccepted, again.Status, "%+v", again)
	assert.Equal(t, lifecycle.OffboardingID(id), again.WorkflowID)
	assert.NotEqual(t, firstRun.GetRunID(), again.RunID, "a new run")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Empty(c, e.sim.ActiveGrantsOf(leaver.ID), "the boomerang keeps no access")
		st, err := e.offboardingStatus(ctx, again.WorkflowID)
		require.NoError(c, err)
		assert.Equal(c, lifecycle.StageOffGracePeriod, st.Stage)
	}, 2*time.Minute, 200*time.Millisecond)
	onboardings, err := e.client.DescribeWorkflow(ctx, lifecycle.OnboardingID(id), "")
	require.NoError(t, err)
	assert.Equal(t, rehired.RunID, onboardings.WorkflowExecution.RunID, "the early rehire started no onboarding")
}
