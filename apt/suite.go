package apt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
)

// suiteState is one suite during a sync.
type suiteState struct {
	name       string
	up         *upstream
	rel        *Release
	validators fetch.Validators
	// signers are the fingerprints of the keys whose signatures on the Release were
	// verified, and signedBy what carried them ("InRelease", "Release.gpg"); both empty
	// with InsecureSkipSignature.
	signers  []string
	signedBy string
	jobs     []*indexJob
	extra    [][]IndexFile // carried verbatim: the listed variants of each
	verbatim []VerbatimFile
	// meta are the upstream's InRelease, Release and Release.gpg as read (a pristine tree
	// publishes them); hold are the groups of listed variants a pristine tree holds
	meta []VerbatimFile
	hold []holdGroup
}

// dist is the URL of the suite's directory, with a trailing slash.
func (st *suiteState) dist() string { return st.up.base() + "dists/" + escapePath(st.name) + "/" }

// fetchSuites reads the Release of every suite of every upstream. With prev (the published
// snapshot of an unchanged configuration) the requests are conditional; allSame reports
// that every one answered 304, and then the suites carry no Release. When only some
// answered 304, those are read again in full.
func (m *Mirror) fetchSuites(ctx context.Context, ss *session, prev *store.Snapshot) (suites []*suiteState, allSame bool, err error) {
	allSame = prev != nil
	for _, up := range ss.ups {
		for _, name := range up.Suites {
			st := &suiteState{name: name, up: up}
			var v fetch.Validators
			if prev != nil {
				v = fetch.Validators{ETag: prev.Annotations[annSuite(name, "etag")], LastModified: prev.Annotations[annSuite(name, "last-modified")]}
			}
			notModified, err := m.fetchRelease(ctx, ss, st, v)
			if err != nil {
				return nil, false, err
			}
			allSame = allSame && notModified
			suites = append(suites, st)
		}
	}
	if allSame {
		return suites, true, nil
	}
	for _, st := range suites {
		if st.rel == nil {
			if _, err := m.fetchRelease(ctx, ss, st, fetch.Validators{}); err != nil {
				return nil, false, err
			}
		}
	}
	return suites, false, nil
}

// fetchRelease gets and verifies a suite's InRelease (or Release + Release.gpg) into st;
// for a pristine mirror also the Release and Release.gpg served beside InRelease (see
// fetchBeside). With validators, a 304 leaves st.rel nil and reports notModified.
func (m *Mirror) fetchRelease(ctx context.Context, ss *session, st *suiteState, v fetch.Validators) (notModified bool, err error) {
	dist, suite, keys := st.dist(), st.name, st.up.keys
	st.signers, st.signedBy, st.meta = nil, "", nil
	body, res, err := ss.fetchBytes(ctx, fetch.Request{URL: dist + "InRelease", MaxSize: MaxReleaseSize, Validators: v})
	var text []byte
	switch {
	case err == nil && res.NotModified:
		st.validators = res.Validators
		return true, nil
	case err == nil:
		st.validators = res.Validators
		if keys == nil {
			c, err := pgp.ClearsignedContent(body) // unverified (InsecureSkipSignature), but strictly framed
			if err != nil {
				return false, fmt.Errorf("apt: %s InRelease: %w", suite, err)
			}
			text = c
		} else {
			c, ver, err := keys.VerifyClearsigned(body)
			if err != nil {
				return false, fmt.Errorf("apt: %s InRelease: %w", suite, err)
			}
			m.logger().Debug("apt: InRelease verified", "suite", suite, "key", ver.Fingerprint)
			text, st.signers, st.signedBy = c, []string{ver.Fingerprint}, "InRelease"
		}
		st.meta = append(st.meta, verbatimOf("InRelease", res.Blob))
		if m.Pristine {
			if err := m.fetchBeside(ctx, ss, st, text); err != nil {
				return false, err
			}
		}
	case isStatus(err, http.StatusNotFound):
		rb, rres, err := ss.fetchBytes(ctx, fetch.Request{URL: dist + "Release", MaxSize: MaxReleaseSize})
		if err != nil {
			return false, fmt.Errorf("apt: %s Release: %w", suite, err)
		}
		st.meta = append(st.meta, verbatimOf("Release", rres.Blob))
		if keys != nil || m.Pristine {
			sig, sres, err := ss.fetchBytes(ctx, fetch.Request{URL: dist + "Release.gpg", MaxSize: pgp.MaxSignatureSize})
			if err != nil {
				return false, fmt.Errorf("apt: %s Release.gpg: %w", suite, err)
			}
			if keys != nil {
				ver, err := keys.VerifyDetached(bytes.NewReader(rb), sig)
				if err != nil {
					return false, fmt.Errorf("apt: %s Release.gpg: %w", suite, err)
				}
				st.signers, st.signedBy = []string{ver.Fingerprint}, "Release.gpg"
			}
			st.meta = append(st.meta, verbatimOf("Release.gpg", sres.Blob))
		}
		text = rb
	default:
		return false, fmt.Errorf("apt: %s InRelease: %w", suite, err)
	}
	rel, err := ParseRelease(bytes.NewReader(text))
	if err != nil {
		return false, fmt.Errorf("apt: suite %s: %w", suite, err)
	}
	st.rel = rel
	return false, nil
}

