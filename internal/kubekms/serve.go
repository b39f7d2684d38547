package kubekms

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	kmsapi "k8s.io/kms/apis/v2"
	"k8s.io/kms/pkg/service"
)

// ShutdownGrace is how long Serve lets calls in flight finish after its
// context ends before it closes their connections.
const ShutdownGrace = 5 * time.Second

// maxMessage caps a request's size. kube-apiserver sends data keys of a
// few dozen bytes and ciphertexts of at most MaxCiphertext, with
// annotations; anything near this is not kube-apiserver.
const maxMessage = 64 << 10

// connectionTimeout bounds a new connection's handshake.
const connectionTimeout = 5 * time.Second

// Serve answers kube-apiserver's KMS v2 calls (gRPC service
// v2.KeyManagementService) with svc on a unix socket at path, until ctx
// ends; then it stops gracefully and removes the socket.
//
// A stale socket left at path by a plugin that died is removed first;
// anything else there (a file, or a socket that something still answers
// on) makes Serve fail. The socket is created with mode 0600, so only its
// owner (and root) can connect: whoever can connect can decrypt what the
// plugin's key protects.
//
// The calls go through k8s.io/kms's GRPCService, which maps them to svc;
// Serve owns the listener (rather than GRPCService.ListenAndServe) so that
// the socket is never reachable with a wider mode, and so that shutdown
// is bounded by ShutdownGrace.
func Serve(ctx context.Context, path string, svc service.Service, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	ln, err := listenSocket(path)
	if err != nil {
		return err
	}
	gs := grpc.NewServer(grpc.ConnectionTimeout(connectionTimeout), grpc.MaxRecvMsgSize(maxMessage))
	kmsapi.RegisterKeyManagementServiceServer(gs, service.NewGRPCService(path, connectionTimeout, svc))
	served := make(chan error, 1)
	go func() { served <- gs.Serve(ln) }()
	log.Info("kms-plugin listening", "socket", path)

	select {
	case err := <-served:
		return fmt.Errorf("kubekms: serving on %s: %w", path, err)
	case <-ctx.Done():
	}
	log.Info("kms-plugin shutting down", "socket", path)
	stopped := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(ShutdownGrace):
		log.Warn("kms-plugin calls still running after the grace period; closing them", "grace", ShutdownGrace)
		gs.Stop()
		<-stopped
	}
	if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("kubekms: serving on %s: %w", path, err)
	}
	return nil
}

// listenSocket prepares path and listens on it with mode 0600.
func listenSocket(path string) (net.Listener, error) {
	if path == "" {
		return nil, errors.New("kubekms: no socket path given")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("kubekms: creating the socket's directory: %w", err)
	}
	if err := removeStaleSocket(path); err != nil {
		return nil, err
	}
	ln, err := listenPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("kubekms: listening on %s: %w", path, err)
	}
	// listenPrivate already made it 0600 where the platform allows; make
	// sure on every platform.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("kubekms: restricting the socket's mode: %w", err)
	}
	return ln, nil
}

// removeStaleSocket removes a socket at path that nothing answers on: one
// left behind by a plugin that did not shut down. It never removes
// anything that is not a socket, nor a socket still in use.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kubekms: checking %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("kubekms: %s exists and is not a socket; not removing it", path)
	}
	if c, err := net.DialTimeout("unix", path, 500*time.Millisecond); err == nil {
		c.Close()
		return fmt.Errorf("kubekms: another process is serving on %s", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("kubekms: removing the stale socket %s: %w", path, err)
	}
	return nil
}
