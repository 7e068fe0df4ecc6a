package maasclient

import (
	"context"
	"strconv"
)

// Names of the two package repositories every MAAS has.
const (
	MainArchive  = "main_archive"  // amd64, i386
	PortsArchive = "ports_archive" // arm64, armhf, ppc64el, s390x
)

// PackageRepository is an apt archive that MAAS gives deployed machines.
type PackageRepository struct {
	ID                 int      `json:"id"`
	Name               string   `json:"name"`
	URL                string   `json:"url"`
	Distributions      []string `json:"distributions"`
	DisabledPockets    []string `json:"disabled_pockets"`
	DisabledComponents []string `json:"disabled_components"`
	DisableSources     bool     `json:"disable_sources"`
	Components         []string `json:"components"`
	Arches             []string `json:"arches"`
	Key                string   `json:"key"`
	Enabled            bool     `json:"enabled"`
	ResourceURI        string   `json:"resource_uri"`
}

// PackageRepositoryUpdate holds the fields to set; zero fields are left as they are.
type PackageRepositoryUpdate struct {
	Name string
	URL  string
	// Key is the ASCII-armored public key of the archive; nil leaves it.
	Key *string
	// Distributions and Components are for custom repositories: MAAS refuses
	// Components on main_archive and ports_archive and ignores their Distributions.
	Distributions []string
	Components    []string
	// DisabledPockets (updates, security, backports) and DisabledComponents
	// (restricted, universe, multiverse) are for main_archive and ports_archive: MAAS
	// gives machines $RELEASE and the pockets not disabled, with main and the
	// components not disabled. nil leaves them; an empty, non-nil slice clears them.
	DisabledPockets    []string
	DisabledComponents []string
	Arches             []string
	Enabled            *bool
	DisableSources     *bool
}

func (u PackageRepositoryUpdate) params() *Params {
	p := &Params{}
	p.AddOptional("name", u.Name)
	p.AddOptional("url", u.URL)
	if u.Key != nil {
		p.Add("key", *u.Key)
	}
	p.AddList("distributions", u.Distributions)
	p.AddList("components", u.Components)
	p.addListOrClear("disabled_pockets", u.DisabledPockets)
	p.addListOrClear("disabled_components", u.DisabledComponents)
	p.AddList("arches", u.Arches)
	if u.Enabled != nil {
		p.AddBool("enabled", *u.Enabled)
	}
	if u.DisableSources != nil {
		p.AddBool("disable_sources", *u.DisableSources)
	}
	return p
}

func repoPath(id int) string { return "package-repositories/" + strconv.Itoa(id) + "/" }

// PackageRepositories lists the package repositories.
func (c *Client) PackageRepositories(ctx context.Context) ([]PackageRepository, error) {
	return get[[]PackageRepository](ctx, c, "package-repositories/", "", nil)
}

// PackageRepository reads one package repository.
func (c *Client) PackageRepository(ctx context.Context, id int) (PackageRepository, error) {
	return get[PackageRepository](ctx, c, repoPath(id), "", nil)
}

// CreatePackageRepository adds a repository (Name and URL are required).
func (c *Client) CreatePackageRepository(ctx context.Context, u PackageRepositoryUpdate) (PackageRepository, error) {
	return post[PackageRepository](ctx, c, "package-repositories/", "", u.params())
}

// UpdatePackageRepository sets the fields of u that are set.
func (c *Client) UpdatePackageRepository(ctx context.Context, id int, u PackageRepositoryUpdate) (PackageRepository, error) {
	return put[PackageRepository](ctx, c, repoPath(id), u.params())
}

// DeletePackageRepository removes a repository (the two defaults cannot be removed).
func (c *Client) DeletePackageRepository(ctx context.Context, id int) error {
	return c.Delete(ctx, repoPath(id))
}
