package apt_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
	"github.com/stretchr/testify/require"
)

// TestInventoryResigned: the inventory of a re-signed mirror of two archives lists each
// held .deb and .dsc once, with its digest and size in the tree, the URL it came from
// (the upstream's path for the file moved out of a pool conflict) and the suite, index and
// key that vouched for it; Suites says what each suite holds and until when.
func TestInventoryResigned(t *testing.T) {
	ctx := context.Background()
	a := newTwoArchives(t)
	op, err := pgp.GenerateKey("Operator", "op@example.invalid", pgp.KeyOptions{})
	require.NoError(t, err)
	s := store.NewMemory()
	m := a.mirror(s, op)
	_, err = m.Sync(ctx)
	require.NoError(t, err)
	items, err := apt.Inventory(ctx, s, m.Ref())
	require.NoError(t, err)
	snap, _, err := store.OpenPublished(ctx, s, m.Ref())
	require.NoError(t, err)
	got := map[string]string{}
	var moved []string
	for _, it := range items {
		f, ok := snap.Lookup(it.Path)
		require.True(t, ok, it.Path)
		require.Equal(t, f.Digest, it.Digest)
		require.Equal(t, f.Size, it.Size)
		line := it.PURL + " " + it.Upstream + " | " + it.VouchedBy
		if it.Name == "tool" && it.Path != "pool/main/t/tool/tool_1.0_amd64.deb" && it.Path != "pool/main/t/tool/tool_1.0.dsc" {
			moved = append(moved, it.Path+" "+line)
			continue
		}
		got[it.Path] = line
	}
	mainBy := ", listed by InRelease signed by " + a.mainKey.Fingerprint()
	secBy := ", listed by InRelease signed by " + a.secKey.Fingerprint()
	require.Equal(t, map[string]string{
		"pool/main/h/hello/hello_2.10-3_amd64.deb": "pkg:deb/apttest/hello@2.10-3?arch=amd64 " + a.main.URL + "/pool/main/h/hello/hello_2.10-3_amd64.deb | SHA256 in stable/main Packages" + mainBy,
		"pool/main/g/gcc-12/libgcc-s1_12.2.0-14_amd64.deb": "pkg:deb/apttest/libgcc-s1@12.2.0-14?arch=amd64 " + a.main.URL +
			"/pool/main/g/gcc-12/libgcc-s1_12.2.0-14_amd64.deb | SHA256 in stable/main Packages" + mainBy,
		"pool/main/t/tool/tool_1.0_amd64.deb": "pkg:deb/apttest/tool@1.0?arch=amd64 " + a.main.URL + "/pool/main/t/tool/tool_1.0_amd64.deb | SHA256 in stable/main Packages" + mainBy,
		"pool/main/g/glibc/libc6_2.36-9+deb12u1_amd64.deb": "pkg:deb/apttest/libc6@2.36-9+deb12u1?arch=amd64 " + a.sec.URL +
			"/pool/main/g/glibc/libc6_2.36-9+deb12u1_amd64.deb | SHA256 in stable-security/main Packages" + secBy,
		"pool/main/h/hello/hello_2.10-3.dsc":      "pkg:deb/apttest/hello@2.10-3?arch=source " + a.main.URL + "/pool/main/h/hello/hello_2.10-3.dsc | SHA256 in stable/main Sources" + mainBy,
		"pool/main/g/gcc-12/gcc-12_12.2.0-14.dsc": "pkg:deb/apttest/gcc-12@12.2.0-14?arch=source " + a.main.URL + "/pool/main/g/gcc-12/gcc-12_12.2.0-14.dsc | SHA256 in stable/main Sources" + mainBy,
		"pool/main/t/tool/tool_1.0.dsc":           "pkg:deb/apttest/tool@1.0?arch=source " + a.main.URL + "/pool/main/t/tool/tool_1.0.dsc | SHA256 in stable/main Sources" + mainBy,
		"pool/main/g/glibc/glibc_2.36-9+deb12u1.dsc": "pkg:deb/apttest/glibc@2.36-9+deb12u1?arch=source " + a.sec.URL +
			"/pool/main/g/glibc/glibc_2.36-9+deb12u1.dsc | SHA256 in stable-security/main Sources" + secBy,
	}, got)
	// the security archive's tool and its source moved out of the conflict, fetched
	// from the upstream's own paths
	require.Len(t, moved, 2)
	for _, re := range []string{
		`^pool/main/t/tool/[0-9a-f]{16}/tool_1\.0\.dsc pkg:deb/apttest/tool@1\.0\?arch=source ` + a.sec.URL + `/pool/main/t/tool/tool_1\.0\.dsc \| SHA256 in stable-security/main Sources`,
		`^pool/main/t/tool/[0-9a-f]{16}/tool_1\.0_amd64\.deb pkg:deb/apttest/tool@1\.0\?arch=amd64 ` + a.sec.URL + `/pool/main/t/tool/tool_1\.0_amd64\.deb \| SHA256 in stable-security/main Packages`,
	} {
		require.Equal(t, 1, len(slices.DeleteFunc(slices.Clone(moved), func(l string) bool { return !regexp.MustCompile(re).MatchString(l) })), re)
	}

	suites, err := apt.Suites(ctx, s, m.Ref())
	require.NoError(t, err)
	require.Len(t, suites, 2)
	for _, ps := range suites {
		rel := publishedRelease(t, s, m, ps.Name)
		require.Equal(t, rel.ValidUntil, ps.ValidUntil, ps.Name)
		require.Equal(t, []string{"main"}, ps.Components)
		require.Equal(t, []string{"amd64"}, ps.Architectures)
		require.False(t, ps.Pristine)
		require.Equal(t, "InRelease", ps.SignedBy)
		require.False(t, ps.UpstreamDate.IsZero())
	}
	require.Equal(t, a.sec.URL+"/", suites[1].Upstream)
}

// TestInventoryRecordless: a tree published before suites were recorded (no annotation)
// still lists its suites from their Release files and its packages, without upstream
// details; a Repository's packages carry none either.
func TestInventoryRecordless(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, apttest.Options{})
	m := e.mirror()
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	snap, gen, err := store.OpenPublished(ctx, e.store, m.Ref())
	require.NoError(t, err)
	delete(snap.Annotations, "apt.suites")
	snap.Created = snap.Created.Add(1)
	d, err := store.WriteSnapshot(ctx, e.store, snap)
	require.NoError(t, err)
	_, err = store.Publish(ctx, e.store, m.Ref(), gen.Record, d)
	require.NoError(t, err)
	suites, err := apt.Suites(ctx, e.store, m.Ref())
	require.NoError(t, err)
	require.Len(t, suites, 2)
	require.Equal(t, "stable", suites[0].Name)
	require.Equal(t, []string{"main"}, suites[0].Components)
	require.False(t, suites[0].ValidUntil.IsZero())
	require.False(t, suites[0].UpstreamDate.IsZero(), "from the per-suite annotation")
	items, err := apt.Inventory(ctx, e.store, m.Ref())
	require.NoError(t, err)
	require.NotEmpty(t, items)
	for _, it := range items {
		require.Empty(t, it.Upstream)
		require.Empty(t, it.VouchedBy)
		require.True(t, strings.HasPrefix(it.PURL, "pkg:deb/apttest/"), it.PURL)
	}
	_, err = apt.Inventory(ctx, e.store, "apt/none")
	require.ErrorIs(t, err, store.ErrNotFound)
}
