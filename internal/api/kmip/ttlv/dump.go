package ttlv

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// String renders the item as an indented tree, one item per line, for logs
// and debugging:
//
//	RequestMessage (Structure)
//	  BatchItem (Structure)
//	    Operation (Enumeration): Encrypt
//	    RequestPayload (Structure)
//	      Data (ByteString): <14 bytes>
//
// It is safe to log: Byte String and Big Integer values, which may be key
// material, appear only as their length, and so do the Text Strings of
// password fields. Other text is quoted, so control characters cannot forge
// log lines. Known enumerations print by name.
func (it Item) String() string {
	var b strings.Builder
	it.dump(&b, 0)
	return b.String()
}

func (it Item) dump(b *strings.Builder, depth int) {
	if depth > 0 {
		b.WriteByte('\n')
	}
	for range depth {
		b.WriteString("  ")
	}
	b.WriteString(it.tag.String())
	b.WriteString(" (")
	b.WriteString(it.typ.String())
	b.WriteByte(')')
	if it.typ == TypeStructure {
		for _, c := range it.items {
			c.dump(b, depth+1)
		}
		return
	}
	if !it.typ.Valid() {
		return
	}
	b.WriteString(": ")
	b.WriteString(it.valueString())
}

// sensitiveText lists Text String tags whose values are secrets.
var sensitiveText = map[Tag]bool{
	TagPassword:        true,
	TagOneTimePassword: true,
}

func (it Item) valueString() string {
	switch it.typ {
	case TypeInteger:
		v := int32(uint32(it.num))
		if it.tag == TagCryptographicUsageMask {
			return fmt.Sprintf("%d (%s)", v, CryptographicUsageMask(uint32(v)))
		}
		return strconv.FormatInt(int64(v), 10)
	case TypeLongInteger:
		return strconv.FormatInt(int64(it.num), 10)
	case TypeBigInteger:
		n := 0
		if it.big != nil {
			n = bigLen(it.big)
		}
		return fmt.Sprintf("<%d bytes>", n)
	case TypeEnumeration:
		return enumString(it.tag, uint32(it.num))
	case TypeBoolean:
		return strconv.FormatBool(it.num == 1)
	case TypeTextString:
		if sensitiveText[it.tag] {
			return fmt.Sprintf("<redacted, %d bytes>", len(it.text))
		}
		return strconv.Quote(it.text)
	case TypeByteString:
		return fmt.Sprintf("<%d bytes>", len(it.bytes))
	case TypeDateTime, TypeDateTimeExtended:
		t, _ := it.Time()
		return t.Format(time.RFC3339Nano)
	case TypeInterval:
		return strconv.FormatUint(it.num, 10) + "s"
	}
	return ""
}

// enumString names v using the enumeration type the tag implies, or prints
// it in hex when the tag has no enumeration type known here.
func enumString(tag Tag, v uint32) string {
	switch tag {
	case TagOperation:
		return Operation(v).String()
	case TagResultStatus:
		return ResultStatus(v).String()
	case TagResultReason:
		return ResultReason(v).String()
	case TagObjectType:
		return ObjectType(v).String()
	case TagState:
		return State(v).String()
	case TagRevocationReasonCode:
		return RevocationReasonCode(v).String()
	case TagNameType:
		return NameType(v).String()
	case TagQueryFunction:
		return QueryFunction(v).String()
	case TagValidityIndicator:
		return ValidityIndicator(v).String()
	case TagCredentialType:
		return CredentialType(v).String()
	case TagCryptographicAlgorithm:
		return CryptographicAlgorithm(v).String()
	case TagBlockCipherMode:
		return BlockCipherMode(v).String()
	case TagPaddingMethod:
		return PaddingMethod(v).String()
	case TagHashingAlgorithm:
		return HashingAlgorithm(v).String()
	case TagDigitalSignatureAlgorithm:
		return DigitalSignatureAlgorithm(v).String()
	case TagKeyFormatType:
		return KeyFormatType(v).String()
	case TagDerivationMethod:
		return DerivationMethod(v).String()
	}
	return fmt.Sprintf("0x%08X", v)
}
