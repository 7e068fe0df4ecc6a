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
	// Selections are the images to import; at least one. Selections of the boot
	// source that are not listed are removed.
	Selections []Selection

	// ArchiveURL points main_archive (amd64, i386) at the apt mirror; empty leaves it.
	ArchiveURL string
	// PortsURL points ports_archive (arm64, ...) at the apt mirror; empty leaves it.
	PortsURL string
	// ArchiveKey is the ASCII-armored key that signs the apt mirror, set on the
	// repositories changed above; empty leaves their key.
	ArchiveKey string
	// Components, Distributions and DisabledPockets, when not empty, are set on the
	// repositories changed above.
	Components      []string
	Distributions   []string
	DisabledPockets []string

	// Config holds configuration names and values to set first (for example
	// upstream_dns, enable_http_proxy=false, boot_images_auto_import), in name order.
	Config map[string]string

	// SkipImport leaves the import alone (configuration only).
	SkipImport bool
	// PollInterval between two is_importing checks; default DefaultPollInterval. The
	// first check comes one interval after the import starts.
	PollInterval time.Duration
}

// AirgapResult is the state ConfigureAirgap left behind.
type AirgapResult struct {
	BootSource   BootSource
	Selections   []BootSourceSelection
	Repositories []PackageRepository
	// Resources are the synced boot resources after the import.
	Resources []BootResource
	// Polls is how many times is_importing was asked.
	Polls int
}

