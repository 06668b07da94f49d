// Package workerapp is the worker binary's logic: configuration from the environment, the Temporal
// worker with atomicflow's workflows and activities, logging, metrics and graceful shutdown. It
// lives outside worker/ so end-to-end tests can run a worker in-process.
package workerapp

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/internal/codec"
	"github.com/atomicflow/atomicflow/internal/temporalenv"
	"github.com/atomicflow/atomicflow/lifecycle"
)

// DefaultStopTimeout is how long a stopping worker lets running activities finish by default.
const DefaultStopTimeout = 30 * time.Second

// Config is everything the worker needs. LoadConfig fills it from the environment; tests may set
// the fields directly and pass it to NewWorker.
type Config struct {
	// Temporal is the client configuration (TEMPORAL_* variables and temporal.toml profiles). Run
	// dials with it; NewWorker ignores it.
	Temporal client.Options
	// TaskQueue is polled for workflows and activities; lifecycle.DefaultTaskQueue when empty.
	TaskQueue string
	// BaseURL is the Atomicwork tenant URL.
	BaseURL string
	// DefaultWorkspace serves workflow inputs with workspace id 0; Keys must hold its key.
	DefaultWorkspace int64
	// Keys maps Atomicwork workspace ids to API keys. They are never printed.
	Keys map[int64]string
	// keyVars names the variable each key came from, for the start-up check's messages.
	keyVars map[int64]string
	// APICheckWait bounds how long the start-up check (Preflight) waits for Atomicwork to answer;
	// DefaultAPICheckWait when zero (ATOMICFLOW_API_CHECK_WAIT).
	APICheckWait time.Duration
	// StartWithoutAPI starts the worker with a warning when Atomicwork does not answer the start-up
	// check, instead of exiting (ATOMICFLOW_START_WITHOUT_API=true). A refused key still stops it.
	StartWithoutAPI bool
	// Timeout bounds each Atomicwork HTTP call; the client's default when zero.
	Timeout time.Duration
	// RPS is the Atomicwork API's rate limit for the key, in requests per second (ATOMICWORK_RPS);
	// 0 means not known. Each key's pacer never exceeds it (newClients; without it, the pacer
	// learns the rate from 429s), and the task queue's activity rate (ActivitiesPerSecond), which
	// the Temporal server enforces for every worker of the queue, is its ceiling across workers.
	RPS float64
	// Policy says what a new hire gets by department and title; empty = only what inputs name.
	Policy activities.Policy
	// StopTimeout lets in-flight activities finish on shutdown (worker.Options.WorkerStopTimeout).
	StopTimeout time.Duration
	// LogFormat is "json" or "text"; LogLevel filters the log.
	LogFormat string
	LogLevel  slog.Level
	// MetricsAddr, when set, serves the SDK's and atomicflow's Prometheus metrics on host:port/metrics.
	MetricsAddr string
	// Metrics receives atomicflow's metrics of Atomicwork calls (internal/telemetry). Run sets it
	// to the METRICS_ADDR handler; nil records them nowhere. Workflow and activity metrics go
	// through the Temporal client's handler.
	Metrics client.MetricsHandler
	// Codec encrypts payloads (ATOMICFLOW_CODEC_KEYS or ATOMICFLOW_CODEC_KEYS_FILE); nil = off.
	// Run applies it to the client; tests dial with ClientOptions to do the same.
	Codec *codec.Keyring
}

// String prints the configuration without any key, Atomicwork's or Temporal's.
func (c Config) String() string {
	ws := make([]int64, 0, len(c.Keys))
	for id := range c.Keys {
		ws = append(ws, id)
	}
	slices.Sort(ws)
	return fmt.Sprintf("workerapp.Config{Temporal:%s/%s TaskQueue:%q BaseURL:%q DefaultWorkspace:%d Keys:[REDACTED for workspaces %v] Timeout:%s RPS:%g Policy:%d rule(s) APICheckWait:%s StartWithoutAPI:%t StopTimeout:%s LogFormat:%q LogLevel:%s MetricsAddr:%q Codec:%s}",
		orDefault(c.Temporal.HostPort, client.DefaultHostPort), orDefault(c.Temporal.Namespace, client.DefaultNamespace),
		c.TaskQueue, atomicwork.RedactURL(c.BaseURL), c.DefaultWorkspace, ws, c.Timeout, c.RPS, len(c.Policy.Rules),
		c.APICheckWait, c.StartWithoutAPI, c.StopTimeout, c.LogFormat, c.LogLevel, c.MetricsAddr, c.Codec)
}

// GoString keeps %#v from printing the keys.
func (c Config) GoString() string { return c.String() }

