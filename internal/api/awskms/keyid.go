package awskms

import (
	"fmt"
	"strings"

	"github.com/arcakms/arca/internal/kms"
)

// keyRef turns an AWS KeyId (key id, key ARN, alias/NAME or alias ARN)
// into a reference the service resolves: a key id, a key name, or
// alias/NAME, which the service resolves to the key the alias names.
func (c *call) keyRef(keyID string) (string, error) {
	if keyID == "" {
		return "", validation("KeyId is required")
	}
	if len(keyID) > 2048 {
		return "", validation("KeyId is too long")
	}
	ref := keyID
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.SplitN(ref, ":", 6)
		if len(parts) != 6 || parts[2] != "kms" {
			return "", &apiError{Type: "NotFoundException", Message: "invalid ARN " + truncate(keyID, 140), Status: 400}
		}
		ref = parts[5]
		if !strings.HasPrefix(ref, "key/") && !strings.HasPrefix(ref, kms.AliasPrefix) {
			return "", &apiError{Type: "NotFoundException", Message: "invalid ARN " + truncate(keyID, 140), Status: 400}
		}
		ref = strings.TrimPrefix(ref, "key/")
	}
	if ref == "" || ref == kms.AliasPrefix {
		return "", &apiError{Type: "NotFoundException", Message: "KeyId " + truncate(keyID, 140) + " names no key or alias", Status: 400}
	}
	return ref, nil
}

// arn is a key's ARN in the request's region.
func (c *call) arn(keyID string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", c.region, c.h.opts.Account, keyID)
}

// aliasARN is an alias's ARN in the request's region.
func (c *call) aliasARN(name string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:alias/%s", c.region, c.h.opts.Account, name)
}
