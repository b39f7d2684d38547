package awskms

import (
	"strings"
)

// aliasName checks an AWS alias name (alias/NAME) and returns NAME.
func aliasName(s string) (string, error) {
	name, ok := strings.CutPrefix(s, "alias/")
	if !ok || name == "" || strings.HasPrefix(name, "aws/") {
		return "", validation("AliasName must be alias/NAME and not start with alias/aws/")
	}
	return name, nil
}

type aliasInput struct {
	AliasName   string `json:"AliasName"`
	TargetKeyID string `json:"TargetKeyId"`
}

func createAlias(c *call, body []byte) (any, error) { return setAlias(c, body, true) }

func updateAlias(c *call, body []byte) (any, error) { return setAlias(c, body, false) }

func setAlias(c *call, body []byte, create bool) (any, error) {
	var in aliasInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, err := aliasName(in.AliasName)
	if err != nil {
		return nil, err
	}
	ref, err := c.keyRef(in.TargetKeyID)
	if err != nil {
		return nil, err
	}
	if create {
		_, err = c.h.svc.CreateAlias(c.ctx, name, ref)
	} else {
		_, err = c.h.svc.UpdateAlias(c.ctx, name, ref)
	}
	return struct{}{}, err
}

func deleteAlias(c *call, body []byte) (any, error) {
	var in aliasInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, err := aliasName(in.AliasName)
	if err != nil {
		return nil, err
	}
	return struct{}{}, c.h.svc.DeleteAlias(c.ctx, name)
}

func listAliases(c *call, body []byte) (any, error) {
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
	ref := ""
	if in.KeyID != "" {
		var err error
		if ref, err = c.keyRef(in.KeyID); err != nil {
			return nil, err
		}
	}
	aliases, err := c.h.svc.ListAliases(c.ctx, ref)
	if err != nil {
		return nil, err
	}
	type entry struct {
		AliasName       string  `json:"AliasName"`
		AliasArn        string  `json:"AliasArn"`
		TargetKeyID     string  `json:"TargetKeyId"`
		CreationDate    float64 `json:"CreationDate"`
		LastUpdatedDate float64 `json:"LastUpdatedDate"`
	}
	out := []entry{}
	for _, a := range aliases {
		out = append(out, entry{"alias/" + a.Name, c.aliasARN(a.Name), a.KeyID, epoch(a.CreatedAt), epoch(a.UpdatedAt)})
	}
	return map[string]any{"Aliases": out, "Truncated": false}, nil
}