// LoadConfig reads the worker's settings through lookup (os.LookupEnv in main, a map in tests).
// Empty values count as unset. Every problem is reported, each naming its variable and the fix;
// no error ever contains a key.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := loader{lookup: lookup}
	cfg := Config{
		TaskQueue:   l.str("ATOMICFLOW_TASK_QUEUE", lifecycle.DefaultTaskQueue),
		BaseURL:     l.baseURL("ATOMICWORK_BASE_URL"),
		Timeout:     l.duration("ATOMICWORK_TIMEOUT", atomicwork.DefaultTimeout, false),
		StopTimeout: l.duration("ATOMICFLOW_WORKER_STOP_TIMEOUT", DefaultStopTimeout, true),
		LogFormat:   l.oneOf("LOG_FORMAT", "json", "json", "text"),
		LogLevel:    l.level("LOG_LEVEL"),
		MetricsAddr: l.hostPort("METRICS_ADDR"),
		RPS:         l.rate("ATOMICWORK_RPS"),

		APICheckWait:    l.duration("ATOMICFLOW_API_CHECK_WAIT", DefaultAPICheckWait, false),
		StartWithoutAPI: l.boolean("ATOMICFLOW_START_WITHOUT_API"),
	}
	cfg.DefaultWorkspace = l.workspace("ATOMICWORK_WORKSPACE_ID")
	cfg.Keys, cfg.keyVars = l.keys(cfg.DefaultWorkspace)
	if path := l.str("ATOMICFLOW_POLICY_FILE", ""); path != "" {
		p, err := activities.LoadPolicy(path)
		if err != nil {
			l.fail("ATOMICFLOW_POLICY_FILE", "%v: fix the file (format: examples/policy.yaml) or unset the variable", err)
		}
		cfg.Policy = p
	}
	cfg.Codec = l.codec()
	cfg.Temporal = l.temporal()
	if err := l.err(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// ConfigError lists every invalid setting; its message is one line.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "invalid configuration: " + strings.Join(e.Problems, "; ")
}

// loader reads variables and collects problems, so one run reports them all.
type loader struct {
	lookup   func(string) (string, bool)
	problems []string
}

func (l *loader) fail(name, format string, args ...any) {
	// One line per problem, even when a parser's message spans several.
	msg := strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
	l.problems = append(l.problems, name+": "+msg)
}

func (l *loader) err() error {
	if len(l.problems) == 0 {
		return nil
	}
	return &ConfigError{Problems: l.problems}
}

// get returns the trimmed value, "" when unset or blank.
func (l *loader) get(name string) string {
	v, _ := l.lookup(name)
	return strings.TrimSpace(v)
}

func (l *loader) str(name, def string) string {
	if v := l.get(name); v != "" {
		return v
	}
	return def
}

func (l *loader) baseURL(name string) string {
	v := l.get(name)
	if v == "" {
		l.fail(name, "not set: set it to your Atomicwork tenant URL, e.g. https://acme.atomicwork.com (http://127.0.0.1:8090 for awsim)")
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.fail(name, "%q is not an http(s) URL: use e.g. https://acme.atomicwork.com", atomicwork.RedactURL(v))
	}
	return v
}

func (l *loader) workspace(name string) int64 {
	v := l.get(name)
	if v == "" {
		l.fail(name, "not set: set it to the numeric id of the default Atomicwork workspace (GET /api/v1/workspaces; 1 for awsim)")
		return 0
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		l.fail(name, "%q is not a workspace id: use the positive number from GET /api/v1/workspaces", v)
		return 0
	}
	return id
}

// duration parses a Go duration; zero is allowed only when zeroOK.
func (l *loader) duration(name string, def time.Duration, zeroOK bool) time.Duration {
	v := l.get(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || (d == 0 && !zeroOK) {
		l.fail(name, "%q is not a positive Go duration: use e.g. 30s or 2m", v)
		return def
	}
	return d
}

// rate parses a non-negative number of requests per second; unset means 0 (unlimited).
func (l *loader) rate(name string) float64 {
	v := l.get(name)
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		l.fail(name, "%q is not a number of requests per second: use e.g. 200 (the API's limit for the key), or 0 for no limit", v)
		return 0
	}
	return f
}

// boolean parses true or false (also 1/0, yes/no); unset means false.
func (l *loader) boolean(name string) bool {
	switch strings.ToLower(l.get(name)) {
	case "", "false", "0", "no":
		return false
	case "true", "1", "yes":
		return true
	}
	l.fail(name, "%q is not true or false", l.get(name))
	return false
}

