package galaxy

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// Snapshot layout. A published galaxy snapshot holds:
//
//	collections/<ns>/<name>.json        a collectionRecord (the versions mirrored)
//	artifacts/<ns>-<name>-<ver>.tar.gz  the collection artifacts
//	roles/<owner>/<name>.json           a roleRecord
//	roles/<owner>/<name>/<ver>.tar.gz   the role archives
const (
	collectionsDir = "collections/"
	artifactsDir   = "artifacts/"
	rolesDir       = "roles/"
	recordType     = "application/json"
	artifactType   = "application/gzip"
	maxRecordSize  = 64 << 20
	// annUpstream is the snapshot annotation naming the upstream.
	annUpstream = "galaxy.upstream"
)

// collectionRecord is what the mirror keeps about one collection.
type collectionRecord struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// UpdatedAt is served as the collection's updated_at: it changes whenever the
	// version list changes, because ansible-galaxy caches version lists by it.
	UpdatedAt string `json:"updated_at"`
	CreatedAt string `json:"created_at"`
	// UpstreamUpdatedAt and UpstreamVersions remember the upstream's listing, so that a
	// resync skips the listing while the upstream's updated_at stays the same.
	UpstreamUpdatedAt string   `json:"upstream_updated_at,omitempty"`
	UpstreamVersions  []string `json:"upstream_versions,omitempty"`
	// Versions are sorted newest first.
	Versions []*CollectionVersion `json:"versions"`
}

func (r *collectionRecord) fullName() string { return r.Namespace + "." + r.Name }

func (r *collectionRecord) version(v string) *CollectionVersion {
	for _, cv := range r.Versions {
		if cv.Version == v {
			return cv
		}
	}
	return nil
}

func (r *collectionRecord) sortVersions() {
	sort.SliceStable(r.Versions, func(i, j int) bool {
		a, _ := ParseVersion(r.Versions[i].Version)
		b, _ := ParseVersion(r.Versions[j].Version)
		return a.Compare(b) > 0
	})
}

// versionKey lists the versions and checksums, to tell whether the list changed.
func (r *collectionRecord) versionKey() string {
	parts := make([]string, len(r.Versions))
	for i, v := range r.Versions {
		parts[i] = v.Version + "@" + v.SHA256
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// highest returns the newest non-pre-release version (or the newest of all when every
// version is a pre-release).
func (r *collectionRecord) highest() *CollectionVersion {
	for _, v := range r.Versions {
		if pv, err := ParseVersion(v.Version); err == nil && !pv.IsPrerelease() {
			return v
		}
	}
	if len(r.Versions) > 0 {
		return r.Versions[0]
	}
	return nil
}

// roleRecord is what the mirror keeps about one role.
type roleRecord struct {
	Role
	// Versions are sorted newest first.
	Versions []*roleVersionRecord `json:"versions"`
}

type roleVersionRecord struct {
	Name string `json:"name"`
	// Path is the archive's snapshot path.
	Path string     `json:"path"`
	File store.File `json:"file"`
	// Source is where the archive was downloaded from.
	Source string `json:"source_url,omitempty"`
}

func roleArchivePath(owner, name, version string) string {
	return rolesDir + owner + "/" + name + "/" + version + ".tar.gz"
}

func collectionRecordPath(ns, name string) string {
	return collectionsDir + ns + "/" + name + ".json"
}

func roleRecordPath(owner, name string) string { return rolesDir + owner + "/" + name + ".json" }

// index is the decoded content of a galaxy snapshot.
type index struct {
	snap        *store.Snapshot
	collections map[string]*collectionRecord // "ns.name"
	roles       map[string]*roleRecord       // "owner.name"
	roleByID    map[int64]*roleRecord
}

// loadIndex reads every record of a snapshot.
func loadIndex(ctx context.Context, s store.Store, snap *store.Snapshot) (*index, error) {
	ix := &index{snap: snap, collections: map[string]*collectionRecord{}, roles: map[string]*roleRecord{}, roleByID: map[int64]*roleRecord{}}
	for _, p := range snap.Paths() {
		if path.Ext(p) != ".json" {
			continue
		}
		f := snap.Files[p]
		switch {
		case strings.HasPrefix(p, collectionsDir):
			var rec collectionRecord
			if err := readJSONBlob(ctx, s, f, &rec); err != nil {
				return nil, fmt.Errorf("galaxy: %s: %w", p, err)
			}
			if collectionRecordPath(rec.Namespace, rec.Name) != p {
				return nil, fmt.Errorf("galaxy: %s: %w: record names %s", p, ErrMalformed, rec.fullName())
			}
			ix.collections[rec.fullName()] = &rec
		case strings.HasPrefix(p, rolesDir) && strings.Count(p, "/") == 2:
			var rec roleRecord
			if err := readJSONBlob(ctx, s, f, &rec); err != nil {
				return nil, fmt.Errorf("galaxy: %s: %w", p, err)
			}
			ix.roles[rec.Owner+"."+rec.Name] = &rec
			ix.roleByID[rec.ID] = &rec
		}
	}
	return ix, nil
}

func readJSONBlob(ctx context.Context, s store.Store, f store.File, v any) error {
	b, err := store.ReadBlob(ctx, s, f.Digest, maxRecordSize)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}
