package pgp

import (
	"bufio"
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// MaxSignatureSize caps the size of a detached signature or of the signature block of a
// clearsigned message. A signature is a few hundred bytes; even dozens of them fit.
const MaxSignatureSize = 1 << 20

// MaxClockSkew is how far in the future a signature's creation time may lie and still
// be accepted: the clocks of the signing host and this one drift apart. Beyond it the
// signature is refused with ErrFutureSignature.
const MaxClockSkew = 5 * time.Minute

// maxSignatures caps how many signature packets one message may carry.
const maxSignatures = 32

// Verified describes the signature that was accepted.
type Verified struct {
	// Fingerprint is the upper-case hex fingerprint of the primary key of the signer:
	// what apt's Signed-By and `gpg --list-keys` show.
	Fingerprint string
	// SigningKey is the upper-case hex fingerprint of the key that made the signature:
	// a subkey of Fingerprint, or Fingerprint itself when the primary key signed.
	SigningKey string
	// Created is the signature's creation time.
	Created time.Time
	// Expires is the earliest time at which the signature stops verifying: its own
	// expiration time, its signing key's or that key's primary key's (a key's lifetime,
	// or the expiration of the self-signature that gives it); zero when none expires.
	// Past it verification fails with ErrSignatureExpired or ErrKeyExpired. A key's
	// expiry can be extended by a newer self-signature in a refreshed keyring; a
	// signature's cannot.
	Expires time.Time
}

// VerifyClearsigned verifies a clearsigned message (an InRelease file, a simplestreams
// .sjson) and returns the signed text only, with LF line endings and a final newline (as
// `gpg --decrypt` prints it). Spaces and tabs at line ends are not covered by a
// clearsigned signature (RFC 9580 section 7.2), so they are not returned either.
//
// It is strict, as apt is: nothing but whitespace may come before the
// "-----BEGIN PGP SIGNED MESSAGE-----" line or after the end of the signature, one
// message holds one signed block, the only armor header is Hash (and must name the
// signature's digest), and text lines that start with a dash must be dash-escaped;
// anything else is refused with ErrMalformed. A message
// with several signatures (key rotation) verifies when one of them is a good signature
// by a key of the keyring.
func (k *Keyring) VerifyClearsigned(msg []byte) (content []byte, v Verified, err error) {
	defer recoverErr(&err)
	ct, err := parseCleartext(msg)
	if err != nil {
		return nil, Verified{}, err
	}
	sigData, err := dearmorSignature(ct.armored)
	if err != nil {
		return nil, Verified{}, err
	}
	// The signed text is content without its final line ending, hashed with CRLF line
	// endings (RFC 9580 section 7.2), whatever the signature type says.
	text := ct.content
	if n := len(text); n > 0 {
		text = text[:n-1]
	}
	v, err = k.verify(bytes.NewReader(text), sigData, ct.hashes, true)
	if err != nil {
		return nil, Verified{}, err
	}
	return ct.content, v, nil
}

// VerifyDetached verifies a detached signature (Release.gpg, a .json.gpg), armored or
// binary, over the bytes read from signed. Several signatures in sig verify when one of
// them is a good signature by a key of the keyring.
func (k *Keyring) VerifyDetached(signed io.Reader, sig []byte) (v Verified, err error) {
	defer recoverErr(&err)
	if len(sig) > MaxSignatureSize {
		return Verified{}, fmt.Errorf("%w: signature larger than %d bytes", ErrMalformed, MaxSignatureSize)
	}
	data := sig
	if trimmed := bytes.TrimLeft(sig, " \t\r\n"); bytes.HasPrefix(trimmed, armorPrefix) {
		if data, err = dearmorSignature(trimmed); err != nil {
			return Verified{}, err
		}
	}
	return k.verify(signed, data, nil, false)
}

// dearmorSignature decodes armored PGP SIGNATURE blocks: one, or several one after the
// other (signature files concatenated during a key rotation), whose packets are
// returned together. Text after the last block is ignored.
func dearmorSignature(armored []byte) ([]byte, error) {
	var all []byte
	// One bufio.Reader throughout: armor.Decode reuses it, so each call starts where
	// the previous block ended.
	r := bufio.NewReader(bytes.NewReader(armored))
	for {
		block, err := armor.Decode(r)
		if errors.Is(err, io.EOF) && len(all) > 0 {
			return all, nil
		}
		if err != nil {
			if len(all) > 0 {
				return all, nil
			}
			return nil, fmt.Errorf("%w: armor: %w", ErrMalformed, err)
		}
		if block.Type != openpgp.SignatureType {
			return nil, fmt.Errorf("%w: armored block %q is not a signature", ErrMalformed, block.Type)
		}
		data, err := readCapped(block.Body)
		if err != nil {
			return nil, err
		}
		if len(all)+len(data) > MaxSignatureSize {
			return nil, fmt.Errorf("%w: signatures larger than %d bytes", ErrMalformed, MaxSignatureSize)
		}
		all = append(all, data...)
	}
}

// Pretty names of the Hash: armor header (RFC 4880 section 9.4).
var hashByName = map[string]crypto.Hash{
	"MD5": crypto.MD5, "SHA1": crypto.SHA1, "RIPEMD160": crypto.RIPEMD160,
	"SHA224": crypto.SHA224, "SHA256": crypto.SHA256, "SHA384": crypto.SHA384, "SHA512": crypto.SHA512,
	"SHA3-256": crypto.SHA3_256, "SHA3-512": crypto.SHA3_512,
}

// strongHash reports whether h is acceptable for a signature over a message.
func strongHash(h crypto.Hash) bool {
	switch h {
	case crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512, crypto.SHA3_256, crypto.SHA3_512:
		return true
	}
	return false
}

func readCapped(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSignatureSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}
	if len(data) > MaxSignatureSize {
		return nil, fmt.Errorf("%w: signature larger than %d bytes", ErrMalformed, MaxSignatureSize)
	}
	return data, nil
}

