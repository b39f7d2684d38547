package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
)

// The log is a hash chain: every line carries its sequence number ("seq",
// from 1) and the SHA-256 of the previous line's bytes ("prev", hex;
// empty for the first line). Changing, inserting, deleting or reordering
// lines breaks the chain at the first place touched, which Verify reports.

// chain is the position after the last line written.
type chain struct {
	seq  uint64
	prev string
}

// next returns line (a JSON object without chain fields) with the chain
// fields of the position after c, and the position after it.
func (c chain) next(line []byte) ([]byte, chain) {
	seq := c.seq + 1
	out := make([]byte, 0, len(line)+96)
	out = append(out, `{"seq":`...)
	out = strconv.AppendUint(out, seq, 10)
	out = append(out, `,"prev":"`...)
	out = append(out, c.prev...)
	out = append(out, '"')
	if len(line) > 2 {
		out = append(out, ',')
	}
	out = append(out, line[1:]...)
	sum := sha256.Sum256(out)
	return out, chain{seq: seq, prev: hex.EncodeToString(sum[:])}
}

// chainLink is the chain part of a line.
type chainLink struct {
	Seq  uint64 `json:"seq"`
	Prev string `json:"prev"`
}

// resume reads the chain position at the end of an existing log file: the
// last line's sequence number and hash. Only the file's tail is read. A
// file that is not a regular file (a device) starts a new chain.
func resume(path string) (chain, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return chain{}, nil
	}
	if err != nil {
		return chain{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		return chain{}, err
	}
	const tail = 1 << 20 // far more than one record
	off := max(st.Size()-tail, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return chain{}, err
	}
	buf = bytes.TrimSuffix(buf, []byte("\n"))
	last := buf[bytes.LastIndexByte(buf, '\n')+1:]
	var link chainLink
	if err := json.Unmarshal(last, &link); err != nil {
		return chain{}, fmt.Errorf("the last line of %s is not a record: %w", path, err)
	}
	sum := sha256.Sum256(last)
	return chain{seq: link.Seq, prev: hex.EncodeToString(sum[:])}, nil
}

// Checkpointer is implemented by logs that write signed checkpoints.
type Checkpointer interface {
	Checkpoint(ctx context.Context, sign Signer) error
}

// Signer signs a checkpoint message; the public key it returns verifies it.
type Signer func(msg []byte) (publicKey, signature []byte, err error)

