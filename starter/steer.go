package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// Steering: one update to a running workflow, bounded by --timeout, that says exactly what
// happened. A request no worker can take is not sent (unless --send-without-worker); a request
// sent but not accepted in time may still apply, and says so (exit code 3), never "failed".

// defaultSteerTimeout bounds how long a steering command waits for the workflow to accept.
const defaultSteerTimeout = 10 * time.Second

// steerFlags are the flags every steering command shares.
type steerFlags struct {
	timeout           time.Duration
	sendWithoutWorker bool
}

func (s *steerFlags) bind(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&s.timeout, "timeout", defaultSteerTimeout, "how long to wait for the workflow to accept the request")
	cmd.Flags().BoolVar(&s.sendWithoutWorker, "send-without-worker", false,
		"send the request even when no worker polls the task queue: it applies when a worker returns")
}

// check is the flags' own rule, before dialing.
func (s *steerFlags) check() string {
	if s.timeout <= 0 {
		return fmt.Sprintf("--timeout %s: give a positive duration such as 10s", s.timeout)
	}
	return ""
}

// employeeSteerFlags are the flags of the commands that steer one employee's run; person names
// the employee in the help ("leaver", "hire").
type employeeSteerFlags struct {
	employeeID string
	json       bool
	steer      steerFlags
}

func (u *employeeSteerFlags) bind(cmd *cobra.Command, person string) {
	cmd.Flags().StringVar(&u.employeeID, "employee-id", "", "HR employee id of the "+person+" (required)")
	cmd.Flags().BoolVar(&u.json, "json", false, "print JSON instead of text")
	u.steer.bind(cmd)
	_ = cmd.MarkFlagRequired("employee-id") // cannot fail: the flag exists
}

// check adds the problems of the flags every employee steering command has.
func (u *employeeSteerFlags) check(p *flagProblems) {
	p.add("--employee-id", lifecycle.EmployeeIDProblem(u.employeeID))
	p.add("--timeout", u.steer.check())
}

// checkAndSteer reports the shared flags' problems with p's (the subcommand's own), or connects
// and sends req under the steering rules, printing the workflow's new state.
func checkAndSteer[S any](ctx context.Context, a *app, u *employeeSteerFlags, p flagProblems, req steerRequest, printState func(io.Writer, S)) error {
	u.check(&p)
	if err := p.err(); err != nil {
		return err
	}
	conn, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return steerAndPrint(ctx, a, conn, u.steer, u.json, req, printState)
}

// steerResult is what a steering command prints (its JSON is the --json output); State is the
// workflow's status after the update.
type steerResult[S any] struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Namespace  string `json:"namespace"`
	UIURL      string `json:"ui_url"`
	Update     string `json:"update"`
	State      S      `json:"state"`
}

// steerAndPrint sends req on conn under the steering rules, then prints the workflow's new state
// (printState) or, with asJSON, the whole result.
func steerAndPrint[S any](ctx context.Context, a *app, conn *connection, s steerFlags, asJSON bool, req steerRequest, printState func(io.Writer, S)) error {
	res := steerResult[S]{WorkflowID: req.workflowID, Namespace: conn.Namespace, Update: req.update,
		UIURL: workflowURL(a.env("ATOMICFLOW_UI_URL", defaultUIURL), conn.Namespace, req.workflowID)}
	runID, err := steer(ctx, conn.Client, a.stderr, s, req, &res.State)
	if err != nil {
		return err
	}
	res.RunID = runID
	if asJSON {
		return writeJSON(a.stdout, res)
	}
	fmt.Fprintf(a.stdout, "%s (run %s) accepted %s.\n", res.WorkflowID, res.RunID, req.update)
	printState(a.stdout, res.State)
	fmt.Fprintf(a.stdout, "Temporal UI: %s\n", res.UIURL)
	return nil
}

// steerRequest is one update: the workflow it goes to, its name and argument.
type steerRequest struct {
	workflowID string
	update     string
	arg        any
}

