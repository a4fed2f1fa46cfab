package requeststore

import (
	"encoding/base64"
	"encoding/json"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/veil-privacy/veil/pkg/veil"
)

// queueKeys are the attributes of a queue page's last key.
var queueKeys = []string{"PK", "SK", "GSI1PK", "GSI1SK"}

// encodeToken makes a page's last key a token the caller hands back.
func encodeToken(k map[string]ddbtypes.AttributeValue) string {
	m := map[string]string{}
	for _, name := range queueKeys {
		if v, ok := k[name].(*ddbtypes.AttributeValueMemberS); ok {
			m[name] = v.Value
		}
	}
	b, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken reads a token encodeToken made; anything else is a
// *veil.ValidationError naming nextToken.
func decodeToken(t string) (map[string]ddbtypes.AttributeValue, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	var m map[string]string
	if err != nil || json.Unmarshal(b, &m) != nil || len(m) != len(queueKeys) {
		return nil, veil.Invalid("nextToken", "not a token this API gave")
	}
	out := make(map[string]ddbtypes.AttributeValue, len(m))
	for _, name := range queueKeys {
		v, ok := m[name]
		if !ok || v == "" {
			return nil, veil.Invalid("nextToken", "not a token this API gave")
		}
		out[name] = &ddbtypes.AttributeValueMemberS{Value: v}
	}
	return out, nil
}
