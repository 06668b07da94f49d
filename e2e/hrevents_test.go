package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/hrevents"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/internal/listener"
	"github.com/atomicflow/atomicflow/lifecycle"
)

const hrSecret = "e2e-hr-secret-0123456789abcdef"

// TestHREvents runs the real `starter listen` binary in front of the dev server and a worker.
func TestHREvents(t *testing.T) {
	cli := devserver.RequireCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	bin, err := listener.Build(ctx, t.TempDir())
	require.NoError(t, err)

	t.Run("a signed hire starts an onboarding that completes", func(t *testing.T) { testHireCompletes(t, bin) })
	t.Run("200 deliveries of 50 events, duplicated and shuffled", func(t *testing.T) { testShuffledDeliveries(t, bin) })
	t.Run("Temporal down: 503, and nothing lost when it is back", func(t *testing.T) { testTemporalOutage(t, bin, cli) })
	t.Run("a reused event id is 409 and changes nothing", func(t *testing.T) { testEventIDReused(t, bin) })
	t.Run("a Content-Type other than JSON is 415 and starts nothing", func(t *testing.T) { testNotJSON(t, bin) })
	t.Run("an older date change is 200 ignored", func(t *testing.T) { testStaleChangeIgnored(t, bin) })
	t.Run("a last working day long past holds the offboarding", func(t *testing.T) { testLongPastLastDayIsHeld(t, bin) })
	t.Run("a last working day just past offboards at once", func(t *testing.T) { testRecentPastLastDayOffboards(t, bin) })
}

// receiverFor starts `starter listen` for an env's task queue on the package's dev server.
// It returns once the receiver has reached Temporal (before, it answers 503).
func receiverFor(t *testing.T, bin string, e *env, args ...string) *listener.Process {
	t.Helper()
	rx := startReceiver(t, bin, devServer(t).FrontendHostPort(), e.queue, args...)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := http.Get(rx.URL + "/healthz")
		require.NoError(c, err)
		defer resp.Body.Close()
		var health struct{ Temporal string }
		require.NoError(c, json.NewDecoder(resp.Body).Decode(&health))
		assert.Equal(c, "connected", health.Temporal)
	}, settle, 50*time.Millisecond)
	return rx
}

func startReceiver(t *testing.T, bin, temporalAddr, queue string, args ...string) *listener.Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	rx, err := listener.Start(ctx, bin, map[string]string{"TEMPORAL_ADDRESS": temporalAddr, "ATOMICFLOW_TASK_QUEUE": queue,
		"ATOMICFLOW_HR_SECRETS": hrSecret}, args...)
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("starter listen logs:\n%s", rx.Logs())
		}
	})
	return rx
}

// hrEvent is one event of the generic format.
type hrEvent struct {
	ID         string         `json:"event_id"`
	Type       string         `json:"type"`
	OccurredAt time.Time      `json:"occurred_at"`
	Employee   map[string]any `json:"employee"`
}

func (ev hrEvent) body() string {
	b, _ := json.Marshal(ev)
	return string(b)
}

// answer is the receiver's JSON answer, success or envelope.
type answer struct {
	Status     int
	RetryAfter string
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Duplicate  bool   `json:"duplicate"`
	Outcome    string `json:"outcome"`
	Note       string `json:"note"`
	Held       bool   `json:"held"`
	Code       string `json:"code"`
	Error      string `json:"error"`
}

// deliver posts body signed now, as an HR system does.
func deliver(c *http.Client, url, body string) (answer, error) {
	return deliverAs(c, url, body, "application/json")
}

