package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Rule codes: the stable identifiers of [Violation.Rule]. They are part of the API (clients and scripts
// match on them) and never change meaning; each names the policy key it enforces.
const (
	// RuleAlgorithmAllowed: the key's algorithm is not in algorithms.allowed, or is unknown to [Strength]
	// (never allowed, whatever the policy).
	RuleAlgorithmAllowed = "algorithm.allowed"
	// RuleAlgorithmMinStrength: the algorithm's security strength ([Strength]) is below
	// algorithms.min_strength_bits.
	RuleAlgorithmMinStrength = "algorithm.min_strength"
	// RuleCryptoperiodMax: the primary version has been primary longer than the algorithm's cryptoperiod
	// ([Policy.Check] only), or the key's rotation period is longer than that cryptoperiod, so that it
	// would outlive it.
	RuleCryptoperiodMax = "cryptoperiod.max"
	// RuleRotationRequired: rotation.required is true and the key has no rotation period.
	RuleRotationRequired = "rotation.required"
	// RuleRotationMaxPeriod: the key's rotation period is longer than rotation.max_period.
	RuleRotationMaxPeriod = "rotation.max_period"
	// RuleLabelsRequired: a label of labels.required is absent or empty.
	RuleLabelsRequired = "labels.required"
	// RuleLabelsAllowedValues: a label restricted by labels.allowed_values has a value not in its list.
	RuleLabelsAllowedValues = "labels.allowed_values"
)

// Rules returns every rule code in a stable (alphabetical) order, the order violations are sorted in. The
// slice is a fresh copy.
func Rules() []string {
	return []string{RuleAlgorithmAllowed, RuleAlgorithmMinStrength, RuleCryptoperiodMax, RuleLabelsAllowedValues,
		RuleLabelsRequired, RuleRotationMaxPeriod, RuleRotationRequired}
}

// Key is what the policy judges of a key; the service fills it from its records (or from the create or
// import request).
type Key struct {
	// Name is the key's name. The policy has no rule on names today; callers use it to report violations.
	Name string
	// Algorithm is the key's algorithm, named as in [Strength].
	Algorithm string
	// Labels are the key's labels; nil means none.
	Labels map[string]string
	// RotationPeriod is the key's automatic rotation period; 0 (or less) means none.
	RotationPeriod time.Duration
	// PrimarySince is when the current primary version became primary. The zero time means unknown, which
	// [Policy.Check] reports as a cryptoperiod violation when the algorithm has a cryptoperiod (fail closed).
	PrimarySince time.Time
}

// Violation is one broken rule.
type Violation struct {
	// Rule is the stable identifier of the rule, one of the RuleXxx constants.
	Rule string `json:"rule"`
	// Message says what is wrong and what the rule requires, e.g. `label "owner" is required`. It is for
	// people: match on Rule, not on Message.
	Message string `json:"message"`
}

// String renders v as "rule: message", for logs and the CLI.
func (v Violation) String() string { return v.Rule + ": " + v.Message }

// CheckCreate returns the violations a key about to be created or imported would have, sorted by rule
// then message, or nil if it complies. It applies every rule except the age of the primary version (a new
// key's primary is new): a rotation period longer than the algorithm's cryptoperiod is still reported as
// [RuleCryptoperiodMax], since the key would otherwise be non-compliant by design. k.PrimarySince is
// ignored.
func (p *Policy) CheckCreate(k Key) []Violation {
	return p.or().check(k, time.Time{}, false)
}

// Check returns every violation of an existing key at time now, sorted by rule then message, or nil if it
// complies: the rules of [Policy.CheckCreate], plus [RuleCryptoperiodMax] when the primary version has
// been primary for longer than the algorithm's cryptoperiod (now - k.PrimarySince > cryptoperiod; exactly
// the cryptoperiod is still compliant) or since an unknown time (zero k.PrimarySince).
func (p *Policy) Check(k Key, now time.Time) []Violation {
	return p.or().check(k, now, true)
}

// check implements [Policy.Check] (withAge) and [Policy.CheckCreate]; p is not nil.
func (p *Policy) check(k Key, now time.Time, withAge bool) []Violation {
	var vs []Violation
	add := func(rule, format string, args ...any) {
		vs = append(vs, Violation{Rule: rule, Message: fmt.Sprintf(format, args...)})
	}

	bits, known := Strength(k.Algorithm)
	switch {
	case !known:
		add(RuleAlgorithmAllowed, "algorithm %q is unknown to the policy; allowed: %s", k.Algorithm, strings.Join(p.allowed, ", "))
	case !slices.Contains(p.allowed, k.Algorithm):
		add(RuleAlgorithmAllowed, "algorithm %q is not allowed; allowed: %s", k.Algorithm, strings.Join(p.allowed, ", "))
	}
	if known && bits < p.minStrength {
		add(RuleAlgorithmMinStrength, "algorithm %q has a security strength of %d bits; at least %d bits are required",
			k.Algorithm, bits, p.minStrength)
	}

	if limit, isDefault := p.cryptoperiod(k.Algorithm); limit > 0 {
		what := "the maximum cryptoperiod for " + strconv.Quote(k.Algorithm) + " is " + FormatDuration(limit)
		if isDefault {
			what += " (default)"
		}
		if k.RotationPeriod > limit {
			add(RuleCryptoperiodMax, "rotation period %s is longer than the cryptoperiod it must respect: %s",
				FormatDuration(k.RotationPeriod), what)
		}
		if withAge {
			switch age := now.Sub(k.PrimarySince); {
			case k.PrimarySince.IsZero():
				add(RuleCryptoperiodMax, "the time the primary version became primary is unknown; %s", what)
			case age > limit:
				add(RuleCryptoperiodMax, "the primary version has been primary for %s (since %s); %s: rotate the key",
					roughAge(age), k.PrimarySince.UTC().Format(time.RFC3339), what)
			}
		}
	}

	if p.rotationRequired && k.RotationPeriod <= 0 {
		add(RuleRotationRequired, "the key has no rotation period; a rotation period is required")
	}
	if p.rotationMax > 0 && k.RotationPeriod > p.rotationMax {
		add(RuleRotationMaxPeriod, "rotation period %s is longer than the maximum of %s",
			FormatDuration(k.RotationPeriod), FormatDuration(p.rotationMax))
	}

	for _, label := range p.requiredLabels {
		value, present := k.Labels[label] // reading a nil map is fine
		switch {
		case !present:
			add(RuleLabelsRequired, "label %q is required", label)
		case value == "":
			add(RuleLabelsRequired, "label %q is required and must not be empty", label)
		}
	}
	for label, allowed := range p.allowedValues {
		if value := k.Labels[label]; value != "" && !slices.Contains(allowed, value) {
			add(RuleLabelsAllowedValues, "label %q has value %q; allowed values: %s", label, value, strings.Join(allowed, ", "))
		}
	}

	slices.SortFunc(vs, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Message, b.Message))
	})
	return vs
}

// roughAge renders an age for messages: in whole days from one day up ("400d"), else in the largest exact
// unit of FormatDuration from whole seconds ("90m"), prefixed with "over " when that drops a remainder.
func roughAge(age time.Duration) string {
	unit := time.Second
	if age >= Day {
		unit = Day
	}
	if age < unit {
		return FormatDuration(age)
	}
	whole := age.Truncate(unit)
	s := FormatDuration(whole)
	if unit == Day {
		s = strconv.FormatInt(int64(whole/Day), 10) + "d"
	}
	if whole != age {
		return "over " + s
	}
	return s
}
