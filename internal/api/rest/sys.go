package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/arcakms/arca/internal/kms"
)

type sealStatusJSON struct {
	Initialized bool   `json:"initialized"`
	Sealed      bool   `json:"sealed"`
	Shares      int    `json:"shares"`
	Threshold   int    `json:"threshold"`
	Progress    int    `json:"progress"`
	Version     string `json:"version"`
	Type        string `json:"type,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

func sealStatusOf(st kms.SealStatus) *sealStatusJSON {
	return &sealStatusJSON{Initialized: st.Initialized, Sealed: st.Sealed, Shares: st.Shares, Threshold: st.Threshold, Progress: st.Progress, Version: st.Version,
		Type: st.Type, Reason: st.Reason}
}

type healthJSON struct {
	Initialized bool   `json:"initialized"`
	Sealed      bool   `json:"sealed"`
	Version     string `json:"version"`
	Node        string `json:"node"`
	Role        string `json:"role"`
	Storage     string `json:"storage"`
}

func (h *Handler) health(ctx context.Context, r *http.Request) (int, any, error) {
	if err := newQuery(r).done(); err != nil {
		return 0, nil, err
	}
	st, err := h.svc.Health(ctx)
	if err != nil {
		return 0, nil, err
	}
	status, storage := http.StatusOK, "ok"
	if !st.StorageOK {
		storage = "unreachable"
	}
	if st.Sealed || !st.StorageOK {
		status = http.StatusServiceUnavailable
	}
	return status, &healthJSON{Initialized: st.Initialized, Sealed: st.Sealed, Version: st.Version, Node: st.Node, Role: st.Role, Storage: storage}, nil
}

func (h *Handler) sealStatus(ctx context.Context, r *http.Request) (int, any, error) {
	if err := newQuery(r).done(); err != nil {
		return 0, nil, err
	}
	st, err := h.svc.AuditedStatus(ctx, kms.OpSealStatus)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, sealStatusOf(st), nil
}

type initRequest struct {
	Shares            int    `json:"shares"`
	Threshold         int    `json:"threshold"`
	Seal              string `json:"seal"`
	RecoveryShares    int    `json:"recovery_shares"`
	RecoveryThreshold int    `json:"recovery_threshold"`
}

type initResponse struct {
	Shares         []string `json:"shares"`
	RootToken      string   `json:"root_token"`
	RecoveryShares []string `json:"recovery_shares,omitempty"`
}

func (h *Handler) init(ctx context.Context, r *http.Request) (int, any, error) {
	var req initRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	var res *kms.InitResult
	var err error
	switch req.Seal {
	case "", "shamir":
		if req.RecoveryShares != 0 || req.RecoveryThreshold != 0 {
			return 0, nil, reject(kms.CodeInvalidArgument, "a shamir seal has no recovery key: its unseal shares serve")
		}
		res, err = h.svc.Init(ctx, req.Shares, req.Threshold)
	case "pkcs11":
		if req.Shares != 0 || req.Threshold != 0 {
			return 0, nil, reject(kms.CodeInvalidArgument, "a pkcs11 seal has no unseal shares: leave shares and threshold out (recovery_shares and recovery_threshold make a recovery key)")
		}
		res, err = h.svc.InitHSM(ctx, req.RecoveryShares, req.RecoveryThreshold)
	default:
		return 0, nil, reject(kms.CodeInvalidArgument, "seal must be shamir or pkcs11")
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &initResponse{Shares: res.Shares, RootToken: res.RootToken, RecoveryShares: res.RecoveryShares}, nil
}

type rekeyRequest struct {
	Shares    int `json:"shares"`
	Threshold int `json:"threshold"`
}

type migrateSealRequest struct {
	To        string `json:"to"`
	Shares    int    `json:"shares"`
	Threshold int    `json:"threshold"`
}

type sealChangeResponse struct {
	Type              string   `json:"type"`
	Shares            []string `json:"shares,omitempty"`
	Threshold         int      `json:"threshold,omitzero"`
	RecoveryShares    []string `json:"recovery_shares,omitempty"`
	RecoveryThreshold int      `json:"recovery_threshold,omitzero"`
	KeyLabel          string   `json:"key_label,omitempty"`
	KeyringGeneration uint32   `json:"keyring_generation"`
}

func sealChangeOf(c *kms.SealChange) *sealChangeResponse {
	return &sealChangeResponse{Type: c.Type, Shares: c.Shares, Threshold: c.Threshold, RecoveryShares: c.RecoveryShares,
		RecoveryThreshold: c.RecoveryThreshold, KeyLabel: c.KeyLabel, KeyringGeneration: c.KeyringGeneration}
}

func (h *Handler) rekey(ctx context.Context, r *http.Request) (int, any, error) {
	var req rekeyRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	res, err := h.svc.Rekey(ctx, req.Shares, req.Threshold)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, sealChangeOf(res), nil
}

func (h *Handler) rotateRoot(ctx context.Context, r *http.Request) (int, any, error) {
	if err := decode(r, &struct{}{}); err != nil {
		return 0, nil, err
	}
	res, err := h.svc.RotateRoot(ctx)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, sealChangeOf(res), nil
}

func (h *Handler) migrateSeal(ctx context.Context, r *http.Request) (int, any, error) {
	var req migrateSealRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	res, err := h.svc.MigrateSeal(ctx, req.To, req.Shares, req.Threshold)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, sealChangeOf(res), nil
}

type keyringGenerationResponse struct {
	Generation uint32    `json:"generation"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	Current    bool      `json:"current"`
	Blobs      int       `json:"blobs"`
}

