package maasclient

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/maasclient/maastest"
)

const (
	testArchiveKey = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEaAirgap\n-----END PGP PUBLIC KEY BLOCK-----\n"
	testImageURL   = "http://mirror.internal/maas/images/ephemeral-v3/stable/"
)

// testArchive holds jammy and noble with -updates; noble also -security and universe.
var testArchive = AptArchive{URL: "http://mirror.internal/ubuntu", Suites: map[string][]string{
	"jammy": {"main"}, "jammy-updates": {"main"},
	"noble": {"main", "universe"}, "noble-updates": {"main", "universe"}, "noble-security": {"main", "universe"},
}}

var testPorts = AptArchive{URL: "http://mirror.internal/ubuntu-ports", Suites: map[string][]string{
	"jammy": {"main", "restricted"}, "jammy-updates": {"main", "restricted"}, "jammy-security": {"main", "restricted"},
}}

// newAirgapFake is the fake MAAS in its stock state with an image mirror at
// testImageURL that serves jammy (amd64, arm64) and noble (amd64).
func newAirgapFake(t *testing.T) (*maastest.Server, *Client, *sleepRecorder) {
	fake, c, rec := newFake(t, Options{})
	fake.SetImages(testImageURL, append(maastest.UbuntuImages("jammy", "amd64", "arm64"), maastest.UbuntuImages("noble", "amd64")...)...)
	return fake, c, rec
}

func airgapConfig() AirgapConfig {
	archive, ports := testArchive, testPorts
	return AirgapConfig{
		ImageURL:     testImageURL,
		ImageKeyring: []byte("\x99\x01\x0dbinary keyring"),
		Selections: []Selection{
			{OS: "ubuntu", Release: "jammy", Arches: []string{"amd64", "arm64"}},
			{Release: "noble", Arches: []string{"amd64"}, Labels: []string{"stable"}},
		},
		Archive:    &archive,
		Ports:      &ports,
		ArchiveKey: testArchiveKey,
		Config: map[string]string{
			ConfigEnableHTTPProxy: "false", ConfigUpstreamDNS: "10.0.0.53", ConfigBootImagesAutoImport: "false",
		},
		PollInterval: 5 * time.Second,
	}
}

// holds: every source MAAS gives a machine of arch deploying release is in the mirror.
func holds(t *testing.T, fake *maastest.Server, a AptArchive, arch, release string) {
	t.Helper()
	lines := fake.SourcesList(arch, release)
	require.NotEmpty(t, lines)
	for _, l := range lines {
		f := strings.Fields(l)
		require.GreaterOrEqual(t, len(f), 4, l)
		assert.Equal(t, a.URL, f[1], l)
		comps, ok := a.Suites[f[2]]
		if assert.True(t, ok, "%s: the mirror has no suite %s, apt update fails", l, f[2]) {
			for _, c := range f[3:] {
				assert.Contains(t, comps, c, "%s: suite %s has no component %s", l, f[2], c)
			}
		}
	}
}

