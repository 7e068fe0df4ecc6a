package maasclient

import (
	"context"
	"encoding/base64"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/maasclient/maastest"
)

// lastRequest is the last request the fake saw for method and path.
func lastRequest(t *testing.T, fake *maastest.Server, method, path string) maastest.Request {
	t.Helper()
	reqs := fake.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == method && reqs[i].Path == path {
			return reqs[i]
		}
	}
	t.Fatalf("no %s %s", method, path)
	return maastest.Request{}
}

func TestBootSourcesAndSelections(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, Options{})
	v, err := c.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, "3.5.4", v.Version)
	assert.Contains(t, v.Capabilities, "authenticate-api")

	keyring := []byte{0x99, 0x01, 0x0d, 0x04, 0x00, 0xff, '\n', 0}
	fake.SetImages("http://mirror.internal/maas/images/ephemeral-v3/stable/", maastest.UbuntuImages("noble", "amd64", "arm64")...)
	src, err := c.CreateBootSource(ctx, BootSourceRequest{URL: "http://mirror.internal/maas/images/ephemeral-v3/stable/", KeyringData: keyring})
	require.NoError(t, err)
	assert.Equal(t, base64.StdEncoding.EncodeToString(keyring), src.KeyringData)
	got, err := src.Keyring()
	require.NoError(t, err)
	assert.Equal(t, keyring, got)
	r := lastRequest(t, fake, "POST", "boot-sources/")
	assert.Equal(t, keyring, r.Files["keyring_data"], "keyring_data arrives as a file part")
	assert.NotContains(t, r.Form, "keyring_data")
	assert.Equal(t, []string{"http://mirror.internal/maas/images/ephemeral-v3/stable/"}, r.Form["url"])

	_, err = c.UpdateBootSource(ctx, src.ID, BootSourceRequest{KeyringFilename: "/etc/maas/mirror.gpg"})
	assert.ErrorIs(t, err, ErrBadRequest, "MAAS keeps the keyring_data: both keyrings")

	list, err := c.BootSources(ctx)
	require.NoError(t, err)
	assert.Len(t, list, 2)
	one, err := c.BootSource(ctx, src.ID)
	require.NoError(t, err)
	assert.Equal(t, src.URL, one.URL)

	sel, err := c.CreateBootSourceSelection(ctx, src.ID, Selection{OS: "ubuntu", Release: "noble", Arches: []string{"amd64", "arm64"}, Labels: []string{"stable"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"amd64", "arm64"}, sel.Arches)
	assert.Equal(t, []string{"*"}, sel.Subarches, "a list not given is all, not MAAS's empty list")
	assert.Equal(t, []string{"*"}, lastRequest(t, fake, "POST", "boot-sources/"+itoa(src.ID)+"/selections/").Form["subarches"])
	r = lastRequest(t, fake, "POST", "boot-sources/"+itoa(src.ID)+"/selections/")
	assert.Equal(t, []string{"amd64", "arm64"}, r.Form["arches"], "lists as repeated keys")

	sel, err = c.UpdateBootSourceSelection(ctx, src.ID, sel.ID, Selection{Arches: []string{"amd64"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"amd64"}, sel.Arches)
	assert.Equal(t, "noble", sel.Release)
	sels, err := c.BootSourceSelections(ctx, src.ID)
	require.NoError(t, err)
	assert.Len(t, sels, 1)

	_, err = c.CreateBootSourceSelection(ctx, src.ID, Selection{OS: "ubuntu", Release: "noble"})
	assert.ErrorIs(t, err, ErrBadRequest, "duplicate selection")
	_, err = c.CreateBootSourceSelection(ctx, src.ID, Selection{OS: "ubuntu", Release: "jammy"})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr, "not in the boot source cache")
	assert.Contains(t, apiErr.Fields["os"][0], "has no available images for download")

	require.NoError(t, c.DeleteBootSourceSelection(ctx, src.ID, sel.ID))
	require.NoError(t, c.DeleteBootSource(ctx, src.ID))
	_, err = c.BootSource(ctx, src.ID)
	assert.ErrorIs(t, err, ErrNotFound)
}

