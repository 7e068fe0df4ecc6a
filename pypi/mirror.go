package pypi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/airgapkit/airgap/pypi/pep508"
	"github.com/airgapkit/airgap/pypi/wheel"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// DefaultUpstream is the simple API that Mirror.URL defaults to.
const DefaultUpstream = "https://pypi.org/simple/"

// DefaultName is the mirror name Mirror.Name defaults to (ref "pypi/python").
const DefaultName = "python"

// DefaultMaxPageSize is Mirror.MaxPageSize when zero: 256 MiB, four times the largest
// pages known on pypi.org (60 MB). Pages are read as streams, so the cap does not bound
// memory (which does not grow with a page); it stops an upstream that sends without end.
const DefaultMaxPageSize = 256 << 20

// DefaultTarget is the environment mirrored when Mirror.Targets is empty: CPython 3.11
// (Debian bookworm's) on glibc x86_64.
var DefaultTarget = wheel.Target{Python: "3.11", Platform: "manylinux_2_28_x86_64"}

// ErrConfig is returned (wrapped) for an unusable Mirror configuration.
var ErrConfig = fmt.Errorf("pypi: invalid mirror configuration%.0w", store.ErrConfig)

// ErrUnsatisfied is the sentinel of *UnsatisfiedError.
var ErrUnsatisfied = errors.New("pypi: unsatisfiable requirements")

// Mirror mirrors a set of Python requirements with their dependencies, for a set of target
// environments, from a simple API upstream into a store, and publishes a static simple
// index (PEP 503 HTML and PEP 691 JSON, with PEP 658 metadata files) as one snapshot.
type Mirror struct {
	// Name names the mirror; it publishes the ref "pypi/<Name>". Default DefaultName.
	Name string `yaml:"name"`
	// URL is the base URL of a simple API: pypi.org/simple, a devpi or Artifactory
	// index, or another airgap mirror. Default DefaultUpstream. Credentials go in it as
	// pip takes them (https://user:password@host/simple/): they are sent, as basic
	// authentication, to the index's origin (scheme, host and port) only, never to a
	// file link or redirect elsewhere, and they are not recorded in the published
	// mirror, its inventory or logs.
	URL string `yaml:"url"`
	// Upstream is the old name of URL, still accepted (with a warning at Sync).
	//
	// Deprecated: use URL.
	Upstream string `yaml:"upstream"`
	// Requirements are PEP 508 requirements, as pip takes them ("requests>=2.31",
	// "uvicorn[standard]").
	Requirements []string `yaml:"requirements"`
	// RequirementsFile is a pip requirements file read at every Sync, added to
	// Requirements.
	RequirementsFile string `yaml:"requirements_file"`
	// Targets are the environments to mirror for; wheels are chosen by their tags and
	// markers evaluated for each. Default: DefaultTarget.
	Targets []wheel.Target `yaml:"targets"`
	// Sdists also mirrors source distributions (for versions with no usable wheel they
	// are then the only file).
	Sdists bool `yaml:"sdists"`
	// Prereleases admits pre- and development releases even where no specifier names one.
	Prereleases bool `yaml:"prereleases"`
	// Latest is how many of the newest matching versions of each listed requirement are
	// mirrored. Default 1.
	Latest int `yaml:"latest"`
	// DependencyLatest is the same for requirements found by dependency following.
	// Default 1.
	DependencyLatest int `yaml:"dependency_latest"`
	// NoDependencies mirrors the listed requirements only.
	NoDependencies bool `yaml:"no_dependencies"`
	// AllowUnsatisfied publishes even when some requirement could not be satisfied (they
	// are listed in SyncStats.Unsatisfied); by default such a sync fails with an
	// *UnsatisfiedError and publishes nothing.
	AllowUnsatisfied bool `yaml:"allow_unsatisfied"`
	// Concurrency caps parallel requests. Default 8.
	Concurrency int `yaml:"concurrency"`
	// MaxPageSize caps one upstream project page in bytes: a larger one fails the sync with
	// an error that matches store.ErrTooLarge and names the page's URL and the cap.
	// Default DefaultMaxPageSize.
	MaxPageSize int64 `yaml:"max_page_size"`

	// Store receives files and the published snapshot. Required.
	Store store.Store `yaml:"-"`
	// Fetch downloads; nil uses a default client on Store.
	Fetch *fetch.Client `yaml:"-"`
	// Logger receives progress records; nil discards.
	Logger *slog.Logger `yaml:"-"`
	// Preflight, when set, is handed what Plan lists once the requirements are resolved,
	// before the distributions are downloaded (those resolution read whole, for want of
	// a PEP 658 metadata file, are downloaded by then).
	Preflight store.Preflight `yaml:"-"`
}

// Unsatisfied is one requirement no mirrored file could satisfy.
type Unsatisfied struct {
	// Requirement is the requirement as written where it was found.
	Requirement string
	// Target is the environment it was needed for.
	Target string
	// Chain lists who needed it, outermost first: the listed requirement, then each
	// "project version" on the way.
	Chain []string
	// Reason says why nothing matched.
	Reason string
}

func (u Unsatisfied) String() string {
	return fmt.Sprintf("%s for %s (needed by %s): %s", u.Requirement, u.Target, strings.Join(u.Chain, " -> "), u.Reason)
}

