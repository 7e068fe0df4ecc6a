package snapproxy

import (
	"bytes"
	"context"
	"crypto/sha3"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// Names of the files next to the snap pairs in a published snapshot.
const (
	ManifestFile  = "manifest.json"
	InstallScript = "install.sh"
)

// Install classes, in install order.
const (
	ClassSnapd    = "snapd"
	ClassBase     = "base"
	ClassProvider = "provider"
	ClassApp      = "app"
)

var classRank = map[string]int{ClassSnapd: 0, ClassBase: 1, ClassProvider: 2, ClassApp: 3}

// Manifest describes a published mirror: every snap revision and, per architecture, the
// install order.
type Manifest struct {
	Name     string         `json:"name"`
	StoreURL string         `json:"store_url"`
	Snaps    []ManifestSnap `json:"snaps"`
	// Install maps an architecture to the file stems (NAME_REV) in install order: one
	// revision per snap (that of the first spec naming it), older ones held by Keep left
	// out.
	Install map[string][]string `json:"install"`
	// DefaultTracks are the snaps' default tracks as the store revealed them: what a
	// request without a track gets.
	DefaultTracks map[string]string `json:"default_tracks,omitempty"`
	// Assertions is the file holding Mirror.Assertions with their chains (AssertionsFile),
	// "" when none are configured.
	Assertions string `json:"assertions,omitempty"`
	// Store is the id of the store assertion in StoreFile, "" when none.
	Store string `json:"store,omitempty"`
}

// ManifestSnap is one snap revision of a mirror.
type ManifestSnap struct {
	Name          string   `json:"name"`
	SnapID        string   `json:"snap_id"`
	Revision      int      `json:"revision"`
	Version       string   `json:"version"`
	Type          string   `json:"type"`
	Base          string   `json:"base,omitempty"`
	Confinement   string   `json:"confinement,omitempty"`
	Channel       string   `json:"channel,omitempty"`
	Architectures []string `json:"architectures"`
	// File and Assert are the paths of the pair in the snapshot.
	File   string `json:"file"`
	Assert string `json:"assert"`
	// SHA3_384 is hex.
	SHA3_384   string   `json:"sha3_384"`
	Size       int64    `json:"size"`
	Publisher  string   `json:"publisher,omitempty"`
	Class      string   `json:"class"`
	Requested  bool     `json:"requested"`
	RequiredBy []string `json:"required_by,omitempty"`
	// Releases are the channels and architectures whose current revision this was at
	// the sync: the channel map the store API serves. Revisions held by Keep have none.
	Releases []Release `json:"releases,omitempty"`
	// SnapYAML is the snap.yaml the store gave (epoch, summary, architectures, plugs).
	SnapYAML string `json:"snap_yaml,omitempty"`
	// PublisherUsername and PublisherDisplayName name the publisher account.
	PublisherUsername    string `json:"publisher_username,omitempty"`
	PublisherDisplayName string `json:"publisher_display_name,omitempty"`
	// Created is the snap-revision assertion's timestamp: when the store got the revision.
	Created string `json:"created,omitempty"`
}

func classOf(e *entry, providers map[string]bool) string {
	switch {
	case e.yaml.Type == "snapd" || e.details.Name == "snapd":
		return ClassSnapd
	case e.yaml.Type == "base" || e.yaml.Type == "os" || e.yaml.Type == "kernel" || e.yaml.Type == "gadget":
		return ClassBase
	case providers[e.details.Name]:
		return ClassProvider
	}
	return ClassApp
}

func buildManifest(m *Mirror, entries []*entry, files map[string]*pair, tracks map[string]string) *Manifest {
	man := &Manifest{Name: m.Name, StoreURL: (&Client{BaseURL: m.storeURL()}).base(), Install: map[string][]string{}}
	if len(tracks) > 0 {
		man.DefaultTracks = tracks
	}
	providers := map[string]map[string]bool{}
	for _, e := range entries {
		if providers[e.arch] == nil {
			providers[e.arch] = map[string]bool{}
		}
		for _, p := range e.yaml.Providers {
			providers[e.arch][p] = true
		}
	}
	byFile := map[string]*ManifestSnap{}
	type ordered struct {
		class, name, file string
	}
	perArch := map[string][]ordered{}
	for _, e := range entries {
		f := e.file()
		cls := classOf(e, providers[e.arch])
		if e.install {
			perArch[e.arch] = append(perArch[e.arch], ordered{cls, e.details.Name, f})
		}
		ms := byFile[f]
		if ms == nil {
			ms = &ManifestSnap{
				Name: e.details.Name, SnapID: e.details.SnapID, Revision: e.details.Revision, Version: e.details.Version,
				Type: e.yaml.Type, Base: e.yaml.Base, Confinement: e.yaml.Confinement, Channel: e.channel,
				File: f + ".snap", Assert: f + ".assert",
				SHA3_384: e.details.Download.SHA3_384, Size: files[f].snap.Size, Publisher: e.details.Publisher.ID,
				Class: cls, SnapYAML: e.details.SnapYAML, PublisherUsername: e.details.Publisher.Username,
				PublisherDisplayName: e.details.Publisher.DisplayName, Created: files[f].created,
			}
			byFile[f] = ms
		}
		ms.Architectures = append(ms.Architectures, e.arch)
		ms.Requested = ms.Requested || e.requested
		ms.RequiredBy = append(ms.RequiredBy, e.requiredBy...)
		if classRank[cls] < classRank[ms.Class] {
			ms.Class = cls
		}
		for _, ch := range e.releases {
			ms.Releases = append(ms.Releases, Release{Architecture: e.arch, Channel: ch})
		}
	}
	for _, ms := range byFile {
		sort.Strings(ms.Architectures)
		ms.Architectures = uniq(ms.Architectures)
		sort.Strings(ms.RequiredBy)
		ms.RequiredBy = uniq(ms.RequiredBy)
		sort.Slice(ms.Releases, func(i, j int) bool {
			a, b := ms.Releases[i], ms.Releases[j]
			return a.Channel < b.Channel || a.Channel == b.Channel && a.Architecture < b.Architecture
		})
		man.Snaps = append(man.Snaps, *ms)
	}
	sort.Slice(man.Snaps, func(i, j int) bool { return man.Snaps[i].File < man.Snaps[j].File })
	for arch, os := range perArch {
		sort.Slice(os, func(i, j int) bool {
			if classRank[os[i].class] != classRank[os[j].class] {
				return classRank[os[i].class] < classRank[os[j].class]
			}
			return os[i].name < os[j].name
		})
		for _, o := range os {
			man.Install[arch] = append(man.Install[arch], o.file)
		}
	}
	return man
}

// installScript writes a POSIX shell script that acknowledges the assertions and installs
// the snaps of the machine's architecture in order.
func installScript(man *Manifest) []byte {
	// snap install refuses a classic or devmode snap without the matching flag.
	flags := map[string]string{}
	for _, s := range man.Snaps {
		switch s.Confinement {
		case "classic", "devmode":
			flags[strings.TrimSuffix(s.File, ".snap")] = " --" + s.Confinement
		}
	}
	var b bytes.Buffer
	b.WriteString(`#!/bin/sh
# Installs the snaps of mirror ` + shellWord(man.Name) + ` offline: for each snap in order
# (snapd, bases, content providers, applications) "snap ack" its assertions, then
# "snap install" the file. Usage: sh install.sh [ARCH]   (default: this machine's)
set -eu
cd "$(dirname "$0")"
arch="${1:-$(dpkg --print-architecture 2>/dev/null || uname -m)}"
case "$arch" in
x86_64) arch=amd64 ;;
aarch64) arch=arm64 ;;
armv7l | armv8l) arch=armhf ;;
ppc64le) arch=ppc64el ;;
i386 | i486 | i586 | i686) arch=i386 ;;
esac
`)
	b.WriteString("case \"$arch\" in\n")
	archs := make([]string, 0, len(man.Install))
	for a := range man.Install {
		archs = append(archs, a)
	}
	sort.Strings(archs)
	for _, a := range archs {
		fmt.Fprintf(&b, "%s)\n", shellWord(a))
		for _, f := range man.Install[a] {
			fmt.Fprintf(&b, "\tsnap ack %s\n\tsnap install %s%s\n", shellWord(f+".assert"), shellWord(f+".snap"), flags[f])
		}
		b.WriteString("\t;;\n")
	}
	b.WriteString("*)\n\techo \"no snaps mirrored for architecture $arch\" >&2\n\texit 1\n\t;;\nesac\n")
	return b.Bytes()
}

// shellWord quotes s for sh when it holds anything but safe characters.
func shellWord(s string) string {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-/+=", c)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

// Output is a published mirror read back from a store.
type Output struct {
	Manifest *Manifest
	Snapshot *store.Snapshot
	store    store.Store
}

// ReadOutput opens the snapshot published under ref and parses its manifest.
func ReadOutput(ctx context.Context, s store.Store, ref string) (*Output, error) {
	snap, _, err := store.OpenPublished(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	return outputOf(ctx, s, snap)
}

func outputOf(ctx context.Context, s store.Store, snap *store.Snapshot) (*Output, error) {
	f, ok := snap.Lookup(ManifestFile)
	if !ok {
		return nil, fmt.Errorf("%w: no %s in the snapshot", ErrMalformed, ManifestFile)
	}
	b, err := store.ReadBlob(ctx, s, f.Digest, maxJSONSize)
	if err != nil {
		return nil, err
	}
	var man Manifest
	if err := json.Unmarshal(b, &man); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, ManifestFile, err)
	}
	return &Output{Manifest: &man, Snapshot: snap, store: s}, nil
}

// Assertions parses the .assert file of a snap of the manifest.
func (o *Output) Assertions(ctx context.Context, ms ManifestSnap) ([]*Assertion, error) {
	f, ok := o.Snapshot.Lookup(ms.Assert)
	if !ok {
		return nil, fmt.Errorf("%w: %s missing", ErrAssertionMismatch, ms.Assert)
	}
	b, err := o.store.Open(ctx, f.Digest)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return DecodeAll(io.LimitReader(b, maxAssertionSize*8), 64)
}

// Verify re-checks every pair of the output: the .snap's SHA3-384 and size against its
// .assert, and the .assert's signatures against trust.
func (o *Output) Verify(ctx context.Context, trust *Trust) error {
	for _, ms := range o.Manifest.Snaps {
		set, err := o.Assertions(ctx, ms)
		if err != nil {
			return fmt.Errorf("snapproxy: %s: %w", ms.Assert, err)
		}
		f, ok := o.Snapshot.Lookup(ms.File)
		if !ok {
			return fmt.Errorf("%w: %s missing", ErrAssertionMismatch, ms.File)
		}
		blob, err := o.store.Open(ctx, f.Digest)
		if err != nil {
			return err
		}
		h := sha3.New384()
		n, err := io.Copy(h, store.ContextReader(ctx, blob))
		blob.Close()
		if err != nil {
			return err
		}
		sf := SnapFile{Name: ms.Name, SnapID: ms.SnapID, Revision: ms.Revision, Size: n, SHA3_384: hex.EncodeToString(h.Sum(nil))}
		if err := trust.VerifySnap(set, sf); err != nil {
			return fmt.Errorf("snapproxy: %s: %w", ms.File, err)
		}
	}
	return nil
}
