package apt

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/airgapkit/airgap/store"
	"golang.org/x/sync/errgroup"
)

// kindVerbatim is a file a pristine suite holds without reading it (Translation, dep11,
// cnf, Contents, i18n/Index, a per-component Release).
const kindVerbatim indexKind = -1

// holdGroup is what a pristine suite holds of one listed file: every variant the Release
// lists (Packages, Packages.gz, Packages.xz), of which at least one must be served when
// required (an index the packages come from).
type holdGroup struct {
	base     string
	variants []IndexFile
	required bool
}

// compressionExts are the suffixes of compressed variants in a Release.
var compressionExts = []string{".gz", ".xz", ".bz2", ".zst", ".lzma", ".lz4"}

// trimCompression returns p without a compression suffix.
func trimCompression(p string) string {
	for _, ext := range compressionExts {
		if b, ok := strings.CutSuffix(p, ext); ok {
			return b
		}
	}
	return p
}

// planPristine lists what a pristine suite holds (st.hold) and which of it is read
// (st.jobs): every file its Release lists that pristineKind selects, grouped by base
// name. The Packages of every chosen component and architecture, and Sources with
// Sources, must be listed.
func (m *Mirror) planPristine(st *suiteState) error {
	rel := st.rel
	exts, err := indexFormats(m.IndexFormats)
	if err != nil {
		return err
	}
	comps, archs := st.components(), pristineArchs(rel, m.Architectures)
	groups := map[string]*holdGroup{}
	kinds := map[string]indexKind{}
	for _, p := range sortedKeys(rel.Files) {
		kind, ok := m.pristineKind(rel, comps, archs, p)
		if !ok {
			continue
		}
		b := trimCompression(p)
		g := groups[b]
		if g == nil {
			g = &holdGroup{base: b, required: kind != kindVerbatim}
			groups[b], kinds[b] = g, kind
		}
		g.variants = append(g.variants, rel.Files[p])
	}
	need := func(base string) error {
		if groups[base] == nil {
			return fmt.Errorf("apt: suite %s: %w: %s", st.name, ErrMissingIndex, base)
		}
		return nil
	}
	for _, c := range comps {
		for _, a := range archs {
			if a != "all" || slices.Contains(rel.Architectures, "all") {
				if err := need(c + "/binary-" + a + "/Packages"); err != nil {
					return err
				}
			}
		}
		if m.Sources {
			if err := need(c + "/source/Sources"); err != nil {
				return err
			}
		}
	}
	for _, b := range sortedKeys(groups) {
		st.hold = append(st.hold, *groups[b])
		if k := kinds[b]; k != kindVerbatim {
			vs := variants(rel, b, exts)
			if len(vs) == 0 {
				return fmt.Errorf("apt: suite %s: %w: %s (in index_formats %v)", st.name, ErrMissingIndex, b, m.IndexFormats)
			}
			st.jobs = append(st.jobs, &indexJob{suite: st, kind: k, path: b, variants: vs, plain: rel.Files[b]})
		}
	}
	return nil
}

// pristineKind reports whether a pristine suite holds the file p its Release lists,
// and how it is used. Of the chosen components and architectures it holds the Packages
// indices and their per-directory Release, debian-installer ones with Installer, Sources
// with Sources, Translation-* (those of Translations, every language when it is empty),
// i18n/Index, dep11 and cnf (a client with appstream or command-not-found asks for them,
// and a listed file that is missing fails its update), and Contents-* with Contents.
// Anything else (installer images, pdiffs) is not held: apt falls back from a missing
// pdiff to the whole index.
func (m *Mirror) pristineKind(rel *Release, comps, archs []string, p string) (indexKind, bool) {
	segs := strings.Split(trimCompression(p), "/")
	if len(segs) == 1 { // Ubuntu keeps Contents-<arch> at the top
		return kindVerbatim, m.Contents && strings.HasPrefix(segs[0], "Contents-") && m.archOK(rel, archs, segs[0])
	}
	if !slices.Contains(comps, segs[0]) {
		return 0, false
	}
	rest := segs[1:]
	binArch := func(s string) bool {
		a, ok := strings.CutPrefix(s, "binary-")
		return ok && slices.Contains(archs, a)
	}
	switch {
	case len(rest) == 2 && binArch(rest[0]):
		if rest[1] == "Packages" {
			return kindPackages, true
		}
		return kindVerbatim, rest[1] == "Release"
	case len(rest) == 3 && rest[0] == "debian-installer" && binArch(rest[1]):
		if !m.Installer {
			return 0, false
		}
		if rest[2] == "Packages" {
			return kindInstaller, true
		}
		return kindVerbatim, rest[2] == "Release"
	case len(rest) == 2 && rest[0] == "source":
		if !m.Sources {
			return 0, false
		}
		if rest[1] == "Sources" {
			return kindSources, true
		}
		return kindVerbatim, rest[1] == "Release"
	case len(rest) == 2 && rest[0] == "i18n":
		if rest[1] == "Index" {
			return kindVerbatim, true
		}
		lang, ok := strings.CutPrefix(rest[1], "Translation-")
		return kindVerbatim, ok && (len(m.Translations) == 0 || slices.Contains(m.Translations, lang))
	case len(rest) == 2 && (rest[0] == "dep11" || rest[0] == "cnf"):
		return kindVerbatim, m.archOK(rel, archs, rest[1])
	case len(rest) == 1 && strings.HasPrefix(rest[0], "Contents-"):
		return kindVerbatim, m.Contents && m.archOK(rel, archs, rest[0])
	}
	return 0, false
}

