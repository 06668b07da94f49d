package telemetry

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestExamplePrometheusConfig checks deploy/prometheus.yml: it parses, scrapes /metrics, and finds
// the workers of docker-compose.yml by service name on the port of their METRICS_ADDR.
func TestExamplePrometheusConfig(t *testing.T) {
	root := filepath.Join("..", "..")
	b, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus.yml"))
	require.NoError(t, err)
	var cfg struct {
		ScrapeConfigs []struct {
			JobName     string `yaml:"job_name"`
			MetricsPath string `yaml:"metrics_path"`
			DNSSD       []struct {
				Names []string `yaml:"names"`
				Type  string   `yaml:"type"`
				Port  int      `yaml:"port"`
			} `yaml:"dns_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	require.NoError(t, yaml.Unmarshal(b, &cfg))
	require.NotEmpty(t, cfg.ScrapeConfigs)
	job := cfg.ScrapeConfigs[0]
	assert.Equal(t, "atomicflow-worker", job.JobName)
	assert.Equal(t, "/metrics", job.MetricsPath, "workerapp serves /metrics")
	require.Len(t, job.DNSSD, 1)
	sd := job.DNSSD[0]
	assert.Equal(t, "A", sd.Type)

	b, err = os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	require.NoError(t, err)
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(b, &compose))
	require.Len(t, sd.Names, 1)
	worker, ok := compose.Services[sd.Names[0]]
	require.True(t, ok, "docker-compose.yml has no service %q to scrape", sd.Names[0])
	_, port, err := net.SplitHostPort(worker.Environment["METRICS_ADDR"])
	require.NoError(t, err, "the %s service sets METRICS_ADDR", sd.Names[0])
	assert.Equal(t, port, strconv.Itoa(sd.Port), "prometheus.yml scrapes the port of the workers' METRICS_ADDR")
}
