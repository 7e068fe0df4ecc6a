package apt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// ErrNotNewer: a .deb added to a Repository is not newer than the version it already
// holds for that package and architecture (an equal version with the same content is
// accepted and changes nothing).
var ErrNotNewer = errors.New("apt: package version is not newer than the one in the repository")

// Repository is a signed repository built from local .deb files, as reprepro includedeb
// builds one: Include adds packages to a suite and component, replacing older versions
// per package and architecture, keeps the pool layout pool/<component>/<prefix>/<source>/,
// and publishes a new generation under "apt/<Name>".
type Repository struct {
	// Name names the repository; the published ref is "apt/<Name>".
	Name string `yaml:"name"`
	// Origin and Label go into every Release.
	Origin string `yaml:"origin"`
	Label  string `yaml:"label"`
	// Architectures of every suite (packages of architecture "all" are listed in each).
	// Empty: [amd64].
	Architectures []string `yaml:"architectures"`
	// ValidFor sets Valid-Until = Date + ValidFor. Zero: none.
	ValidFor time.Duration `yaml:"valid_for"`
	// KeyName names the exported public key files (see Publisher.KeyName).
	KeyName string `yaml:"key_name"`

	// Store holds the packages and the published ref. Required.
	Store store.Store `yaml:"-"`
	// Signer signs InRelease and Release.gpg. Nil: an unsigned Release (logged).
	Signer *pgp.Signer `yaml:"-"`
	// Logger receives warnings. Nil: discard.
	Logger *slog.Logger `yaml:"-"`
	// Now gives the Release Date. Nil: time.Now.
	Now func() time.Time `yaml:"-"`
}

// Ref returns the ref the repository publishes.
func (r *Repository) Ref() string { return "apt/" + r.Name }

func (r *Repository) archs() []string {
	if len(r.Architectures) == 0 {
		return []string{"amd64"}
	}
	return r.Architectures
}

// repoEntry is one package of the repository: its stanza and its pool file.
type repoEntry struct {
	pkg    Package
	stanza Paragraph
	file   store.File
}

// Include stores the given .deb files, adds them to suite/component and publishes the
// repository again through store.Update, reporting whether a new generation was
// published: including only versions it already holds, with the same content, into an
// existing suite and component under the same settings publishes nothing. All of them
// are checked before anything is published: one bad .deb (ErrMalformed), or a version
// not newer than the one held (ErrNotNewer), and nothing changes.
func (r *Repository) Include(ctx context.Context, suite, component string, debs ...io.Reader) (store.Generation, bool, error) {
	if r.Store == nil {
		return store.Generation{}, false, errors.New("apt: Repository.Store is nil")
	}
	for _, s := range []string{"apt/" + r.Name, "dists/" + suite, "pool/" + component} {
		if err := store.ValidatePath(s); err != nil || strings.Count(s, "/") != 1 {
			return store.Generation{}, false, fmt.Errorf("apt: repository: %w: %q", store.ErrUnsafePath, s)
		}
	}
	// the debs are read before the transaction: a retry after ErrConflict cannot read them again
	var in []*repoEntry
	for i, d := range debs {
		e, err := r.put(ctx, component, d)
		if err != nil {
			return store.Generation{}, false, fmt.Errorf("apt: repository: deb %d: %w", i, err)
		}
		in = append(in, e)
	}
	cfg := r.configHash()
	return store.Update(ctx, r.Store, r.Ref(), store.TrustOf(r), func(prev store.Prev) (*store.Snapshot, error) {
		// The published tree is the repository's state, whatever it was trusted with.
		state, err := r.load(ctx, prev.Published)
		if err != nil {
			return nil, err
		}
		changed := prev.Published == nil || prev.Published.Annotations[annConfig] != cfg
		if state[suite] == nil {
			state[suite], changed = map[string]map[string]*repoEntry{}, true
		}
		if state[suite][component] == nil {
			state[suite][component], changed = map[string]*repoEntry{}, true
		}
		entries := state[suite][component]
		for _, e := range in {
			p := e.pkg
			key := p.Name + "/" + p.Architecture
			if old := entries[key]; old != nil {
				c := CompareVersions(p.Version, old.pkg.Version)
				if c < 0 || (c == 0 && old.file.Digest != e.file.Digest) {
					return nil, fmt.Errorf("apt: repository: %w: %s %s, holding %s", ErrNotNewer, p.Name, p.Version, old.pkg.Version)
				}
				if c == 0 {
					continue
				}
			}
			entries[key], changed = e, true
		}
		if !changed && prev.Snapshot != nil {
			return nil, nil
		}
		snap, err := r.tree(ctx, state, prev.Published)
		if err != nil {
			return nil, err
		}
		snap.Annotations[annConfig] = cfg
		return snap, nil
	})
}

