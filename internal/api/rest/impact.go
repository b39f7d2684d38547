package rest

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/arcakms/arca/internal/kms"
)

type keyImpactJSON struct {
	KeyID       string                   `json:"key_id"`
	Key         string                   `json:"key"`
	GeneratedAt time.Time                `json:"generated_at"`
	Records     int                      `json:"records"`
	Users       []keyUserJSON            `json:"users"`
	Versions    []versionCiphertextsJSON `json:"versions"`
}

type versionCiphertextsJSON struct {
	Version     uint32 `json:"version"`
	Made        int    `json:"ciphertexts_made"`
	RewrappedTo int    `json:"rewrapped_away"`
	Outstanding int    `json:"outstanding"`
}

type keyUserJSON struct {
	Identity   string         `json:"identity"`
	AuthMethod string         `json:"auth_method,omitzero"`
	Operations map[string]int `json:"operations"`
	Refused    int            `json:"refused"`
	FirstUse   time.Time      `json:"first_use"`
	LastUse    time.Time      `json:"last_use"`
	Sources    []string       `json:"sources"`
	Versions   []string       `json:"versions"`
}

// keyImpact serves GET /v1/keys/{key}/impact?version=N&from=T&to=T.
func (h *Handler) keyImpact(ctx context.Context, r *http.Request) (int, any, error) {
	q := newQuery(r)
	req := kms.ImpactRequest{Key: r.PathValue("key")}
	for _, v := range q.all("version") {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return 0, nil, reject(kms.CodeInvalidArgument, "version must be a positive integer")
		}
		req.Versions = append(req.Versions, uint32(n))
	}
	for name, dst := range map[string]*time.Time{"from": &req.From, "to": &req.To} {
		if v := q.str(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return 0, nil, reject(kms.CodeInvalidArgument, "%s must be an RFC 3339 time", name)
			}
			*dst = t
		}
	}
	if err := q.done(); err != nil {
		return 0, nil, err
	}
	rep, err := h.svc.KeyImpactReport(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	out := &keyImpactJSON{KeyID: rep.KeyID, Key: rep.Key, GeneratedAt: rep.GeneratedAt, Records: rep.Records, Users: []keyUserJSON{}, Versions: []versionCiphertextsJSON{}}
	for _, v := range rep.Versions {
		out.Versions = append(out.Versions, versionCiphertextsJSON(v))
	}
	for _, u := range rep.Users {
		j := keyUserJSON{Identity: u.Identity, AuthMethod: u.AuthMethod, Operations: u.Operations, Refused: u.Refused,
			FirstUse: u.FirstUse, LastUse: u.LastUse, Sources: u.Sources, Versions: u.Versions}
		if j.Sources == nil {
			j.Sources = []string{}
		}
		if j.Versions == nil {
			j.Versions = []string{}
		}
		out.Users = append(out.Users, j)
	}
	return http.StatusOK, out, nil
}
