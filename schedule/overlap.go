package schedule

import (
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
)

// overlapPolicies maps the flag and file values to Temporal's overlap policies.
var overlapPolicies = map[string]enumspb.ScheduleOverlapPolicy{
	"skip":            enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
	"buffer-one":      enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
	"buffer-all":      enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL,
	"cancel-other":    enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER,
	"terminate-other": enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER,
	"allow-all":       enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
}

// OverlapNames lists the overlap policies ParseOverlap accepts, for help texts.
const OverlapNames = "skip, buffer-one, buffer-all, cancel-other, terminate-other or allow-all"

// ParseOverlap reads an overlap policy as flags and files write it, e.g. buffer-one.
func ParseOverlap(s string) (enumspb.ScheduleOverlapPolicy, error) {
	if p, ok := overlapPolicies[strings.ToLower(strings.TrimSpace(s))]; ok {
		return p, nil
	}
	return 0, fmt.Errorf("%q is not an overlap policy: use %s", s, OverlapNames)
}

// OverlapName is the flag and file name of an overlap policy.
func OverlapName(p enumspb.ScheduleOverlapPolicy) string {
	for name, v := range overlapPolicies {
		if v == p {
			return name
		}
	}
	if p == enumspb.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED {
		return "skip (server default)"
	}
	return p.String()
}
