package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/arcakms/arca/internal/config"
	"github.com/arcakms/arca/internal/hsm"
	"github.com/arcakms/arca/internal/kms"
)

// envPKCS11PIN carries the HSM user PIN, which the config file never holds.
const envPKCS11PIN = "ARCA_PKCS11_PIN"

// OpenHSM returns the token connection the seal configuration names,
// opened lazily (so a server whose HSM is away starts sealed and
// recovers), or nil for a Shamir seal without seal.pkcs11 (no HSM: no
// HSM-protected keys).
func OpenHSM(c config.Seal) (*hsm.Reconnecting, error) {
	if c.Type != "pkcs11" && c.PKCS11.Module == "" {
		return nil, nil
	}
	pin, ok := os.LookupEnv(envPKCS11PIN)
	if !ok && c.PKCS11.PINFile != "" {
		b, err := os.ReadFile(c.PKCS11.PINFile)
		if err != nil {
			return nil, fmt.Errorf("server: read seal.pkcs11.pin_file: %w", err)
		}
		pin, ok = strings.TrimSpace(string(b)), true
	}
	if !ok {
		return nil, errors.New("server: the PKCS#11 seal needs the token PIN in " + envPKCS11PIN + " or seal.pkcs11.pin_file")
	}
	cfg := hsm.Config{Module: c.PKCS11.Module, TokenLabel: c.PKCS11.TokenLabel, PIN: pin}
	if c.PKCS11.Slot != nil {
		cfg.Slot = *c.PKCS11.Slot
	}
	return hsm.NewReconnecting(cfg), nil
}

// autoUnseal unseals a PKCS#11-sealed server through its HSM at start,
// retrying with backoff (1 s, doubling, at most 30 s) while the HSM is away
// or the server is not yet initialised; it stops once unsealed, so a server
// an operator seals stays sealed until it is restarted.
func (s *Server) autoUnseal(ctx context.Context) {
	if s.hsm == nil {
		return
	}
	backoff := time.Second
	for {
		err := s.svc.AutoUnseal(ctx)
		st := s.svc.Status()
		if err == nil && st.Initialized && !st.Sealed {
			s.log.Info("unsealed by the HSM")
			return
		}
		if err != nil {
			s.log.Warn("the HSM did not unseal the server; retrying", "error", err, "retry_in", backoff)
		} else if st.Initialized && st.Type != "pkcs11" {
			return // a Shamir seal: operators unseal it
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

var _ kms.HSM = (*hsm.Reconnecting)(nil)
