package bolt

import (
	"encoding/binary"
	"fmt"

	"github.com/arcakms/arca/internal/storage"
)

// revSize is the length of the revision header in front of every stored value.
const revSize = 8

// encodeRecord lays out a stored value: the revision as 8 big-endian bytes,
// then a copy of value. The result never aliases value, because bbolt keeps
// a reference to what it is given until the transaction ends.
func encodeRecord(rev uint64, value []byte) []byte {
	buf := make([]byte, revSize+len(value))
	binary.BigEndian.PutUint64(buf, rev)
	copy(buf[revSize:], value)
	return buf
}

// decodeRecord splits a stored value into its revision and a copy of the
// record value taken out of bbolt's memory map, which is only valid until
// the transaction ends.
func decodeRecord(raw []byte) (uint64, []byte, error) {
	rev, err := revision(raw)
	if err != nil {
		return 0, nil, err
	}
	value := make([]byte, len(raw)-revSize)
	copy(value, raw[revSize:])
	return rev, value, nil
}

// revision reads only the revision header of a stored value.
func revision(raw []byte) (uint64, error) {
	if len(raw) < revSize {
		return 0, fmt.Errorf("%w: %d bytes, shorter than the revision header", storage.ErrCorrupt, len(raw))
	}
	rev := binary.BigEndian.Uint64(raw)
	if rev == 0 {
		return 0, fmt.Errorf("%w: revision 0", storage.ErrCorrupt)
	}
	return rev, nil
}
