// Package policy is Arca's cryptographic policy: the organisation's rules on which key algorithms and
// strengths are allowed, how long a key version may stay primary (its cryptoperiod, after NIST SP 800-57
// Part 1 Rev. 5, section 5.3), whether and how often keys must rotate, and which labels every key carries.
//
// The policy is a YAML file loaded at start ([Load], [Parse]) and reloadable: a [Policy] is immutable, so
// the service swaps whole *Policy values on reload and readers need no locking. The package is pure: it
// knows nothing of storage or HTTP. The service calls [Policy.CheckCreate] when a key is created or
// imported (and refuses it with a 4xx listing the violations), and [Policy.Check] for `arca policy check`,
// which lists every non-compliant key and why. Each [Violation] carries a stable Rule code (the RuleXxx
// constants) and a message saying what is wrong and what the rule requires.
//
// # Format
//
//	version: 1                 # required unless the document is empty; only 1 exists
//	algorithms:
//	  allowed: [aes-256-gcm, chacha20-poly1305]   # absent = every algorithm Strength knows
//	  min_strength_bits: 128                      # 0/absent = no minimum
//	cryptoperiod:              # longest time a key version may be the primary (encrypting) version
//	  default: 2y              # algorithms without their own entry; absent = no limit
//	  aes-256-gcm: 1y          # one entry per algorithm, named as in Strength
//	rotation:
//	  required: true           # every key must have a rotation period
//	  max_period: 90d          # a key's rotation period may not exceed this; absent = no limit
//	labels:
//	  required: [owner, data-classification]   # must be present and non-empty on every key
//	  allowed_values:                          # when the label is present, its value must be listed
//	    data-classification: [public, internal, confidential, pci]
//
// Periods are parsed by [ParseDuration]: "90d", "2w", "1y" (365 days) or Go durations such as "36h".
// testdata/example.yaml is a complete example.
//
// # Parsing rules
//
// Parsing is strict, and [Parse] reports every problem it finds, each with its line:
//
//   - An empty document (nothing, or only comments) is the permissive [Default] policy. Any other document
//     must say version: 1.
//   - Unknown keys are errors naming the key; so are duplicate keys, wrong types (a string where a number is
//     expected, a bare number where a label value is expected: quote it), and more than one YAML document.
//   - A section left empty (algorithms: with nothing under it) is the same as an absent section, but a rule
//     without a value (min_strength_bits: with nothing after it) is an error: delete the line instead.
//   - Algorithms named in algorithms.allowed and cryptoperiod must be known to [Strength]. The allowed list
//     may not be empty (that would forbid every key) nor repeat a name; min_strength_bits is 0 to 256.
//   - Periods must be positive: to set no limit, leave the rule out.
//
// Contradictions are errors too, so that a policy never admits at creation what it then reports as a
// violation (they are looked for once the rest of the document is valid):
//
//   - An allowed algorithm weaker than min_strength_bits (no key could ever use it).
//   - A rotation.max_period longer than the cryptoperiod (own entry, else default) of an algorithm keys may
//     be created with (allowed and at least min_strength_bits): a key rotating at the maximum allowed
//     period would outlive its cryptoperiod.
//
// A cryptoperiod entry for a known algorithm that is not allowed is accepted on purpose: forbidding new
// keys of an algorithm while still bounding the cryptoperiod of the existing ones is a normal transition.
//
// # Checking
//
// [Policy.Check] judges an existing [Key] at a given time; [Policy.CheckCreate] judges a key about to be
// created or imported, and differs only in skipping the age of the primary version (a new key's primary is
// new). Both report a rotation period longer than the algorithm's cryptoperiod as cryptoperiod.max, so that
// no key is created non-compliant by design. An unknown algorithm violates algorithm.allowed under every policy, including [Default] (fail
// closed); its cryptoperiod is the default one. A label that is present with an empty value counts as
// absent. Violations come sorted by rule, then message; a compliant key has none (nil).
package policy

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Version is the only policy document version this package reads (the version key).
const Version = 1

