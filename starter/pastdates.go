package main

import (
	"fmt"
	"time"

	"github.com/atomicflow/atomicflow/lifecycle"
)

// Past dates: a date before today is more often a typo (2025 for 2026) than an intention, and
// for an offboarding it revokes access at once. These rules read the clock the caller passes.

// maxOnboardPastDays: an onboarding starting further in the past than this needs --allow-past.
const maxOnboardPastDays = 30

// localToday is today's date (YYYY-MM-DD) at now in the IANA zone tz (UTC when empty or unknown;
// a bad zone is reported by the field rules).
func localToday(now time.Time, tz string) string {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	return now.In(loc).Format(time.DateOnly)
}

// pastLastDayProblem refuses an offboarding's last day before today in the employee's zone.
func pastLastDayProblem(lastDay, tz string, now time.Time) string {
	today := localToday(now, tz)
	if lastDay >= today {
		return ""
	}
	return fmt.Sprintf("%s is before today (%s in %s): offboarding would revoke access at once. "+
		"If the date is right, add --now to offboard at once, or --allow-past to offboard it as a past last day; otherwise fix the date",
		lastDay, today, zoneName(tz))
}

// pastRescheduleProblem refuses a reschedule whose new end of the last day has already passed
// (today with its end of day gone included).
func pastRescheduleProblem(req lifecycle.RescheduleRequest, runEndOfDay, tz string, now time.Time) string {
	eod := req.EndOfDay
	if eod == "" {
		eod = runEndOfDay
	}
	at, err := lifecycle.EndOfWorkingDay(req.LastDay, eod, tz)
	if err != nil || at.After(now) {
		return ""
	}
	return fmt.Sprintf("%s ended at %s %s (%s), before now: a reschedule to it would revoke access at once. "+
		"If that is meant, add --allow-past (or run starter offboard now); otherwise fix the date",
		req.LastDay, endOfDay(eod), zoneName(tz), at.UTC().Format(time.RFC3339))
}

// pastStartDate says how many days before today (in the hire's zone) an onboarding's start date
// is; 0 when it is today or later, or not a date (the field rules report that).
func pastStartDate(startDate, tz string, now time.Time) int {
	day, err := time.Parse(time.DateOnly, startDate)
	if err != nil {
		return 0
	}
	today, _ := time.Parse(time.DateOnly, localToday(now, tz))
	return max(0, int(today.Sub(day).Hours()/24))
}
