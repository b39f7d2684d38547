package policy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// checkNow is the fixed clock of the checking tests.
var checkNow = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// Policies of the checking tests.
const (
	strictDoc = `version: 1
algorithms:
  allowed: [aes-256-gcm, chacha20-poly1305, rsa-3072, ecdsa-p384]
  min_strength_bits: 128
cryptoperiod:
  default: 2y
  aes-256-gcm: 1y
rotation:
  required: true
  max_period: 90d
labels:
  required: [owner, data-classification]
  allowed_values:
    data-classification: [public, internal, confidential, pci]
`
	minStrengthDoc = "version: 1\nalgorithms: {min_strength_bits: 128}\n"
	periodsDoc     = "version: 1\ncryptoperiod: {default: 2y, aes-256-gcm: 30d}\n"
	valuesDoc      = "version: 1\nlabels: {allowed_values: {tier: [gold, silver]}}\n"
)

const strictAllowed = "aes-256-gcm, chacha20-poly1305, rsa-3072, ecdsa-p384"

func mustParse(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

// goodKey returns a key compliant with strictDoc at checkNow, changed by mods.
func goodKey(mods ...func(*Key)) Key {
	k := Key{
		Name:           "payments",
		Algorithm:      "aes-256-gcm",
		Labels:         map[string]string{"owner": "alice", "data-classification": "pci", "team": "billing"},
		RotationPeriod: 90 * Day,
		PrimarySince:   checkNow.Add(-30 * Day),
	}
	for _, m := range mods {
		m(&k)
	}
	return k
}

func algorithm(a string) func(*Key)       { return func(k *Key) { k.Algorithm = a } }
func rotation(d time.Duration) func(*Key) { return func(k *Key) { k.RotationPeriod = d } }
func primaryAge(age time.Duration) func(*Key) {
	return func(k *Key) { k.PrimarySince = checkNow.Add(-age) }
}
func primarySince(t time.Time) func(*Key)    { return func(k *Key) { k.PrimarySince = t } }
func labels(l map[string]string) func(*Key)  { return func(k *Key) { k.Labels = l } }
func v(rule, message string) Violation       { return Violation{Rule: rule, Message: message} }
func vs(violations ...Violation) []Violation { return violations }
func withLabel(name, value string) func(*Key) {
	return func(k *Key) {
		l := make(map[string]string, len(k.Labels)+1)
		for n, v := range k.Labels {
			l[n] = v
		}
		l[name] = value
		k.Labels = l
	}
}
func withoutLabel(name string) func(*Key) {
	return func(k *Key) {
		l := make(map[string]string, len(k.Labels))
		for n, v := range k.Labels {
			if n != name {
				l[n] = v
			}
		}
		k.Labels = l
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	policies := map[string]*Policy{
		"strict":     mustParse(t, strictDoc),
		"min":        mustParse(t, minStrengthDoc),
		"periods":    mustParse(t, periodsDoc),
		"values":     mustParse(t, valuesDoc),
		"default":    Default(),
		"nil":        nil,
		"emptyDoc":   mustParse(t, ""),
		"hours":      mustParse(t, "version: 1\ncryptoperiod: {default: 1h}\n"),
		"subsecond":  mustParse(t, "version: 1\ncryptoperiod: {default: 1s}\n"),
		"subsecond2": mustParse(t, "version: 1\ncryptoperiod: {default: 500ms}\n"),
	}
	tests := []struct {
		name   string
		policy string
		key    Key
		create []Violation // CheckCreate
		check  []Violation // Check at checkNow
	}{
		// Compliant keys.
		{name: "compliant", policy: "strict", key: goodKey()},
		{name: "compliant at the exact cryptoperiod", policy: "strict", key: goodKey(primaryAge(Year))},
		{name: "compliant with primary since in the future", policy: "strict", key: goodKey(primarySince(checkNow.Add(time.Hour)))},
		{name: "default policy judges no key data", policy: "default",
			key: Key{Algorithm: "rsa-2048", RotationPeriod: 50 * Year}},
		{name: "nil policy is the default", policy: "nil", key: Key{Algorithm: "ed25519"}},
		{name: "empty document is the default", policy: "emptyDoc", key: Key{Algorithm: "ml-dsa-44"}},
		{name: "allowed_values ignore an absent label", policy: "values", key: Key{Algorithm: "ed25519"}},
		{name: "allowed_values ignore an empty label", policy: "values", key: Key{Algorithm: "ed25519", Labels: map[string]string{"tier": ""}}},
		{name: "allowed value", policy: "values", key: Key{Algorithm: "ed25519", Labels: map[string]string{"tier": "silver"}}},

		// algorithm.allowed
		{name: "algorithm not allowed", policy: "strict", key: goodKey(algorithm("xchacha20-poly1305")),
			create: vs(v(RuleAlgorithmAllowed, `algorithm "xchacha20-poly1305" is not allowed; allowed: `+strictAllowed)),
			check:  vs(v(RuleAlgorithmAllowed, `algorithm "xchacha20-poly1305" is not allowed; allowed: `+strictAllowed))},
		{name: "unknown algorithm", policy: "strict", key: goodKey(algorithm("aes-128-gcm")),
			create: vs(v(RuleAlgorithmAllowed, `algorithm "aes-128-gcm" is unknown to the policy; allowed: `+strictAllowed)),
			check:  vs(v(RuleAlgorithmAllowed, `algorithm "aes-128-gcm" is unknown to the policy; allowed: `+strictAllowed))},
		{name: "unknown algorithm under the default policy", policy: "default", key: Key{},
			create: vs(v(RuleAlgorithmAllowed, `algorithm "" is unknown to the policy; allowed: `+strings.Join(Algorithms(), ", "))),
			check:  vs(v(RuleAlgorithmAllowed, `algorithm "" is unknown to the policy; allowed: `+strings.Join(Algorithms(), ", ")))},
		{name: "unknown algorithm under a nil policy", policy: "nil", key: Key{Algorithm: "des"},
			create: vs(v(RuleAlgorithmAllowed, `algorithm "des" is unknown to the policy; allowed: `+strings.Join(Algorithms(), ", "))),
			check:  vs(v(RuleAlgorithmAllowed, `algorithm "des" is unknown to the policy; allowed: `+strings.Join(Algorithms(), ", ")))},

		// algorithm.min_strength
		{name: "too weak", policy: "min", key: Key{Algorithm: "rsa-2048"},
			create: vs(v(RuleAlgorithmMinStrength, `algorithm "rsa-2048" has a security strength of 112 bits; at least 128 bits are required`)),
			check:  vs(v(RuleAlgorithmMinStrength, `algorithm "rsa-2048" has a security strength of 112 bits; at least 128 bits are required`))},
		{name: "exactly the minimum strength", policy: "min", key: Key{Algorithm: "rsa-3072"}},

		// cryptoperiod.max
		{name: "rotation period longer than the cryptoperiod", policy: "periods", key: goodKey(rotation(60*Day), primaryAge(10*Day)),
			create: vs(v(RuleCryptoperiodMax, `rotation period 60d is longer than the cryptoperiod it must respect: the maximum cryptoperiod for "aes-256-gcm" is 30d`)),
			check:  vs(v(RuleCryptoperiodMax, `rotation period 60d is longer than the cryptoperiod it must respect: the maximum cryptoperiod for "aes-256-gcm" is 30d`))},
		{name: "rotation period longer than the default cryptoperiod", policy: "periods", key: goodKey(algorithm("ed25519"), rotation(3*Year)),
			create: vs(v(RuleCryptoperiodMax, `rotation period 3y is longer than the cryptoperiod it must respect: the maximum cryptoperiod for "ed25519" is 2y (default)`)),
			check:  vs(v(RuleCryptoperiodMax, `rotation period 3y is longer than the cryptoperiod it must respect: the maximum cryptoperiod for "ed25519" is 2y (default)`))},
		{name: "primary too old", policy: "strict", key: goodKey(primarySince(checkNow.Add(-366 * Day).In(time.FixedZone("CET", 3600)))),
			check: vs(v(RuleCryptoperiodMax, `the primary version has been primary for 366d (since 2024-05-31T00:00:00Z); the maximum cryptoperiod for "aes-256-gcm" is 1y: rotate the key`))},
		{name: "primary one second too old", policy: "strict", key: goodKey(primaryAge(Year + time.Second)),
			check: vs(v(RuleCryptoperiodMax, `the primary version has been primary for over 365d (since 2024-05-31T23:59:59Z); the maximum cryptoperiod for "aes-256-gcm" is 1y: rotate the key`))},
		{name: "primary older than the default cryptoperiod", policy: "strict", key: goodKey(algorithm("chacha20-poly1305"), primaryAge(731*Day)),
			check: vs(v(RuleCryptoperiodMax, `the primary version has been primary for 731d (since 2023-06-01T00:00:00Z); the maximum cryptoperiod for "chacha20-poly1305" is 2y (default): rotate the key`))},
		{name: "primary too old by hours", policy: "hours", key: Key{Algorithm: "ed25519", PrimarySince: checkNow.Add(-90 * time.Minute)},
			check: vs(v(RuleCryptoperiodMax, `the primary version has been primary for 90m (since 2025-05-31T22:30:00Z); the maximum cryptoperiod for "ed25519" is 1h (default): rotate the key`))},
		{name: "primary too old by a fraction", policy: "hours", key: Key{Algorithm: "ed25519", PrimarySince: checkNow.Add(-90*time.Minute - 500*time.Millisecond)},
			check: vs(v(RuleCryptoperiodMax, `the primary version has been primary for over 90m (since 2025-05-31T22:29:59Z); the maximum cryptoperiod for "ed25519" is 1h (default): rotate the key`))},
		{name: "primary too old by days and hours", policy: "hours", key: Key{Algorithm: "ed25519", PrimarySince: checkNow.Add(-2*Day - time.Hour)},
			check: vs(v(RuleCryptoperiodMax, `the primary version has been primary for over 2d (since 2025-05-29T23:00:00Z); the maximum cryptoperiod for "ed25519" is 1h (default): rotate the key`))},
		{name: "primary too old by a sub-second", policy: "subsecond", key: Key{Algorithm: "ed25519", PrimarySince: checkNow.Add(-1500 * time.Millisecond)},
			check: vs(v(RuleCryptoperiodMax, `the primary version has been primary for over 1s (since 2025-05-31T23:59:58Z); the maximum cryptoperiod for "ed25519" is 1s (default): rotate the key`))},
		{name: "primary too old by less than a second", policy: "subsecond2", key: Key{Algorithm: "ed25519", PrimarySince: checkNow.Add(-700 * time.Millisecond)},
			check: vs(v(RuleCryptoperiodMax, `the primary version has been primary for 700ms (since 2025-05-31T23:59:59Z); the maximum cryptoperiod for "ed25519" is 500ms (default): rotate the key`))},
		{name: "young primary, no rotation period required", policy: "periods", key: goodKey(rotation(0), primaryAge(90*time.Minute+500*time.Millisecond)), create: nil, check: nil},
		{name: "unknown primary time", policy: "strict", key: goodKey(primarySince(time.Time{})),
			check: vs(v(RuleCryptoperiodMax, `the time the primary version became primary is unknown; the maximum cryptoperiod for "aes-256-gcm" is 1y`))},
		{name: "unknown primary time without a cryptoperiod", policy: "min", key: Key{Algorithm: "aes-256-gcm"}},

		// rotation.required
		{name: "no rotation period", policy: "strict", key: goodKey(rotation(0)),
			create: vs(v(RuleRotationRequired, "the key has no rotation period; a rotation period is required")),
			check:  vs(v(RuleRotationRequired, "the key has no rotation period; a rotation period is required"))},
		{name: "negative rotation period", policy: "strict", key: goodKey(rotation(-time.Hour)),
			create: vs(v(RuleRotationRequired, "the key has no rotation period; a rotation period is required")),
			check:  vs(v(RuleRotationRequired, "the key has no rotation period; a rotation period is required"))},

		// rotation.max_period
		{name: "rotation period too long", policy: "strict", key: goodKey(rotation(91 * Day)),
			create: vs(v(RuleRotationMaxPeriod, "rotation period 13w is longer than the maximum of 90d")),
			check:  vs(v(RuleRotationMaxPeriod, "rotation period 13w is longer than the maximum of 90d"))},
		{name: "rotation period a second too long", policy: "strict", key: goodKey(rotation(90*Day + time.Second)),
			create: vs(v(RuleRotationMaxPeriod, "rotation period 7776001s is longer than the maximum of 90d")),
			check:  vs(v(RuleRotationMaxPeriod, "rotation period 7776001s is longer than the maximum of 90d"))},

		// labels.required
		{name: "missing label", policy: "strict", key: goodKey(withoutLabel("owner")),
			create: vs(v(RuleLabelsRequired, `label "owner" is required`)),
			check:  vs(v(RuleLabelsRequired, `label "owner" is required`))},
		{name: "empty label", policy: "strict", key: goodKey(withLabel("owner", "")),
			create: vs(v(RuleLabelsRequired, `label "owner" is required and must not be empty`)),
			check:  vs(v(RuleLabelsRequired, `label "owner" is required and must not be empty`))},
		{name: "nil labels", policy: "strict", key: goodKey(labels(nil)),
			create: vs(v(RuleLabelsRequired, `label "data-classification" is required`), v(RuleLabelsRequired, `label "owner" is required`)),
			check:  vs(v(RuleLabelsRequired, `label "data-classification" is required`), v(RuleLabelsRequired, `label "owner" is required`))},
		{name: "label names are case-sensitive", policy: "strict", key: goodKey(withoutLabel("owner"), withLabel("Owner", "alice")),
			create: vs(v(RuleLabelsRequired, `label "owner" is required`)),
			check:  vs(v(RuleLabelsRequired, `label "owner" is required`))},

		// labels.allowed_values
		{name: "label value not allowed", policy: "strict", key: goodKey(withLabel("data-classification", "secret")),
			create: vs(v(RuleLabelsAllowedValues, `label "data-classification" has value "secret"; allowed values: public, internal, confidential, pci`)),
			check:  vs(v(RuleLabelsAllowedValues, `label "data-classification" has value "secret"; allowed values: public, internal, confidential, pci`))},
		{name: "label values are case-sensitive", policy: "values", key: Key{Algorithm: "ed25519", Labels: map[string]string{"tier": "Gold"}},
			create: vs(v(RuleLabelsAllowedValues, `label "tier" has value "Gold"; allowed values: gold, silver`)),
			check:  vs(v(RuleLabelsAllowedValues, `label "tier" has value "Gold"; allowed values: gold, silver`))},

		// Combined.
		{name: "everything wrong", policy: "strict",
			key: Key{Name: "legacy", Algorithm: "rsa-2048", Labels: map[string]string{"owner": "", "data-classification": "secret"},
				PrimarySince: checkNow.Add(-800 * Day)},
			create: vs(
				v(RuleAlgorithmAllowed, `algorithm "rsa-2048" is not allowed; allowed: `+strictAllowed),
				v(RuleAlgorithmMinStrength, `algorithm "rsa-2048" has a security strength of 112 bits; at least 128 bits are required`),
				v(RuleLabelsAllowedValues, `label "data-classification" has value "secret"; allowed values: public, internal, confidential, pci`),
				v(RuleLabelsRequired, `label "owner" is required and must not be empty`),
				v(RuleRotationRequired, "the key has no rotation period; a rotation period is required"),
			),
			check: vs(
				v(RuleAlgorithmAllowed, `algorithm "rsa-2048" is not allowed; allowed: `+strictAllowed),
				v(RuleAlgorithmMinStrength, `algorithm "rsa-2048" has a security strength of 112 bits; at least 128 bits are required`),
				v(RuleCryptoperiodMax, `the primary version has been primary for 800d (since 2023-03-24T00:00:00Z); the maximum cryptoperiod for "rsa-2048" is 2y (default): rotate the key`),
				v(RuleLabelsAllowedValues, `label "data-classification" has value "secret"; allowed values: public, internal, confidential, pci`),
				v(RuleLabelsRequired, `label "owner" is required and must not be empty`),
				v(RuleRotationRequired, "the key has no rotation period; a rotation period is required"),
			)},
		{name: "rotation period too long for both rules, primary too old", policy: "strict", key: goodKey(rotation(2*Year), primaryAge(400*Day)),
			create: vs(
				v(RuleCryptoperiodMax, `rotation period 2y is longer than the cryptoperiod it must respect: the maximum cryptoperiod for "aes-256-gcm" is 1y`),
				v(RuleRotationMaxPeriod, "rotation period 2y is longer than the maximum of 90d"),
			),
			check: vs(
				v(RuleCryptoperiodMax, `rotation period 2y is longer than the cryptoperiod it must respect: the maximum cryptoperiod for "aes-256-gcm" is 1y`),
				v(RuleCryptoperiodMax, `the primary version has been primary for 400d (since 2024-04-27T00:00:00Z); the maximum cryptoperiod for "aes-256-gcm" is 1y: rotate the key`),
				v(RuleRotationMaxPeriod, "rotation period 2y is longer than the maximum of 90d"),
			)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, ok := policies[tt.policy]
			if !ok && tt.policy != "nil" {
				t.Fatalf("no policy %q", tt.policy)
			}
			if got := p.CheckCreate(tt.key); !reflect.DeepEqual(got, tt.create) {
				t.Errorf("CheckCreate =\n%s\nwant\n%s", show(got), show(tt.create))
			}
			if got := p.Check(tt.key, checkNow); !reflect.DeepEqual(got, tt.check) {
				t.Errorf("Check =\n%s\nwant\n%s", show(got), show(tt.check))
			}
		})
	}
}

// show renders violations one per line for failure messages.
func show(vs []Violation) string {
	if vs == nil {
		return "  (none)"
	}
	var b strings.Builder
	for _, v := range vs {
		b.WriteString("  " + v.String() + "\n")
	}
	return b.String()
}

// TestCheckCreateIgnoresPrimarySince checks that CheckCreate never judges the age of the primary version.
func TestCheckCreateIgnoresPrimarySince(t *testing.T) {
	t.Parallel()
	p := mustParse(t, strictDoc)
	for _, since := range []time.Time{{}, checkNow.Add(-100 * Year), checkNow.Add(Year)} {
		if got := p.CheckCreate(goodKey(primarySince(since))); got != nil {
			t.Errorf("CheckCreate with PrimarySince %v = %v; want none", since, got)
		}
	}
}

func TestRules(t *testing.T) {
	t.Parallel()
	want := []string{"algorithm.allowed", "algorithm.min_strength", "cryptoperiod.max", "labels.allowed_values",
		"labels.required", "rotation.max_period", "rotation.required"}
	if got := Rules(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Rules() = %v; want %v", got, want)
	}
}

func TestViolationJSON(t *testing.T) {
	t.Parallel()
	got, err := json.Marshal(v(RuleLabelsRequired, `label "owner" is required`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"rule":"labels.required","message":"label \"owner\" is required"}`; string(got) != want {
		t.Fatalf("JSON = %s; want %s", got, want)
	}
}
