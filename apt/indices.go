package apt

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// formatExt maps the names of Mirror.IndexFormats to file name suffixes.
var formatExt = map[string]string{"plain": "", "zst": ".zst", "gz": ".gz", "xz": ".xz", "bz2": ".bz2"}

// defaultIndexFormats puts the variants cheapest to decode first: the pure-Go xz and bzip2
// decoders take seconds for an index that plain, zstd or gzip yield in a fraction of it.
var defaultIndexFormats = []string{"plain", "zst", "gz", "xz", "bz2"}

// verbatimExts orders the variants of a file carried verbatim (Contents, dep11): it is
// never decoded, so the smallest first.
var verbatimExts = []string{".xz", ".zst", ".gz", ".bz2", ""}

// indexFormats returns the suffixes of the configured formats (the defaults when empty).
func indexFormats(names []string) ([]string, error) {
	if len(names) == 0 {
		names = defaultIndexFormats
	}
	var exts []string
	for _, n := range names {
		ext, ok := formatExt[n]
		if !ok {
			return nil, fmt.Errorf("index_formats: unknown format %q (want plain, zst, gz, xz or bz2)", n)
		}
		if !slices.Contains(exts, ext) {
			exts = append(exts, ext)
		}
	}
	return exts, nil
}

// variants returns the entries of rel for base with one of exts, in that order.
func variants(rel *Release, base string, exts []string) []IndexFile {
	var out []IndexFile
	for _, ext := range exts {
		if f, ok := rel.Files[base+ext]; ok {
			out = append(out, f)
		}
	}
	return out
}

type indexKind int

const (
	kindPackages indexKind = iota
	kindInstaller
	kindSources
	kindTranslation
)

// indexJob is one upstream index: fetched, verified, parsed once, and regenerated from
// the stanzas it keeps.
type indexJob struct {
	suite    *suiteState
	kind     indexKind
	path     string      // base path relative to the suite directory, no compression suffix
	variants []IndexFile // the listed variants, in order of preference
	file     IndexFile   // the variant fetched
	plain    IndexFile   // the uncompressed entry, when the Release lists it
	blob     store.BlobInfo
	pkgs     []*Package
	srcs     []*SourcePackage
	spans    []stanzaSpan // where each of pkgs (or srcs) lies in the decompressed index
	// spill holds the decompressed content of a compressed variant, written while it was
	// parsed, so that regenerating the index does not decode it again.
	spill *os.File
}

type stanzaSpan struct{ off, end int64 }

func (j *indexJob) compressed() bool { return j.file.Path != j.path }

// planIndices lists the indices of a suite that the configuration asks for.
func (m *Mirror) planIndices(st *suiteState) ([]*indexJob, error) {
	rel := st.rel
	exts, err := indexFormats(m.IndexFormats)
	if err != nil {
		return nil, err
	}
	comps, archs := st.components(), selectedList(m.Architectures, rel.Architectures)
	var jobs []*indexJob
	add := func(kind indexKind, base string, required bool) error {
		vs := variants(rel, base, exts)
		if len(vs) == 0 {
			if required {
				return fmt.Errorf("apt: suite %s: %w: %s (in index_formats %v)", st.name, ErrMissingIndex, base, m.IndexFormats)
			}
			return nil
		}
		jobs = append(jobs, &indexJob{suite: st, kind: kind, path: base, variants: vs, plain: rel.Files[base]})
		return nil
	}
	extra := func(base string) {
		vs := variants(rel, base, verbatimExts)
		if len(vs) == 0 || slices.ContainsFunc(st.extra, func(e []IndexFile) bool { return e[0].Path == vs[0].Path }) {
			return
		}
		st.extra = append(st.extra, vs)
	}
	for _, c := range comps {
		for _, a := range archs {
			required := a != "all" || slices.Contains(rel.Architectures, "all")
			if err := add(kindPackages, c+"/binary-"+a+"/Packages", required); err != nil {
				return nil, err
			}
			if m.Installer && a != "all" {
				if err := add(kindInstaller, c+"/debian-installer/binary-"+a+"/Packages", false); err != nil {
					return nil, err
				}
			}
			if m.Contents {
				for _, p := range []string{c + "/Contents-" + a, "Contents-" + a, c + "/Contents-udeb-" + a} {
					extra(p)
				}
			}
			if m.DEP11 {
				extra(c + "/dep11/Components-" + a + ".yml")
			}
		}
		if m.Sources {
			if err := add(kindSources, c+"/source/Sources", true); err != nil {
				return nil, err
			}
		}
		for _, lang := range m.Translations {
			if err := add(kindTranslation, c+"/i18n/Translation-"+lang, false); err != nil {
				return nil, err
			}
		}
		if m.DEP11 {
			for _, p := range sortedKeys(rel.Files) {
				if strings.HasPrefix(p, c+"/dep11/icons-") {
					extra(p)
				}
			}
		}
	}
	return jobs, nil
}

