package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestNoFormattingPathRevealsTheSecret(t *testing.T) {
	t.Parallel()
	raw := []byte("very-secret-key-material-0123456789")
	s := New(append([]byte(nil), raw...))
	type holder struct {
		Key *Bytes
	}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		out = append(out, fmt.Sprintf(verb, s), fmt.Sprintf(verb, holder{s}))
	}
	js, err := json.Marshal(holder{s})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(js))
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("x", "key", s)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("x", "key", s)
	out = append(out, logBuf.String())
	for _, o := range out {
		if strings.Contains(o, string(raw)) || strings.Contains(o, fmt.Sprintf("%x", raw)) {
			t.Fatalf("secret leaked in %q", o)
		}
		if !strings.Contains(o, Redacted) {
			t.Fatalf("placeholder missing in %q", o)
		}
	}
	if !bytes.Equal(s.Reveal(), raw) {
		t.Fatal("Reveal does not return the secret")
	}
}

func TestWipeZeroesTheBuffer(t *testing.T) {
	t.Parallel()
	buf := []byte{1, 2, 3, 4}
	s := New(buf)
	s.Wipe()
	if !bytes.Equal(buf, []byte{0, 0, 0, 0}) {
		t.Fatalf("buffer not zeroed: %v", buf)
	}
	if s.Len() != 0 || s.Reveal() != nil {
		t.Fatal("wiped secret still has content")
	}
	var nilSecret *Bytes
	nilSecret.Wipe()
	if nilSecret.Len() != 0 {
		t.Fatal("nil secret has length")
	}
}

func TestRandomAndClone(t *testing.T) {
	t.Parallel()
	a, err := Random(32)
	if err != nil {
		t.Fatal(err)
	}
	b := a.Clone()
	if !bytes.Equal(a.Reveal(), b.Reveal()) || a.Len() != 32 {
		t.Fatal("clone differs")
	}
	a.Wipe()
	if b.Len() != 32 {
		t.Fatal("wiping the original wiped the clone")
	}
}
