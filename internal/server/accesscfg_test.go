package server

import (
	"strings"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/access"
	"github.com/arcakms/arca/internal/config"
	"github.com/arcakms/arca/internal/kms"
)

func TestApprovalAndSoDConfiguration(t *testing.T) {
	t.Parallel()
	rules, err := approvalRules([]config.Approval{{Action: "key:destroy", Approvers: 2, TTL: "2d"}, {Action: "key:export", Approvers: 1}})
	if err != nil || rules[access.KeyDestroy] != (kms.ApprovalRule{Approvers: 2, TTL: 48 * time.Hour}) || rules[access.KeyExport].TTL != 24*time.Hour {
		t.Fatalf("rules %v %v", rules, err)
	}
	for _, bad := range [][]config.Approval{
		{{Action: "key:encrypt", Approvers: 2}},
		{{Action: "key:destroy", Approvers: 0}},
		{{Action: "key:destroy", Approvers: 2, TTL: "soon"}},
		{{Action: "key:destroy", Approvers: 2}, {Action: "key:destroy", Approvers: 3}},
	} {
		if _, err := approvalRules(bad); err == nil {
			t.Errorf("approvals %v accepted", bad)
		}
	}
	if sod, err := sodRules(nil); err != nil || sod != nil {
		t.Fatalf("absent SoD: %v %v", sod, err)
	}
	if sod, err := sodRules(&[]config.SoDRule{}); err != nil || sod == nil || len(sod) != 0 {
		t.Fatalf("empty SoD: %v %v", sod, err)
	}
	sod, err := sodRules(&[]config.SoDRule{{Roles: []string{"approver", "key-custodian"}, Reason: "custodians do not approve"}})
	if err != nil || len(sod) != 1 || sod[0].Roles != [2]string{"approver", "key-custodian"} {
		t.Fatalf("SoD %v %v", sod, err)
	}
	for _, bad := range []config.SoDRule{{Roles: []string{"approver"}, Reason: "x"}, {Roles: []string{"approver", "root"}, Reason: "x"}, {Roles: []string{"approver", "auditor"}}} {
		if _, err := sodRules(&[]config.SoDRule{bad}); err == nil || !strings.Contains(err.Error(), "separation_of_duties") {
			t.Errorf("SoD rule %v: %v", bad, err)
		}
	}
}
