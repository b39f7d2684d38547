package server

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/backup"
)

// TestScheduledBackupsKeepTheNewest: each scheduled backup is a complete,
// signed file in the directory, and only the newest backup.keep stay.
func TestScheduledBackupsKeepTheNewest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Backup.Dir, cfg.Backup.Interval, cfg.Backup.Keep = filepath.Join(dir, "backups"), time.Hour, 2
	n := startWith(t, dir, cfg, Options{})
	n.must(201, "POST", "/v1/keys", map[string]string{"name": "k"})
	for range 3 {
		if err := n.srv.scheduledBackup(); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob(filepath.Join(cfg.Backup.Dir, "*"))
	if err != nil || len(files) != 2 {
		t.Fatalf("backup directory holds %v (%v), want the newest 2", files, err)
	}
	for _, f := range files {
		bf, err := backup.Open(f, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		bf.Close()
	}
}
