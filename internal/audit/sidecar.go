package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// A sidecar holds the index entries of one rotated log file, so that
// opening and searching a long log reads neither its rotated files nor
// their index in full. Sidecars live in the hidden directory ".BASE.index"
// beside the log (out of the way of shell globs such as "audit.log.*" given
// to arca audit verify), each named after its file with ".idx".
//
// A sidecar is derived data, never evidence: it carries the size of its log
// file and a SHA-256 checksum, and is rebuilt from the log whenever it is
// missing, damaged or stale. Records themselves are always read from the log.
//
// Layout, little endian: the magic "ARCAIDX1"; the log file's size; the
// entry count; the earliest and latest record time; the string count and
// each string (uint16 length, bytes); the entries (offset, time, identity,
// key, operation, outcome, flags), sidecarEntry bytes each; and the SHA-256
// of everything before it.
const (
	sidecarMagic  = "ARCAIDX1"
	sidecarHeader = len(sidecarMagic) + 8*4 + 4
	sidecarEntry  = 8 + 8 + 4*4 + 1
)

// indexDir returns the directory of the sidecars of the log at live.
func indexDir(live string) string {
	dir, base := filepath.Split(live)
	return filepath.Join(dir, "."+base+".index")
}

// sidecarPath returns where the sidecar of the rotated file name (the live
// path and a sequence suffix) lives.
func sidecarPath(name string) string {
	live := name
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		live = name[:i]
	}
	return filepath.Join(indexDir(live), filepath.Base(name)+".idx")
}

// writeSidecar writes, durably and atomically, the sidecar of the rotated
// file name (size bytes long) holding entries, whose strings are names.
func writeSidecar(name string, size int64, names []string, entries []indexEntry) (segment, error) {
	seg := segment{name: name, count: len(entries), minT: math.MaxInt64, maxT: math.MinInt64}
	for _, e := range entries {
		seg.minT, seg.maxT = min(seg.minT, e.time), max(seg.maxT, e.time)
	}
	b := make([]byte, 0, sidecarHeader+len(entries)*sidecarEntry+sha256.Size+16*len(names))
	b = append(b, sidecarMagic...)
	b = binary.LittleEndian.AppendUint64(b, uint64(size))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(entries)))
	b = binary.LittleEndian.AppendUint64(b, uint64(seg.minT))
	b = binary.LittleEndian.AppendUint64(b, uint64(seg.maxT))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(names)))
	for _, s := range names {
		if len(s) > math.MaxUint16 {
			return segment{}, fmt.Errorf("audit: index string of %d bytes", len(s))
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint64(b, uint64(e.off))
		b = binary.LittleEndian.AppendUint64(b, uint64(e.time))
		for _, n := range [...]uint32{e.identity, e.key, e.operation, e.outcome} {
			b = binary.LittleEndian.AppendUint32(b, n)
		}
		var flags byte
		if e.alias {
			flags = 1
		}
		b = append(b, flags)
	}
	sum := sha256.Sum256(b)
	b = append(b, sum[:]...)
	path := sidecarPath(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return segment{}, fmt.Errorf("audit: index directory: %w", err)
	}
	if err := writeFileSync(path, b); err != nil {
		return segment{}, fmt.Errorf("audit: write index %s: %w", path, err)
	}
	return seg, nil
}

// writeFileSync replaces path with data through a synced temporary file.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// errStale reports a sidecar that does not describe its log file.
var errStale = errors.New("audit: stale index")

// parseSidecarHeader returns the segment a sidecar describes and the log
// size it was made for.
func parseSidecarHeader(name string, b []byte) (segment, int64, error) {
	if len(b) < sidecarHeader || string(b[:len(sidecarMagic)]) != sidecarMagic {
		return segment{}, 0, errStale
	}
	h := b[len(sidecarMagic):]
	size := int64(binary.LittleEndian.Uint64(h))
	count := binary.LittleEndian.Uint64(h[8:])
	if count > math.MaxInt32 {
		return segment{}, 0, errStale
	}
	seg := segment{name: name, count: int(count),
		minT: int64(binary.LittleEndian.Uint64(h[16:])), maxT: int64(binary.LittleEndian.Uint64(h[24:]))}
	return seg, size, nil
}

