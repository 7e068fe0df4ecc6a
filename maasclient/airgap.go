package maasclient

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// DefaultPollInterval is how often ConfigureAirgap asks whether the import still runs.
const DefaultPollInterval = 10 * time.Second

// AirgapConfig describes a MAAS that takes everything from mirrors inside the gap.
type AirgapConfig struct {
	// ImageURL is the simplestreams index directory of the image mirror, e.g.
	// http://mirror.internal/maas/images/ephemeral-v3/stable/. Required.
	ImageURL string
	// ImageKeyring is the binary OpenPGP keyring that signs the mirror's index (the
	// operator's key when the mirror is re-signed), uploaded as keyring_data.
	ImageKeyring []byte
	// ImageKeyringFilename names a keyring already on the region controllers, used
	// when ImageKeyring is empty. One of the two is required.
	ImageKeyringFilename string
	// Selections are the images to import; at least one Ubuntu release (MAAS
	// commissions with Ubuntu). Empty lists are "*". Selections of the boot source that
	// are not listed are removed (the commissioning release's after the import).
	Selections []Selection

	// Archive points main_archive (amd64, i386) at an apt mirror, Ports points
	// ports_archive (arm64, armhf, ppc64el, s390x) at one; nil leaves the repository.
	// The pockets and components the mirror lacks are disabled (see
	// AptArchive.Disabled), so that apt update works on deployed machines.
	Archive, Ports *AptArchive
	// ArchiveKey is the ASCII-armored key that signs the apt mirrors, set on the
	// repositories changed above; empty leaves their key.
	ArchiveKey string

	// Config holds configuration names and values to set, in name order: first, but
	// after the import those that name an OS or release (commissioning_distro_series,
	// default_osystem, default_distro_series, default_min_hwe_kernel), which MAAS
	// accepts only with images imported. Unless given here, commissioning_distro_series
	// and default_distro_series are moved to a selected Ubuntu release when theirs is
	// not selected.
	Config map[string]string

	// SkipImport starts no import: configuration only. Selections that MAAS cannot
	// validate before an import refreshed its cache are then ErrImageUnavailable, and
	// the release settings (and the commissioning release's selection, when it is not
	// asked for) wait for a run with the import.
	SkipImport bool
	// PollInterval between two is_importing checks; default DefaultPollInterval. The
	// first check comes one interval after an import starts.
	PollInterval time.Duration
}

// AirgapResult is the state ConfigureAirgap left behind.
type AirgapResult struct {
	BootSource   BootSource
	Selections   []BootSourceSelection
	Repositories []PackageRepository
	// Resources are the synced boot resources after the import.
	Resources []BootResource
	// Imports is how many imports were started: one, or two when MAAS's boot source
	// cache had to be refreshed before it accepted the selections.
	Imports int
	// Polls is how many times is_importing was asked.
	Polls int
}

// releaseSettings are the settings MAAS validates against the images it has imported.
var releaseSettings = []string{"commissioning_osystem", "commissioning_distro_series", "default_osystem", "default_distro_series", "default_min_hwe_kernel"}