func selectedList(conf, listed []string) []string {
	if len(conf) == 0 {
		return listed
	}
	return conf
}

// components are the component directories of the suite to mirror: the configured ones,
// else every one its Release lists, where a listed "updates/main" whose files are under
// main/ (Debian's security archive) is main.
func (st *suiteState) components() []string {
	if len(st.up.Components) > 0 {
		return st.up.Components
	}
	var out []string
	for _, c := range st.rel.Components {
		if b := path.Base(c); b != c && !st.rel.listsUnder(c+"/") && st.rel.listsUnder(b+"/") {
			c = b
		}
		out = append(out, c)
	}
	return out
}

// missing reports whether err says the upstream does not serve a file.
func missing(err error) bool {
	return isStatus(err, http.StatusNotFound) || isStatus(err, http.StatusForbidden) || isStatus(err, http.StatusGone)
}

// fetchVariant downloads the first of an index's listed variants that the upstream
// serves, each by hash (when the Release offers it) and then at its path. A variant that
// is missing gives way to the next; one that is served but does not match the Release is
// an error. When none is served the error wraps the last *fetch.HTTPError.
func (m *Mirror) fetchVariant(ctx context.Context, ss *session, st *suiteState, vs []IndexFile) (IndexFile, store.BlobInfo, error) {
	var last error
	for _, f := range vs {
		info, err := m.fetchListed(ctx, ss, st, f)
		if err == nil {
			return f, info, nil
		}
		if !missing(err) {
			return IndexFile{}, store.BlobInfo{}, err
		}
		m.logger().Debug("apt: index variant not served, trying the next", "suite", st.name, "path", f.Path)
		last = err
	}
	names := make([]string, len(vs))
	for i, f := range vs {
		names[i] = f.Path
	}
	return IndexFile{}, store.BlobInfo{}, fmt.Errorf("apt: suite %s: none of %s is served: %w", st.name, strings.Join(names, ", "), last)
}

// fetchListed downloads one listed file, by hash first when the Release offers it,
// verified against the Release.
func (m *Mirror) fetchListed(ctx context.Context, ss *session, st *suiteState, f IndexFile) (store.BlobInfo, error) {
	e, err := f.Expect()
	if err != nil {
		return store.BlobInfo{}, fmt.Errorf("apt: suite %s: %w", st.name, err)
	}
	dist := st.dist()
	if st.rel.AcquireByHash {
		alg, sum := "SHA256", f.SHA256
		if sum == "" {
			alg, sum = "SHA512", f.SHA512
		}
		res, err := ss.fetch(ctx, fetch.Request{URL: dist + escapePath(byHashPath(f.Path, alg, sum)), Expect: e})
		if err == nil {
			return res.Blob, nil
		}
		if !missing(err) {
			return store.BlobInfo{}, indexErr(st, f, err)
		}
		m.logger().Debug("apt: by-hash file missing, using the plain path", "suite", st.name, "path", f.Path)
	}
	res, err := ss.fetch(ctx, fetch.Request{URL: dist + escapePath(f.Path), Expect: e})
	if err != nil {
		return store.BlobInfo{}, indexErr(st, f, err)
	}
	return res.Blob, nil
}

func indexErr(st *suiteState, f IndexFile, err error) error {
	if errors.Is(err, store.ErrDigestMismatch) {
		return fmt.Errorf("apt: suite %s %s: %w: %w", st.name, f.Path, ErrIndexChecksum, err)
	}
	return fmt.Errorf("apt: suite %s %s: %w", st.name, f.Path, err)
}