// deliverAs is deliver with another Content-Type.
func deliverAs(c *http.Client, url, body, contentType string) (answer, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/hr/events", strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	now := time.Now()
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(hrevents.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(hrevents.HeaderSignature, hrevents.Sign(hrSecret, now, []byte(body)))
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	a := answer{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	return a, json.NewDecoder(resp.Body).Decode(&a)
}

func hireEmployee(in lifecycle.OnboardingInput) map[string]any {
	return map[string]any{"employee_id": in.EmployeeID, "email": in.Email, "first_name": in.FirstName, "last_name": in.LastName,
		"title": in.Title, "department": in.Department, "manager_email": in.ManagerEmail, "timezone": in.TimeZone,
		"start_date": in.StartDate, "last_working_day": nil}
}

func testHireCompletes(t *testing.T, bin string) {
	e := newEnv(t, atomicworktest.Options{}, engineeringPolicy)
	rx := receiverFor(t, bin, e)
	in := hire(901, today())
	ev := hrEvent{ID: "evt-hire-901", Type: hrevents.TypeHired, OccurredAt: time.Now().UTC(), Employee: hireEmployee(in)}

	got, err := deliver(http.DefaultClient, rx.URL, ev.body())
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, got.Status, "%+v", got)
	assert.Equal(t, lifecycle.OnboardingID(in.EmployeeID), got.WorkflowID)
	assert.False(t, got.Duplicate)

	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	var res lifecycle.OnboardingResult
	require.NoError(t, e.client.GetWorkflow(ctx, got.WorkflowID, got.RunID).Get(ctx, &res))
	assert.Equal(t, lifecycle.OutcomeCompleted, res.Outcome)
	requireOnboarded(t, e.sim, in.Email, []string{"okta-base", "slack-member", "github-engineering"}, []string{"Laptop", "Monitor"})

	again, err := deliver(http.DefaultClient, rx.URL, ev.body())
	require.NoError(t, err)
	assert.Equal(t, answer{Status: http.StatusOK, WorkflowID: got.WorkflowID, RunID: got.RunID, Duplicate: true, Outcome: hrevents.ResultDuplicate,
		Note: "event evt-hire-901 was handled before (outcome applied)"}, again)

	require.NoError(t, rx.Stop(), "SIGTERM stops the receiver cleanly")
	logs := rx.Logs()
	assert.Contains(t, logs, `"EventId":"evt-hire-901"`)
	for _, pii := range []string{in.Email, in.FirstName + `"`, in.ManagerEmail, hrSecret} {
		assert.NotContains(t, logs, pii)
	}
}

// story is one employee's events and what they must end in.
type story struct {
	workflowID string
	events     []hrEvent
	cancelled  bool
	// want is the final start date (onboarding) or last working day (offboarding).
	want string
	tz   string
}

func day(from time.Time, days int) string { return from.AddDate(0, 0, days).Format(time.DateOnly) }

// hireStories: hired, one or two start-date changes, some hires cancelled (28 events).
func hireStories(base time.Time) []story {
	now := time.Now().UTC()
	var out []story
	for i := range 10 {
		in := hire(700+i, day(now, 30))
		emp := hireEmployee(in)
		at := func(k int) time.Time { return base.Add(time.Duration(10*i+k) * time.Second) }
		s := story{workflowID: lifecycle.OnboardingID(in.EmployeeID), tz: in.TimeZone, want: day(now, 31+i%3)}
		s.events = append(s.events, hrEvent{fmt.Sprintf("evt-h%d-hired", i), hrevents.TypeHired, at(0), emp})
		s.events = append(s.events, hrEvent{fmt.Sprintf("evt-h%d-move1", i), hrevents.TypeUpdated, at(1), withField(emp, "start_date", s.want)})
		if i < 5 {
			s.want = day(now, 40)
			s.events = append(s.events, hrEvent{fmt.Sprintf("evt-h%d-move2", i), hrevents.TypeUpdated, at(2), withField(emp, "start_date", s.want)})
		}
		if i >= 7 {
			s.cancelled = true
			s.events = append(s.events, hrEvent{fmt.Sprintf("evt-h%d-cancel", i), hrevents.TypeHireCancelled, at(3), emp})
		}
		out = append(out, s)
	}
	return out
}

// leaverStories: terminated, one or two date changes (later, then earlier), some termination
// cancelled (22 events), for seeded users.
func leaverStories(t *testing.T, sim *atomicworktest.Server, base time.Time) []story {
	now := time.Now().UTC()
	var out []story
	for _, u := range sim.Users() {
		if len(out) == 8 {
			break
		}
		if u.IsDeleted || u.EmployeeID == "" || u.Email == "" {
			continue
		}
		j := len(out)
		id := employeeID(t, sim, u)
		emp := map[string]any{"employee_id": id, "email": u.Email, "timezone": "America/New_York", "last_working_day": day(now, 20)}
		at := func(k int) time.Time { return base.Add(time.Duration(10*j+k) * time.Second) }
		s := story{workflowID: lifecycle.OffboardingID(id), tz: "America/New_York", want: day(now, 25)}
		s.events = append(s.events, hrEvent{fmt.Sprintf("evt-t%d-terminated", j), hrevents.TypeTerminated, at(0), emp})
		s.events = append(s.events, hrEvent{fmt.Sprintf("evt-t%d-later", j), hrevents.TypeTerminationChanged, at(1), withField(emp, "last_working_day", s.want)})
		if j < 4 {
			s.want = day(now, 15)
			s.events = append(s.events, hrEvent{fmt.Sprintf("evt-t%d-earlier", j), hrevents.TypeTerminationChanged, at(2), withField(emp, "last_working_day", s.want)})
		}
		if j >= 6 {
			s.cancelled = true
			s.events = append(s.events, hrEvent{fmt.Sprintf("evt-t%d-cancel", j), hrevents.TypeTerminationCancelled, at(3), emp})
		}
		out = append(out, s)
	}
	require.Len(t, out, 8, "the demo dataset has 8 users with an employee id")
	return out
}

func withField(emp map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(emp))
	for key, val := range emp {
		out[key] = val
	}
	out[k] = v
	return out
}

