package apt_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/store"
)

// benchPackages is the size of Debian bookworm main amd64.
const benchPackages = 63440

// writeSyntheticPackages writes a Packages index of n stanzas shaped like Debian's
// (about 800 bytes each, so 63,440 stanzas make about 50 MB).
func writeSyntheticPackages(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "Packages")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, `Package: pkg%05d
Source: src%04d
Version: 1.%d.%d-%d
Installed-Size: %d
Maintainer: Debian Example Maintainers <pkg-example-maintainers@lists.alioth.debian.org>
Architecture: amd64
Depends: libc6 (>= 2.34), libpkg%05d (= 1.%d.%d-%d), zlib1g (>= 1:1.2.0) | libz-ng, debconf (>= 0.5) | debconf-2.0
Recommends: pkg%05d-data
Description: synthetic package number %d for the parser benchmark
 This long description spans a few lines, as most Debian packages do, so that
 the size of each stanza matches what the real archive carries on average.
 .
 It has a paragraph separator and a second paragraph too.
Homepage: https://example.org/pkg%05d
Description-md5: 0123456789abcdef0123456789abcdef
Tag: devel::library, implemented-in::c, role::shared-lib
Section: libs
Priority: optional
Filename: pool/main/s/src%04d/pkg%05d_1.%d.%d-%d_amd64.deb
Size: %d
MD5sum: 0123456789abcdef0123456789abcdef
SHA256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

`, i, i/4, i%7, i%13, i%3+1, 100+i%5000, i, i%7, i%13, i%3+1, i, i, i, i/4, i, i%7, i%13, i%3+1, 1000+i)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// cpuTime is the user+system CPU time of this process: on a shared, loaded machine it
// says more than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchParse(b *testing.B, keep bool) {
	path := writeSyntheticPackages(b, benchPackages)
	st, _ := os.Stat(path)
	var growth float64
	runs := 0
	cpu0 := cpuTime()
	testutil.AllocPerMiB(b, st.Size(), func() error {
		runs++
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		h := testutil.NewHeapWatch()
		u := apt.NewUniverse()
		n := 0
		err = apt.ReadPackages(context.Background(), f, func(p apt.Package, _ apt.Paragraph) error {
			n++
			if keep {
				q := p.Clone()
				if err := u.Add(&q); err != nil {
					return err
				}
			}
			if n%4096 == 0 {
				h.Sample()
			}
			return nil
		})
		h.Sample()
		if err == nil && n != benchPackages {
			err = fmt.Errorf("read %d packages, want %d", n, benchPackages)
		}
		growth = max(growth, float64(h.Growth())/(1<<20))
		runtime.KeepAlive(u)
		return err
	})
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(runs), "cpu-s/op")
	b.ReportMetric(growth, "peak-heap-MB")
	b.ReportMetric(float64(benchPackages), "packages")
}

// BenchmarkParsePackages streams a 63,440-package (~50 MB) Packages index, parsing every
// stanza into a Package and dropping it. Goal: < 1 s and < 32 MB of heap growth; B/MiB is
// what the Reader and ParsePackage allocate per MiB of index.
func BenchmarkParsePackages(b *testing.B) { benchParse(b, false) }

// BenchmarkParsePackagesUniverse also keeps every package in a Universe (what a mirror
// with a dependency filter does); the stanzas themselves are not kept.
func BenchmarkParsePackagesUniverse(b *testing.B) { benchParse(b, true) }

// BenchmarkNoopResyncLarge is the no-op resync of a mirror whose published tree holds
// 63,440 pool files (Debian bookworm main amd64): one conditional request, plus reading
// the published snapshot's manifest for the validators.
func BenchmarkNoopResyncLarge(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b, apttest.Options{ByHash: true})
	m := e.mirror()
	if _, err := m.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	snap, gen, err := store.OpenPublished(ctx, e.store, m.Ref())
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < benchPackages; i++ {
		info, err := store.PutBytes(ctx, e.store, store.Expect{}, []byte(fmt.Sprintf("deb %d", i)))
		if err != nil {
			b.Fatal(err)
		}
		p := fmt.Sprintf("pool/main/s/src%04d/pkg%05d_1.0-1_amd64.deb", i/4, i)
		if err := snap.Add(p, store.File{Digest: info.Digest, Size: info.Size}); err != nil {
			b.Fatal(err)
		}
	}
	// published under the trust the sync recorded, so that the next sync may reuse it
	if _, _, err := store.Update(ctx, e.store, m.Ref(), gen.Trust, func(store.Prev) (*store.Snapshot, error) { return snap, nil }); err != nil {
		b.Fatal(err)
	}
	e.upstream.ResetCounts()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := m.Sync(ctx)
		if err != nil || st.Changed {
			b.Fatal(err, st.Changed)
		}
	}
	b.ReportMetric(float64(e.upstream.Count(""))/float64(b.N)/float64(len(m.Suites)), "requests/suite")
}