// TestConfigureAirgapFromStock: from a stock MAAS (boot source images.maas.io with a
// keyring file, nothing in its cache, jammy selected and commissioning), the boot
// source points at the mirror with the keyring uploaded as a file, the cache is
// refreshed by an import so that the selections are accepted, the selections are
// exactly those asked with "*" for the lists not given, both archives point at the apt
// mirrors with only what they hold, the configuration is set, the import runs and is
// waited for, and every image is there. A second run changes no selection and needs no
// refresh.
func TestConfigureAirgapFromStock(t *testing.T) {
	ctx := context.Background()
	fake, c, rec := newAirgapFake(t)
	fake.AddBootSource("http://old-mirror.internal/stable/")
	fake.SetImportPolls(3)
	cfg := airgapConfig()

	res, err := c.ConfigureAirgap(ctx, cfg)
	require.NoError(t, err)

	srcs := fake.BootSources()
	require.Len(t, srcs, 1, "exactly one boot source left")
	assert.Equal(t, 1, srcs[0].ID, "the stock source is updated, not replaced")
	assert.Equal(t, cfg.ImageURL, srcs[0].URL)
	assert.Equal(t, base64.StdEncoding.EncodeToString(cfg.ImageKeyring), srcs[0].KeyringData)
	assert.Equal(t, "", srcs[0].KeyringFilename)
	assert.Equal(t, srcs[0].ID, res.BootSource.ID)
	put := lastRequest(t, fake, "PUT", "boot-sources/1/")
	assert.Equal(t, cfg.ImageKeyring, put.Files["keyring_data"])
	assert.Equal(t, []string{""}, put.Form["keyring_filename"], "the stock keyring_filename is cleared")

	sels := fake.Selections(1)
	require.Len(t, sels, 2)
	byRelease := map[string]maastest.Selection{}
	for _, s := range sels {
		byRelease[s.Release] = s
	}
	assert.Equal(t, []string{"amd64", "arm64"}, byRelease["jammy"].Arches)
	assert.Equal(t, []string{"*"}, byRelease["jammy"].Subarches)
	assert.Equal(t, []string{"*"}, byRelease["jammy"].Labels)
	assert.Equal(t, "ubuntu", byRelease["noble"].OS)
	assert.Equal(t, []string{"*"}, byRelease["noble"].Subarches)
	assert.Equal(t, []string{"stable"}, byRelease["noble"].Labels)
	assert.Len(t, res.Selections, 2)

	for _, r := range fake.Repos() {
		assert.Equal(t, testArchiveKey, r.Key)
		assert.True(t, r.Enabled)
		assert.Empty(t, r.Components)
		switch r.Name {
		case MainArchive:
			assert.Equal(t, testArchive.URL, r.URL)
			assert.Equal(t, []string{"security", "backports"}, r.DisabledPockets, "jammy-security and the backports are not mirrored")
			assert.Equal(t, []string{"restricted", "universe", "multiverse"}, r.DisabledComponents, "jammy has no universe")
		case PortsArchive:
			assert.Equal(t, testPorts.URL, r.URL)
			assert.Equal(t, []string{"backports"}, r.DisabledPockets)
			assert.Equal(t, []string{"universe", "multiverse"}, r.DisabledComponents)
		}
	}
	holds(t, fake, testArchive, "amd64", "jammy")
	holds(t, fake, testArchive, "amd64", "noble")
	holds(t, fake, testPorts, "arm64", "jammy")
	assert.Len(t, res.Repositories, 2)

	assert.Equal(t, false, fake.Config("enable_http_proxy"))
	assert.Equal(t, "10.0.0.53", fake.Config("upstream_dns"))
	assert.Equal(t, false, fake.Config("boot_images_auto_import"))
	assert.Equal(t, "jammy", fake.Config("commissioning_distro_series"), "selected: left alone")

	assert.Equal(t, 2, fake.Imports(), "one to refresh the cache, one to import")
	assert.Equal(t, 2, res.Imports)
	// Each import: is one running? No. Then 3 busy answers and an idle one.
	assert.Equal(t, 1+4+1+4, res.Polls)
	assert.Equal(t, slices.Repeat([]time.Duration{5 * time.Second}, 8), rec.waits)
	names := map[string]bool{}
	for _, r := range res.Resources {
		names[r.Name+" "+r.Architecture] = true
	}
	assert.Equal(t, map[string]bool{
		"ubuntu/jammy amd64/ga-22.04": true, "ubuntu/jammy amd64/hwe-22.04": true,
		"ubuntu/jammy arm64/ga-22.04": true, "ubuntu/jammy arm64/hwe-22.04": true,
		"ubuntu/noble amd64/ga-24.04": true, "ubuntu/noble amd64/hwe-24.04": true,
	}, names)

	// Run again: no selection is created, changed or deleted, and no refresh is needed.
	before := len(fake.Requests())
	fake.SetImportPolls(0)
	res, err = c.ConfigureAirgap(ctx, cfg)
	require.NoError(t, err)
	for _, r := range fake.Requests()[before:] {
		if r.Method != "GET" {
			assert.NotContains(t, r.Path, "/selections/", "%s %s on the second run", r.Method, r.Path)
		}
	}
	assert.Equal(t, 1, res.Imports)
	assert.Equal(t, 3, fake.Imports())
}

