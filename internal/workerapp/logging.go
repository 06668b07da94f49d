package workerapp

import (
	"io"
	"log/slog"
)

// NewLogger returns the worker's logger: JSON (format "json") or logfmt-like text lines on w, from
// level up. The SDK logs through it too (see Run).
func NewLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
