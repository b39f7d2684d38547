package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/arcakms/arca/internal/api/awskms"
	"github.com/arcakms/arca/internal/api/kmip"
	"github.com/arcakms/arca/internal/api/rest"
	"github.com/arcakms/arca/internal/api/transit"
)

// interfaces puts the HTTP interfaces other than REST in front of it, on
// the same listener: the AWS-KMS-compatible API takes the requests that
// carry a TrentService X-Amz-Target, the Transit-compatible API the paths
// under its mounts (/v1/MOUNT/...); everything else is REST's.
func (s *Server) interfaces(restHandler *rest.Handler) (http.Handler, error) {
	var aws *awskms.Handler
	if !s.cfg.AWSKMS.Disabled {
		aws = awskms.New(s.svc, awskms.Options{Account: s.cfg.AWSKMS.Account, Region: s.cfg.AWSKMS.Region, Logger: s.log})
	}
	var tr *transit.Handler
	var mounts []string
	if !s.cfg.Transit.Disabled {
		mounts = s.cfg.Transit.Mounts
		if len(mounts) == 0 {
			mounts = []string{transit.DefaultMount}
		}
		if err := checkMounts(mounts, restHandler.Routes()); err != nil {
			return nil, err
		}
		tr = transit.New(s.svc, transit.Options{Mounts: mounts, Logger: s.log})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if aws != nil && awskms.IsRequest(r) {
			aws.ServeHTTP(w, r)
			return
		}
		if tr != nil {
			for _, m := range mounts {
				if strings.HasPrefix(r.URL.Path, "/v1/"+m+"/") {
					tr.ServeHTTP(w, r)
					return
				}
			}
		}
		restHandler.ServeHTTP(w, r)
	}), nil
}

// checkMounts refuses Transit mounts that are not valid or would shadow a
// REST path.
func checkMounts(mounts []string, routes []rest.Route) error {
	for _, m := range mounts {
		if err := transit.ValidateMount(m); err != nil {
			return fmt.Errorf("server: transit.mounts: %w", err)
		}
		first, _, _ := strings.Cut(m, "/")
		for _, rt := range routes {
			seg, _, _ := strings.Cut(strings.TrimPrefix(rt.Path, "/v1/"), "/")
			if seg == first {
				return fmt.Errorf("server: transit mount %q would shadow the REST paths /v1/%s/", m, seg)
			}
		}
	}
	return nil
}

// listenKMIP starts the KMIP server on kmip.listen, with the listener's
// certificate and the client CAs of tls.client_ca_file: every connection
// is mutual TLS, and the client certificate is the credential.
func (s *Server) listenKMIP() error {
	if !s.cfg.KMIP.On() {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(s.cfg.TLS.CertFile, s.cfg.TLS.KeyFile)
	if err != nil {
		return fmt.Errorf("server: load TLS certificate for KMIP: %w", err)
	}
	tcfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if err := s.clientAuth(tcfg); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.KMIP.Addr())
	if err != nil {
		return fmt.Errorf("server: kmip listen: %w", err)
	}
	s.kmip = kmip.NewServer(s.svc, kmip.Options{TLSConfig: tcfg, Logger: s.log})
	s.kmipLn = ln
	go func() {
		if err := s.kmip.Serve(ln); err != nil && !errors.Is(err, kmip.ErrServerClosed) {
			s.log.Error("KMIP server stopped", "error", err)
		}
	}()
	return nil
}

// KMIPAddr is the KMIP listener's address ("" when KMIP is off).
func (s *Server) KMIPAddr() string {
	if s.kmipLn == nil {
		return ""
	}
	return s.kmipLn.Addr().String()
}
