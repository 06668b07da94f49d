package main

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// workflowKind is what status, watch and list know of one of atomicflow's workflow types: how to
// find it, which query returns its live state, and how to show that state, its result and the
// facts watch follows. Each kind is defined in its kind_<name>.go; a new workflow adds its file
// and one entry to workflowKinds. A workflow type the CLI does not know gets the zero renderers:
// status and watch then show its fields as they are.
type workflowKind struct {
	name     string // the --type value, and the kind status prints
	typeName string // the registered workflow type
	query    string // the query that returns its live state
	// state, result and facts decode raw (the query's answer, a completed run's result) and
	// render it; ok is false when raw is not what the kind answers, and status then shows its
	// top-level fields instead.
	state  func(raw json.RawMessage) (lines []line, ok bool)
	result func(raw json.RawMessage) (lines []line, ok bool)
	facts  func(raw json.RawMessage) (facts []fact, ok bool)
	// date is set for a kind whose date a reschedule moves.
	date *movingDate
	// unfinished, when set, is the error of a completed run whose result says work remains.
	unfinished func(workflowID string, raw json.RawMessage) error
}

// movingDate is the date a run works to when a reschedule can move it: its static summary keeps
// the date it started with, so status shows the current one instead, from the live state or,
// when no worker answers, from the history.
type movingDate struct {
	label string // what status calls it: Day one, Last day
	// current reads it from the latest run's history: the input's, moved by each accepted reschedule.
	current func(ctx context.Context, conn *connection, workflowID string) (string, error)
}

// workflowKinds are the workflow types the CLI knows, in the order --type lists them.
var workflowKinds = []workflowKind{onboardingKind, offboardingKind, reassignmentKind, reconciliationKind}

// kindOfType returns the kind of a workflow type; unknown types answer the status query.
func kindOfType(typeName string) workflowKind {
	for _, k := range workflowKinds {
		if k.typeName == typeName {
			return k
		}
	}
	return workflowKind{typeName: typeName, query: lifecycle.QueryStatus}
}

// kindNamed returns the kind called name (a --type value, a snapshot's kind); ok is false for
// any other name, and the kind is then the zero one.
func kindNamed(name string) (k workflowKind, ok bool) {
	for _, k := range workflowKinds {
		if k.name == name {
			return k, true
		}
	}
	return workflowKind{}, false
}

func kindNames() string {
	names := make([]string, len(workflowKinds))
	for i, k := range workflowKinds {
		names[i] = k.name
	}
	return strings.Join(names, ", ")
}

// decoded adapts a renderer of T to the raw JSON a query or result comes as.
func decoded[T, Out any](render func(T) Out) func(json.RawMessage) (Out, bool) {
	return func(raw json.RawMessage) (Out, bool) {
		var v T
		if json.Unmarshal(raw, &v) != nil {
			var none Out
			return none, false
		}
		return render(v), true
	}
}

// stateLines are a query's answer: the fields that matter for the kind.
func (k workflowKind) stateLines(raw json.RawMessage) []line {
	if k.state != nil {
		if out, ok := k.state(raw); ok {
			return out
		}
	}
	return genericLines(raw)
}

// resultLines are a completed run's result, indented under "Result:".
func (k workflowKind) resultLines(raw json.RawMessage) []line {
	out, ok := []line(nil), false
	if k.result != nil {
		out, ok = k.result(raw)
	}
	if !ok {
		out = genericLines(raw)
	}
	return indented(out)
}

// factsOf are the facts watch follows in a query's answer.
func (k workflowKind) factsOf(raw json.RawMessage) []fact {
	if k.facts != nil {
		if out, ok := k.facts(raw); ok {
			return out
		}
	}
	return genericFacts(raw)
}

// historyDate is the label and value of the kind's moving date, read from the run's history;
// both are empty for a kind without one, or when the history cannot be read.
func (k workflowKind) historyDate(ctx context.Context, conn *connection, workflowID string) (label, date string) {
	if k.date == nil {
		return "", ""
	}
	date, err := k.date.current(ctx, conn, workflowID)
	if err != nil {
		return "", ""
	}
	return k.date.label, date
}

// unfinishedResult is the error of a completed run whose result says work remains; nil otherwise.
func (k workflowKind) unfinishedResult(workflowID string, raw json.RawMessage) error {
	if k.unfinished == nil {
		return nil
	}
	return k.unfinished(workflowID, raw)
}

// genericLines are a JSON object's top-level fields: scalars as they are, the rest compact.
func genericLines(raw json.RawMessage) []line {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return []line{{"Value", compactJSON(raw)}}
	}
	out := make([]line, 0, len(obj))
	for _, k := range sortedKeys(obj) {
		out = append(out, line{k, compactJSON(obj[k])})
	}
	return out
}

// genericFacts are a JSON object's top-level scalar fields, minus the ones that change every
// second (the time of the answer, rates), so an idle workflow prints nothing.
func genericFacts(raw json.RawMessage) []fact {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	var out []fact
	for _, k := range sortedKeys(obj) {
		v := obj[k]
		if k == "stage" || k == "as_of" || k == "rate" || k == "eta_seconds" || len(v) == 0 || v[0] == '{' || v[0] == '[' {
			continue
		}
		out = append(out, fact{"field:" + k, k, compactJSON(v)})
	}
	return out
}

func sortedKeys(obj map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func compactJSON(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	out := b.String()
	if len(out) > 200 {
		out = out[:197] + "..."
	}
	return out
}
