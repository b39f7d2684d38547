package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

const examplePath = "testdata/example.yaml"

// exampleDocument is what testdata/example.yaml describes, written out by hand.
var exampleDocument = Document{
	Version: 1,
	Algorithms: AlgorithmsDocument{
		Allowed:         []string{"aes-256-gcm", "chacha20-poly1305", "ecdsa-p384", "ml-kem-1024"},
		MinStrengthBits: 128,
	},
	Cryptoperiod: map[string]string{"default": "2y", "aes-256-gcm": "1y", "chacha20-poly1305": "1y"},
	Rotation:     RotationDocument{Required: true, MaxPeriod: "90d"},
	Labels: LabelsDocument{
		Required:      []string{"owner", "data-classification"},
		AllowedValues: map[string][]string{"data-classification": {"public", "internal", "confidential", "pci"}},
	},
}

// exampleJSON is the API rendering of the example: field names and shape are part of the API.
const exampleJSON = `{"version":1,"algorithms":{"allowed":["aes-256-gcm","chacha20-poly1305","ecdsa-p384","ml-kem-1024"],` +
	`"min_strength_bits":128},"cryptoperiod":{"aes-256-gcm":"1y","chacha20-poly1305":"1y","default":"2y"},` +
	`"rotation":{"required":true,"max_period":"90d"},"labels":{"required":["owner","data-classification"],` +
	`"allowed_values":{"data-classification":["public","internal","confidential","pci"]}}}`

// defaultDocument is the Document of Default().
var defaultDocument = Document{
	Version:    1,
	Algorithms: AlgorithmsDocument{Allowed: Algorithms()},
	Labels:     LabelsDocument{Required: []string{}},
}

func TestLoadExample(t *testing.T) {
	t.Parallel()
	p, err := Load(examplePath)
	if err != nil {
		t.Fatalf("Load(%s): %v", examplePath, err)
	}
	if got := p.Document(); !reflect.DeepEqual(got, exampleDocument) {
		t.Fatalf("Document() =\n%#v\nwant\n%#v", got, exampleDocument)
	}
	got, err := json.Marshal(p.Document())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != exampleJSON {
		t.Fatalf("JSON =\n%s\nwant\n%s", got, exampleJSON)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.HasPrefix(err.Error(), "policy: ") {
		t.Errorf("Load(missing) error = %v; want a policy: error", err)
	}
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("version: 1\nrotaton: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := "policy: " + path + `: line 2: unknown key "rotaton"`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Load(bad) error = %v; want prefix %q", err, want)
	}
}

// TestParseDefault covers documents that are the permissive default policy.
func TestParseDefault(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{"", "\n", "# only a comment\n", "---\n", "~\n", "null\n", "---\n# comment\n...\n"} {
		p, err := Parse([]byte(doc))
		if err != nil {
			t.Errorf("Parse(%q): %v", doc, err)
			continue
		}
		if got := p.Document(); !reflect.DeepEqual(got, defaultDocument) {
			t.Errorf("Parse(%q).Document() = %#v; want the default %#v", doc, got, defaultDocument)
		}
	}
	if got := Default().Document(); !reflect.DeepEqual(got, defaultDocument) {
		t.Errorf("Default().Document() = %#v; want %#v", got, defaultDocument)
	}
	var nilPolicy *Policy
	if got := nilPolicy.Document(); !reflect.DeepEqual(got, defaultDocument) {
		t.Errorf("(*Policy)(nil).Document() = %#v; want the default", got)
	}
}