// Policy is a parsed, validated cryptographic policy. It is immutable after [Parse], [Load] or [Default]
// return it, and so safe for concurrent use; a nil *Policy behaves as [Default]. The zero Policy is not
// meaningful: use [Default].
type Policy struct {
	// allowed is the effective allowed list: the file's, in file order, or every algorithm of
	// algorithmStrengths when the file names none. Never empty.
	allowed []string
	// minStrength is the minimum security strength in bits; 0 = none.
	minStrength int
	// defaultPeriod is the cryptoperiod of algorithms without an entry in periods; 0 = no limit.
	defaultPeriod time.Duration
	// periods are the per-algorithm cryptoperiods; only positive values are stored.
	periods map[string]time.Duration
	// rotationRequired says every key must have a rotation period.
	rotationRequired bool
	// rotationMax is the longest rotation period a key may have; 0 = no limit.
	rotationMax time.Duration
	// requiredLabels are the labels every key must carry, in file order.
	requiredLabels []string
	// allowedValues maps a label to the values it may take, each list in file order and never empty.
	allowedValues map[string][]string
}

// defaultPolicy is what a nil *Policy behaves as. It is never handed out, so nothing can alter it.
var defaultPolicy = Default()

// Default returns the permissive policy, the one an empty document gives: every algorithm [Strength]
// knows is allowed, with no minimum strength, no cryptoperiod, no rotation rule and no required label.
// Unknown algorithms are still refused.
func Default() *Policy {
	return &Policy{allowed: Algorithms()}
}

// Load reads and parses the policy file at path, as [Parse] does; errors name the file.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return parse(data, "policy: "+path+": ")
}

// Parse reads a policy document strictly, validates it and returns it; see the package documentation for
// the format, and for what is refused and why. An empty document is the [Default] policy. The error lists
// every problem found, one per line, each with its line number.
func Parse(data []byte) (*Policy, error) {
	return parse(data, "policy: ")
}