// TestUpdateBootSourceKeyringData: the stock boot source has a keyring file; giving it
// keyring data clears the file name, or MAAS would refuse a source with both.
func TestUpdateBootSourceKeyringData(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, Options{})
	require.Equal(t, maastest.StockKeyringFilename, fake.BootSources()[0].KeyringFilename)
	src, err := c.UpdateBootSource(ctx, 1, BootSourceRequest{URL: "http://mirror.internal/maas/", KeyringData: []byte("KEY")})
	require.NoError(t, err)
	assert.Equal(t, "", src.KeyringFilename)
	assert.Equal(t, "S0VZ", src.KeyringData)
	src, err = c.UpdateBootSource(ctx, 1, BootSourceRequest{URL: "http://mirror2.internal/maas/"})
	require.NoError(t, err)
	assert.Equal(t, "S0VZ", src.KeyringData, "a partial update keeps the keyring")
}

func TestBootResourcesImport(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, Options{})
	fake.SetImages(maastest.StockImageURL, maastest.UbuntuImages("jammy", "amd64")...)
	fake.SetImportPolls(1)
	res, err := c.BootResources(ctx, "")
	require.NoError(t, err)
	assert.Empty(t, res)
	require.NoError(t, c.ImportBootResources(ctx))
	assert.Equal(t, "import", lastRequest(t, fake, "POST", "boot-resources/").Op)
	busy, err := c.IsImporting(ctx)
	require.NoError(t, err)
	assert.True(t, busy)
	busy, err = c.IsImporting(ctx)
	require.NoError(t, err)
	assert.False(t, busy)
	res, err = c.BootResources(ctx, "synced")
	require.NoError(t, err)
	require.Len(t, res, 2)
	assert.Equal(t, "ubuntu/jammy", res[0].Name)
	assert.Equal(t, "amd64/ga-22.04", res[0].Architecture)
	assert.Equal(t, "synced", lastRequest(t, fake, "GET", "boot-resources/").Query.Get("type"))
	_, err = c.BootResources(ctx, "generated")
	assert.ErrorIs(t, err, ErrBadRequest, "not a boot resource type")
	one, err := c.BootResource(ctx, res[0].ID)
	require.NoError(t, err)
	require.Len(t, one.Sets, 1)
	for _, set := range one.Sets {
		assert.True(t, set.Complete)
		assert.Equal(t, 100.0, set.Progress)
		assert.Equal(t, int64(1234567), set.Files["squashfs"].Size)
	}
	require.NoError(t, c.StopImport(ctx))
	assert.Equal(t, "stop_import", lastRequest(t, fake, "POST", "boot-resources/").Op)
}