func recoverErr(err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("%w: parser failure: %v", ErrMalformed, p)
	}
}

// candidate is one signature packet with the keys that may have made it.
type candidate struct {
	sig  *packet.Signature
	keys []openpgp.Key
	hs   []hash.Hash // one per key: the signed data is written to each (before the trailer)
	err  error       // why this candidate failed
}

// verify checks the signature packets in sigData over signed. expected, when not empty,
// lists the hashes a clearsigned message's Hash: header announced. text makes every
// signature hash signed as canonical text (clearsigned messages).
func (k *Keyring) verify(signed io.Reader, sigData []byte, expected []crypto.Hash, text bool) (Verified, error) {
	var (
		cands      []*candidate
		weakUnread bool // a signature we could not parse because of its digest
		nsigs      int
	)
	pr := packet.NewReader(bytes.NewReader(sigData))
	for {
		p, err := pr.NextWithUnsupported()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Verified{}, fmt.Errorf("%w: signature packet: %w", ErrMalformed, err)
		}
		nsigs++
		if nsigs > maxSignatures {
			return Verified{}, fmt.Errorf("%w: more than %d signatures", ErrMalformed, maxSignatures)
		}
		switch p := p.(type) {
		case *packet.UnsupportedPacket:
			if _, ok := p.IncompletePacket.(*packet.Signature); !ok {
				return Verified{}, fmt.Errorf("%w: unexpected packet %T", ErrMalformed, p.IncompletePacket)
			}
			if strings.HasPrefix(string(p.Error), "hash function") {
				weakUnread = true
			}
			continue
		case *packet.Signature:
			if p.SigType != packet.SigTypeBinary && p.SigType != packet.SigTypeText {
				return Verified{}, fmt.Errorf("%w: signature type %#x is not a document signature", ErrMalformed, p.SigType)
			}
			if keys := k.signingKeys(p); len(keys) > 0 {
				cands = append(cands, &candidate{sig: p, keys: keys})
			}
		default:
			return Verified{}, fmt.Errorf("%w: unexpected packet %T", ErrMalformed, p)
		}
	}
	if nsigs == 0 {
		return Verified{}, fmt.Errorf("%w: no signature", ErrMalformed)
	}
	if len(cands) == 0 {
		if weakUnread {
			return Verified{}, fmt.Errorf("%w: unsupported digest", ErrWeakSignature)
		}
		return Verified{}, ErrUnknownKey
	}

	// Hash the data once for all candidates that are worth checking.
	var writers []io.Writer
	for _, c := range cands {
		if !strongHash(c.sig.Hash) {
			c.err = fmt.Errorf("%w: %v", ErrWeakSignature, c.sig.Hash)
			continue
		}
		if len(expected) > 0 && !containsHash(expected, c.sig.Hash) {
			c.err = fmt.Errorf("%w: signature digest %v not announced in the Hash header", ErrMalformed, c.sig.Hash)
			continue
		}
		for range c.keys {
			h, err := c.sig.PrepareVerify()
			if err != nil {
				c.err = fmt.Errorf("%w: %w", ErrSignature, err)
				c.hs = nil
				break
			}
			c.hs = append(c.hs, h)
			if text || c.sig.SigType == packet.SigTypeText {
				writers = append(writers, openpgp.NewCanonicalTextHash(h))
			} else {
				writers = append(writers, h)
			}
		}
	}
	if len(writers) > 0 {
		if _, err := io.Copy(io.MultiWriter(writers...), signed); err != nil {
			return Verified{}, fmt.Errorf("pgp: read signed data: %w", err)
		}
	}

	now := time.Now()
	for _, c := range cands {
		if len(c.hs) != len(c.keys) {
			continue
		}
		// The same key may be in the keyring more than once (keyring files merged,
		// one older than the other). A revocation in any copy wins; otherwise one copy
		// that is valid (an expiry extended by a newer self-signature) is enough.
		var good *openpgp.Key
		var goodExpires time.Time
		var validityErr error
		revoked := false
		for i, key := range c.keys {
			if err := key.PublicKey.VerifySignature(c.hs[i], c.sig); err != nil {
				if c.err == nil {
					c.err = fmt.Errorf("%w: %w", ErrSignature, err)
				}
				continue
			}
			err := checkKeyAndSig(key, c.sig, now)
			switch {
			case errors.Is(err, ErrKeyRevoked):
				revoked, validityErr = true, err
			case err != nil:
				if validityErr == nil {
					validityErr = err
				}
			default: // of several valid copies, the one that lasts longest (a refreshed key)
				if exp := expiry(key, c.sig); good == nil || lasts(exp, goodExpires) {
					good, goodExpires = &c.keys[i], exp
				}
			}
		}
		switch {
		case revoked:
			c.err = validityErr
		case good != nil:
			return Verified{
				Fingerprint: fingerprint(good.Entity.PrimaryKey.Fingerprint),
				SigningKey:  fingerprint(good.PublicKey.Fingerprint),
				Created:     c.sig.CreationTime,
				Expires:     goodExpires,
			}, nil
		case validityErr != nil:
			c.err = validityErr
		}
	}
	return Verified{}, cands[0].err
}

