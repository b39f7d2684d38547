package kms

import (
	"context"
	"encoding/base64"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/storage"
)

// ListKeysRequest selects a page of keys.
type ListKeysRequest struct {
	Limit     int
	PageToken string
	// Labels filters keys: every label must match exactly.
	Labels map[string]string
}

// ListKeysResult is one page of keys, ordered by name.
type ListKeysResult struct {
	Keys          []*Key
	NextPageToken string
}

func decodePageToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(b) == 0 || len(b) > 256 || !storage.ValidKey(string(b)) {
		return "", Errorf(CodeInvalidArgument, "invalid page_token")
	}
	return string(b), nil
}

func encodePageToken(after string) string {
	if after == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(after))
}

func validateLimit(limit int) error {
	if limit < 0 || limit > storage.MaxListLimit {
		return Errorf(CodeInvalidArgument, "limit must be between 1 and %d", storage.MaxListLimit)
	}
	return nil
}

// ListKeys returns keys ordered by name, optionally filtered by labels.
func (s *Service) ListKeys(ctx context.Context, req ListKeysRequest) (res *ListKeysResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpKeyList, t, err); err != nil {
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	// Listing needs key:list on some keys; the page then holds only the
	// keys the caller may read.
	if id := RequestFrom(ctx).Identity; !id.Root && !access.AllowsSomewhere(id.Policies, access.KeyList) {
		t.denyReason = string(access.ReasonNoAllow)
		return nil, Errorf(CodeForbidden, "identity %q may not %s: %s", id.IdentityName, access.KeyList, access.ReasonNoAllow)
	}
	if err := validateLimit(req.Limit); err != nil {
		return nil, err
	}
	if err := validateLabels(req.Labels); err != nil {
		return nil, err
	}
	after, err := decodePageToken(req.PageToken)
	if err != nil {
		return nil, err
	}
	limit := storage.ClampLimit(req.Limit)
	res = &ListKeysResult{}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		for {
			page, err := tx.List(nsKeyNames, storage.ListOptions{After: after, Limit: limit})
			if err != nil {
				return err
			}
			for _, it := range page.Items {
				after = it.Key
				var idx nameIndex
				if err := decodeRecord(kr, nsKeyNames, it.Key, it.Value, &idx); err != nil {
					return err
				}
				rec := new(keyRecord)
				if _, err := getRecord(tx, kr, nsKeys, idx.ID, rec); err != nil {
					return err
				}
				if !labelsMatch(rec.Labels, req.Labels) || !s.may(ctx, access.KeyRead, keyResource(rec)) {
					continue // listed keys are those the caller may read
				}
				res.Keys = append(res.Keys, rec.public())
				if len(res.Keys) == limit {
					if page.Next != "" || it.Key != page.Items[len(page.Items)-1].Key {
						res.NextPageToken = encodePageToken(after)
					}
					return nil
				}
			}
			if page.Next == "" {
				return nil
			}
		}
	})
	if err != nil {
		return nil, storageError("list keys", err)
	}
	return res, nil
}

func labelsMatch(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// ListVersionsRequest selects a page of a key's versions.
type ListVersionsRequest struct {
	Key       string
	Limit     int
	PageToken string
}

// ListVersionsResult is one page of versions, oldest first.
type ListVersionsResult struct {
	Versions      []KeyVersion
	NextPageToken string
}

// ListVersions returns a key's versions, oldest first, without material.
func (s *Service) ListVersions(ctx context.Context, req ListVersionsRequest) (res *ListVersionsResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpKeyVersions, t, err); err != nil {
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := validateLimit(req.Limit); err != nil {
		return nil, err
	}
	after, err := decodePageToken(req.PageToken)
	if err != nil {
		return nil, err
	}
	ck, err := s.resolveFor(ctx, kr, req.Key, t, access.KeyRead)
	if err != nil {
		return nil, err
	}
	t.keyID = ck.rec.ID
	if err := s.authorize(ctx, t, access.KeyRead, keyResource(ck.rec), nil); err != nil {
		return nil, err
	}
	prefix := ck.rec.ID + "/"
	if after != "" && len(after) <= len(prefix) {
		return nil, Errorf(CodeInvalidArgument, "invalid page_token")
	}
	res = &ListVersionsResult{}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		page, err := tx.List(nsKeyVersions, storage.ListOptions{Prefix: prefix, After: after, Limit: req.Limit})
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			var vr versionRecord
			if err := decodeRecord(kr, nsKeyVersions, it.Key, it.Value, &vr); err != nil {
				return err
			}
			res.Versions = append(res.Versions, vr.public())
		}
		res.NextPageToken = encodePageToken(page.Next)
		return nil
	})
	if err != nil {
		return nil, storageError("list versions", err)
	}
	return res, nil
}
