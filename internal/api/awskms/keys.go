package awskms

import (
	"crypto/rand"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/lifecycle"
)

// tag is an AWS resource tag: an Arca key label.
type tag struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

// keyMetadata is the AWS description of a key.
type keyMetadata struct {
	AWSAccountID          string   `json:"AWSAccountId"`
	KeyID                 string   `json:"KeyId"`
	Arn                   string   `json:"Arn"`
	CreationDate          float64  `json:"CreationDate"`
	Enabled               bool     `json:"Enabled"`
	Description           string   `json:"Description"`
	KeyUsage              string   `json:"KeyUsage,omitempty"`
	KeyState              string   `json:"KeyState"`
	DeletionDate          float64  `json:"DeletionDate,omitzero"`
	Origin                string   `json:"Origin"`
	KeyManager            string   `json:"KeyManager"`
	CustomerMasterKeySpec string   `json:"CustomerMasterKeySpec,omitempty"`
	KeySpec               string   `json:"KeySpec,omitempty"`
	EncryptionAlgorithms  []string `json:"EncryptionAlgorithms,omitempty"`
	SigningAlgorithms     []string `json:"SigningAlgorithms,omitempty"`
	MacAlgorithms         []string `json:"MacAlgorithms,omitempty"`
	MultiRegion           bool     `json:"MultiRegion"`
}

func epoch(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli()) / 1000
}

func (c *call) metadata(k *kms.Key) *keyMetadata {
	ks := specOf(k.Algorithm)
	m := &keyMetadata{
		AWSAccountID: c.h.opts.Account, KeyID: k.ID, Arn: c.arn(k.ID), CreationDate: epoch(k.CreatedAt),
		Enabled: k.State == "active", Description: k.Description, KeyUsage: ks.usage, KeyState: keyState(k.State),
		DeletionDate: epoch(k.DestroyAt), Origin: "AWS_KMS", KeyManager: "CUSTOMER",
		CustomerMasterKeySpec: ks.spec, KeySpec: ks.spec,
	}
	if k.Origin == kms.OriginExternal {
		m.Origin = "EXTERNAL"
		if k.PrimaryVersion == 0 {
			m.KeyState = "PendingImport"
		}
	}
	switch {
	case k.Algorithm.Encrypts():
		m.EncryptionAlgorithms = []string{encryptionAlgorithm(k.Algorithm)}
	case signingAlgorithms[k.Algorithm] != nil:
		m.SigningAlgorithms = slices.Sorted(maps.Keys(signingAlgorithms[k.Algorithm]))
	case macAlgorithms[k.Algorithm] != "":
		m.MacAlgorithms = []string{macAlgorithms[k.Algorithm]}
	}
	return m
}

type keyIDInput struct {
	KeyID string `json:"KeyId"`
}

func (c *call) getKey(keyID string) (*kms.Key, error) {
	ref, err := c.keyRef(keyID)
	if err != nil {
		return nil, err
	}
	return c.h.svc.GetKey(c.ctx, ref)
}