// put stores one .deb and reads its control data.
func (r *Repository) put(ctx context.Context, component string, deb io.Reader) (*repoEntry, error) {
	info, err := r.Store.Put(ctx, store.Expect{}, deb)
	if err != nil {
		return nil, err
	}
	b, err := r.Store.Open(ctx, info.Digest)
	if err != nil {
		return nil, err
	}
	d, err := ReadDeb(b)
	b.Close()
	if err != nil {
		return nil, err
	}
	p := d.Package
	fn := PoolDir(component, p.Source) + "/" + DebFilename(p)
	if err := store.ValidatePath(fn); err != nil {
		return nil, fmt.Errorf("%s: %w", p.Key(), err)
	}
	st := d.Stanza(fn)
	pkg, _ := ParsePackage(st)
	return &repoEntry{pkg: pkg, stanza: st, file: store.File{Digest: info.Digest, Size: info.Size, MediaType: mediaTypeOf(fn)}}, nil
}

// configHash summarises the settings that shape the published tree.
func (r *Repository) configHash() string {
	b, _ := json.Marshal(struct {
		Origin, Label, KeyName, Signer string
		Architectures                  []string
		ValidFor                       time.Duration
	}{r.Origin, r.Label, r.KeyName, signerFP(r.Signer), r.archs(), r.ValidFor})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// tree builds the signed tree of state; prev's by-hash files stay for a while.
func (r *Repository) tree(ctx context.Context, state map[string]map[string]map[string]*repoEntry, prev *store.Snapshot) (*store.Snapshot, error) {
	snap := store.NewSnapshot()
	var trees []SuiteTree
	for _, s := range sortedKeys(state) {
		comps := sortedKeys(state[s])
		tree := SuiteTree{Dir: s, Release: Release{Origin: r.Origin, Label: r.Label, Suite: s, Codename: s,
			Architectures: r.archs(), Components: comps}}
		for _, c := range comps {
			for _, e := range state[s][c] {
				if err := snap.Add(e.pkg.Filename, e.file); err != nil {
					return nil, err
				}
			}
			for _, a := range r.archs() {
				var stanzas []string
				for _, k := range sortedKeys(state[s][c]) {
					e := state[s][c][k]
					if e.pkg.Architecture == a || e.pkg.Architecture == "all" {
						stanzas = append(stanzas, string(e.stanza.Bytes()))
					}
				}
				text := strings.Join(stanzas, "\n")
				tree.Indices = append(tree.Indices, GeneratedIndex{Path: c + "/binary-" + a + "/Packages",
					Write: func(_ context.Context, w io.Writer) error { _, err := io.WriteString(w, text); return err }})
			}
		}
		trees = append(trees, tree)
	}
	pb := &Publisher{Store: r.Store, Signer: r.Signer, ValidFor: r.ValidFor, KeyName: r.KeyName, Now: r.Now, Logger: r.Logger}
	if err := pb.Build(ctx, snap, prev, trees); err != nil {
		return nil, err
	}
	return snap, nil
}

// load reads the packages of a published repository back from its plain Packages files.
func (r *Repository) load(ctx context.Context, prev *store.Snapshot) (map[string]map[string]map[string]*repoEntry, error) {
	state := map[string]map[string]map[string]*repoEntry{}
	if prev == nil {
		return state, nil
	}
	for _, p := range prev.Paths() {
		parts := strings.Split(p, "/")
		// dists/<suite>/<component>/binary-<arch>/Packages
		if len(parts) != 5 || parts[0] != "dists" || parts[4] != "Packages" || !strings.HasPrefix(parts[3], "binary-") ||
			!slices.Contains(r.archs(), strings.TrimPrefix(parts[3], "binary-")) {
			continue
		}
		suite, comp := parts[1], parts[2]
		if state[suite] == nil {
			state[suite] = map[string]map[string]*repoEntry{}
		}
		if state[suite][comp] == nil {
			state[suite][comp] = map[string]*repoEntry{}
		}
		b, err := r.Store.Open(ctx, prev.Files[p].Digest)
		if err != nil {
			return nil, err
		}
		err = ReadPackages(ctx, b, func(pkg Package, para Paragraph) error {
			f, ok := prev.Lookup(pkg.Filename)
			if !ok {
				return fmt.Errorf("apt: repository: %s: %w: %s", pkg.Key(), store.ErrNotFound, pkg.Filename)
			}
			pkg = pkg.Clone()
			state[suite][comp][pkg.Name+"/"+pkg.Architecture] = &repoEntry{pkg: pkg, stanza: Paragraph{Raw: strings.Clone(para.Raw)}, file: f}
			return nil
		})
		b.Close()
		if err != nil {
			return nil, err
		}
	}
	return state, nil
}
