package kms

import (
	"context"
	"strconv"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/storage"
)

// OpAuditSearch names audit searches in audit records.
const OpAuditSearch = "audit.search"

// AuditSearchRequest filters audit records; Limit bounds the page (default
// 100, at most 1000) and PageToken continues a previous search.
type AuditSearchRequest struct {
	audit.Filter
	Limit     int
	PageToken string
}

// AuditSearchResult is one page of records, newest first.
type AuditSearchResult struct {
	Records       []audit.Record
	NextPageToken string
}

// SearchAudit returns the audit records matching a filter, newest first,
// from the primary log's index (no full scan). It needs audit:read.
func (s *Service) SearchAudit(ctx context.Context, req AuditSearchRequest) (res *AuditSearchResult, err error) {
	t := &target{}
	defer func() {
		if err = s.finish(ctx, OpAuditSearch, t, err); err != nil {
			res = nil
		}
	}()
	kr, _, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	if err := s.authorize(ctx, t, access.AuditRead, access.Resource{}, nil); err != nil {
		return nil, err
	}
	if err := validateLimit(req.Limit); err != nil {
		return nil, err
	}
	limit := storage.ClampLimit(req.Limit)
	cursor := 0
	if req.PageToken != "" {
		c, err := decodePageToken(req.PageToken)
		if err != nil {
			return nil, err
		}
		if cursor, err = strconv.Atoi(c); err != nil || cursor < 1 {
			return nil, Errorf(CodeInvalidArgument, "invalid page_token")
		}
	}
	sr, ok := s.audit.(audit.Searcher)
	if !ok {
		return nil, Errorf(CodeUnsupportedOperation, "the audit log of this server cannot be searched")
	}
	recs, next, err := sr.Search(req.Filter, cursor, limit)
	if err != nil {
		return nil, internal("search the audit log", err)
	}
	res = &AuditSearchResult{Records: recs}
	if next > 0 {
		res.NextPageToken = encodePageToken(strconv.Itoa(next))
	}
	return res, nil
}
