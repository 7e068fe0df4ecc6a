package galaxytest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// epoch is the modification time of every generated archive member, so that the same
// input always gives the same bytes.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Collection describes a generated collection artifact.
type Collection struct {
	Namespace, Name, Version string
	// Dependencies maps "ns.name" to a version range.
	Dependencies map[string]string
	// Files adds files (path -> content) to the generated README.md and meta/runtime.yml.
	Files map[string]string
}

// ID returns "ns.name:version".
func (c Collection) ID() string { return c.Namespace + "." + c.Name + ":" + c.Version }

// Filename returns the artifact's Galaxy file name.
func (c Collection) Filename() string {
	return c.Namespace + "-" + c.Name + "-" + c.Version + ".tar.gz"
}

type fileEntry struct {
	Name         string  `json:"name"`
	Ftype        string  `json:"ftype"`
	ChksumType   *string `json:"chksum_type"`
	ChksumSHA256 *string `json:"chksum_sha256"`
	Format       int     `json:"format"`
}

// BuildArtifact returns a valid collection artifact, as `ansible-galaxy collection build`
// makes it: a tar.gz holding MANIFEST.json (collection_info and the sha256 of FILES.json),
// FILES.json (every file with its sha256) and the files. The same Collection always gives
// the same bytes.
func BuildArtifact(c Collection) []byte {
	files := map[string]string{
		"README.md":        "# " + c.Namespace + "." + c.Name + "\n\nVersion " + c.Version + ", generated for tests.\n",
		"meta/runtime.yml": "---\nrequires_ansible: '>=2.14.0'\n",
	}
	for p, b := range c.Files {
		files[p] = b
	}
	// Every directory that holds a file, sorted, then the files, as ansible-galaxy lists them.
	dirSet := map[string]bool{}
	names := make([]string, 0, len(files))
	for p := range files {
		names = append(names, p)
		for d := p; strings.Contains(d, "/"); {
			d = d[:strings.LastIndex(d, "/")]
			dirSet[d] = true
		}
	}
	sort.Strings(names)
	dirs := make([]string, 0, len(dirSet))
	for d := range dirSet {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	sha := "sha256"
	entries := []fileEntry{{Name: ".", Ftype: "dir", Format: 1}}
	for _, d := range dirs {
		entries = append(entries, fileEntry{Name: d, Ftype: "dir", Format: 1})
	}
	for _, p := range names {
		sum := sha256Hex([]byte(files[p]))
		entries = append(entries, fileEntry{Name: p, Ftype: "file", ChksumType: &sha, ChksumSHA256: &sum, Format: 1})
	}
	filesJSON, _ := json.MarshalIndent(map[string]any{"files": entries, "format": 1}, "", "    ")
	deps := c.Dependencies
	if deps == nil {
		deps = map[string]string{}
	}
	manifest, _ := json.MarshalIndent(map[string]any{
		"collection_info": map[string]any{
			"namespace": c.Namespace, "name": c.Name, "version": c.Version,
			"authors": []string{"airgap tests"}, "readme": "README.md", "tags": []string{},
			"description": "Generated test collection", "license": []string{"MIT"}, "license_file": nil,
			"dependencies": deps, "repository": "https://example.invalid/repo", "documentation": nil,
			"homepage": nil, "issues": nil,
		},
		"file_manifest_file": map[string]any{"name": "FILES.json", "ftype": "file", "chksum_type": "sha256",
			"chksum_sha256": sha256Hex(filesJSON), "format": 1},
		"format": 1,
	}, "", "    ")

	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	add := func(name string, body []byte, dir bool) {
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatGNU}
		if dir {
			h.Mode, h.Size, h.Typeflag = 0o755, 0, tar.TypeDir
		}
		_ = tw.WriteHeader(h)
		if !dir {
			_, _ = tw.Write(body)
		}
	}
	add("MANIFEST.json", manifest, false)
	add("FILES.json", filesJSON, false)
	for _, d := range dirs {
		add(d, nil, true)
	}
	for _, p := range names {
		add(p, []byte(files[p]), false)
	}
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ReadManifest returns the collection_info of an artifact's MANIFEST.json.
func ReadManifest(artifact []byte) (Collection, error) {
	gz, err := gzip.NewReader(bytes.NewReader(artifact))
	if err != nil {
		return Collection{}, err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return Collection{}, errors.New("galaxytest: artifact without MANIFEST.json")
		}
		if err != nil {
			return Collection{}, err
		}
		if strings.TrimPrefix(h.Name, "./") != "MANIFEST.json" {
			continue
		}
		var m struct {
			Info struct {
				Namespace    string            `json:"namespace"`
				Name         string            `json:"name"`
				Version      string            `json:"version"`
				Dependencies map[string]string `json:"dependencies"`
			} `json:"collection_info"`
		}
		if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&m); err != nil {
			return Collection{}, fmt.Errorf("galaxytest: MANIFEST.json: %w", err)
		}
		return Collection{Namespace: m.Info.Namespace, Name: m.Info.Name, Version: m.Info.Version, Dependencies: m.Info.Dependencies}, nil
	}
}

// BuildRole returns a role archive as GitHub serves a tag: a tar.gz with one top
// directory "<name>-<version>" holding meta/main.yml, tasks/main.yml and README.md.
func BuildRole(owner, name, version string) []byte {
	top := name + "-" + version + "/"
	files := []struct{ name, body string }{
		{"README.md", "Role " + owner + "." + name + " " + version + ", generated for tests.\n"},
		{"meta/main.yml", "---\ngalaxy_info:\n  author: " + owner + "\n  description: generated test role\n  license: MIT\n  min_ansible_version: '2.14'\n  platforms: []\ndependencies: []\n"},
		{"tasks/main.yml", "---\n- name: Say hello\n  ansible.builtin.debug:\n    msg: \"" + owner + "." + name + " " + version + "\"\n"},
	}
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	for _, d := range []string{"", "meta/", "tasks/"} {
		_ = tw.WriteHeader(&tar.Header{Name: top + d, Mode: 0o755, ModTime: epoch, Typeflag: tar.TypeDir})
	}
	for _, f := range files {
		_ = tw.WriteHeader(&tar.Header{Name: top + f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: epoch, Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(f.body))
	}
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}