func TestPackageRepositoriesAndConfig(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, Options{})
	repos, err := c.PackageRepositories(ctx)
	require.NoError(t, err)
	require.Len(t, repos, 2)
	assert.Equal(t, MainArchive, repos[0].Name)
	key := "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ...\n-----END PGP PUBLIC KEY BLOCK-----\n"
	off := false
	r, err := c.UpdatePackageRepository(ctx, repos[0].ID, PackageRepositoryUpdate{
		URL: "http://mirror.internal/ubuntu", Key: &key, DisabledComponents: []string{"multiverse", "restricted"},
		DisabledPockets: []string{"backports", "security"}, DisableSources: &off,
	})
	require.NoError(t, err)
	assert.Equal(t, "http://mirror.internal/ubuntu", r.URL)
	assert.Equal(t, key, r.Key)
	assert.Equal(t, []string{"backports", "security"}, r.DisabledPockets)
	assert.Equal(t, []string{"multiverse", "restricted"}, r.DisabledComponents)
	assert.False(t, r.DisableSources)
	req := lastRequest(t, fake, "PUT", "package-repositories/"+itoa(repos[0].ID)+"/")
	assert.Equal(t, []string{"backports", "security"}, req.Form["disabled_pockets"])

	// An empty list clears; nil leaves.
	r, err = c.UpdatePackageRepository(ctx, repos[0].ID, PackageRepositoryUpdate{DisabledComponents: []string{}})
	require.NoError(t, err)
	assert.Empty(t, r.DisabledComponents)
	assert.Equal(t, []string{"backports", "security"}, r.DisabledPockets)

	_, err = c.UpdatePackageRepository(ctx, repos[0].ID, PackageRepositoryUpdate{DisabledPockets: []string{"proposed"}})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, apiErr.Fields["disabled_pockets"][0], "'proposed' is not a valid Ubuntu archive pocket")
	_, err = c.UpdatePackageRepository(ctx, repos[0].ID, PackageRepositoryUpdate{Components: []string{"main"}})
	require.ErrorAs(t, err, &apiErr, "components are for custom repositories")
	assert.Contains(t, apiErr.Fields["components"][0], "Please update 'disabled_components' instead")

	extra, err := c.CreatePackageRepository(ctx, PackageRepositoryUpdate{Name: "k8s", URL: "http://mirror.internal/k8s", Components: []string{"main"}, Distributions: []string{"stable"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"stable"}, extra.Distributions)
	one, err := c.PackageRepository(ctx, extra.ID)
	require.NoError(t, err)
	assert.Equal(t, "k8s", one.Name)
	require.NoError(t, c.DeletePackageRepository(ctx, extra.ID))
	assert.ErrorIs(t, c.DeletePackageRepository(ctx, repos[1].ID), ErrBadRequest)

	// Configuration.
	dns, err := c.GetConfigString(ctx, ConfigUpstreamDNS)
	require.NoError(t, err)
	assert.Equal(t, "", dns)
	require.NoError(t, c.SetConfig(ctx, ConfigUpstreamDNS, "10.0.0.53"))
	require.NoError(t, c.SetConfig(ctx, ConfigEnableHTTPProxy, "false"))
	set := lastRequest(t, fake, "POST", "maas/")
	assert.Equal(t, "set_config", set.Op)
	assert.Equal(t, []string{"enable_http_proxy"}, set.Form["name"])
	dns, err = c.GetConfigString(ctx, ConfigUpstreamDNS)
	require.NoError(t, err)
	assert.Equal(t, "10.0.0.53", dns)
	get := lastRequest(t, fake, "GET", "maas/")
	assert.Equal(t, "get_config", get.Op)
	assert.Equal(t, "upstream_dns", get.Query.Get("name"))
	proxy, err := c.GetConfigBool(ctx, ConfigEnableHTTPProxy)
	require.NoError(t, err)
	assert.False(t, proxy)
	assert.Equal(t, false, fake.Config("enable_http_proxy"))
	raw, err := c.GetConfig(ctx, ConfigBootImagesAutoImport)
	require.NoError(t, err)
	assert.JSONEq(t, "true", string(raw))
	_, err = c.GetConfigBool(ctx, ConfigUpstreamDNS)
	assert.Error(t, err)
	assert.ErrorIs(t, c.SetConfig(ctx, ConfigEnableHTTPProxy, "maybe"), ErrBadRequest)
}

