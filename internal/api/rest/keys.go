package rest

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/policy"
)

type keyJSON struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Algorithm      string            `json:"algorithm"`
	Description    string            `json:"description"`
	Labels         map[string]string `json:"labels"`
	Owner          string            `json:"owner"`
	PrimaryVersion uint32            `json:"primary_version"`
	CreatedAt      time.Time         `json:"created_at"`
	CreatedBy      string            `json:"created_by"`
	UpdatedAt      time.Time         `json:"updated_at"`
	State          string            `json:"state"`
	Derived        bool              `json:"derived,omitzero"`
	Origin         string            `json:"origin"`
	Exportable     bool              `json:"exportable"`
	Protection     string            `json:"protection"`
	keyPolicyJSON
	DestroyAt   time.Time `json:"destroy_at,omitzero"`
	DestroyedAt time.Time `json:"destroyed_at,omitzero"`
	DestroyedBy string    `json:"destroyed_by,omitzero"`
}

func keyOf(k *kms.Key) *keyJSON {
	labels := k.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return &keyJSON{
		ID: k.ID, Name: k.Name, Algorithm: string(k.Algorithm), Description: k.Description, Labels: labels,
		Owner: k.Owner, PrimaryVersion: k.PrimaryVersion, CreatedAt: k.CreatedAt, CreatedBy: k.CreatedBy, UpdatedAt: k.UpdatedAt,
		State: string(k.State), DestroyAt: k.DestroyAt, DestroyedAt: k.DestroyedAt, DestroyedBy: k.DestroyedBy,
		keyPolicyJSON: keyPolicyOf(k.Policy), Derived: k.Derived, Origin: string(k.Origin), Exportable: k.Exportable,
		Protection: k.Protection,
	}
}

// keyPolicyJSON is a key's rotation and use policy on the wire.
type keyPolicyJSON struct {
	PrimarySince         time.Time `json:"primary_since"`
	RotationPeriod       string    `json:"rotation_period,omitzero"`
	MinDecryptionVersion uint32    `json:"min_decryption_version,omitzero"`
	UsageBound           uint64    `json:"usage_bound"`
	ActivateAt           time.Time `json:"activate_at,omitzero"`
	DeactivateAt         time.Time `json:"deactivate_at,omitzero"`
}

func keyPolicyOf(p kms.KeyPolicy) keyPolicyJSON {
	out := keyPolicyJSON{
		PrimarySince: p.PrimarySince, MinDecryptionVersion: p.MinDecryptionVersion, UsageBound: p.UsageBound,
		ActivateAt: p.ActivateAt, DeactivateAt: p.DeactivateAt,
	}
	if p.RotationPeriod > 0 {
		out.RotationPeriod = policy.FormatDuration(p.RotationPeriod)
	}
	return out
}

// policyRequest sets a key's rotation and use policy; absent fields are
// left unchanged. rotation_period "0" (or "") removes scheduled rotation.
type policyRequest struct {
	RotationPeriod       *string    `json:"rotation_period"`
	MinDecryptionVersion *uint32    `json:"min_decryption_version"`
	UsageBound           *uint64    `json:"usage_bound"`
	ActivateAt           *time.Time `json:"activate_at"`
	DeactivateAt         *time.Time `json:"deactivate_at"`
}

func (p *policyRequest) update() (kms.PolicyUpdate, error) {
	u := kms.PolicyUpdate{MinDecryptionVersion: p.MinDecryptionVersion, UsageBound: p.UsageBound, ActivateAt: p.ActivateAt, DeactivateAt: p.DeactivateAt}
	if p.RotationPeriod != nil {
		var d time.Duration
		if *p.RotationPeriod != "" && *p.RotationPeriod != "0" {
			var err error
			if d, err = policy.ParseDuration(*p.RotationPeriod); err != nil {
				return u, reject(kms.CodeInvalidArgument, "rotation_period: %v", err)
			}
		}
		u.RotationPeriod = &d
	}
	return u, nil
}

func (h *Handler) updateKey(ctx context.Context, r *http.Request) (int, any, error) {
	var req policyRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	u, err := req.update()
	if err != nil {
		return 0, nil, err
	}
	k, err := h.svc.UpdateKeyPolicy(ctx, r.PathValue("key"), u)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, keyOf(k), nil
}

type provenanceJSON struct {
	Generator     string `json:"generator"`
	EntropySource string `json:"entropy_source"`
	ServerVersion string `json:"server_version"`
}

type versionJSON struct {
	Version     uint32         `json:"version"`
	Algorithm   string         `json:"algorithm"`
	CreatedAt   time.Time      `json:"created_at"`
	CreatedBy   string         `json:"created_by"`
	Provenance  provenanceJSON `json:"provenance"`
	State       string         `json:"state"`
	DestroyAt   time.Time      `json:"destroy_at,omitzero"`
	DestroyedAt time.Time      `json:"destroyed_at,omitzero"`
	DestroyedBy string         `json:"destroyed_by,omitzero"`
}

func versionOf(v *kms.KeyVersion) versionJSON {
	return versionJSON{
		Version: v.Version, Algorithm: string(v.Algorithm), CreatedAt: v.CreatedAt, CreatedBy: v.CreatedBy,
		Provenance: provenanceJSON(v.Provenance), State: string(v.State),
		DestroyAt: v.DestroyAt, DestroyedAt: v.DestroyedAt, DestroyedBy: v.DestroyedBy,
	}
}

