package ocitest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// What TrivyDB knows and TrivyImage holds: trivy scanning the image with the database
// reports exactly these two vulnerabilities.
const (
	// TrivyAlpineVuln affects musl before 1.2.5-r1 on Alpine 3.22; the image has 1.2.5-r0.
	TrivyAlpineVuln = "CVE-2099-0001"
	// TrivyMavenVuln affects org.example:demo before 1.0.1; the image has demo-1.0.0.jar.
	TrivyMavenVuln = "CVE-2099-0002"
	// TrivyAlpineRelease is the image's /etc/alpine-release.
	TrivyAlpineRelease = "3.22.1"
)

// The trivy-db buckets (trivy-db's schema 2): advisories under <source>/<package>/<ID>,
// where a source is "<os> <release>" or "<ecosystem>::<advisory database>"; each source
// named again under data-source; details by ID under vulnerability.
const (
	trivyAlpineBucket = "alpine 3.22"
	trivyMavenBucket  = "maven::GitHub Security Advisory Maven"
)

// TrivyDB generates a database as Trivy publishes it (ghcr.io/aquasecurity/trivy-db:2;
// trivy-java-db:1 with java): an image manifest with the empty Trivy config and one
// layer titled db.tar.gz (javadb.tar.gz), a gzipped tar of the database file, then
// metadata.json with Version, NextUpdate, UpdatedAt and DownloadedAt. The vulnerability
// database is a real bbolt file holding the advisories for TrivyAlpineVuln and
// TrivyMavenVuln; the java one is the empty index trivy opens only for jars without
// pom.properties (TrivyImage's jar has one).
func TrivyDB(nextUpdate time.Time, java bool) (Manifest, error) {
	layerType, title, file, version := "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip", "db.tar.gz", "trivy.db", 2
	if java {
		layerType, title, file, version = "application/vnd.aquasec.trivy.javadb.layer.v1.tar+gzip", "javadb.tar.gz", "trivy-java.db", 1
	}
	md, _ := json.Marshal(map[string]any{"Version": version, "NextUpdate": nextUpdate.UTC(),
		"UpdatedAt": nextUpdate.Add(-6 * time.Hour).UTC(), "DownloadedAt": time.Time{}})
	db := javaDB
	if !java {
		var err error
		if db, err = vulnDB(); err != nil {
			return Manifest{}, err
		}
	}
	config := newBlob("application/vnd.aquasec.trivy.config.v1+json", []byte("{}"))
	layer := newBlob(layerType, gzipOf(tarOf(map[string][]byte{file: db, "metadata.json": md})))
	ld := layer.Descriptor()
	ld.Annotations = map[string]string{"org.opencontainers.image.title": title}
	b, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": OCIManifest, "config": config.Descriptor(), "layers": []Descriptor{ld},
		"annotations": map[string]string{"org.opencontainers.image.created": nextUpdate.Add(-6 * time.Hour).UTC().Format(time.RFC3339)},
	})
	return Manifest{Blob: newBlob(OCIManifest, b), Blobs: []Blob{config, layer}}, nil
}