// fetchBeside reads the Release and Release.gpg that a pristine suite serves beside its
// InRelease (whose signed text is text), for clients that read those: Release must be
// that text byte for byte, and Release.gpg must verify it. Either may be absent (404),
// and then is not published.
func (m *Mirror) fetchBeside(ctx context.Context, ss *session, st *suiteState, text []byte) error {
	dist, suite, keys := st.dist(), st.name, st.up.keys
	rb, rres, err := ss.fetchBytes(ctx, fetch.Request{URL: dist + "Release", MaxSize: MaxReleaseSize})
	switch {
	case missing(err):
		return nil
	case err != nil:
		return fmt.Errorf("apt: %s Release: %w", suite, err)
	case !bytes.Equal(rb, text):
		return fmt.Errorf("apt: suite %s: %w: Release is not the text InRelease signs (an upstream in the middle of an update?)", suite, ErrIndexChecksum)
	}
	st.meta = append(st.meta, verbatimOf("Release", rres.Blob))
	sig, sres, err := ss.fetchBytes(ctx, fetch.Request{URL: dist + "Release.gpg", MaxSize: pgp.MaxSignatureSize})
	switch {
	case missing(err):
		return nil
	case err != nil:
		return fmt.Errorf("apt: %s Release.gpg: %w", suite, err)
	}
	if keys != nil {
		ver, err := keys.VerifyDetached(bytes.NewReader(rb), sig)
		if err != nil {
			return fmt.Errorf("apt: %s Release.gpg: %w", suite, err)
		}
		if !slices.Contains(st.signers, ver.Fingerprint) {
			st.signers = append(st.signers, ver.Fingerprint)
		}
	}
	st.meta = append(st.meta, verbatimOf("Release.gpg", sres.Blob))
	return nil
}

// verbatimOf names a stored upstream file by its path in the suite directory.
func verbatimOf(p string, b store.BlobInfo) VerbatimFile {
	return VerbatimFile{Path: p, File: store.File{Digest: b.Digest, Size: b.Size, MediaType: mediaTypeOf(p)}}
}

func isStatus(err error, code int) bool {
	var he *fetch.HTTPError
	return errors.As(err, &he) && he.StatusCode == code
}

// checkRelease applies the freshness and rollback rules.
func (m *Mirror) checkRelease(st *suiteState, prev *store.Snapshot, log *slog.Logger) error {
	rel, now := st.rel, m.now()
	if !rel.ValidUntil.IsZero() && now.After(rel.ValidUntil) {
		if !m.AllowExpired {
			return fmt.Errorf("apt: suite %s: %w: Valid-Until %s", st.name, ErrExpired, FormatDate(rel.ValidUntil))
		}
		log.Warn("apt: accepting an expired Release (AllowExpired)", "suite", st.name, "valid_until", rel.ValidUntil)
	}
	if rel.Date.After(now.Add(maxClockSkew)) {
		if !m.AllowFutureDate {
			return fmt.Errorf("apt: suite %s: %w: Date %s", st.name, ErrFutureDate, FormatDate(rel.Date))
		}
		log.Warn("apt: accepting a Release dated in the future (AllowFutureDate)", "suite", st.name, "date", rel.Date)
	}
	if rel.Date.IsZero() {
		log.Warn("apt: Release has no Date: rollback cannot be detected", "suite", st.name)
	}
	if prev != nil && !rel.Date.IsZero() {
		if was, err := time.Parse(time.RFC3339, prev.Annotations[annSuite(st.name, "date")]); err == nil && rel.Date.Before(was) {
			if !m.AllowRollback {
				return fmt.Errorf("apt: suite %s: %w: Date %s, already published %s", st.name, ErrRollback, FormatDate(rel.Date), FormatDate(was))
			}
			log.Warn("apt: accepting an older Release (AllowRollback)", "suite", st.name, "date", rel.Date, "published", was)
		}
	}
	return nil
}