func (l *loader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(l.get(name))
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.fail(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
	return def
}

func (l *loader) level(name string) slog.Level {
	switch l.oneOf(name, "info", "debug", "info", "warn", "error") {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (l *loader) hostPort(name string) string {
	v := l.get(name)
	if v == "" {
		return ""
	}
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		l.fail(name, "%q is not host:port: use e.g. :9090 or 127.0.0.1:9090", v)
	}
	return v
}

// keys gathers the Atomicwork keys: ATOMICWORK_API_KEY or ATOMICWORK_API_KEY_FILE for the default
// workspace, and ATOMICWORK_KEYS_FILE for any number of workspaces. vars names where each came from.
func (l *loader) keys(defaultWS int64) (keys map[int64]string, vars map[int64]string) {
	keys, vars = map[int64]string{}, map[int64]string{}
	keysFile := l.get("ATOMICWORK_KEYS_FILE")
	if keysFile != "" {
		m, err := readKeysFile(keysFile)
		if err != nil {
			l.fail("ATOMICWORK_KEYS_FILE", "%v", err)
			return keys, vars
		}
		keys = m
		for ws := range keys {
			vars[ws] = "ATOMICWORK_KEYS_FILE"
		}
	}
	key, ok := l.defaultKey(keysFile != "")
	if !ok || defaultWS <= 0 { // reported already
		return keys, vars
	}
	if key != "" {
		if prev, found := keys[defaultWS]; found && prev != key {
			l.fail("ATOMICWORK_KEYS_FILE", "it gives workspace %d another key than ATOMICWORK_API_KEY(_FILE) does: keep one", defaultWS)
		}
		keys[defaultWS] = key
		vars[defaultWS] = "ATOMICWORK_API_KEY"
		if l.get("ATOMICWORK_API_KEY") == "" {
			vars[defaultWS] = "ATOMICWORK_API_KEY_FILE"
		}
	}
	if _, found := keys[defaultWS]; !found {
		l.fail("ATOMICWORK_KEYS_FILE", "no key for the default workspace %d (ATOMICWORK_WORKSPACE_ID): add it, or set ATOMICWORK_API_KEY", defaultWS)
	}
	return keys, vars
}

// defaultKey reads ATOMICWORK_API_KEY or ATOMICWORK_API_KEY_FILE: exactly one of them, or none
// when a keys file is given. ok is false when a problem was reported.
func (l *loader) defaultKey(haveKeysFile bool) (key string, ok bool) {
	key, keyFile := l.get("ATOMICWORK_API_KEY"), l.get("ATOMICWORK_API_KEY_FILE")
	switch {
	case key != "" && keyFile != "":
		l.fail("ATOMICWORK_API_KEY", "both ATOMICWORK_API_KEY and ATOMICWORK_API_KEY_FILE are set: keep one")
		return "", false
	case key != "":
		return key, true
	case keyFile != "":
		b, err := os.ReadFile(keyFile)
		if err != nil {
			l.fail("ATOMICWORK_API_KEY_FILE", "cannot read the key file: %v", pathError(err))
			return "", false
		}
		if key = strings.TrimSpace(string(b)); key == "" {
			l.fail("ATOMICWORK_API_KEY_FILE", "%s is empty: put the Atomicwork API key in it", keyFile)
			return "", false
		}
		return key, true
	case !haveKeysFile:
		l.fail("ATOMICWORK_API_KEY", "not set: set ATOMICWORK_API_KEY (or ATOMICWORK_API_KEY_FILE, or ATOMICWORK_KEYS_FILE) to an Atomicwork API key (dev-key for awsim)")
		return "", false
	}
	return "", true
}

// temporal loads the Temporal client options as the Temporal CLI does: temporal.toml (profile
// TEMPORAL_PROFILE) overridden by TEMPORAL_* variables.
func (l *loader) temporal() client.Options {
	opts, err := temporalenv.ClientOptions(l.lookup)
	if err != nil {
		l.fail(temporalVariable(err), "%v", err)
	}
	return opts
}

// temporalVariable guesses which setting an envconfig error is about (its errors name none).
func temporalVariable(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "profile"):
		return "TEMPORAL_PROFILE"
	case strings.Contains(msg, "TLS"), strings.Contains(msg, "cert"):
		return "TEMPORAL_TLS_*"
	case strings.Contains(msg, "codec"):
		return "TEMPORAL_CODEC_ENDPOINT"
	}
	return "TEMPORAL_CONFIG_FILE"
}

// readKeysFile parses a YAML or JSON map of workspace id to API key. It walks the YAML nodes
// itself so that no parser message can quote a key.
func readKeysFile(path string) (map[int64]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the keys file: %v", pathError(err))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s is not YAML or JSON: write one line per workspace, like `1: <key>`", path)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s is not a map of workspace id to key: write one line per workspace, like `1: <key>`", path)
	}
	m := doc.Content[0].Content
	keys := make(map[int64]string, len(m)/2)
	for i := 0; i+1 < len(m); i += 2 {
		k, v := m[i], m[i+1]
		id, err := strconv.ParseInt(k.Value, 10, 64)
		if k.Kind != yaml.ScalarNode || err != nil || id <= 0 {
			// Not quoted: a swapped line would put a key there.
			return nil, fmt.Errorf("%s line %d: the entry does not start with a workspace id: write `<positive workspace id>: <key>`", path, k.Line)
		}
		if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
			return nil, fmt.Errorf("%s line %d: workspace %d has no key: give it a string", path, k.Line, id)
		}
		if _, dup := keys[id]; dup {
			return nil, fmt.Errorf("%s line %d: workspace %d is listed twice: keep one", path, k.Line, id)
		}
		keys[id] = strings.TrimSpace(v.Value)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s lists no workspace: write one line per workspace, like `1: <key>`", path)
	}
	return keys, nil
}

// pathError drops the operation from an *os.PathError, keeping the path and the cause.
func pathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
