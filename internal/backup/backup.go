// Package backup is the format of Arca's backup files: a consistent snapshot
// of every stored record, encrypted and signed with keys derived from the
// keyring (seal.BackupKeys), so a backup is useless without a quorum of the
// shares that unseal the server it came from, and any change to it is found.
//
// A file is, in order:
//
//   - the line "ARCABAK1";
//   - a JSON header line (Header): when and where it was made, the seal
//     configuration (which holds no secret: the keyring key in it is wrapped
//     by the root key) so a restore can rebuild the keyring from the shares,
//     and the Ed25519 public key that signed the file;
//   - the records, as JSON lines ending with an end line that counts them,
//     encrypted with Tink's streaming AEAD (AES-256-GCM-HKDF, 1 MiB segments;
//     each segment authenticated, and a truncated or reordered stream
//     refused), with the two lines above as associated data;
//   - a 64-byte Ed25519ph signature (context "arca-backup-v1") of the
//     SHA-512 of everything before it.
//
// A record's value is stored as the store holds it: MAC'd, with any key
// material already sealed under the keyring.
package backup

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	streaming "github.com/tink-crypto/tink-go/v2/streamingaead/subtle"

	"github.com/arcakms/arca/internal/seal"
)

// Format names this version of the format in the header.
const Format = "arca-backup/v1"

const (
	magic          = "ARCABAK1\n"
	segmentSize    = 1 << 20
	signingContext = "arca-backup-v1"
	maxHeader      = 64 << 10
)

// Errors a reader reports.
var (
	// ErrFormat: the file is not an Arca backup, or not one this version reads.
	ErrFormat = errors.New("backup: not an arca backup file")
	// ErrSignature: the signature does not verify, or was made by another key:
	// the file was changed or does not come from the expected server.
	ErrSignature = errors.New("backup: signature does not verify")
	// ErrCorrupt: the encrypted records do not decrypt or are incomplete.
	ErrCorrupt = errors.New("backup: records are damaged or incomplete")
)

// Header describes a backup; it is in clear, and signed.
type Header struct {
	Format        string    `json:"format"`
	CreatedAt     time.Time `json:"created_at"`
	Node          string    `json:"node"`
	ServerVersion string    `json:"server_version"`
	// Seal is the seal configuration, needed to rebuild the keyring from
	// the shares at restore.
	Seal jsontext.Value `json:"seal"`
	// SigningKey is the Ed25519 public key that signed the file.
	SigningKey []byte `json:"signing_key"`
}

// Record is one stored record.
type Record struct {
	NS    string `json:"ns"`
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

// end is the last line of the records.
type end struct {
	End     bool `json:"end"`
	Records int  `json:"records"`
}

func newAEAD(keys *seal.BackupKeys) (*streaming.AESGCMHKDF, error) {
	a, err := streaming.NewAESGCMHKDF(keys.Encryption.Reveal(), "SHA256", 32, segmentSize, 0)
	if err != nil {
		return nil, fmt.Errorf("backup: streaming AEAD: %w", err)
	}
	return a, nil
}

// Writer writes a backup file.
type Writer struct {
	out    io.Writer
	sum    hash.Hash
	enc    io.WriteCloser
	lines  *bufio.Writer
	sign   ed25519.PrivateKey
	count  int
	closed bool
}

// NewWriter writes the file's header to w and returns a Writer for its
// records. h.Format and h.SigningKey are filled in.
func NewWriter(w io.Writer, h Header, keys *seal.BackupKeys) (*Writer, error) {
	h.Format, h.SigningKey = Format, keys.Signing.Public().(ed25519.PublicKey)
	hl, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("backup: encode header: %w", err)
	}
	prefix := append([]byte(magic), append(hl, '\n')...)
	bw := &Writer{out: w, sum: sha512.New(), sign: keys.Signing}
	if _, err := bw.write(prefix); err != nil {
		return nil, err
	}
	a, err := newAEAD(keys)
	if err != nil {
		return nil, err
	}
	if bw.enc, err = a.NewEncryptingWriter(writerFunc(bw.write), prefix); err != nil {
		return nil, fmt.Errorf("backup: start encryption: %w", err)
	}
	bw.lines = bufio.NewWriterSize(bw.enc, 64<<10)
	return bw, nil
}

// writerFunc adapts a write method to io.Writer.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// write sends bytes to the output and the running digest.
func (w *Writer) write(p []byte) (int, error) {
	w.sum.Write(p)
	n, err := w.out.Write(p)
	if err != nil {
		return n, fmt.Errorf("backup: write: %w", err)
	}
	return n, nil
}