type createKeyRequest struct {
	Name        string            `json:"name"`
	Algorithm   string            `json:"algorithm"`
	Description string            `json:"description"`
	Labels      map[string]string `json:"labels"`
	Owner       string            `json:"owner"`
	PreActive   bool              `json:"pre_active"`
	Derived     bool              `json:"derived"`
	Exportable  bool              `json:"exportable"`
	// Protection is "software" (default) or "hsm".
	Protection string `json:"protection"`
	// Import creates the key from imported material (origin external).
	Import *importRequest `json:"import"`
	policyRequest
}

func (h *Handler) createKey(ctx context.Context, r *http.Request) (int, any, error) {
	var req createKeyRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	u, err := req.update()
	if err != nil {
		return 0, nil, err
	}
	var im *kms.ImportMaterial
	if req.Import != nil {
		if im, err = req.Import.material(); err != nil {
			return 0, nil, err
		}
	}
	k, err := h.svc.CreateKey(ctx, kms.CreateKeyRequest{
		Name: req.Name, Algorithm: req.Algorithm, Description: req.Description, Labels: req.Labels, Owner: req.Owner,
		PreActive: req.PreActive, Derived: req.Derived, Policy: u, Exportable: req.Exportable, Import: im,
		Protection: req.Protection,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, keyOf(k), nil
}

func (h *Handler) getKey(ctx context.Context, r *http.Request) (int, any, error) {
	if err := newQuery(r).done(); err != nil {
		return 0, nil, err
	}
	k, err := h.svc.GetKey(ctx, r.PathValue("key"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, keyOf(k), nil
}

type rotateRequest struct {
	// CompromiseVersions makes this an emergency rotation.
	CompromiseVersions []uint32 `json:"compromise_versions"`
}

func (h *Handler) rotateKey(ctx context.Context, r *http.Request) (int, any, error) {
	var req rotateRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	k, err := h.svc.RotateKey(ctx, kms.RotateRequest{Key: r.PathValue("key"), CompromiseVersions: req.CompromiseVersions})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, keyOf(k), nil
}

type listKeysResponse struct {
	Keys          []*keyJSON `json:"keys"`
	NextPageToken string     `json:"next_page_token"`
}

func (h *Handler) listKeys(ctx context.Context, r *http.Request) (int, any, error) {
	q := newQuery(r)
	req := kms.ListKeysRequest{Limit: q.int("limit"), PageToken: q.str("page_token")}
	for _, l := range q.all("label") {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return 0, nil, reject(kms.CodeInvalidArgument, "label filters must have the form key=value")
		}
		if req.Labels == nil {
			req.Labels = map[string]string{}
		}
		if _, dup := req.Labels[k]; dup {
			return 0, nil, reject(kms.CodeInvalidArgument, "label filter %q given more than once", truncate(k, 64))
		}
		req.Labels[k] = v
	}
	if err := q.done(); err != nil {
		return 0, nil, err
	}
	res, err := h.svc.ListKeys(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	out := &listKeysResponse{Keys: make([]*keyJSON, 0, len(res.Keys)), NextPageToken: res.NextPageToken}
	for _, k := range res.Keys {
		out.Keys = append(out.Keys, keyOf(k))
	}
	return http.StatusOK, out, nil
}

type listVersionsResponse struct {
	Versions      []versionJSON `json:"versions"`
	NextPageToken string        `json:"next_page_token"`
}

func (h *Handler) listVersions(ctx context.Context, r *http.Request) (int, any, error) {
	q := newQuery(r)
	req := kms.ListVersionsRequest{Key: r.PathValue("key"), Limit: q.int("limit"), PageToken: q.str("page_token")}
	if err := q.done(); err != nil {
		return 0, nil, err
	}
	res, err := h.svc.ListVersions(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	out := &listVersionsResponse{Versions: make([]versionJSON, 0, len(res.Versions)), NextPageToken: res.NextPageToken}
	for _, v := range res.Versions {
		out.Versions = append(out.Versions, versionOf(&v))
	}
	return http.StatusOK, out, nil
}

type lifecycleRequest struct {
	Action      string `json:"action"`
	WaitingDays int    `json:"waiting_days"`
}

func (h *Handler) keyLifecycle(ctx context.Context, r *http.Request) (int, any, error) {
	var req lifecycleRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	k, err := h.svc.ChangeKeyState(ctx, kms.ChangeStateRequest{Key: r.PathValue("key"), Action: req.Action, WaitingDays: req.WaitingDays})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, keyOf(k), nil
}

func (h *Handler) versionLifecycle(ctx context.Context, r *http.Request) (int, any, error) {
	var req lifecycleRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	v, err := strconv.ParseUint(r.PathValue("version"), 10, 32)
	if err != nil || v == 0 {
		return 0, nil, reject(kms.CodeInvalidArgument, "version must be a positive integer")
	}
	ver, err := h.svc.ChangeVersionState(ctx, kms.ChangeStateRequest{Key: r.PathValue("key"), Version: uint32(v), Action: req.Action, WaitingDays: req.WaitingDays})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, versionOf(ver), nil
}