// parse is [Parse] with prefix at the head of every error message ("policy: " or "policy: FILE: ").
func parse(data []byte, prefix string) (*Policy, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return Default(), nil
		}
		return nil, fmt.Errorf("%s%w", prefix, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fmt.Errorf("%s%w", prefix, err)
		}
		return nil, fmt.Errorf("%sline %d: more than one YAML document: a policy is a single document", prefix, extra.Line)
	}
	ps := parser{prefix: prefix}
	p := ps.document(&root)
	if len(ps.errs) > 0 {
		slices.SortStableFunc(ps.errs, func(a, b lineError) int { return cmp.Compare(a.line, b.line) })
		errs := make([]error, len(ps.errs))
		for i, e := range ps.errs {
			errs[i] = e.err
		}
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// Keys of each section, in documentation order (they are listed in unknown-key errors).
var (
	topKeys        = []string{"version", "algorithms", "cryptoperiod", "rotation", "labels"}
	algorithmsKeys = []string{"allowed", "min_strength_bits"}
	rotationKeys   = []string{"required", "max_period"}
	labelsKeys     = []string{"required", "allowed_values"}
)

// defaultKey is the cryptoperiod entry for algorithms without their own.
const defaultKey = "default"

// parser walks a YAML node tree and collects every problem, so that one run of Parse reports them all
// (in line order).
type parser struct {
	prefix string
	errs   []lineError
}

// lineError is a problem found at a line.
type lineError struct {
	line int
	err  error
}

// errorf records a problem found at node n.
func (ps *parser) errorf(n *yaml.Node, format string, args ...any) {
	ps.errs = append(ps.errs, lineError{n.Line, fmt.Errorf("%sline %d: %s", ps.prefix, n.Line, fmt.Sprintf(format, args...))})
}

// entry is one key/value pair of a mapping.
type entry struct {
	name       string
	key, value *yaml.Node
}

// document builds the policy from the document node; it returns nil only when it recorded an error.
func (ps *parser) document(root *yaml.Node) *Policy {
	n := root
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return Default()
		}
		n = n.Content[0]
	}
	n = resolve(n)
	if isNull(n) {
		return Default()
	}
	if n.Kind != yaml.MappingNode {
		ps.errorf(n, "a policy is a mapping of sections (%s), not %s", strings.Join(topKeys, ", "), describe(n))
		return nil
	}
	top := ps.fields(n, "", topKeys)

	p := &Policy{allowed: Algorithms()}
	var allowedNodes []*yaml.Node // the allowed list's entries, parallel to p.allowed when the file has one
	if v, ok := top["version"]; !ok {
		ps.errorf(n, "version is required: add \"version: %d\"", Version)
	} else if ver, ok := ps.integer(v, "version"); ok && ver != Version {
		ps.errorf(v, "unsupported policy version %d: this Arca reads version %d", ver, Version)
	}

	if sec := ps.section(top["algorithms"], "algorithms"); sec != nil {
		f := ps.fields(sec, "algorithms", algorithmsKeys)
		if v, ok := f["allowed"]; ok {
			names, nodes, ok := ps.stringList(v, "algorithms.allowed", false)
			for i, name := range names {
				if _, known := Strength(name); !known {
					ps.errorf(nodes[i], "algorithms.allowed: unknown algorithm %q (known: %s)", name, strings.Join(Algorithms(), ", "))
					ok = false
				}
			}
			if ok {
				p.allowed, allowedNodes = names, nodes
			}
		}
		if v, ok := f["min_strength_bits"]; ok {
			if bits, ok := ps.integer(v, "algorithms.min_strength_bits"); ok {
				switch {
				case bits < 0:
					ps.errorf(v, "algorithms.min_strength_bits is %d: it must be 0 (no minimum) or more", bits)
				case bits > maxStrength:
					ps.errorf(v, "algorithms.min_strength_bits is %d: no algorithm is stronger than %d bits", bits, maxStrength)
				default:
					p.minStrength = bits
				}
			}
		}
	}

	if sec := ps.section(top["cryptoperiod"], "cryptoperiod"); sec != nil {
		for _, e := range ps.entries(sec, "cryptoperiod") {
			if _, known := Strength(e.name); !known && e.name != defaultKey {
				ps.errorf(e.key, "unknown key %q in cryptoperiod: expected %q or an algorithm name (known: %s)",
					e.name, defaultKey, strings.Join(Algorithms(), ", "))
				continue
			}
			d, ok := ps.duration(e.value, "cryptoperiod."+e.name)
			switch {
			case !ok:
			case e.name == defaultKey:
				p.defaultPeriod = d
			default:
				if p.periods == nil {
					p.periods = make(map[string]time.Duration)
				}
				p.periods[e.name] = d
			}
		}
	}

	var maxPeriodNode *yaml.Node
	if sec := ps.section(top["rotation"], "rotation"); sec != nil {
		f := ps.fields(sec, "rotation", rotationKeys)
		if v, ok := f["required"]; ok {
			p.rotationRequired, _ = ps.boolean(v, "rotation.required")
		}
		if v, ok := f["max_period"]; ok {
			if d, ok := ps.duration(v, "rotation.max_period"); ok {
				p.rotationMax, maxPeriodNode = d, v
			}
		}
	}

	if sec := ps.section(top["labels"], "labels"); sec != nil {
		f := ps.fields(sec, "labels", labelsKeys)
		if v, ok := f["required"]; ok {
			p.requiredLabels, _, _ = ps.stringList(v, "labels.required", true)
		}
		if v, ok := f["allowed_values"]; ok {
			if av := ps.section(v, "labels.allowed_values"); av != nil {
				for _, e := range ps.entries(av, "labels.allowed_values") {
					if e.key.Tag != "!!str" || e.name == "" {
						ps.errorf(e.key, "labels.allowed_values: label name %s must be a non-empty string (quote it)", describe(e.key))
						continue
					}
					values, _, ok := ps.stringList(e.value, "labels.allowed_values."+e.name, false)
					if !ok {
						continue
					}
					if p.allowedValues == nil {
						p.allowedValues = make(map[string][]string)
					}
					p.allowedValues[e.name] = values
				}
			}
		}
	}
	if len(ps.errs) > 0 {
		return nil
	}
	// Contradictions are looked for only in an otherwise valid document, whose rules are all known.
	for i, name := range p.allowed {
		if bits, _ := Strength(name); allowedNodes != nil && bits < p.minStrength {
			ps.errorf(allowedNodes[i], "algorithms.allowed lists %s (%d bits), weaker than algorithms.min_strength_bits (%d): no key could use it; remove it or lower the minimum",
				name, bits, p.minStrength)
		}
	}
	if p.rotationMax > 0 {
		ps.checkRotationMax(p, maxPeriodNode)
	}
	if len(ps.errs) > 0 {
		return nil
	}
	return p
}