// TestParseValid covers accepted documents at the edges of the rules.
func TestParseValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want Document
	}{
		{
			name: "version only",
			doc:  "version: 1\n",
			want: defaultDocument,
		},
		{
			name: "empty sections are absent sections",
			doc:  "version: 1\nalgorithms:\ncryptoperiod:\nrotation:\nlabels:\n",
			want: defaultDocument,
		},
		{
			name: "explicit defaults",
			doc:  "version: 1\nalgorithms: {min_strength_bits: 0}\nrotation: {required: false}\nlabels: {required: []}\n",
			want: defaultDocument,
		},
		{
			name: "cryptoperiod for an algorithm that is not allowed (existing keys)",
			doc:  "version: 1\nalgorithms: {allowed: [aes-256-gcm]}\ncryptoperiod: {rsa-2048: 30d}\nrotation: {max_period: 90d}\n",
			want: Document{
				Version:      1,
				Algorithms:   AlgorithmsDocument{Allowed: []string{"aes-256-gcm"}},
				Cryptoperiod: map[string]string{"rsa-2048": "30d"},
				Rotation:     RotationDocument{MaxPeriod: "90d"},
				Labels:       LabelsDocument{Required: []string{}},
			},
		},
		{
			name: "max rotation beyond the cryptoperiod of an algorithm below the minimum strength",
			doc:  "version: 1\nalgorithms: {min_strength_bits: 192}\ncryptoperiod: {rsa-2048: 30d}\nrotation: {max_period: 90d}\n",
			want: Document{
				Version:      1,
				Algorithms:   AlgorithmsDocument{Allowed: Algorithms(), MinStrengthBits: 192},
				Cryptoperiod: map[string]string{"rsa-2048": "30d"},
				Rotation:     RotationDocument{MaxPeriod: "90d"},
				Labels:       LabelsDocument{Required: []string{}},
			},
		},
		{
			name: "max rotation equal to the cryptoperiod",
			doc:  "version: 1\ncryptoperiod: {default: 90d}\nrotation: {required: true, max_period: 2160h}\n",
			want: Document{
				Version:      1,
				Algorithms:   AlgorithmsDocument{Allowed: Algorithms()},
				Cryptoperiod: map[string]string{"default": "90d"},
				Rotation:     RotationDocument{Required: true, MaxPeriod: "90d"},
				Labels:       LabelsDocument{Required: []string{}},
			},
		},
		{
			name: "allowed algorithm exactly at the minimum strength, anchors and aliases",
			doc: "version: 1\nalgorithms:\n  allowed: &algs [rsa-3072, ed25519]\n  min_strength_bits: 128\n" +
				"labels:\n  required: &req [owner]\n  allowed_values: {owner: [\"1\", 'two'], tier: *req}\n",
			want: Document{
				Version:    1,
				Algorithms: AlgorithmsDocument{Allowed: []string{"rsa-3072", "ed25519"}, MinStrengthBits: 128},
				Labels: LabelsDocument{
					Required:      []string{"owner"},
					AllowedValues: map[string][]string{"owner": {"1", "two"}, "tier": {"owner"}},
				},
			},
		},
		{
			name: "JSON is YAML",
			doc:  `{"version": 1, "rotation": {"required": true}}`,
			want: Document{
				Version:    1,
				Algorithms: AlgorithmsDocument{Allowed: Algorithms()},
				Rotation:   RotationDocument{Required: true},
				Labels:     LabelsDocument{Required: []string{}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse([]byte(tt.doc))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := p.Document(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Document() =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

// TestParseInvalid covers every kind of refused document. Each error must contain all of want.
func TestParseInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		// Structure.
		{"syntax error", "version: 1\nalgorithms: [\n", []string{"policy: yaml: line"}},
		{"top level is a list", "- version: 1\n", []string{"line 1", "a policy is a mapping", "not a list"}},
		{"top level is a scalar", "hello\n", []string{"line 1", "a policy is a mapping", `not string "hello"`}},
		{"two documents", "version: 1\n---\nversion: 1\n", []string{"line 2", "more than one YAML document"}},
		{"unknown top-level key", "version: 1\nalgoritms: {}\n", []string{"line 2", `unknown key "algoritms"`, "valid keys: version, algorithms"}},
		{"unknown key in algorithms", "version: 1\nalgorithms:\n  allow: [aes-256-gcm]\n", []string{"line 3", `unknown key "allow" in algorithms`}},
		{"unknown key in rotation", "version: 1\nrotation:\n  period: 90d\n", []string{"line 3", `unknown key "period" in rotation`}},
		{"unknown key in labels", "version: 1\nlabels:\n  require: [owner]\n", []string{"line 3", `unknown key "require" in labels`}},
		{"merge key", "version: 1\n<<: {rotation: {}}\n", []string{"line 2", `unknown key "<<"`}},
		{"complex key", "version: 1\n? [a, b]\n: c\n", []string{"line 2", "the policy: keys must be plain names"}},
		{"null key", "version: 1\nrotation: {~: 1}\n", []string{"line 2", "rotation: keys must be plain names"}},
		{"duplicate key", "version: 1\nrotation: {}\nrotation: {}\n", []string{"line 3", `duplicate key "rotation"`, "first at line 2"}},
		{"duplicate cryptoperiod", "version: 1\ncryptoperiod:\n  default: 1y\n  default: 2y\n", []string{"line 4", `duplicate key "default" in cryptoperiod`}},

		// Version.
		{"version missing", "rotation: {required: true}\n", []string{"line 1", "version is required"}},
		{"version 2", "version: 2\n", []string{"line 1", "unsupported policy version 2"}},
		{"version 0", "version: 0\n", []string{"unsupported policy version 0"}},
		{"version as a string", "version: \"1\"\n", []string{"line 1", "version must be an integer", `not string "1"`}},
		{"version without value", "version:\n", []string{"version has no value"}},

		// Algorithms.
		{"unknown algorithm", "version: 1\nalgorithms:\n  allowed: [aes-256-gcm, aes-512-gcm]\n", []string{"line 3", `unknown algorithm "aes-512-gcm"`}},
		{"algorithm in wrong case", "version: 1\nalgorithms: {allowed: [AES-256-GCM]}\n", []string{`unknown algorithm "AES-256-GCM"`}},
		{"allowed is a scalar", "version: 1\nalgorithms: {allowed: aes-256-gcm}\n", []string{"algorithms.allowed must be a list", `not string "aes-256-gcm"`}},
		{"allowed is empty", "version: 1\nalgorithms: {allowed: []}\n", []string{"algorithms.allowed is an empty list"}},
		{"allowed has no value", "version: 1\nalgorithms:\n  allowed:\n", []string{"line 3", "algorithms.allowed has no value"}},
		{"allowed repeats", "version: 1\nalgorithms: {allowed: [ed25519, ed25519]}\n", []string{`algorithms.allowed lists "ed25519" twice`}},
		{"allowed entry is a number", "version: 1\nalgorithms: {allowed: [42]}\n", []string{"algorithms.allowed[0] must be a string", `integer "42"`}},
		{"allowed entry is a list", "version: 1\nalgorithms: {allowed: [[ed25519]]}\n", []string{"algorithms.allowed[0] must be a string", "a list"}},
		{"algorithms is a list", "version: 1\nalgorithms: [aes-256-gcm]\n", []string{"algorithms must be a mapping, not a list"}},
		{"min strength is a string", "version: 1\nalgorithms: {min_strength_bits: high}\n", []string{"algorithms.min_strength_bits must be an integer", `not string "high"`}},
		{"min strength is a float", "version: 1\nalgorithms: {min_strength_bits: 128.5}\n", []string{"algorithms.min_strength_bits must be an integer"}},
		{"min strength has no value", "version: 1\nalgorithms:\n  min_strength_bits:\n", []string{"line 3", "algorithms.min_strength_bits has no value"}},
		{"min strength negative", "version: 1\nalgorithms: {min_strength_bits: -1}\n", []string{"must be 0 (no minimum) or more"}},
		{"min strength above 256", "version: 1\nalgorithms: {min_strength_bits: 257}\n", []string{"no algorithm is stronger than 256 bits"}},
		{"min strength overflows", "version: 1\nalgorithms: {min_strength_bits: 99999999999999999999}\n", []string{"algorithms.min_strength_bits must be an integer"}},
		{"allowed algorithm below the minimum", "version: 1\nalgorithms:\n  allowed: [aes-256-gcm, rsa-2048]\n  min_strength_bits: 128\n",
			[]string{"line 3", "algorithms.allowed lists rsa-2048 (112 bits), weaker than algorithms.min_strength_bits (128)"}},

		// Cryptoperiod.
		{"cryptoperiod for an unknown algorithm", "version: 1\ncryptoperiod:\n  aes-128-gcm: 1y\n", []string{"line 3", `unknown key "aes-128-gcm" in cryptoperiod`}},
		{"fractional days", "version: 1\ncryptoperiod:\n  default: 1.5d\n", []string{"line 3", "cryptoperiod.default", `invalid duration "1.5d"`}},
		{"negative cryptoperiod", "version: 1\ncryptoperiod: {aes-256-gcm: -3d}\n", []string{"cryptoperiod.aes-256-gcm", "negative duration"}},
		{"zero cryptoperiod", "version: 1\ncryptoperiod: {default: 0d}\n", []string{"cryptoperiod.default", "zero duration"}},
		{"cryptoperiod without unit", "version: 1\ncryptoperiod: {default: 90}\n", []string{"cryptoperiod.default", `invalid duration "90"`}},
		{"cryptoperiod too long", "version: 1\ncryptoperiod: {default: 99999999999y}\n", []string{"cryptoperiod.default", "too long"}},
		{"cryptoperiod has no value", "version: 1\ncryptoperiod:\n  default:\n", []string{"line 3", "cryptoperiod.default has no value"}},
		{"cryptoperiod is a list", "version: 1\ncryptoperiod: [1y]\n", []string{"cryptoperiod must be a mapping, not a list"}},
		{"cryptoperiod value is a mapping", "version: 1\ncryptoperiod: {default: {y: 1}}\n", []string{"cryptoperiod.default must be a period", "a mapping"}},

		// Rotation.
		{"required is yes", "version: 1\nrotation: {required: yes}\n", []string{"rotation.required must be true or false", `not string "yes"`}},
		{"required is 1", "version: 1\nrotation: {required: 1}\n", []string{"rotation.required must be true or false", `integer "1"`}},
		{"max period bad", "version: 1\nrotation:\n  max_period: d\n", []string{"line 3", "rotation.max_period", `invalid duration "d"`}},
		{"max period negative", "version: 1\nrotation: {max_period: -3d}\n", []string{"rotation.max_period", "negative"}},
		{"max period zero", "version: 1\nrotation: {max_period: 0s}\n", []string{"rotation.max_period", "zero duration"}},
		{"max period longer than an algorithm's cryptoperiod", "version: 1\ncryptoperiod:\n  default: 2y\n  aes-256-gcm: 30d\nrotation:\n  max_period: 90d\n",
			[]string{"line 6", "rotation.max_period 90d is longer than the cryptoperiod of aes-256-gcm (30d)", "at most 30d"}},
		{"max period longer than the default cryptoperiod", "version: 1\nalgorithms: {allowed: [ed25519, ecdsa-p256]}\ncryptoperiod: {default: 60d, ed25519: 1y}\nrotation: {max_period: 90d}\n",
			[]string{"rotation.max_period 90d is longer than the cryptoperiod of ecdsa-p256 (60d)"}},

		// Labels.
		{"required labels is a scalar", "version: 1\nlabels: {required: owner}\n", []string{"labels.required must be a list", `not string "owner"`}},
		{"required label empty", "version: 1\nlabels: {required: [owner, \"\"]}\n", []string{"labels.required[1] is empty"}},
		{"required label repeated", "version: 1\nlabels: {required: [owner, owner]}\n", []string{`labels.required lists "owner" twice`}},
		{"required label is a number", "version: 1\nlabels: {required: [7]}\n", []string{"labels.required[0] must be a string (quote it)"}},
		{"allowed values is a list", "version: 1\nlabels: {allowed_values: [tier]}\n", []string{"labels.allowed_values must be a mapping, not a list"}},
		{"allowed values of a label is a scalar", "version: 1\nlabels:\n  allowed_values:\n    tier: gold\n", []string{"line 4", "labels.allowed_values.tier must be a list"}},
		{"allowed values empty", "version: 1\nlabels: {allowed_values: {tier: []}}\n", []string{"labels.allowed_values.tier is an empty list"}},
		{"allowed value is a number", "version: 1\nlabels: {allowed_values: {tier: [1, 2]}}\n", []string{"labels.allowed_values.tier[0] must be a string (quote it)", `integer "1"`}},
		{"allowed value repeated", "version: 1\nlabels: {allowed_values: {tier: [a, a]}}\n", []string{`labels.allowed_values.tier lists "a" twice`}},
		{"label name is a number", "version: 1\nlabels: {allowed_values: {1: [a]}}\n", []string{`label name integer "1" must be a non-empty string`}},
		{"label name is empty", "version: 1\nlabels: {allowed_values: {\"\": [a]}}\n", []string{`label name string "" must be a non-empty string`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, nil; want an error", tt.doc, p.Document())
			}
			if p != nil {
				t.Errorf("Parse returned a policy with its error")
			}
			if !strings.HasPrefix(err.Error(), "policy: ") {
				t.Errorf("error %q does not start with \"policy: \"", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%q) error =\n%v\nwant it to contain %q", tt.doc, err, w)
				}
			}
		})
	}
}

// TestParseReportsEveryProblem checks that one Parse reports all problems, in line order.
func TestParseReportsEveryProblem(t *testing.T) {
	t.Parallel()
	doc := "version: 1\n" +
		"labels: {required: [owner, owner]}\n" + // line 2
		"rotation: {max_period: 1.5d}\n" + // line 3
		"algorithms: {allowed: [aes-512]}\n" + // line 4
		"extra: true\n" // line 5
	_, err := Parse([]byte(doc))
	if err == nil {
		t.Fatal("Parse accepted the document")
	}
	lines := strings.Split(err.Error(), "\n")
	wantPrefixes := []string{"policy: line 2: ", "policy: line 3: ", "policy: line 4: ", "policy: line 5: "}
	if len(lines) != len(wantPrefixes) {
		t.Fatalf("error has %d lines; want %d:\n%v", len(lines), len(wantPrefixes), err)
	}
	for i, w := range wantPrefixes {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("error line %d = %q; want prefix %q", i, lines[i], w)
		}
	}
}

