package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"google.golang.org/grpc"

	"github.com/atomicflow/atomicflow/internal/codec"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/internal/temporalenv"
	"github.com/atomicflow/atomicflow/lifecycle"
	"github.com/atomicflow/atomicflow/schedule"
)

// rpcCounter counts the starter's gRPC calls by method name (CreateSchedule, UpdateSchedule, ...).
type rpcCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *rpcCounter) get(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[method]
}

// dial connects like dialTemporal (encryption included), counting calls.
func (c *rpcCounter) dial(ctx context.Context, lookup func(string) (string, bool), _ io.Writer) (*connection, error) {
	opts, err := temporalenv.ClientOptions(lookup)
	if err != nil {
		return nil, err
	}
	ring, err := codec.FromEnv(lookup)
	if err != nil {
		return nil, err
	}
	codec.Apply(&opts, ring)
	opts.Logger = sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	opts.ConnectionOptions.DialOptions = append(opts.ConnectionOptions.DialOptions, grpc.WithChainUnaryInterceptor(
		func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, o ...grpc.CallOption) error {
			c.mu.Lock()
			if c.counts == nil {
				c.counts = map[string]int{}
			}
			c.counts[method[strings.LastIndex(method, "/")+1:]]++
			c.mu.Unlock()
			return invoker(ctx, method, req, reply, cc, o...)
		}))
	cl, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &connection{Client: cl, Namespace: opts.Namespace}, nil
}

const pruneNamespace = "prune-test"

// scheduleServer starts one dev server for the schedule tests, with a second namespace for the
// prune test (prune deletes every atomicflow schedule the file does not list).
func scheduleServer(t *testing.T) *testsuite.DevServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	srv, err := devserver.Start(ctx, devserver.RequireCLI(t), "--namespace", pruneNamespace)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}

func describeSchedule(t *testing.T, c client.Client, id string) *client.ScheduleDescription {
	t.Helper()
	desc, err := c.ScheduleClient().GetHandle(context.Background(), id).Describe(context.Background())
	require.NoError(t, err)
	return desc
}

func writeSchedulesFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "schedules.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestSchedulesOnDevServer(t *testing.T) {
	srv := scheduleServer(t)
	env := devEnv(srv, "sched-q")
	c := srv.Client()

	t.Run("create twice is one schedule, updated", func(t *testing.T) {
		var rpc rpcCounter
		args := []string{"schedule", "create", "--id", "s-create", "--workflow", "reconciliation", "--cron", "0 3 * * *", "--dry-run"}
		first := runStarter(t, env, rpc.dial, args...)
		require.Equal(t, 0, first.code, first.stderr)
		assert.Contains(t, first.stdout, "created   s-create")
		assert.Contains(t, first.stdout, "Next run: ")
		assert.Contains(t, first.stdout, "/namespaces/default/schedules/s-create")

		same := runStarter(t, env, rpc.dial, args...)
		require.Equal(t, 0, same.code, same.stderr)
		assert.Contains(t, same.stdout, "unchanged s-create")
		assert.Equal(t, 0, rpc.get("UpdateSchedule"), "an unchanged schedule gets no update")

		moved := runStarter(t, env, rpc.dial, "schedule", "create", "--id", "s-create", "--workflow", "reconciliation", "--cron", "15 3 * * *", "--json")
		require.Equal(t, 0, moved.code, moved.stderr)
		var out schedOutcome
		require.NoError(t, json.Unmarshal([]byte(moved.stdout), &out), moved.stdout)
		assert.Equal(t, schedOutcome{ID: "s-create", Outcome: schedUpdated, Changed: []string{"spec", "input", "summary"}}, out)
		assert.Equal(t, 3, rpc.get("CreateSchedule"), "create is tried first, then falls through to update")
		assert.Equal(t, 1, rpc.get("UpdateSchedule"))

		desc := describeSchedule(t, c, "s-create")
		require.Len(t, desc.Schedule.Spec.Calendars, 1)
		assert.Equal(t, "15 3 * * *", schedule.CronText(desc.Schedule.Spec.Calendars[0]))
		assert.True(t, schedule.IsManaged(desc.Memo, payloadReader(func(string) (string, bool) { return "", false })))

		// One schedule with that id, listed (listing is eventually consistent).
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			r := runStarter(t, env, dialTemporal, "schedule", "list", "--json")
			require.Equal(ct, 0, r.code, r.stderr)
			var rows []scheduleListRow
			require.NoError(ct, json.Unmarshal([]byte(r.stdout), &rows))
			var found []scheduleListRow
			for _, row := range rows {
				if row.ID == "s-create" {
					found = append(found, row)
				}
			}
			require.Len(ct, found, 1)
			assert.Equal(ct, "cron 15 3 * * * (UTC)", found[0].Spec)
			assert.True(ct, found[0].Managed)
			assert.Equal(ct, lifecycle.ReconciliationWorkflowName, found[0].Workflow)
		}, settle, 100*time.Millisecond)

		d := runStarter(t, env, dialTemporal, "schedule", "describe", "--id", "s-create", "--json")
		require.Equal(t, 0, d.code, d.stderr)
		var v scheduleView
		require.NoError(t, json.Unmarshal([]byte(d.stdout), &v))
		assert.Equal(t, "skip", v.Overlap)
		assert.Equal(t, "1h0m0s", v.CatchupWindow, "an explicit catch-up window, not the server's year")
		assert.Equal(t, "sched-q", v.TaskQueue)
		assert.Equal(t, "s-create", v.WorkflowID)
		assert.JSONEq(t, `{}`, string(v.Input))
		assert.True(t, v.Managed)
		text := runStarter(t, env, dialTemporal, "schedule", "describe", "--id", "s-create")
		assert.Contains(t, text.stdout, "cron 15 3 * * * (UTC)")
		assert.Regexp(t, `Managed by:\s+atomicflow\n`, text.stdout)

		// update replaces an existing schedule, and refuses a missing one.
		upd := runStarter(t, env, dialTemporal, "schedule", "update", "--id", "s-create", "--workflow", "reconciliation", "--cron", "15 3 * * *", "--overlap", "buffer-one")
		require.Equal(t, 0, upd.code, upd.stderr)
		assert.Contains(t, upd.stdout, "updated   s-create (overlap)")
		missing := runStarter(t, env, dialTemporal, "schedule", "update", "--id", "s-absent", "--workflow", "reconciliation", "--cron", "0 3 * * *")
		assert.Equal(t, 1, missing.code)
		assert.Contains(t, missing.stderr, `no schedule "s-absent"`)
	})

	t.Run("apply the same file twice changes nothing", func(t *testing.T) {
		var rpc rpcCounter
		shipped := filepath.Join("..", "schedules.yaml")
		first := runStarter(t, env, rpc.dial, "schedule", "apply", "-f", shipped)
		require.Equal(t, 0, first.code, first.stderr)
		assert.Contains(t, first.stdout, "created   nightly-reconciliation")
		assert.Contains(t, first.stdout, "1 created, 0 updated, 0 unchanged, 0 deleted.")
		before := describeSchedule(t, c, lifecycle.NightlyReconciliationScheduleID)

		second := runStarter(t, env, rpc.dial, "schedule", "apply", "-f", shipped)
		require.Equal(t, 0, second.code, second.stderr)
		assert.Contains(t, second.stdout, "unchanged nightly-reconciliation")
		assert.Contains(t, second.stdout, "0 created, 0 updated, 1 unchanged, 0 deleted.")
		assert.Equal(t, 1, rpc.get("CreateSchedule"))
		assert.Equal(t, 0, rpc.get("UpdateSchedule"), "the second apply sends no update")
		after := describeSchedule(t, c, lifecycle.NightlyReconciliationScheduleID)
		assert.Equal(t, before.Info.LastUpdateAt, after.Info.LastUpdateAt)
		assert.Equal(t, before.Schedule.Spec, after.Schedule.Spec)

		// What the shipped file asks for is what Temporal holds.
		s := after.Schedule
		assert.Equal(t, "30 1 * * *", schedule.CronText(s.Spec.Calendars[0]))
		assert.Equal(t, "UTC", s.Spec.TimeZoneName)
		assert.Equal(t, 10*time.Minute, s.Spec.Jitter)
		assert.Equal(t, time.Hour, s.Policy.CatchupWindow)
		assert.Equal(t, "skip", schedule.OverlapName(s.Policy.Overlap))
		action := s.Action.(*client.ScheduleWorkflowAction)
		assert.Equal(t, lifecycle.ReconciliationWorkflowName, action.Workflow)
		assert.Equal(t, "sched-q", action.TaskQueue)
		assert.Equal(t, "Reconciliation · schedule nightly-reconciliation", action.StaticSummary)

		// A changed file is one update, naming what changed; --dry-run changes nothing.
		changed := writeSchedulesFile(t, strings.Replace(readSchedulesFile(t, shipped), "jitter: 10m", "jitter: 5m", 1))
		dry := runStarter(t, env, rpc.dial, "schedule", "apply", "-f", changed, "--dry-run")
		require.Equal(t, 0, dry.code, dry.stderr)
		assert.Contains(t, dry.stdout, "would update nightly-reconciliation (spec)")
		assert.Contains(t, dry.stdout, "Dry run, nothing changed: 0 to create, 1 to update, 0 unchanged, 0 to delete.")
		assert.Equal(t, 0, rpc.get("UpdateSchedule"))
		upd := runStarter(t, env, rpc.dial, "schedule", "apply", "-f", changed)
		require.Equal(t, 0, upd.code, upd.stderr)
		assert.Contains(t, upd.stdout, "updated   nightly-reconciliation (spec)")
		assert.Equal(t, 1, rpc.get("UpdateSchedule"))
		assert.Equal(t, 5*time.Minute, describeSchedule(t, c, lifecycle.NightlyReconciliationScheduleID).Schedule.Spec.Jitter)

		// Without 'paused' in the file, pausing belongs to operators: apply keeps it.
		p := runStarter(t, env, dialTemporal, "schedule", "pause", "--id", lifecycle.NightlyReconciliationScheduleID, "--note", "incident 42")
		require.Equal(t, 0, p.code, p.stderr)
		back := runStarter(t, env, rpc.dial, "schedule", "apply", "-f", shipped)
		require.Equal(t, 0, back.code, back.stderr)
		assert.Contains(t, back.stdout, "updated   nightly-reconciliation (spec)")
		st := describeSchedule(t, c, lifecycle.NightlyReconciliationScheduleID).Schedule.State
		assert.True(t, st.Paused)
		assert.Equal(t, "incident 42", st.Note)
		again := runStarter(t, env, rpc.dial, "schedule", "apply", "-f", shipped)
		assert.Contains(t, again.stdout, "unchanged nightly-reconciliation")

		// With 'paused' in the file, apply enforces it.
		enforced := writeSchedulesFile(t, readSchedulesFile(t, shipped)+"    paused: false\n")
		un := runStarter(t, env, rpc.dial, "schedule", "apply", "-f", enforced)
		require.Equal(t, 0, un.code, un.stderr)
		assert.Contains(t, un.stdout, "updated   nightly-reconciliation (paused, note)")
		st = describeSchedule(t, c, lifecycle.NightlyReconciliationScheduleID).Schedule.State
		assert.False(t, st.Paused)
		assert.Equal(t, "managed in schedules.yaml", st.Note)
		assert.Contains(t, runStarter(t, env, rpc.dial, "schedule", "apply", "-f", enforced).stdout, "unchanged nightly-reconciliation")
	})

	t.Run("with encrypted payloads apply still sees unchanged, and its own schedules", func(t *testing.T) {
		var rpc rpcCounter
		enc := devEnv(srv, "sched-q")
		enc[codec.EnvKeys] = "k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, codec.KeySize))
		file := writeSchedulesFile(t, "schedules:\n  - {id: enc-recon, workflow: reconciliation, cron: '0 2 * * *', input: {dry_run: true}}\n")
		first := runStarter(t, enc, rpc.dial, "schedule", "apply", "-f", file)
		require.Equal(t, 0, first.code, first.stderr)
		assert.Contains(t, first.stdout, "created   enc-recon")
		second := runStarter(t, enc, rpc.dial, "schedule", "apply", "-f", file)
		require.Equal(t, 0, second.code, second.stderr)
		assert.Contains(t, second.stdout, "unchanged enc-recon")
		assert.Equal(t, 0, rpc.get("UpdateSchedule"))

		// Temporal holds ciphertext only: the input and the ownership memo are encrypted.
		raw, err := c.WorkflowService().DescribeSchedule(context.Background(), &workflowservice.DescribeScheduleRequest{Namespace: "default", ScheduleId: "enc-recon"})
		require.NoError(t, err)
		assert.Equal(t, codec.MetadataEncodingEncrypted, string(raw.GetMemo().GetFields()[schedule.ManagedMemoKey].GetMetadata()["encoding"]))
		arg := raw.GetSchedule().GetAction().GetStartWorkflow().GetInput().GetPayloads()[0]
		assert.Equal(t, codec.MetadataEncodingEncrypted, string(arg.GetMetadata()["encoding"]))
		assert.NotContains(t, string(arg.GetData()), "dry_run")

		d := runStarter(t, enc, dialTemporal, "schedule", "describe", "--id", "enc-recon", "--json")
		require.Equal(t, 0, d.code, d.stderr)
		var v scheduleView
		require.NoError(t, json.Unmarshal([]byte(d.stdout), &v))
		assert.True(t, v.Managed)
		assert.JSONEq(t, `{"dry_run":true}`, string(v.Input))
		// Without the keys the mark cannot be read: not ours, so --prune leaves it alone; and
		// describing it says which keys are missing.
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			r := runStarter(t, env, dialTemporal, "schedule", "list", "--json")
			require.Equal(ct, 0, r.code, r.stderr)
			var rows []scheduleListRow
			require.NoError(ct, json.Unmarshal([]byte(r.stdout), &rows))
			var found bool
			for _, row := range rows {
				if row.ID == "enc-recon" {
					found = true
					assert.False(ct, row.Managed)
				}
			}
			assert.True(ct, found)
		}, settle, 100*time.Millisecond)
		plain := runStarter(t, env, dialTemporal, "schedule", "describe", "--id", "enc-recon")
		assert.Equal(t, 1, plain.code)
		assert.Contains(t, plain.stderr, `cannot describe schedule "enc-recon": its payloads are encrypted with a key the starter lacks: set ATOMICFLOW_CODEC_KEYS`)
		require.Equal(t, 0, runStarter(t, enc, dialTemporal, "schedule", "delete", "--id", "enc-recon").code)
	})

	t.Run("pause, unpause, trigger, backfill and delete", func(t *testing.T) {
		create := runStarter(t, env, dialTemporal, "schedule", "create", "--id", "s-steer", "--workflow", "reconciliation", "--cron", "0 3 * * *")
		require.Equal(t, 0, create.code, create.stderr)

		p := runStarter(t, env, dialTemporal, "schedule", "pause", "--id", "s-steer", "--note", "Atomicwork maintenance")
		require.Equal(t, 0, p.code, p.stderr)
		st := describeSchedule(t, c, "s-steer").Schedule.State
		assert.True(t, st.Paused)
		assert.Equal(t, "Atomicwork maintenance", st.Note)
		u := runStarter(t, env, dialTemporal, "schedule", "unpause", "--id", "s-steer", "--note", "maintenance over")
		require.Equal(t, 0, u.code, u.stderr)
		st = describeSchedule(t, c, "s-steer").Schedule.State
		assert.False(t, st.Paused)
		assert.Equal(t, "maintenance over", st.Note)

		tr := runStarter(t, env, dialTemporal, "schedule", "trigger", "--id", "s-steer")
		require.Equal(t, 0, tr.code, tr.stderr)
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			assert.Equal(ct, 1, describeSchedule(t, c, "s-steer").Info.NumActions)
		}, settle, 50*time.Millisecond)

		// Three nights of 03:00 UTC in the window; allow-all so they run next to the trigger's run.
		today := time.Now().UTC().Truncate(24 * time.Hour)
		bf := runStarter(t, env, dialTemporal, "schedule", "backfill", "--id", "s-steer", "--start", today.Add(-72*time.Hour).Format(time.RFC3339),
			"--end", today.Format(time.RFC3339), "--overlap", "allow-all")
		require.Equal(t, 0, bf.code, bf.stderr)
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			assert.Equal(ct, 4, describeSchedule(t, c, "s-steer").Info.NumActions)
		}, settle, 50*time.Millisecond)

		// The runs carry the schedule's id plus their time, and list finds them by schedule.
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			r := runStarter(t, env, dialTemporal, "list", "--scheduled-by", "s-steer", "--type", "reconciliation", "--json")
			require.Equal(ct, 0, r.code, r.stderr)
			var rows []listRow
			require.NoError(ct, json.Unmarshal([]byte(r.stdout), &rows))
			require.Len(ct, rows, 4)
			for _, row := range rows {
				assert.True(ct, strings.HasPrefix(row.WorkflowID, "s-steer-"), row.WorkflowID)
				assert.Equal(ct, lifecycle.StageReconScanning, row.Stage, "scheduled runs start with their stage set")
			}
		}, settle, 100*time.Millisecond)

		del := runStarter(t, env, dialTemporal, "schedule", "delete", "--id", "s-steer")
		require.Equal(t, 0, del.code, del.stderr)
		assert.Contains(t, del.stdout, "deleted s-steer")
		_, err := c.ScheduleClient().GetHandle(context.Background(), "s-steer").Describe(context.Background())
		var notFound *serviceerror.NotFound
		assert.ErrorAs(t, err, &notFound)
		gone := runStarter(t, env, dialTemporal, "schedule", "describe", "--id", "s-steer")
		assert.Equal(t, 1, gone.code)
		assert.Contains(t, gone.stderr, `no schedule "s-steer": `)
		assert.Equal(t, 1, runStarter(t, env, dialTemporal, "schedule", "trigger", "--id", "s-steer").code)
	})

	t.Run("apply --prune deletes only atomicflow's schedules", func(t *testing.T) {
		penv := devEnv(srv, "prune-q")
		penv["TEMPORAL_NAMESPACE"] = pruneNamespace
		pc, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: pruneNamespace,
			Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
		require.NoError(t, err)
		defer pc.Close()

		file := writeSchedulesFile(t, "schedules:\n  - {id: keep-me, workflow: reconciliation, cron: '0 4 * * *'}\n")
		require.Equal(t, 0, runStarter(t, penv, dialTemporal, "schedule", "apply", "-f", file).code)
		old := runStarter(t, penv, dialTemporal, "schedule", "create", "--id", "old-job", "--workflow", "reconciliation", "--cron", "0 5 * * *")
		require.Equal(t, 0, old.code, old.stderr)
		_, err = pc.ScheduleClient().Create(context.Background(), client.ScheduleOptions{ID: "foreign",
			Spec:   client.ScheduleSpec{CronExpressions: []string{"0 6 * * *"}},
			Action: &client.ScheduleWorkflowAction{ID: "foreign", Workflow: "SomeoneElses", TaskQueue: "other"}})
		require.NoError(t, err)
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			r := runStarter(t, penv, dialTemporal, "schedule", "list")
			assert.Contains(ct, r.stdout, "keep-me")
			assert.Contains(ct, r.stdout, "old-job")
			assert.Regexp(ct, `foreign\s+SomeoneElses\s+cron 0 6 \* \* \* \(UTC\)\s+active\s+\S+\s+-\n`, r.stdout, "listed, not managed")
		}, settle, 100*time.Millisecond)

		dry := runStarter(t, penv, dialTemporal, "schedule", "apply", "-f", file, "--prune", "--dry-run")
		require.Equal(t, 0, dry.code, dry.stderr)
		assert.Contains(t, dry.stdout, "would delete old-job")
		assert.NotContains(t, dry.stdout, "foreign")
		describeSchedule(t, pc, "old-job") // still there

		pr := runStarter(t, penv, dialTemporal, "schedule", "apply", "-f", file, "--prune")
		require.Equal(t, 0, pr.code, pr.stderr)
		assert.Contains(t, pr.stdout, "unchanged keep-me")
		assert.Contains(t, pr.stdout, "deleted   old-job")
		assert.NotContains(t, pr.stdout, "foreign")
		assert.Contains(t, pr.stdout, "0 created, 0 updated, 1 unchanged, 1 deleted.")
		_, err = pc.ScheduleClient().GetHandle(context.Background(), "old-job").Describe(context.Background())
		var notFound *serviceerror.NotFound
		assert.ErrorAs(t, err, &notFound)
		describeSchedule(t, pc, "foreign") // never touched
		describeSchedule(t, pc, "keep-me")
	})
}

func readSchedulesFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}
