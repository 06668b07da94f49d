package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serveLimited serves an always-200 handler with l's server and listener on a loopback port.
func serveLimited(t *testing.T, l listenLimits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := l.server(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }), time.Second)
	go func() { _ = srv.Serve(l.listener(ln)) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

func testLimits() listenLimits {
	return listenLimits{maxConnections: 1024, maxInFlight: 1, readHeaderTimeout: 10 * time.Second,
		readTimeout: 10 * time.Second, idleTimeout: 10 * time.Second}
}

// TestConnectionsOverTheCapWait: with the cap taken by idle connections a new one is not
// served until one of them goes.
func TestConnectionsOverTheCapWait(t *testing.T) {
	l := testLimits()
	l.maxConnections = 2
	addr := serveLimited(t, l)
	var idle []net.Conn
	for range l.maxConnections {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		idle = append(idle, c)
	}
	// The backlog is accepted in order: the two idle connections take the cap, the third waits.
	held := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	_, err := held.Get("http://" + addr + "/")
	var timeout net.Error
	require.ErrorAs(t, err, &timeout, "a connection over the cap was served")
	require.True(t, timeout.Timeout())

	require.NoError(t, idle[0].Close())
	patient := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := patient.Get("http://" + addr + "/")
		require.NoError(c, err)
		resp.Body.Close()
		assert.Equal(c, http.StatusOK, resp.StatusCode)
	}, 10*time.Second, 50*time.Millisecond, "a freed slot serves the next connection")
}

// TestSlowHeadersAreCut: a client that never finishes its headers (slowloris) is disconnected.
func TestSlowHeadersAreCut(t *testing.T) {
	l := testLimits()
	l.readHeaderTimeout, l.readTimeout = 200*time.Millisecond, time.Second
	c, err := net.Dial("tcp", serveLimited(t, l))
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "POST /hr/events HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = io.ReadAll(c) // whatever the server writes, it must then close
	var ne net.Error
	assert.False(t, errors.As(err, &ne) && ne.Timeout(), "the slow client was still connected after 10s: %v", err)
}

func TestListenLimitsDefaultsAreSafe(t *testing.T) {
	l, err := readListenLimits(&app{lookup: func(string) (string, bool) { return "", false }})
	require.NoError(t, err)
	srv := l.server(http.NotFoundHandler(), 5*time.Second)
	for name, d := range map[string]time.Duration{"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout} {
		assert.Positive(t, d, name)
		assert.LessOrEqual(t, d, 2*time.Minute, name)
	}
	assert.Greater(t, srv.WriteTimeout, srv.ReadTimeout+5*time.Second, "the answer has time after the body and Temporal")
	assert.Equal(t, "127.0.0.1:9091", l.metricsAddr, "metrics are loopback-only by default")
	assert.Positive(t, l.maxConnections)
	assert.Positive(t, l.maxInFlight)
}

func TestListenBadLimitsExit2NamingTheVariable(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	for _, tc := range []struct{ name, value string }{
		{hrMaxConnectionsVar, "0"},
		{hrMaxConnectionsVar, "many"},
		{hrMaxInFlightVar, "-1"},
		{hrMaxInFlightVar, "1e3"},
		{hrReadHeaderTimeoutVar, "5"},
		{hrReadHeaderTimeoutVar, "1ms"},
		{hrReadTimeoutVar, "2h"},
		{hrIdleTimeoutVar, "soon"},
		{hrMetricsAddrVar, taken.Addr().String()},
		{hrMetricsAddrVar, "not an address"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			r := runStarter(t, map[string]string{hrSecretsVar: hrSecret, tc.name: tc.value}, noDial(t), "listen", "--addr", "127.0.0.1:0")
			assert.Equal(t, 2, r.code)
			assert.Contains(t, r.stderr, tc.name)
		})
	}
	t.Run("read timeout under the header timeout", func(t *testing.T) {
		r := runStarter(t, map[string]string{hrSecretsVar: hrSecret, hrReadHeaderTimeoutVar: "10s", hrReadTimeoutVar: "5s"}, noDial(t), "listen")
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, hrReadTimeoutVar+"=5s is shorter than "+hrReadHeaderTimeoutVar)
	})
}