// openIndex opens the decompressed content of a fetched index; when the Release lists
// the plain file too, the returned check func verifies the decompressed bytes against it.
func (m *Mirror) openIndex(ctx context.Context, j *indexJob) (io.Reader, func() error, func(), error) {
	b, err := m.Store.Open(ctx, j.blob.Digest)
	if err != nil {
		return nil, nil, nil, err
	}
	dr, err := Decompress(j.file.Path, b, 0)
	if err != nil {
		b.Close()
		return nil, nil, nil, fmt.Errorf("apt: suite %s: %w", j.suite.name, err)
	}
	closeAll := func() { dr.Close(); b.Close() }
	check := func() error { return nil }
	var r io.Reader = dr
	if j.compressed() && j.plain.Strong() {
		e, err := j.plain.Expect()
		if err != nil {
			closeAll()
			return nil, nil, nil, err
		}
		v, err := store.NewVerifier(e)
		if err != nil {
			closeAll()
			return nil, nil, nil, err
		}
		r = io.TeeReader(dr, v)
		check = func() error {
			if _, err := v.Check(); err != nil {
				return fmt.Errorf("apt: suite %s %s (decompressed): %w: %w", j.suite.name, j.plain.Path, ErrIndexChecksum, err)
			}
			return nil
		}
	}
	return r, check, closeAll, nil
}