func testShuffledDeliveries(t *testing.T, bin string) {
	e := newEnv(t, atomicworktest.Options{}, activities.Policy{})
	// A busy machine may keep a delivery waiting for Temporal longer than the default 5 s, which
	// answers 503: "only final answers and 409s" below holds for a Temporal that answers at all.
	rx := receiverFor(t, bin, e, "--retry-after", "1s", "--timeout", "1m")
	base := time.Now().UTC().Add(-time.Hour)
	stories := append(hireStories(base), leaverStories(t, e.sim, base)...)
	t.Cleanup(func() {
		// The ids are the seeded users': later tests on this dev server must not reach these runs.
		for _, s := range stories {
			_ = e.client.TerminateWorkflow(context.Background(), s.workflowID, "", "test over")
		}
	})
	var deliveries []string
	ids := map[string]string{} // event id -> workflow id
	for _, s := range stories {
		for _, ev := range s.events {
			ids[ev.ID] = s.workflowID
			for range 4 {
				deliveries = append(deliveries, ev.body())
			}
		}
	}
	require.Len(t, ids, 50)
	require.Len(t, deliveries, 200)
	seed := time.Now().UnixNano()
	t.Logf("shuffle seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })

	answers := sendLikeAnHRSystem(t, rx.URL, deliveries, 8)

	// Every accepted delivery of a workflow names the same run, and redeliveries were answered
	// as duplicates.
	runOf := map[string]string{}
	statuses := map[int]int{}
	duplicates := 0
	for _, a := range answers {
		statuses[a.Status]++
		if a.Duplicate {
			duplicates++
		}
		if a.Status == http.StatusAccepted {
			if prev, ok := runOf[a.WorkflowID]; ok {
				assert.Equal(t, prev, a.RunID, "%s: two runs accepted events", a.WorkflowID)
			}
			runOf[a.WorkflowID] = a.RunID
		}
	}
	t.Logf("answers by status: %v; duplicates: %d", statuses, duplicates)
	assert.Subset(t, []int{http.StatusAccepted, http.StatusOK, http.StatusConflict}, keys(statuses), "only final answers and 409s")
	assert.Positive(t, duplicates, "redeliveries are recognised")

	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	for _, s := range stories {
		requireFinalState(t, ctx, e, s)
		requireOneRun(t, ctx, e, s.workflowID)
		requireEachUpdateOnce(t, e, s, ids)
	}
}

// sendLikeAnHRSystem delivers every body with senders concurrent senders, delivering again
// (later, like an HR system's retry) what was answered 409 or 503; it returns every answer.
func sendLikeAnHRSystem(t *testing.T, url string, bodies []string, senders int) []answer {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Minute} // longer than the receiver's --timeout
	queue := make(chan string, len(bodies))
	for _, b := range bodies {
		queue <- b
	}
	var (
		mu      sync.Mutex
		answers []answer
		pending sync.WaitGroup
	)
	pending.Add(len(bodies))
	deadline := time.Now().Add(2 * runDeadline)
	for range senders {
		go func() {
			for body := range queue {
				a, err := deliver(c, url, body)
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
				if err == nil && a.Status < 300 {
					pending.Done()
					continue
				}
				if time.Now().After(deadline) {
					t.Errorf("still %d (%s) at the deadline: %s", a.Status, a.Code, a.Error)
					pending.Done()
					continue
				}
				go func() { time.Sleep(200 * time.Millisecond); queue <- body }()
			}
		}()
	}
	pending.Wait()
	close(queue)
	return answers
}

func keys(m map[int]int) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}

