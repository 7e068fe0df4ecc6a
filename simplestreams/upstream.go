package simplestreams

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// upstreamAnnotation is the snapshot annotation holding the UpstreamState.
const upstreamAnnotation = "simplestreams/upstream"

// UpstreamState is what a published tree records about the upstream metadata it was
// built from (ReadUpstreamState): what a status report shows.
//
// Simplestreams has no Valid-Until: an index says when it was updated, not until when it
// may be trusted. The only expiry there is OpenPGP's: a signature's expiration time, and
// its key's. Upstreams usually set neither (then Expires is zero). Past a signature's
// expiration gpgv refuses it, so clients (MAAS, sstream-mirror) refuse a pristine tree,
// which keeps the upstream's signatures; past the key's, gpgv still accepts it. Either way
// a sync refuses the upstream then (pgp.ErrSignatureExpired, pgp.ErrKeyExpired) and the
// last verified tree stays published.
type UpstreamState struct {
	// URL is the upstream mirror root.
	URL string `json:"url"`
	// Pristine reports that the tree serves the upstream's signed documents verbatim.
	Pristine bool `json:"pristine,omitempty"`
	// Updated is the upstream index's `updated` field (RFC 2822), as written.
	Updated string `json:"updated,omitempty"`
	// Signed is when the oldest upstream signature verified was made; zero when
	// signatures were not verified (Mirror.InsecureSkipSignature).
	Signed time.Time `json:"signed,omitzero"`
	// Expires is the earliest time at which one of the upstream signatures verified
	// stops verifying (its own expiration time, or its key's); zero when none expires.
	Expires time.Time `json:"expires,omitzero"`
}

// ReadUpstreamState returns what snap (a tree a Mirror published) records about its
// upstream. ok is false for a snapshot that records nothing.
func ReadUpstreamState(snap *store.Snapshot) (u UpstreamState, ok bool, err error) {
	s, ok := snap.Annotations[upstreamAnnotation]
	if !ok {
		return UpstreamState{}, false, nil
	}
	if !strings.HasPrefix(s, "{") { // written before the state was recorded: the URL only
		return UpstreamState{URL: s}, true, nil
	}
	if err := json.Unmarshal([]byte(s), &u); err != nil {
		return UpstreamState{}, false, fmt.Errorf("simplestreams: annotation %s: %w", upstreamAnnotation, err)
	}
	return u, true, nil
}

// upstreamSignature is an upstream signature that verified, with its signature packets
// (armored or binary), read for their expiration time only when a tree is published.
type upstreamSignature struct {
	pgp.Verified
	packets []byte
}

// newUpstreamSignature keeps the signature packets of sig, the clearsigned document or
// the detached signature that verified (a copy: the document itself is not kept).
func newUpstreamSignature(sig []byte, v pgp.Verified) upstreamSignature {
	if i := armorStart(sig); i > 0 {
		sig = sig[i:]
	}
	return upstreamSignature{Verified: v, packets: bytes.Clone(sig)}
}

// expires returns when the signature expires by its own expiration time; zero: never.
func (s upstreamSignature) expires() time.Time {
	p := findSignature(s.packets, s.Verified)
	if p == nil || p.SigLifetimeSecs == nil || *p.SigLifetimeSecs == 0 {
		return time.Time{}
	}
	return p.CreationTime.Add(time.Duration(*p.SigLifetimeSecs) * time.Second)
}

// noteSignatures folds the signatures that verified into u: the oldest creation time,
// and the earliest expiry of a signature, its signing key or that key's primary key (the
// keys as kr holds them).
func (u *UpstreamState) noteSignatures(sigs []upstreamSignature, kr *pgp.Keyring) error {
	if len(sigs) == 0 {
		return nil
	}
	keys, err := keyEntities(kr)
	if err != nil {
		return err
	}
	note := func(t time.Time) {
		if !t.IsZero() && (u.Expires.IsZero() || t.Before(u.Expires)) {
			u.Expires = t
		}
	}
	for _, s := range sigs {
		if u.Signed.IsZero() || s.Created.Before(u.Signed) {
			u.Signed = s.Created
		}
		note(s.expires())
		for _, e := range keys {
			primary, _ := e.PrimarySelfSignature()
			if fingerprintHex(e.PrimaryKey.Fingerprint) == s.SigningKey {
				note(keyExpiry(e.PrimaryKey, primary))
			}
			for _, sk := range e.Subkeys {
				if fingerprintHex(sk.PublicKey.Fingerprint) == s.SigningKey {
					note(keyExpiry(e.PrimaryKey, primary))
					note(keyExpiry(sk.PublicKey, sk.Sig))
				}
			}
		}
	}
	return nil
}

// keyExpiry returns when k expires by the lifetime its self-signature gives it; zero:
// never.
func keyExpiry(k *packet.PublicKey, self *packet.Signature) time.Time {
	if self == nil || self.KeyLifetimeSecs == nil || *self.KeyLifetimeSecs == 0 {
		return time.Time{}
	}
	return k.CreationTime.Add(time.Duration(*self.KeyLifetimeSecs) * time.Second)
}

// findSignature returns the signature packet in sig that v describes.
func findSignature(sig []byte, v pgp.Verified) *packet.Signature {
	var r io.Reader = bytes.NewReader(sig)
	if i := armorStart(sig); i >= 0 {
		blk, err := armor.Decode(bytes.NewReader(sig[i:]))
		if err != nil {
			return nil
		}
		r = blk.Body
	}
	pr := packet.NewReader(r)
	for {
		p, err := pr.Next()
		if err != nil {
			return nil
		}
		s, ok := p.(*packet.Signature)
		if !ok || !s.CreationTime.Equal(v.Created) {
			continue
		}
		switch {
		case s.IssuerFingerprint != nil:
			ok = fingerprintHex(s.IssuerFingerprint) == v.SigningKey
		case s.IssuerKeyId != nil: // older signatures name only the key ID: the fingerprint's low 64 bits
			ok = strings.HasSuffix(v.SigningKey, fmt.Sprintf("%016X", *s.IssuerKeyId))
		}
		if ok {
			return s
		}
	}
}

var beginSignature = []byte("-----BEGIN PGP SIGNATURE-----")

// armorStart returns where the armored signature block of sig starts: sig itself (a
// detached armored signature), or the first line that starts it (a clearsigned message:
// dash-escaping keeps such lines out of the signed text); -1 when sig is binary.
func armorStart(sig []byte) int {
	trimmed := bytes.TrimLeft(sig, " \t\r\n")
	if bytes.HasPrefix(trimmed, beginSignature) {
		return len(sig) - len(trimmed)
	}
	if i := bytes.Index(sig, append([]byte("\n"), beginSignature...)); i >= 0 {
		return i + 1
	}
	return -1
}

// keyEntities reads the keys of kr, to look up their lifetimes.
func keyEntities(kr *pgp.Keyring) (openpgp.EntityList, error) {
	b, err := kr.Export(false)
	if err != nil || len(b) == 0 {
		return nil, err
	}
	return openpgp.ReadKeyRing(bytes.NewReader(b))
}

func fingerprintHex(fp []byte) string { return strings.ToUpper(fmt.Sprintf("%x", fp)) }
