// Command bench measures atomicflow against the simulator and prints tables. Speed is compared
// side by side in one run (machines here are shared and noisy), never asserted in tests.
//
//	go run ./bench onboarding --runs 20
//	go run ./bench offboarding --runs 50
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("name a benchmark: onboarding or offboarding")
	}
	switch args[0] {
	case "onboarding":
		fs := flag.NewFlagSet("onboarding", flag.ContinueOnError)
		runs := fs.Int("runs", 20, "onboardings to time, one after another")
		temporalBin := fs.String("temporal", "bin/temporal", "Temporal CLI used for the dev server (make tools)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *runs < 1 {
			return fmt.Errorf("--runs must be at least 1")
		}
		return benchOnboarding(ctx, out, *runs, *temporalBin)
	case "offboarding":
		fs := flag.NewFlagSet("offboarding", flag.ContinueOnError)
		runs := fs.Int("runs", 50, "offboardings scheduled for the same minute")
		temporalBin := fs.String("temporal", "bin/temporal", "Temporal CLI used for the dev server (make tools)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *runs < 1 {
			return fmt.Errorf("--runs must be at least 1")
		}
		return benchOffboarding(ctx, out, *runs, *temporalBin)
	}
	return fmt.Errorf("unknown benchmark %q: use onboarding or offboarding", args[0])
}