type keyringStatusResponse struct {
	Current     uint32                      `json:"current_generation"`
	Generations []keyringGenerationResponse `json:"generations"`
}

func keyringStatusOf(st *kms.KeyringStatus) *keyringStatusResponse {
	out := &keyringStatusResponse{Current: st.Current, Generations: []keyringGenerationResponse{}}
	for _, g := range st.Generations {
		out.Generations = append(out.Generations, keyringGenerationResponse{Generation: g.Generation, CreatedAt: g.CreatedAt, Current: g.Current, Blobs: g.Blobs})
	}
	return out
}

func (h *Handler) rotateKeyring(ctx context.Context, r *http.Request) (int, any, error) {
	if err := decode(r, &struct{}{}); err != nil {
		return 0, nil, err
	}
	st, err := h.svc.RotateKeyring(ctx)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, keyringStatusOf(st), nil
}

func (h *Handler) keyringStatus(ctx context.Context, _ *http.Request) (int, any, error) {
	st, err := h.svc.KeyringStatus(ctx)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, keyringStatusOf(st), nil
}

type unsealRequest struct {
	Share string `json:"share"`
	Reset bool   `json:"reset"`
}

func (h *Handler) unseal(ctx context.Context, r *http.Request) (int, any, error) {
	var req unsealRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	var st kms.SealStatus
	var err error
	switch {
	case req.Reset && req.Share != "":
		return 0, nil, reject(kms.CodeInvalidArgument, "give either share or reset, not both")
	case req.Reset:
		st, err = h.svc.ResetUnseal(ctx)
	case req.Share == "":
		return 0, nil, reject(kms.CodeInvalidArgument, "share is required")
	default:
		st, err = h.svc.Unseal(ctx, req.Share)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, sealStatusOf(st), nil
}

type emptyRequest struct{}

func (h *Handler) seal(ctx context.Context, r *http.Request) (int, any, error) {
	if err := decode(r, &emptyRequest{}); err != nil {
		return 0, nil, err
	}
	st, err := h.svc.Seal(ctx)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, sealStatusOf(st), nil
}

type generateRootRequest struct {
	Share  string `json:"share"`
	Cancel bool   `json:"cancel"`
}

type generateRootResponse struct {
	Progress  int    `json:"progress"`
	Threshold int    `json:"threshold"`
	Token     string `json:"root_token,omitzero"`
}

// generateRoot takes one share of a break-glass root token generation, or
// cancels it.
func (h *Handler) generateRoot(ctx context.Context, r *http.Request) (int, any, error) {
	var req generateRootRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	switch {
	case req.Cancel && req.Share != "":
		return 0, nil, reject(kms.CodeInvalidArgument, "give either share or cancel, not both")
	case req.Cancel:
		if err := h.svc.CancelGenerateRoot(ctx); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, &generateRootResponse{}, nil
	case req.Share == "":
		return 0, nil, reject(kms.CodeInvalidArgument, "share is required")
	}
	res, err := h.svc.GenerateRoot(ctx, req.Share)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &generateRootResponse{Progress: res.Progress, Threshold: res.Threshold, Token: res.Token}, nil
}
