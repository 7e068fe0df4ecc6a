package maasclient

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Credentials are the three parts of a MAAS API key.
type Credentials struct {
	ConsumerKey string
	TokenKey    string
	TokenSecret string
}

// String is the API key form "consumer_key:token_key:token_secret".
func (c Credentials) String() string {
	return c.ConsumerKey + ":" + c.TokenKey + ":" + c.TokenSecret
}

// ParseAPIKey splits "consumer_key:token_key:token_secret" (surrounding white space,
// such as the newline `maas apikey` prints, is ignored).
func ParseAPIKey(key string) (Credentials, error) {
	key = strings.TrimSpace(key)
	parts := strings.Split(key, ":")
	if len(parts) != 3 {
		return Credentials{}, fmt.Errorf("%w: want consumer_key:token_key:token_secret, got %d part(s)", ErrInvalidAPIKey, len(parts))
	}
	for i, p := range parts {
		if p == "" {
			return Credentials{}, fmt.Errorf("%w: part %d is empty", ErrInvalidAPIKey, i+1)
		}
		for _, r := range p {
			if r <= ' ' || r == 0x7f || r == '"' || r == ',' {
				return Credentials{}, fmt.Errorf("%w: part %d holds %q", ErrInvalidAPIKey, i+1, r)
			}
		}
	}
	return Credentials{ConsumerKey: parts[0], TokenKey: parts[1], TokenSecret: parts[2]}, nil
}

// AuthorizationHeader is the OAuth 1.0a PLAINTEXT Authorization header value for one
// request: the signature is the empty consumer secret and the token secret joined by
// "&", percent-encoded. Each call takes a new random nonce; now is the timestamp.
func (c Credentials) AuthorizationHeader(now time.Time) (string, error) {
	var n [16]byte
	if _, err := rand.Read(n[:]); err != nil {
		return "", fmt.Errorf("maas: nonce: %w", err)
	}
	params := [][2]string{
		{"oauth_consumer_key", c.ConsumerKey},
		{"oauth_token", c.TokenKey},
		{"oauth_signature_method", "PLAINTEXT"},
		{"oauth_signature", "&" + percentEncode(c.TokenSecret)},
		{"oauth_nonce", hex.EncodeToString(n[:])},
		{"oauth_timestamp", strconv.FormatInt(now.Unix(), 10)},
		{"oauth_version", "1.0"},
	}
	var b strings.Builder
	b.WriteString("OAuth ")
	for i, p := range params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p[0])
		b.WriteString(`="`)
		b.WriteString(percentEncode(p[1]))
		b.WriteByte('"')
	}
	return b.String(), nil
}

// percentEncode is RFC 5849 section 3.6 encoding: everything but unreserved
// characters as %XX with upper-case hex.
func percentEncode(s string) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdig[c>>4])
		b.WriteByte(hexdig[c&15])
	}
	return b.String()
}
