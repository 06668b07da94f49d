package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/internal/syncbuf"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// chromiumPath is Debian's chromium, which `make tools` installs (scripts/install-chromium.sh).
const chromiumPath = "/usr/bin/chromium"

// screenshotDir holds the UI test's screenshots (git-ignored).
const screenshotDir = "screenshots"

// requireChromium returns the browser for the UI test. Without it the test fails when CI is set
// (the UI proof is required there) and is skipped elsewhere, saying what to run.
func requireChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("%s is missing (Debian package chromium): run `make tools`, which installs it with apt-get, or `apt-get install -y chromium` as root", chromiumPath)
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI is set: the UI test is required)", msg)
		}
		t.Skip(msg)
	}
	return chromiumPath
}

// uiRun is a finished run the UI must show: in the list its query selects, and on its own page
// with its static summary and its current details.
type uiRun struct {
	name       string // screenshot names
	query      string // a visibility query over our search attributes
	workflowID string
	runID      string
	summary    string // the static summary given at start
	details    string // a line of the current details (workflow.SetCurrentDetails), as rendered text
}

// TestTemporalUIShowsRuns runs the dev server with Temporal UI (on a free port, never :8233), the
// simulator and the worker; completes an onboarding, an offboarding and a bulk reassignment; then
// checks in headless Chromium that the workflow list filtered by our search attributes shows each
// run (and not the others), and that each run's page shows its summary and current details.
func TestTemporalUIShowsRuns(t *testing.T) {
	browser := requireChromium(t)
	cli := devserver.RequireCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	srv, uiURL, err := devserver.StartWithUI(ctx, cli)
	cancel()
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	t.Logf("Temporal UI at %s", uiURL)

	e := newEnvOn(t, srv, atomicworktest.Options{RevocationDelay: 300 * time.Millisecond, ExtraAssets: 3}, engineeringPolicy)
	runs := completeOneOfEach(t, e)

	for _, r := range runs {
		requireVisible(t, e, r) // the server answers the query before the UI is asked
	}

	bctx := newBrowser(t, browser)
	for i, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			var others []string
			for j, o := range runs {
				if j != i {
					others = append(others, o.workflowID)
				}
			}
			checkList(t, bctx, uiURL, r, others)
			checkRunPage(t, bctx, uiURL, r)
		})
	}
}

