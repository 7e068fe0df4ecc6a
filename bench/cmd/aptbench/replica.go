package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/store/pgp"
)

// replica writes the byte-identical replica of the apt lists in listsDir under dir/repo.
// With recompress it also writes .xz (xz -6, as Debian) and .gz variants of every index and
// re-signs each InRelease, listing them, with a new bench key (dir/key.gpg): an upstream
// that offers every variant, for timing the decoders. complete (with recompress) makes
// every Release list only the Packages variants the replica serves, without "all" among
// its architectures, and adds Release and Release.gpg: an upstream that tools which
// fetch every listed file (debmirror) can mirror whole.
func replica(listsDir, dir string, recompress, complete bool) error {
	rep, err := apttest.LoadLists(listsDir)
	if err != nil {
		return err
	}
	files := rep.Repo.Files
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if recompress {
		key, err := pgp.GenerateKey("Bench Replica", "replica@example.invalid", pgp.KeyOptions{RSABits: 3072})
		if err != nil {
			return err
		}
		for _, a := range rep.Archives {
			for _, s := range a.Suites {
				if err := resign(files, a.Root, s, a.Indices, key, complete); err != nil {
					return err
				}
			}
		}
		pub, err := key.PublicKey(false)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "key.gpg"), pub, 0o644); err != nil {
			return err
		}
	}
	for p, b := range files {
		f := filepath.Join(dir, "repo", filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f, b, 0o644); err != nil {
			return err
		}
	}
	for _, a := range rep.Archives {
		fmt.Printf("archive %s %s\n", a.Root, strings.Join(a.Suites, " "))
	}
	return nil
}

// resign compresses the suite's replicated indices and rewrites its InRelease to list
// them, signed by key; complete: see replica.
func resign(files map[string][]byte, root, suite string, indices []string, key *pgp.Signer, complete bool) error {
	dist := root + "/dists/" + suite + "/"
	text, err := pgp.ClearsignedContent(files[dist+"InRelease"])
	if err != nil {
		return err
	}
	rel, err := apt.ParseRelease(bytes.NewReader(text))
	if err != nil {
		return err
	}
	for _, ix := range indices {
		p, ok := strings.CutPrefix(ix, "dists/"+suite+"/")
		if !ok {
			continue // another suite's index
		}
		plain := files[dist+p]
		var gz bytes.Buffer
		w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		w.Write(plain)
		w.Close()
		cmd := exec.Command("xz", "-6", "-T2", "-c")
		cmd.Stdin = bytes.NewReader(plain)
		xzb, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("xz: %w", err)
		}
		for ext, b := range map[string][]byte{".gz": gz.Bytes(), ".xz": xzb} {
			sum := sha256.Sum256(b)
			h := hex.EncodeToString(sum[:])
			files[dist+p+ext] = b
			files[dist+filepath.Dir(p)+"/by-hash/SHA256/"+h] = b
			rel.Files[p+ext] = apt.IndexFile{Path: p + ext, Size: int64(len(b)), SHA256: h}
		}
	}
	if complete {
		for p := range rel.Files {
			if _, ok := files[dist+p]; !ok || !strings.Contains(p, "/binary-") {
				delete(rel.Files, p)
			}
		}
		rel.Architectures = slices.DeleteFunc(rel.Architectures, func(a string) bool { return a == "all" })
	}
	text = rel.Marshal()
	in, err := key.Clearsign(text)
	if err != nil {
		return err
	}
	files[dist+"InRelease"] = in
	if complete {
		sig, err := key.DetachSign(bytes.NewReader(text), true)
		if err != nil {
			return err
		}
		files[dist+"Release"], files[dist+"Release.gpg"] = text, sig
	}
	return nil
}