// ConfigureAirgap sets MAAS up for an air gap in one call:
//
//  1. cfg.Config, but for the release settings;
//  2. the boot source: the one already there (or one created), pointed at the image
//     mirror with its keyring; any other is deleted;
//  3. the selections of cfg, created or updated. MAAS validates them against its boot
//     source cache, which MAAS 3.4-3.7 do not refresh when boot source 1 changes: when
//     MAAS answers that an image is not offered, an import is run to refresh the cache
//     (after any import already running) and the selection is tried again;
//  4. main_archive/ports_archive pointed at the apt mirrors with their key, the pockets
//     and components the mirrors lack disabled;
//  5. the import, waited for, then a check that every selected release and
//     architecture is there (ErrImportIncomplete if not);
//  6. the release settings: those of cfg.Config, and commissioning_distro_series and
//     default_distro_series moved to a selected Ubuntu release when theirs is not;
//  7. the selections not asked for removed (MAAS up to 3.6 refuses to remove that of
//     the commissioning release, hence after 6; one set explicitly to a release not
//     selected keeps its selection).
//
// It can be run again: a second run changes only what differs. ctx bounds the waits.
func (c *Client) ConfigureAirgap(ctx context.Context, cfg AirgapConfig) (*AirgapResult, error) {
	want, err := cfg.check()
	if err != nil {
		return nil, err
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	res := &AirgapResult{}
	if err := c.setConfig(ctx, cfg.Config, func(name string) bool { return !slices.Contains(releaseSettings, name) }); err != nil {
		return res, err
	}
	src, err := c.airgapBootSource(ctx, cfg)
	if err != nil {
		return res, err
	}
	res.BootSource = src
	have, err := c.syncSelections(ctx, cfg, src.ID, want, res)
	if err != nil {
		return res, err
	}
	// Selections not wanted go now, but for the commissioning release's (step 7).
	commissioning, err := c.commissioningRelease(ctx)
	if err != nil {
		return res, err
	}
	if have, err = c.deleteSelections(ctx, src.ID, have, want, commissioning); err != nil {
		return res, err
	}
	if res.Repositories, err = c.airgapRepositories(ctx, cfg, want); err != nil {
		return res, err
	}
	if cfg.SkipImport {
		res.Selections = have
		return res, nil
	}

	if err := c.runImport(ctx, cfg.PollInterval, res); err != nil {
		return res, err
	}
	if res.Resources, err = c.BootResources(ctx, "synced"); err != nil {
		return res, err
	}
	if missing := missingImages(want, res.Resources); len(missing) > 0 {
		return res, fmt.Errorf("%w: missing %s", ErrImportIncomplete, strings.Join(missing, ", "))
	}
	if err := c.setConfig(ctx, cfg.Config, func(name string) bool { return slices.Contains(releaseSettings, name) }); err != nil {
		return res, err
	}
	if err := c.selectReleases(ctx, cfg.Config, want); err != nil {
		return res, err
	}
	// A commissioning release set explicitly to one not selected keeps its selection.
	if commissioning, err = c.commissioningRelease(ctx); err != nil {
		return res, err
	}
	res.Selections, err = c.deleteSelections(ctx, src.ID, have, want, commissioning)
	return res, err
}

// check validates cfg and returns its selections with the defaults filled in, each
// os/release once.
func (cfg AirgapConfig) check() ([]Selection, error) {
	if cfg.ImageURL == "" {
		return nil, errors.New("maas: airgap: ImageURL is required")
	}
	if len(cfg.ImageKeyring) == 0 && cfg.ImageKeyringFilename == "" {
		return nil, errors.New("maas: airgap: ImageKeyring or ImageKeyringFilename is required (images are verified)")
	}
	var want []Selection
	for _, s := range cfg.Selections {
		if s.OS == "" {
			s.OS = "ubuntu"
		}
		if s.Release == "" {
			return nil, errors.New("maas: airgap: a selection without a release")
		}
		if !slices.ContainsFunc(want, func(w Selection) bool { return w.OS == s.OS && w.Release == s.Release }) {
			want = append(want, s.withDefaults())
		}
	}
	if !slices.ContainsFunc(want, func(s Selection) bool { return s.OS == "ubuntu" }) {
		return nil, errors.New("maas: airgap: at least one Ubuntu selection is required (MAAS commissions with Ubuntu)")
	}
	return want, nil
}

// setConfig sets the names of values that pick chooses, in name order.
func (c *Client) setConfig(ctx context.Context, values map[string]string, pick func(string) bool) error {
	names := make([]string, 0, len(values))
	for k := range values {
		if pick(k) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		if err := c.SetConfig(ctx, k, values[k]); err != nil {
			return fmt.Errorf("maas: airgap: set %s: %w", k, err)
		}
	}
	return nil
}

// airgapBootSource leaves exactly one boot source, pointing at the mirror.
func (c *Client) airgapBootSource(ctx context.Context, cfg AirgapConfig) (BootSource, error) {
	sources, err := c.BootSources(ctx)
	if err != nil {
		return BootSource{}, fmt.Errorf("maas: airgap: %w", err)
	}
	req := BootSourceRequest{URL: cfg.ImageURL, KeyringData: cfg.ImageKeyring}
	if len(cfg.ImageKeyring) == 0 {
		req.KeyringFilename = cfg.ImageKeyringFilename
	}
	keep := slices.IndexFunc(sources, func(s BootSource) bool { return sameURL(s.URL, cfg.ImageURL) })
	if keep < 0 && len(sources) > 0 {
		keep = 0
	}
	// No request clears a stored keyring_data, and MAAS refuses a source with both
	// keyrings: a source that is to use a keyring file is made anew.
	if keep >= 0 && len(req.KeyringData) == 0 && sources[keep].KeyringData != "" {
		keep = -1
	}
	for i, s := range sources {
		if i != keep {
			if err := c.DeleteBootSource(ctx, s.ID); err != nil {
				return BootSource{}, fmt.Errorf("maas: airgap: delete boot source %s: %w", s.URL, err)
			}
		}
	}
	var src BootSource
	if keep < 0 {
		src, err = c.CreateBootSource(ctx, req)
	} else {
		src, err = c.UpdateBootSource(ctx, sources[keep].ID, req)
	}
	if err != nil {
		return src, fmt.Errorf("maas: airgap: boot source: %w", err)
	}
	return src, nil
}

// syncSelections creates or updates the wanted selections and returns all the
// source's selections. A selection MAAS cannot validate against its boot source cache
// is tried again once after an import refreshed the cache.
func (c *Client) syncSelections(ctx context.Context, cfg AirgapConfig, sourceID int, want []Selection, res *AirgapResult) ([]BootSourceSelection, error) {
	have, err := c.BootSourceSelections(ctx, sourceID)
	if err != nil {
		return nil, fmt.Errorf("maas: airgap: %w", err)
	}
	refreshed := false
	for _, w := range want {
		i := slices.IndexFunc(have, func(h BootSourceSelection) bool { return h.OS == w.OS && h.Release == w.Release })
		got, err := c.putSelection(ctx, sourceID, w, have, i)
		if imageUnavailable(err) && !refreshed && !cfg.SkipImport {
			refreshed = true
			c.logger.Info("MAAS does not know the images of the boot source yet; importing to refresh its cache", "selection", w.OS+"/"+w.Release)
			if err := c.runImport(ctx, cfg.PollInterval, res); err != nil {
				return have, err
			}
			got, err = c.putSelection(ctx, sourceID, w, have, i)
		}
		if imageUnavailable(err) {
			return have, fmt.Errorf("%w: selection %s/%s: %w", ErrImageUnavailable, w.OS, w.Release, err)
		}
		if err != nil {
			return have, fmt.Errorf("maas: airgap: selection %s/%s: %w", w.OS, w.Release, err)
		}
		if i < 0 {
			have = append(have, got)
		} else {
			have[i] = got
		}
	}
	return have, nil
}

// putSelection makes have[i] (i < 0: none) what w says.
func (c *Client) putSelection(ctx context.Context, sourceID int, w Selection, have []BootSourceSelection, i int) (BootSourceSelection, error) {
	switch {
	case i < 0:
		return c.CreateBootSourceSelection(ctx, sourceID, w)
	case listDiffers(w.Arches, have[i].Arches) || listDiffers(w.Subarches, have[i].Subarches) || listDiffers(w.Labels, have[i].Labels):
		return c.UpdateBootSourceSelection(ctx, sourceID, have[i].ID, w)
	}
	return have[i], nil
}

// imageUnavailable: MAAS refused a selection because its boot source cache does not
// list the image (the os/release, or one of the lists).
func imageUnavailable(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
		return false
	}
	for field, msgs := range apiErr.Fields {
		for _, m := range msgs {
			if (field == "os" && strings.Contains(m, "has no available images for download")) ||
				strings.HasPrefix(m, "No available images to download for") {
				return true
			}
		}
	}
	return false
}