// checkpoint is the body of a checkpoint record.
type checkpoint struct {
	Through   uint64    `json:"through_seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	PublicKey []byte    `json:"public_key"`
	Signature []byte    `json:"signature"`
}

// checkpointMessage is what a checkpoint signs: the sequence number and hash
// of the last record it vouches for, and its time.
func checkpointMessage(through uint64, hash string, t time.Time) []byte {
	return fmt.Appendf(nil, "arca/v1/audit-checkpoint\x00%d\x00%s\x00%s", through, hash, t.UTC().Format(time.RFC3339Nano))
}

// checkpointLine builds a checkpoint record at chain position pos.
func checkpointLine(pos chain, sign Signer) ([]byte, error) {
	now := time.Now().UTC()
	pub, sig, err := sign(checkpointMessage(pos.seq, pos.prev, now))
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Checkpoint checkpoint `json:"checkpoint"`
	}{checkpoint{Through: pos.seq, Hash: pos.prev, Time: now, PublicKey: pub, Signature: sig}})
}

// firstSeq returns the sequence number of a log file's first record.
func firstSeq(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 64<<10).ReadBytes('\n')
	if err != nil && len(line) == 0 {
		return 0, err
	}
	var link chainLink
	if err := json.Unmarshal(bytes.TrimSuffix(line, []byte("\n")), &link); err != nil {
		return 0, err
	}
	return link.Seq, nil
}

// Problem kinds reported by Verify.
const (
	ProblemModified  = "modified"  // a line's bytes changed (or the next line's prev)
	ProblemMissing   = "missing"   // lines are missing before this one (deleted)
	ProblemReordered = "reordered" // a line is out of order, repeated or inserted
	ProblemMalformed = "malformed" // a line is not a chained record
	// ProblemCheckpoint: a checkpoint's signature does not verify under
	// the given public key (forged, or made by another server).
	ProblemCheckpoint = "bad_checkpoint"
)

// VerifyReport is the outcome of Verify: how many records were checked and
// the first problem, if any.
type VerifyReport struct {
	Records int `json:"records"`
	// Problem is empty for an intact chain.
	Problem string `json:"problem,omitempty"`
	// Line is the 1-based line (across all files) the problem is about,
	// and File the file holding it.
	Line int    `json:"line,omitempty"`
	File string `json:"file,omitempty"`
	// Detail explains the problem.
	Detail string `json:"detail,omitempty"`
	// Checkpoints counts the verified checkpoints, and Unprotected the
	// records after the last one: with a public key, those are the records
	// a truncation or a rewrite of the tail could have changed unseen.
	Checkpoints int `json:"checkpoints"`
	Unprotected int `json:"unprotected"`
}

// OK reports whether the chain is intact.
func (r *VerifyReport) OK() bool { return r.Problem == "" }

// Verify checks the hash chain of one or more log files read in order (a
// rotated log continues its chain in the next file). It reports the first
// problem: a modified line (its hash is not the next line's prev), missing
// lines (a gap in the sequence), a reordered, repeated or inserted line (a
// sequence number that does not increase by one), or a malformed line. The
// first line of the first file may continue an older chain: its prev is
// taken as given.
func Verify(files []string, publicKey ed25519.PublicKey) (*VerifyReport, error) {
	rep := &VerifyReport{}
	var pos chain
	line := 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			line++
			b := sc.Bytes()
			var link chainLink
			if err := json.Unmarshal(b, &link); err != nil || link.Seq == 0 || !bytes.HasPrefix(b, []byte(`{"seq":`)) {
				f.Close()
				return fail(rep, ProblemMalformed, line, name, "the line is not a chained audit record"), nil
			}
			if rep.Records > 0 {
				switch {
				case link.Seq > pos.seq+1:
					f.Close()
					return fail(rep, ProblemMissing, line, name, fmt.Sprintf("records seq %d to %d are missing before this one (seq %d): deleted, or moved later", pos.seq+1, link.Seq-1, link.Seq)), nil
				case link.Seq <= pos.seq:
					f.Close()
					return fail(rep, ProblemReordered, line, name, fmt.Sprintf("seq %d follows seq %d: a record was moved, repeated or inserted", link.Seq, pos.seq)), nil
				case link.Prev != pos.prev:
					f.Close()
					return fail(rep, ProblemModified, line-1, name, fmt.Sprintf("record seq %d does not hash to the prev of record seq %d: one of them was altered", pos.seq, link.Seq)), nil
				}
			}
			var cp struct {
				Checkpoint *checkpoint `json:"checkpoint"`
			}
			if json.Unmarshal(b, &cp) == nil && cp.Checkpoint != nil {
				c := cp.Checkpoint
				ok := c.Through == link.Seq-1 && c.Hash == link.Prev
				if publicKey != nil {
					ok = ok && ed25519.Verify(publicKey, checkpointMessage(c.Through, c.Hash, c.Time), c.Signature)
				}
				if !ok {
					f.Close()
					return fail(rep, ProblemCheckpoint, line, name, "the checkpoint's signature does not verify under the audit public key: forged, altered, or made by another server"), nil
				}
				rep.Checkpoints++
				rep.Unprotected = -1
			}
			sum := sha256.Sum256(b)
			pos = chain{seq: link.Seq, prev: hex.EncodeToString(sum[:])}
			rep.Records++
			rep.Unprotected++
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("audit: read %s: %w", name, err)
		}
	}
	return rep, nil
}

func fail(rep *VerifyReport, kind string, line int, file, detail string) *VerifyReport {
	rep.Problem, rep.Line, rep.File, rep.Detail = kind, line, file, detail
	return rep
}

// Files returns the log's files in chain order: the rotated ones, then the
// live one.
func (l *FileLog) Files() ([]string, error) {
	rotated, err := filepath.Glob(l.path + ".*")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range rotated {
		if suffix := f[len(l.path)+1:]; len(suffix) == 20 && strings.Trim(suffix, "0123456789") == "" {
			out = append(out, f)
		}
	}
	return append(out, l.path), nil
}

// Scan decodes every request record of the files in order, skipping
// checkpoints, and calls fn for each.
func Scan(files []string, fn func(*Record) error) error {
	for _, name := range files {
		if err := scanFile(name, fn); err != nil {
			return err
		}
	}
	return nil
}

func scanFile(name string, fn func(*Record) error) error {
	f, err := os.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil // rotated away meanwhile
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.Operation == "" {
			continue // a checkpoint, or a line this reader does not know
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return sc.Err()
}
