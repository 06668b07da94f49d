// Package runs knows how a lifecycle run is started or reached: each workflow's start options
// (the deterministic id, the id reuse and conflict policies, search attributes, the summary and
// details the UI shows), Update-with-Start, the rules that let a closed run be followed by a new
// one, and Temporal's answers as plain values and typed errors. The starter's commands, the HR
// receiver and the benchmarks start runs through it, so a run one of them starts is the run the
// others would start or reach.
package runs

import (
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// Start is one run to start, or to reach while it runs: the workflow type, its input and its
// start options. Onboarding, Offboarding and Reassignment build each workflow's.
type Start struct {
	Workflow string
	Input    any
	Options  client.StartWorkflowOptions
}

// ID is the workflow id.
func (s Start) ID() string { return s.Options.ID }

// Again lets the start follow a closed run of its id with a new run; the rerun rules
// (OnboardingMayRunAgain, OffboardingMayRunAgain, Boomerang) say when that is right. A failed run
// is followed without it.
func (s Start) Again() Start {
	s.Options.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
	return s
}

// StartedByHR names the HR receiver as what started a run (StartedBy): an HR event, not an
// operator.
const StartedByHR = "`starter listen` (HR event)"

// startedByLabel begins the last line of every run's details: who started it.
const startedByLabel = "**Started by:** "

// StartedBy names who starts the run in the details the UI shows; the builders name the starter
// command of the workflow.
func (s Start) StartedBy(who string) Start {
	d := s.Options.StaticDetails
	if i := strings.LastIndex(d, startedByLabel); i >= 0 {
		s.Options.StaticDetails = d[:i] + startedByLabel + who + "\n"
	}
	return s
}

// StartOf is the start of a workflow input, for callers that carry inputs as plain values (a
// Delivery).
func StartOf(in any, taskQueue string) (Start, error) {
	switch in := in.(type) {
	case lifecycle.OnboardingInput:
		return Onboarding(in, taskQueue), nil
	case lifecycle.OffboardingInput:
		return Offboarding(in, taskQueue), nil
	case lifecycle.ReassignmentInput:
		return Reassignment(in, taskQueue), nil
	}
	return Start{}, fmt.Errorf("runs: no lifecycle workflow starts with a %T", in)
}

// fact is one line of a run's details.
type fact struct{ label, value string }

// details renders a run's static details as the UI shows them (Markdown, one fact a line), ending
// with who started it. The UI shows them unencrypted by default: ids, dates and settings only,
// never names or emails.
func details(startedBy string, facts ...fact) string {
	var b strings.Builder
	for _, f := range facts {
		fmt.Fprintf(&b, "**%s:** %s  \n", f.label, f.value)
	}
	b.WriteString(startedByLabel + startedBy + "\n")
	return b.String()
}

// zoneName is how a run's details name an employee's time zone: UTC when none was given.
func zoneName(tz string) string {
	if tz == "" {
		return "UTC"
	}
	return tz
}

// workspaceName is how a run's details name its Atomicwork workspace.
func workspaceName(id int64) string {
	if id == 0 {
		return "the worker's default"
	}
	return fmt.Sprint(id)
}
