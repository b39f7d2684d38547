package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
)

// index locates the records of a FileLog by who, what and when, so that a
// search reads only the lines it returns, not the whole log. It holds one
// small entry per record, in log order, and is rebuilt when the log opens.
type index struct {
	mu      sync.RWMutex
	files   []string // the log's files; the live one last
	entries []indexEntry
	strs    map[string]uint32
	names   []string
}

type indexEntry struct {
	file                     int32
	off                      int64
	time                     int64 // unix nanoseconds
	identity, key, operation uint32
	outcome                  uint32
}

func newIndex() *index { return &index{strs: map[string]uint32{"": 0}, names: []string{""}} }

// intern returns the number of s; the caller holds mu.
func (x *index) intern(s string) uint32 {
	if n, ok := x.strs[s]; ok {
		return n
	}
	n := uint32(len(x.names))
	x.strs[s], x.names = n, append(x.names, s)
	return n
}

// add indexes one record written at off in file number file; the caller
// holds mu.
func (x *index) add(file int32, off int64, r *Record) {
	x.entries = append(x.entries, indexEntry{file: file, off: off, time: r.Time.UnixNano(),
		identity: x.intern(r.Identity), key: x.intern(r.KeyID), operation: x.intern(r.Operation), outcome: x.intern(r.Outcome)})
}

// load indexes the records of the files, in order.
func (x *index) load(files []string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.files = append(x.files[:0], files...)
	for i, name := range files {
		st, err := os.Stat(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			continue // a device (tests use /dev/full): nothing to index
		}
		if err := x.loadFile(int32(i), name); err != nil {
			return err
		}
	}
	return nil
}

// loadFile indexes one file, streaming it; the caller holds mu.
func (x *index) loadFile(i int32, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 256<<10)
	var off int64
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			var rec Record
			if json.Unmarshal(bytes.TrimSuffix(line, []byte("\n")), &rec) == nil && rec.Operation != "" {
				x.add(i, off, &rec)
			}
			off += int64(len(line))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// rotated records that the live file was renamed to name and a new live
// file started.
func (x *index) rotated(name string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	live := x.files[len(x.files)-1]
	x.files[len(x.files)-1] = name
	x.files = append(x.files, live)
}

// Filter selects records; empty fields match everything. From is
// inclusive and To exclusive.
type Filter struct {
	Identity, KeyID, Operation, Outcome string
	From, To                            time.Time
}

// Search returns up to limit records matching f, newest first, starting
// below the cursor (0: the newest); next is the cursor of the following
// page, 0 when there is none.
func (l *FileLog) Search(f Filter, cursor, limit int) (recs []Record, next int, err error) {
	x := l.idx
	x.mu.RLock()
	want := func(s string) (uint32, bool) {
		if s == "" {
			return 0, true
		}
		n, ok := x.strs[s]
		return n, ok
	}
	ident, ok1 := want(f.Identity)
	key, ok2 := want(f.KeyID)
	op, ok3 := want(f.Operation)
	out, ok4 := want(f.Outcome)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		x.mu.RUnlock()
		return nil, 0, nil // a value never logged matches nothing
	}
	i := len(x.entries)
	if cursor > 0 && cursor < i {
		i = cursor
	}
	var hits []indexEntry
	for i--; i >= 0 && len(hits) < limit; i-- {
		e := x.entries[i]
		if (f.Identity != "" && e.identity != ident) || (f.KeyID != "" && e.key != key) ||
			(f.Operation != "" && e.operation != op) || (f.Outcome != "" && e.outcome != out) ||
			(!f.From.IsZero() && e.time < f.From.UnixNano()) || (!f.To.IsZero() && e.time >= f.To.UnixNano()) {
			continue
		}
		hits = append(hits, e)
	}
	if i >= 0 && len(hits) == limit {
		next = i + 1
	}
	files := append([]string(nil), x.files...)
	x.mu.RUnlock()
	for _, e := range hits {
		r, err := readRecord(files[e.file], e.off)
		if err != nil {
			return nil, 0, err
		}
		recs = append(recs, *r)
	}
	return recs, next, nil
}

// readRecord reads the record of the line at off.
func readRecord(name string, off int64) (*Record, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	n, err := f.ReadAt(buf, off)
	if n == 0 && err != nil {
		return nil, err
	}
	line := buf[:n]
	for i, c := range line {
		if c == '\n' {
			line = line[:i]
			break
		}
	}
	var r Record
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, fmt.Errorf("audit: %s at %d is not a record: %w", name, off, err)
	}
	return &r, nil
}