// requireFinalState checks a story's workflow: cancelled, or running with the newest date.
func requireFinalState(t *testing.T, ctx context.Context, e *env, s story) {
	t.Helper()
	if s.cancelled {
		var res struct{ Outcome string }
		require.NoError(t, e.client.GetWorkflow(ctx, s.workflowID, "").Get(ctx, &res), s.workflowID)
		assert.Equal(t, lifecycle.OutcomeCancelled, res.Outcome, s.workflowID)
		return
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		v, err := e.client.QueryWorkflow(ctx, s.workflowID, "", lifecycle.QueryStatus)
		require.NoError(c, err)
		if strings.HasPrefix(s.workflowID, "onboarding-") {
			var st lifecycle.OnboardingStatus
			require.NoError(c, v.Get(&st))
			assert.Equal(c, s.want, st.StartDate, s.workflowID)
			assert.Equal(c, lifecycle.StageWaitingStart, st.Stage, s.workflowID)
			return
		}
		var st lifecycle.OffboardingStatus
		require.NoError(c, v.Get(&st))
		want, err := lifecycle.EndOfWorkingDay(s.want, "", s.tz)
		require.NoError(c, err)
		assert.True(c, want.Equal(st.ScheduledAt), "%s scheduled at %s, want %s", s.workflowID, st.ScheduledAt, want)
		assert.Equal(c, lifecycle.StageOffScheduled, st.Stage, s.workflowID)
	}, settle, 200*time.Millisecond)
}

// requireOneRun checks that a workflow id has exactly one run, once visibility has caught up
// (it lags behind the runs; a second run would have started before the first was queried).
func requireOneRun(t *testing.T, ctx context.Context, e *env, workflowID string) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := e.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("WorkflowId = '%s'", workflowID)})
		require.NoError(c, err)
		assert.Len(c, resp.Executions, 1, "%s has one run", workflowID)
	}, settle, 200*time.Millisecond)
}

// requireEachUpdateOnce checks the history: each accepted update is one of the story's events,
// accepted once, however many times it was delivered.
func requireEachUpdateOnce(t *testing.T, e *env, s story, ids map[string]string) {
	t.Helper()
	iter := e.client.GetWorkflowHistory(context.Background(), s.workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	seen := map[string]bool{}
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		if a := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil {
			id := a.GetAcceptedRequest().GetMeta().GetUpdateId()
			assert.False(t, seen[id], "%s accepted update %s twice", s.workflowID, id)
			assert.Equal(t, s.workflowID, ids[id], "update %s is an event of this employee", id)
			seen[id] = true
		}
	}
	assert.NotEmpty(t, seen, s.workflowID)
}

func testTemporalOutage(t *testing.T, bin, cli string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // Temporal is down: nothing answers there yet
	rx := startReceiver(t, bin, addr, "e2e-hr-outage", "--timeout", "5s", "--retry-after", "7s")

	in := hire(950, day(time.Now().UTC(), 30))
	body := hrEvent{ID: "evt-outage", Type: hrevents.TypeHired, OccurredAt: time.Now().UTC(), Employee: hireEmployee(in)}.body()
	a, err := deliver(http.DefaultClient, rx.URL, body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, a.Status)
	assert.Equal(t, "7", a.RetryAfter)
	assert.Equal(t, hrevents.CodeTemporalDown, a.Code)

	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath: cli, LogLevel: "error", SearchAttributes: devserver.SearchAttributes(),
		ClientOptions: &client.Options{HostPort: addr, Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))},
	})
	require.NoError(t, err)
	defer func() { _ = srv.Stop() }()

	var got answer
	require.EventuallyWithT(t, func(c *assert.CollectT) { // the HR system delivers it again
		a, err := deliver(http.DefaultClient, rx.URL, body)
		require.NoError(c, err)
		require.Equal(c, http.StatusAccepted, a.Status, "%+v", a)
		got = a
	}, settle, 500*time.Millisecond)
	assert.False(t, got.Duplicate, "a delivery answered 503 is not remembered")
	desc, err := srv.Client().DescribeWorkflow(ctx, lifecycle.OnboardingID(in.EmployeeID), "")
	require.NoError(t, err)
	assert.Equal(t, got.RunID, desc.WorkflowExecution.RunID)
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.Status)
	require.NoError(t, rx.Stop())
	assert.Contains(t, rx.Logs(), "Temporal is not reachable yet")
	assert.Contains(t, rx.Logs(), "Connected to Temporal")
}