// runImport starts an import and waits until MAAS stops importing. An import already
// running is waited for first: it read the boot sources before they changed.
func (c *Client) runImport(ctx context.Context, every time.Duration, res *AirgapResult) error {
	if err := c.waitImport(ctx, every, res); err != nil {
		return err
	}
	if err := c.ImportBootResources(ctx); err != nil {
		return fmt.Errorf("maas: airgap: start import: %w", err)
	}
	res.Imports++
	c.logger.Info("MAAS boot resource import started")
	if err := c.sleep(ctx, every); err != nil {
		return fmt.Errorf("maas: airgap: waiting for the import: %w", err)
	}
	return c.waitImport(ctx, every, res)
}

// waitImport asks is_importing every interval until it is false.
func (c *Client) waitImport(ctx context.Context, every time.Duration, res *AirgapResult) error {
	for {
		busy, err := c.IsImporting(ctx)
		res.Polls++
		if err != nil {
			return fmt.Errorf("maas: airgap: is_importing: %w", err)
		}
		if !busy {
			return nil
		}
		c.logger.Debug("MAAS still importing", "polls", res.Polls)
		if err := c.sleep(ctx, every); err != nil {
			return fmt.Errorf("maas: airgap: waiting for the import: %w", err)
		}
	}
}

// commissioningRelease is "os/release" of MAAS's commissioning release.
func (c *Client) commissioningRelease(ctx context.Context) (string, error) {
	os, err := c.GetConfigString(ctx, "commissioning_osystem")
	if err != nil {
		return "", fmt.Errorf("maas: airgap: %w", err)
	}
	rel, err := c.GetConfigString(ctx, "commissioning_distro_series")
	if err != nil {
		return "", fmt.Errorf("maas: airgap: %w", err)
	}
	return os + "/" + rel, nil
}

