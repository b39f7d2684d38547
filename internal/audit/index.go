package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
)

// index locates the records of a FileLog by who, what and when, so that a
// search reads only the lines it returns, not the whole log. It holds one
// small entry per record, in log order. The live file's entries are in
// memory; when the file is rotated they are written beside it to a sidecar
// (see sidecar.go) and leave memory, so memory is bounded by the live file
// (FileOptions.MaxSize) however long the log grows, and opening the log
// reads the sidecars' headers, not the rotated files.
//
// Entries are numbered from the oldest (ordinals); a search cursor is an
// ordinal and stays valid across rotation.
type index struct {
	mu      sync.RWMutex
	segs    []segment // rotated files, oldest first
	live    string
	strs    strtab       // the live file's strings
	entries []indexEntry // the live file's
}

// segment is a rotated file whose entries are in its sidecar.
type segment struct {
	name       string
	count      int
	minT, maxT int64 // unix nanoseconds
}

// indexEntry is one record's place and the fields a search filters on,
// with strings numbered in the file's string table.
type indexEntry struct {
	off                               int64
	time                              int64 // unix nanoseconds
	identity, key, operation, outcome uint32
	// alias marks an extra entry that files a batch record under one more
	// of the keys it used; searches without a key filter skip it.
	alias bool
}

// strtab numbers the strings of one file's entries; 0 is "".
type strtab struct {
	ids   map[string]uint32
	names []string
}

func newStrtab() strtab { return strtab{ids: map[string]uint32{"": 0}, names: []string{""}} }

func (t *strtab) intern(s string) uint32 {
	if n, ok := t.ids[s]; ok {
		return n
	}
	n := uint32(len(t.names))
	t.ids[s], t.names = n, append(t.names, s)
	return n
}

func newIndex() *index { return &index{strs: newStrtab()} }

// entriesOf appends to es the entries of one record at off: the record's
// own and, for a batch that used several keys, one alias per key.
func entriesOf(es []indexEntry, t *strtab, off int64, r *Record) []indexEntry {
	e := indexEntry{off: off, time: r.Time.UnixNano(), identity: t.intern(r.Identity), key: t.intern(r.KeyID),
		operation: t.intern(r.Operation), outcome: t.intern(r.Outcome)}
	es = append(es, e)
	if r.KeyID == "" {
		for _, b := range r.BatchKeys {
			a := e
			a.key, a.alias = t.intern(b.KeyID), true
			es = append(es, a)
		}
	}
	return es
}

// add indexes one record written at off in the live file; the caller
// holds mu.
func (x *index) add(off int64, r *Record) {
	x.entries = entriesOf(x.entries, &x.strs, off, r)
}

// load indexes the log's files, the live one last: a rotated file through
// its sidecar (built if missing or stale), the live one by reading it.
func (x *index) load(files []string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	rotated, live := files[:len(files)-1], files[len(files)-1]
	for _, name := range rotated {
		seg, err := openSegment(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		x.segs = append(x.segs, seg)
	}
	removeOrphanSidecars(live, rotated)
	x.live = live
	st, err := os.Stat(live)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return nil // a device (tests use /dev/full): nothing to index
	}
	x.entries, x.strs, err = readEntries(live)
	return err
}

// readEntries indexes a log file by reading every line.
func readEntries(name string) ([]indexEntry, strtab, error) {
	t := newStrtab()
	f, err := os.Open(name)
	if err != nil {
		return nil, t, err
	}
	defer f.Close()
	var es []indexEntry
	r := bufio.NewReaderSize(f, 256<<10)
	var off int64
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			var rec Record
			if json.Unmarshal(bytes.TrimSuffix(line, []byte("\n")), &rec) == nil && rec.Operation != "" {
				es = entriesOf(es, &t, off, &rec)
			}
			off += int64(len(line))
		}
		if errors.Is(err, io.EOF) {
			return es, t, nil
		}
		if err != nil {
			return nil, t, err
		}
	}
}

// rotate renames the live file to name, first writing its entries to the
// sidecar; on failure nothing changes. Only the writer goroutine calls it,
// so the live entries cannot change meanwhile.
func (x *index) rotate(name string, size int64) error {
	seg, err := writeSidecar(name, size, x.strs.names, x.entries)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := os.Rename(x.live, name); err != nil {
		_ = os.Remove(sidecarPath(name))
		return err
	}
	x.segs = append(x.segs, seg)
	x.entries, x.strs = nil, newStrtab()
	return nil
}

// Filter selects records; empty fields match everything. From is
// inclusive and To exclusive.
type Filter struct {
	Identity, KeyID, Operation, Outcome string
	From, To                            time.Time
}

// matcher is a Filter resolved against one file's string table.
type matcher struct {
	f                          Filter
	ident, key, op, out        uint32
	from, to                   int64
	hasFrom, hasTo, impossible bool
}

func (f Filter) in(t *strtab) matcher {
	m := matcher{f: f, from: f.From.UnixNano(), to: f.To.UnixNano(), hasFrom: !f.From.IsZero(), hasTo: !f.To.IsZero()}
	num := func(s string) uint32 {
		if s == "" {
			return 0
		}
		n, ok := t.ids[s]
		if !ok {
			m.impossible = true // a value this file never logged
		}
		return n
	}
	m.ident, m.key, m.op, m.out = num(f.Identity), num(f.KeyID), num(f.Operation), num(f.Outcome)
	return m
}

