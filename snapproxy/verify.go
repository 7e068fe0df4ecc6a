package snapproxy

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha3"
	_ "crypto/sha512" // the signature hash
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/airgapkit/airgap/store"
)

// decodeBase64 decodes standard base64 that may be wrapped over several lines (the
// decoder skips line breaks).
func decodeBase64(b []byte) ([]byte, error) {
	out := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(out, b)
	return out[:n], err
}

// KeyID returns the id that assertions use for an encoded public key (the decoded body of
// an account-key: the format byte then the OpenPGP public key packet): the unpadded
// base64url SHA3-384 of those bytes.
func KeyID(encodedKey []byte) string {
	sum := sha3.Sum384(encodedKey)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// HexToSnapSHA3 converts the hex sha3-384 of the Store API's JSON to the unpadded
// base64url form of the snap-sha3-384 header.
func HexToSnapSHA3(h string) (string, error) {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 48 {
		return "", fmt.Errorf("%w: sha3-384 %q is not 48 hex bytes", ErrMalformed, h)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// SnapSHA3ToHex converts a snap-sha3-384 header (unpadded base64url) to hex.
func SnapSHA3ToHex(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 48 {
		return "", fmt.Errorf("%w: snap-sha3-384 %q is not 48 base64url bytes", ErrMalformedAssertion, s)
	}
	return hex.EncodeToString(b), nil
}

// accountKey is a public key with the account it belongs to and its validity.
type accountKey struct {
	id        string
	accountID string
	pub       *packet.PublicKey
	since     time.Time
	until     time.Time // zero: forever
}

// keyEncodingTime is the creation time of every key packet as assertions encode it: a
// key is named by the SHA3-384 of its encoding with this time, whatever time the packet
// in an account-key body carries (snapd re-encodes it the same way).
var keyEncodingTime = time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)

// parseAccountKey reads the key of an account-key assertion (RSA only, as snapd) and
// checks that its id is public-key-sha3-384.
func parseAccountKey(a *Assertion) (*accountKey, error) {
	if a.Type() != "account-key" {
		return nil, fmt.Errorf("%w: %s is not an account-key", ErrMalformedAssertion, a)
	}
	enc, err := decodeBase64(a.Body())
	if err != nil || len(enc) < 2 || enc[0] != formatV1 {
		return nil, fmt.Errorf("%w: %s: body is not a version 1 encoded key", ErrMalformedAssertion, a)
	}
	r := bytes.NewReader(enc[1:])
	p, err := packet.Read(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: key packet: %v", ErrMalformedAssertion, a, err)
	}
	pub, ok := p.(*packet.PublicKey)
	if !ok || pub.IsSubkey || r.Len() != 0 {
		return nil, fmt.Errorf("%w: %s: body is not exactly one public key packet", ErrMalformedAssertion, a)
	}
	rsaPub, ok := pub.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s: OpenPGP public key algorithm %d", ErrUnsupportedKey, a, pub.PubKeyAlgo)
	}
	pub = packet.NewRSAPublicKey(keyEncodingTime, rsaPub)
	var canon bytes.Buffer
	canon.WriteByte(formatV1)
	if err := pub.Serialize(&canon); err != nil {
		return nil, fmt.Errorf("%w: %s: key: %v", ErrMalformedAssertion, a, err)
	}
	id := KeyID(canon.Bytes())
	if id != a.Header("public-key-sha3-384") {
		return nil, fmt.Errorf("%w: %s: public-key-sha3-384 does not match the key (%s)", ErrMalformedAssertion, a, id)
	}
	k := &accountKey{id: id, accountID: a.Header("account-id"), pub: pub}
	if k.accountID == "" {
		return nil, fmt.Errorf("%w: %s: no account-id", ErrMalformedAssertion, a)
	}
	if k.since, err = parseTime(a.Header("since")); err != nil {
		return nil, fmt.Errorf("%w: %s: since: %v", ErrMalformedAssertion, a, err)
	}
	if u := a.Header("until"); u != "" {
		if k.until, err = parseTime(u); err != nil {
			return nil, fmt.Errorf("%w: %s: until: %v", ErrMalformedAssertion, a, err)
		}
	}
	return k, nil
}

func parseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

func (k *accountKey) validAt(t time.Time) bool {
	return !t.Before(k.since) && (k.until.IsZero() || t.Before(k.until))
}

// checkSignature verifies a's signature with k. The signature's OpenPGP issuer is not
// consulted: sign-key-sha3-384 names the key, and Canonical's signatures carry no issuer
// or the key id of the key with another creation time than its encoding's.
func (k *accountKey) checkSignature(a *Assertion) error {
	sig := a.sig
	if sig.Hash != crypto.SHA512 {
		return fmt.Errorf("%w: %s: signature hash is not SHA-512", ErrSignature, a)
	}
	h := crypto.SHA512.New()
	h.Write(a.content)
	if err := k.pub.VerifySignature(h, sig); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrSignature, a, err)
	}
	return nil
}

