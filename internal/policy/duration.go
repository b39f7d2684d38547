package policy

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Calendar-free units of [ParseDuration] and [FormatDuration]. A day is always 24 hours and a year always
// 365 days: policy periods are limits on key age, not calendar dates, so leap days and daylight saving
// time are deliberately ignored.
const (
	// Day is the "d" unit: 24 hours.
	Day = 24 * time.Hour
	// Week is the "w" unit: 7 days.
	Week = 7 * Day
	// Year is the "y" unit: 365 days.
	Year = 365 * Day
)

// ParseDuration parses a policy period. It accepts a whole, unsigned number of days, weeks or years with
// a one-letter unit ("90d", "2w", "1y"; a year is 365 days), or anything [time.ParseDuration] accepts
// ("36h", "90m", "1h30m"). Units do not mix across the two forms ("1y2d" is an error), and fractional days,
// weeks or years ("1.5d") are errors; write them in hours instead ("36h").
//
// Empty strings, negative and zero periods (a zero limit would forbid every key: omit the rule instead),
// and periods that do not fit in a [time.Duration] (about 292 years) are errors. Matching is exact: no
// surrounding spaces, no sign.
func ParseDuration(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("policy: %w", err)
	}
	return d, nil
}

// durationHint ends every duration error: what a valid period looks like.
const durationHint = `: use a whole number of days, weeks or years ("90d", "2w", "1y") or a Go duration ("36h", "90m")`

// parseDuration is [ParseDuration] without the package prefix on errors, so that [Parse] can put the line
// and field first.
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty duration" + durationHint)
	}
	if s[0] == '-' {
		return 0, fmt.Errorf("negative duration %q: periods must be positive", s)
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 'd':
		unit = Day
	case 'w':
		unit = Week
	case 'y':
		unit = Year
	}
	if unit != 0 {
		num := s[:len(s)-1]
		if num == "" || strings.TrimLeft(num, "0123456789") != "" {
			return 0, fmt.Errorf("invalid duration %q%s", s, durationHint)
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n > math.MaxInt64/int64(unit) {
			return 0, fmt.Errorf("duration %q is too long: the longest period is about 292y", s)
		}
		if n == 0 {
			return 0, fmt.Errorf("zero duration %q: periods must be positive (omit the rule for no limit)", s)
		}
		return time.Duration(n) * unit, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q%s", s, durationHint)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q: periods must be positive", s)
	}
	if d == 0 {
		return 0, fmt.Errorf("zero duration %q: periods must be positive (omit the rule for no limit)", s)
	}
	return d, nil
}

// formatUnits are the units of [FormatDuration], largest first.
var formatUnits = [...]struct {
	unit time.Duration
	name string
}{
	{Year, "y"}, {Week, "w"}, {Day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"},
}

// FormatDuration renders d as a whole number of the largest unit among y (365 days), w, d, h, m and s
// that divides it exactly: 730 days is "2y", 14 days "2w", 90 days "90d", 36 hours "36h", 0 "0s". A
// negative duration gets a leading "-". Durations that are not whole seconds fall back to
// [time.Duration.String] ("1.5s"). For every positive d, ParseDuration(FormatDuration(d)) returns d.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d < 0 {
		if d == math.MinInt64 {
			return d.String()
		}
		return "-" + FormatDuration(-d)
	}
	for _, u := range formatUnits {
		if d%u.unit == 0 {
			return strconv.FormatInt(int64(d/u.unit), 10) + u.name
		}
	}
	return d.String()
}
