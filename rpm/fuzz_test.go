package rpm

import (
	"bytes"
	"context"
	"io"
	"testing"
)

const seedRepomd = `<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1700000000</revision>
  <tags><content>binary-x86_64</content><distro cpeid="cpe:/o:rocky:rocky:9">Rocky Linux 9</distro></tags>
  <data type="primary">
    <checksum type="sha256">7eeb79fdebd4737d9a5b9142b25d3ce1fd3b865bb5b1712898265d882bbfd3d0</checksum>
    <open-checksum type="sha256">4d532ea0625e0bb022875a54b33dbed2475ca32c97da8d32aca64e267e8522e7</open-checksum>
    <location href="repodata/7eeb-primary.xml.xz"/>
    <timestamp>1796286021</timestamp>
    <size>1724</size>
    <open-size>11143</open-size>
  </data>
  <data type="group">
    <checksum type="sha">0123456789abcdef0123456789abcdef01234567</checksum>
    <location href="repodata/comps.xml"/>
    <size>1157</size>
  </data>
</repomd>
`

const seedPrimary = `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="1">
<package type="rpm">
  <name>httpd</name>
  <arch>x86_64</arch>
  <version epoch="0" ver="2.4.57" rel="5.el9"/>
  <checksum type="sha256" pkgid="YES">29405776d510fd8bf6e2c01c2f7c9e7f3d439583ba39b5b34133afa841e6ec87</checksum>
  <summary>web</summary>
  <size package="6584" installed="20" archive="500"/>
  <location xml:base="http://elsewhere.example/" href="Packages/h/httpd-2.4.57-5.el9.x86_64.rpm"/>
  <format>
    <rpm:sourcerpm>httpd-2.4.57-5.el9.src.rpm</rpm:sourcerpm>
    <rpm:provides><rpm:entry name="httpd" flags="EQ" epoch="0" ver="2.4.57" rel="5.el9"/></rpm:provides>
    <rpm:requires>
      <rpm:entry name="(httpd-selinux if selinux-policy)"/>
      <rpm:entry name="basesys" pre="1"/>
      <rpm:entry name="libapr" flags="GE" epoch="0" ver="1.7"/>
    </rpm:requires>
    <rpm:recommends><rpm:entry name="mod_http2"/></rpm:recommends>
    <file>/usr/sbin/httpd</file>
    <file type="dir">/etc/httpd</file>
  </format>
</package>
</metadata>
`

const seedFilelists = `<?xml version="1.0" encoding="UTF-8"?>
<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="1">
<package pkgid="29405776d510fd8bf6e2c01c2f7c9e7f3d439583ba39b5b34133afa841e6ec87" name="httpd" arch="x86_64">
  <version epoch="0" ver="2.4.57" rel="5.el9"/>
  <file>/usr/sbin/httpd</file>
  <file>/usr/share/mimedata/mime.types</file>
</package>
</filelists>
`

func FuzzParseRepomd(f *testing.F) {
	f.Add([]byte(seedRepomd))
	f.Add([]byte(`<repomd><data type="primary"><location href="../x"/></data></repomd>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := ParseRepomd(b)
		if err != nil {
			return
		}
		// what is written back parses to the same entries
		again, err := ParseRepomd(md.Marshal())
		if err != nil || len(again.Data) != len(md.Data) || again.Revision != md.Revision {
			t.Fatalf("round trip: %v %+v", err, again)
		}
	})
}

func FuzzReadPrimary(f *testing.F) {
	f.Add([]byte(seedPrimary))
	f.Add([]byte(`<metadata><package><name>a</name></package></metadata>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		err := ReadPrimary(context.Background(), bytes.NewReader(b), func(p *Package, raw []byte) error {
			n++
			if !bytes.HasPrefix(raw, []byte("<")) || !bytes.HasSuffix(raw, []byte(">")) {
				t.Fatalf("raw element %q", raw)
			}
			return nil
		})
		if err != nil {
			return
		}
		// copying every package back keeps them all
		var out bytes.Buffer
		if err := copyPackages(context.Background(), bytes.NewReader(b), &out, "metadata", n, func(string) bool { return true }); err != nil {
			t.Fatalf("copy: %v", err)
		}
		m := 0
		if err := ReadPrimary(context.Background(), &out, func(*Package, []byte) error { m++; return nil }); err != nil || m != n {
			t.Fatalf("copied primary: %v, %d of %d packages\n%s", err, m, n, out.Bytes())
		}
	})
}

