package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// flagProblems collects what is wrong with a command line, each problem naming its flag, so one
// run shows every fix; it becomes a usageError (exit 2) before anything is dialed or sent.
type flagProblems []string

// add records problem for flag; "" (the shared field rules' "fine") adds nothing.
func (p *flagProblems) add(flag, problem string) {
	if problem != "" {
		*p = append(*p, flag+": "+problem)
	}
}

// email checks an email flag; optional ones may be empty.
func (p *flagProblems) email(flag, v string, required bool) {
	if v == "" && !required {
		return
	}
	if !lifecycle.IsEmail(v) {
		p.add(flag, fmt.Sprintf("%q is not an email address such as ada@example.com", v))
	}
}

// text checks a name, title, department or reason with the shared rule.
func (p *flagProblems) text(flag, what, v string) { p.add(flag, lifecycle.TextProblem(what, v)) }

func (p flagProblems) err() error {
	if len(p) == 0 {
		return nil
	}
	return usageError{errors.New(strings.Join(p, "; "))}
}
