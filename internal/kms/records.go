package kms

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/arcakms/arca/internal/seal"
	"github.com/arcakms/arca/internal/storage"
)

// Namespaces of the storage backend used by the service.
const (
	nsSys         storage.Namespace = "sys"
	nsKeys        storage.Namespace = "keys"
	nsKeyNames    storage.Namespace = "key_names"
	nsKeyVersions storage.Namespace = "key_versions"
	nsTokens      storage.Namespace = "tokens"
)

// recordFormat is the first byte of every MAC'd record.
const recordFormat byte = 1

// encodeRecord serialises v as JSON and prefixes it with a format byte and a
// MAC over (namespace, key, JSON), so a record altered on disk, or moved to
// another key or namespace, is detected.
func encodeRecord(kr *seal.Keyring, ns storage.Namespace, key string, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s record: %w", ns, err)
	}
	mac := kr.MAC([]byte(ns), []byte(key), body)
	out := make([]byte, 0, 1+len(mac)+len(body))
	out = append(out, recordFormat)
	out = append(out, mac...)
	return append(out, body...), nil
}

// errTampered is reported for any record that fails its integrity check.
func errTampered(ns storage.Namespace, key string) *Error {
	return &Error{Code: CodeRecordTampered, Message: fmt.Sprintf("stored %s record %q failed its integrity check and was not used", ns, key), Err: seal.ErrTampered}
}

// decodeRecord verifies a record written by encodeRecord and decodes it into v.
func decodeRecord(kr *seal.Keyring, ns storage.Namespace, key string, data []byte, v any) error {
	if len(data) < 1+seal.MACSize || data[0] != recordFormat {
		return errTampered(ns, key)
	}
	mac, body := data[1:1+seal.MACSize], data[1+seal.MACSize:]
	if !kr.VerifyMAC(mac, []byte(ns), []byte(key), body) {
		return errTampered(ns, key)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errTampered(ns, key)
	}
	return nil
}

// getRecord reads and verifies one record. A missing record is returned as
// storage.ErrNotFound for the caller to translate.
func getRecord(tx storage.Tx, kr *seal.Keyring, ns storage.Namespace, key string, v any) (uint64, error) {
	it, err := tx.Get(ns, key)
	if err != nil {
		return 0, err
	}
	return it.Revision, decodeRecord(kr, ns, key, it.Value, v)
}

// storageError turns a storage failure into an *Error (internal unless it
// is one the caller already handles).
func storageError(op string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return internal(op, err)
}

// casKey writes rec over the stored key record, if that is still at
// revision rev.
func casKey(tx storage.Tx, kr *seal.Keyring, rec *keyRecord, rev uint64) error {
	v, err := encodeRecord(kr, nsKeys, rec.ID, rec)
	if err != nil {
		return err
	}
	_, err = tx.CompareAndSwap(nsKeys, rec.ID, v, rev)
	return err
}

// casVersion writes vr over the stored version record, if that is still at
// revision rev.
func casVersion(tx storage.Tx, kr *seal.Keyring, vr *versionRecord, rev uint64) error {
	k := versionKey(vr.KeyID, vr.Version)
	v, err := encodeRecord(kr, nsKeyVersions, k, vr)
	if err != nil {
		return err
	}
	_, err = tx.CompareAndSwap(nsKeyVersions, k, v, rev)
	return err
}