// BenchmarkSyncLargeIndex is a cold sync of one suite whose Packages index has 63,440
// stanzas (~50 MB, Debian bookworm main amd64), read as plain, .gz or .xz, with a filter
// that selects nothing: fetching, verifying, decoding once, parsing, and publishing the
// (empty) regenerated index, into a filesystem store. peak-heap-growth-MB is the heap
// above what the fixtures hold. The xz case needs the xz program to build its input.
func BenchmarkSyncLargeIndex(b *testing.B) {
	plain, err := os.ReadFile(writeSyntheticPackages(b, benchPackages))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ format, ext string }{{"plain", ""}, {"gz", ".gz"}, {"xz", ".xz"}} {
		b.Run(c.format, func(b *testing.B) {
			body := plain
			switch c.ext {
			case ".gz":
				var buf bytes.Buffer
				w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
				w.Write(plain)
				w.Close()
				body = buf.Bytes()
			case ".xz":
				xzBin := testutil.RequireBinary(b, "xz", "xz-utils")
				cmd := exec.Command(xzBin, "-6", "-T2", "-c")
				cmd.Stdin = bytes.NewReader(plain)
				if body, err = cmd.Output(); err != nil {
					b.Fatal(err)
				}
			}
			e := newEnv(b, apttest.Options{})
			e.upstream.Replace(rawRepo(b, e.key, map[string][]byte{"main/binary-amd64/Packages" + c.ext: body},
				map[string][]byte{"main/binary-amd64/Packages": plain}, nil))
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			var peak uint64
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s, err := store.Open(b.TempDir(), store.WithoutSync()) // on disk: the heap is the mirror's
				if err != nil {
					b.Fatal(err)
				}
				m := e.mirror()
				m.Store, m.Fetch = s, nil
				m.Suites, m.Architectures = []string{"stable"}, []string{"amd64"}
				m.Filter = apt.Filter{Packages: []string{"no-such-package"}}
				h := testutil.NewHeapWatch()
				stop := h.Every(10 * time.Millisecond)
				_, err = m.Sync(context.Background())
				stop()
				peak = max(peak, h.Growth())
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-growth-MB")
		})
	}
}

// syntheticRelease is a Release listing n index files under MD5Sum, SHA1, SHA256 and
// SHA512, as Debian's lists 772 (151 kB).
func syntheticRelease(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Origin: Debian\nLabel: Debian\nSuite: stable\nCodename: bookworm\nDate: Sat, 10 Jan 2026 10:00:00 UTC\nArchitectures: amd64 arm64\nComponents: main contrib\n")
	for _, h := range []struct {
		name string
		n    int
	}{{"MD5Sum", 32}, {"SHA1", 40}, {"SHA256", 64}, {"SHA512", 128}} {
		b.WriteString(h.name + ":\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, " %0*x %8d main/binary-arch%d/Packages.xz\n", h.n, i, 1000+i, i)
		}
	}
	return b.Bytes()
}

// BenchmarkParseRelease parses a Release of 4,000 files (1.8 MB, twelve times Debian's): a
// signed document read whole, so B/MiB is what a Release costs beyond its own bytes.
func BenchmarkParseRelease(b *testing.B) {
	data := syntheticRelease(4000)
	testutil.AllocPerMiB(b, int64(len(data)), func() error {
		rel, err := apt.ParseRelease(bytes.NewReader(data))
		if err == nil && len(rel.Files) != 4000 {
			err = fmt.Errorf("%d files", len(rel.Files))
		}
		return err
	})
}

// BenchmarkPlanScale is a dry run (Mirror.Plan, then the store's tally) of one suite of
// 600, 6,000 and 60,000 packages, all selected: µs-per-package should stay flat.
func BenchmarkPlanScale(b *testing.B) {
	for _, n := range []int{600, 6000, 60000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			plain, err := os.ReadFile(writeSyntheticPackages(b, n))
			if err != nil {
				b.Fatal(err)
			}
			e := newEnv(b, apttest.Options{})
			e.upstream.Replace(rawRepo(b, e.key, map[string][]byte{"main/binary-amd64/Packages": plain},
				map[string][]byte{"main/binary-amd64/Packages": plain}, nil))
			m := e.mirror()
			m.Suites, m.Architectures, m.Filter = []string{"stable"}, []string{"amd64"}, apt.Filter{}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p, err := m.Plan(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if _, err := store.NewTally().Add(context.Background(), e.store, p.Items()); err != nil {
					b.Fatal(err)
				}
				if len(p.Files) != n {
					b.Fatalf("%d pool files planned, want %d", len(p.Files), n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/package")
		})
	}
}
