package snapproxytest

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/ed25519"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// epoch is the fixed creation time of test keys and signatures (deterministic output).
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Key is a signing key of the test store (Ed25519, OpenPGP v4), made deterministically
// from a seed string.
type Key struct {
	// AccountID owns the key.
	AccountID string
	// Encoded is the format byte 0x01 followed by the OpenPGP public key packet: the
	// decoded body of its account-key assertion.
	Encoded []byte
	// ID is public-key-sha3-384: unpadded base64url SHA3-384 of Encoded.
	ID   string
	priv *packet.PrivateKey
}

// NewKey derives a key from seed for accountID.
func NewKey(seed, accountID string) *Key {
	s := sha256.Sum256([]byte("snapproxytest key " + seed))
	k, err := ed25519.GenerateKey(bytes.NewReader(s[:]))
	if err != nil {
		panic(fmt.Sprintf("snapproxytest: generate key: %v", err))
	}
	return newKey(packet.NewEd25519PrivateKey(epoch, k), accountID)
}

// NewRSAKey wraps an RSA key (the kind the real store uses) for accountID.
func NewRSAKey(priv *rsa.PrivateKey, accountID string) *Key {
	return newKey(packet.NewRSAPrivateKey(epoch, priv), accountID)
}

func newKey(priv *packet.PrivateKey, accountID string) *Key {
	var buf bytes.Buffer
	buf.WriteByte(0x01)
	if err := priv.PublicKey.Serialize(&buf); err != nil {
		panic(fmt.Sprintf("snapproxytest: serialize key: %v", err))
	}
	sum := sha3.Sum384(buf.Bytes())
	return &Key{AccountID: accountID, Encoded: buf.Bytes(), ID: base64.RawURLEncoding.EncodeToString(sum[:]), priv: priv}
}

// Header is one assertion header: Value is a string or a []string.
type Header struct {
	Name  string
	Value any
}

// Sign encodes and signs an assertion of type typ with the given headers (in order, after
// type and authority-id = k.AccountID) and body; body-length and sign-key-sha3-384 are
// added. It returns the encoded assertion without a trailing newline.
func (k *Key) Sign(typ string, headers []Header, body []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "type: %s\nauthority-id: %s", typ, k.AccountID)
	for _, h := range headers {
		switch v := h.Value.(type) {
		case string:
			if strings.Contains(v, "\n") {
				fmt.Fprintf(&b, "\n%s:", h.Name)
				for _, l := range strings.Split(v, "\n") {
					b.WriteString("\n    " + l)
				}
			} else {
				fmt.Fprintf(&b, "\n%s: %s", h.Name, v)
			}
		case []string:
			fmt.Fprintf(&b, "\n%s:", h.Name)
			for _, s := range v {
				b.WriteString("\n  - " + s)
			}
		default:
			panic(fmt.Sprintf("snapproxytest: header %s: unsupported value %T", h.Name, h.Value))
		}
	}
	if len(body) > 0 {
		fmt.Fprintf(&b, "\nbody-length: %d", len(body))
	}
	fmt.Fprintf(&b, "\nsign-key-sha3-384: %s", k.ID)
	if len(body) > 0 {
		b.WriteString("\n\n")
		b.Write(body)
	}
	content := []byte(b.String())
	return append(append(content, "\n\n"...), k.signature(content)...)
}

// signature returns the encoded signature block of content.
func (k *Key) signature(content []byte) []byte {
	h := crypto.SHA512.New()
	h.Write(content)
	no := false
	sig := &packet.Signature{
		Version:      4,
		SigType:      packet.SigTypeBinary,
		PubKeyAlgo:   k.priv.PubKeyAlgo,
		Hash:         crypto.SHA512,
		CreationTime: epoch,
		IssuerKeyId:  &k.priv.KeyId,
	}
	if err := sig.Sign(h, k.priv, &packet.Config{NonDeterministicSignaturesViaNotation: &no}); err != nil {
		panic(fmt.Sprintf("snapproxytest: sign: %v", err))
	}
	var buf bytes.Buffer
	buf.WriteByte(0x01)
	if err := sig.Serialize(&buf); err != nil {
		panic(fmt.Sprintf("snapproxytest: serialize signature: %v", err))
	}
	return wrap76(base64.StdEncoding.EncodeToString(buf.Bytes()))
}

// wrap76 breaks base64 text into lines of 76 characters.
func wrap76(s string) []byte {
	var b bytes.Buffer
	for len(s) > 76 {
		b.WriteString(s[:76])
		b.WriteByte('\n')
		s = s[76:]
	}
	b.WriteString(s)
	return b.Bytes()
}

// AccountKey returns the account-key assertion of k signed by signer.
func (k *Key) AccountKey(signer *Key, name string) []byte {
	body := wrap76(base64.StdEncoding.EncodeToString(k.Encoded))
	return signer.Sign("account-key", []Header{
		{"revision", "1"},
		{"public-key-sha3-384", k.ID},
		{"account-id", k.AccountID},
		{"name", name},
		{"since", epoch.Format(time.RFC3339)},
	}, body)
}