// TestDocumentRoundTrip checks that a Document, marshalled to JSON or to YAML, is a policy document that
// parses back to the same Document.
func TestDocumentRoundTrip(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{
		"example": string(example),
		"default": "",
		"minimal": "version: 1\ncryptoperiod: {ml-dsa-87: 36h}\nrotation: {max_period: 1h30m}\n",
	}
	marshalers := map[string]func(any) ([]byte, error){"json": json.Marshal, "yaml": yaml.Marshal}
	for name, doc := range docs {
		for format, marshal := range marshalers {
			t.Run(name+"/"+format, func(t *testing.T) {
				t.Parallel()
				p, err := Parse([]byte(doc))
				if err != nil {
					t.Fatal(err)
				}
				want := p.Document()
				data, err := marshal(want)
				if err != nil {
					t.Fatal(err)
				}
				q, err := Parse(data)
				if err != nil {
					t.Fatalf("Parse(%s) of\n%s\n: %v", format, data, err)
				}
				if got := q.Document(); !reflect.DeepEqual(got, want) {
					t.Fatalf("round trip through %s:\n%s\ngave %#v\nwant %#v", format, data, got, want)
				}
			})
		}
	}
}

// TestDocumentIsACopy checks that modifying a Document does not change the policy it came from.
func TestDocumentIsACopy(t *testing.T) {
	t.Parallel()
	p, err := Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	d := p.Document()
	d.Algorithms.Allowed[0] = "rsa-2048"
	d.Cryptoperiod["default"] = "1d"
	d.Labels.Required[0] = "nobody"
	d.Labels.AllowedValues["data-classification"][0] = "secret"
	d.Labels.AllowedValues["new"] = []string{"x"}
	if got := p.Document(); !reflect.DeepEqual(got, exampleDocument) {
		t.Fatalf("policy changed through its Document: %#v", got)
	}
}

// TestConcurrentUse shares one policy between goroutines; run with -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	p, err := Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_ = p.Document()
				_ = p.CheckCreate(Key{Algorithm: "rsa-2048"})
				_ = p.Check(Key{Algorithm: "aes-256-gcm", Labels: map[string]string{"data-classification": "x"}}, checkNow)
			}
		})
	}
	wg.Wait()
}
