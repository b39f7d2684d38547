package policy

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"90d", 90 * 24 * time.Hour},
		{"1d", 24 * time.Hour},
		{"007d", 7 * 24 * time.Hour},
		{"2w", 14 * 24 * time.Hour},
		{"1y", 365 * 24 * time.Hour},
		{"2y", 730 * 24 * time.Hour},
		{"292y", 292 * 365 * 24 * time.Hour}, // the longest whole number of years that fits
		{"36h", 36 * time.Hour},
		{"90m", 90 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"1.5h", 90 * time.Minute}, // Go durations may be fractional; only d, w, y may not
		{"45s", 45 * time.Second},
		{"500ms", 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDuration(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseDurationRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // substring of the error
	}{
		{"", "empty duration"},
		{"d", "invalid duration"},
		{"w", "invalid duration"},
		{"y", "invalid duration"},
		{"1.5d", "whole number of days"},
		{"1.5w", "whole number"},
		{"0.5y", "whole number"},
		{"-3d", "negative"},
		{"-1h", "negative"},
		{"-0s", "negative"},
		{"+3d", "invalid duration"},
		{"0d", "zero duration"},
		{"0y", "zero duration"},
		{"0", "zero duration"},
		{"0s", "zero duration"},
		{"99999999999y", "too long"},
		{"293y", "too long"},
		{"15251w", "too long"},
		{"106752d", "too long"},
		{"99999999999999999999d", "too long"},
		{"9999999999h", "invalid duration"}, // Go overflow
		{"1y2d", "invalid duration"},
		{"1d12h", "invalid duration"},
		{"12h1d", "invalid duration"},
		{"3 d", "invalid duration"},
		{" 3d", "invalid duration"},
		{"3d ", "invalid duration"},
		{"3D", "invalid duration"},
		{"90", "invalid duration"},
		{"abc", "invalid duration"},
		{"1x", "invalid duration"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDuration(tt.in)
			if err == nil {
				t.Fatalf("ParseDuration(%q) = %v, nil; want an error", tt.in, got)
			}
			if !strings.HasPrefix(err.Error(), "policy: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseDuration(%q) error = %q; want it to start with \"policy: \" and contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{Year, "1y"},
		{730 * Day, "2y"},
		{2 * Week, "2w"},
		{364 * Day, "52w"},
		{90 * Day, "90d"},
		{366 * Day, "366d"},
		{Day, "1d"},
		{36 * time.Hour, "36h"},
		{90 * time.Minute, "90m"},
		{61 * time.Second, "61s"},
		{Day + time.Second, "86401s"},
		{1500 * time.Millisecond, "1.5s"},
		{time.Nanosecond, "1ns"},
		{-90 * Day, "-90d"},
		{-36 * time.Hour, "-36h"},
		{math.MinInt64, time.Duration(math.MinInt64).String()},
		{math.MaxInt64, time.Duration(math.MaxInt64).String()},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := FormatDuration(tt.in); got != tt.want {
				t.Fatalf("FormatDuration(%d) = %q; want %q", int64(tt.in), got, tt.want)
			}
		})
	}
}

// TestDurationRoundTrip checks ParseDuration(FormatDuration(d)) == d for positive durations, and that
// FormatDuration(ParseDuration(s)) is the canonical spelling of s.
func TestDurationRoundTrip(t *testing.T) {
	t.Parallel()
	durations := []time.Duration{
		time.Nanosecond, 1500 * time.Millisecond, time.Second, 59 * time.Second, time.Minute, 90 * time.Minute,
		time.Hour, 36 * time.Hour, Day, 6 * Day, Week, 90 * Day, 364 * Day, Year, 400 * Day, 2 * Year,
		292 * Year, Year + time.Second, math.MaxInt64,
	}
	for _, d := range durations {
		s := FormatDuration(d)
		got, err := ParseDuration(s)
		if err != nil || got != d {
			t.Errorf("ParseDuration(FormatDuration(%d) = %q) = %v, %v; want %d", int64(d), s, got, err, int64(d))
		}
	}
	canonical := []struct{ in, want string }{
		{"7d", "1w"}, {"14d", "2w"}, {"365d", "1y"}, {"52w", "52w"}, {"48h", "2d"}, {"1440m", "1d"},
		{"1h30m", "90m"}, {"3600s", "1h"}, {"90d", "90d"}, {"1y", "1y"},
	}
	for _, c := range canonical {
		d, err := ParseDuration(c.in)
		if err != nil {
			t.Fatalf("ParseDuration(%q): %v", c.in, err)
		}
		if got := FormatDuration(d); got != c.want {
			t.Errorf("FormatDuration(ParseDuration(%q)) = %q; want %q", c.in, got, c.want)
		}
	}
}
