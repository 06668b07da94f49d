package deploy

// These tests check docker-compose.yml, the Dockerfile and the env-file templates with no Docker
// engine: what can be read from the files themselves. Whether the images pull, the stack starts
// and the services become healthy is not verified here (README.md, "Run in production").

import (
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"fmt"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/atomicflow/atomicflow/internal/serverconfig"
)

const (
	module      = "github.com/atomicflow/atomicflow"
	ourImage    = "atomicflow:local"
	composePath = "../docker-compose.yml"
)

type compose struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string                `yaml:"image"`
	Build       any                   `yaml:"build"`
	Command     []string              `yaml:"command"`
	Entrypoint  []string              `yaml:"entrypoint"`
	Environment map[string]string     `yaml:"environment"`
	EnvFile     []string              `yaml:"env_file"`
	Ports       []string              `yaml:"ports"`
	Volumes     []string              `yaml:"volumes"`
	Profiles    []string              `yaml:"profiles"`
	Healthcheck *healthcheck          `yaml:"healthcheck"`
	DependsOn   map[string]dependency `yaml:"depends_on"`
	Deploy      struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
	Restart string `yaml:"restart"`
}

type healthcheck struct {
	Test []string `yaml:"test"`
}

type dependency struct {
	Condition string `yaml:"condition"`
	Required  *bool  `yaml:"required"`
}

func load(t *testing.T) compose {
	t.Helper()
	b, err := os.ReadFile(composePath)
	require.NoError(t, err)
	var c compose
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(false)
	require.NoError(t, dec.Decode(&c), "docker-compose.yml must parse (depends_on, env_file and command in their list/map forms)")
	require.NotEmpty(t, c.Services)
	return c
}

// oneShot lists the services others wait for with service_completed_successfully.
func oneShot(c compose) map[string]bool {
	out := map[string]bool{}
	for _, s := range c.Services {
		for name, d := range s.DependsOn {
			if d.Condition == "service_completed_successfully" {
				out[name] = true
			}
		}
	}
	return out
}

func TestComposeServices(t *testing.T) {
	c := load(t)
	for _, name := range []string{"postgresql", "temporal-schema", "temporal", "temporal-namespace", "temporal-ui",
		"search-attributes", "worker", "listen", "codec-server", "awsim"} {
		assert.Contains(t, c.Services, name)
	}
	for name, s := range c.Services {
		if s.Image == ourImage {
			require.NotEmpty(t, s.Command, "%s: our image runs the binary the command names", name)
		}
	}

	// Scaling out is adding workers.
	assert.GreaterOrEqual(t, c.Services["worker"].Deploy.Replicas, 2, "worker replicas")
	assert.Empty(t, c.Services["worker"].Ports, "replicas cannot share a published port")
	assert.Equal(t, []string{"/usr/local/bin/worker"}, c.Services["worker"].Command)

	// The simulator only with --profile sim, and nothing requires it otherwise.
	assert.Equal(t, []string{"sim"}, c.Services["awsim"].Profiles)
	for name, s := range c.Services {
		if d, ok := s.DependsOn["awsim"]; ok && len(s.Profiles) == 0 {
			require.NotNil(t, d.Required, "%s depends on awsim, which runs only with --profile sim: set required: false", name)
			assert.False(t, *d.Required, name)
		}
	}

	// The one-shot jobs: the schema, the namespace, and our search attributes from the contract.
	assert.Equal(t, []string{"/usr/local/bin/starter", "register-search-attributes"}, c.Services["search-attributes"].Command)
	assert.True(t, oneShot(c)["temporal-schema"])
	assert.True(t, oneShot(c)["temporal-namespace"])
	assert.True(t, oneShot(c)["search-attributes"])
	assert.Equal(t, []string{"/usr/local/bin/starter", "listen", "--addr", "0.0.0.0:8089"}, c.Services["listen"].Command)
}