// checkRotationMax records an error when p's rotation.max_period (at node n) is longer than the
// cryptoperiod of an algorithm keys may be created with.
func (ps *parser) checkRotationMax(p *Policy, n *yaml.Node) {
	var over []string
	shortest := p.rotationMax
	for _, name := range p.allowed {
		if bits, _ := Strength(name); bits < p.minStrength {
			continue
		}
		limit, _ := p.cryptoperiod(name)
		if limit > 0 && p.rotationMax > limit {
			over = append(over, fmt.Sprintf("%s (%s)", name, FormatDuration(limit)))
			shortest = min(shortest, limit)
		}
	}
	if len(over) > 0 {
		ps.errorf(n, "rotation.max_period %s is longer than the cryptoperiod of %s: a key rotating that rarely would outlive its cryptoperiod; set rotation.max_period to at most %s",
			FormatDuration(p.rotationMax), strings.Join(over, ", "), FormatDuration(shortest))
	}
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is an explicit or implicit YAML null ("key:" with nothing after it, "~", null).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names what n is, for type errors: `a list`, `a mapping`, `integer "5"`.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		kind := map[string]string{"!!str": "string", "!!int": "integer", "!!bool": "boolean", "!!float": "number",
			"!!null": "null", "!!timestamp": "timestamp", "!!binary": "binary"}[n.Tag]
		if kind == "" {
			kind = n.Tag
		}
		return kind + " " + strconv.Quote(n.Value)
	}
	return "an unsupported YAML node"
}

// entries returns the pairs of mapping n, recording non-scalar keys and duplicates (path names the
// mapping in messages).
func (ps *parser) entries(n *yaml.Node, path string) []entry {
	var out []entry
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k == nil || v == nil || k.Kind != yaml.ScalarNode || isNull(k) {
			ps.errorf(n.Content[i], "%s: keys must be plain names", orTop(path))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			ps.errorf(k, "duplicate key %q in %s (first at line %d)", k.Value, orTop(path), line)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, entry{name: k.Value, key: k, value: v})
	}
	return out
}

// fields returns the values of mapping n by key name, recording keys not in known.
func (ps *parser) fields(n *yaml.Node, path string, known []string) map[string]*yaml.Node {
	out := make(map[string]*yaml.Node)
	for _, e := range ps.entries(n, path) {
		if !slices.Contains(known, e.name) {
			in := ""
			if path != "" {
				in = " in " + path
			}
			ps.errorf(e.key, "unknown key %q%s (valid keys: %s)", e.name, in, strings.Join(known, ", "))
			continue
		}
		out[e.name] = e.value
	}
	return out
}

// orTop names a mapping for messages: its path, or "the policy" for the top level.
func orTop(path string) string {
	if path == "" {
		return "the policy"
	}
	return path
}