// drain reads the rest of r, so that a verifier sees every byte.
func drain(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// parseIndex decodes and parses a fetched index once, keeping every package (or source)
// with the place of its stanza. A compressed variant's decoded bytes are spilled to a
// temporary file on the way, for copyStanzas. Translations are only read when they are
// regenerated.
func (m *Mirror) parseIndex(ctx context.Context, j *indexJob) (err error) {
	if j.kind == kindTranslation {
		return nil
	}
	r, check, closeAll, err := m.openIndex(ctx, j)
	if err != nil {
		return err
	}
	defer closeAll()
	var spill *bufio.Writer
	if j.compressed() {
		if j.spill, err = os.CreateTemp("", "airgap-apt-index-*"); err != nil {
			return fmt.Errorf("apt: %w", err)
		}
		spill = bufio.NewWriterSize(j.spill, 1<<20)
		r = io.TeeReader(r, spill)
	}
	span := func(p Paragraph) { j.spans = append(j.spans, stanzaSpan{p.Offset, p.End}) }
	switch j.kind {
	case kindPackages, kindInstaller:
		err = ReadPackages(ctx, r, func(p Package, para Paragraph) error {
			if err := p.CheckDownloadable(); err != nil {
				return err
			}
			p = p.Clone()
			j.pkgs = append(j.pkgs, &p)
			span(para)
			return nil
		})
	case kindSources:
		err = ReadSources(ctx, r, func(s SourcePackage, para Paragraph) error {
			s = s.detach()
			j.srcs = append(j.srcs, &s)
			span(para)
			return nil
		})
	}
	if err == nil {
		err = drain(r)
	}
	if err == nil {
		err = check()
	}
	if err == nil && spill != nil {
		err = spill.Flush()
	}
	if err != nil {
		return fmt.Errorf("apt: suite %s %s: %w", j.suite.name, j.file.Path, err)
	}
	return nil
}

// removeSpill deletes the job's temporary file.
func (j *indexJob) removeSpill() {
	if j.spill != nil {
		j.spill.Close()
		os.Remove(j.spill.Name())
		j.spill = nil
	}
}

// stanzaSource opens the decompressed index for copyStanzas: the spill file, or the
// stored blob of a plain variant.
func (m *Mirror) stanzaSource(ctx context.Context, j *indexJob) (io.ReadSeeker, func(), error) {
	if j.spill != nil {
		fi, err := j.spill.Stat()
		if err != nil {
			return nil, nil, err
		}
		return io.NewSectionReader(j.spill, 0, fi.Size()), func() {}, nil
	}
	b, err := m.Store.Open(ctx, j.blob.Digest)
	if err != nil {
		return nil, nil, err
	}
	return b, func() { b.Close() }, nil
}

// maxSkipRead is the gap between two kept stanzas above which copyStanzas seeks instead
// of reading through.
const maxSkipRead = 1 << 20

// copyStanzas writes the stanzas of j at the indices sel (ascending) to w, separated by
// blank lines, from the index parsed before: no decompression, no parsing, except for a
// stanza that edit changes (a field to set, such as a renamed Filename) or that carried
// comments or CR line endings (written in the Reader's normalised form).
func (m *Mirror) copyStanzas(ctx context.Context, j *indexJob, w io.Writer, sel []int, edit func(i int) (field, value string)) error {
	src, closeSrc, err := m.stanzaSource(ctx, j)
	if err != nil {
		return err
	}
	defer closeSrc()
	br := bufio.NewReaderSize(src, 256<<10)
	var pos int64
	var buf []byte
	for n, i := range sel {
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		s := j.spans[i]
		if gap := s.off - pos; gap > maxSkipRead {
			if _, err := src.Seek(s.off, io.SeekStart); err != nil {
				return err
			}
			br.Reset(src)
		} else if _, err := br.Discard(int(gap)); err != nil {
			return fmt.Errorf("apt: %s: rereading the index: %w", j.path, err)
		}
		buf = slices.Grow(buf[:0], int(s.end-s.off))[:s.end-s.off]
		if _, err := io.ReadFull(br, buf); err != nil {
			return fmt.Errorf("apt: %s: rereading the index: %w", j.path, err)
		}
		pos = s.end
		text := buf
		field, value := "", ""
		if edit != nil {
			field, value = edit(i)
		}
		if field != "" || !plainStanza(text) {
			p, err := ReadParagraph(bytes.NewReader(text))
			if err != nil {
				return fmt.Errorf("apt: %s: rereading the index: %w", j.path, err)
			}
			if field != "" {
				p.Set(field, value)
			}
			text = p.Bytes()
		}
		if n > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(text); err != nil {
			return err
		}
	}
	return nil
}

// plainStanza reports whether a stanza's bytes are already what Paragraph.Raw would hold:
// LF line endings, a final newline, no comment lines.
func plainStanza(b []byte) bool {
	return len(b) > 0 && b[len(b)-1] == '\n' && b[0] != '#' &&
		bytes.IndexByte(b, '\r') < 0 && !bytes.Contains(b, []byte("\n#"))
}

// rewriteTranslation streams the entries of a Translation index that keep accepts,
// verifying the decompressed content on the way (a Translation is decoded only here).
func (m *Mirror) rewriteTranslation(ctx context.Context, j *indexJob, w io.Writer, keep func(Paragraph) bool) error {
	r, check, closeAll, err := m.openIndex(ctx, j)
	if err != nil {
		return err
	}
	defer closeAll()
	dr := NewReader(r)
	first := true
	for {
		p, err := dr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if !keep(p) {
			continue
		}
		if !first {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		first = false
		if _, err := io.WriteString(w, p.Raw); err != nil {
			return err
		}
	}
	if err := drain(r); err != nil {
		return err
	}
	return check()
}

// Clone copies the strings of p, so that a Package kept after parsing does not pin its
// whole stanza in memory.
func (p Package) Clone() Package {
	c := strings.Clone
	return Package{Name: c(p.Name), Version: c(p.Version), Architecture: c(p.Architecture),
		Source: c(p.Source), SourceVersion: c(p.SourceVersion), Section: c(p.Section),
		Priority: c(p.Priority), MultiArch: c(p.MultiArch), Filename: c(p.Filename), Size: p.Size,
		SHA256: c(p.SHA256), SHA512: c(p.SHA512), MD5: c(p.MD5), Depends: c(p.Depends),
		PreDepends: c(p.PreDepends), Recommends: c(p.Recommends), Provides: c(p.Provides)}
}

func (s SourcePackage) detach() SourcePackage {
	c := strings.Clone
	out := SourcePackage{Name: c(s.Name), Version: c(s.Version), Directory: c(s.Directory), Section: c(s.Section), Priority: c(s.Priority)}
	for _, f := range s.Files {
		f.Path = c(f.Path)
		out.Files = append(out.Files, f)
	}
	return out
}
