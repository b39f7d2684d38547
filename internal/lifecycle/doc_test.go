package lifecycle

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// update rewrites the generated sections of docs/lifecycle.md:
//
//	go test ./internal/lifecycle -run Doc -update
var update = flag.Bool("update", false, "rewrite the generated sections of docs/lifecycle.md from the code")

const docPath = "../../docs/lifecycle.md"

// docSections are the generated parts of the document, each between <!-- NAME:begin --> and <!-- NAME:end -->.
var docSections = []struct {
	name   string
	render func() string
}{
	{"diagram", renderDiagram},
	{"transitions", renderTransitions},
	{"permissions", renderPermissions},
}

// renderTransitions renders Transitions() as a markdown table, grouped by state; states without legal
// actions are listed as terminal.
func renderTransitions() string {
	var b strings.Builder
	b.WriteString("| from | action | to |\n|---|---|---|\n")
	trs := Transitions()
	for _, s := range States() {
		n := 0
		for _, tr := range trs {
			if tr.From != s {
				continue
			}
			n++
			to := fmt.Sprintf("`%s`", tr.To)
			if tr.Action == CancelDestruction {
				to += " if it was " + string(tr.To) + " when destruction was scheduled"
			}
			fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", tr.From, tr.Action, to)
		}
		if n == 0 {
			fmt.Fprintf(&b, "| `%s` | none | terminal |\n", s)
		}
	}
	return b.String()
}

// renderPermissions renders Permits() for every state as a markdown table.
func renderPermissions() string {
	yes := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "no"
	}
	var b strings.Builder
	b.WriteString("| state | `encrypt` | `decrypt` | `decrypt` with `allow_compromised` | `read-public` | `read-metadata` |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, s := range States() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", s,
			yes(Permits(s, Encrypt, false)), yes(Permits(s, Decrypt, false)),
			yes(Permits(s, Decrypt, true)), yes(Permits(s, ReadPublic, false)), yes(Permits(s, ReadMetadata, false)))
	}
	return b.String()
}

// mermaidID turns "destroy-scheduled" into "DestroyScheduled" (Mermaid ids cannot contain hyphens).
func mermaidID(s State) string {
	var b strings.Builder
	for _, part := range strings.Split(string(s), "-") {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// renderDiagram renders Transitions() as a Mermaid state diagram.
func renderDiagram() string {
	var b strings.Builder
	b.WriteString("```mermaid\nstateDiagram-v2\n")
	for _, s := range States() {
		fmt.Fprintf(&b, "    state \"%s\" as %s\n", s, mermaidID(s))
	}
	for _, tr := range Transitions() {
		fmt.Fprintf(&b, "    %s --> %s : %s\n", mermaidID(tr.From), mermaidID(tr.To), tr.Action)
	}
	for _, s := range States() {
		terminal := true
		for _, tr := range Transitions() {
			terminal = terminal && tr.From != s
		}
		if terminal {
			fmt.Fprintf(&b, "    %s --> [*]\n", mermaidID(s))
		}
	}
	b.WriteString("```\n")
	return b.String()
}

// replaceSection returns doc with the text between the markers of section name replaced by body.
func replaceSection(doc, name, body string) (string, error) {
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i || strings.Count(doc, begin) != 1 || strings.Count(doc, end) != 1 {
		return "", fmt.Errorf("%s: want exactly one %q line followed by one %q line", docPath, strings.TrimSpace(begin), end)
	}
	return doc[:i+len(begin)] + body + doc[j:], nil
}

func TestDocGeneratedSections(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	want := doc
	for _, sec := range docSections {
		if want, err = replaceSection(want, sec.name, sec.render()); err != nil {
			t.Fatal(err)
		}
	}
	if want == doc {
		return
	}
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", docPath)
		return
	}
	t.Errorf("%s is out of date with the code; run: go test ./internal/lifecycle -run Doc -update", docPath)
}

// The rendered tables must mention every state, action in the table, and only yes/no cells.
func TestDocRenderers(t *testing.T) {
	t.Parallel()
	tr := renderTransitions()
	for _, s := range States() {
		if !strings.Contains(tr, "| `"+string(s)+"` |") {
			t.Errorf("transition table lacks %s", s)
		}
	}
	if got, want := strings.Count(tr, "\n"), 2+len(Transitions())+1; got != want { // header, rows, destroyed
		t.Errorf("transition table has %d lines, want %d:\n%s", got, want, tr)
	}
	perm := renderPermissions()
	if !strings.Contains(perm, "| `active` | yes | yes | yes | yes | yes |") ||
		!strings.Contains(perm, "| `pre-active` | no | no | no | yes | yes |") ||
		!strings.Contains(perm, "| `compromised` | no | no | yes | no | yes |") ||
		!strings.Contains(perm, "| `destroyed` | no | no | no | no | yes |") {
		t.Errorf("permissions table:\n%s", perm)
	}
	if d := renderDiagram(); !strings.Contains(d, "DestroyScheduled --> PreActive : cancel-destruction") ||
		!strings.Contains(d, "Destroyed --> [*]") || strings.Count(d, " : ") != len(Transitions()) {
		t.Errorf("diagram:\n%s", d)
	}
}