// section returns n if it is a mapping, nil if it is absent or null (an empty section), and records an
// error for anything else.
func (ps *parser) section(n *yaml.Node, path string) *yaml.Node {
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		ps.errorf(n, "%s must be a mapping, not %s", path, describe(n))
		return nil
	}
	return n
}

// scalar returns whether n is a non-null scalar, recording an error naming want otherwise.
func (ps *parser) scalar(n *yaml.Node, path, want string) bool {
	switch {
	case isNull(n):
		ps.errorf(n, "%s has no value: give %s, or remove the key", path, want)
	case n.Kind != yaml.ScalarNode:
		ps.errorf(n, "%s must be %s, not %s", path, want, describe(n))
	default:
		return true
	}
	return false
}

// integer decodes an integer scalar.
func (ps *parser) integer(n *yaml.Node, path string) (int, bool) {
	if !ps.scalar(n, path, "an integer") {
		return 0, false
	}
	var i int
	if n.Tag != "!!int" || n.Decode(&i) != nil {
		ps.errorf(n, "%s must be an integer, not %s", path, describe(n))
		return 0, false
	}
	return i, true
}

// boolean decodes a boolean scalar (true or false).
func (ps *parser) boolean(n *yaml.Node, path string) (bool, bool) {
	if !ps.scalar(n, path, "true or false") {
		return false, false
	}
	var b bool
	if n.Tag != "!!bool" || n.Decode(&b) != nil {
		ps.errorf(n, "%s must be true or false, not %s", path, describe(n))
		return false, false
	}
	return b, true
}

// duration parses a period scalar with [ParseDuration].
func (ps *parser) duration(n *yaml.Node, path string) (time.Duration, bool) {
	if !ps.scalar(n, path, `a period such as "90d"`) {
		return 0, false
	}
	d, err := parseDuration(n.Value)
	if err != nil {
		ps.errorf(n, "%s: %v", path, err)
		return 0, false
	}
	return d, true
}

// stringList decodes a list of distinct non-empty strings, returning them with their nodes (for error
// lines). An empty list is an error unless allowEmpty; ok is false when anything was recorded.
func (ps *parser) stringList(n *yaml.Node, path string, allowEmpty bool) (list []string, nodes []*yaml.Node, ok bool) {
	if !ps.list(n, path) {
		return nil, nil, false
	}
	if len(n.Content) == 0 && !allowEmpty {
		ps.errorf(n, "%s is an empty list, which would forbid everything: list at least one, or remove the key for no rule", path)
		return nil, nil, false
	}
	ok = true
	list = make([]string, 0, len(n.Content))
	seen := make(map[string]bool)
	for i, item := range n.Content {
		item = resolve(item)
		switch {
		case item == nil || item.Kind != yaml.ScalarNode || item.Tag != "!!str":
			what := "an unsupported YAML node"
			if item != nil {
				what = describe(item)
			}
			ps.errorf(n.Content[i], "%s[%d] must be a string (quote it), not %s", path, i, what)
			ok = false
		case item.Value == "":
			ps.errorf(item, "%s[%d] is empty", path, i)
			ok = false
		case seen[item.Value]:
			ps.errorf(item, "%s lists %q twice", path, item.Value)
			ok = false
		default:
			seen[item.Value] = true
			list = append(list, item.Value)
			nodes = append(nodes, item)
		}
	}
	if !ok {
		return nil, nil, false
	}
	return list, nodes, true
}

// list reports whether n is a list, recording an error otherwise.
func (ps *parser) list(n *yaml.Node, path string) bool {
	switch {
	case isNull(n):
		ps.errorf(n, "%s has no value: give a list such as [a, b], or remove the key", path)
	case n.Kind != yaml.SequenceNode:
		ps.errorf(n, "%s must be a list such as [a, b], not %s", path, describe(n))
	default:
		return true
	}
	return false
}

// or returns p, or the default policy when p is nil.
func (p *Policy) or() *Policy {
	if p == nil {
		return defaultPolicy
	}
	return p
}

