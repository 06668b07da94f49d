package lifecycle

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A reassignment's input: normalisation, validation and batch ids (plain functions, tested
// without Temporal).

var batchIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidBatchID reports whether id may name a batch (and so its workflow id).
func ValidBatchID(id string) bool { return batchIDPattern.MatchString(id) }

// Normalized trims emails and names, writes statuses the API's way, sorts and dedupes the ids.
func (in ReassignmentInput) Normalized() ReassignmentInput {
	in.BatchID = strings.TrimSpace(in.BatchID)
	in.Selector.AssigneeEmail = strings.TrimSpace(in.Selector.AssigneeEmail)
	in.Selector.AssetType = strings.TrimSpace(in.Selector.AssetType)
	in.Target.AssigneeEmail = strings.TrimSpace(in.Target.AssigneeEmail)
	if in.Selector.Status != "" {
		in.Selector.Status = NormalizeAssetStatus(in.Selector.Status)
	}
	if in.SetStatus != "" {
		in.SetStatus = NormalizeAssetStatus(in.SetStatus)
	}
	if len(in.Selector.AssetIDs) > 0 {
		ids := slices.Clone(in.Selector.AssetIDs)
		slices.Sort(ids)
		in.Selector.AssetIDs = slices.Compact(ids)
	}
	return in
}

// Validate checks a normalised input before anything is read or written; its error names each
// problem and the fix.
func (in ReassignmentInput) Validate() error {
	var problems []string
	if !ValidBatchID(in.BatchID) {
		problems = append(problems, fmt.Sprintf("batch id %q must be 1 to 64 letters, digits, '.', '_' or '-' (no emails or names)", in.BatchID))
	}
	s := in.Selector
	if s.AssigneeEmail == "" && s.AssetType == "" && s.Status == "" && len(s.AssetIDs) == 0 {
		problems = append(problems, "the selector is empty: name the current assignee, an asset type, a status or asset ids")
	}
	if s.AssigneeEmail != "" && !IsEmail(s.AssigneeEmail) {
		problems = append(problems, "the current assignee is not an email address")
	}
	if len(s.AssetIDs) > MaxExplicitAssetIDs {
		problems = append(problems, fmt.Sprintf("%d asset ids are more than %d: select by assignee, type or status instead", len(s.AssetIDs), MaxExplicitAssetIDs))
	}
	if len(s.AssetIDs) > 0 && s.AssetIDs[0] <= 0 {
		problems = append(problems, "asset ids must be positive")
	}
	switch t := in.Target; {
	case t.Stock && t.AssigneeEmail != "":
		problems = append(problems, "the target is either a user or stock, not both")
	case !t.Stock && t.AssigneeEmail == "":
		problems = append(problems, "the target is missing: a user's email, or stock")
	case t.AssigneeEmail != "" && !IsEmail(t.AssigneeEmail):
		problems = append(problems, "the target user is not an email address")
	case t.AssigneeEmail != "" && strings.EqualFold(t.AssigneeEmail, s.AssigneeEmail):
		problems = append(problems, "the target user is the current assignee: there is nothing to move")
	case t.Stock && in.SetStatus != "" && in.SetStatus != "AVAILABLE":
		problems = append(problems, fmt.Sprintf("back to stock sets status AVAILABLE, not %s: drop the new status", in.SetStatus))
	}
	if in.MaxAssets < 0 {
		problems = append(problems, "max assets is negative: use 0 for all")
	}
	if in.ConfirmAbove < 0 {
		problems = append(problems, "the confirmation threshold is negative")
	}
	if in.Concurrency < 0 || in.Concurrency > MaxReassignConcurrency {
		problems = append(problems, fmt.Sprintf("concurrency %d is not between 1 and %d", in.Concurrency, MaxReassignConcurrency))
	}
	if in.AssetsPerRun < 0 {
		problems = append(problems, "assets per run is negative")
	}
	if in.WorkspaceID < 0 {
		problems = append(problems, "workspace id is negative")
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid reassignment input: %s", strings.Join(problems, "; "))
	}
	return nil
}

// DeriveBatchID names a batch after what it does: the same request gets the same id, so
// repeating it reaches the running batch instead of starting a second one. It is a hash, so the
// workflow id carries no email; the settings that do not change what moves (concurrency,
// threshold) are left out.
func DeriveBatchID(in ReassignmentInput) string {
	in = in.Normalized()
	ids := make([]string, len(in.Selector.AssetIDs))
	for i, id := range in.Selector.AssetIDs {
		ids[i] = strconv.FormatInt(id, 10)
	}
	key := strings.Join([]string{
		"v1", strconv.FormatInt(in.WorkspaceID, 10),
		strings.ToLower(in.Selector.AssigneeEmail), strings.ToLower(in.Selector.AssetType), in.Selector.Status,
		strings.Join(ids, ","), strings.ToLower(in.Target.AssigneeEmail), strconv.FormatBool(in.Target.Stock),
		in.SetStatus, strconv.Itoa(in.MaxAssets), strconv.FormatBool(in.DryRun),
	}, "\x00")
	sum := sha256.Sum256([]byte(key))
	prefix := "r"
	if in.DryRun {
		prefix = "dry"
	}
	return prefix + hex.EncodeToString(sum[:6])
}

// NormalizeAssetStatus writes an asset status the way the API stores it: "In Use" is IN_USE.
func NormalizeAssetStatus(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "_", "-", "_").Replace(strings.TrimSpace(s)))
}
