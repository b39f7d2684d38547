package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/go-json-experiment/json"
)

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("audit: log closed")

// FileOptions configures a FileLog.
type FileOptions struct {
	// NoSync skips fsync. Records then survive a process crash but not a
	// power loss; only for tests and measurements.
	NoSync bool
	// MaxBatch bounds how many records share one write and fsync (default 1024).
	MaxBatch int
	// MaxSize rotates the file once it reaches this many bytes (0: never):
	// it is renamed to PATH.<seq of its first record, 20 digits> and a new
	// file continues the hash chain, so "arca audit verify" checks the
	// rotated files and the live one, in name order, as one chain.
	MaxSize int64
}

// FileLog appends records as JSON lines to a file, with group commit.
type FileLog struct {
	opts    FileOptions
	path    string
	pending chan *entry
	done    chan struct{}

	mu     sync.Mutex // guards closed and f
	closed bool
	f      *os.File
	size   int64 // bytes known to be durably written
	// chain is the hash chain's position after the last durable line, and
	// checkpointed the seq of the last checkpoint; only the writer
	// goroutine uses them.
	chain        chain
	checkpointed uint64
	// idx locates records for Search.
	idx *index
}

type entry struct {
	line []byte
	rec  *Record // indexed once durable; nil for a checkpoint
	// sign, set for a checkpoint, builds the line from the chain position
	// it is written at.
	sign Signer
	err  chan error
}

// OpenFile opens (creating with mode 0600) the audit file at path for
// appending and starts its writer goroutine.
func OpenFile(path string, opts FileOptions) (*FileLog, error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit: create directory: %w", err)
	}
	l := &FileLog{opts: opts, path: path, pending: make(chan *entry, opts.MaxBatch), done: make(chan struct{})}
	pos, err := resume(path)
	if err != nil {
		return nil, fmt.Errorf("audit: resume the hash chain: %w", err)
	}
	l.chain = pos
	l.idx = newIndex()
	files, err := l.Files()
	if err != nil {
		return nil, fmt.Errorf("audit: list log files: %w", err)
	}
	if err := l.idx.load(files); err != nil {
		return nil, fmt.Errorf("audit: index the log: %w", err)
	}
	if err := l.reopen(); err != nil {
		return nil, err
	}
	go l.run()
	return l, nil
}

// Path returns the file's path.
func (l *FileLog) Path() string { return l.path }

func (l *FileLog) reopen() error {
	if l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit: open %s: %w", l.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("audit: stat %s: %w", l.path, err)
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Write encodes r, queues it and waits until the batch holding it is durable.
// The wait does not end early on context cancellation: a request whose record
// is in flight must not return before its fate is known.
func (l *FileLog) Write(_ context.Context, r *Record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("audit: encode record: %w", err)
	}
	e := &entry{line: line, rec: r, err: make(chan error, 1)}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.pending <- e
	l.mu.Unlock()
	return <-e.err
}

// Checkpoint appends a signed checkpoint: a record whose signature, made by
// sign at the chain position it is written at, vouches for every record
// before it. It returns once the checkpoint is durable.
func (l *FileLog) Checkpoint(_ context.Context, sign Signer) error {
	e := &entry{sign: sign, err: make(chan error, 1)}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.pending <- e
	l.mu.Unlock()
	return <-e.err
}

// run is the single writer: it takes every queued record, writes them with
// one write call and one fsync, then releases all their waiters.
func (l *FileLog) run() {
	defer close(l.done)
	batch := make([]*entry, 0, l.opts.MaxBatch)
	var buf []byte
	for first := range l.pending {
		batch = append(batch[:0], first)
		// Let writers woken by the previous commit queue their next records,
		// so they share this commit instead of waiting for the one after.
		runtime.Gosched()
	fill:
		for len(batch) < l.opts.MaxBatch {
			select {
			case e, ok := <-l.pending:
				if !ok {
					break fill
				}
				batch = append(batch, e)
			default:
				break fill
			}
		}
		buf = buf[:0]
		pos := l.chain
		offs := make([]int, 0, len(batch))
		var signErr error
		cpAt := l.checkpointed
		for i := 0; i < len(batch); i++ {
			e := batch[i]
			line := e.line
			if e.sign != nil && cpAt != 0 && cpAt == pos.seq {
				// Nothing was written since the last checkpoint.
				e.err <- nil
				batch = append(batch[:i], batch[i+1:]...)
				i--
				continue
			}
			if e.sign != nil {
				if line, signErr = checkpointLine(pos, e.sign); signErr != nil {
					break
				}
			}
			var chained []byte
			chained, pos = pos.next(line)
			offs = append(offs, len(buf))
			buf = append(append(buf, chained...), '\n')
			if e.sign != nil {
				cpAt = pos.seq
			}
		}
		if signErr != nil {
			for _, e := range batch {
				e.err <- fmt.Errorf("audit: sign checkpoint: %w", signErr)
			}
			continue
		}
		base := l.size
		err := l.commit(buf)
		if err == nil {
			l.chain, l.checkpointed = pos, cpAt
			l.idx.mu.Lock()
			for i, e := range batch {
				if e.rec != nil {
					l.idx.add(base+int64(offs[i]), e.rec)
				}
			}
			l.idx.mu.Unlock()
			if l.opts.MaxSize > 0 && l.size >= l.opts.MaxSize {
				// The batch is durable either way: a failed rotation
				// leaves the file as it is, to rotate at the next batch.
				_ = l.rotate()
			}
		}
		for _, e := range batch {
			e.err <- err
		}
	}
}

// commit writes and syncs one batch. On failure it cuts the file back to the
// last durable size, so no partial line remains, and reopens the file on the
// next batch; the log recovers by itself once writing works again.
func (l *FileLog) commit(buf []byte) error {
	if l.f == nil {
		if err := l.reopen(); err != nil {
			return err
		}
	}
	_, err := l.f.Write(buf)
	if err == nil && !l.opts.NoSync {
		err = l.f.Sync()
	}
	if err != nil {
		_ = l.f.Truncate(l.size)
		_ = l.f.Close()
		l.f = nil
		return fmt.Errorf("audit: write %s: %w", l.path, err)
	}
	l.size += int64(len(buf))
	return nil
}

// rotate renames the full file after the first sequence number it holds
// and starts a new one; the chain continues in it.
func (l *FileLog) rotate() error {
	first, err := firstSeq(l.path)
	if err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		return err
	}
	l.f = nil
	rotated := fmt.Sprintf("%s.%020d", l.path, first)
	if err := l.idx.rotate(rotated, l.size); err != nil {
		return l.reopen()
	}
	if d, err := os.Open(filepath.Dir(l.path)); err == nil {
		_ = d.Sync() // make the rename durable
		_ = d.Close()
	}
	return l.reopen()
}

// Close stops accepting records, waits for queued ones to be written, and
// closes the file.
func (l *FileLog) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.pending)
	l.mu.Unlock()
	<-l.done
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}