func TestUsersKeysMachinesZones(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, Options{})
	me, err := c.WhoAmI(ctx)
	require.NoError(t, err)
	assert.Equal(t, "admin", me.Username)
	assert.True(t, me.IsSuperuser)
	u, err := c.CreateUser(ctx, UserRequest{Username: "ops", Email: "ops@example.invalid", Password: "pw", IsSuperuser: false})
	require.NoError(t, err)
	assert.False(t, u.IsSuperuser)
	assert.Equal(t, []string{"0"}, lastRequest(t, fake, "POST", "users/").Form["is_superuser"])
	_, err = c.CreateUser(ctx, UserRequest{Username: "ops", Email: "x@y", Password: "pw"})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, []string{"A user with that username already exists."}, apiErr.Fields["username"])
	users, err := c.Users(ctx)
	require.NoError(t, err)
	assert.Len(t, users, 2)
	got, err := c.User(ctx, "ops")
	require.NoError(t, err)
	assert.Equal(t, "ops@example.invalid", got.Email)
	require.NoError(t, c.DeleteUser(ctx, "ops"))
	_, err = c.User(ctx, "ops")
	assert.ErrorIs(t, err, ErrNotFound)

	k, err := c.AddSSHKey(ctx, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0e2c ops@site")
	require.NoError(t, err)
	keys, err := c.SSHKeys(ctx)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.Equal(t, "", keys[0].Keysource, "null keysource")
	_, err = c.AddSSHKey(ctx, "garbage")
	assert.ErrorIs(t, err, ErrBadRequest)
	require.NoError(t, c.DeleteSSHKey(ctx, k.ID))

	ms, err := c.Machines(ctx, MachineFilter{})
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, "default", ms[0].Zone.Name)
	assert.Equal(t, int64(16384), ms[0].Memory)
	ms, err = c.Machines(ctx, MachineFilter{Hostnames: []string{"node2"}})
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, "New", ms[0].StatusName)
	id := ms[0].SystemID
	m, err := c.Commission(ctx, id, CommissionOptions{EnableSSH: true, SkipStorage: true,
		CommissioningScripts: []string{"update_firmware"}, TestingScripts: []string{"smartctl-validate", "memtester"}})
	require.NoError(t, err)
	assert.Equal(t, "Commissioning", m.StatusName)
	cr := lastRequest(t, fake, "POST", "machines/"+id+"/")
	assert.Equal(t, "commission", cr.Op)
	commissioning, testing := fake.Scripts(id)
	assert.Equal(t, []string{"update_firmware"}, commissioning)
	assert.Equal(t, []string{"smartctl-validate", "memtester"}, testing, "MAAS runs both")

	ready := "4y3h7n"
	m, err = c.Deploy(ctx, ready, DeployOptions{DistroSeries: "ubuntu/noble", UserData: []byte("#cloud-config\n")})
	require.NoError(t, err)
	assert.Equal(t, "Deploying", m.StatusName)
	assert.Equal(t, "ubuntu", m.OSystem)
	assert.Equal(t, "noble", m.DistroSeries)
	assert.Equal(t, "admin", m.Owner)
	dr := lastRequest(t, fake, "POST", "machines/"+ready+"/")
	assert.Equal(t, "deploy", dr.Op)
	assert.Equal(t, []string{"I2Nsb3VkLWNvbmZpZwo="}, dr.Form["user_data"])
	st, err := c.QueryPowerState(ctx, ready)
	require.NoError(t, err)
	assert.Equal(t, "on", st)
	assert.Equal(t, "GET", lastRequest(t, fake, "GET", "machines/"+ready+"/").Method)
	m, err = c.Release(ctx, ready, ReleaseOptions{Comment: "done", QuickErase: true, Erase: true})
	require.NoError(t, err)
	assert.Equal(t, "Ready", m.StatusName)
	assert.Equal(t, "", m.Owner)
	m, err = c.PowerOn(ctx, ready)
	require.NoError(t, err)
	assert.Equal(t, "on", m.PowerState)
	m, err = c.PowerOff(ctx, ready)
	require.NoError(t, err)
	assert.Equal(t, "off", m.PowerState)
	_, err = c.Machine(ctx, "nope")
	assert.ErrorIs(t, err, ErrNotFound)

	z, err := c.CreateZone(ctx, "rack-2", "second rack")
	require.NoError(t, err)
	assert.Equal(t, "rack-2", z.Name)
	zones, err := c.Zones(ctx)
	require.NoError(t, err)
	assert.Len(t, zones, 2)
	z, err = c.Zone(ctx, "rack-2")
	require.NoError(t, err)
	assert.Equal(t, "second rack", z.Description)
	require.NoError(t, c.DeleteZone(ctx, "rack-2"))
	assert.ErrorIs(t, c.DeleteZone(ctx, "rack-2"), ErrNotFound)
}

func itoa(i int) string { return strconv.Itoa(i) }