// leaverFor picks the n-th seeded user with active grants and gives them the test's own employee
// id in the test's simulator, so HR and Atomicwork agree on who leaves.
func leaverFor(t *testing.T, e *env, n int) (atomicwork.User, map[string]any) {
	t.Helper()
	for _, u := range e.sim.Users() {
		if u.IsDeleted || u.EmployeeID == "" || u.Email == "" || len(e.sim.ActiveGrantsOf(u.ID)) == 0 {
			continue
		}
		if n--; n >= 0 {
			continue
		}
		id := employeeID(t, e.sim, u)
		u.EmployeeID = id
		return u, map[string]any{"employee_id": id, "email": u.Email, "timezone": "America/New_York"}
	}
	t.Fatal("the demo dataset has a user with an employee id and active grants")
	return atomicwork.User{}, nil
}

// offboardingStatus polls the status query until check passes.
func offboardingStatus(t *testing.T, e *env, workflowID string, check func(c *assert.CollectT, st lifecycle.OffboardingStatus)) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		v, err := e.client.QueryWorkflow(context.Background(), workflowID, "", lifecycle.QueryStatus)
		require.NoError(c, err)
		var st lifecycle.OffboardingStatus
		require.NoError(c, v.Get(&st))
		check(c, st)
	}, time.Minute, 200*time.Millisecond)
}

// scheduledOn waits until the offboarding is scheduled to end access on lastDay.
func scheduledOn(t *testing.T, e *env, workflowID, lastDay, tz string) {
	t.Helper()
	want, err := lifecycle.EndOfWorkingDay(lastDay, "", tz)
	require.NoError(t, err)
	offboardingStatus(t, e, workflowID, func(c *assert.CollectT, st lifecycle.OffboardingStatus) {
		assert.Equal(c, lifecycle.StageOffScheduled, st.Stage)
		assert.True(c, want.Equal(st.ScheduledAt), "scheduled at %s, want %s", st.ScheduledAt, want)
	})
}

func testEventIDReused(t *testing.T, bin string) {
	e := newEnv(t, atomicworktest.Options{}, activities.Policy{})
	rx := receiverFor(t, bin, e)
	leaver, emp := leaverFor(t, e, 0)
	now := time.Now().UTC()
	first := hrEvent{ID: "evt-reused", Type: hrevents.TypeTerminated, OccurredAt: now.Add(-time.Minute), Employee: withField(emp, "last_working_day", day(now, 20))}
	got, err := deliver(http.DefaultClient, rx.URL, first.body())
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, got.Status, "%+v", got)
	scheduledOn(t, e, got.WorkflowID, day(now, 20), "America/New_York")

	other := first
	other.Employee = withField(emp, "last_working_day", day(now, 2))
	reused, err := deliver(http.DefaultClient, rx.URL, other.body())
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, reused.Status)
	assert.Equal(t, hrevents.CodeEventIDReused, reused.Code)
	assert.Contains(t, reused.Error, "evt-reused")
	assert.Empty(t, reused.RetryAfter)
	scheduledOn(t, e, got.WorkflowID, day(now, 20), "America/New_York")
	assert.NotEmpty(t, e.sim.ActiveGrantsOf(leaver.ID), "nothing was revoked")

	again, err := deliver(http.DefaultClient, rx.URL, first.body())
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, again.Status)
	assert.True(t, again.Duplicate)
}

func testNotJSON(t *testing.T, bin string) {
	e := newEnv(t, atomicworktest.Options{}, activities.Policy{})
	rx := receiverFor(t, bin, e)
	in := hire(960, day(time.Now().UTC(), 30))
	body := hrEvent{ID: "evt-form", Type: hrevents.TypeHired, OccurredAt: time.Now().UTC(), Employee: hireEmployee(in)}.body()
	got, err := deliverAs(http.DefaultClient, rx.URL, body, "application/x-www-form-urlencoded")
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnsupportedMediaType, got.Status)
	assert.Equal(t, hrevents.CodeUnsupportedMediaType, got.Code)
	assert.Contains(t, got.Error, "application/json")
	_, err = e.client.DescribeWorkflow(context.Background(), lifecycle.OnboardingID(in.EmployeeID), "")
	var notFound *serviceerror.NotFound
	require.ErrorAs(t, err, &notFound, "nothing was started")
}

