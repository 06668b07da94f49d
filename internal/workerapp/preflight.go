package workerapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/atomicflow/atomicflow/activities"
	"github.com/atomicflow/atomicflow/atomicwork"
	"github.com/atomicflow/atomicflow/internal/telemetry"
)

// DefaultAPICheckWait bounds how long the start-up check waits for Atomicwork to answer.
const DefaultAPICheckWait = 20 * time.Second

// The start-up check retries an unanswered call after these pauses, doubling up to the maximum.
const (
	checkFirstPause = 250 * time.Millisecond
	checkMaxPause   = 2 * time.Second
)

// Preflight checks, before the worker polls, what would otherwise fail every run: each
// workspace key with one workspace read (a 401 or 403 is a *ConfigError naming the workspace
// and the variable that holds its key), and the policy's entitlement and asset-type names,
// which get a warning each when Atomicwork does not know them. When Atomicwork does not answer
// within cfg.APICheckWait it is a *ConfigError too, unless cfg.StartWithoutAPI, which only
// logs a warning. It returns ctx's error when ctx ends first.
func Preflight(ctx context.Context, cfg Config, logger *slog.Logger) error {
	wait := cfg.APICheckWait
	if wait <= 0 {
		wait = DefaultAPICheckWait
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	transport := telemetry.NewTransport(nil, cfg.Metrics)

	var problems []string
	var unanswered error
	var policyClient *atomicwork.Client
	for _, ws := range sortedWorkspaces(cfg.Keys) {
		c, err := atomicwork.New(atomicwork.Config{BaseURL: cfg.BaseURL, APIKey: cfg.Keys[ws], WorkspaceID: ws,
			Timeout: cfg.Timeout, Transport: transport})
		if err != nil {
			return err
		}
		err = retrying(wctx, func(ctx context.Context) error {
			_, err := c.GetWorkspace(ctx, ws)
			return err
		})
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err == nil:
			if ws == cfg.DefaultWorkspace {
				policyClient = c
			}
		case atomicwork.Classify(err) == atomicwork.Permanent:
			problems = append(problems, keyProblem(cfg, ws, err))
		default:
			unanswered = err
		}
	}
	if len(problems) > 0 {
		return &ConfigError{Problems: problems}
	}
	if unanswered != nil {
		if !cfg.StartWithoutAPI {
			return &ConfigError{Problems: []string{fmt.Sprintf("ATOMICWORK_BASE_URL: Atomicwork at %s did not answer within %s (%v): "+
				"check the URL and the network, or set ATOMICFLOW_START_WITHOUT_API=true to start anyway", atomicwork.RedactURL(cfg.BaseURL), wait, unanswered)}}
		}
		logger.Warn("Atomicwork did not answer; starting anyway (ATOMICFLOW_START_WITHOUT_API=true): runs retry until it does, keys and policy names are unchecked",
			"BaseURL", atomicwork.RedactURL(cfg.BaseURL), "Waited", wait.String(), "Error", unanswered.Error())
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, wait) // the key checks may have used up wctx
	defer cancel()
	checkPolicy(pctx, policyClient, cfg.Policy, logger)
	logger.Info("Atomicwork keys checked", "BaseURL", atomicwork.RedactURL(cfg.BaseURL), "Workspaces", fmt.Sprint(sortedWorkspaces(cfg.Keys)))
	return nil
}

// keyProblem says what is wrong with a workspace's key and which variable holds it; never the key.
func keyProblem(cfg Config, ws int64, err error) string {
	variable := cfg.keyVars[ws]
	if variable == "" {
		variable = "ATOMICWORK_API_KEY, ATOMICWORK_API_KEY_FILE or ATOMICWORK_KEYS_FILE"
	}
	switch atomicwork.StatusOf(err) {
	case http.StatusUnauthorized:
		return fmt.Sprintf("%s: Atomicwork at %s refused the key of workspace %d (HTTP 401): the key is wrong, revoked or rotated: "+
			"put the workspace's current key (Settings → Integrations → API Keys) in %s", variable, atomicwork.RedactURL(cfg.BaseURL), ws, variable)
	case http.StatusForbidden:
		return fmt.Sprintf("%s: the key of workspace %d may not access workspace %d (HTTP 403): "+
			"give each workspace its own key in %s, or fix ATOMICWORK_WORKSPACE_ID", variable, ws, ws, variable)
	case http.StatusNotFound:
		return fmt.Sprintf("%s: Atomicwork at %s has no workspace %d (HTTP 404): use an id from GET /api/v1/workspaces, "+
			"or check ATOMICWORK_BASE_URL", variable, atomicwork.RedactURL(cfg.BaseURL), ws)
	}
	return fmt.Sprintf("%s: reading workspace %d with its key failed: %v", variable, ws, err)
}