func (m *matcher) match(e *indexEntry) bool {
	f := &m.f
	if f.KeyID == "" && e.alias {
		return false
	}
	return (f.Identity == "" || e.identity == m.ident) && (f.KeyID == "" || e.key == m.key) &&
		(f.Operation == "" || e.operation == m.op) && (f.Outcome == "" || e.outcome == m.out) &&
		(!m.hasFrom || e.time >= m.from) && (!m.hasTo || e.time < m.to)
}

// overlaps reports whether the segment's time span meets the filter's.
func (f Filter) overlaps(s segment) bool {
	return (f.From.IsZero() || s.maxT >= f.From.UnixNano()) && (f.To.IsZero() || s.minT < f.To.UnixNano())
}

// Search returns up to limit records matching f, newest first, starting
// below the cursor (0: the newest); next is the cursor of the following
// page, 0 when there is none.
func (l *FileLog) Search(f Filter, cursor, limit int) (recs []Record, next int, err error) {
	next, err = l.find(f, cursor, limit, func(r *Record) error {
		recs = append(recs, *r)
		return nil
	})
	return recs, next, err
}

// Each calls fn for every record matching f, newest first, reading only
// those records.
func (l *FileLog) Each(f Filter, fn func(*Record) error) error {
	_, err := l.find(f, 0, 0, fn)
	return err
}

// find calls fn for the records matching f below the cursor, newest first,
// stopping after limit (0: no limit); it returns the cursor of the next
// match to look at, 0 when there is none.
func (l *FileLog) find(f Filter, cursor, limit int, fn func(*Record) error) (int, error) {
	x := l.idx
	x.mu.RLock()
	segs := slices.Clone(x.segs)
	base := 0
	for _, s := range segs {
		base += s.count
	}
	total := base + len(x.entries)
	if cursor <= 0 || cursor > total {
		cursor = total
	}
	// The live file's matches are collected under the lock, with a handle
	// that stays valid if the file is rotated once the lock is released.
	var live []int64
	pos := cursor
	m := f.in(&x.strs)
	for ; pos > base && !m.impossible && (limit == 0 || len(live) < limit); pos-- {
		if e := &x.entries[pos-base-1]; m.match(e) {
			live = append(live, e.off)
		}
	}
	if pos > base && m.impossible {
		pos = base
	}
	var lf *os.File
	if len(live) > 0 {
		var err error
		if lf, err = os.Open(x.live); err != nil {
			x.mu.RUnlock()
			return 0, fmt.Errorf("audit: open %s: %w", x.live, err)
		}
		defer lf.Close()
	}
	x.mu.RUnlock()
	n := 0
	for _, off := range live {
		if err := readAndCall(lf, off, fn); err != nil {
			return 0, err
		}
		n++
	}
	// Then the rotated files, newest first, each through its sidecar.
	for i := len(segs) - 1; i >= 0 && pos > 0 && (limit == 0 || n < limit); i-- {
		s := segs[i]
		base -= s.count
		if pos <= base {
			continue
		}
		if !f.overlaps(s) {
			pos = base
			continue
		}
		p, got, err := findInSegment(s, f, pos-base, limit-n, limit == 0, fn)
		if err != nil {
			return 0, err
		}
		n += got
		pos = base + p
	}
	if limit > 0 && n == limit && pos > 0 {
		return pos, nil
	}
	return 0, nil
}

// findInSegment searches one rotated file's entries below ordinal pos
// (within the file) and returns where it stopped and how many it found.
func findInSegment(s segment, f Filter, pos, room int, unlimited bool, fn func(*Record) error) (int, int, error) {
	strs, entries, err := readSidecar(s.name)
	if err != nil {
		return 0, 0, err
	}
	m := f.in(&strs)
	if m.impossible {
		return 0, 0, nil
	}
	pos = min(pos, len(entries))
	lf, err := os.Open(s.name)
	if err != nil {
		return 0, 0, fmt.Errorf("audit: open %s: %w", s.name, err)
	}
	defer lf.Close()
	n := 0
	for ; pos > 0 && (unlimited || n < room); pos-- {
		if e := &entries[pos-1]; m.match(e) {
			if err := readAndCall(lf, e.off, fn); err != nil {
				return 0, 0, err
			}
			n++
		}
	}
	return pos, n, nil
}

// readAndCall reads the record of the line at off and passes it to fn.
func readAndCall(f *os.File, off int64, fn func(*Record) error) error {
	r, err := readRecord(f, off)
	if err != nil {
		return err
	}
	return fn(r)
}

// readRecord reads the record of the line at off.
func readRecord(f *os.File, off int64) (*Record, error) {
	buf := make([]byte, 4<<10)
	for {
		n, err := f.ReadAt(buf, off)
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			buf = buf[:i]
			break
		}
		if err != nil { // the last line has no newline only if cut short
			if n == 0 || !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("audit: read %s at %d: %w", f.Name(), off, err)
			}
			buf = buf[:n]
			break
		}
		if len(buf) >= maxLine {
			return nil, fmt.Errorf("audit: %s at %d: line too long", f.Name(), off)
		}
		buf = make([]byte, 2*len(buf))
	}
	var r Record
	if err := json.Unmarshal(buf, &r); err != nil {
		return nil, fmt.Errorf("audit: %s at %d is not a record: %w", f.Name(), off, err)
	}
	return &r, nil
}

// maxLine bounds a line read back; records are far smaller.
const maxLine = 16 << 20
