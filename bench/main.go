// Command bench measures atomicflow against the simulator and prints tables. Speed is compared
// side by side in one run (machines here are shared and noisy), never asserted in tests.
//
//	go run ./bench onboarding --runs 20
//	go run ./bench onboarding --runs 10 --transient 0.2
//	go run ./bench offboarding --runs 50
//	go run ./bench reassign --assets 2000 --rps 200
//	go run ./bench layoff --leavers 200 --rps 50
//	go run ./bench reassign --faults heavy --assets 301 --repeat 3
//	go run ./bench reassign --faults heavy --assets 301 --repeat 3 --latencies 0,20ms,100ms
//	go run ./bench webhook --deliveries 1000 --senders 16
//	go run ./bench webhook --abuse --slow 500 --large 300
//	go run ./bench crash --runs 3 --before /tmp/worker-main
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/atomicflow/atomicflow/lifecycle"
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
		return fmt.Errorf("name a benchmark: onboarding, offboarding, reassign, layoff, webhook or crash")
	}
	switch args[0] {
	case "onboarding":
		fs := flag.NewFlagSet("onboarding", flag.ContinueOnError)
		runs := fs.Int("runs", 20, "onboardings to time, one after another")
		temporalBin := fs.String("temporal", "bin/temporal", "Temporal CLI used for the dev server (make tools)")
		transient := fs.Float64("transient", 0, "share of API answers that are transient faults (half 503, half 429), e.g. 0.2: times each onboarding clean and with them")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *runs < 1 {
			return fmt.Errorf("--runs must be at least 1")
		}
		if !(*transient >= 0 && *transient < 1) {
			return fmt.Errorf("--transient must be a share from 0 up to (not including) 1, got %v", *transient)
		}
		if *transient > 0 {
			return benchOnboardingTransient(ctx, out, *runs, *transient, *temporalBin)
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
	case "reassign":
		fs := flag.NewFlagSet("reassign", flag.ContinueOnError)
		var o reassignOptions
		fs.IntVar(&o.assets, "assets", 2000, "laptops to move (10000 for the scale target)")
		fs.Float64Var(&o.rps, "rps", 200, "the simulator's rate limit for the limited setting (requests/s)")
		fs.IntVar(&o.concurrency, "concurrency", lifecycle.DefaultReassignConcurrency, "assets in flight, for (b) and (c)")
		fs.DurationVar(&o.latency, "latency", 0, "added to every simulator request, e.g. 20ms for a remote API")
		fs.IntVar(&o.perRun, "per-run", 0, "assets per workflow run before continue-as-new (0: the workflow's default)")
		fs.StringVar((*string)(&o.mode), "mode", string(lifecycle.ReassignInRanges), "how (c) moves the assets: ranges or per-asset")
		fs.IntVar(&o.repeat, "repeat", 7, "interleaved runs of each mode without a rate limit; each row is the median")
		fs.StringVar(&o.temporalBin, "temporal", "bin/temporal", "Temporal CLI used for the dev server (make tools)")
		fs.StringVar(&o.simulator, "simulator", "process", "where the simulator runs: process (an awsim process, as a real API is) or in-process (in the bench process, the old setup)")
		fs.StringVar(&o.faults, "faults", "", "heavy: time the workflow (rate limit off) fault-free and under heavy seeded faults, side by side, instead of the modes")
		fs.Int64Var(&o.seed, "seed", 1, "with --faults: the faults' seed")
		fs.DurationVar(&o.limit, "limit", 10*time.Minute, "with --faults: a batch still running after this is stopped and reported unfinished")
		fs.Func("latencies", "with --faults: latencies to measure in turn, each round, e.g. 0,20ms,100ms (instead of --latency): one table", func(v string) error {
			for _, part := range strings.Split(v, ",") {
				d, err := time.ParseDuration(strings.TrimSpace(part))
				if err != nil || d < 0 {
					return fmt.Errorf("want non-negative durations such as 0,20ms,100ms, got %q", part)
				}
				o.latencies = append(o.latencies, d)
			}
			return nil
		})
		partitions := fs.Int("partitions", 1, "task queue partitions of the dev server (its default is 4)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		o.serverArgs = []string{"--dynamic-config-value", fmt.Sprintf("matching.numTaskqueueReadPartitions=%d", *partitions),
			"--dynamic-config-value", fmt.Sprintf("matching.numTaskqueueWritePartitions=%d", *partitions)}
		if o.assets < 1 || o.rps <= 0 || o.concurrency < 1 || o.concurrency > lifecycle.MaxReassignConcurrency || o.perRun < 0 || o.repeat < 1 {
			return fmt.Errorf("--assets and --repeat must be at least 1, --per-run 0 or more, --rps positive, --concurrency 1 to %d", lifecycle.MaxReassignConcurrency)
		}
		if o.faults != "" && o.faults != "heavy" {
			return fmt.Errorf("--faults must be heavy (or left out), got %q", o.faults)
		}
		if o.limit <= 0 {
			return fmt.Errorf("--limit must be positive")
		}
		if len(o.latencies) > 0 && (o.faults == "" || o.latency != 0) {
			return fmt.Errorf("--latencies goes with --faults, instead of --latency")
		}
		if o.simulator != "process" && o.simulator != "in-process" {
			return fmt.Errorf("--simulator must be process or in-process, got %q", o.simulator)
		}
		return benchReassign(ctx, out, o)
	case "layoff":
		fs := flag.NewFlagSet("layoff", flag.ContinueOnError)
		leavers := fs.Int("leavers", 200, "leavers offboarded at the same instant")
		rps := fs.Float64("rps", 50, "the simulator's rate limit (requests/s), and the worker's ATOMICWORK_RPS in the first row")
		temporalBin := fs.String("temporal", "bin/temporal", "Temporal CLI used for the dev server (make tools)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *leavers < 1 || *rps <= 0 {
			return fmt.Errorf("--leavers must be at least 1 and --rps positive")
		}
		return benchLayoff(ctx, out, *leavers, *rps, *temporalBin)
	case "webhook":
		fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
		deliveries := fs.Int("deliveries", 1000, "deliveries per row (at most 10000: the receiver remembers as many)")
		senders := fs.Int("senders", 16, "concurrent senders")
		temporalBin := fs.String("temporal", "bin/temporal", "Temporal CLI used for the dev server (make tools)")
		abuse := fs.Bool("abuse", false, "measure the receiver under hostile clients instead: RSS and valid deliveries' latency")
		a := abuseOptions{}
		fs.IntVar(&a.slow, "slow", 500, "with --abuse: slow (slowloris) connections")
		fs.IntVar(&a.large, "large", 300, "with --abuse: concurrent senders of 1 MiB forged-signature bodies")
		fs.DurationVar(&a.duration, "duration", 20*time.Second, "with --abuse: how long valid deliveries are measured")
		fs.StringVar(&a.starter, "starter", "", "with --abuse: the starter binary to measure (default: build this tree's)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *abuse {
			if a.slow < 0 || a.large < 0 || a.duration < time.Second {
				return fmt.Errorf("--slow and --large must be 0 or more and --duration at least 1s")
			}
			a.temporalBin = *temporalBin
			return benchWebhookAbuse(ctx, out, a)
		}
		if *deliveries < 1 || *deliveries > 10_000 || *senders < 1 {
			return fmt.Errorf("--deliveries must be 1 to 10000 and --senders at least 1")
		}
		return benchWebhook(ctx, out, *deliveries, *senders, *temporalBin)
	case "crash":
		fs := flag.NewFlagSet("crash", flag.ContinueOnError)
		var o crashOptions
		fs.IntVar(&o.runs, "runs", 3, "kills per worker binary")
		fs.DurationVar(&o.latency, "latency", time.Second, "added to every simulator request, so that an activity is in flight when its worker is killed")
		fs.StringVar(&o.before, "before", "", "a worker binary to measure too, e.g. built from main (go build -o /tmp/worker-main ./worker there)")
		fs.StringVar(&o.temporalBin, "temporal", "bin/temporal", "Temporal CLI used for the dev server (make tools)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if o.runs < 1 || o.latency <= 0 {
			return fmt.Errorf("--runs must be at least 1 and --latency positive")
		}
		return benchCrash(ctx, out, o)
	}
	return fmt.Errorf("unknown benchmark %q: use onboarding, offboarding, reassign, layoff, webhook or crash", args[0])
}