// retrying calls f until it succeeds, fails permanently or ctx ends, pausing between attempts.
func retrying(ctx context.Context, f func(context.Context) error) error {
	pause := checkFirstPause
	for {
		err := f(ctx)
		if err == nil || atomicwork.Classify(err) == atomicwork.Permanent {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause = min(2*pause, checkMaxPause)
	}
}

// policyUse is one name of the policy and the places that name it.
type policyUse struct {
	name  string
	rules []string
}

// checkPolicy warns about every entitlement and asset-type name Atomicwork does not know (once
// per name, with the rules that use it), and about a policy that gives nothing. It never stops
// the worker: a run that needs an unknown name fails with UNKNOWN_NAME and says which.
func checkPolicy(ctx context.Context, c *atomicwork.Client, p activities.Policy, logger *slog.Logger) {
	entitlements, assetTypes := policyNames(p)
	if len(entitlements) == 0 && len(assetTypes) == 0 {
		logger.Warn("The provisioning policy is empty: hires get only the entitlements and asset types their onboarding names; " +
			"set ATOMICFLOW_POLICY_FILE (format: examples/policy.yaml)")
		return
	}
	if c == nil { // the default workspace had no key to check with; LoadConfig makes that impossible
		return
	}
	for _, u := range entitlements {
		err := retrying(ctx, func(ctx context.Context) error { return entitlementKnown(ctx, c, u.name) })
		warnUnknown(logger, "entitlement", u, err)
	}
	for _, u := range assetTypes {
		err := retrying(ctx, func(ctx context.Context) error {
			_, err := c.AssetTypeID(ctx, u.name)
			return err
		})
		warnUnknown(logger, "asset type", u, err)
	}
}

func warnUnknown(logger *slog.Logger, kind string, u policyUse, err error) {
	var nf *atomicwork.NotFoundError
	switch {
	case err == nil:
	case errors.As(err, &nf):
		logger.Warn(fmt.Sprintf("The policy names an unknown %s: onboardings that need it fail with UNKNOWN_NAME; "+
			"fix the name in ATOMICFLOW_POLICY_FILE or create it in Atomicwork", kind),
			"Name", u.name, "In", strings.Join(u.rules, "; "), "Problem", nf.Error())
	default:
		logger.Warn(fmt.Sprintf("Could not check a policy %s name", kind), "Name", u.name, "Error", err.Error())
	}
}

// entitlementKnown finds a published entitlement named name, as onboarding looks it up.
func entitlementKnown(ctx context.Context, c *atomicwork.Client, name string) error {
	for e, err := range c.ListEntitlements(ctx, atomicwork.EntitlementListOptions{SearchKey: name}) {
		if err != nil {
			return err
		}
		if strings.EqualFold(e.Name, name) && e.Status == "PUBLISHED" {
			return nil
		}
	}
	return &atomicwork.NotFoundError{Kind: "published entitlement", Name: name}
}

// policyNames lists the policy's entitlement and asset-type names in first-use order, each with
// the places that name it ("defaults", "rule 2 (department Engineering)").
func policyNames(p activities.Policy) (entitlements, assetTypes []policyUse) {
	add := func(list []policyUse, names []string, where string) []policyUse {
		for _, n := range names {
			i := slices.IndexFunc(list, func(u policyUse) bool { return strings.EqualFold(u.name, n) })
			if i < 0 {
				list = append(list, policyUse{name: n})
				i = len(list) - 1
			}
			list[i].rules = append(list[i].rules, where)
		}
		return list
	}
	entitlements = add(entitlements, p.Defaults.Entitlements, "defaults")
	assetTypes = add(assetTypes, p.Defaults.AssetTypes, "defaults")
	for i, r := range p.Rules {
		where := ruleName(i, r)
		entitlements = add(entitlements, r.Provision.Entitlements, where)
		assetTypes = add(assetTypes, r.Provision.AssetTypes, where)
	}
	return entitlements, assetTypes
}

func ruleName(i int, r activities.Rule) string {
	var match []string
	if r.Department != "" {
		match = append(match, "department "+r.Department)
	}
	if r.Title != "" {
		match = append(match, "title "+r.Title)
	}
	return fmt.Sprintf("rule %d (%s)", i+1, strings.Join(match, ", "))
}

func sortedWorkspaces(keys map[int64]string) []int64 {
	ws := make([]int64, 0, len(keys))
	for id := range keys {
		ws = append(ws, id)
	}
	slices.Sort(ws)
	return ws
}
