package main

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/netutil"

	"github.com/atomicflow/atomicflow/hrevents"
)

// The receiver's limits: the only component exposed beyond the host must not be pushed out of
// memory or connections by clients that never finish (slowloris) or send large unsigned bodies.
const (
	hrMaxConnectionsVar    = "ATOMICFLOW_HR_MAX_CONNECTIONS"
	hrMaxInFlightVar       = "ATOMICFLOW_HR_MAX_IN_FLIGHT"
	hrReadHeaderTimeoutVar = "ATOMICFLOW_HR_READ_HEADER_TIMEOUT"
	hrReadTimeoutVar       = "ATOMICFLOW_HR_READ_TIMEOUT"
	hrIdleTimeoutVar       = "ATOMICFLOW_HR_IDLE_TIMEOUT"
	hrMetricsAddrVar       = "ATOMICFLOW_HR_METRICS_ADDR"
)

// listenLimits are the receiver's connection and time limits, read from the environment.
type listenLimits struct {
	maxConnections    int           // open connections; more wait in the kernel's backlog
	maxInFlight       int           // bodies over 16 KiB read at once; more are answered 503
	readHeaderTimeout time.Duration // a client still sending its headers after this is cut
	readTimeout       time.Duration // ... and its headers and body
	idleTimeout       time.Duration // a kept-alive connection with no request is closed
	metricsAddr       string        // where /metrics is served; "" when off
}

// readListenLimits reads the limits; a bad value is a usage error naming its variable.
func readListenLimits(a *app) (listenLimits, error) {
	r := limitReader{a: a}
	l := listenLimits{
		maxConnections:    r.count(hrMaxConnectionsVar, 1024, 1, 1<<20),
		maxInFlight:       r.count(hrMaxInFlightVar, hrevents.DefaultMaxInFlight, 1, 4096),
		readHeaderTimeout: r.duration(hrReadHeaderTimeoutVar, 5*time.Second),
		readTimeout:       r.duration(hrReadTimeoutVar, 15*time.Second),
		idleTimeout:       r.duration(hrIdleTimeoutVar, time.Minute),
		metricsAddr:       strings.TrimSpace(a.env(hrMetricsAddrVar, "127.0.0.1:9091")),
	}
	if r.err == nil && l.readTimeout < l.readHeaderTimeout {
		r.err = fmt.Errorf("%s=%s is shorter than %s=%s: the read timeout covers the headers and the body, so make it at least as long",
			hrReadTimeoutVar, l.readTimeout, hrReadHeaderTimeoutVar, l.readHeaderTimeout)
	}
	if l.metricsAddr == "off" {
		l.metricsAddr = ""
	}
	if r.err != nil {
		return listenLimits{}, usageError{r.err}
	}
	return l, nil
}

// limitReader keeps the first bad value.
type limitReader struct {
	a   *app
	err error
}

func (r *limitReader) count(name string, def, lo, hi int) int {
	v := strings.TrimSpace(r.a.env(name, ""))
	if v == "" || r.err != nil {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.err = fmt.Errorf("%s=%q is not a whole number from %d to %d: unset it for the default, %d", name, v, lo, hi, def)
	}
	return n
}

// duration reads a Go duration from 100ms to 1h.
func (r *limitReader) duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(r.a.env(name, ""))
	if v == "" || r.err != nil {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 100*time.Millisecond || d > time.Hour {
		r.err = fmt.Errorf("%s=%q is not a duration from 100ms to 1h (e.g. 5s): unset it for the default, %s", name, v, def)
	}
	return d
}

// server is the receiver's HTTP server. WriteTimeout runs from the end of the headers, so it
// leaves room for the body, the Temporal calls (timeout) and the answer.
func (l listenLimits) server(h http.Handler, timeout time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.readHeaderTimeout,
		ReadTimeout:       l.readTimeout,
		WriteTimeout:      l.readTimeout + timeout + 5*time.Second,
		IdleTimeout:       l.idleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
}

// listener caps the connections served at once: one over the cap waits to be accepted.
func (l listenLimits) listener(ln net.Listener) net.Listener {
	return netutil.LimitListener(ln, l.maxConnections)
}