// Trust holds the trusted root account-keys and verifies assertions against them.
type Trust struct {
	roots  map[string]*accountKey
	raw    []*Assertion // the root account-key assertions, by key id
	digest store.Digest
	// Now gives the time keys must be valid at (nil: time.Now).
	Now func() time.Time
}

// NewTrust trusts the keys of the given account-key assertions as roots (their
// signatures are not checked: they are the anchor). Keys must be RSA (ErrUnsupportedKey).
func NewTrust(roots ...*Assertion) (*Trust, error) {
	t := &Trust{roots: map[string]*accountKey{}}
	byID := map[string]*Assertion{}
	raw := make([]string, 0, len(roots))
	for _, a := range roots {
		k, err := parseAccountKey(a)
		if err != nil {
			return nil, err
		}
		t.roots[k.id] = k
		byID[k.id] = a
		raw = append(raw, string(a.Raw()))
	}
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		t.raw = append(t.raw, byID[id])
	}
	sort.Strings(raw)
	t.digest = store.DigestOf([]byte(strings.Join(raw, "\n")))
	return t, nil
}

// Digest identifies the trusted root assertions, whatever their order: the sha256 of
// their texts, sorted. A Mirror records it with each generation (store.Trust), so that
// a change of the roots (another key, another validity) is never taken for "nothing
// changed".
func (t *Trust) Digest() store.Digest { return t.digest }

// ParseTrust reads trusted root account-key assertions (one or more, as text).
func ParseTrust(b []byte) (*Trust, error) {
	as, err := DecodeAll(bytes.NewReader(b), 64)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, ErrNoTrustedKeys
	}
	return NewTrust(as...)
}

// LoadTrust reads trusted root account-key assertions from a file.
func LoadTrust(path string) (*Trust, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("snapproxy: trusted keys: %w", err)
	}
	t, err := ParseTrust(b)
	if err != nil {
		return nil, fmt.Errorf("snapproxy: trusted keys %s: %w", path, err)
	}
	return t, nil
}

// Roots returns the trusted root account-key assertions, sorted by key id. The caller
// must not modify them.
func (t *Trust) Roots() []*Assertion { return t.raw }

// KeyIDs lists the ids of the trusted keys.
func (t *Trust) KeyIDs() []string {
	out := make([]string, 0, len(t.roots))
	for id := range t.roots {
		out = append(out, id)
	}
	return out
}

func (t *Trust) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Verify checks every assertion's signature: each must be signed by a trusted root key,
// or by a key whose account-key assertion in set is itself (transitively) signed by a
// trusted key. The signer's account must be the assertion's authority-id, and keys must
// be RSA and valid now. Errors wrap ErrUntrustedKey, ErrSignature, ErrUnsupportedKey or
// ErrMalformedAssertion.
func (t *Trust) Verify(set []*Assertion) error {
	if t == nil || len(t.roots) == 0 {
		return ErrNoTrustedKeys
	}
	now := t.now()
	keys := map[string]*accountKey{}
	for id, k := range t.roots {
		keys[id] = k
	}
	verified := make([]bool, len(set))
	for progress := true; progress; {
		progress = false
		for i, a := range set {
			if verified[i] {
				continue
			}
			k, ok := keys[a.SignKeyID()]
			if !ok {
				continue
			}
			if err := checkBy(k, a, now); err != nil {
				return err
			}
			verified[i], progress = true, true
			if a.Type() == "account-key" {
				ak, err := parseAccountKey(a)
				if err != nil {
					return err
				}
				if _, dup := keys[ak.id]; !dup {
					keys[ak.id] = ak
				}
			}
		}
	}
	for i, a := range set {
		if !verified[i] {
			if a.Type() == "account-key" && a.Header("public-key-sha3-384") == a.SignKeyID() {
				return fmt.Errorf("%w: %s is self-signed and not a trusted root", ErrUntrustedKey, a)
			}
			return fmt.Errorf("%w: %s is signed by key %s", ErrUntrustedKey, a, a.SignKeyID())
		}
	}
	return nil
}

