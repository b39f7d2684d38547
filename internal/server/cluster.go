package server

import (
	"context"
	"fmt"

	"github.com/arcakms/arca/internal/config"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/storage"
	"github.com/arcakms/arca/internal/storage/bolt"
	"github.com/arcakms/arca/internal/storage/postgres"
)

// OpenStore opens the configured storage backend: the server's, and
// arca backup restore's target.
func OpenStore(ctx context.Context, c config.Storage) (storage.Store, error) {
	switch c.Type {
	case "postgres":
		s, err := postgres.Open(ctx, postgres.Options{DSN: c.DSN, Schema: c.Schema, Timeout: c.Timeout})
		if err != nil {
			return nil, fmt.Errorf("server: open storage: %w", err)
		}
		return s, nil
	default:
		s, err := bolt.Open(c.Path, bolt.Options{})
		if err != nil {
			return nil, fmt.Errorf("server: open storage: %w", err)
		}
		return s, nil
	}
}

// storageName describes the storage for the start-up log, without secrets.
func storageName(c config.Storage) string {
	if c.Type == "postgres" {
		schema := c.Schema
		if schema == "" {
			schema = postgres.DefaultSchema
		}
		return "postgres schema " + schema
	}
	return c.Path
}

// startCluster joins the other nodes of a shared store: their changes
// invalidate this node's caches, and one node, elected, runs the
// background work. On embedded storage it does nothing: the node is alone
// and always the leader.
func (s *Server) startCluster(opts *Options) {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopCluster, s.clusterCtx = cancel, ctx
	if w, ok := s.store.(storage.Watcher); ok {
		go w.Watch(ctx, s.svc.Invalidate, s.svc.InvalidateAll)
	}
	pg, ok := s.store.(*postgres.Store)
	if !ok || opts.IsLeader != nil {
		return
	}
	leader := pg.Campaign(ctx, func(leading bool) {
		s.log.Info("cluster leadership changed", "leader", leading)
	})
	s.leader = leader
	opts.IsLeader = leader.IsLeader
}

// role reports the node's role for its health.
func (s *Server) role() string {
	if s.leader == nil {
		return kms.RoleStandalone
	}
	if s.leader.IsLeader() {
		return kms.RoleLeader
	}
	return kms.RoleFollower
}