// completeOneOfEach runs an onboarding, an immediate offboarding with a short grace period and a
// small reassignment batch to completion, and returns how the UI should show them.
func completeOneOfEach(t *testing.T, e *env) []uiRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	var runs []uiRun

	// Onboarding.
	hireIn := hire(1, today())
	hireIn.EmployeeID = "E-UI-1"
	onb := e.startOnboarding(hireIn)
	// Offboarding, started at once so the two run side by side.
	leaver := leaverWithAccess(t, e.sim)
	offIn := lifecycle.OffboardingInput{EmployeeID: employeeID(t, e.sim, leaver), Email: leaver.Email, LastDay: time.Now().UTC().Format(time.DateOnly),
		TimeZone: "UTC", Assets: lifecycle.AssetsReturn, Immediate: true, GracePeriod: 2 * time.Second}
	off := e.startOffboarding(offIn)

	var onbRes lifecycle.OnboardingResult
	require.NoError(t, onb.Get(ctx, &onbRes), "onboarding")
	require.Equal(t, lifecycle.OutcomeCompleted, onbRes.Outcome)
	runs = append(runs, uiRun{
		name:       "onboarding",
		query:      fmt.Sprintf("LifecycleStage=%q AND EmployeeId=%q", lifecycle.StageCompleted, hireIn.EmployeeID),
		workflowID: onb.GetID(), runID: onb.GetRunID(),
		summary: "Onboarding " + hireIn.EmployeeID,
		details: "Employee: " + hireIn.EmployeeID,
	})

	var offRes lifecycle.OffboardingResult
	require.NoError(t, off.Get(ctx, &offRes), "offboarding")
	require.Equal(t, lifecycle.OutcomeCompleted, offRes.Outcome)
	require.True(t, offRes.Deleted)
	runs = append(runs, uiRun{
		name:       "offboarding",
		query:      fmt.Sprintf("LifecycleStage=%q AND EmployeeId=%q", lifecycle.StageOffCompleted, offIn.EmployeeID),
		workflowID: off.GetID(), runID: off.GetRunID(),
		summary: "Offboarding " + offIn.EmployeeID,
		details: "Stage: " + lifecycle.StageOffCompleted,
	})

	// Bulk reassignment: the extra laptops of the simulator's default assignee back to stock.
	batch := lifecycle.ReassignmentInput{BatchID: "e2e-ui", Selector: lifecycle.AssetSelector{AssigneeEmail: bo, AssetType: "Laptop"},
		Target: lifecycle.AssetTarget{Stock: true}, Confirmed: true}
	re := startReassignment(t, e.client, e.queue, batch)
	var rep lifecycle.ReassignmentReport
	require.NoError(t, re.Get(ctx, &rep), "reassignment")
	require.Equal(t, lifecycle.OutcomeCompleted, rep.Outcome)
	require.Positive(t, rep.Done)
	desc, err := e.client.DescribeWorkflowExecution(ctx, re.GetID(), "") // the last run, after any continue-as-new
	require.NoError(t, err)
	runs = append(runs, uiRun{
		name:       "reassignment",
		query:      fmt.Sprintf("LifecycleStage=%q AND WorkflowType=%q", lifecycle.StageReassignCompleted, lifecycle.ReassignmentWorkflowName),
		workflowID: re.GetID(), runID: desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(),
		summary: "Asset reassignment " + batch.BatchID,
		details: "Batch: " + batch.BatchID,
	})
	return runs
}

// requireVisible waits until the server's visibility store answers r.query with r's run.
func requireVisible(t *testing.T, e *env, r uiRun) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := e.client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: r.query})
		if !assert.NoError(c, err, "query %s", r.query) {
			return
		}
		var ids []string
		for _, ex := range resp.GetExecutions() {
			ids = append(ids, ex.GetExecution().GetWorkflowId()+"/"+ex.GetExecution().GetRunId())
		}
		assert.Contains(c, ids, r.workflowID+"/"+r.runID, "query %s", r.query)
	}, settle, 200*time.Millisecond)
}

// newBrowser starts headless Chromium with the flags this machine needs (no sandbox as root, no
// background networking on a closed network) and an empty profile.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	var stderr syncbuf.Buffer
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1600, 1000),
		chromedp.CombinedOutput(&stderr),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first call starts the browser, which lives as long as its context: no timeout on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("cannot start %s: %v\nits output:\n%s", path, err, stderr.String())
	}
	return ctx
}

// uiTimeout bounds each wait for the UI: generous, since a cold UI loads a few megabytes of JS,
// and a busy machine runs Chromium slowly.
const uiTimeout = 3 * time.Minute

// checkList opens the workflow list with r.query in the URL and waits until it shows r's workflow
// id and run id (neither is in the query) and none of others (so the filter was applied, not ignored).
func checkList(t *testing.T, bctx context.Context, uiURL string, r uiRun, others []string) {
	t.Helper()
	page := uiURL + "/namespaces/default/workflows?query=" + url.QueryEscape(r.query)
	text := waitForText(t, bctx, page, r.name+"-list", func(text string) error {
		if !strings.Contains(text, r.workflowID) || !strings.Contains(text, r.runID) {
			return fmt.Errorf("the list does not show %s run %s", r.workflowID, r.runID)
		}
		for _, o := range others {
			if strings.Contains(text, o) {
				return fmt.Errorf("the list filtered by %s also shows %s", r.query, o)
			}
		}
		return nil
	})
	assert.Contains(t, text, r.workflowID)
}

