package kubekms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arcakms/arca/client"
)

// DefaultTimeout bounds each Status, Encrypt and Decrypt call end to end,
// retries included: kube-apiserver gives a KMS v2 call 3 seconds, and the
// plugin answers, with a result or an error, before that.
const DefaultTimeout = 2500 * time.Millisecond

// The retry policy. A call makes at most maxAttempts requests; each but the
// last may take attemptTimeout, so that a request stuck on a dead
// connection leaves time for one on a fresh connection, and the last gets
// whatever is left of the call's budget. Between attempts the plugin waits
// backoff[attempt-1], and it does not start an attempt that would have less
// than minAttempt left.
const (
	maxAttempts    = 3
	attemptTimeout = time.Second
	minAttempt     = 100 * time.Millisecond
)

var backoff = [maxAttempts - 1]time.Duration{50 * time.Millisecond, 150 * time.Millisecond}

// reloadInterval is the least time between two credential reloads, so a
// revoked token does not make every call re-read the token file.
const reloadInterval = time.Second

// call runs op against the Arca server within the plugin's budget. It
// retries transient failures (see transient) and, once per call, a 401
// after reloading the credentials, if Config.Reload is set.
func (p *Plugin) call(ctx context.Context, op func(context.Context, *client.Client) error) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	reloaded := false
	for attempt := 1; ; attempt++ {
		actx, acancel := ctx, context.CancelFunc(func() {})
		if attempt < maxAttempts {
			actx, acancel = context.WithTimeout(ctx, attemptTimeout)
		}
		used := p.client.Load()
		err := op(actx, used)
		acancel()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return p.expired(ctx, err)
		case client.IsCode(err, client.CodeUnauthorized) && !reloaded && (p.client.Load() != used || p.reload()):
			// Reloaded here, or by a concurrent call that met the 401
			// first: either way, try once with the new credentials.
			reloaded = true
			attempt--
			continue
		case attempt == maxAttempts || !transient(err):
			return err
		}
		wait := backoff[attempt-1]
		if deadline, _ := ctx.Deadline(); time.Until(deadline) < wait+minAttempt {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return p.expired(ctx, err)
		}
	}
}

// expired explains the last error of a call whose context ended.
func (p *Plugin) expired(ctx context.Context, last error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("call canceled by the caller: %w", context.Canceled)
	}
	return fmt.Errorf("no answer within %v (last error: %v): %w", p.timeout, last, context.DeadlineExceeded)
}

// transient reports whether a failed request may succeed if sent again at
// once: a network failure or an attempt's timeout, a gateway error, or a
// server that could not reach its database or write its audit log. A
// sealed or uninitialised server is not transient: it needs an operator,
// a retry within the same call would only add load, and kube-apiserver
// calls again later anyway. Nothing else the server refuses is transient
// either; in particular a rate limit asks to wait at least a second.
func transient(err error) bool {
	var ae *client.Error
	if !errors.As(err, &ae) {
		return true // the request did not get an API answer
	}
	switch ae.StatusCode {
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	case http.StatusServiceUnavailable:
		return ae.Code != client.CodeSealed && ae.Code != client.CodeNotInitialized
	}
	return false
}

// grpcError turns a failed call into the gRPC status kube-apiserver sees.
// The message names the operation and keeps Arca's error code, message
// and request id (which never echo request values), or the transport
// error (which names the server address, never the token).
func grpcError(op string, err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Unavailable
	var ae *client.Error
	switch {
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.As(err, &ae):
		code = httpCode(ae.StatusCode)
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	return status.Errorf(code, "arca kms-plugin: %s: %v", op, err)
}

// httpCode maps an HTTP status of the Arca API to a gRPC code.
func httpCode(s int) codes.Code {
	switch s {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound:
		return codes.NotFound
	case http.StatusConflict, http.StatusGone, http.StatusUnprocessableEntity:
		return codes.FailedPrecondition
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return codes.Unavailable
	}
	return codes.Internal
}
