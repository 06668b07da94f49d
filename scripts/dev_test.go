// Package scripts_test runs the developer scripts for real.
package scripts_test

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var pidLine = regexp.MustCompile(`dev: (temporal|awsim|worker) is pid (\d+)`)

// TestDevStopsEverythingOnCtrlCUnderTee runs `scripts/dev.sh | tee log` in its own session, as a
// terminal would run `make dev | tee log`, and sends SIGINT to the whole foreground process group
// as Ctrl-C does: tee dies with the rest, so the stop path writes to a closed pipe. All three
// processes must still be stopped, and the simulator's last change must be in its state file.
func TestDevStopsEverythingOnCtrlCUnderTee(t *testing.T) {
	if testing.Short() {
		t.Skip("runs make dev's processes: skipped under -short (make test-unit); make test runs it")
	}
	dev := t.TempDir()
	log := filepath.Join(dev, "tee.log")
	ports := freePorts(t, 3)
	cmd := exec.Command("bash", "-c", `scripts/dev.sh | tee "$TEE_LOG" >/dev/null`)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "TEE_LOG="+log, "ATOMICFLOW_DEV_DIR="+dev,
		"ATOMICFLOW_DEV_TEMPORAL_PORT="+ports[0], "ATOMICFLOW_DEV_UI_PORT="+ports[1], "ATOMICFLOW_DEV_AWSIM_PORT="+ports[2])
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // its own session and process group, like a terminal's job
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // Ctrl-C ends it: its exit status says only that
		close(exited)
	}()

	pids := map[string]int{}
	t.Cleanup(func() {
		// Only if the test failed: what dev.sh should have stopped, by pid.
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		b, _ := os.ReadFile(log)
		for _, m := range pidLine.FindAllStringSubmatch(string(b), -1) {
			pids[m[1]], _ = strconv.Atoi(m[2])
		}
		assert.Contains(c, string(b), "atomicflow is running")
	}, 5*time.Minute, time.Second, "dev.sh did not start; its logs are in %s", dev)
	require.Len(t, pids, 3, "the pids of temporal, awsim and the worker")

	// A change in the simulator right before the Ctrl-C.
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:"+ports[2]+"/api/v1/users",
		strings.NewReader(`{"email":"kept@example.com","first_name":"Kept"}`))
	require.NoError(t, err)
	req.Header.Set("X-Api-Key", "dev-key")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGINT), "Ctrl-C to the foreground process group")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		for name, pid := range pids {
			assert.ErrorIs(c, syscall.Kill(pid, 0), syscall.ESRCH, "%s (pid %d) is still running", name, pid)
		}
	}, 2*time.Minute, 200*time.Millisecond)
	select {
	case <-exited:
	case <-time.After(time.Minute):
		t.Fatal("dev.sh did not exit after stopping its processes")
	}

	state, err := os.ReadFile(filepath.Join(dev, "awsim.json"))
	require.NoError(t, err, "dev.sh runs awsim with --state-file $DEV/awsim.json")
	assert.Contains(t, string(state), "kept@example.com", "awsim saved its last change on SIGTERM")
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var ports []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		_, port, err := net.SplitHostPort(ln.Addr().String())
		require.NoError(t, err)
		ports = append(ports, port)
	}
	return ports
}