// TestConfigureAirgapReplacesCommissioningRelease: noble only, from the stock state
// where jammy is selected and the commissioning release. MAAS refuses to delete
// jammy's selection while it commissions with jammy, and takes noble as commissioning
// and default release only once noble is imported: both move after the import, then
// jammy goes.
func TestConfigureAirgapReplacesCommissioningRelease(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newAirgapFake(t)
	cfg := airgapConfig()
	cfg.Selections = []Selection{{Release: "noble", Arches: []string{"amd64"}}}
	cfg.Ports = nil
	cfg.Config = map[string]string{ConfigDefaultOSystem: "ubuntu", ConfigEnableAnalytics: "false"}

	res, err := c.ConfigureAirgap(ctx, cfg)
	require.NoError(t, err)
	sels := fake.Selections(1)
	require.Len(t, sels, 1)
	assert.Equal(t, "noble", sels[0].Release)
	require.Len(t, res.Selections, 1)
	assert.Equal(t, "noble", res.Selections[0].Release)
	assert.Equal(t, "noble", fake.Config("commissioning_distro_series"))
	assert.Equal(t, "noble", fake.Config("default_distro_series"))
	assert.Equal(t, false, fake.Config("enable_analytics"))
	holds(t, fake, testArchive, "amd64", "noble")

	// The release settings came after the last import, default_osystem with them.
	var order []string
	for _, r := range fake.Requests() {
		switch {
		case r.Op == "import":
			order = append(order, "import")
		case r.Op == "set_config":
			order = append(order, r.Form.Get("name"))
		case r.Method == "DELETE" && strings.Contains(r.Path, "/selections/"):
			order = append(order, "delete selection")
		}
	}
	assert.Equal(t, []string{"enable_analytics", "import", "import", "default_osystem", "commissioning_distro_series", "default_distro_series", "delete selection"}, order)
}

// TestConfigureAirgapExplicitRelease: a release setting given in Config is set after
// the import and not moved; a commissioning release not selected keeps its selection.
func TestConfigureAirgapExplicitRelease(t *testing.T) {
	fake, c, _ := newAirgapFake(t)
	cfg := airgapConfig()
	cfg.Config = map[string]string{ConfigDefaultDistroSeries: "noble"}
	_, err := c.ConfigureAirgap(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, "noble", fake.Config("default_distro_series"))
	assert.Equal(t, "jammy", fake.Config("commissioning_distro_series"))

	cfg.Selections = []Selection{{Release: "noble", Arches: []string{"amd64"}}}
	cfg.Config = map[string]string{"commissioning_distro_series": "jammy"}
	res, err := c.ConfigureAirgap(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, "jammy", fake.Config("commissioning_distro_series"))
	assert.Len(t, res.Selections, 2, "jammy stays: MAAS commissions with it")
}

// TestConfigureAirgapWaitsForRunningImport: an import that was running when the boot
// source changed read the old source; MAAS starts no second import while it runs. The
// refresh waits for it, then imports again.
func TestConfigureAirgapWaitsForRunningImport(t *testing.T) {
	fake, c, _ := newAirgapFake(t)
	fake.SetImportPolls(2)
	fake.StartImport()
	res, err := c.ConfigureAirgap(context.Background(), airgapConfig())
	require.NoError(t, err)
	assert.Equal(t, 3, fake.Imports(), "the running one, the refresh, the import")
	assert.Equal(t, 2, res.Imports)
}

// TestConfigureAirgapImageUnavailable: what the mirror does not carry is refused by MAAS
// even after the refresh: ErrImageUnavailable, nothing imported.
func TestConfigureAirgapImageUnavailable(t *testing.T) {
	for name, sel := range map[string]Selection{
		"release": {Release: "focal", Arches: []string{"amd64"}},
		"arch":    {Release: "noble", Arches: []string{"arm64"}},
		"label":   {Release: "noble", Arches: []string{"amd64"}, Labels: []string{"candidate"}},
	} {
		t.Run(name, func(t *testing.T) {
			fake, c, _ := newAirgapFake(t)
			cfg := airgapConfig()
			cfg.Selections = []Selection{sel}
			_, err := c.ConfigureAirgap(context.Background(), cfg)
			require.ErrorIs(t, err, ErrImageUnavailable)
			require.ErrorIs(t, err, ErrBadRequest)
			assert.Contains(t, err.Error(), sel.Release)
			assert.Equal(t, 1, fake.Imports(), "the refresh only")
		})
	}
}