func containsHash(list []crypto.Hash, h crypto.Hash) bool {
	for _, x := range list {
		if x == h {
			return true
		}
	}
	return false
}

// signingKeys returns the keys of the keyring that may have made sig: matching the
// issuer fingerprint (or key ID), able to sign, and flagged for signing when the
// self-signature has key flags at all.
func (k *Keyring) signingKeys(sig *packet.Signature) []openpgp.Key {
	if k == nil {
		return nil
	}
	var id uint64
	switch {
	case sig.IssuerKeyId != nil:
		id = *sig.IssuerKeyId
	case len(sig.IssuerFingerprint) >= 8:
		fp := sig.IssuerFingerprint
		if len(fp) == 20 { // v4: key ID is the low 64 bits
			fp = fp[12:]
		}
		for _, b := range fp[:8] {
			id = id<<8 | uint64(b)
		}
	default:
		return nil
	}
	var out []openpgp.Key
	for _, key := range k.entities.KeysById(id) {
		if sig.IssuerFingerprint != nil && !bytes.Equal(sig.IssuerFingerprint, key.PublicKey.Fingerprint) {
			continue
		}
		if !key.PublicKey.PubKeyAlgo.CanSign() {
			continue
		}
		if key.SelfSignature == nil {
			continue // a subkey without a binding signature, or a key without user ID
		}
		if key.SelfSignature.FlagsValid && !key.SelfSignature.FlagSign {
			continue
		}
		out = append(out, key)
	}
	return out
}

