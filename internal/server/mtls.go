package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// clientAuth configures client certificate authentication (mTLS) from
// tls.client_ca_file: certificates must chain to those CAs; with
// require_client_cert every connection must present one.
func (s *Server) clientAuth(cfg *tls.Config) error {
	if s.cfg.TLS.ClientCAFile == "" {
		return nil
	}
	pem, err := os.ReadFile(s.cfg.TLS.ClientCAFile)
	if err != nil {
		return fmt.Errorf("server: read client CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("server: %s holds no PEM certificate", s.cfg.TLS.ClientCAFile)
	}
	cfg.ClientCAs = pool
	cfg.ClientAuth = tls.VerifyClientCertIfGiven
	if s.cfg.TLS.RequireClientCert {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return nil
}