// TestTemporalDynamicConfig: the production server mounts deploy/temporal/dynamicconfig.yaml,
// which has every setting the dev servers run with (internal/serverconfig) and one partition for
// the task queue the workers poll.
func TestTemporalDynamicConfig(t *testing.T) {
	c := load(t)
	temporal := c.Services["temporal"]
	target := temporal.Environment["DYNAMIC_CONFIG_FILE_PATH"]
	require.NotEmpty(t, target, "the temporal service names its dynamic config file")
	mounted := ""
	for _, v := range temporal.Volumes {
		if src, dst, ok := strings.Cut(strings.TrimSuffix(v, ":ro"), ":"); ok && dst == target {
			mounted = src
		}
	}
	require.Equal(t, "./deploy/temporal/dynamicconfig.yaml", mounted, "the file at DYNAMIC_CONFIG_FILE_PATH")

	type value struct {
		Value       any               `yaml:"value"`
		Constraints map[string]string `yaml:"constraints"`
	}
	var dc map[string][]value
	b, err := os.ReadFile(filepath.Join("..", mounted))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &dc))
	for _, s := range serverconfig.Settings {
		require.Len(t, dc[s.Key], 1, s.Key)
		assert.Equal(t, s.Value, fmt.Sprint(dc[s.Key][0].Value), s.Key)
		assert.Empty(t, dc[s.Key][0].Constraints, "%s applies to the whole server, as on the dev server", s.Key)
	}
	queue := c.Services["worker"].Environment["ATOMICFLOW_TASK_QUEUE"]
	require.NotEmpty(t, queue)
	for _, key := range []string{"matching.numTaskqueueReadPartitions", "matching.numTaskqueueWritePartitions"} {
		require.Len(t, dc[key], 1, key)
		assert.Equal(t, 1, dc[key][0].Value, key)
		assert.Equal(t, map[string]string{"taskQueueName": queue}, dc[key][0].Constraints, key)
	}
}

var imageRef = regexp.MustCompile(`^([a-z0-9][a-z0-9._/-]*)(?::([A-Za-z0-9._-]+))?(@sha256:[0-9a-f]{64})?$`)

func TestComposeImagesArePinned(t *testing.T) {
	c := load(t)
	want := map[string]string{
		"temporal":           "temporalio/server:1.29.1",
		"temporal-schema":    "temporalio/admin-tools:1.29.1-",
		"temporal-namespace": "temporalio/admin-tools:1.29.1-",
		"temporal-ui":        "temporalio/ui:2.42.",
		"postgresql":         "postgres:",
	}
	for name, prefix := range want {
		assert.True(t, strings.HasPrefix(c.Services[name].Image, prefix), "%s runs %q, want %s…", name, c.Services[name].Image, prefix)
	}
	for name, s := range c.Services {
		require.NotEmpty(t, s.Image, "%s: every service names its image", name)
		m := imageRef.FindStringSubmatch(s.Image)
		require.NotNil(t, m, "%s: %q is not an image reference", name, s.Image)
		tag := m[2]
		assert.NotEmpty(t, tag, "%s: %s has no tag", name, s.Image)
		assert.NotEqual(t, "latest", tag, "%s: %s", name, s.Image)
		if s.Image == ourImage {
			assert.NotNil(t, s.Build, "%s: our image is built from the Dockerfile", name)
			continue
		}
		assert.Nil(t, s.Build, "%s: third-party images are pulled, not built", name)
		// A floating major tag (postgres:16) moves under us: pin at least major.minor.
		assert.Regexp(t, `^\d+\.\d+`, tag, "%s: %s is not pinned to a version", name, s.Image)
	}
}

func TestComposeHealthchecksAndStartOrder(t *testing.T) {
	c := load(t)
	jobs := oneShot(c)
	for name, s := range c.Services {
		if jobs[name] {
			assert.Nil(t, s.Healthcheck, "%s is a one-shot job: others wait for it to complete", name)
			assert.True(t, strings.HasPrefix(s.Restart, "on-failure"), "%s: a one-shot job retries a few times, then stops (restart: on-failure:N)", name)
			continue
		}
		require.NotNil(t, s.Healthcheck, "%s runs for good: it needs a healthcheck", name)
		require.NotEmpty(t, s.Healthcheck.Test, name)
		assert.Contains(t, []string{"CMD", "CMD-SHELL"}, s.Healthcheck.Test[0], name)
		assert.Equal(t, "unless-stopped", s.Restart, name)
		if s.Image == ourImage {
			// The image has no shell or curl: our own probe, against the service's own port.
			assert.Equal(t, []string{"CMD", "/usr/local/bin/starter", "healthcheck"}, s.Healthcheck.Test[:3], name)
		}
	}
	for name, s := range c.Services {
		for dep, d := range s.DependsOn {
			target, ok := c.Services[dep]
			require.True(t, ok, "%s depends on unknown service %s", name, dep)
			switch d.Condition {
			case "service_healthy":
				assert.NotNil(t, target.Healthcheck, "%s waits for %s to be healthy, which has no healthcheck", name, dep)
			case "service_completed_successfully":
				assert.True(t, jobs[dep], dep)
			default:
				t.Errorf("%s depends on %s with condition %q: use service_healthy or service_completed_successfully", name, dep, d.Condition)
			}
		}
	}
	// The order that matters: database, schema, server, namespace, search attributes, then ours.
	chain := [][2]string{{"temporal-schema", "postgresql"}, {"temporal", "temporal-schema"}, {"temporal-namespace", "temporal"},
		{"search-attributes", "temporal-namespace"}, {"worker", "search-attributes"}, {"listen", "search-attributes"},
		{"temporal-ui", "temporal"}, {"temporal-ui", "codec-server"}}
	for _, pair := range chain {
		assert.Contains(t, c.Services[pair[0]].DependsOn, pair[1], "%s must wait for %s", pair[0], pair[1])
	}
}

