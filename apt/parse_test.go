package apt_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/store"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

func readAll(t *testing.T, in string) ([]apt.Paragraph, error) {
	t.Helper()
	r := apt.NewReader(strings.NewReader(in))
	var out []apt.Paragraph
	for {
		p, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
}

func TestReader(t *testing.T) {
	in := "# comment\r\n\n  \nPackage: a\r\nDescription: short\n long line\n .\n more\nDepends:  b ,  c  \n\n\n\nPackage: b\nSHA256:\n 00 1 x\n 11 2 y\n"
	ps, err := readAll(t, in)
	require.NoError(t, err)
	require.Len(t, ps, 2)
	require.Equal(t, "a", ps[0].Get("package"))
	require.Equal(t, "short\n long line\n .\n more", ps[0].Get("Description"))
	require.Equal(t, "b ,  c", ps[0].Get("Depends"))
	require.Equal(t, "Package: a\nDescription: short\n long line\n .\n more\nDepends:  b ,  c  \n", ps[0].Raw)
	require.Equal(t, "\n 00 1 x\n 11 2 y", ps[1].Get("SHA256"))
	// rebuilt text parses to the same fields
	p := ps[1]
	p.Set("Version", "1")
	back, err := apt.ReadParagraph(bytes.NewReader(p.Bytes()))
	require.NoError(t, err)
	require.Equal(t, p.Fields, back.Fields)
	p.Delete("SHA256")
	require.Equal(t, "Package: b\nVersion: 1\n", string(p.Bytes()))
}

func TestReaderErrors(t *testing.T) {
	for _, in := range []string{" continuation first\n", "no colon\n", ": empty name\n", "A: 1\na: 2\n", "Bad Name: x\n"} {
		_, err := readAll(t, in)
		require.ErrorIs(t, err, apt.ErrMalformed, "%q", in)
	}
	r := apt.NewReader(strings.NewReader("A: " + strings.Repeat("x", 200) + "\n"))
	r.MaxFieldSize = 100
	_, err := r.Next()
	require.ErrorIs(t, err, store.ErrTooLarge)
	r = apt.NewReader(strings.NewReader("A: x\n" + strings.Repeat(" more\n", 100)))
	r.MaxFieldSize = 100
	_, err = r.Next()
	require.ErrorIs(t, err, store.ErrTooLarge)
	r = apt.NewReader(strings.NewReader(strings.Repeat("A: x\n", 10) + "B: " + strings.Repeat("y", 100<<10)))
	r.MaxParagraphSize = 64 << 10
	_, err = r.Next()
	require.ErrorIs(t, err, store.ErrTooLarge)
	r = apt.NewReader(strings.NewReader("A: 1\nB: 2\nC: 3\n"))
	r.MaxFields = 2
	_, err = r.Next()
	require.ErrorIs(t, err, store.ErrTooLarge)
	_, err = apt.ReadParagraph(strings.NewReader("A: 1\n\nB: 2\n"))
	require.ErrorIs(t, err, apt.ErrMalformed)
}

const sampleRelease = `Origin: Debian
Label: Debian
Suite: stable
Version: 12.8
Codename: bookworm
Changelogs: https://metadata.ftp-master.debian.org/changelogs/@CHANGEPATH@_changelog
Date: Sat, 9 Nov 2024 10:11:26 UTC
Valid-Until: Mon, 16 Dec 2024 10:11:26 +0000
Acquire-By-Hash: yes
No-Support-for-Architecture-all: Packages
Architectures: all amd64 arm64
Components: main contrib
Description: Debian 12.8 Released 09 November 2024
MD5Sum:
 0ed6d4c8891eb86358b94bb35d9e4da4  1484322 contrib/Contents-all
SHA256:
 f32cab1a3a5e1a8a4c4a8a0e1a7f5bd8e8f0c0c9a1b2c3d4e5f60718293a4b5c 1484322 contrib/Contents-all
 d3b07384d113edec49eaa6238ad5ff00d3b07384d113edec49eaa6238ad5ff00      738 main/binary-amd64/Packages.xz
`

func TestParseRelease(t *testing.T) {
	rel, err := apt.ParseRelease(strings.NewReader(sampleRelease))
	require.NoError(t, err)
	require.Equal(t, "bookworm", rel.Codename)
	require.Equal(t, "2024-11-09T10:11:26Z", rel.Date.Format("2006-01-02T15:04:05Z07:00"))
	require.Equal(t, "2024-12-16T10:11:26Z", rel.ValidUntil.Format("2006-01-02T15:04:05Z07:00"))
	require.True(t, rel.AcquireByHash)
	require.Equal(t, []string{"all", "amd64", "arm64"}, rel.Architectures)
	f := rel.Files["contrib/Contents-all"]
	require.Equal(t, int64(1484322), f.Size)
	require.Equal(t, "0ed6d4c8891eb86358b94bb35d9e4da4", f.MD5)
	e, err := f.Expect()
	require.NoError(t, err)
	require.Equal(t, f.SHA256, e.Sums[store.SHA256])
	// Marshal keeps metadata and writes SHA256 only for files that have it
	back, err := apt.ParseRelease(bytes.NewReader(rel.Marshal()))
	require.NoError(t, err)
	require.Equal(t, rel.Files["main/binary-amd64/Packages.xz"].SHA256, back.Files["main/binary-amd64/Packages.xz"].SHA256)
	require.Equal(t, rel.Para.Get("Changelogs"), back.Para.Get("Changelogs"))
	require.Equal(t, "Packages", back.Para.Get("No-Support-for-Architecture-all"))
	require.Equal(t, rel.Date, back.Date)

	for _, bad := range []string{
		"SHA256:\n xx 1 a\n",
		"SHA256:\n d3b07384d113edec49eaa6238ad5ff00d3b07384d113edec49eaa6238ad5ff00 -1 a\n",
		"SHA256:\n d3b07384d113edec49eaa6238ad5ff00d3b07384d113edec49eaa6238ad5ff00 1\n",
		"Date: yesterday\n",
	} {
		_, err := apt.ParseRelease(strings.NewReader(bad))
		require.ErrorIs(t, err, apt.ErrMalformed, bad)
	}
	_, err = apt.ParseRelease(strings.NewReader("SHA256:\n d3b07384d113edec49eaa6238ad5ff00d3b07384d113edec49eaa6238ad5ff00 1 ../x\n"))
	require.ErrorIs(t, err, store.ErrUnsafePath)
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "1.1", -1}, {"1.10", "1.9", 1}, {"1:0.1", "2.0", 1},
		{"1.0~rc1", "1.0", -1}, {"1.0~~", "1.0~", -1}, {"1.0-1", "1.0-2", -1}, {"1.0a", "1.0", 1},
		{"1.0+b1", "1.0", 1}, {"1.0.", "1.0+", 1}, {"2.10-4", "2.10-3", 1}, {"0:1.0", "1.0", 0},
		{"1.0-1ubuntu1", "1.0-1", 1}, {"007", "7", 0},
	} {
		require.Equal(t, c.want, sign(apt.CompareVersions(c.a, c.b)), "%s vs %s", c.a, c.b)
		require.Equal(t, -c.want, sign(apt.CompareVersions(c.b, c.a)), "%s vs %s", c.b, c.a)
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestParseRelations(t *testing.T) {
	rs, err := apt.ParseRelations("libc6 (>= 2.34), a | b:any (<< 2), c [amd64], d (> 1) <!nocheck>, e:native (= 1:2-3)")
	require.NoError(t, err)
	require.Len(t, rs, 5)
	require.Equal(t, apt.Relation{Name: "libc6", Op: ">=", Version: "2.34"}, rs[0][0])
	require.Equal(t, apt.Relation{Name: "b", Arch: "any", Op: "<<", Version: "2"}, rs[1][1])
	require.Equal(t, apt.Relation{Name: "c"}, rs[2][0])
	require.Equal(t, apt.Relation{Name: "d", Op: ">=", Version: "1"}, rs[3][0])
	require.Equal(t, "e:native (= 1:2-3)", rs[4][0].String())
	for _, bad := range []string{"a (>= )", "a (!= 1)", "(>= 1)", "a )>= 1("} {
		_, err := apt.ParseRelations(bad)
		require.ErrorIs(t, err, apt.ErrMalformed, bad)
	}
}

func TestClosure(t *testing.T) {
	u := apt.NewUniverse()
	add := func(p apt.Package) *apt.Package {
		if p.Architecture == "" {
			p.Architecture = "amd64"
		}
		require.NoError(t, u.Add(&p))
		return &p
	}
	app := add(apt.Package{Name: "app", Version: "1", Depends: "lib (>= 2), mta | postfix, missing", PreDepends: "base", Recommends: "doc"})
	add(apt.Package{Name: "lib", Version: "1"})
	lib3 := add(apt.Package{Name: "lib", Version: "3"})
	lib2 := add(apt.Package{Name: "lib", Version: "2"})
	add(apt.Package{Name: "postfix", Version: "3", Provides: "mta"})
	exim := add(apt.Package{Name: "exim4", Version: "4", Provides: "mta", Priority: "important"})
	base := add(apt.Package{Name: "base", Version: "1", Architecture: "all"})
	doc := add(apt.Package{Name: "doc", Version: "1", Architecture: "all"})
	add(apt.Package{Name: "lib", Version: "9", Architecture: "arm64"})
	sel, unsat, err := u.Closure([]*apt.Package{app}, false)
	require.NoError(t, err)
	require.ElementsMatch(t, []*apt.Package{app, lib3, exim, base}, sel)
	require.Equal(t, []apt.Unsatisfied{{Package: "app_1_amd64", Relation: "missing"}}, unsat)
	sel, _, err = u.Closure([]*apt.Package{app, lib2}, true)
	require.NoError(t, err)
	require.ElementsMatch(t, []*apt.Package{app, lib2, exim, base, doc}, sel)

	f := apt.Filter{Packages: []string{"po*"}, Sections: []string{"mail"}}
	require.True(t, f.Match(&apt.Package{Name: "postfix"}))
	require.True(t, f.Match(&apt.Package{Name: "x", Section: "universe/mail"}))
	require.False(t, f.Match(&apt.Package{Name: "x", Section: "net"}))
	require.True(t, apt.Filter{}.Match(&apt.Package{Name: "x"}))
}

func TestDecompress(t *testing.T) {
	plain := []byte(strings.Repeat("Package: x\nVersion: 1\n\n", 1000))
	var gz, xzb, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(plain)
	gw.Close()
	xw, _ := xz.NewWriter(&xzb)
	xw.Write(plain)
	xw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(plain)
	zw.Close()
	bz, err := os.ReadFile("testdata/packages.bz2")
	require.NoError(t, err)
	for name, b := range map[string][]byte{"P": plain, "P.gz": gz.Bytes(), "P.xz": xzb.Bytes(), "P.zst": zs.Bytes(), "P.bz2": bz} {
		r, err := apt.Decompress(name, bytes.NewReader(b), 0)
		require.NoError(t, err, name)
		got, err := io.ReadAll(r)
		require.NoError(t, err, name)
		require.NoError(t, r.Close())
		require.Equal(t, plain, got, name)
		// over the cap
		r, err = apt.Decompress(name, bytes.NewReader(b), 100)
		require.NoError(t, err, name)
		_, err = io.ReadAll(r)
		require.ErrorIs(t, err, store.ErrTooLarge, name)
		// truncated
		if name != "P" {
			r, err = apt.Decompress(name, bytes.NewReader(b[:len(b)/2]), 0)
			if err == nil {
				_, err = io.ReadAll(r)
			}
			require.Error(t, err, name)
		}
	}
}

func TestReadDeb(t *testing.T) {
	deb := apttest.BuildDeb(apttest.Package{Name: "libfoo1", Version: "1:2.0-1", Source: "foo", Depends: "libc6"})
	d, err := apt.ReadDeb(bytes.NewReader(deb))
	require.NoError(t, err)
	require.Equal(t, "libfoo1", d.Package.Name)
	require.Equal(t, "foo", d.Package.Source)
	require.Equal(t, int64(len(deb)), d.Size)
	require.Equal(t, "pool/main/f/foo", apt.PoolDir("main", d.Package.Source))
	require.Equal(t, "pool/main/libf/libfoo", apt.PoolDir("main", "libfoo"))
	require.Equal(t, "libfoo1_2.0-1_amd64.deb", apt.DebFilename(d.Package))
	st := d.Stanza("pool/main/libf/foo/libfoo1_2.0-1_amd64.deb")
	p, err := apt.ParsePackage(st)
	require.NoError(t, err)
	require.NoError(t, p.CheckDownloadable())
	require.Equal(t, d.SHA256, p.SHA256)

	for _, bad := range [][]byte{nil, []byte("!<arch>\n"), deb[:len(deb)/3], []byte("not a deb at all, not at all")} {
		_, err := apt.ReadDeb(bytes.NewReader(bad))
		require.ErrorIs(t, err, apt.ErrMalformed)
	}

	// dpkg-deb accepts our writer, and we read what dpkg-deb builds (xz and zstd control)
	testutil.RequireBinary(t, "dpkg-deb", "dpkg")
	dir := t.TempDir()
	f := filepath.Join(dir, "x.deb")
	require.NoError(t, os.WriteFile(f, deb, 0o644))
	out, err := exec.Command("dpkg-deb", "--field", f, "Package", "Version").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Equal(t, "Package: libfoo1\nVersion: 1:2.0-1\n", string(out))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "pkg/DEBIAN"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pkg/DEBIAN/control"), []byte("Package: built\nVersion: 3\nArchitecture: all\nMaintainer: t <t@example.invalid>\nDescription: x\n"), 0o644))
	for _, z := range []string{"xz", "zstd", "gzip"} {
		out := filepath.Join(dir, "built-"+z+".deb")
		o, err := exec.Command("dpkg-deb", "--root-owner-group", "-Z"+z, "--build", filepath.Join(dir, "pkg"), out).CombinedOutput()
		require.NoError(t, err, string(o))
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		d, err := apt.ReadDeb(bytes.NewReader(b))
		require.NoError(t, err, z)
		require.Equal(t, "built", d.Package.Name)
	}
}