// TestConfigureAirgapCreatesSource: with no boot source at all one is created (any
// source but 1 is cached when saved: no refresh needed); with a keyring file name the
// name is sent.
func TestConfigureAirgapCreatesSource(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newAirgapFake(t)
	require.NoError(t, c.DeleteBootSource(ctx, 1))
	cfg := airgapConfig()
	cfg.ImageKeyring, cfg.ImageKeyringFilename = nil, "/var/snap/maas/common/mirror.gpg"
	cfg.Archive, cfg.Ports, cfg.Config = nil, nil, nil
	cfg.SkipImport = true
	res, err := c.ConfigureAirgap(ctx, cfg)
	require.NoError(t, err)
	srcs := fake.BootSources()
	require.Len(t, srcs, 1)
	assert.Equal(t, "/var/snap/maas/common/mirror.gpg", srcs[0].KeyringFilename)
	assert.Len(t, fake.Selections(srcs[0].ID), 2)
	assert.Empty(t, res.Repositories)
	assert.Equal(t, 0, fake.Imports())
	assert.Equal(t, "http://archive.ubuntu.com/ubuntu", fake.Repos()[0].URL, "archives left alone")
}

// TestConfigureAirgapKeyringFileAfterData: MAAS cannot clear a stored keyring_data, so a
// source that is to use a keyring file is made anew.
func TestConfigureAirgapKeyringFileAfterData(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newAirgapFake(t)
	cfg := airgapConfig()
	cfg.SkipImport = true
	_, err := c.ConfigureAirgap(ctx, cfg)
	require.ErrorIs(t, err, ErrImageUnavailable, "no import: MAAS's cache of source 1 is not refreshed")
	require.NotEmpty(t, fake.BootSources()[0].KeyringData)

	cfg.ImageKeyring, cfg.ImageKeyringFilename = nil, "/etc/maas/mirror.gpg"
	_, err = c.ConfigureAirgap(ctx, cfg)
	require.NoError(t, err)
	srcs := fake.BootSources()
	require.Len(t, srcs, 1)
	assert.NotEqual(t, 1, srcs[0].ID)
	assert.Equal(t, "/etc/maas/mirror.gpg", srcs[0].KeyringFilename)
	assert.Empty(t, srcs[0].KeyringData)
}

func TestConfigureAirgapValidation(t *testing.T) {
	_, c, _ := newAirgapFake(t)
	ctx := context.Background()
	for _, mod := range []func(*AirgapConfig){
		func(a *AirgapConfig) { a.ImageURL = "" },
		func(a *AirgapConfig) { a.ImageKeyring = nil },
		func(a *AirgapConfig) { a.Selections = nil },
		func(a *AirgapConfig) { a.Selections = []Selection{{OS: "centos", Release: "centos70"}} },
		func(a *AirgapConfig) { a.Selections = []Selection{{Arches: []string{"amd64"}}} },
	} {
		cfg := airgapConfig()
		mod(&cfg)
		_, err := c.ConfigureAirgap(ctx, cfg)
		assert.Error(t, err)
	}
	cfg := airgapConfig()
	cfg.Config = map[string]string{"no_such_setting": "x"}
	_, err := c.ConfigureAirgap(ctx, cfg)
	assert.ErrorIs(t, err, ErrBadRequest)

	cfg = airgapConfig()
	cfg.Archive = &AptArchive{URL: "http://mirror.internal/ubuntu", Suites: map[string][]string{"jammy": {"main"}}}
	_, err = c.ConfigureAirgap(ctx, cfg)
	assert.ErrorIs(t, err, ErrArchiveIncomplete, "noble is selected but not mirrored")
	assert.Contains(t, err.Error(), "noble")
}