// TestComposeUIUsesTheCodecServer: the UI's codec endpoint is the codec server's published
// address, and the codec server allows the UI's published origin.
func TestComposeUIUsesTheCodecServer(t *testing.T) {
	c := load(t)
	ui, cs := c.Services["temporal-ui"], c.Services["codec-server"]
	uiOrigin := "http://localhost:" + publishedPort(t, ui.Ports, "8080")
	codecURL := "http://localhost:" + publishedPort(t, cs.Ports, "8081")
	assert.Equal(t, codecURL, ui.Environment["TEMPORAL_CODEC_ENDPOINT"])
	assert.Equal(t, "true", ui.Environment["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"], "the browser sends the codec server's session cookie")
	i := slices.Index(cs.Command, "--ui-origin")
	require.GreaterOrEqual(t, i, 0, "codec-server needs --ui-origin")
	assert.Equal(t, uiOrigin, cs.Command[i+1])
	assert.Equal(t, []string{"/usr/local/bin/starter", "codec-server"}, cs.Command[:2])
	assert.Contains(t, cs.EnvFile, "deploy/codec.env")
	assert.Contains(t, c.Services["worker"].EnvFile, "deploy/codec.env", "the worker encrypts with the same keys")
	assert.Contains(t, c.Services["listen"].EnvFile, "deploy/codec.env", "the HR receiver starts workflows with encrypted inputs")
}

func publishedPort(t *testing.T, ports []string, container string) string {
	t.Helper()
	for _, p := range ports {
		parts := strings.Split(p, ":")
		if parts[len(parts)-1] == container {
			require.GreaterOrEqual(t, len(parts), 2, "%s publishes no host port", p)
			return parts[len(parts)-2]
		}
	}
	t.Fatalf("port %s is not published (%v)", container, ports)
	return ""
}

// envNames lists the variables set by an env-file template: KEY=... lines, commented out or not.
func envNames(t *testing.T, file string) []string {
	t.Helper()
	template, err := os.ReadFile(file)
	require.NoError(t, err, "%s: every env_file has a committed template", file)
	var names []string
	assign := regexp.MustCompile(`^#?([A-Z][A-Z0-9_]*)=`)
	for line := range strings.Lines(string(template)) {
		if m := assign.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			names = append(names, m[1])
		}
	}
	return names
}

// envLiteral matches an environment-variable name in Go source: how our binaries name what they read.
// A name ending in "_" is a prefix (envconfig's TEMPORAL_GRPC_META_<NAME>).
var envLiteral = regexp.MustCompile(`"((?:ATOMICFLOW|ATOMICWORK|TEMPORAL|LOG|METRICS)_[A-Z0-9_]*|GOGC|GOMEMLIMIT)"`)

// reads tells whether a binary's variable set covers name, directly or by a prefix.
func reads(set map[string]bool, name string) bool {
	if set[name] {
		return true
	}
	for v := range set {
		if strings.HasSuffix(v, "_") && strings.HasPrefix(name, v) {
			return true
		}
	}
	return false
}

// readBy returns the variables a binary can read: the names quoted in the non-test sources of the
// packages it links (ours and envconfig, which reads TEMPORAL_*), found with `go list -deps`.
func readBy(t *testing.T, binary string) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath,Dir,GoFiles", "../"+binary).Output()
	require.NoError(t, err, "go list -deps ./%s", binary)
	names := map[string]bool{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Dir        string
			GoFiles    []string
		}
		require.NoError(t, dec.Decode(&p))
		if !strings.HasPrefix(p.ImportPath, module) && p.ImportPath != "go.temporal.io/sdk/contrib/envconfig" {
			continue
		}
		for _, f := range p.GoFiles {
			src, err := os.ReadFile(filepath.Join(p.Dir, f))
			require.NoError(t, err)
			for _, m := range envLiteral.FindAllStringSubmatch(string(src), -1) {
				names[m[1]] = true
			}
		}
	}
	return names
}