func checkBy(k *accountKey, a *Assertion, now time.Time) error {
	if a.AuthorityID() != k.accountID {
		return fmt.Errorf("%w: %s has authority %q but key %s belongs to %q", ErrUntrustedKey, a, a.AuthorityID(), k.id, k.accountID)
	}
	if !k.validAt(now) {
		return fmt.Errorf("%w: %s: key %s is not valid at %s", ErrUntrustedKey, a, k.id, now.UTC().Format(time.RFC3339))
	}
	return k.checkSignature(a)
}

// SnapFile describes a downloaded snap that assertions must match.
type SnapFile struct {
	Name     string
	SnapID   string
	Revision int
	Size     int64
	// SHA3_384 is the hex digest (as in the Store API's JSON).
	SHA3_384 string
}

// VerifySnap verifies set (as Verify) and checks that it holds a snap-declaration for f's
// snap-id and name, and a snap-revision whose snap-sha3-384, snap-size, snap-id and
// snap-revision are f's. Errors wrap ErrAssertionMismatch besides Verify's.
func (t *Trust) VerifySnap(set []*Assertion, f SnapFile) error {
	if err := t.Verify(set); err != nil {
		return err
	}
	return t.matchSnap(set, f)
}

// matchSnap checks that set describes f (signatures aside).
func (t *Trust) matchSnap(set []*Assertion, f SnapFile) error {
	want, err := HexToSnapSHA3(f.SHA3_384)
	if err != nil {
		return err
	}
	var decl, rev *Assertion
	for _, a := range set {
		switch a.Type() {
		case "snap-declaration":
			if a.Header("snap-id") == f.SnapID {
				decl = a
			}
		case "snap-revision":
			if a.Header("snap-sha3-384") == want {
				rev = a
			}
		}
	}
	if rev == nil {
		return fmt.Errorf("%w: no snap-revision for %s with snap-sha3-384 %s", ErrAssertionMismatch, f.Name, want)
	}
	if rev.Header("snap-id") != f.SnapID {
		return fmt.Errorf("%w: snap-revision %s is for snap-id %q, not %s (%s)", ErrAssertionMismatch, want, rev.Header("snap-id"), f.SnapID, f.Name)
	}
	if r, _ := strconv.Atoi(rev.Header("snap-revision")); r != f.Revision {
		return fmt.Errorf("%w: snap-revision %s says revision %q, not %d", ErrAssertionMismatch, want, rev.Header("snap-revision"), f.Revision)
	}
	if n, _ := strconv.ParseInt(rev.Header("snap-size"), 10, 64); n != f.Size {
		return fmt.Errorf("%w: snap-revision %s says size %q, file has %d", ErrAssertionMismatch, want, rev.Header("snap-size"), f.Size)
	}
	if decl == nil {
		return fmt.Errorf("%w: no snap-declaration for snap-id %s", ErrAssertionMismatch, f.SnapID)
	}
	if decl.Header("snap-name") != f.Name {
		return fmt.Errorf("%w: snap-declaration of %s names %q, not %s", ErrAssertionMismatch, f.SnapID, decl.Header("snap-name"), f.Name)
	}
	if decl.Header("series") != series {
		return fmt.Errorf("%w: snap-declaration of %s is for series %q", ErrAssertionMismatch, f.SnapID, decl.Header("series"))
	}
	return nil
}

// series is the only snap series.
const series = "16"
