package kubekms

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// FormatAnnotation is the annotation Encrypt adds to every response and
// Decrypt requires. kube-apiserver requires annotation keys to be fully
// qualified domain names and stores the annotations with each object.
const FormatAnnotation = "format.kms.arca.dev"

// FormatCiphertextV1 is the value of FormatAnnotation: the ciphertext is
// the binary form of Arca's ciphertext format v1 (docs/ciphertext.md §4).
const FormatCiphertextV1 = "arca-ciphertext-v1"

// MaxCiphertext is the largest ciphertext kube-apiserver accepts from a
// KMS v2 plugin, in bytes.
const MaxCiphertext = 1024

// textPrefix starts the text form of a v1 ciphertext, which the REST API
// speaks; the plugin hands kube-apiserver the shorter binary form.
const textPrefix = "arca:v1:"

// Fixed layout of the v1 binary header (docs/ciphertext.md §4).
const (
	formatVersion1 = 0x01
	offKeyID       = 2
	offKeyVersion  = 18
	fixedHeader    = 23
	tagSize        = 16
)

// base64url is the strict, unpadded URL-safe alphabet of the text form.
var base64url = base64.RawURLEncoding.Strict()

// KeyID formats the key id the plugin reports for one version of an Arca
// key: "<key id>:v<version>", e.g. "1b4e28ba-2fa1-11d2-883f-0016d3cca427:v3".
// It is stable for a version and changes when the key rotates, which is
// what kube-apiserver needs to notice a rotation.
func KeyID(arcaKeyID string, version int) string {
	return arcaKeyID + ":v" + strconv.Itoa(version)
}

// compact turns the text ciphertext the API returns into its binary form.
func compact(text string) ([]byte, error) {
	enc, ok := strings.CutPrefix(text, textPrefix)
	if !ok {
		return nil, errors.New("server returned a ciphertext that is not in format v1")
	}
	if strings.ContainsAny(enc, "\r\n") {
		// encoding/base64 skips line breaks even when strict.
		return nil, errors.New("server returned a malformed ciphertext: line break")
	}
	ct, err := base64url.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("server returned a malformed ciphertext: %w", err)
	}
	return ct, nil
}

// expand turns a binary ciphertext back into the text form the API takes.
func expand(ct []byte) string {
	return textPrefix + base64url.EncodeToString(ct)
}

// ciphertextKeyID checks the fixed part of a binary v1 ciphertext and
// returns the key id (KeyID form) of the version it names. The server
// validates the rest when it decrypts.
func ciphertextKeyID(ct []byte) (string, error) {
	switch {
	case len(ct) > MaxCiphertext:
		return "", fmt.Errorf("ciphertext is %d bytes, more than %d", len(ct), MaxCiphertext)
	case len(ct) < fixedHeader+tagSize:
		return "", fmt.Errorf("ciphertext is %d bytes, too short for format v1", len(ct))
	case ct[0] != formatVersion1:
		return "", fmt.Errorf("ciphertext format version %d is not 1", ct[0])
	}
	id := uuid.UUID(ct[offKeyID:offKeyVersion])
	v := binary.BigEndian.Uint32(ct[offKeyVersion:])
	if v == 0 || v > 1<<31-1 {
		return "", fmt.Errorf("ciphertext names key version %d", v)
	}
	return KeyID(id.String(), int(v)), nil
}

// checkAnnotations accepts exactly the annotations Encrypt produces.
// Unknown annotations are refused rather than ignored: they would mean a
// ciphertext this plugin did not make, or one from a newer plugin whose
// meaning it cannot know.
func checkAnnotations(a map[string][]byte) error {
	for k, v := range a {
		if k != FormatAnnotation {
			return fmt.Errorf("unknown annotation %.64q", k)
		}
		if string(v) != FormatCiphertextV1 {
			return fmt.Errorf("annotation %s: unsupported ciphertext format", FormatAnnotation)
		}
	}
	if _, ok := a[FormatAnnotation]; !ok {
		return fmt.Errorf("annotation %s is missing", FormatAnnotation)
	}
	return nil
}
