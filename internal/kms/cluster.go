package kms

import (
	"context"
	"strings"
	"time"

	"github.com/arcakms/arca/internal/storage"
)

// Invalidate drops what this node holds in memory of a record that a
// transaction (of any node sharing the store) changed: the key it belongs
// to, or, for the seal configuration, the configuration itself. Wired to a
// storage.Watcher, it keeps every node's cache in step with the others'.
func (s *Service) Invalidate(c storage.Change) {
	switch c.NS {
	case nsKeys:
		s.keys.remove(c.Key)
	case nsKeyVersions:
		if id, _, ok := strings.Cut(c.Key, "/"); ok {
			s.keys.remove(id)
		}
	case nsSys:
		switch c.Key {
		case sealConfigKey:
			s.refreshSealConfig()
		case keyringGenerationsKey:
			s.refreshGenerations()
		}
	}
}

// InvalidateAll drops every cached key and re-reads the seal
// configuration: changes may have been missed.
func (s *Service) InvalidateAll() {
	s.keys.reset()
	s.refreshSealConfig()
	s.refreshGenerations()
}

// refreshSealConfig re-reads the seal configuration, which another node
// may have created (init); an unreadable one keeps the one in memory.
func (s *Service) refreshSealConfig() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := s.loadSealConfig(ctx)
	if err != nil {
		s.log.Warn("re-read the seal configuration", "error", err)
		return
	}
	if cfg == nil {
		return
	}
	if old := s.sealConfig.Swap(cfg); old != nil && !sameSeal(old, cfg) {
		// Shares collected for the old root or recovery key are void.
		s.unsealer.Reset()
		s.rootGen.Reset()
	}
}

// Roles a node reports in its health.
const (
	RoleStandalone = "standalone" // the only node (embedded storage)
	RoleLeader     = "leader"     // runs the cluster's background work
	RoleFollower   = "follower"
)

// Health is what a load balancer or operator needs to know of one node.
type Health struct {
	SealStatus
	// Node names the node, as in its audit records.
	Node string
	// Role is RoleStandalone, RoleLeader or RoleFollower.
	Role string
	// StorageOK reports whether the storage backend answered just now.
	StorageOK bool
}

// Health reports the node's seal state, role and storage reachability, and
// audits the request as OpHealth.
func (s *Service) Health(ctx context.Context) (Health, error) {
	h := Health{SealStatus: s.Status(), Node: s.node, Role: RoleStandalone}
	if s.role != nil {
		h.Role = s.role()
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	h.StorageOK = s.store.Ping(pctx) == nil
	cancel()
	return h, s.finish(ctx, OpHealth, nil, nil)
}