// cryptoperiod returns the longest time a version of an algorithm key may be primary (0 = no limit), and
// whether that limit is the default rather than the algorithm's own entry.
func (p *Policy) cryptoperiod(algorithm string) (limit time.Duration, isDefault bool) {
	if d, ok := p.periods[algorithm]; ok {
		return d, false
	}
	return p.defaultPeriod, true
}

// Document is a JSON-friendly description of a policy as loaded, for the API (GET of the current policy)
// and `arca policy show`. Its field names are those of the policy file, so that a Document marshalled to
// JSON or YAML is a policy document [Parse] accepts and that describes the same rules.
type Document struct {
	// Version is the format version, always [Version].
	Version int `json:"version" yaml:"version"`
	// Algorithms are the algorithm rules.
	Algorithms AlgorithmsDocument `json:"algorithms" yaml:"algorithms"`
	// Cryptoperiod maps "default" and algorithm names to their longest primary period, as
	// [FormatDuration] renders it; only rules the policy sets appear, and it is nil when there are none.
	Cryptoperiod map[string]string `json:"cryptoperiod,omitempty" yaml:"cryptoperiod,omitempty"`
	// Rotation are the rotation rules.
	Rotation RotationDocument `json:"rotation" yaml:"rotation"`
	// Labels are the label rules.
	Labels LabelsDocument `json:"labels" yaml:"labels"`
}

// AlgorithmsDocument describes the algorithm rules of a [Document].
type AlgorithmsDocument struct {
	// Allowed is the effective allowed list: the policy's, in its order, or every algorithm [Strength]
	// knows (in [Algorithms] order) when the policy names none. Never empty.
	Allowed []string `json:"allowed" yaml:"allowed"`
	// MinStrengthBits is the minimum security strength; 0 means none.
	MinStrengthBits int `json:"min_strength_bits" yaml:"min_strength_bits,omitempty"`
}

// RotationDocument describes the rotation rules of a [Document].
type RotationDocument struct {
	// Required says every key must have a rotation period.
	Required bool `json:"required" yaml:"required"`
	// MaxPeriod is the longest rotation period allowed, as [FormatDuration] renders it; empty means no
	// limit.
	MaxPeriod string `json:"max_period,omitempty" yaml:"max_period,omitempty"`
}

// LabelsDocument describes the label rules of a [Document].
type LabelsDocument struct {
	// Required are the labels every key must carry, in policy order; empty (never nil) when none.
	Required []string `json:"required" yaml:"required"`
	// AllowedValues maps a label to the values it may take; nil when the policy restricts none.
	AllowedValues map[string][]string `json:"allowed_values,omitempty" yaml:"allowed_values,omitempty"`
}

// Document describes the policy as loaded. The result shares nothing with p: callers may modify it.
func (p *Policy) Document() Document {
	p = p.or()
	d := Document{
		Version: Version,
		Algorithms: AlgorithmsDocument{
			Allowed:         slices.Clone(p.allowed),
			MinStrengthBits: p.minStrength,
		},
		Rotation: RotationDocument{Required: p.rotationRequired},
		Labels:   LabelsDocument{Required: append([]string{}, p.requiredLabels...)},
	}
	if p.defaultPeriod > 0 || len(p.periods) > 0 {
		d.Cryptoperiod = make(map[string]string, len(p.periods)+1)
		if p.defaultPeriod > 0 {
			d.Cryptoperiod[defaultKey] = FormatDuration(p.defaultPeriod)
		}
		for name, period := range p.periods {
			d.Cryptoperiod[name] = FormatDuration(period)
		}
	}
	if p.rotationMax > 0 {
		d.Rotation.MaxPeriod = FormatDuration(p.rotationMax)
	}
	if len(p.allowedValues) > 0 {
		d.Labels.AllowedValues = make(map[string][]string, len(p.allowedValues))
		for label, values := range p.allowedValues {
			d.Labels.AllowedValues[label] = slices.Clone(values)
		}
	}
	return d
}