func FuzzReadFilelists(f *testing.F) {
	f.Add([]byte(seedFilelists))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = ReadFilelists(context.Background(), bytes.NewReader(b), func(string, []string) error { return nil })
	})
}

func FuzzParseRich(f *testing.F) {
	for _, s := range []string{"(a or b)", "(a if b else c)", "(a >= 1:2.0-1 with a < 3)", "((a and b) or (c unless d))"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRich(s)
		if err != nil {
			return
		}
		if len(r.Needed()) == 0 || len(r.Leaves()) < len(r.Needed()) {
			t.Fatalf("%q: needed %v, leaves %v", s, r.Needed(), r.Leaves())
		}
	})
}

func FuzzVercmp(f *testing.F) {
	f.Add("1.0~rc1", "1.0^git1")
	f.Add("2:1.0-1", "1.0-1")
	f.Fuzz(func(t *testing.T, a, b string) {
		if Vercmp(a, b) != -Vercmp(b, a) {
			t.Fatalf("%q %q not antisymmetric", a, b)
		}
		if Vercmp(a, a) != 0 {
			t.Fatalf("%q != itself", a)
		}
		ea, err1 := ParseEVR(a)
		eb, err2 := ParseEVR(b)
		if err1 == nil && err2 == nil && ea.Compare(eb) != -eb.Compare(ea) {
			t.Fatalf("EVR %q %q not antisymmetric", a, b)
		}
	})
}

func FuzzFilterMetadata(f *testing.F) {
	f.Add([]byte(`<comps><group><id>g</id><packagelist><packagereq>httpd</packagereq><packagereq>php</packagereq></packagelist></group><environment><id>e</id><grouplist><groupid>g</groupid></grouplist></environment></comps>`))
	f.Add([]byte(`<updates><update><id>A</id><pkglist><collection><package name="httpd" epoch="0" version="1" release="1" arch="x86_64"/></collection></pkglist></update></updates>`))
	f.Add([]byte("---\ndocument: modulemd\nversion: 2\ndata:\n  name: a\n  stream: \"1\"\n  artifacts:\n    rpms: [a-0:1-1.noarch]\n...\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		held := func(s string) bool { return len(s)%2 == 0 }
		var out bytes.Buffer
		if FilterComps(context.Background(), bytes.NewReader(b), &out, held) == nil {
			if err := FilterComps(context.Background(), bytes.NewReader(out.Bytes()), io.Discard, held); err != nil {
				t.Fatalf("filtered comps does not parse: %v\n%s", err, out.Bytes())
			}
		}
		out.Reset()
		if FilterUpdateinfo(context.Background(), bytes.NewReader(b), &out, held) == nil {
			if err := FilterUpdateinfo(context.Background(), bytes.NewReader(out.Bytes()), io.Discard, held); err != nil {
				t.Fatalf("filtered updateinfo does not parse: %v\n%s", err, out.Bytes())
			}
		}
		if docs, err := readModuleDocs(bytes.NewReader(b)); err == nil {
			out.Reset()
			if err := writeModuleDocs(&out, filterModules(docs, map[string]bool{})); err != nil {
				t.Fatal(err)
			}
			if _, err := readModuleDocs(&out); err != nil {
				t.Fatalf("filtered modules do not parse: %v", err)
			}
		}
	})
}
