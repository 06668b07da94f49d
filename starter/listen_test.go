package main

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/atomicflow/atomicflow/hrevents"
	"github.com/atomicflow/atomicflow/lifecycle"
)

const hrSecret = "listen-test-secret-0123456789"

func TestListenBadSettingsExit2BeforeDialing(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no secrets", map[string]string{}, nil, hrSecretsVar + " is not set"},
		{"blank secrets", map[string]string{hrSecretsVar: " , "}, nil, hrSecretsVar + " is not set"},
		{"short secret", map[string]string{hrSecretsVar: hrSecret + ",short"}, nil, "secret #2 is shorter than 16 characters"},
		{"zero timeout", map[string]string{hrSecretsVar: hrSecret}, []string{"--timeout", "0s"}, "--timeout"},
		{"retry-after under a second", map[string]string{hrSecretsVar: hrSecret}, []string{"--retry-after", "10ms"}, "--retry-after"},
		{"port taken", map[string]string{hrSecretsVar: hrSecret}, []string{"--addr", taken.Addr().String()}, "--addr: cannot listen on " + taken.Addr().String()},
		{"positional argument", map[string]string{hrSecretsVar: hrSecret}, []string{"extra"}, `unknown command "extra"`},
		{"max past days not a number", map[string]string{hrSecretsVar: hrSecret, hrevents.MaxPastDaysVar: "thirty"}, nil, hrevents.MaxPastDaysVar + `="thirty" is not`},
		{"max past days zero", map[string]string{hrSecretsVar: hrSecret, hrevents.MaxPastDaysVar: "0"}, nil, hrevents.MaxPastDaysVar + `="0" is not`},
		{"max past days negative", map[string]string{hrSecretsVar: hrSecret, hrevents.MaxPastDaysVar: "-5"}, nil, hrevents.MaxPastDaysVar},
		{"max past days fractional", map[string]string{hrSecretsVar: hrSecret, hrevents.MaxPastDaysVar: "1.5"}, nil, hrevents.MaxPastDaysVar},
		{"max past days over ten years", map[string]string{hrSecretsVar: hrSecret, hrevents.MaxPastDaysVar: "3651"}, nil, hrevents.MaxPastDaysVar},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runStarter(t, tc.env, noDial(t), append([]string{"listen"}, tc.args...)...)
			assert.Equal(t, 2, r.code)
			assert.Contains(t, r.stderr, tc.want)
		})
	}
}

func TestListenBadTemporalConfigurationExits2(t *testing.T) {
	r := runStarter(t, map[string]string{hrSecretsVar: hrSecret, "TEMPORAL_PROFILE": "nope"}, dialTemporal, "listen", "--addr", "127.0.0.1:0")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "nope")
	assert.NotContains(t, r.stderr, hrSecret, "the secret is never printed")
}

func TestListenHelpShowsHowToSign(t *testing.T) {
	r := runStarter(t, map[string]string{}, noDial(t), "listen", "--help")
	require.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "Examples:")
	assert.Contains(t, r.stdout, "openssl dgst -sha256 -hmac")
	assert.Contains(t, r.stdout, hrSecretsVar)
}

func TestStartedByListenRewritesTheStartersDetails(t *testing.T) {
	on := onboardingStartOptions(lifecycle.OnboardingInput{EmployeeID: "E-1", StartDate: "2026-12-01"}, "q").StaticDetails
	off := offboardingStartOptions(lifecycle.OffboardingInput{EmployeeID: "E-1", LastDay: "2026-12-18"}, "q").StaticDetails
	for _, details := range []string{on, off} {
		got := startedByListen(details)
		assert.Contains(t, got, "**Started by:** `starter listen` (HR event)")
		assert.NotContains(t, got, "`starter onboard`")
		assert.NotContains(t, got, "`starter offboard`")
	}
}

func TestUpdateOutcomeTellsAStaleChangeFromARejection(t *testing.T) {
	stale := temporal.NewApplicationError("HR decided a newer change at 2026-11-20T11:00:00Z: this one changes nothing", lifecycle.ErrStaleChange)
	var staleErr *hrevents.StaleError
	require.ErrorAs(t, updateOutcome("offboarding-E-1", stale), &staleErr)
	assert.Equal(t, "HR decided a newer change at 2026-11-20T11:00:00Z: this one changes nothing", staleErr.Reason)

	refused := temporal.NewApplicationError("the offboarding is past its scheduled time", "")
	var rejected *hrevents.RejectedError
	require.ErrorAs(t, updateOutcome("offboarding-E-1", refused), &rejected)
	assert.Equal(t, "the offboarding is past its scheduled time", rejected.Reason)
	assert.NoError(t, updateOutcome("offboarding-E-1", nil))
}