// testStaleChangeIgnored passes once the workflows refuse stale changes with STALE_HR_CHANGE.
func testStaleChangeIgnored(t *testing.T, bin string) {
	e := newEnv(t, atomicworktest.Options{}, activities.Policy{})
	rx := receiverFor(t, bin, e)
	_, emp := leaverFor(t, e, 0)
	now := time.Now().UTC()
	newer := hrEvent{ID: "evt-newer", Type: hrevents.TypeTerminated, OccurredAt: now.Add(-time.Minute), Employee: withField(emp, "last_working_day", day(now, 20))}
	got, err := deliver(http.DefaultClient, rx.URL, newer.body())
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, got.Status, "%+v", got)
	scheduledOn(t, e, got.WorkflowID, day(now, 20), "America/New_York")

	older := hrEvent{ID: "evt-older", Type: hrevents.TypeTerminationChanged, OccurredAt: now.Add(-time.Hour), Employee: withField(emp, "last_working_day", day(now, 25))}
	stale, err := deliver(http.DefaultClient, rx.URL, older.body())
	require.NoError(t, err)
	assert.Equal(t, answer{Status: http.StatusOK, WorkflowID: got.WorkflowID, RunID: got.RunID, Outcome: hrevents.ResultIgnored, Note: stale.Note}, stale)
	assert.Contains(t, stale.Note, "HR decided a newer change")
	scheduledOn(t, e, got.WorkflowID, day(now, 20), "America/New_York")
}

// testLongPastLastDayIsHeld passes once the offboarding workflow has its held stage.
func testLongPastLastDayIsHeld(t *testing.T, bin string) {
	e := newEnv(t, atomicworktest.Options{}, activities.Policy{})
	rx := receiverFor(t, bin, e)
	now := time.Now().UTC()
	requireHeld := func(workflowID string, leaver atomicwork.User, grants int) {
		t.Helper()
		offboardingStatus(t, e, workflowID, func(c *assert.CollectT, st lifecycle.OffboardingStatus) {
			assert.Equal(c, lifecycle.StageOffHeld, st.Stage)
			assert.Contains(c, st.Hold, "(more than "+hrevents.MaxPastDaysVar+"=30)")
		})
		assert.Len(t, e.sim.ActiveGrantsOf(leaver.ID), grants, "a held offboarding revokes nothing")
	}

	t.Run("a new offboarding starts held", func(t *testing.T) {
		leaver, emp := leaverFor(t, e, 0)
		grants := len(e.sim.ActiveGrantsOf(leaver.ID))
		ev := hrEvent{ID: "evt-long-past", Type: hrevents.TypeTerminated, OccurredAt: now, Employee: withField(emp, "last_working_day", day(now, -60))}
		got, err := deliver(http.DefaultClient, rx.URL, ev.body())
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, got.Status, "%+v", got)
		assert.True(t, got.Held)
		requireHeld(got.WorkflowID, leaver, grants)
	})
	t.Run("a scheduled offboarding moved long into the past is held", func(t *testing.T) {
		leaver, emp := leaverFor(t, e, 1)
		grants := len(e.sim.ActiveGrantsOf(leaver.ID))
		first := hrEvent{ID: "evt-scheduled", Type: hrevents.TypeTerminated, OccurredAt: now.Add(-time.Hour), Employee: withField(emp, "last_working_day", day(now, 20))}
		got, err := deliver(http.DefaultClient, rx.URL, first.body())
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, got.Status, "%+v", got)
		assert.False(t, got.Held)
		scheduledOn(t, e, got.WorkflowID, day(now, 20), "America/New_York")

		moved := hrEvent{ID: "evt-moved-back", Type: hrevents.TypeTerminationChanged, OccurredAt: now, Employee: withField(emp, "last_working_day", day(now, -400))}
		held, err := deliver(http.DefaultClient, rx.URL, moved.body())
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, held.Status, "%+v", held)
		assert.True(t, held.Held)
		assert.Equal(t, got.RunID, held.RunID)
		requireHeld(got.WorkflowID, leaver, grants)
	})
}

func testRecentPastLastDayOffboards(t *testing.T, bin string) {
	e := newEnv(t, atomicworktest.Options{}, activities.Policy{})
	rx := receiverFor(t, bin, e)
	leaver, emp := leaverFor(t, e, 0)
	now := time.Now().UTC()
	ev := hrEvent{ID: "evt-retroactive", Type: hrevents.TypeTerminated, OccurredAt: now, Employee: withField(emp, "last_working_day", day(now, -3))}
	got, err := deliver(http.DefaultClient, rx.URL, ev.body())
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, got.Status, "%+v", got)
	assert.False(t, got.Held)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Empty(c, e.sim.ActiveGrantsOf(leaver.ID), "a retroactive termination within the limit offboards at once")
	}, 2*time.Minute, 200*time.Millisecond)
}
