// Package server assembles a running Arca server from its configuration:
// storage, audit log, service, REST handler and listener. It owns their
// lifetimes and shuts them down in order.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/arcakms/arca/internal/api/kmip"
	"github.com/arcakms/arca/internal/api/rest"
	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/config"
	"github.com/arcakms/arca/internal/hsm"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/policy"
	"github.com/arcakms/arca/internal/storage"
	"github.com/arcakms/arca/internal/storage/postgres"
	"github.com/arcakms/arca/internal/version"
)

// Options are the runtime choices that are not part of the configuration.
type Options struct {
	// Dev auto-initialises and unseals a throwaway server (see StartDev).
	Dev bool
	// DevRootToken, if set in dev mode, becomes the root token.
	DevRootToken string
	// Logger receives operational logs.
	Logger *slog.Logger
	// SchedulerInterval is how often due background work (scheduled
	// destructions) runs; default one minute.
	SchedulerInterval time.Duration
	// IsLeader reports whether this node runs cluster-wide background
	// work. A single server is always the leader (the default).
	IsLeader func() bool
}

// Server is a running Arca server.
type Server struct {
	cfg   config.Config
	log   *slog.Logger
	store storage.Store
	// stopCluster ends watching for other nodes' changes and campaigning
	// for leadership; leader is nil on embedded storage.
	stopCluster context.CancelFunc
	clusterCtx  context.Context
	leader      *postgres.Leader
	// hsm is the token of a PKCS#11 seal, or nil.
	hsm   *hsm.Reconnecting
	audit *audit.FileLog
	// log is what the service writes to: the file, or the file fanned out
	// to the configured sinks.
	auditLog  audit.Log
	svc       *kms.Service
	http      *http.Server
	ln        net.Listener
	scheme    string
	rootToken string
	devDir    string
	served    chan error
	stopSched chan struct{}
	schedDone chan struct{}
	// kmip is the KMIP server, if kmip.listen is set.
	kmip   *kmip.Server
	kmipLn net.Listener
}

// Start opens storage and the audit log, builds the service and starts
// serving. In dev mode the storage and audit files live in a new temporary
// directory that Shutdown removes.
func Start(ctx context.Context, cfg config.Config, opts Options) (_ *Server, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{log: opts.Logger, served: make(chan error, 1)}
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()
	if opts.Dev {
		host, _, err := net.SplitHostPort(cfg.Listen)
		if err != nil || !config.IsLoopback(host) {
			return nil, fmt.Errorf("server: dev mode listens only on a loopback address, not %q", cfg.Listen)
		}
		if s.devDir, err = os.MkdirTemp("", "arca-dev-"); err != nil {
			return nil, fmt.Errorf("server: dev data directory: %w", err)
		}
		cfg.Storage.Type, cfg.Storage.Path = "bolt", filepath.Join(s.devDir, "arca.db")
		cfg.Audit.Path = filepath.Join(s.devDir, "audit.log")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s.cfg = cfg
	if s.store, err = OpenStore(ctx, cfg.Storage); err != nil {
		return nil, err
	}
	if s.audit, err = audit.OpenFile(cfg.Audit.Path, audit.FileOptions{NoSync: cfg.Audit.NoSync, MaxSize: int64(cfg.Audit.MaxSizeMB) << 20}); err != nil {
		return nil, fmt.Errorf("server: open audit log: %w", err)
	}
	s.auditLog = s.audit
	sinks, err := auditSinks(cfg.Audit.Sinks)
	if err != nil {
		return nil, err
	}
	if len(sinks) > 0 {
		s.auditLog = audit.NewFanout(s.audit, sinks...)
	}
	pol, err := s.loadPolicy()
	if err != nil {
		return nil, err
	}
	approvals, err := approvalRules(cfg.Approvals)
	if err != nil {
		return nil, err
	}
	sod, err := sodRules(cfg.SeparationOfDuties)
	if err != nil {
		return nil, err
	}
	if s.hsm, err = OpenHSM(cfg.Seal); err != nil {
		return nil, err
	}
	var token kms.HSM
	if s.hsm != nil {
		token = s.hsm
	}
	if s.svc, err = kms.New(ctx, kms.Options{HSM: token, HSMKeyLabel: cfg.Seal.PKCS11.KeyLabel, Store: s.store, Audit: s.auditLog, Logger: s.log, Version: version.Version, Policy: pol, Approvals: approvals, SoD: sod,
		RateLimit: kms.RateLimit{RequestsPerSecond: cfg.RateLimit.RequestsPerSecond, Burst: cfg.RateLimit.Burst}, Role: s.role, Node: cfg.Node,
		OutageGrace: cfg.Storage.OutageGrace}); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if opts.Dev {
		if s.rootToken, err = s.svc.InitDev(ctx, opts.DevRootToken); err != nil {
			return nil, fmt.Errorf("server: dev init: %w", err)
		}
	}
	if err := s.listen(); err != nil {
		return nil, err
	}
	if err := s.listenKMIP(); err != nil {
		_ = s.ln.Close()
		return nil, err
	}
	s.startCluster(&opts)
	go s.autoUnseal(s.clusterCtx)
	go func() { s.served <- s.http.Serve(s.ln) }()
	s.startScheduler(opts)
	s.log.Info("arca listening", "addr", s.URL(), "storage", storageName(cfg.Storage), "audit", cfg.Audit.Path, "version", version.Version)
	return s, nil
}

func (s *Server) listen() error {
	handler, err := s.interfaces(rest.New(s.svc, rest.Options{Logger: s.log, LoadPolicy: s.loadPolicy}))
	if err != nil {
		return err
	}
	s.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	s.scheme = "http"
	if s.cfg.TLS.Enabled() {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLS.CertFile, s.cfg.TLS.KeyFile)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("server: load TLS certificate: %w", err)
		}
		s.http.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		if err := s.clientAuth(s.http.TLSConfig); err != nil {
			_ = ln.Close()
			return err
		}
		ln = tls.NewListener(ln, s.http.TLSConfig)
		s.scheme = "https"
	}
	s.ln = ln
	return nil
}

