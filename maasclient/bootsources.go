package maasclient

import (
	"context"
	"encoding/base64"
	"strconv"
)

// Version is what GET version/ returns.
type Version struct {
	Version      string   `json:"version"`
	Subversion   string   `json:"subversion"`
	Capabilities []string `json:"capabilities"`
}

// Version asks MAAS for its version and capabilities.
func (c *Client) Version(ctx context.Context) (Version, error) {
	return get[Version](ctx, c, "version/", "", nil)
}

// BootSource is a simplestreams source that MAAS imports images from.
type BootSource struct {
	ID              int    `json:"id"`
	URL             string `json:"url"`
	KeyringFilename string `json:"keyring_filename"`
	// KeyringData is the keyring as MAAS returns it: base64 of the binary keyring.
	KeyringData string `json:"keyring_data"`
	Created     string `json:"created"`
	Updated     string `json:"updated"`
	ResourceURI string `json:"resource_uri"`
}

// Keyring decodes KeyringData.
func (b BootSource) Keyring() ([]byte, error) {
	return base64.StdEncoding.DecodeString(b.KeyringData)
}

// BootSourceRequest creates or updates a boot source. Give one of the two keyrings;
// KeyringData wins when both are set.
type BootSourceRequest struct {
	// URL of the simplestreams index directory, e.g.
	// http://mirror.internal/maas/images/ephemeral-v3/stable/
	URL string
	// KeyringFilename is a keyring path on the region controllers. MAAS refuses it for a
	// source that holds keyring_data (and no request clears that): delete and create the
	// source instead, as ConfigureAirgap does.
	KeyringFilename string
	// KeyringData is a binary OpenPGP keyring, uploaded as a file part.
	KeyringData []byte
}

func (r BootSourceRequest) params() *Params {
	p := &Params{}
	p.AddOptional("url", r.URL)
	switch {
	case len(r.KeyringData) > 0:
		// An update keeps the fields it does not name, and MAAS refuses a source with
		// both keyrings: the stored keyring_filename is cleared with the upload.
		p.Add("keyring_filename", "")
		p.AddFile("keyring_data", "keyring.gpg", r.KeyringData)
	case r.KeyringFilename != "":
		p.Add("keyring_filename", r.KeyringFilename)
	}
	return p
}

func bootSourcePath(id int) string { return "boot-sources/" + strconv.Itoa(id) + "/" }

// BootSources lists the boot sources.
func (c *Client) BootSources(ctx context.Context) ([]BootSource, error) {
	return get[[]BootSource](ctx, c, "boot-sources/", "", nil)
}

// BootSource reads one boot source.
func (c *Client) BootSource(ctx context.Context, id int) (BootSource, error) {
	return get[BootSource](ctx, c, bootSourcePath(id), "", nil)
}

// CreateBootSource adds a boot source.
func (c *Client) CreateBootSource(ctx context.Context, req BootSourceRequest) (BootSource, error) {
	return post[BootSource](ctx, c, "boot-sources/", "", req.params())
}

// UpdateBootSource changes the fields of req that are set.
func (c *Client) UpdateBootSource(ctx context.Context, id int, req BootSourceRequest) (BootSource, error) {
	return put[BootSource](ctx, c, bootSourcePath(id), req.params())
}

// DeleteBootSource removes a boot source with its selections.
func (c *Client) DeleteBootSource(ctx context.Context, id int) error {
	return c.Delete(ctx, bootSourcePath(id))
}

// BootSourceSelection chooses images of a boot source.
type BootSourceSelection struct {
	ID           int      `json:"id"`
	BootSourceID int      `json:"boot_source_id"`
	OS           string   `json:"os"`
	Release      string   `json:"release"`
	Arches       []string `json:"arches"`
	Subarches    []string `json:"subarches"`
	Labels       []string `json:"labels"`
	ResourceURI  string   `json:"resource_uri"`
}

// Selection is what to import: an OS release for some architectures (amd64, arm64),
// subarchitectures (the kernels: ga-24.04, hwe-24.04) and labels (stable, candidate),
// "*" standing for all. A list left empty is "*" when a selection is created (MAAS
// itself would store an empty list, and an empty list imports nothing) and is left as
// MAAS has it when one is updated. MAAS accepts only selections its boot source cache
// lists (a 400 otherwise, see ErrImageUnavailable).
type Selection struct {
	OS        string
	Release   string
	Arches    []string
	Subarches []string
	Labels    []string
}

var all = []string{"*"}

// withDefaults fills the empty lists with "*".
func (s Selection) withDefaults() Selection {
	for _, l := range []*[]string{&s.Arches, &s.Subarches, &s.Labels} {
		if len(*l) == 0 {
			*l = all
		}
	}
	return s
}

func (s Selection) params() *Params {
	p := &Params{}
	p.AddOptional("os", s.OS)
	p.AddOptional("release", s.Release)
	p.AddList("arches", s.Arches)
	p.AddList("subarches", s.Subarches)
	p.AddList("labels", s.Labels)
	return p
}

func selectionsPath(sourceID int) string { return bootSourcePath(sourceID) + "selections/" }

func selectionPath(sourceID, id int) string {
	return selectionsPath(sourceID) + strconv.Itoa(id) + "/"
}

// BootSourceSelections lists the selections of a boot source.
func (c *Client) BootSourceSelections(ctx context.Context, sourceID int) ([]BootSourceSelection, error) {
	return get[[]BootSourceSelection](ctx, c, selectionsPath(sourceID), "", nil)
}

// CreateBootSourceSelection adds a selection to a boot source (empty lists: "*").
func (c *Client) CreateBootSourceSelection(ctx context.Context, sourceID int, s Selection) (BootSourceSelection, error) {
	return post[BootSourceSelection](ctx, c, selectionsPath(sourceID), "", s.withDefaults().params())
}

// UpdateBootSourceSelection changes the fields of s that are set.
func (c *Client) UpdateBootSourceSelection(ctx context.Context, sourceID, id int, s Selection) (BootSourceSelection, error) {
	return put[BootSourceSelection](ctx, c, selectionPath(sourceID, id), s.params())
}

// DeleteBootSourceSelection removes a selection. MAAS up to 3.6 refuses to remove the
// selection of the commissioning release (ErrBadRequest): set
// commissioning_distro_series to another imported release first.
func (c *Client) DeleteBootSourceSelection(ctx context.Context, sourceID, id int) error {
	return c.Delete(ctx, selectionPath(sourceID, id))
}