// Add appends one record.
func (w *Writer) Add(r Record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("backup: encode record: %w", err)
	}
	w.count++
	if _, err := w.lines.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("backup: write record: %w", err)
	}
	return nil
}

// Close writes the end line, finishes the encryption and signs the file.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	line, _ := json.Marshal(end{End: true, Records: w.count})
	if _, err := w.lines.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("backup: write end: %w", err)
	}
	if err := w.lines.Flush(); err != nil {
		return fmt.Errorf("backup: write records: %w", err)
	}
	if err := w.enc.Close(); err != nil {
		return fmt.Errorf("backup: finish encryption: %w", err)
	}
	sig, err := w.sign.Sign(nil, w.sum.Sum(nil), &ed25519.Options{Hash: crypto.SHA512, Context: signingContext})
	if err != nil {
		return fmt.Errorf("backup: sign: %w", err)
	}
	if _, err := w.out.Write(sig); err != nil {
		return fmt.Errorf("backup: write signature: %w", err)
	}
	return nil
}

// Count is the number of records added.
func (w *Writer) Count() int { return w.count }

// File is an opened backup whose signature has been checked.
type File struct {
	Header Header
	f      *os.File
	prefix []byte
	body   int64 // bytes of ciphertext
}

// Open opens the backup at path and checks its signature: with pub, the
// key the backup must have been signed by, if given (from arca backup
// public-key, kept off the server); otherwise with the key its header names,
// which proves only that the file is intact.
func Open(path string, pub ed25519.PublicKey) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	bf, err := open(f, pub)
	if err != nil {
		f.Close()
		return nil, err
	}
	return bf, nil
}

func open(f *os.File, pub ed25519.PublicKey) (*File, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	br := bufio.NewReader(io.LimitReader(f, maxHeader))
	m, err := br.ReadString('\n')
	if err != nil || m != magic {
		return nil, ErrFormat
	}
	hl, err := br.ReadBytes('\n')
	if err != nil {
		return nil, ErrFormat
	}
	var h Header
	if err := json.Unmarshal(bytes.TrimSuffix(hl, []byte("\n")), &h); err != nil || h.Format != Format || len(h.SigningKey) != ed25519.PublicKeySize {
		return nil, ErrFormat
	}
	prefix := append([]byte(magic), hl...)
	body := st.Size() - int64(len(prefix)) - ed25519.SignatureSize
	if body < 0 {
		return nil, ErrFormat
	}
	if pub != nil && !bytes.Equal(pub, h.SigningKey) {
		return nil, fmt.Errorf("%w: signed by another key than the one given", ErrSignature)
	}
	sum := sha512.New()
	if _, err := io.Copy(sum, io.NewSectionReader(f, 0, int64(len(prefix))+body)); err != nil {
		return nil, fmt.Errorf("backup: read: %w", err)
	}
	sig := make([]byte, ed25519.SignatureSize)
	if _, err := f.ReadAt(sig, int64(len(prefix))+body); err != nil {
		return nil, fmt.Errorf("backup: read signature: %w", err)
	}
	if err := ed25519.VerifyWithOptions(h.SigningKey, sum.Sum(nil), sig, &ed25519.Options{Hash: crypto.SHA512, Context: signingContext}); err != nil {
		return nil, ErrSignature
	}
	return &File{Header: h, f: f, prefix: prefix, body: body}, nil
}

// Close closes the file.
func (b *File) Close() error { return b.f.Close() }

// Records decrypts the records with keys (which must be the keys whose
// public half signed the file) and passes each to fn, in order; it returns
// their number once the end line confirms the stream is complete.
func (b *File) Records(keys *seal.BackupKeys, fn func(Record) error) (int, error) {
	if !bytes.Equal(keys.Signing.Public().(ed25519.PublicKey), b.Header.SigningKey) {
		return 0, fmt.Errorf("%w: the shares given open another keyring than the one that made this backup", ErrSignature)
	}
	a, err := newAEAD(keys)
	if err != nil {
		return 0, err
	}
	dec, err := a.NewDecryptingReader(io.NewSectionReader(b.f, int64(len(b.prefix)), b.body), b.prefix)
	if err != nil {
		return 0, ErrCorrupt
	}
	sc := bufio.NewScanner(dec)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	n := 0
	for sc.Scan() {
		var e end
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.End {
			if e.Records != n || sc.Scan() {
				return n, ErrCorrupt
			}
			return n, nil
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.NS == "" || r.Key == "" {
			return n, ErrCorrupt
		}
		if err := fn(r); err != nil {
			return n, err
		}
		n++
	}
	return n, ErrCorrupt // a read error or no end line
}
