package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/atomicflow/atomicflow/atomicwork/atomicworktest"
	"github.com/atomicflow/atomicflow/internal/codec"
	"github.com/atomicflow/atomicflow/internal/devserver"
	"github.com/atomicflow/atomicflow/internal/syncbuf"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// statusCounter counts the codec server's answers to /decode by status.
type statusCounter struct {
	mu sync.Mutex
	n  map[int]int
}

func (s *statusCounter) count(status int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[status]
}

func (s *statusCounter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if strings.HasSuffix(r.URL.Path, "/decode") && r.Method == http.MethodPost {
			s.mu.Lock()
			s.n[rec.status]++
			s.mu.Unlock()
		}
	})
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }

// TestTemporalUIDecodesThroughTheCodecServer opens a run whose payloads are encrypted in Temporal
// UI (headless Chromium): signed out, the UI's calls to the codec server are refused and no
// personal data shows; once the operator signed in at the codec server's /login, the UI shows the
// decoded input and summary. The dev server's UI learns the endpoint from --ui-codec-endpoint;
// "include cross-origin credentials" is set in the UI's own codec settings (local storage), as
// docker-compose.yml sets it with TEMPORAL_CODEC_INCLUDE_CREDENTIALS.
func TestTemporalUIDecodesThroughTheCodecServer(t *testing.T) {
	browser := requireChromium(t)
	cli := devserver.RequireCLI(t)
	ring := keyring(t, "ui:"+codecKeyA)

	// The codec server's address must be known before the UI starts, and the UI's origin before
	// the codec server answers: listen first, serve once both are known.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	codecURL := "http://" + ln.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	srv, uiURL, err := devserver.StartWithUI(ctx, cli, "--ui-codec-endpoint", codecURL)
	cancel()
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })

	h, err := codec.NewHTTPHandler(codec.New(ring), codec.ServerOptions{Token: codecToken, AllowedOrigins: []string{uiURL}})
	require.NoError(t, err)
	calls := &statusCounter{n: map[int]int{}}
	hs := &http.Server{Handler: calls.wrap(h), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })

	e := &env{t: t, sim: atomicworktest.NewServer(t, atomicworktest.Options{APIKey: apiKey}), queue: "e2e-" + t.Name(), logs: &syncbuf.Buffer{}}
	e.client, _ = startCodecWorker(t, srv, e, ring)
	in := secretHire(4)
	run := e.startOnboarding(in)
	rctx, rcancel := context.WithTimeout(context.Background(), runDeadline)
	defer rcancel()
	var res lifecycle.OnboardingResult
	require.NoError(t, run.Get(rctx, &res))
	requireNoClearText(t, e.history(run.GetID(), run.GetRunID()), piiOf(in))

	bctx := newBrowser(t, browser)
	sctx, scancel := context.WithTimeout(bctx, uiTimeout)
	defer scancel()
	require.NoError(t, chromedp.Do(sctx, chromedp.Navigate(uiURL)))
	_, err = chromedp.Run(sctx, chromedp.Evaluate[any](fmt.Sprintf(
		`localStorage.setItem("endpoint", %q); localStorage.setItem("includeCredentials", "true"); localStorage.setItem("overrideRemoteCodecConfiguration", "true")`,
		`"`+codecURL+`"`)))
	require.NoError(t, err, "set the UI's codec settings")

	page := fmt.Sprintf("%s/namespaces/default/workflows/%s/%s/history", uiURL, url.PathEscape(run.GetID()), url.PathEscape(run.GetRunID()))
	waitForText(t, bctx, page, "codec-signed-out", func(text string) error {
		if strings.Contains(text, in.Email) || strings.Contains(text, in.LastName) {
			return errors.New("the UI shows personal data without a codec session") // fails at the deadline
		}
		if calls.count(http.StatusUnauthorized) == 0 {
			return errors.New("the UI has not asked the codec server yet")
		}
		if !strings.Contains(text, "Input") || !strings.Contains(text, run.GetID()) {
			return errors.New("the run page has not rendered yet")
		}
		return nil
	})
	assert.Zero(t, calls.count(http.StatusOK), "nothing was decoded for a browser that has not signed in")

	// The sign-in gets a deadline of its own: the wait above may have taken most of sctx's.
	lctx, lcancel := context.WithTimeout(bctx, uiTimeout)
	defer lcancel()
	require.NoError(t, chromedp.Do(lctx,
		chromedp.Navigate(codecURL+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), codecToken),
		chromedp.Submit(chromedp.CSS(`form`)),
		chromedp.WaitVisible(chromedp.Search(`//*[contains(text(), "Signed in")]`)),
	), "sign in at the codec server")

	text := waitForText(t, bctx, page, "codec-signed-in", func(text string) error {
		var missing []string
		for _, want := range []string{in.Email, "Onboarding " + in.EmployeeID} {
			if !strings.Contains(text, want) {
				missing = append(missing, fmt.Sprintf("%q", want))
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("the run page does not show %s decoded", strings.Join(missing, " and "))
		}
		return nil
	})
	assert.Contains(t, text, in.Email)
	assert.Positive(t, calls.count(http.StatusOK), "the UI decoded through the codec server")
}
