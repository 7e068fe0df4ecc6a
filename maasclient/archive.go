package maasclient

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// AptArchive is an apt mirror that one of MAAS's default archives points at, and what
// the mirror holds.
type AptArchive struct {
	// URL is the archive root, the directory holding dists/.
	URL string
	// Suites maps each suite the mirror holds (its dists/ directories: noble,
	// noble-updates, noble-security) to the suite's components (main, universe).
	Suites map[string][]string
}

// The Ubuntu archive as MAAS writes a default archive's sources: $RELEASE and these
// pockets, each with main and these components, less those disabled.
var (
	archivePockets     = []string{"updates", "security", "backports"}
	optionalComponents = []string{"restricted", "universe", "multiverse"}
	mainArches         = []string{"amd64", "i386"}
	portsArches        = []string{"armhf", "arm64", "ppc64el", "s390x"}
)

// Disabled returns the pockets and components to disable on a default archive so that
// every source MAAS gives deployed machines is in the mirror and apt update works. MAAS
// writes $RELEASE, $RELEASE-updates, -security and -backports, each with main,
// restricted, universe and multiverse, less what is disabled ($RELEASE and main cannot
// be). A pocket is kept when the mirror holds it for every release, a component when
// every suite kept has it. releases are those machines deploy from this archive, each
// of which the mirror must hold (ErrArchiveIncomplete); none: every release the mirror
// holds. The lists are empty, not nil, when nothing is disabled.
func (a AptArchive) Disabled(releases ...string) (pockets, components []string, err error) {
	if len(releases) == 0 {
		for s := range a.Suites {
			if !isPocketSuite(s) {
				releases = append(releases, s)
			}
		}
		slices.Sort(releases)
		if len(releases) == 0 {
			return nil, nil, fmt.Errorf("%w: %s holds no release suite, only %v", ErrArchiveIncomplete, a.URL, slices.Sorted(maps.Keys(a.Suites)))
		}
	}
	for _, r := range releases {
		if _, ok := a.Suites[r]; !ok {
			return nil, nil, fmt.Errorf("%w: %s has no suite %s, which machines deploying %s get", ErrArchiveIncomplete, a.URL, r, r)
		}
	}
	used := slices.Clone(releases)
	pockets = []string{}
	for _, p := range archivePockets {
		held := true
		for _, r := range releases {
			if _, ok := a.Suites[r+"-"+p]; !ok {
				held = false
			}
		}
		if !held {
			pockets = append(pockets, p)
			continue
		}
		for _, r := range releases {
			used = append(used, r+"-"+p)
		}
	}
	components = []string{}
	for _, c := range optionalComponents {
		for _, s := range used {
			if !slices.Contains(a.Suites[s], c) {
				components = append(components, c)
				break
			}
		}
	}
	return pockets, components, nil
}

// isPocketSuite: a suite such as noble-updates rather than a release.
func isPocketSuite(suite string) bool {
	i := strings.LastIndexByte(suite, '-')
	return i > 0 && (slices.Contains(archivePockets, suite[i+1:]) || suite[i+1:] == "proposed")
}

// deployedReleases are the Ubuntu releases selected for any of arches.
func deployedReleases(sels []Selection, arches []string) []string {
	var out []string
	for _, s := range sels {
		if s.OS == "ubuntu" && (slices.Contains(s.Arches, "*") || slices.ContainsFunc(s.Arches, func(a string) bool { return slices.Contains(arches, a) })) {
			out = append(out, s.Release)
		}
	}
	return out
}
