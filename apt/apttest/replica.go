package apttest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// DefaultListsDir is where apt keeps the indices it downloaded.
const DefaultListsDir = "/var/lib/apt/lists"

// aptHelper decompresses any file apt keeps (apt recompresses its lists, often with lz4).
const aptHelper = "/usr/lib/apt/apt-helper"

// ErrNoLists: the lists directory holds no InRelease with a binary Packages index whose
// content matches what the InRelease signs.
var ErrNoLists = errors.New("apttest: no usable apt lists")

// Archive is one upstream archive of a Replica.
type Archive struct {
	// Root is the archive root's path in Replica.Repo ("deb.debian.org/debian"): serve the
	// repo and use URL + "/" + Root as the mirror URL.
	Root string
	// Suites are the dists whose InRelease apt holds, sorted.
	Suites []string
	// Indices are the replicated Packages files, relative to the archive root
	// ("dists/bookworm/main/binary-amd64/Packages"), sorted.
	Indices []string
}

// Replica is a byte-identical replica of the archives whose InRelease and Packages files
// apt keeps in a lists directory: every InRelease verbatim, and every binary Packages index
// that apt holds, decompressed, at its plain path and at by-hash/SHA256/<sum> (as
// deb.debian.org serves it), when its content matches the SHA256 the InRelease lists for
// the plain path; any other file apt kept as downloaded (dep11 Components-amd64.yml.gz)
// at its path and by hash when it matches its listed SHA256. The compressed Packages
// variants the InRelease also lists are absent (apt recompressed what it keeps, so their
// exact bytes are gone), as are the pool files.
type Replica struct {
	Repo     *Repo
	Archives []Archive
}

// Archive returns the archive whose Root is root.
func (r *Replica) Archive(root string) (Archive, bool) {
	for _, a := range r.Archives {
		if a.Root == root {
			return a, true
		}
	}
	return Archive{}, false
}

// LoadLists builds a Replica from the lists directory dir (DefaultListsDir on a Debian
// host). apt names its files after the URL with '/' as '_' ("deb.debian.org_debian_dists_
// bookworm_InRelease"); compressed lists are read through apt's own apt-helper cat-file.
// ErrNoLists when nothing usable is there.
func LoadLists(dir string) (*Replica, error) {
	ins, err := filepath.Glob(filepath.Join(dir, "*_dists_*_InRelease"))
	if err != nil {
		return nil, err
	}
	rep := &Replica{Repo: &Repo{Files: map[string][]byte{}}}
	archives := map[string]*Archive{}
	for _, in := range ins {
		base := filepath.Base(in)
		i := strings.Index(base, "_dists_")
		prefix, suite := base[:i], strings.TrimSuffix(base[i+len("_dists_"):], "_InRelease")
		root := strings.ReplaceAll(prefix, "_", "/")
		body, err := os.ReadFile(in)
		if err != nil {
			return nil, err
		}
		sums := signedSHA256(body)
		lists, err := filepath.Glob(filepath.Join(dir, prefix+"_dists_"+suite+"_*"))
		if err != nil {
			return nil, err
		}
		dist := root + "/dists/" + suite + "/"
		var indices []string
		for _, l := range lists {
			rest := strings.TrimPrefix(filepath.Base(l), prefix+"_dists_"+suite+"_")
			rel := strings.ReplaceAll(rest, "_", "/")
			if want, ok := sums[rel]; ok && !strings.Contains(rel, "Packages") {
				// kept as downloaded (dep11 .gz, for one): verbatim when it matches
				b, err := os.ReadFile(l)
				if err != nil {
					return nil, err
				}
				if got := sha256.Sum256(b); hex.EncodeToString(got[:]) == want.sum && int64(len(b)) == want.size {
					rep.Repo.Files[dist+rel] = b
					rep.Repo.Files[dist+filepath.Dir(rel)+"/by-hash/SHA256/"+want.sum] = b
				}
				continue
			}
			if ext := filepath.Ext(rel); ext != "" && !strings.HasSuffix(rel, "/Packages") {
				rel = strings.TrimSuffix(rel, ext)
			}
			want, ok := sums[rel]
			if !ok || !strings.Contains(rel, "/binary-") || !strings.HasSuffix(rel, "/Packages") {
				continue
			}
			plain, err := readList(l)
			if err != nil {
				return nil, err
			}
			got := sha256.Sum256(plain)
			if hex.EncodeToString(got[:]) != want.sum || int64(len(plain)) != want.size {
				continue // apt's copy is of another generation than its InRelease
			}
			rep.Repo.Files[dist+rel] = plain
			rep.Repo.Files[dist+filepath.Dir(rel)+"/by-hash/SHA256/"+want.sum] = plain
			indices = append(indices, "dists/"+suite+"/"+rel)
		}
		if len(indices) == 0 {
			continue
		}
		rep.Repo.Files[root+"/dists/"+suite+"/InRelease"] = body
		a := archives[root]
		if a == nil {
			a = &Archive{Root: root}
			archives[root] = a
		}
		a.Suites = append(a.Suites, suite)
		a.Indices = append(a.Indices, indices...)
	}
	if len(archives) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoLists, dir)
	}
	for _, a := range archives {
		sort.Strings(a.Suites)
		sort.Strings(a.Indices)
		rep.Archives = append(rep.Archives, *a)
	}
	sort.Slice(rep.Archives, func(i, j int) bool { return rep.Archives[i].Root < rep.Archives[j].Root })
	return rep, nil
}

type sizedSum struct {
	sum  string
	size int64
}

// signedSHA256 reads the SHA256 list of a (clearsigned) Release: path -> sum and size.
// The signature is not checked here: the mirror under test does that.
func signedSHA256(release []byte) map[string]sizedSum {
	out := map[string]sizedSum{}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(release))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "SHA256:":
			in = true
		case in && strings.HasPrefix(line, " "):
			f := strings.Fields(line)
			if len(f) == 3 {
				if n, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					out[f[2]] = sizedSum{f[0], n}
				}
			}
		default:
			in = false
		}
	}
	return out
}

// readList returns the content of a lists file, decompressed by apt-helper when apt stored
// it compressed.
func readList(p string) ([]byte, error) {
	if strings.HasSuffix(p, "Packages") {
		return os.ReadFile(p)
	}
	out, err := exec.Command(aptHelper, "cat-file", p).Output()
	if err != nil {
		return nil, fmt.Errorf("apttest: %s cat-file %s: %w", aptHelper, p, err)
	}
	return out, nil
}
