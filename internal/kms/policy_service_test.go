package kms

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/arcakms/arca/internal/lifecycle"
	"github.com/arcakms/arca/internal/policy"
)

const strictPolicy = `version: 1
algorithms:
  allowed: [aes-256-gcm]
cryptoperiod:
  default: 1y
rotation:
  required: true
  max_period: 90d
labels:
  required: [owner, data-classification]
  allowed_values:
    data-classification: [internal, pci]
`

func TestPolicyRefusesNonCompliantKeysAndReportsExistingOnes(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	// Keys created under the permissive default policy.
	if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "legacy", Algorithm: "chacha20-poly1305"}); err != nil {
		t.Fatal(err)
	}
	good := CreateKeyRequest{
		Name: "good", Labels: map[string]string{"owner": "payments", "data-classification": "pci"},
		Policy: PolicyUpdate{RotationPeriod: ptr(30 * 24 * time.Hour)},
	}
	if _, err := e.svc.CreateKey(e.ctx, good); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse([]byte(strictPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ReloadPolicy(e.ctx, func() (*policy.Policy, error) { return p, nil }); err != nil {
		t.Fatal(err)
	}

	// Creation is refused with every broken rule named.
	_, err = e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: "bad", Algorithm: "chacha20-poly1305", Labels: map[string]string{"data-classification": "secret"}})
	lcWant(t, "non-compliant create", err, CodePolicyViolation)
	for _, rule := range []string{"algorithm.allowed", "rotation.required", "labels.required", "labels.allowed_values"} {
		if !strings.Contains(err.Error(), rule) {
			t.Errorf("refusal does not name %s: %v", rule, err)
		}
	}
	if _, err := e.svc.GetKey(e.ctx, "bad"); CodeOf(err) != CodeKeyNotFound {
		t.Fatalf("a refused key exists: %v", err)
	}
	good.Name = "good-too"
	if _, err := e.svc.CreateKey(e.ctx, good); err != nil {
		t.Fatalf("compliant create: %v", err)
	}
	// A policy update may not break the rotation rules.
	_, err = e.svc.UpdateKeyPolicy(e.ctx, "good", PolicyUpdate{RotationPeriod: ptr(120 * 24 * time.Hour)})
	lcWant(t, "rotation period over the maximum", err, CodePolicyViolation)

	res, err := e.svc.PolicyCheck(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Name != "legacy" {
		t.Fatalf("policy check: %+v", res)
	}
	rules := map[string]bool{}
	for _, v := range res[0].Violations {
		rules[v.Rule] = true
	}
	for _, want := range []string{"algorithm.allowed", "rotation.required", "labels.required"} {
		if !rules[want] {
			t.Errorf("policy check misses %s for legacy: %+v", want, res[0].Violations)
		}
	}

	// An invalid reload keeps the policy in force.
	_, err = e.svc.ReloadPolicy(e.ctx, func() (*policy.Policy, error) { return policy.Parse([]byte("version: 7\n")) })
	lcWant(t, "invalid reload", err, CodeInvalidArgument)
	if len(e.svc.Policy().Document().Labels.Required) != 2 {
		t.Fatal("an invalid reload replaced the policy")
	}

	// After a year the compliant key is past its cryptoperiod unless rotated.
	e.clock.Advance(366 * 24 * time.Hour)
	res, err = e.svc.PolicyCheck(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string][]policy.Violation{}
	for _, k := range res {
		byName[k.Name] = k.Violations
	}
	for _, name := range []string{"good", "good-too"} {
		vs := byName[name]
		if len(vs) != 1 || vs[0].Rule != policy.RuleCryptoperiodMax {
			t.Fatalf("after a year %s should break only the cryptoperiod: %+v", name, vs)
		}
	}
	if len(res) != 3 {
		t.Fatalf("after a year: %+v", res)
	}
}

func TestKeyHealthReport(t *testing.T) {
	t.Parallel()
	e := newLCEnv(t)
	mk := func(name string, pu PolicyUpdate) {
		t.Helper()
		if _, err := e.svc.CreateKey(e.ctx, CreateKeyRequest{Name: name, Policy: pu}); err != nil {
			t.Fatal(err)
		}
	}
	mk("rotating", PolicyUpdate{RotationPeriod: ptr(24 * time.Hour)})
	mk("worn", PolicyUpdate{UsageBound: ptr(uint64(100))})
	mk("doomed", PolicyUpdate{})
	mk("fine", PolicyUpdate{})
	for range 95 {
		e.encrypt(t, "worn", "x")
	}
	if err := e.change("doomed", 0, "deactivate", 0); err != nil {
		t.Fatal(err)
	}
	if err := e.change("doomed", 0, "schedule-destruction", 7); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(25 * time.Hour)
	rep, err := e.svc.KeyHealthReport(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 4 || rep.ByState[lifecycle.Active] != 3 || rep.ByState[lifecycle.DestroyScheduled] != 1 {
		t.Fatalf("counts: %+v", rep)
	}
	one := func(what string, got []KeyAttention, name string) {
		t.Helper()
		if len(got) != 1 || got[0].Name != name {
			t.Fatalf("%s: %+v", what, got)
		}
	}
	one("overdue rotation", rep.OverdueRotation, "rotating")
	one("near usage bound", rep.NearUsageBound, "worn")
	one("scheduled destruction", rep.ScheduledDestroyal, "doomed")
	if len(rep.PastCryptoperiod) != 0 {
		t.Fatalf("no cryptoperiod in the default policy: %+v", rep.PastCryptoperiod)
	}
	if _, err := e.svc.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rep, _ := e.svc.KeyHealthReport(e.ctx); len(rep.OverdueRotation) != 0 {
		t.Fatalf("still overdue after the scheduler ran: %+v", rep.OverdueRotation)
	}
}