// UnsatisfiedError reports every requirement that could not be satisfied.
type UnsatisfiedError struct{ Items []Unsatisfied }

func (e *UnsatisfiedError) Error() string {
	parts := make([]string, 0, len(e.Items))
	for _, u := range e.Items {
		parts = append(parts, u.String())
	}
	return fmt.Sprintf("pypi: %d unsatisfiable requirement(s): %s", len(e.Items), strings.Join(parts, "; "))
}

// Unwrap makes errors.Is(err, ErrUnsatisfied) true.
func (e *UnsatisfiedError) Unwrap() error { return ErrUnsatisfied }

// SyncStats reports what a Sync did.
type SyncStats struct {
	// SyncResult says what was published (Ref, Generation, Changed: false when the
	// resync arrived at the tree already published) and counts the distribution files
	// downloaded this run and those already in the store (Reused).
	store.SyncResult
	// Projects, Versions and Files count what the published index holds (Files counts
	// distributions, not metadata files).
	Projects, Versions, Files int
	// Bytes is the total size of the distributions.
	Bytes int64
	// MetadataFiles counts the .metadata files published; MetadataFromWheel how many of
	// them were read out of the wheel because upstream had none (or answered 404).
	MetadataFiles, MetadataFromWheel int
	// PagesFetched and PagesNotModified count upstream project pages.
	PagesFetched, PagesNotModified int
	// Unsatisfied lists requirements nothing could satisfy, with the chain that needed
	// them.
	Unsatisfied []Unsatisfied
	// DependenciesUnknown lists "project version" whose dependencies could not be read
	// (source distributions with dynamic or pre-2.2 metadata).
	DependenciesUnknown []string
	// Skipped lists upstream files that were ignored, with the reason.
	Skipped []string
}

// Ref returns the store ref the mirror publishes: "pypi/<Name>".
func (m *Mirror) Ref() string {
	name := m.Name
	if name == "" {
		name = DefaultName
	}
	return "pypi/" + name
}

// Endpoints lists the upstream URLs a sync contacts. Files may live on another host than
// the index (pypi.org serves them from files.pythonhosted.org); for pypi.org that host
// is listed too, for other upstreams only the index is known before a sync.
func (m *Mirror) Endpoints() []string {
	base := m.upstream()
	out := []string{base}
	if u, err := url.Parse(base); err == nil && u.Host == "pypi.org" {
		out = append(out, "https://files.pythonhosted.org/")
	}
	return out
}

// upstream is the index URL without credentials (see splitUserinfo).
func (m *Mirror) upstream() string {
	u, _ := splitUserinfo(m.rawUpstream())
	return u
}

// rawUpstream is the index URL as configured, credentials included.
func (m *Mirror) rawUpstream() string {
	u := m.URL
	if u == "" {
		u = m.Upstream
	}
	if u == "" {
		u = DefaultUpstream
	}
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

func (m *Mirror) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (m *Mirror) targets() []wheel.Target {
	if len(m.Targets) == 0 {
		return []wheel.Target{DefaultTarget}
	}
	return m.Targets
}

func (m *Mirror) concurrency() int {
	if m.Concurrency > 0 {
		return m.Concurrency
	}
	return 8
}

func (m *Mirror) maxPageSize() int64 {
	if m.MaxPageSize > 0 {
		return m.MaxPageSize
	}
	return DefaultMaxPageSize
}

func positive(n int) int {
	if n > 0 {
		return n
	}
	return 1
}

// requirements returns the configured requirements, parsed, with where each came from.
func (m *Mirror) requirements() ([]pep508.Requirement, error) {
	var out []pep508.Requirement
	for _, s := range m.Requirements {
		r, err := pep508.ParseRequirement(s)
		if err != nil {
			return nil, fmt.Errorf("%w: requirement %q: %w", ErrConfig, s, err)
		}
		out = append(out, r)
	}
	if m.RequirementsFile != "" {
		f, err := os.Open(m.RequirementsFile)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		defer f.Close()
		rs, err := pep508.ParseRequirementsFile(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrConfig, m.RequirementsFile, err)
		}
		out = append(out, rs...)
	}
	for _, r := range out {
		if r.URL != "" {
			return nil, fmt.Errorf("%w: %s: direct URL references cannot be mirrored from an index", ErrConfig, r.Name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no requirements", ErrConfig)
	}
	return out, nil
}

func (m *Mirror) validate() error {
	if m.Store == nil {
		return fmt.Errorf("%w: Store is nil", ErrConfig)
	}
	if m.URL != "" && m.Upstream != "" && m.URL != m.Upstream {
		return fmt.Errorf("%w: url %q and its deprecated name upstream %q disagree", ErrConfig, m.URL, m.Upstream)
	}
	u, err := url.Parse(m.upstream())
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: url %q is not an http(s) URL", ErrConfig, m.upstream())
	}
	for _, t := range m.targets() {
		if err := t.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	if err := store.ValidatePath(m.Ref()); err != nil {
		return fmt.Errorf("%w: name %q: %w", ErrConfig, m.Name, err)
	}
	return nil
}

func (m *Mirror) client() *fetch.Client {
	if m.Fetch != nil {
		return m.Fetch
	}
	return &fetch.Client{Store: m.Store, Logger: m.Logger}
}
