package testkit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// BuildStarter compiles the starter into dir and returns the binary's path.
func BuildStarter(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "starter")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/atomicflow/atomicflow/starter").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./starter: %w\n%s", err, out)
	}
	return bin, nil
}

// Listener is a running `starter listen`.
type Listener struct {
	// URL is where it serves, e.g. http://127.0.0.1:41234; events go to URL + "/hr/events".
	URL string
	// MetricsURL is where it serves /metrics (its own address), e.g. http://127.0.0.1:41235.
	MetricsURL string
	cmd        *exec.Cmd
	logs       *logBuffer
	done       chan error
	stop       sync.Once
	stopErr    error
}

// StartListener runs `bin listen --addr 127.0.0.1:0 args...` with env as its whole environment
// (plus PATH and HOME, and no temporal.toml; /metrics on a free loopback port unless env sets
// ATOMICFLOW_HR_METRICS_ADDR), and waits until it listens.
func StartListener(ctx context.Context, bin string, env map[string]string, args ...string) (*Listener, error) {
	cmd := exec.Command(bin, append([]string{"listen", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TEMPORAL_CONFIG_FILE=/dev/null"}
	if _, ok := env["ATOMICFLOW_HR_METRICS_ADDR"]; !ok {
		cmd.Env = append(cmd.Env, "ATOMICFLOW_HR_METRICS_ADDR=127.0.0.1:0") // tests and benches run side by side
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Listener{cmd: cmd, logs: &logBuffer{}, done: make(chan error, 1)}
	addr := make(chan addrs, 1)
	go p.read(stderr, addr)
	go func() { p.done <- cmd.Wait() }()
	select {
	case a := <-addr:
		p.URL = "http://" + a.Addr
		if a.MetricsAddr != "" && a.MetricsAddr != "off" { // "": a receiver serving /metrics beside /hr/events
			p.MetricsURL = "http://" + a.MetricsAddr
		}
		return p, nil
	case err := <-p.done:
		return nil, fmt.Errorf("starter listen exited at start (%v):\n%s", err, p.Logs())
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("starter listen did not listen: %w\n%s", ctx.Err(), p.Logs())
	}
}

// addrs are the addresses of the "Listening for HR events" line.
type addrs struct{ Addr, MetricsAddr string }

// read keeps the log and reports the addresses of the "Listening for HR events" line.
func (p *Listener) read(r io.Reader, addr chan<- addrs) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		p.logs.write(line)
		var entry struct {
			Msg string
			addrs
		}
		if json.Unmarshal(line, &entry) == nil && entry.Msg == "Listening for HR events" {
			addr <- entry.addrs
		}
	}
}

// Stop sends SIGTERM and waits for a clean exit; later calls return the first one's answer.
func (p *Listener) Stop() error {
	p.stop.Do(func() { p.stopErr = p.terminate() })
	return p.stopErr
}

func (p *Listener) terminate() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("starter listen: %w\n%s", err, p.Logs())
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		return errors.New("starter listen did not stop within 30s of SIGTERM")
	}
}

// PID is the process id, e.g. to read its memory in /proc.
func (p *Listener) PID() int { return p.cmd.Process.Pid }

// Logs returns what it logged so far.
func (p *Listener) Logs() string { return p.logs.String() }

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) write(line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(line)
	l.b.WriteByte('\n')
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
