package kubekms

import (
	"context"
	"time"

	"github.com/arcakms/arca/client"
)

// Bounds of the token renewal schedule: a token is renewed at half its
// remaining life, but not more often than minRenew nor less often than
// maxRenew; a failed renewal is tried again after retryRenew.
const (
	minRenew     = time.Minute
	maxRenew     = 24 * time.Hour
	retryRenew   = time.Minute
	renewTimeout = 10 * time.Second
)

// KeepTokenAlive renews the plugin's bearer token (POST
// /v1/tokens/renew-self) now and then at half its remaining life, until
// ctx ends, so that a plugin that runs for months does not stop when its
// token's lifetime runs out. It returns at once if the token does not
// renew (the root token, a login token). Run it only when the plugin
// authenticates with a token, not with a client certificate.
func (p *Plugin) KeepTokenAlive(ctx context.Context) {
	for {
		wait := retryRenew
		rctx, cancel := context.WithTimeout(ctx, renewTimeout)
		tok, err := p.client.Load().RenewToken(rctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case client.IsCode(err, client.CodeUnsupportedOperation):
			p.log.Info("kms-plugin token does not renew; it is used until it expires")
			return
		case err != nil:
			p.log.Warn("kms-plugin could not renew its token", "error", err, "retry_in", retryRenew)
		default:
			wait = min(max(time.Until(tok.ExpiresAt)/2, minRenew), maxRenew)
			p.log.Info("kms-plugin token renewed", "expires_at", tok.ExpiresAt, "next_renewal_in", wait.Round(time.Second))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