// steer sends req and decodes the workflow's answer into out; it returns the run that answered.
// notes (stderr) gets what the caller should know although the request went on.
func steer(ctx context.Context, c client.Client, notes io.Writer, s steerFlags, req steerRequest, out any) (string, error) {
	tctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	desc, err := c.DescribeWorkflowExecution(tctx, req.workflowID, "")
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return "", fmt.Errorf("%s does not exist (never started in this namespace): nothing was sent", req.workflowID)
	case err != nil:
		return "", fmt.Errorf("cannot read %s (%v): nothing was sent; check that Temporal is reachable and retry", req.workflowID, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	if st := info.GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return "", fmt.Errorf("%s is %s, not running: nothing to %s; nothing was sent (starter status %s shows how it ended)",
			req.workflowID, statusName(st), req.update, req.workflowID)
	}
	queue := info.GetTaskQueue()
	if err := workerPolls(tctx, c, queue, s.sendWithoutWorker, notes, req.update); err != nil {
		return "", err
	}
	h, err := c.UpdateWorkflow(tctx, client.UpdateWorkflowOptions{
		WorkflowID: req.workflowID, UpdateName: req.update, Args: []any{req.arg},
		WaitForStage: client.WorkflowUpdateStageAccepted,
	})
	if err == nil {
		err = h.Get(tctx, out)
	}
	switch {
	case err == nil:
		return h.RunID(), nil
	case tctx.Err() != nil || waitEnded(err):
		return "", stillPending(ctx, req, s.timeout, h != nil)
	}
	return "", steerFailure(req, err)
}

// pollerFresh: a live worker polls again at least every minute (a long poll's length); one not
// seen for longer is gone, although the server lists it for a few minutes more.
const pollerFresh = 2 * time.Minute

// workerPolls checks that a worker polls queue's workflow tasks, the ones that deliver updates.
// Without one, the request is not sent unless send says so; then notes says when it applies.
func workerPolls(ctx context.Context, c client.Client, queue string, send bool, notes io.Writer, update string) error {
	tq, err := c.DescribeTaskQueue(ctx, queue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return fmt.Errorf("cannot tell whether a worker polls task queue %s (%v): nothing was sent; retry", queue, err)
	}
	live, gone := pollersLive(tq, time.Now())
	switch {
	case live:
		return nil
	case !send:
		return fmt.Errorf("no worker polls task queue %s%s: nothing was sent; start a worker and retry "+
			"(or add --send-without-worker: the request then waits in Temporal and applies when a worker returns)", queue, gone)
	}
	fmt.Fprintf(notes, "No worker polls task queue %s%s: sending %s anyway; it applies when a worker returns.\n", queue, gone, update)
	return nil
}

// pollersLive reports whether a worker polled within pollerFresh of now; when only older
// pollers are listed, gone says how long ago the last one polled.
func pollersLive(tq *workflowservice.DescribeTaskQueueResponse, now time.Time) (live bool, gone string) {
	if len(tq.GetPollers()) == 0 {
		return false, ""
	}
	var last time.Time
	for _, p := range tq.GetPollers() {
		if t := p.GetLastAccessTime().AsTime(); t.After(last) {
			last = t
		}
	}
	if now.Sub(last) < pollerFresh {
		return true, ""
	}
	return false, fmt.Sprintf(" (the last one polled %s ago)", now.Sub(last).Round(time.Second))
}

// waitEnded reports whether err only ends the wait for an update (the SDK's timeout or a
// deadline): the update itself may still be delivered.
func waitEnded(err error) bool {
	var ended *client.WorkflowUpdateServiceTimeoutOrCanceledError
	return errors.As(err, &ended) || isDeadline(err)
}

// stillPending says that a sent request may still apply. accepted: the workflow took it and was
// still applying it.
func stillPending(ctx context.Context, req steerRequest, timeout time.Duration, accepted bool) error {
	waited := fmt.Sprintf("within %s", timeout)
	if ctx.Err() != nil {
		waited = "before you stopped waiting"
	}
	if accepted {
		return pendingError{fmt.Errorf("%s accepted %s but did not finish it %s: it is being applied; check with: starter status %s",
			req.workflowID, req.update, waited, req.workflowID)}
	}
	return pendingError{fmt.Errorf("%s was sent to %s, which did not accept it %s (its worker is busy or away): "+
		"it may still apply when a worker gets to it; check with: starter status %s (retry with a longer --timeout to wait for the answer)",
		req.update, req.workflowID, waited, req.workflowID)}
}

// steerFailure says why a request changed nothing: the workflow's own reason when it refused it.
func steerFailure(req steerRequest, err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return fmt.Errorf("%s rejected %s: %s (nothing changed)", req.workflowID, req.update, app.Message())
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return fmt.Errorf("%s finished before it got %s: nothing changed (starter status %s shows how it ended)", req.workflowID, req.update, req.workflowID)
	}
	// Anything else may have happened after the request reached Temporal: not a refusal.
	return pendingError{fmt.Errorf("cannot tell whether %s reached %s (%v): check with starter status %s before you retry",
		req.update, req.workflowID, err, req.workflowID)}
}