// URL is the base URL clients use, e.g. http://127.0.0.1:8200.
func (s *Server) URL() string { return s.scheme + "://" + s.ln.Addr().String() }

// RootToken is the dev server's root token ("" outside dev mode).
func (s *Server) RootToken() string { return s.rootToken }

// Service returns the service, for in-process tests and tools.
func (s *Server) Service() *kms.Service { return s.svc }

// StoragePath is the bbolt file in use.
func (s *Server) StoragePath() string { return s.cfg.Storage.Path }

// AuditPath is the audit log file in use.
func (s *Server) AuditPath() string { return s.cfg.Audit.Path }

// Done receives the serve loop's error if serving stops on
// its own (not after Shutdown).
func (s *Server) Done() <-chan error { return s.served }

// Shutdown stops accepting requests, waits for in-flight ones (bounded by
// ctx), seals the service, and closes the audit log and storage.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.stopSched != nil {
		close(s.stopSched)
		<-s.schedDone
		s.stopSched = nil
	}
	if s.stopCluster != nil {
		s.stopCluster()
		if s.leader != nil {
			<-s.leader.Done() // leadership handed back before the store closes
		}
	}
	if s.http != nil {
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("server: http shutdown: %w", err))
		}
	}
	if s.kmip != nil {
		if err := s.kmip.Close(); err != nil {
			errs = append(errs, fmt.Errorf("server: kmip shutdown: %w", err))
		}
	}
	errs = append(errs, s.closeAll())
	return errors.Join(errs...)
}

func (s *Server) closeAll() error {
	var errs []error
	if s.svc != nil {
		// A last checkpoint vouches for everything logged until now.
		if err := s.svc.Checkpoint(context.Background()); !ignorable(err) {
			errs = append(errs, fmt.Errorf("server: audit checkpoint: %w", err))
		}
		s.svc.Close()
	}
	if s.hsm != nil {
		s.hsm.Close()
	}
	if s.auditLog != nil {
		if err := s.auditLog.Close(); err != nil {
			errs = append(errs, fmt.Errorf("server: close audit log: %w", err))
		}
	}
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("server: close storage: %w", err))
		}
	}
	if s.devDir != "" {
		if err := os.RemoveAll(s.devDir); err != nil {
			errs = append(errs, fmt.Errorf("server: remove dev data: %w", err))
		}
	}
	return errors.Join(errs...)
}

// startScheduler runs the service's due work at a fixed interval while this
// node is the leader and the service is unsealed, and appends signed audit
// checkpoints at audit.checkpoint_interval on every node (each node keeps
// its own audit log).
func (s *Server) startScheduler(opts Options) {
	interval := opts.SchedulerInterval
	if interval <= 0 {
		interval = s.cfg.SchedulerInterval
	}
	if interval <= 0 {
		interval = time.Minute
	}
	every := s.cfg.Audit.CheckpointInterval
	if every <= 0 {
		every = time.Minute
	}
	isLeader := opts.IsLeader
	if isLeader == nil {
		isLeader = func() bool { return true }
	}
	s.stopSched, s.schedDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.schedDone)
		due, checkpoint := time.NewTicker(interval), time.NewTicker(every)
		defer due.Stop()
		defer checkpoint.Stop()
		var backups <-chan time.Time
		if s.cfg.Backup.Dir != "" {
			t := time.NewTicker(s.cfg.Backup.Interval)
			defer t.Stop()
			backups = t.C
		}
		for {
			select {
			case <-s.stopSched:
				return
			case <-checkpoint.C:
				s.checkpoint()
			case <-due.C:
				if isLeader() {
					s.runDue()
				}
			case <-backups:
				if isLeader() {
					if err := s.scheduledBackup(); !ignorable(err) {
						s.log.Error("scheduled backup failed", "error", err)
					}
				}
			}
		}
	}()
}

// ignorable reports errors that only mean the service is not yet in use.
func ignorable(err error) bool {
	return err == nil || kms.CodeOf(err) == kms.CodeSealed || kms.CodeOf(err) == kms.CodeNotInitialized
}

// checkpoint appends a signed checkpoint if records were written since the
// last one.
func (s *Server) checkpoint() {
	if err := s.svc.Checkpoint(context.Background()); !ignorable(err) {
		s.log.Error("audit checkpoint failed", "error", err)
	}
}

// runDue performs the background work that has fallen due.
func (s *Server) runDue() {
	rep, err := s.svc.RunDue(context.Background())
	if !ignorable(err) {
		s.log.Error("scheduled work failed", "error", err)
	}
	if rep.DestroyedKeys+rep.DestroyedVersions > 0 {
		s.log.Info("scheduled destruction", "keys", rep.DestroyedKeys, "versions", rep.DestroyedVersions)
	}
}

// loadPolicy reads the configured crypto policy file, or returns the
// permissive default when none is configured.
func (s *Server) loadPolicy() (*policy.Policy, error) {
	if s.cfg.PolicyFile == "" {
		return policy.Default(), nil
	}
	p, err := policy.Load(s.cfg.PolicyFile)
	if err != nil {
		return nil, fmt.Errorf("server: crypto policy: %w", err)
	}
	return p, nil
}

// ReloadPolicy re-reads the policy file (on SIGHUP); an invalid file leaves
// the policy in force unchanged.
func (s *Server) ReloadPolicy(ctx context.Context) error {
	return s.svc.ReloadPolicyFromServer(ctx, s.loadPolicy)
}
