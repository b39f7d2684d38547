package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/arcakms/arca/internal/access"
)

type accessMatrixJSON struct {
	GeneratedAt time.Time            `json:"generated_at"`
	Identities  []identityAccessJSON `json:"identities"`
}

type identityAccessJSON struct {
	ID     string                         `json:"id"`
	Name   string                         `json:"name"`
	Status string                         `json:"status"`
	Server map[access.Action]access.Grant `json:"server"`
	Keys   []keyAccessJSON                `json:"keys"`
}

type keyAccessJSON struct {
	KeyID   string                         `json:"key_id"`
	Key     string                         `json:"key"`
	Actions map[access.Action]access.Grant `json:"actions"`
}

func (h *Handler) accessMatrix(ctx context.Context, r *http.Request) (int, any, error) {
	if err := newQuery(r).done(); err != nil {
		return 0, nil, err
	}
	m, err := h.svc.AccessReview(ctx)
	if err != nil {
		return 0, nil, err
	}
	out := &accessMatrixJSON{GeneratedAt: m.GeneratedAt, Identities: []identityAccessJSON{}}
	for _, row := range m.Identities {
		j := identityAccessJSON{ID: row.ID, Name: row.Name, Status: string(row.Status), Server: row.Server, Keys: []keyAccessJSON{}}
		for _, k := range row.Keys {
			j.Keys = append(j.Keys, keyAccessJSON{KeyID: k.KeyID, Key: k.Key, Actions: k.Actions})
		}
		out.Identities = append(out.Identities, j)
	}
	return http.StatusOK, out, nil
}
