package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atomicflow/atomicflow/hrevents"
)

// abuseOptions configure `bench webhook --abuse`.
type abuseOptions struct {
	slow, large int           // slowloris connections; senders of 1 MiB unsigned bodies
	duration    time.Duration // how long valid deliveries are sent during the abuse
	starter     string        // starter binary to measure ("" builds this tree's)
	temporalBin string
}

// forgedSignature is well formed, so a receiver must read the body to refute it: the worst case
// of an unsigned body.
const forgedSignature = "v1=0000000000000000000000000000000000000000000000000000000000000000"

// benchWebhookAbuse measures `starter listen` under hostile clients on 127.0.0.1: slow
// connections that never finish their headers (reconnecting when cut) and senders of 1 MiB
// bodies with a forged signature, each sent in 64 KiB pieces over about a second; meanwhile a
// valid hire is delivered every 200ms. It reports the receiver's peak RSS (VmHWM) and the
// valid deliveries' answers and latency.
func benchWebhookAbuse(ctx context.Context, out io.Writer, o abuseOptions) error {
	rig, err := startWebhookRig(ctx, o.temporalBin, o.starter)
	if err != nil {
		return err
	}
	defer rig.close()
	pid := rig.rx.PID()
	before, err := procStatus(pid, "VmRSS")
	if err != nil {
		return err
	}
	u, err := url.Parse(rig.rx.URL)
	if err != nil {
		return err
	}

	abuseCtx, stopAbuse := context.WithCancel(ctx)
	var (
		attackers sync.WaitGroup
		cuts      atomic.Int64
		answers   = newStatusCount()
	)
	for range o.slow {
		attackers.Go(func() { slowloris(abuseCtx, u.Host, &cuts) })
	}
	big := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: o.large}}
	for range o.large {
		attackers.Go(func() { sendLargeBodies(abuseCtx, big, rig.rx.URL, answers) })
	}
	select { // let the abuse build up
	case <-time.After(3 * time.Second):
	case <-ctx.Done():
	}
	valid := deliverDuring(ctx, rig.rx.URL, o.duration)
	peakDuring, _ := procStatus(pid, "VmRSS")
	stopAbuse()
	attackers.Wait()
	peak, err := procStatus(pid, "VmHWM")
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "starter listen (%s) on 127.0.0.1: %d slow connections, %d senders of 1 MiB forged-signature bodies, a valid hire every 200ms for %s\n\n",
		binaryName(o.starter), o.slow, o.large, o.duration)
	fmt.Fprintln(out, "| RSS before | RSS late in the abuse | peak RSS (VmHWM) | valid: 2xx / sent | valid p50 | p99 | max | 1 MiB bodies answered | slow connections cut |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|")
	fmt.Fprintf(out, "| %s | %s | %s | %d / %d | %s | %s | %s | %s | %d |\n", mib(before), mib(peakDuring), mib(peak),
		valid.accepted, len(valid.latencies), ms(percentile(valid.latencies, 50)), ms(percentile(valid.latencies, 99)),
		ms(percentile(valid.latencies, 100)), answers, cuts.Load())
	return nil
}

func binaryName(starter string) string {
	if starter == "" {
		return "this tree"
	}
	return starter
}

// slowloris keeps a connection that sends one header line a second and never ends its headers;
// when the receiver cuts it, it connects again.
func slowloris(ctx context.Context, addr string, cuts *atomic.Int64) {
	for ctx.Err() == nil {
		c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", addr)
		if err != nil {
			pause(ctx, 100*time.Millisecond)
			continue
		}
		line := "POST /hr/events HTTP/1.1\r\nHost: " + addr + "\r\n"
		for ctx.Err() == nil {
			_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, line); err != nil {
				cuts.Add(1)
				break
			}
			line = "X-Slow: 1\r\n"
			pause(ctx, time.Second)
		}
		_ = c.Close()
	}
}

// sendLargeBodies sends 1 MiB bodies with a forged signature, one after another.
func sendLargeBodies(ctx context.Context, c *http.Client, base string, answers *statusCount) {
	for ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/hr/events", &pacedBody{ctx: ctx, left: hrevents.MaxBodyBytes})
		if err != nil {
			return
		}
		req.ContentLength = hrevents.MaxBodyBytes
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(hrevents.HeaderTimestamp, strconv.FormatInt(time.Now().Unix(), 10))
		req.Header.Set(hrevents.HeaderSignature, forgedSignature)
		resp, err := c.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				answers.add("error")
			}
			pause(ctx, 50*time.Millisecond)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		answers.add(strconv.Itoa(resp.StatusCode))
		if resp.StatusCode == http.StatusServiceUnavailable {
			pause(ctx, 50*time.Millisecond) // a spinning attacker would only measure the bench's own CPU
		}
	}
}

// pacedBody is left bytes of spaces, 64 KiB every 60ms.
type pacedBody struct {
	ctx  context.Context
	left int
	sent bool
}

func (p *pacedBody) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	if p.sent {
		pause(p.ctx, 60*time.Millisecond)
	}
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	p.sent = true
	n := min(len(b), p.left, 64<<10)
	for i := range n {
		b[i] = ' '
	}
	p.left -= n
	return n, nil
}

// deliverDuring delivers a valid hire every 200ms for d, each on the connection of an HR system
// (kept alive), and returns their latencies and how many were accepted.
func deliverDuring(ctx context.Context, base string, d time.Duration) webhookRow {
	c := &http.Client{Timeout: time.Minute}
	row := webhookRow{name: "valid"}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	startDate := time.Now().UTC().AddDate(0, 1, 0).Format(time.DateOnly)
	for i, end := 0, time.Now().Add(d); time.Now().Before(end) && ctx.Err() == nil; i++ {
		body := fmt.Sprintf(`{"event_id":"evt-abuse-%d","type":"employee.hired","occurred_at":"%s","employee":{"employee_id":"B-A%d",`+
			`"email":"bench.abuse%d@example.com","first_name":"Bench","last_name":"Abuse","timezone":"UTC","start_date":"%s"}}`,
			i, time.Now().UTC().Format(time.RFC3339), i, i, startDate)
		took, ok := deliverSigned(ctx, c, base, body)
		row.latencies = append(row.latencies, took)
		if ok {
			row.accepted++
		}
		<-tick.C
	}
	return row
}

// procStatus reads a kB field of /proc/<pid>/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// statusCount counts answers by status.
type statusCount struct {
	mu sync.Mutex
	n  map[string]int
}

func newStatusCount() *statusCount { return &statusCount{n: map[string]int{}} }

func (s *statusCount) add(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n[status]++
}

// String lists the counts in status order.
func (s *statusCount) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.n)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, s.n[k]))
	}
	return strings.Join(parts, ", ")
}
