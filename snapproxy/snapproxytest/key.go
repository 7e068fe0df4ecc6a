package snapproxytest

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"crypto/x509"
	"embed"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// epoch is the fixed creation time of test signatures and the since of test account-keys
// (deterministic output).
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// keyEncodingTime is the creation time every account-key body carries: snapd re-encodes
// each key with it before hashing it into public-key-sha3-384.
var keyEncodingTime = time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)

//go:embed testdata/keys/*.pem
var keyFiles embed.FS

// Key is a signing key of the test store, OpenPGP v4.
//
// RSA keys sign the way Canonical's real ones do: a v4 binary signature over SHA-512 whose
// hashed area holds only the creation time. Real root signatures name, in their unhashed
// issuer subpacket, the key id of the same RSA key with the creation time it was made
// with, not the 2016-01-01 of the account-key body, so issuer and key id differ; real
// store signatures carry no issuer at all. Keys of other algorithms (which snapd refuses)
// sign through go-crypto.
type Key struct {
	// AccountID owns the key.
	AccountID string
	// Encoded is the format byte 0x01 followed by the OpenPGP public key packet: the
	// decoded body of its account-key assertion.
	Encoded []byte
	// ID is public-key-sha3-384: unpadded base64url SHA3-384 of Encoded.
	ID string
	// Issuer is the OpenPGP key id that RSA signatures put in their issuer subpacket (0:
	// none).
	Issuer uint64

	rsa  *rsa.PrivateKey
	priv *packet.PrivateKey // non-RSA keys

	mu   sync.Mutex
	sigs map[[32]byte][]byte // content sha256 -> encoded signature (RSA signing is slow)
}

// NewKey returns the fixed RSA 4096 key of that name ("root", "store" or "rogue", in
// testdata/keys) for accountID. Like the real root, "root" and "rogue" name an issuer key
// id that differs from their key id; like the real store key, "store" names none.
func NewKey(name, accountID string) *Key {
	b, err := keyFiles.ReadFile("testdata/keys/" + name + ".pem")
	if err != nil {
		panic(fmt.Sprintf("snapproxytest: no test key %q (root, store, rogue)", name))
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		panic("snapproxytest: key " + name + ": not PEM")
	}
	p, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		panic(fmt.Sprintf("snapproxytest: key %s: %v", name, err))
	}
	k := NewRSAKey(p.(*rsa.PrivateKey), accountID)
	if name == "store" {
		k.Issuer = 0
	}
	return k
}

// NewRSAKey wraps an RSA key for accountID. Its signatures name as issuer the key id the
// key has with the creation time of the test signatures (not the one of its encoding).
func NewRSAKey(priv *rsa.PrivateKey, accountID string) *Key {
	k := newKey(packet.NewRSAPublicKey(keyEncodingTime, &priv.PublicKey), accountID)
	k.rsa = priv
	k.Issuer = packet.NewRSAPublicKey(epoch, &priv.PublicKey).KeyId
	return k
}

// NewPGPKey wraps a key of any algorithm go-crypto signs with (Ed25519, ECDSA, ...): the
// kinds of account-key snapd refuses.
func NewPGPKey(priv *packet.PrivateKey, accountID string) *Key {
	k := newKey(&priv.PublicKey, accountID)
	k.priv = priv
	return k
}

func newKey(pub *packet.PublicKey, accountID string) *Key {
	var buf bytes.Buffer
	buf.WriteByte(0x01)
	if err := pub.Serialize(&buf); err != nil {
		panic(fmt.Sprintf("snapproxytest: serialize key: %v", err))
	}
	sum := sha3.Sum384(buf.Bytes())
	return &Key{AccountID: accountID, Encoded: buf.Bytes(), ID: base64.RawURLEncoding.EncodeToString(sum[:]), sigs: map[[32]byte][]byte{}}
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

// signature returns the encoded signature block of content (cached: signatures are
// deterministic).
func (k *Key) signature(content []byte) []byte {
	sum := sha256.Sum256(content)
	k.mu.Lock()
	defer k.mu.Unlock()
	if s, ok := k.sigs[sum]; ok {
		return s
	}
	var pkt []byte
	if k.rsa != nil {
		pkt = k.rsaSignature(content)
	} else {
		pkt = k.pgpSignature(content)
	}
	s := wrap76(base64.StdEncoding.EncodeToString(append([]byte{0x01}, pkt...)))
	k.sigs[sum] = s
	return s
}

// rsaSignature builds the signature packet byte by byte, in the shape of Canonical's:
// hashed subpackets = creation time only; unhashed = the issuer, when the key names one.
func (k *Key) rsaSignature(content []byte) []byte {
	hashed := []byte{4, byte(packet.SigTypeBinary), byte(packet.PubKeyAlgoRSA), 10 /* SHA-512 */, 0, 6, 5, 2, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(hashed[8:], uint32(epoch.Unix()))
	h := sha512.New()
	h.Write(content)
	h.Write(hashed)
	h.Write([]byte{4, 0xff, 0, 0, 0, byte(len(hashed))})
	digest := h.Sum(nil)
	sig, err := rsa.SignPKCS1v15(nil, k.rsa, crypto.SHA512, digest)
	if err != nil {
		panic(fmt.Sprintf("snapproxytest: sign: %v", err))
	}
	body := append([]byte{}, hashed...)
	if k.Issuer != 0 {
		body = append(body, 0, 10, 9, 16) // 10 bytes: one issuer subpacket of 9
		body = binary.BigEndian.AppendUint64(body, k.Issuer)
	} else {
		body = append(body, 0, 0)
	}
	body = append(body, digest[:2]...)
	for len(sig) > 0 && sig[0] == 0 {
		sig = sig[1:]
	}
	bits := len(sig) * 8
	if len(sig) > 0 {
		for b := sig[0]; b&0x80 == 0; b <<= 1 {
			bits--
		}
	}
	body = binary.BigEndian.AppendUint16(body, uint16(bits))
	body = append(body, sig...)
	return append(newFormatHeader(2, len(body)), body...)
}

// newFormatHeader is an OpenPGP new-format packet header.
func newFormatHeader(tag byte, n int) []byte {
	h := []byte{0xc0 | tag}
	switch {
	case n < 192:
		return append(h, byte(n))
	case n < 8384:
		n -= 192
		return append(h, byte(n>>8)+192, byte(n))
	}
	return binary.BigEndian.AppendUint32(append(h, 0xff), uint32(n))
}

func (k *Key) pgpSignature(content []byte) []byte {
	h := crypto.SHA512.New()
	h.Write(content)
	no := false
	sig := &packet.Signature{
		Version: 4, SigType: packet.SigTypeBinary, PubKeyAlgo: k.priv.PubKeyAlgo, Hash: crypto.SHA512,
		CreationTime: epoch, IssuerKeyId: &k.priv.KeyId,
	}
	if err := sig.Sign(h, k.priv, &packet.Config{NonDeterministicSignaturesViaNotation: &no}); err != nil {
		panic(fmt.Sprintf("snapproxytest: sign: %v", err))
	}
	var buf bytes.Buffer
	if err := sig.Serialize(&buf); err != nil {
		panic(fmt.Sprintf("snapproxytest: serialize signature: %v", err))
	}
	return buf.Bytes()
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
