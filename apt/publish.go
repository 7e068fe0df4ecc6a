package apt

import (
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
	"github.com/ulikunitz/xz"
	"golang.org/x/sync/errgroup"
)

// DefaultKeepByHash is how many generations of by-hash index files a published tree keeps,
// so that a client that read the previous InRelease can still fetch the indices it names.
const DefaultKeepByHash = 3

// Snapshot annotations this package keeps with a published tree.
const (
	annGeneration = "apt.generation"
	annByHash     = "apt.by-hash"
	annValidUntil = "apt.valid-until"
)

// Publisher writes signed apt suites (dists/<suite>/...) into a snapshot: Packages and
// Sources in plain, .gz and .xz forms, by-hash copies, a Release with SHA256 and SHA512,
// InRelease (clearsigned) and Release.gpg (detached, armored), and the public key.
type Publisher struct {
	// Store receives the generated files.
	Store store.Store
	// Signer signs InRelease and Release.gpg. Nil: only an unsigned Release is written
	// (clients need [trusted=yes]); the Logger says so.
	Signer *pgp.Signer
	// ValidFor sets Valid-Until to Date + ValidFor, or to a suite's Release.ValidUntil
	// when that is earlier. Zero: the suite's Release.ValidUntil (none when zero).
	ValidFor time.Duration
	// KeepByHash is how many generations of by-hash files are kept (the current one
	// included). Zero: DefaultKeepByHash.
	KeepByHash int
	// KeyName is the base name of the exported public key at the root of the tree
	// (KeyName.asc armored, KeyName.gpg binary for signed-by). Empty: "archive-key".
	KeyName string
	// Now gives the publication Date. Nil: time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// SuiteTree is one suite to publish.
type SuiteTree struct {
	// Dir is the directory under dists/ (usually the suite or codename).
	Dir string
	// Release carries the metadata to keep (Origin, Label, Suite, Codename, Version,
	// Description, Architectures, Components and any other field in Release.Para).
	// Files, Date and Acquire-By-Hash are set by the Publisher. A non-zero ValidUntil (the
	// upstream's) caps the published Valid-Until.
	Release Release
	// Indices are generated: each is written plain, .gz and .xz.
	Indices []GeneratedIndex
	// Verbatim are files carried over unchanged (Translation-*, Contents-*, dep11), by
	// path relative to the suite directory. Their SHA512 is listed when known.
	Verbatim []VerbatimFile
}

// GeneratedIndex is an index file whose plain content Write streams, at Path relative to
// the suite directory without compression suffix (e.g. "main/binary-amd64/Packages").
type GeneratedIndex struct {
	Path  string
	Write func(ctx context.Context, w io.Writer) error
}

// VerbatimFile is a stored file published unchanged.
type VerbatimFile struct {
	Path   string
	File   store.File
	SHA512 string
}

func (pb *Publisher) logger() *slog.Logger {
	if pb.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return pb.Logger
}

func (pb *Publisher) now() time.Time {
	if pb.Now != nil {
		return pb.Now().UTC()
	}
	return time.Now().UTC()
}

// KeyFiles returns the names of the exported public key files.
func (pb *Publisher) KeyFiles() (armored, binary string) {
	n := pb.KeyName
	if n == "" {
		n = "archive-key"
	}
	return n + ".asc", n + ".gpg"
}

type sums struct {
	info   store.BlobInfo
	sha512 string
}

// Build adds the suites to snap. prev is the snapshot published before (nil for the
// first): its by-hash files of the last KeepByHash-1 generations are carried over.
func (pb *Publisher) Build(ctx context.Context, snap, prev *store.Snapshot, suites []SuiteTree) error {
	recs, err := pb.build(ctx, snap, prev, suites)
	if err != nil {
		return err
	}
	return putRecords(snap, recs)
}

// build is Build, returning the record of each suite for the caller to complete.
func (pb *Publisher) build(ctx context.Context, snap, prev *store.Snapshot, suites []SuiteTree) ([]PublishedSuite, error) {
	bh := newByHash(prev)
	now := pb.now()
	var validUntil time.Time // the earliest of the suites
	var recs []PublishedSuite
	for _, st := range suites {
		if err := store.ValidatePath("dists/" + st.Dir); err != nil {
			return nil, fmt.Errorf("apt: publish: suite directory: %w", err)
		}
		base := "dists/" + st.Dir + "/"
		rel := st.Release
		rel.Files = map[string]IndexFile{}
		rel.Date, rel.ValidUntil, rel.AcquireByHash = now, capValidUntil(now, pb.ValidFor, st.Release.ValidUntil), true
		validUntil = earliest(validUntil, rel.ValidUntil)
		add := func(relPath string, s sums, mediaType string) error {
			f := store.File{Digest: s.info.Digest, Size: s.info.Size, MediaType: mediaType}
			if err := snap.Add(base+relPath, f); err != nil {
				return err
			}
			lf := IndexFile{Path: relPath, Size: s.info.Size, SHA256: s.info.Digest.Hex(), SHA512: s.sha512}
			rel.Files[relPath] = lf
			return bh.addAll(snap, base, lf, f)
		}
		for _, ix := range st.Indices {
			if err := store.ValidatePath(base + ix.Path); err != nil {
				return nil, fmt.Errorf("apt: publish: %w", err)
			}
			plain, gz, xzs, err := pb.putIndex(ctx, ix.Write)
			if err != nil {
				return nil, fmt.Errorf("apt: publish %s%s: %w", base, ix.Path, err)
			}
			if err := add(ix.Path, plain, "text/plain; charset=utf-8"); err != nil {
				return nil, err
			}
			if err := add(ix.Path+".gz", gz, "application/gzip"); err != nil {
				return nil, err
			}
			if err := add(ix.Path+".xz", xzs, "application/x-xz"); err != nil {
				return nil, err
			}
		}
		for _, v := range st.Verbatim {
			if err := add(v.Path, sums{info: store.BlobInfo{Digest: v.File.Digest, Size: v.File.Size}, sha512: v.SHA512}, v.File.MediaType); err != nil {
				return nil, fmt.Errorf("apt: publish: %w", err)
			}
		}
		recs = append(recs, PublishedSuite{Name: st.Dir, Origin: rel.Origin, Components: rel.Components,
			Architectures: rel.Architectures, ValidUntil: rel.ValidUntil})
		text := rel.Marshal()
		if err := pb.putFile(ctx, snap, base+"Release", text, "text/plain; charset=utf-8"); err != nil {
			return nil, err
		}
		if pb.Signer == nil {
			pb.logger().Warn("apt: publishing an unsigned Release: clients need [trusted=yes]", "suite", st.Dir)
			continue
		}
		in, err := pb.Signer.Clearsign(text)
		if err != nil {
			return nil, fmt.Errorf("apt: sign InRelease: %w", err)
		}
		if err := pb.putFile(ctx, snap, base+"InRelease", in, "text/plain; charset=utf-8"); err != nil {
			return nil, err
		}
		sig, err := pb.Signer.DetachSign(strings.NewReader(string(text)), true)
		if err != nil {
			return nil, fmt.Errorf("apt: sign Release.gpg: %w", err)
		}
		if err := pb.putFile(ctx, snap, base+"Release.gpg", sig, "application/pgp-signature"); err != nil {
			return nil, err
		}
	}
	if err := bh.finish(snap, pb.KeepByHash); err != nil {
		return nil, err
	}
	if pb.Signer != nil {
		asc, bin := pb.KeyFiles()
		for _, k := range []struct {
			name    string
			armored bool
		}{{asc, true}, {bin, false}} {
			b, err := pb.Signer.PublicKey(k.armored)
			if err != nil {
				return nil, fmt.Errorf("apt: export public key: %w", err)
			}
			if err := pb.putFile(ctx, snap, k.name, b, "application/pgp-keys"); err != nil {
				return nil, err
			}
		}
	}
	setValidUntil(snap, validUntil)
	return recs, nil
}

// setValidUntil records the earliest Valid-Until of a tree's suites (none: zero).
func setValidUntil(snap *store.Snapshot, vu time.Time) {
	if vu.IsZero() {
		delete(snap.Annotations, annValidUntil)
		return
	}
	snap.Annotations[annValidUntil] = vu.Format(time.RFC3339)
}

// byHash collects the by-hash files of a tree being built with the generation that
// published each, so that those of the last KeepByHash generations stay reachable for a
// client that read an older InRelease.
type byHash struct {
	prev     *store.Snapshot
	gen      int
	old, cur map[string]int
}

// newByHash starts the generation after prev (nil: the first).
func newByHash(prev *store.Snapshot) *byHash {
	b := &byHash{prev: prev, gen: 1, old: map[string]int{}, cur: map[string]int{}}
	if prev != nil {
		if n, err := strconv.Atoi(prev.Annotations[annGeneration]); err == nil {
			b.gen = n + 1
		}
		if s := prev.Annotations[annByHash]; s != "" {
			_ = json.Unmarshal([]byte(s), &b.old) // a damaged annotation only loses old by-hash files
		}
	}
	return b
}

// addAll adds f at the by-hash path of every checksum the Release lists for it (base is
// the suite directory, "dists/<suite>/").
func (b *byHash) addAll(snap *store.Snapshot, base string, lf IndexFile, f store.File) error {
	for _, h := range []struct{ alg, sum string }{{"MD5Sum", lf.MD5}, {"SHA1", lf.SHA1}, {"SHA256", lf.SHA256}, {"SHA512", lf.SHA512}} {
		if h.sum == "" {
			continue
		}
		p := base + byHashPath(lf.Path, h.alg, h.sum)
		if err := snap.Add(p, f); err != nil {
			return err
		}
		b.cur[p] = b.gen
	}
	return nil
}

// finish carries over the by-hash files of the previous keep-1 generations (keep <= 0:
// DefaultKeepByHash) that the new tree does not hold, and records the generation.
func (b *byHash) finish(snap *store.Snapshot, keep int) error {
	if keep <= 0 {
		keep = DefaultKeepByHash
	}
	for p, g := range b.old {
		if _, ok := b.cur[p]; ok || g <= b.gen-keep {
			continue
		}
		if f, ok := b.prev.Lookup(p); ok {
			if err := snap.Add(p, f); err != nil {
				return err
			}
			b.cur[p] = g
		}
	}
	bh, err := json.Marshal(b.cur)
	if err != nil {
		return err
	}
	snap.Annotations[annGeneration] = strconv.Itoa(b.gen)
	snap.Annotations[annByHash] = string(bh)
	return nil
}

// byHashPath is where a client fetches a listed file by one of its checksums: beside it,
// under by-hash/<Release field name>/<hex>.
func byHashPath(relPath, alg, sum string) string {
	dir := ""
	if i := strings.LastIndexByte(relPath, '/'); i >= 0 {
		dir = relPath[:i+1]
	}
	return dir + "by-hash/" + alg + "/" + sum
}

// capValidUntil is the Valid-Until to publish at now: now + validFor (none when zero),
// never later than the upstream's (when set).
func capValidUntil(now time.Time, validFor time.Duration, upstream time.Time) time.Time {
	var vu time.Time
	if validFor > 0 {
		vu = now.Add(validFor)
	}
	return earliest(vu, upstream)
}

// earliest returns the earlier of two times, a zero time meaning "none".
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func (pb *Publisher) putFile(ctx context.Context, snap *store.Snapshot, p string, b []byte, mt string) error {
	info, err := store.PutBytes(ctx, pb.Store, store.Expect{}, b)
	if err != nil {
		return fmt.Errorf("apt: publish %s: %w", p, err)
	}
	return snap.Add(p, store.File{Digest: info.Digest, Size: info.Size, MediaType: mt})
}

// putIndex streams write's output into the store three times at once: plain, gzip and
// xz, hashing each with SHA-512 on the way. Nothing is held in memory whole.
func (pb *Publisher) putIndex(ctx context.Context, write func(context.Context, io.Writer) error) (plain, gz, xzs sums, err error) {
	g, gctx := errgroup.WithContext(ctx)
	var (
		prs [3]*io.PipeReader
		pws [3]*io.PipeWriter
		out [3]sums
	)
	for i := range prs {
		prs[i], pws[i] = io.Pipe()
		i := i
		g.Go(func() error {
			h := sha512.New()
			info, err := pb.Store.Put(gctx, store.Expect{}, io.TeeReader(prs[i], h))
			if err != nil {
				prs[i].CloseWithError(err)
				return err
			}
			out[i] = sums{info: info, sha512: hex.EncodeToString(h.Sum(nil))}
			return nil
		})
	}
	g.Go(func() error {
		gzw, _ := gzip.NewWriterLevel(pws[1], gzip.BestCompression)
		xzw, err := xz.NewWriter(pws[2])
		if err == nil {
			err = write(gctx, io.MultiWriter(pws[0], gzw, xzw))
		}
		if err == nil {
			err = gzw.Close()
		}
		if err == nil && xzw != nil {
			err = xzw.Close()
		}
		for _, pw := range pws {
			pw.CloseWithError(err)
		}
		return err
	})
	if err := g.Wait(); err != nil {
		return sums{}, sums{}, sums{}, err
	}
	return out[0], out[1], out[2], nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