// ConfigureAirgap sets MAAS up for an air gap in one call: it sets cfg.Config, makes
// the boot source point at the image mirror with its keyring (updating the source
// already there, or creating one, and deleting any other), makes the selections
// those of cfg, points main_archive/ports_archive at the apt mirror with its key,
// starts the image import and waits until MAAS stops importing, then checks that
// every selected release and architecture is there (ErrImportIncomplete if not). It
// can be run again: a second run changes only what differs. ctx bounds the wait.
func (c *Client) ConfigureAirgap(ctx context.Context, cfg AirgapConfig) (*AirgapResult, error) {
	if cfg.ImageURL == "" {
		return nil, errors.New("maas: airgap: ImageURL is required")
	}
	if len(cfg.ImageKeyring) == 0 && cfg.ImageKeyringFilename == "" {
		return nil, errors.New("maas: airgap: ImageKeyring or ImageKeyringFilename is required (images are verified)")
	}
	if len(cfg.Selections) == 0 {
		return nil, errors.New("maas: airgap: at least one selection is required")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	res := &AirgapResult{}

	names := make([]string, 0, len(cfg.Config))
	for k := range cfg.Config {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := c.SetConfig(ctx, k, cfg.Config[k]); err != nil {
			return res, fmt.Errorf("maas: airgap: set %s: %w", k, err)
		}
	}

	src, err := c.airgapBootSource(ctx, cfg)
	if err != nil {
		return res, err
	}
	res.BootSource = src
	if res.Selections, err = c.syncSelections(ctx, src.ID, cfg.Selections); err != nil {
		return res, err
	}
	if res.Repositories, err = c.airgapRepositories(ctx, cfg); err != nil {
		return res, err
	}
	if cfg.SkipImport {
		return res, nil
	}

	if err := c.ImportBootResources(ctx); err != nil {
		return res, fmt.Errorf("maas: airgap: start import: %w", err)
	}
	c.logger.Info("MAAS boot resource import started", "source", src.URL)
	for {
		if err := c.sleep(ctx, cfg.PollInterval); err != nil {
			return res, fmt.Errorf("maas: airgap: waiting for the import: %w", err)
		}
		busy, err := c.IsImporting(ctx)
		res.Polls++
		if err != nil {
			return res, fmt.Errorf("maas: airgap: is_importing: %w", err)
		}
		if !busy {
			break
		}
		c.logger.Debug("MAAS still importing", "polls", res.Polls)
	}
	if res.Resources, err = c.BootResources(ctx, "synced"); err != nil {
		return res, err
	}
	if missing := missingImages(cfg.Selections, res.Resources); len(missing) > 0 {
		return res, fmt.Errorf("%w: missing %s", ErrImportIncomplete, strings.Join(missing, ", "))
	}
	return res, nil
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
	keep := -1
	for i, s := range sources {
		if sameURL(s.URL, cfg.ImageURL) {
			keep = i
			break
		}
	}
	if keep < 0 && len(sources) > 0 {
		keep = 0
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
	for i, s := range sources {
		if i != keep {
			if err := c.DeleteBootSource(ctx, s.ID); err != nil {
				return src, fmt.Errorf("maas: airgap: delete boot source %s: %w", s.URL, err)
			}
		}
	}
	return src, nil
}

// syncSelections makes the source's selections those wanted.
func (c *Client) syncSelections(ctx context.Context, sourceID int, want []Selection) ([]BootSourceSelection, error) {
	have, err := c.BootSourceSelections(ctx, sourceID)
	if err != nil {
		return nil, fmt.Errorf("maas: airgap: %w", err)
	}
	key := func(os, release string) string { return os + "/" + release }
	byKey := map[string]BootSourceSelection{}
	for _, h := range have {
		byKey[key(h.OS, h.Release)] = h
	}
	var out []BootSourceSelection
	wanted := map[string]bool{}
	for _, w := range want {
		if w.OS == "" {
			w.OS = "ubuntu"
		}
		k := key(w.OS, w.Release)
		if wanted[k] {
			continue
		}
		wanted[k] = true
		h, ok := byKey[k]
		var got BootSourceSelection
		switch {
		case !ok:
			got, err = c.CreateBootSourceSelection(ctx, sourceID, w)
		case listDiffers(w.Arches, h.Arches) || listDiffers(w.Subarches, h.Subarches) || listDiffers(w.Labels, h.Labels):
			got, err = c.UpdateBootSourceSelection(ctx, sourceID, h.ID, w)
		default:
			got = h
		}
		if err != nil {
			return out, fmt.Errorf("maas: airgap: selection %s: %w", k, err)
		}
		out = append(out, got)
	}
	for _, h := range have {
		if !wanted[key(h.OS, h.Release)] {
			if err := c.DeleteBootSourceSelection(ctx, sourceID, h.ID); err != nil {
				return out, fmt.Errorf("maas: airgap: delete selection %s/%s: %w", h.OS, h.Release, err)
			}
		}
	}
	return out, nil
}

// listDiffers: a wanted list that is set and not equal (as a set) to what MAAS has.
func listDiffers(want, have []string) bool {
	if len(want) == 0 {
		return false
	}
	a, b := slices.Clone(want), slices.Clone(have)
	slices.Sort(a)
	slices.Sort(b)
	return !slices.Equal(slices.Compact(a), slices.Compact(b))
}

// airgapRepositories points main_archive and ports_archive at the apt mirror.
func (c *Client) airgapRepositories(ctx context.Context, cfg AirgapConfig) ([]PackageRepository, error) {
	if cfg.ArchiveURL == "" && cfg.PortsURL == "" {
		return nil, nil
	}
	repos, err := c.PackageRepositories(ctx)
	if err != nil {
		return nil, fmt.Errorf("maas: airgap: %w", err)
	}
	var out []PackageRepository
	for _, t := range []struct{ name, url string }{{MainArchive, cfg.ArchiveURL}, {PortsArchive, cfg.PortsURL}} {
		if t.url == "" {
			continue
		}
		i := slices.IndexFunc(repos, func(r PackageRepository) bool { return r.Name == t.name })
		if i < 0 {
			return out, fmt.Errorf("maas: airgap: package repository %q: %w", t.name, ErrNotFound)
		}
		enabled := true
		u := PackageRepositoryUpdate{
			URL: t.url, Enabled: &enabled,
			Components: cfg.Components, Distributions: cfg.Distributions, DisabledPockets: cfg.DisabledPockets,
		}
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