// TestConfigureAirgapWaitCancelled: the wait for the import ends with ctx.
func TestConfigureAirgapWaitCancelled(t *testing.T) {
	fake, c, rec := newAirgapFake(t)
	fake.SetImportPolls(1000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec.hook = func(n int) {
		if n == 3 {
			cancel()
		}
	}
	res, err := c.ConfigureAirgap(ctx, airgapConfig())
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 3, res.Polls, "is one running, then two busy answers")
}

// TestConfigureAirgapRetriesDuringImport: a 503 from is_importing is retried.
func TestConfigureAirgapRetriesDuringImport(t *testing.T) {
	fake, c, _ := newAirgapFake(t)
	fake.SetImportPolls(1)
	fake.Fail(maastest.Failure{Path: "boot-resources/", Op: "is_importing", Status: 503, RetryAfter: "1", Times: 2})
	res, err := c.ConfigureAirgap(context.Background(), airgapConfig())
	require.NoError(t, err)
	assert.Equal(t, 1+2+1+2, res.Polls)
}

func TestMissingImages(t *testing.T) {
	res := []BootResource{{Name: "ubuntu/jammy", Architecture: "amd64/ga-22.04"}, {Name: "centos/centos70", Architecture: "amd64/generic"}}
	assert.Empty(t, missingImages([]Selection{{Release: "jammy", Arches: []string{"amd64"}}, {OS: "centos", Release: "centos70", Arches: []string{"*"}}}, res))
	assert.Equal(t, []string{"ubuntu/jammy/arm64", "ubuntu/noble"}, missingImages([]Selection{{Release: "jammy", Arches: []string{"amd64", "arm64"}}, {Release: "noble"}}, res))
}

func TestListDiffers(t *testing.T) {
	assert.False(t, listDiffers([]string{"*"}, []string{"*"}))
	assert.False(t, listDiffers([]string{"arm64", "amd64", "amd64"}, []string{"amd64", "arm64"}))
	assert.True(t, listDiffers([]string{"amd64"}, []string{"*"}))
	assert.True(t, listDiffers([]string{"*"}, []string{}), "MAAS's empty list imports nothing")
}

// TestAptArchiveDisabled: the pockets and components MAAS must not write for a mirror.
func TestAptArchiveDisabled(t *testing.T) {
	full := map[string][]string{}
	for _, s := range []string{"noble", "noble-updates", "noble-security", "noble-backports"} {
		full[s] = []string{"main", "restricted", "universe", "multiverse"}
	}
	for _, tc := range []struct {
		name            string
		suites          map[string][]string
		releases        []string
		pockets, comps  []string
		wantErrContains string
	}{
		{name: "everything", suites: full, pockets: []string{}, comps: []string{}},
		{name: "release only", suites: map[string][]string{"noble": {"main"}},
			pockets: []string{"updates", "security", "backports"}, comps: []string{"restricted", "universe", "multiverse"}},
		{name: "a pocket without universe", suites: map[string][]string{"noble": {"main", "universe"}, "noble-security": {"main"}},
			pockets: []string{"updates", "backports"}, comps: []string{"restricted", "universe", "multiverse"}},
		{name: "a pocket one release lacks", suites: map[string][]string{"noble": {"main"}, "noble-updates": {"main"}, "jammy": {"main"}},
			pockets: []string{"updates", "security", "backports"}, comps: []string{"restricted", "universe", "multiverse"}},
		{name: "only the deployed release counts", suites: map[string][]string{"noble": {"main"}, "noble-updates": {"main"}, "jammy": {"main"}},
			releases: []string{"noble"}, pockets: []string{"security", "backports"}, comps: []string{"restricted", "universe", "multiverse"}},
		{name: "proposed is no release", suites: map[string][]string{"noble-proposed": {"main"}}, wantErrContains: "no release suite"},
		{name: "deployed release missing", suites: map[string][]string{"jammy": {"main"}}, releases: []string{"noble"}, wantErrContains: "no suite noble"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, c, err := AptArchive{URL: "http://m/ubuntu", Suites: tc.suites}.Disabled(tc.releases...)
			if tc.wantErrContains != "" {
				require.ErrorIs(t, err, ErrArchiveIncomplete)
				assert.Contains(t, err.Error(), tc.wantErrContains)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.pockets, p)
			assert.Equal(t, tc.comps, c)
		})
	}
}
