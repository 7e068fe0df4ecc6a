package maasclient

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/maastest"
)

const testArchiveKey = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEaAirgap\n-----END PGP PUBLIC KEY BLOCK-----\n"

func airgapConfig() AirgapConfig {
	return AirgapConfig{
		ImageURL:     "http://mirror.internal/maas/images/ephemeral-v3/stable/",
		ImageKeyring: []byte("\x99\x01\x0dbinary keyring"),
		Selections: []Selection{
			{OS: "ubuntu", Release: "jammy", Arches: []string{"amd64", "arm64"}},
			{Release: "noble", Arches: []string{"amd64"}, Labels: []string{"stable"}},
		},
		ArchiveURL:      "http://mirror.internal/ubuntu",
		PortsURL:        "http://mirror.internal/ubuntu-ports",
		ArchiveKey:      testArchiveKey,
		DisabledPockets: []string{"backports"},
		Config: map[string]string{
			ConfigEnableHTTPProxy: "false", ConfigUpstreamDNS: "10.0.0.53", ConfigBootImagesAutoImport: "false",
		},
		PollInterval: 5 * time.Second,
	}
}

// TestConfigureAirgapEndToEnd: against the fake MAAS (with a second boot source to
// remove), the boot source points at the mirror with the keyring uploaded as a file,
// selections are exactly those asked, both archives point at the apt mirror with its
// key, the configuration is set, the import runs and is waited for, and every image is
// there. A second run changes nothing but starts an import again.
func TestConfigureAirgapEndToEnd(t *testing.T) {
	ctx := context.Background()
	fake, c, rec := newFake(t, Options{})
	fake.AddBootSource("http://old-mirror.internal/stable/")
	fake.SetImportPolls(3)
	cfg := airgapConfig()

	res, err := c.ConfigureAirgap(ctx, cfg)
	require.NoError(t, err)

	srcs := fake.BootSources()
	require.Len(t, srcs, 1, "exactly one boot source left")
	assert.Equal(t, cfg.ImageURL, srcs[0].URL)
	assert.Equal(t, base64.StdEncoding.EncodeToString(cfg.ImageKeyring), srcs[0].KeyringData)
	assert.Equal(t, "", srcs[0].KeyringFilename)
	assert.Equal(t, srcs[0].ID, res.BootSource.ID)
	put := lastRequest(t, fake, "PUT", "boot-sources/"+itoa(srcs[0].ID)+"/")
	assert.Equal(t, cfg.ImageKeyring, put.Files["keyring_data"])

	sels := fake.Selections(srcs[0].ID)
	require.Len(t, sels, 2)
	byRelease := map[string]maastest.Selection{}
	for _, s := range sels {
		byRelease[s.Release] = s
	}
	assert.Equal(t, []string{"amd64", "arm64"}, byRelease["jammy"].Arches)
	assert.Equal(t, "ubuntu", byRelease["noble"].OS)
	assert.Equal(t, []string{"stable"}, byRelease["noble"].Labels)
	assert.Len(t, res.Selections, 2)

	for _, r := range fake.Repos() {
		switch r.Name {
		case MainArchive:
			assert.Equal(t, cfg.ArchiveURL, r.URL)
		case PortsArchive:
			assert.Equal(t, cfg.PortsURL, r.URL)
		}
		assert.Equal(t, testArchiveKey, r.Key)
		assert.Equal(t, []string{"backports"}, r.DisabledPockets)
		assert.True(t, r.Enabled)
	}
	assert.Len(t, res.Repositories, 2)

	assert.Equal(t, false, fake.Config("enable_http_proxy"))
	assert.Equal(t, "10.0.0.53", fake.Config("upstream_dns"))
	assert.Equal(t, false, fake.Config("boot_images_auto_import"))

	assert.Equal(t, 1, fake.Imports())
	assert.Equal(t, 4, res.Polls, "three busy answers, then idle")
	assert.Equal(t, []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}, rec.waits)
	names := map[string]bool{}
	for _, r := range res.Resources {
		names[r.Name+" "+r.Architecture] = true
	}
	assert.Equal(t, map[string]bool{"ubuntu/jammy amd64/ga-22.04": true, "ubuntu/jammy arm64/ga-22.04": true, "ubuntu/noble amd64/ga-22.04": true}, names)

	// Run again: no selection is created, changed or deleted.
	before := len(fake.Requests())
	fake.SetImportPolls(0)
	_, err = c.ConfigureAirgap(ctx, cfg)
	require.NoError(t, err)
	for _, r := range fake.Requests()[before:] {
		if r.Method != "GET" {
			assert.NotContains(t, r.Path, "/selections/", "%s %s on the second run", r.Method, r.Path)
		}
	}
	assert.Equal(t, 2, fake.Imports())
}