// TestComposeEnvironmentIsReadByTheBinary: every variable given to one of our services is one its
// binary reads, so a typo or a stale name cannot silently do nothing.
func TestComposeEnvironmentIsReadByTheBinary(t *testing.T) {
	c := load(t)
	sets := map[string]map[string]bool{}
	for _, b := range []string{"worker", "starter", "awsim"} {
		sets[b] = readBy(t, b)
	}
	require.True(t, reads(sets["worker"], "ATOMICWORK_API_KEY"), "the scan finds what the worker reads")
	require.True(t, reads(sets["worker"], "ATOMICFLOW_CODEC_KEYS"))
	require.True(t, reads(sets["worker"], "TEMPORAL_ADDRESS"), "envconfig's variables count")
	require.True(t, reads(sets["starter"], "TEMPORAL_GRPC_META_X_TEAM"), "and its prefixes")
	require.True(t, reads(sets["starter"], "ATOMICFLOW_HR_SECRETS"))
	require.False(t, reads(sets["starter"], "ATOMICWORK_API_KEY"), "the starter never reads Atomicwork keys")

	for name, s := range c.Services {
		if s.Image != ourImage {
			continue
		}
		binary := path.Base(s.Command[0])
		set, ok := sets[binary]
		require.True(t, ok, "%s runs %s, which is not one of our binaries", name, s.Command[0])
		given := slices.Collect(mapKeys(s.Environment))
		for _, f := range s.EnvFile {
			given = append(given, envNames(t, "../"+f+".example")...)
		}
		for _, v := range given {
			assert.True(t, reads(set, v), "%s gives %s to %s, which never reads it", name, v, binary)
		}
	}

	// .env.example (local runs) lists only variables the worker or the starter reads.
	for _, v := range envNames(t, "../.env.example") {
		assert.True(t, reads(sets["worker"], v) || reads(sets["starter"], v), ".env.example lists %s, which no binary reads", v)
	}
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

var (
	secretName = regexp.MustCompile(`(?i)(KEY|TOKEN|SECRET|PASSWORD|PWD|AUTH|CREDENTIAL)`)
	// Runs of base64 or hex characters, candidates for keys and tokens (an image digest is no secret).
	secretRun = regexp.MustCompile(`(?:sha256:)?[A-Za-z0-9+/=]{20,}`)
	hexRun    = regexp.MustCompile(`^[0-9a-fA-F]{32,}$`)
	digit     = regexp.MustCompile(`[0-9]`)
	letter    = regexp.MustCompile(`[A-Za-z]`)
	upper     = regexp.MustCompile(`[A-Z]`)
)

// looksSecret tells whether s holds what keys and tokens look like: a long hex run, or a long
// base64 run mixing digits, letters and upper case. Paths, names and versions do not.
func looksSecret(s string) bool {
	for _, run := range secretRun.FindAllString(s, -1) {
		if strings.HasPrefix(run, "sha256:") {
			continue
		}
		if hexRun.MatchString(run) || (len(digit.FindAllString(run, 3)) == 3 && len(letter.FindAllString(run, 3)) == 3 && upper.MatchString(run)) {
			return true
		}
	}
	return false
}

func TestLooksSecret(t *testing.T) {
	for _, s := range []string{
		"2026-11:q3J8xY0mZ9kP1vN4tR6wL2sD8fH5jB7cA0eG3iK6mO9=",             // openssl rand -base64 32
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", // openssl rand -hex 32
		"ATOMICWORK_API_KEY=aw_live_4Fz9QpL2mX8rT1vB7nK3",
	} {
		assert.True(t, looksSecret(s), s)
	}
	for _, s := range []string{
		`temporal-sql-tool --db "$$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$$dir/versioned"`,
		"TEMPORAL_CODEC_INCLUDE_CREDENTIALS", "temporalio/admin-tools:1.29.1-tctl-1.18.4-cli-1.5.0",
		"http://localhost:8233", "/usr/local/bin/starter", "dev-key",
		"image@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	} {
		assert.False(t, looksSecret(s), s)
	}
}

// TestNoSecretsInTheRepository: no secret-looking value in docker-compose.yml or the env-file
// templates; the real env files are git-ignored.
func TestNoSecretsInTheRepository(t *testing.T) {
	c := load(t)
	for name, s := range c.Services {
		for k, v := range s.Environment {
			if secretName.MatchString(k) && !strings.HasSuffix(k, "_FILE") && k != "TEMPORAL_CODEC_INCLUDE_CREDENTIALS" {
				t.Errorf("%s: %s is set in docker-compose.yml; secrets belong in a git-ignored env file", name, k)
			}
			assert.False(t, looksSecret(v), "%s: %s looks like a secret", name, k)
		}
	}
	raw, err := os.ReadFile(composePath)
	require.NoError(t, err)
	for i, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		assert.False(t, looksSecret(line), "docker-compose.yml line %d looks like it holds a secret: %s", i+1, line)
	}

	ignored := gitignorePatterns(t)
	files := map[string]bool{}
	for _, s := range c.Services {
		for _, f := range s.EnvFile {
			files[f] = true
		}
	}
	require.NotEmpty(t, files)
	for f := range files {
		assert.True(t, slices.ContainsFunc(ignored, func(p string) bool { ok, _ := path.Match(p, f); return ok }),
			"%s must be git-ignored (it holds secrets)", f)
		tmpl := "../" + f + ".example"
		b, err := os.ReadFile(tmpl)
		require.NoError(t, err, "%s needs a committed template %s", f, tmpl)
		for i, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if !ok || strings.HasPrefix(k, "#") {
				continue
			}
			if secretName.MatchString(k) && !strings.HasSuffix(k, "_FILE") {
				assert.Empty(t, v, "%s line %d: %s must be empty in the template", tmpl, i+1, k)
			}
			assert.False(t, looksSecret(v), "%s line %d looks like it holds a secret", tmpl, i+1)
		}
	}
	di, err := os.ReadFile("../.dockerignore")
	require.NoError(t, err, "a .dockerignore keeps env files out of the build context")
	for _, p := range []string{".env", "deploy/*.env", ".git"} {
		assert.Contains(t, strings.Split(string(di), "\n"), p)
	}
}