// checkRunPage opens the run's page and waits until it shows the static summary and the current
// details (served by the worker through the __temporal_workflow_metadata query).
func checkRunPage(t *testing.T, bctx context.Context, uiURL string, r uiRun) {
	t.Helper()
	page := fmt.Sprintf("%s/namespaces/default/workflows/%s/%s/user-metadata", uiURL, url.PathEscape(r.workflowID), url.PathEscape(r.runID))
	text := waitForText(t, bctx, page, r.name+"-run", func(text string) error {
		var missing []string
		for _, want := range []string{r.summary, r.details} {
			if !strings.Contains(text, want) {
				missing = append(missing, fmt.Sprintf("%q", want))
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("the run page does not show %s", strings.Join(missing, " and "))
		}
		return nil
	})
	assert.Contains(t, text, r.summary)
}

// pageText is the visible text of the page and of its same-origin frames.
const pageText = `(() => {
	const parts = [document.body ? document.body.innerText : ""];
	for (const f of document.querySelectorAll("iframe")) {
		try { if (f.contentDocument && f.contentDocument.body) parts.push(f.contentDocument.body.innerText); } catch (e) {}
	}
	return parts.join("\n");
})()`

// waitForText loads page and polls its text until check passes, reloading now and then (the list
// does not refresh by itself). It saves a screenshot either way; on timeout the test fails with
// the last check's reason and the page's text.
func waitForText(t *testing.T, bctx context.Context, page, shot string, check func(string) error) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(bctx, uiTimeout)
	defer cancel()
	var text string
	lastErr := errors.New("the page never loaded")
	for ctx.Err() == nil {
		if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
			lastErr = fmt.Errorf("load the page: %w", err)
			select { // then try again, within the deadline
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		// Poll the rendered text for a while before reloading.
		reload := time.Now().Add(15 * time.Second)
		tick := time.NewTicker(250 * time.Millisecond)
		for ctx.Err() == nil && time.Now().Before(reload) {
			ectx, ecancel := context.WithTimeout(ctx, 10*time.Second) // one stuck read must not eat the deadline
			got, err := chromedp.Run(ectx, chromedp.Evaluate[string](pageText))
			ecancel()
			if err != nil {
				lastErr = fmt.Errorf("read the page text: %w", err)
			} else if text, lastErr = got, check(got); lastErr == nil {
				tick.Stop()
				screenshot(t, bctx, shot)
				return text
			}
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
		tick.Stop()
	}
	screenshot(t, bctx, "FAILED-"+shot)
	t.Fatalf("Temporal UI at %s: %v after %s\npage text:\n%s", page, lastErr, uiTimeout, truncate(text, 6000))
	return ""
}

// screenshot saves the whole page as screenshots/<name>.png.
func screenshot(t *testing.T, bctx context.Context, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(screenshotDir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	abs, _ := filepath.Abs(path)
	t.Logf("screenshot: %s", abs)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n…(truncated)"
}

// TestMonitorQueriesInREADME runs every query of the README's Monitor section against the dev
// server: an operator copying one must not meet a syntax error or an unknown attribute.
func TestMonitorQueriesInREADME(t *testing.T) {
	srv := devServer(t)
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	queries := readmeQueries(t, string(b))
	require.GreaterOrEqual(t, len(queries), 5, "the README's monitor-queries block")
	c := srv.Client()
	for _, q := range queries {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 1})
		cancel()
		assert.NoError(t, err, "README query %s", q)
	}
}

// readmeQueries returns the lines of the fenced block after the <!-- monitor-queries --> marker.
func readmeQueries(t *testing.T, readme string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, "<!-- monitor-queries -->")
	require.True(t, ok, "README.md has no <!-- monitor-queries --> marker")
	_, rest, ok = strings.Cut(rest, "```text\n")
	require.True(t, ok, "no ```text block after the marker")
	block, _, ok := strings.Cut(rest, "```")
	require.True(t, ok, "the block is not closed")
	var out []string
	for _, line := range strings.Split(block, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}