// TestConfigureAirgapCreatesSource: with no boot source at all one is created; with a
// keyring file name instead of data, the name is sent.
func TestConfigureAirgapCreatesSource(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, Options{})
	require.NoError(t, c.DeleteBootSource(ctx, fake.BootSources()[0].ID))
	cfg := airgapConfig()
	cfg.ImageKeyring, cfg.ImageKeyringFilename = nil, "/var/snap/maas/common/mirror.gpg"
	cfg.ArchiveURL, cfg.PortsURL, cfg.Config = "", "", nil
	cfg.SkipImport = true
	res, err := c.ConfigureAirgap(ctx, cfg)
	require.NoError(t, err)
	srcs := fake.BootSources()
	require.Len(t, srcs, 1)
	assert.Equal(t, "/var/snap/maas/common/mirror.gpg", srcs[0].KeyringFilename)
	assert.Empty(t, res.Repositories)
	assert.Equal(t, 0, fake.Imports())
	assert.Equal(t, "http://archive.ubuntu.com/ubuntu", fake.Repos()[0].URL, "archives left alone")
}

func TestConfigureAirgapValidation(t *testing.T) {
	_, c, _ := newFake(t, Options{})
	ctx := context.Background()
	for _, mod := range []func(*AirgapConfig){
		func(a *AirgapConfig) { a.ImageURL = "" },
		func(a *AirgapConfig) { a.ImageKeyring = nil },
		func(a *AirgapConfig) { a.Selections = nil },
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
}

// TestConfigureAirgapWaitCancelled: the wait for the import ends with ctx.
func TestConfigureAirgapWaitCancelled(t *testing.T) {
	fake, c, rec := newFake(t, Options{})
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
	assert.Equal(t, 2, res.Polls)
}

// TestConfigureAirgapRetriesDuringImport: a 503 from is_importing is retried.
func TestConfigureAirgapRetriesDuringImport(t *testing.T) {
	fake, c, _ := newFake(t, Options{})
	fake.SetImportPolls(1)
	fake.Fail(maastest.Failure{Path: "boot-resources/", Op: "is_importing", Status: 503, RetryAfter: "1", Times: 2})
	res, err := c.ConfigureAirgap(context.Background(), airgapConfig())
	require.NoError(t, err)
	assert.Equal(t, 2, res.Polls)
}

func TestMissingImages(t *testing.T) {
	res := []BootResource{{Name: "ubuntu/jammy", Architecture: "amd64/ga-22.04"}, {Name: "centos/centos70", Architecture: "amd64/generic"}}
	assert.Empty(t, missingImages([]Selection{{Release: "jammy", Arches: []string{"amd64"}}, {OS: "centos", Release: "centos70", Arches: []string{"*"}}}, res))
	assert.Equal(t, []string{"ubuntu/jammy/arm64", "ubuntu/noble"}, missingImages([]Selection{{Release: "jammy", Arches: []string{"amd64", "arm64"}}, {Release: "noble"}}, res))
}

func TestListDiffers(t *testing.T) {
	assert.False(t, listDiffers(nil, []string{"*"}))
	assert.False(t, listDiffers([]string{"arm64", "amd64", "amd64"}, []string{"amd64", "arm64"}))
	assert.True(t, listDiffers([]string{"amd64"}, []string{"*"}))
}

// TestConfigureAirgapReportsMissingImages: the mirror lacks arm64, so the import ends
// without it: ErrImportIncomplete names what is missing.
func TestConfigureAirgapReportsMissingImages(t *testing.T) {
	fake, c, _ := newFake(t, Options{})
	fake.SetMirrorArches("amd64")
	res, err := c.ConfigureAirgap(context.Background(), airgapConfig())
	require.ErrorIs(t, err, ErrImportIncomplete)
	assert.Contains(t, err.Error(), "ubuntu/jammy/arm64")
	assert.NotContains(t, err.Error(), "amd64")
	assert.Len(t, res.Resources, 2)
}
