package kubekms

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arcakms/arca/client"
)

// sample is a well-formed aes-256-gcm v1 ciphertext of a 32-byte
// plaintext: key 1b4e28ba-2fa1-11d2-883f-0016d3cca427, version 7.
func sample() []byte {
	ct := []byte{0x01, 0x01, 0x1b, 0x4e, 0x28, 0xba, 0x2f, 0xa1, 0x11, 0xd2, 0x88, 0x3f, 0x00, 0x16, 0xd3, 0xcc, 0xa4, 0x27}
	ct = binary.BigEndian.AppendUint32(ct, 7)
	ct = append(ct, 12)
	return append(ct, make([]byte, 12+32+16)...)
}

func TestCiphertextKeyID(t *testing.T) {
	t.Parallel()
	withVersion := func(v uint32) []byte {
		ct := sample()
		binary.BigEndian.PutUint32(ct[offKeyVersion:], v)
		return ct
	}
	tests := []struct {
		name string
		ct   []byte
		want string // "" for an error
	}{
		{"well formed", sample(), "1b4e28ba-2fa1-11d2-883f-0016d3cca427:v7"},
		{"shortest", sample()[:fixedHeader+tagSize], "1b4e28ba-2fa1-11d2-883f-0016d3cca427:v7"},
		{"longest", append(sample(), make([]byte, MaxCiphertext-len(sample()))...), "1b4e28ba-2fa1-11d2-883f-0016d3cca427:v7"},
		{"too long", append(sample(), make([]byte, MaxCiphertext)...), ""},
		{"too short", sample()[:fixedHeader+tagSize-1], ""},
		{"empty", nil, ""},
		{"format version 2", append([]byte{2}, sample()[1:]...), ""},
		{"version 0", withVersion(0), ""},
		{"version above int32", withVersion(1 << 31), ""},
	}
	for _, tc := range tests {
		got, err := ciphertextKeyID(tc.ct)
		if (err == nil) != (tc.want != "") || got != tc.want {
			t.Errorf("%s: ciphertextKeyID = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

func TestCompactExpand(t *testing.T) {
	t.Parallel()
	ct := sample()
	text := expand(ct)
	if !strings.HasPrefix(text, "arca:v1:") || strings.ContainsAny(text, "=+/") {
		t.Fatalf("expand = %q", text)
	}
	back, err := compact(text)
	if err != nil || !bytes.Equal(back, ct) {
		t.Fatalf("compact(expand(ct)) = %x, %v", back, err)
	}
	for _, bad := range []string{"", "vault:v1:AAAA", "arca:v2:AAAA", "arca:v1:AA==", "arca:v1:A", "arca:v1:AA\nAA", "arca:v1:+/"} {
		if _, err := compact(bad); err == nil {
			t.Errorf("compact(%q) accepted", bad)
		}
	}
}

func TestCheckAnnotations(t *testing.T) {
	t.Parallel()
	ok := []byte(FormatCiphertextV1)
	tests := []struct {
		name string
		a    map[string][]byte
		ok   bool
	}{
		{"ours", map[string][]byte{FormatAnnotation: ok}, true},
		{"none", nil, false},
		{"other format", map[string][]byte{FormatAnnotation: []byte("arca-ciphertext-v2")}, false},
		{"unknown key too", map[string][]byte{FormatAnnotation: ok, "version.example.com": ok}, false},
		{"only unknown", map[string][]byte{"version.example.com": ok}, false},
	}
	for _, tc := range tests {
		if err := checkAnnotations(tc.a); (err == nil) != tc.ok {
			t.Errorf("%s: checkAnnotations = %v", tc.name, err)
		}
	}
}

func TestTransient(t *testing.T) {
	t.Parallel()
	apiErr := func(status int, code string) error { return &client.Error{StatusCode: status, Code: code} }
	tests := []struct {
		err       error
		transient bool
		code      codes.Code
	}{
		{errors.New("connection refused"), true, codes.Unavailable},
		{apiErr(http.StatusServiceUnavailable, client.CodeSealed), false, codes.Unavailable},
		{apiErr(http.StatusServiceUnavailable, client.CodeNotInitialized), false, codes.Unavailable},
		{apiErr(http.StatusServiceUnavailable, "storage_unavailable"), true, codes.Unavailable},
		{apiErr(http.StatusServiceUnavailable, client.CodeAuditUnavailable), true, codes.Unavailable},
		{apiErr(http.StatusBadGateway, ""), true, codes.Unavailable},
		{apiErr(http.StatusGatewayTimeout, ""), true, codes.Unavailable},
		{apiErr(http.StatusTooManyRequests, "rate_limited"), false, codes.ResourceExhausted},
		{apiErr(http.StatusBadRequest, client.CodeDecryptionFailed), false, codes.InvalidArgument},
		{apiErr(http.StatusUnauthorized, client.CodeUnauthorized), false, codes.Unauthenticated},
		{apiErr(http.StatusForbidden, client.CodeForbidden), false, codes.PermissionDenied},
		{apiErr(http.StatusNotFound, client.CodeKeyNotFound), false, codes.NotFound},
		{apiErr(http.StatusConflict, client.CodeKeyDeactivated), false, codes.FailedPrecondition},
		{apiErr(http.StatusGone, client.CodeKeyDestroyed), false, codes.FailedPrecondition},
		{apiErr(http.StatusInternalServerError, client.CodeInternal), false, codes.Internal},
	}
	for _, tc := range tests {
		if got := transient(tc.err); got != tc.transient {
			t.Errorf("transient(%v) = %v", tc.err, got)
		}
		if got := status.Code(grpcError("op", tc.err)); got != tc.code {
			t.Errorf("grpcError(%v) code %v, want %v", tc.err, got, tc.code)
		}
	}
}

// FuzzDecryptInput feeds arbitrary ciphertexts and annotation values to
// the checks Decrypt runs before it calls the server: they must never
// panic, and must accept only what they can describe.
func FuzzDecryptInput(f *testing.F) {
	f.Add(sample(), []byte(FormatCiphertextV1))
	f.Add([]byte{1}, []byte("x"))
	f.Fuzz(func(t *testing.T, ct, format []byte) {
		if keyID, err := ciphertextKeyID(ct); err == nil {
			if len(ct) > MaxCiphertext || ct[0] != 1 || !strings.Contains(keyID, ":v") {
				t.Fatalf("accepted %x as %q", ct, keyID)
			}
			if back, err := compact(expand(ct)); err != nil || !bytes.Equal(back, ct) {
				t.Fatalf("text form does not round-trip: %v", err)
			}
		}
		_ = checkAnnotations(map[string][]byte{FormatAnnotation: format})
	})
}