// vulnDB writes the bbolt database (through a temporary file: bbolt opens paths).
func vulnDB() ([]byte, error) {
	dir, err := os.MkdirTemp("", "ocitest-trivy-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "trivy.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, e := range []struct {
			buckets []string
			key     string
			value   any
		}{
			{[]string{trivyAlpineBucket, "musl"}, TrivyAlpineVuln, map[string]any{"FixedVersion": "1.2.5-r1"}},
			{[]string{trivyMavenBucket, "org.example:demo"}, TrivyMavenVuln,
				map[string]any{"VulnerableVersions": []string{"<1.0.1"}, "PatchedVersions": []string{"1.0.1"}}},
			{[]string{"data-source"}, trivyAlpineBucket, map[string]any{"ID": "alpine", "Name": "Alpine Secdb", "URL": "https://secdb.alpinelinux.org/"}},
			{[]string{"data-source"}, trivyMavenBucket, map[string]any{"ID": "ghsa", "Name": "GitHub Security Advisory Maven",
				"URL": "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Amaven"}},
			{[]string{"vulnerability"}, TrivyAlpineVuln, map[string]any{"Title": "musl: test vulnerability",
				"Severity": "HIGH", "VendorSeverity": map[string]int{"alpine": 3}}},
			{[]string{"vulnerability"}, TrivyMavenVuln, map[string]any{"Title": "demo: test vulnerability",
				"Severity": "CRITICAL", "VendorSeverity": map[string]int{"ghsa": 4}}},
		} {
			b, err := tx.CreateBucketIfNotExists([]byte(e.buckets[0]))
			for _, name := range e.buckets[1:] {
				if err != nil {
					break
				}
				b, err = b.CreateBucketIfNotExists([]byte(name))
			}
			if err != nil {
				return err
			}
			v, _ := json.Marshal(e.value)
			if err := b.Put([]byte(e.key), v); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("ocitest: trivy.db: %w", err)
	}
	return os.ReadFile(path)
}

// TrivyImage generates an Alpine-shaped image trivy finds TrivyAlpineVuln and
// TrivyMavenVuln in: /etc/alpine-release, the apk database listing musl 1.2.5-r0, and a
// jar whose pom.properties names org.example:demo 1.0.0; and TrivyCheckID in its
// /app/Dockerfile.
func TrivyImage() Manifest {
	return Image(ImageSpec{Seed: 950, Files: map[string][]byte{
		"etc/alpine-release": []byte(TrivyAlpineRelease + "\n"),
		"lib/apk/db/installed": []byte("C:Q1abcdefghijklmnopqrstuvwxyz0=\nP:musl\nV:1.2.5-r0\nA:x86_64\nS:383152\nI:622592\n" +
			"T:the musl c library (libc) implementation\nU:https://musl.libc.org/\nL:MIT\no:musl\n" +
			"F:lib\nR:ld-musl-x86_64.so.1\n\n"),
		"app/Dockerfile": []byte("FROM alpine:3.22\nUSER root\n"),
		"app/demo-1.0.0.jar": jarOf(map[string]string{
			"META-INF/MANIFEST.MF":                           "Manifest-Version: 1.0\r\n\r\n",
			"META-INF/maven/org.example/demo/pom.properties": "groupId=org.example\nartifactId=demo\nversion=1.0.0\n",
		}),
	}})
}

func jarOf(files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		_, _ = w.Write([]byte(files[name]))
	}
	_ = zw.Close()
	return buf.Bytes()
}

// TrivyCheckID is the misconfiguration TrivyChecks' one check reports: a Dockerfile whose
// USER is root (TrivyImage has one at app/Dockerfile).
const TrivyCheckID = "AIRGAP-0001"

// TrivyChecks generates a checks bundle as Trivy publishes it
// (mirror.gcr.io/aquasec/trivy-checks:2): an image manifest whose one layer, titled
// bundle.tar.gz, is a gzipped tar of Rego checks under policies/<kind>/policies/, with
// the bundle's version annotated. It holds a single check, TrivyCheckID, that no bundle
// built into trivy has: a scan that reports it used this bundle.
func TrivyChecks() Manifest {
	check := `# METADATA
# title: Runs as root
# description: The image's Dockerfile leaves USER at root (a check for airgap's tests).
# scope: package
# custom:
#   id: ` + TrivyCheckID + `
#   avd_id: ` + TrivyCheckID + `
#   severity: MEDIUM
#   short_code: airgap-root-user
#   recommended_action: Set USER to another user.
#   input:
#     selector:
#     - type: dockerfile
package builtin.dockerfile.AIRGAP0001

import rego.v1

deny contains res if {
	some stage in input.Stages
	some cmd in stage.Commands
	cmd.Cmd == "user"
	cmd.Value[0] == "root"
	res := result.new("USER is root", cmd)
}
`
	config := newBlob("application/vnd.cncf.openpolicyagent.config.v1+json", []byte("{}"))
	layer := newBlob("application/vnd.cncf.openpolicyagent.layer.v1.tar+gzip",
		gzipOf(tarOf(map[string][]byte{"policies/docker/policies/airgap_root_user.rego": []byte(check)})))
	ld := layer.Descriptor()
	ld.Annotations = map[string]string{"org.opencontainers.image.title": "bundle.tar.gz"}
	b, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": OCIManifest, "config": config.Descriptor(), "layers": []Descriptor{ld},
		"annotations": map[string]string{"org.opencontainers.image.version": "2.0.0"},
	})
	return Manifest{Blob: newBlob(OCIManifest, b), Blobs: []Blob{config, layer}}
}
