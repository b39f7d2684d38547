package rest

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/arcakms/arca/internal/kms"
)

// backup makes the backup into an unlinked temporary file (so that a
// failure is still a JSON error, and the result is audited before a byte is
// sent), then streams it.
func (h *Handler) backup(ctx context.Context, r *http.Request) (int, any, error) {
	if err := decode(r, &struct{}{}); err != nil {
		return 0, nil, err
	}
	f, err := os.CreateTemp("", "arca-backup-")
	if err != nil {
		return 0, nil, kms.Errorf(kms.CodeInternal, "backup: temporary file")
	}
	_ = os.Remove(f.Name()) // lives while open; never seen by another process by name
	if _, err := h.svc.Backup(ctx, f); err != nil {
		f.Close()
		return 0, nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return 0, nil, kms.Errorf(kms.CodeInternal, "backup: rewind")
	}
	return http.StatusOK, &fileBody{f: f, contentType: "application/octet-stream"}, nil
}

// fileBody is a response streamed from a file, closed once sent.
type fileBody struct {
	f           *os.File
	contentType string
}

// stream writes the file as the response body.
func (b *fileBody) stream(w http.ResponseWriter, status int) {
	defer b.f.Close()
	if st, err := b.f.Stat(); err == nil {
		w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	}
	w.Header().Set("Content-Type", b.contentType)
	w.WriteHeader(status)
	_, _ = io.Copy(w, b.f)
}

func (h *Handler) backupPublicKey(ctx context.Context, r *http.Request) (int, any, error) {
	if err := newQuery(r).done(); err != nil {
		return 0, nil, err
	}
	pub, err := h.svc.BackupPublicKey(ctx)
	if err != nil {
		return 0, nil, err
	}
	return ed25519KeyResponse(pub)
}