// checkKeyAndSig applies the time and validity rules to a cryptographically good
// signature: not made in the future, not expired, by a key that is neither expired nor
// revoked now.
func checkKeyAndSig(key openpgp.Key, sig *packet.Signature, now time.Time) error {
	e := key.Entity
	if sig.CreationTime.After(now.Add(MaxClockSkew)) {
		return fmt.Errorf("%w: created %s", ErrFutureSignature, sig.CreationTime.UTC().Format(time.RFC3339))
	}
	// Within the tolerated skew, judge validity as of the signature's own time: the
	// library counts a signature or key "from the future" as expired.
	if sig.CreationTime.After(now) {
		now = sig.CreationTime
	}
	if sig.SigExpired(now) {
		return ErrSignatureExpired
	}
	primarySig, primaryID := e.PrimarySelfSignature()
	subkey := key.PublicKey != e.PrimaryKey
	if e.Revoked(now) || (subkey && key.Revoked(now)) || (primaryID != nil && primaryID.Revoked(now)) {
		return ErrKeyRevoked
	}
	if primarySig == nil {
		return fmt.Errorf("%w: key has no valid self-signature", ErrSignature)
	}
	if e.PrimaryKey.KeyExpired(primarySig, now) || primarySig.SigExpired(now) {
		return ErrKeyExpired
	}
	if subkey {
		if key.PublicKey.KeyExpired(key.SelfSignature, now) || key.SelfSignature.SigExpired(now) {
			return ErrKeyExpired
		}
	}
	if sig.CreationTime.Before(key.PublicKey.CreationTime) {
		return fmt.Errorf("%w: signature predates its key", ErrSignature)
	}
	return nil
}

// lasts reports whether expiry a is later than b (zero: never, the latest).
func lasts(a, b time.Time) bool { return !b.IsZero() && (a.IsZero() || a.After(b)) }

// expiry returns when sig, made by key, stops verifying by the rules of checkKeyAndSig:
// the earliest of the signature's expiration, the primary key's and, for a subkey, the
// subkey's (each key's lifetime and its self-signature's own expiration); zero: never.
func expiry(key openpgp.Key, sig *packet.Signature) time.Time {
	var first time.Time
	note := func(from time.Time, secs *uint32) {
		if secs == nil || *secs == 0 {
			return
		}
		if t := from.Add(time.Duration(*secs) * time.Second); first.IsZero() || t.Before(first) {
			first = t
		}
	}
	note(sig.CreationTime, sig.SigLifetimeSecs)
	e := key.Entity
	if primarySig, _ := e.PrimarySelfSignature(); primarySig != nil {
		note(e.PrimaryKey.CreationTime, primarySig.KeyLifetimeSecs)
		note(primarySig.CreationTime, primarySig.SigLifetimeSecs)
	}
	if key.PublicKey != e.PrimaryKey && key.SelfSignature != nil {
		note(key.PublicKey.CreationTime, key.SelfSignature.KeyLifetimeSecs)
		note(key.SelfSignature.CreationTime, key.SelfSignature.SigLifetimeSecs)
	}
	return first
}