// archOK reports whether a file kept per architecture (Components-amd64.yml,
// Commands-arm64, Contents-udeb-amd64, Contents-source) is of a chosen one. A file that
// names no architecture (icons-64x64.tar) or "all" is.
func (m *Mirror) archOK(rel *Release, archs []string, name string) bool {
	if strings.Contains(name, "-udeb-") && !m.Installer {
		return false
	}
	for _, a := range append(slices.Clone(rel.Architectures), "source") {
		if !strings.Contains(name, "-"+a+".") && !strings.HasSuffix(name, "-"+a) {
			continue
		}
		switch a {
		case "source":
			return m.Sources
		case "all":
			return true
		}
		return slices.Contains(archs, a)
	}
	return true
}

// fetchHeld downloads every variant of every group the pristine suites hold that the
// upstream serves (by hash first, each verified against its Release), and gives each
// index job the first of its variants in the order of IndexFormats that was served. A
// required group none of whose variants is served fails the sync; another is left out,
// with a warning.
func (m *Mirror) fetchHeld(ctx context.Context, ss *session, suites []*suiteState) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.concurrency())
	var mu sync.Mutex
	served := map[*suiteState]map[string]store.BlobInfo{}
	for _, st := range suites {
		served[st] = map[string]store.BlobInfo{} // before any goroutine reads the outer map
	}
	for _, st := range suites {
		held := served[st]
		for _, hg := range st.hold {
			g.Go(func() error {
				var last error
				n := 0
				for _, f := range hg.variants {
					info, err := m.fetchListed(gctx, ss, st, f)
					if missing(err) {
						last = err
						continue
					}
					if err != nil {
						return err
					}
					n++
					mu.Lock()
					held[f.Path] = info
					st.verbatim = append(st.verbatim, VerbatimFile{Path: f.Path, SHA512: f.SHA512,
						File: store.File{Digest: info.Digest, Size: info.Size, MediaType: mediaTypeOf(f.Path)}})
					mu.Unlock()
				}
				switch {
				case n > 0:
				case hg.required:
					return fmt.Errorf("apt: suite %s: none of the listed variants of %s is served: %w", st.name, hg.base, last)
				default:
					ss.log.Warn("apt: pristine: listed by the Release but not served: left out", "suite", st.name, "file", hg.base)
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, st := range suites {
		slices.SortFunc(st.verbatim, func(a, b VerbatimFile) int { return strings.Compare(a.Path, b.Path) })
		for _, j := range st.jobs {
			for _, f := range j.variants {
				if info, ok := served[st][f.Path]; ok {
					j.file, j.blob = f, info
					break
				}
			}
			if j.blob.Digest == "" {
				return fmt.Errorf("apt: suite %s: %w: no variant of %s in index_formats %v is served", st.name, ErrMissingIndex, j.path, m.IndexFormats)
			}
		}
	}
	return nil
}

// buildPristine adds the suites as the upstream serves them: InRelease, Release and
// Release.gpg, and every held index variant at its path and (with Acquire-By-Hash) under
// by-hash/ for each checksum listed, keeping the by-hash files of recent generations.
func (m *Mirror) buildPristine(snap, prev *store.Snapshot, suites []*suiteState) error {
	bh := newByHash(prev)
	var recs []PublishedSuite
	var validUntil time.Time
	for _, st := range suites {
		base := "dists/" + st.name + "/"
		for _, f := range st.meta {
			if err := snap.Add(base+f.Path, f.File); err != nil {
				return err
			}
		}
		for _, v := range st.verbatim {
			if err := snap.Add(base+v.Path, v.File); err != nil {
				return err
			}
			if st.rel.AcquireByHash {
				if err := bh.addAll(snap, base, st.rel.Files[v.Path], v.File); err != nil {
					return err
				}
			}
		}
		validUntil = earliest(validUntil, st.rel.ValidUntil)
		if vu := st.rel.ValidUntil; !vu.IsZero() && vu.Before(m.now()) {
			m.logger().Warn("apt: publishing an expired pristine Release (AllowExpired): clients refuse it", "suite", st.name, "valid_until", vu)
		}
		rec := PublishedSuite{Name: st.name, Origin: st.rel.Origin, Components: st.components(),
			Architectures: heldArchs(st.rel, pristineArchs(st.rel, m.Architectures)),
			Pristine:      true, ValidUntil: st.rel.ValidUntil}
		rec.fromUpstream(st)
		recs = append(recs, rec)
	}
	if err := bh.finish(snap, DefaultKeepByHash); err != nil {
		return err
	}
	setValidUntil(snap, validUntil)
	return putRecords(snap, recs)
}

// pristineArchs are the architectures a pristine suite holds: the chosen ones, and "all"
// when the Release lists it without "No-Support-for-Architecture-all: Packages" (apt then
// fetches binary-all whatever it is configured with, and a pristine Release cannot be
// changed not to list it).
func pristineArchs(rel *Release, conf []string) []string {
	archs := selectedList(conf, rel.Architectures)
	if slices.Contains(rel.Architectures, "all") && !slices.Contains(archs, "all") &&
		!strings.EqualFold(strings.TrimSpace(rel.Para.Get("No-Support-for-Architecture-all")), "Packages") {
		archs = append(slices.Clone(archs), "all")
	}
	return archs
}

// heldArchs are the chosen architectures a suite lists ("all" only when listed).
func heldArchs(rel *Release, archs []string) []string {
	var out []string
	for _, a := range archs {
		if a != "all" || slices.Contains(rel.Architectures, "all") {
			out = append(out, a)
		}
	}
	return out
}
