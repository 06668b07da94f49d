package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newHealthcheckCmd probes an HTTP endpoint: the container image has no shell or curl, so
// docker-compose.yml's healthchecks run `starter healthcheck <url>`.
func newHealthcheckCmd(a *app) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:    "healthcheck URL",
		Short:  "Exit 0 when URL answers GET with a 2xx status, else say why and exit 1 (container healthchecks)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
			if err != nil {
				return usageError{fmt.Errorf("%q is not a URL: %w", args[0], err)}
			}
			resp, err := (&http.Client{Timeout: timeout}).Do(req)
			if err != nil {
				return fmt.Errorf("GET %s: %w", args[0], err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			if resp.StatusCode/100 != 2 {
				return fmt.Errorf("GET %s: %s%s", args[0], resp.Status, healthReason(body))
			}
			fmt.Fprintf(a.stdout, "%s: %s\n", args[0], resp.Status)
			return nil
		}),
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	return cmd
}

// healthReason is what a failing answer says went wrong: the "error" of a JSON body such as
// /healthz's, else the start of the body.
func healthReason(body []byte) string {
	var answer struct{ Error string }
	if json.Unmarshal(body, &answer) == nil && answer.Error != "" {
		return ": " + answer.Error
	}
	if text := strings.TrimSpace(string(body)); text != "" {
		return fmt.Sprintf(": %.200s", text)
	}
	return ""
}
