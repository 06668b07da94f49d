package activities

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Policy maps departments and titles to what a new hire gets. It is loaded once by the worker
// (ATOMICFLOW_POLICY_FILE); examples/policy.yaml documents the format.
type Policy struct {
	// Defaults apply to everyone.
	Defaults Provision `yaml:"defaults"`
	// Rules add to the defaults when every field they set matches (case-insensitive).
	Rules []Rule `yaml:"rules"`
}

// Rule matches a department and/or a title.
type Rule struct {
	Department string    `yaml:"department"`
	Title      string    `yaml:"title"`
	Provision  Provision `yaml:",inline"`
}

// Provision lists entitlements (by name) and asset types (by name).
type Provision struct {
	Entitlements []string `yaml:"entitlements"`
	AssetTypes   []string `yaml:"asset_types"`
}

// LoadPolicy reads and checks a policy file.
func LoadPolicy(path string) (Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Policy{}, fmt.Errorf("policy file: %w", err)
	}
	return ParsePolicy(b)
}

// ParsePolicy parses policy YAML, rejecting unknown keys and rules that match everyone.
func ParsePolicy(b []byte) (Policy, error) {
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) { // an empty file is an empty policy
		return Policy{}, fmt.Errorf("policy file: %w", err)
	}
	for i, r := range p.Rules {
		if strings.TrimSpace(r.Department) == "" && strings.TrimSpace(r.Title) == "" {
			return Policy{}, fmt.Errorf("policy file: rule %d sets neither department nor title: put what everyone gets under defaults", i+1)
		}
	}
	return p, nil
}

// Resolve returns what a hire of this department and title gets: the defaults plus every
// matching rule, without duplicates, in file order.
func (p Policy) Resolve(department, title string) Provision {
	out := Provision{}
	add := func(pr Provision) {
		out.Entitlements = appendNew(out.Entitlements, pr.Entitlements...)
		out.AssetTypes = appendNew(out.AssetTypes, pr.AssetTypes...)
	}
	add(p.Defaults)
	for _, r := range p.Rules {
		if matches(r.Department, department) && matches(r.Title, title) {
			add(r.Provision)
		}
	}
	return out
}

func matches(want, got string) bool {
	return strings.TrimSpace(want) == "" || strings.EqualFold(strings.TrimSpace(want), strings.TrimSpace(got))
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it != "" && !slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, it) }) {
			list = append(list, it)
		}
	}
	return list
}