// gitignorePatterns returns .gitignore's patterns, anchored ones without their leading slash.
func gitignorePatterns(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../.gitignore")
	require.NoError(t, err)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, strings.TrimPrefix(l, "/"))
		}
	}
	return out
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	require.NoError(t, err)
	type stage struct {
		from  string
		lines []string
	}
	var stages []stage
	cont := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cont += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line, cont = cont+line, ""
		fields := strings.Fields(line)
		if strings.EqualFold(fields[0], "FROM") {
			stages = append(stages, stage{from: fields[1]})
			continue
		}
		require.NotEmpty(t, stages, "an instruction before FROM: %s", line)
		stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, line)
	}
	require.GreaterOrEqual(t, len(stages), 2, "multi-stage: a build stage and a small runtime stage")

	build := stages[0]
	assert.True(t, strings.HasPrefix(build.from, "golang:1.26"), "the builder is Go 1.26, got %s", build.from)
	var goBuild string
	for _, l := range build.lines {
		if strings.Contains(l, "go build") {
			goBuild = l
		}
	}
	require.NotEmpty(t, goBuild, "the build stage runs go build")
	assert.Contains(t, goBuild, "CGO_ENABLED=0", "static binaries")
	for _, pkg := range []string{"./worker", "./starter", "./awsim"} {
		assert.Contains(t, strings.Fields(goBuild), pkg)
	}

	runtime := stages[len(stages)-1]
	assert.Regexp(t, `^(gcr\.io/distroless/static[^:]*:nonroot|alpine:\d+\.\d+)`, runtime.from)
	var user string
	for _, l := range runtime.lines {
		f := strings.Fields(l)
		switch strings.ToUpper(f[0]) {
		case "USER":
			user = f[1]
		case "ENV", "ARG":
			assert.NotRegexp(t, secretName, l, "no secret is baked into the image")
		case "COPY", "ADD":
			assert.NotContains(t, l, ".env", "no env file is copied into the image")
		}
	}
	require.NotEmpty(t, user, "the runtime stage sets USER")
	name, _, _ := strings.Cut(user, ":")
	assert.NotContains(t, []string{"root", "0"}, name, "the runtime runs as a non-root user")
	if uid, err := strconv.Atoi(name); err == nil {
		assert.Positive(t, uid)
	}
	for _, bin := range []string{"worker", "starter", "awsim"} {
		assert.True(t, slices.ContainsFunc(runtime.lines, func(l string) bool {
			return strings.HasPrefix(l, "COPY --from=") && strings.Contains(l, "/"+bin)
		}), "the runtime image holds %s", bin)
	}
}