func createKey(c *call, body []byte) (any, error) {
	var in struct {
		Description           string `json:"Description"`
		KeyUsage              string `json:"KeyUsage"`
		KeySpec               string `json:"KeySpec"`
		CustomerMasterKeySpec string `json:"CustomerMasterKeySpec"`
		Origin                string `json:"Origin"`
		MultiRegion           bool   `json:"MultiRegion"`
		Tags                  []tag  `json:"Tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	spec := in.KeySpec
	if spec == "" {
		spec = in.CustomerMasterKeySpec
	}
	if spec == "" {
		spec = "SYMMETRIC_DEFAULT"
	}
	usage := in.KeyUsage
	if usage == "" {
		usage = "ENCRYPT_DECRYPT"
		if strings.HasPrefix(spec, "HMAC") {
			usage = "GENERATE_VERIFY_MAC"
		}
	}
	alg, ok := algorithms[keySpec{spec, usage}]
	if !ok {
		return nil, validation("KeySpec " + truncate(spec, 32) + " with KeyUsage " + truncate(usage, 32) + " is not supported")
	}
	pending := in.Origin == "EXTERNAL"
	switch {
	case in.Origin != "" && in.Origin != "AWS_KMS" && !pending:
		return nil, unsupported("Origin " + truncate(in.Origin, 32) + " is not supported (AWS_KMS or EXTERNAL)")
	case pending && alg != crypto.AES256GCM:
		return nil, unsupported("keys with Origin EXTERNAL must be SYMMETRIC_DEFAULT")
	}
	if in.MultiRegion {
		return nil, unsupported("multi-Region keys are not supported")
	}
	labels, err := tagLabels(in.Tags)
	if err != nil {
		return nil, err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	k, err := c.h.svc.CreateKey(c.ctx, kms.CreateKeyRequest{Name: "aws-" + hex.EncodeToString(b[:]), Algorithm: string(alg), Description: in.Description, Labels: labels, PendingImport: pending})
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyMetadata": c.metadata(k)}, nil
}

func tagLabels(tags []tag) (map[string]string, error) {
	if len(tags) > 50 {
		return nil, &apiError{Type: "TagException", Message: "at most 50 tags", Status: 400}
	}
	labels := map[string]string{}
	for _, t := range tags {
		labels[t.TagKey] = t.TagValue
	}
	return labels, nil
}

func describeKey(c *call, body []byte) (any, error) {
	var in keyIDInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	k, err := c.getKey(in.KeyID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyMetadata": c.metadata(k)}, nil
}

// pageInput is the paging of AWS list operations.
type pageInput struct {
	Limit  int    `json:"Limit"`
	Marker string `json:"Marker"`
}

func (p pageInput) check() error {
	if p.Limit < 0 || p.Limit > 1000 {
		return validation("Limit must be 1 to 1000")
	}
	return nil
}

func listKeys(c *call, body []byte) (any, error) {
	var in pageInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	res, err := c.h.svc.ListKeys(c.ctx, kms.ListKeysRequest{Limit: in.Limit, PageToken: in.Marker})
	if err != nil {
		return nil, err
	}
	type entry struct {
		KeyID  string `json:"KeyId"`
		KeyArn string `json:"KeyArn"`
	}
	out := struct {
		Keys       []entry `json:"Keys"`
		NextMarker string  `json:"NextMarker,omitempty"`
		Truncated  bool    `json:"Truncated"`
	}{Keys: []entry{}, NextMarker: res.NextPageToken, Truncated: res.NextPageToken != ""}
	for _, k := range res.Keys {
		out.Keys = append(out.Keys, entry{k.ID, c.arn(k.ID)})
	}
	return out, nil
}

// changeState applies lifecycle actions to a key, in order.
func (c *call) changeState(keyID string, actions ...string) (*kms.Key, error) {
	ref, err := c.keyRef(keyID)
	if err != nil {
		return nil, err
	}
	var k *kms.Key
	for _, a := range actions {
		if k, err = c.h.svc.ChangeKeyState(c.ctx, kms.ChangeStateRequest{Key: ref, Action: a}); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func enableKey(c *call, body []byte) (any, error) { return setEnabled(c, body, true) }

func disableKey(c *call, body []byte) (any, error) { return setEnabled(c, body, false) }

// setEnabled resumes (enable) or suspends (disable) a key; a key already
// in that state is left as it is, as AWS does.
func setEnabled(c *call, body []byte, enable bool) (any, error) {
	var in keyIDInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	k, err := c.getKey(in.KeyID)
	if err != nil {
		return nil, err
	}
	state, action := lifecycle.Suspended, "suspend"
	if enable {
		state, action = lifecycle.Active, "resume"
	}
	if k.State == state {
		return struct{}{}, nil
	}
	_, err = c.changeState(k.ID, action)
	return struct{}{}, err
}

func scheduleKeyDeletion(c *call, body []byte) (any, error) {
	var in struct {
		KeyID               string `json:"KeyId"`
		PendingWindowInDays int    `json:"PendingWindowInDays"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	days := in.PendingWindowInDays
	if days == 0 {
		days = 30
	}
	if days < 7 || days > 30 {
		return nil, validation("PendingWindowInDays must be 7 to 30")
	}
	k, err := c.getKey(in.KeyID)
	if err != nil {
		return nil, err
	}
	// An enabled key is disabled in the same step, so a cancelled deletion
	// leaves it disabled, as AWS does, and a refused one leaves it enabled.
	k, err = c.h.svc.ChangeKeyState(c.ctx, kms.ChangeStateRequest{Key: k.ID, Action: "schedule-destruction", WaitingDays: days, SuspendFirst: true})
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyId": c.arn(k.ID), "DeletionDate": epoch(k.DestroyAt), "KeyState": keyState(k.State), "PendingWindowInDays": days}, nil
}

func cancelKeyDeletion(c *call, body []byte) (any, error) {
	var in keyIDInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	k, err := c.changeState(in.KeyID, "cancel-destruction")
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyId": c.arn(k.ID)}, nil
}

func tagResource(c *call, body []byte) (any, error) {
	var in struct {
		KeyID string `json:"KeyId"`
		Tags  []tag  `json:"Tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	add, err := tagLabels(in.Tags)
	if err != nil {
		return nil, err
	}
	return c.updatePolicy(in.KeyID, kms.PolicyUpdate{SetLabels: add})
}

func untagResource(c *call, body []byte) (any, error) {
	var in struct {
		KeyID   string   `json:"KeyId"`
		TagKeys []string `json:"TagKeys"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return c.updatePolicy(in.KeyID, kms.PolicyUpdate{DeleteLabels: in.TagKeys})
}

// updatePolicy applies u to a key (labels, rotation period); the service
// applies a label change to the labels as they are when it writes.
func (c *call) updatePolicy(keyID string, u kms.PolicyUpdate) (any, error) {
	ref, err := c.keyRef(keyID)
	if err != nil {
		return nil, err
	}
	_, err = c.h.svc.UpdateKeyPolicy(c.ctx, ref, u)
	return struct{}{}, err
}

func listResourceTags(c *call, body []byte) (any, error) {
	var in keyIDInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	k, err := c.getKey(in.KeyID)
	if err != nil {
		return nil, err
	}
	tags := []tag{}
	for _, key := range slices.Sorted(maps.Keys(k.Labels)) {
		tags = append(tags, tag{key, k.Labels[key]})
	}
	return map[string]any{"Tags": tags, "Truncated": false}, nil
}

// defaultRotationDays is AWS's automatic rotation period.
const defaultRotationDays = 365

func enableKeyRotation(c *call, body []byte) (any, error) {
	var in struct {
		KeyID                string `json:"KeyId"`
		RotationPeriodInDays int    `json:"RotationPeriodInDays"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	days := in.RotationPeriodInDays
	if days == 0 {
		days = defaultRotationDays
	}
	if days < 90 || days > 2560 {
		return nil, validation("RotationPeriodInDays must be 90 to 2560")
	}
	return c.setRotation(in.KeyID, time.Duration(days)*24*time.Hour)
}

func disableKeyRotation(c *call, body []byte) (any, error) {
	var in keyIDInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return c.setRotation(in.KeyID, 0)
}

func (c *call) setRotation(keyID string, period time.Duration) (any, error) {
	return c.updatePolicy(keyID, kms.PolicyUpdate{RotationPeriod: &period})
}

func getKeyRotationStatus(c *call, body []byte) (any, error) {
	var in keyIDInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	k, err := c.getKey(in.KeyID)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"KeyId": c.arn(k.ID), "KeyRotationEnabled": k.Policy.RotationPeriod > 0}
	if p := k.Policy.RotationPeriod; p > 0 {
		out["RotationPeriodInDays"] = int(p / (24 * time.Hour))
		out["NextRotationDate"] = epoch(k.Policy.PrimarySince.Add(p))
	}
	return out, nil
}

func rotateKeyOnDemand(c *call, body []byte) (any, error) {
	var in keyIDInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	ref, err := c.keyRef(in.KeyID)
	if err != nil {
		return nil, err
	}
	k, err := c.h.svc.RotateKey(c.ctx, kms.RotateRequest{Key: ref})
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyId": k.ID}, nil
}

func listKeyRotations(c *call, body []byte) (any, error) {
	var in struct {
		KeyID string `json:"KeyId"`
		pageInput
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	ref, err := c.keyRef(in.KeyID)
	if err != nil {
		return nil, err
	}
	res, err := c.h.svc.ListVersions(c.ctx, kms.ListVersionsRequest{Key: ref, Limit: in.Limit, PageToken: in.Marker})
	if err != nil {
		return nil, err
	}
	k, err := c.h.svc.GetKey(c.ctx, ref)
	if err != nil {
		return nil, err
	}
	type rotation struct {
		KeyID        string  `json:"KeyId"`
		RotationDate float64 `json:"RotationDate"`
		RotationType string  `json:"RotationType"`
	}
	rots := []rotation{}
	for _, v := range res.Versions {
		if v.Version == 1 {
			continue // the key's creation, not a rotation
		}
		typ := "ON_DEMAND"
		if v.CreatedBy == "scheduler" {
			typ = "AUTOMATIC"
		}
		rots = append(rots, rotation{c.arn(k.ID), epoch(v.CreatedAt), typ})
	}
	return map[string]any{"Rotations": rots, "NextMarker": res.NextPageToken, "Truncated": res.NextPageToken != ""}, nil
}

func getPublicKey(c *call, body []byte) (any, error) {
	var in keyIDInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	ref, err := c.keyRef(in.KeyID)
	if err != nil {
		return nil, err
	}
	pk, err := c.h.svc.GetPublicKey(c.ctx, ref, 0)
	if err != nil {
		return nil, err
	}
	ks := specOf(pk.Algorithm)
	out := map[string]any{"KeyId": c.arn(pk.KeyID), "PublicKey": pk.DER, "KeySpec": ks.spec, "CustomerMasterKeySpec": ks.spec, "KeyUsage": ks.usage}
	if pk.Algorithm.Purpose() == crypto.PurposeSign {
		out["SigningAlgorithms"] = slices.Sorted(maps.Keys(signingAlgorithms[pk.Algorithm]))
	} else {
		out["EncryptionAlgorithms"] = []string{encryptionAlgorithm(pk.Algorithm)}
	}
	return out, nil
}
