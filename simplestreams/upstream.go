package simplestreams

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

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
	// Index is the entry point read, relative to URL (Mirror.Index).
	Index string `json:"index,omitempty"`
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

// noteSignatures folds the upstream signatures that verified into u: the oldest creation
// time and the earliest expiry (pgp.Verified.Expires: the signature's, or its key's).
func (u *UpstreamState) noteSignatures(sigs []pgp.Verified) {
	for _, s := range sigs {
		if u.Signed.IsZero() || s.Created.Before(u.Signed) {
			u.Signed = s.Created
		}
		if !s.Expires.IsZero() && (u.Expires.IsZero() || s.Expires.Before(u.Expires)) {
			u.Expires = s.Expires
		}
	}
}