// openSegment returns the segment of a rotated file from its sidecar's
// header, building the sidecar if it is missing or made for another size.
func openSegment(name string) (segment, error) {
	st, err := os.Stat(name)
	if err != nil {
		return segment{}, err
	}
	if f, err := os.Open(sidecarPath(name)); err == nil {
		hdr := make([]byte, sidecarHeader)
		_, rerr := f.ReadAt(hdr, 0)
		f.Close()
		if rerr == nil {
			if seg, size, err := parseSidecarHeader(name, hdr); err == nil && size == st.Size() {
				return seg, nil
			}
		}
	}
	seg, _, _, err := rebuildSidecar(name)
	return seg, err
}

// rebuildSidecar indexes a rotated file by reading it and writes its sidecar.
func rebuildSidecar(name string) (segment, strtab, []indexEntry, error) {
	st, err := os.Stat(name)
	if err != nil {
		return segment{}, strtab{}, nil, err
	}
	entries, strs, err := readEntries(name)
	if err != nil {
		return segment{}, strtab{}, nil, fmt.Errorf("audit: index %s: %w", name, err)
	}
	seg, err := writeSidecar(name, st.Size(), strs.names, entries)
	return seg, strs, entries, err
}

// readSidecar returns the entries of a rotated file, from its sidecar if
// that is intact and current, otherwise by rebuilding it.
func readSidecar(name string) (strtab, []indexEntry, error) {
	strs, entries, err := parseSidecar(name)
	if err == nil {
		return strs, entries, nil
	}
	_, strs, entries, err = rebuildSidecar(name)
	return strs, entries, err
}

// parseSidecar decodes a sidecar, checking its checksum and that it was
// made for the log file as it is.
func parseSidecar(name string) (strtab, []indexEntry, error) {
	b, err := os.ReadFile(sidecarPath(name))
	if err != nil {
		return strtab{}, nil, err
	}
	st, err := os.Stat(name)
	if err != nil {
		return strtab{}, nil, err
	}
	if len(b) < sidecarHeader+sha256.Size {
		return strtab{}, nil, errStale
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if want := sha256.Sum256(body); !bytes.Equal(want[:], sum) {
		return strtab{}, nil, errStale
	}
	seg, size, err := parseSidecarHeader(name, body)
	if err != nil || size != st.Size() {
		return strtab{}, nil, errStale
	}
	rest := body[sidecarHeader:]
	nstr := binary.LittleEndian.Uint32(body[sidecarHeader-4:])
	strs := strtab{ids: make(map[string]uint32, nstr)}
	for i := range nstr {
		if len(rest) < 2 || len(rest) < 2+int(binary.LittleEndian.Uint16(rest)) {
			return strtab{}, nil, errStale
		}
		n := int(binary.LittleEndian.Uint16(rest))
		s := string(rest[2 : 2+n])
		strs.ids[s], strs.names = i, append(strs.names, s)
		rest = rest[2+n:]
	}
	if len(rest) != seg.count*sidecarEntry {
		return strtab{}, nil, errStale
	}
	entries := make([]indexEntry, seg.count)
	for i := range entries {
		e := rest[i*sidecarEntry:]
		le := binary.LittleEndian
		entries[i] = indexEntry{off: int64(le.Uint64(e)), time: int64(le.Uint64(e[8:])),
			identity: le.Uint32(e[16:]), key: le.Uint32(e[20:]), operation: le.Uint32(e[24:]), outcome: le.Uint32(e[28:]),
			alias: e[32]&1 != 0}
		for _, n := range [...]uint32{entries[i].identity, entries[i].key, entries[i].operation, entries[i].outcome} {
			if n >= nstr {
				return strtab{}, nil, errStale
			}
		}
	}
	return strs, entries, nil
}

// removeOrphanSidecars deletes the sidecars of the log at live whose
// rotated files are gone (removed by the operator's retention), and
// leftover temporary files.
func removeOrphanSidecars(live string, rotated []string) {
	keep := map[string]bool{}
	for _, name := range rotated {
		keep[filepath.Base(sidecarPath(name))] = true
	}
	dir := indexDir(live)
	des, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range des {
		if !keep[de.Name()] {
			_ = os.Remove(filepath.Join(dir, de.Name()))
		}
	}
}