// deleteSelections removes the selections of have that are not wanted, but for the
// one of spare ("os/release"), and returns those left.
func (c *Client) deleteSelections(ctx context.Context, sourceID int, have []BootSourceSelection, want []Selection, spare string) ([]BootSourceSelection, error) {
	var left []BootSourceSelection
	for _, h := range have {
		key := h.OS + "/" + h.Release
		if key == spare || slices.ContainsFunc(want, func(w Selection) bool { return w.OS == h.OS && w.Release == h.Release }) {
			left = append(left, h)
			continue
		}
		if err := c.DeleteBootSourceSelection(ctx, sourceID, h.ID); err != nil {
			return left, fmt.Errorf("maas: airgap: delete selection %s: %w", key, err)
		}
	}
	return left, nil
}

// selectReleases moves commissioning_distro_series and default_distro_series (for an
// Ubuntu default_osystem) to the first Ubuntu release selected when theirs is not
// selected, unless set explicitly.
func (c *Client) selectReleases(ctx context.Context, explicit map[string]string, want []Selection) error {
	var selected []string
	for _, w := range want {
		if w.OS == "ubuntu" {
			selected = append(selected, w.Release)
		}
	}
	for _, s := range []struct{ name, osName string }{
		{"commissioning_distro_series", "commissioning_osystem"},
		{"default_distro_series", "default_osystem"},
	} {
		if _, ok := explicit[s.name]; ok {
			continue
		}
		os, err := c.GetConfigString(ctx, s.osName)
		if err != nil {
			return fmt.Errorf("maas: airgap: %w", err)
		}
		rel, err := c.GetConfigString(ctx, s.name)
		if err != nil {
			return fmt.Errorf("maas: airgap: %w", err)
		}
		if os != "ubuntu" || slices.Contains(selected, rel) {
			continue
		}
		if err := c.SetConfig(ctx, s.name, selected[0]); err != nil {
			return fmt.Errorf("maas: airgap: set %s: %w", s.name, err)
		}
		c.logger.Info("MAAS release setting moved to a selected release", "name", s.name, "from", rel, "to", selected[0])
	}
	return nil
}

// listDiffers: the wanted list is not equal (as a set) to what MAAS has.
func listDiffers(want, have []string) bool {
	a, b := slices.Clone(want), slices.Clone(have)
	slices.Sort(a)
	slices.Sort(b)
	return !slices.Equal(slices.Compact(a), slices.Compact(b))
}

// airgapRepositories points main_archive and ports_archive at the apt mirrors.
func (c *Client) airgapRepositories(ctx context.Context, cfg AirgapConfig, want []Selection) ([]PackageRepository, error) {
	if cfg.Archive == nil && cfg.Ports == nil {
		return nil, nil
	}
	repos, err := c.PackageRepositories(ctx)
	if err != nil {
		return nil, fmt.Errorf("maas: airgap: %w", err)
	}
	var out []PackageRepository
	for _, t := range []struct {
		name    string
		archive *AptArchive
		arches  []string
	}{{MainArchive, cfg.Archive, mainArches}, {PortsArchive, cfg.Ports, portsArches}} {
		if t.archive == nil {
			continue
		}
		pockets, components, err := t.archive.Disabled(deployedReleases(want, t.arches)...)
		if err != nil {
			return out, fmt.Errorf("maas: airgap: %s: %w", t.name, err)
		}
		i := slices.IndexFunc(repos, func(r PackageRepository) bool { return r.Name == t.name })
		if i < 0 {
			return out, fmt.Errorf("maas: airgap: package repository %q: %w", t.name, ErrNotFound)
		}
		enabled := true
		u := PackageRepositoryUpdate{URL: t.archive.URL, Enabled: &enabled, DisabledPockets: pockets, DisabledComponents: components}
		if cfg.ArchiveKey != "" {
			u.Key = &cfg.ArchiveKey
		}
		r, err := c.UpdatePackageRepository(ctx, repos[i].ID, u)
		if err != nil {
			return out, fmt.Errorf("maas: airgap: package repository %q: %w", t.name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// missingImages lists the selected os/release/arch that no resource provides.
func missingImages(sels []Selection, res []BootResource) []string {
	var missing []string
	for _, s := range sels {
		os := s.OS
		if os == "" {
			os = "ubuntu"
		}
		name := os + "/" + s.Release
		arches := s.Arches
		if len(arches) == 0 || slices.Contains(arches, "*") {
			arches = []string{""}
		}
		for _, a := range arches {
			found := slices.ContainsFunc(res, func(r BootResource) bool {
				return r.Name == name && (a == "" || strings.HasPrefix(r.Architecture, a+"/"))
			})
			if !found {
				missing = append(missing, strings.TrimSuffix(name+"/"+a, "/"))
			}
		}
	}
	return missing
}

func sameURL(a, b string) bool {
	return strings.TrimRight(a, "/") == strings.TrimRight(b, "/")
}
