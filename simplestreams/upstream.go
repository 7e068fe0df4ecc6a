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
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
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
// may be trusted. The only expiry clients enforce is OpenPGP's: a signature's expiration
// time, and its key's. Upstreams usually set neither (then Expires is zero), but when one
// is set, a pristine tree, which keeps the upstream's signatures, is refused by clients
// after Expires, and any mirror's next sync is refused too.
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

// noteSignature folds one verified signature, expiring at expires (zero: never), into u.
func (u *UpstreamState) noteSignature(v pgp.Verified, expires time.Time) {
	if u.Signed.IsZero() || v.Created.Before(u.Signed) {
		u.Signed = v.Created
	}
	if !expires.IsZero() && (u.Expires.IsZero() || expires.Before(u.Expires)) {
		u.Expires = expires
	}
}

// signatureExpiry returns when the signature v describes stops verifying: the earliest of
// its own expiration time, its signing key's and that key's primary key's; zero when none
// expires. sig is the clearsigned document or the detached signature (armored or binary)
// that was verified; keys the keyring it was verified with.
func signatureExpiry(sig []byte, v pgp.Verified, keys openpgp.EntityList) time.Time {
	var earliest time.Time
	note := func(t time.Time) {
		if !t.IsZero() && (earliest.IsZero() || t.Before(earliest)) {
			earliest = t
		}
	}
	if s := findSignature(sig, v); s != nil && s.SigLifetimeSecs != nil && *s.SigLifetimeSecs != 0 {
		note(s.CreationTime.Add(time.Duration(*s.SigLifetimeSecs) * time.Second))
	}
	for _, e := range keys {
		primary, _ := e.PrimarySelfSignature()
		if fingerprintHex(e.PrimaryKey.Fingerprint) == v.SigningKey {
			note(keyExpiry(e.PrimaryKey, primary))
		}
		for _, sk := range e.Subkeys {
			if fingerprintHex(sk.PublicKey.Fingerprint) == v.SigningKey {
				note(keyExpiry(e.PrimaryKey, primary))
				note(keyExpiry(sk.PublicKey, sk.Sig))
			}
		}
	}
	return earliest
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
	if b, _ := clearsign.Decode(sig); b != nil {
		r = b.ArmoredSignature.Body
	} else if bytes.HasPrefix(bytes.TrimSpace(sig), []byte("-----BEGIN PGP SIGNATURE-----")) {
		blk, err := armor.Decode(r)
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

// keyEntities reads the keys of kr, to look up their lifetimes.
func keyEntities(kr *pgp.Keyring) (openpgp.EntityList, error) {
	b, err := kr.Export(false)
	if err != nil || len(b) == 0 {
		return nil, err
	}
	return openpgp.ReadKeyRing(bytes.NewReader(b))
}

func fingerprintHex(fp []byte) string { return strings.ToUpper(fmt.Sprintf("%x", fp)) }
