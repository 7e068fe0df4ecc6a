package wheel

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/airgapkit/airgap/pypi/pep440"
	"github.com/airgapkit/airgap/pypi/pep508"
)

// ErrFilename is returned (wrapped) for a file name that is not a wheel or sdist name.
var ErrFilename = errors.New("wheel: invalid distribution file name")

// ErrTarget is returned (wrapped) for a malformed Target.
var ErrTarget = errors.New("wheel: invalid target")

// Tag is one compatibility tag triple, e.g. {cp311, abi3, manylinux_2_17_x86_64}.
type Tag struct {
	Python, ABI, Platform string
}

func (t Tag) String() string { return t.Python + "-" + t.ABI + "-" + t.Platform }

// File is a parsed wheel file name.
type File struct {
	// Name is the distribution name as the file spells it (escaped: "_" for "-").
	Name string
	// Version is the version as the file spells it.
	Version string
	// Build is the optional build tag.
	Build string
	// Tags is the expanded set of tags (compressed tag sets such as "py2.py3" give two).
	Tags []Tag
}

// ParseFilename parses "{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl".
func ParseFilename(filename string) (File, error) {
	base, ok := strings.CutSuffix(filename, ".whl")
	if !ok {
		return File{}, fmt.Errorf("%w: %q does not end in .whl", ErrFilename, filename)
	}
	parts := strings.Split(base, "-")
	if len(parts) != 5 && len(parts) != 6 {
		return File{}, fmt.Errorf("%w: %q has %d dash-separated parts", ErrFilename, filename, len(parts))
	}
	for _, p := range parts {
		if p == "" {
			return File{}, fmt.Errorf("%w: %q has an empty part", ErrFilename, filename)
		}
	}
	f := File{Name: parts[0], Version: parts[1]}
	if !pep508.ValidName(f.Name) {
		return File{}, fmt.Errorf("%w: %q: bad name", ErrFilename, filename)
	}
	if len(parts) == 6 {
		f.Build = parts[2]
		if f.Build[0] < '0' || f.Build[0] > '9' {
			return File{}, fmt.Errorf("%w: %q: build tag must start with a digit", ErrFilename, filename)
		}
	}
	n := len(parts)
	for _, py := range strings.Split(parts[n-3], ".") {
		for _, abi := range strings.Split(parts[n-2], ".") {
			for _, plat := range strings.Split(parts[n-1], ".") {
				if py == "" || abi == "" || plat == "" {
					return File{}, fmt.Errorf("%w: %q: empty tag", ErrFilename, filename)
				}
				f.Tags = append(f.Tags, Tag{Python: strings.ToLower(py), ABI: strings.ToLower(abi), Platform: strings.ToLower(plat)})
			}
		}
	}
	return f, nil
}

// Target is one environment the mirror must serve: a Python version, an implementation
// and a platform. Wheels are chosen by their tags; markers are evaluated against
// Environment.
type Target struct {
	// Python is "3.11" or "3.11.4". Without a patch number the target stands for every
	// patch release of that minor version (markers and Requires-Python see "3.11.999").
	Python string `yaml:"python"`
	// Implementation is "cp" (CPython, the default) or "pp" (PyPy).
	Implementation string `yaml:"implementation"`
	// Platform is a wheel platform tag: "manylinux_2_28_x86_64" (or the legacy
	// "manylinux2014_aarch64"), "musllinux_1_2_x86_64", "macosx_11_0_arm64",
	// "win_amd64", "win32", "win_arm64", "linux_x86_64". Empty: only pure-Python
	// ("any") wheels and sdists.
	Platform string `yaml:"platform"`
}

func (t Target) String() string {
	impl := t.Implementation
	if impl == "" {
		impl = "cp"
	}
	plat := t.Platform
	if plat == "" {
		plat = "any"
	}
	return impl + t.Python + "-" + plat
}

// version returns major, minor and the full version string.
func (t Target) version() (major, minor int, full string, err error) {
	parts := strings.Split(t.Python, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, "", fmt.Errorf("%w: python %q is not X.Y or X.Y.Z", ErrTarget, t.Python)
	}
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 999 {
			return 0, 0, "", fmt.Errorf("%w: python %q is not X.Y or X.Y.Z", ErrTarget, t.Python)
		}
		nums[i] = n
	}
	full = t.Python
	if len(parts) == 2 {
		full += ".999"
	}
	return nums[0], nums[1], full, nil
}

// Validate reports a malformed target.
func (t Target) Validate() error {
	if _, _, _, err := t.version(); err != nil {
		return err
	}
	switch t.Implementation {
	case "", "cp", "pp":
	default:
		return fmt.Errorf("%w: implementation %q (want cp or pp)", ErrTarget, t.Implementation)
	}
	if t.Platform != "" && t.Platform != strings.ToLower(t.Platform) {
		return fmt.Errorf("%w: platform %q must be lower case", ErrTarget, t.Platform)
	}
	return nil
}

// Environment returns the PEP 508 marker variables of the target. Variables that a
// platform tag cannot tell (platform_release, platform_version) are empty; a target
// without a platform evaluates markers as Linux.
func (t Target) Environment() pep508.Environment {
	major, minor, full, _ := t.version()
	env := pep508.Environment{
		"python_version":         fmt.Sprintf("%d.%d", major, minor),
		"python_full_version":    full,
		"implementation_version": full,
		"platform_release":       "",
		"platform_version":       "",
	}
	if t.Implementation == "pp" {
		env["implementation_name"] = "pypy"
		env["platform_python_implementation"] = "PyPy"
	} else {
		env["implementation_name"] = "cpython"
		env["platform_python_implementation"] = "CPython"
	}
	os, arch := platformOS(t.Platform)
	switch os {
	case "linux":
		env["sys_platform"], env["os_name"], env["platform_system"] = "linux", "posix", "Linux"
	case "macos":
		env["sys_platform"], env["os_name"], env["platform_system"] = "darwin", "posix", "Darwin"
	case "windows":
		env["sys_platform"], env["os_name"], env["platform_system"] = "win32", "nt", "Windows"
	default:
		env["sys_platform"], env["os_name"], env["platform_system"] = "linux", "posix", "Linux"
	}
	env["platform_machine"] = arch
	return env
}

// platformOS tells the operating system and the platform_machine value of a platform tag.
func platformOS(plat string) (os, machine string) {
	switch {
	case strings.HasPrefix(plat, "manylinux"), strings.HasPrefix(plat, "musllinux"), strings.HasPrefix(plat, "linux_"):
		_, arch := splitLinux(plat)
		return "linux", arch
	case strings.HasPrefix(plat, "macosx_"):
		_, _, arch, _ := splitMac(plat)
		if arch == "universal2" || arch == "universal" || arch == "intel" {
			arch = "x86_64"
		}
		return "macos", arch
	case plat == "win_amd64":
		return "windows", "AMD64"
	case plat == "win32":
		return "windows", "x86"
	case plat == "win_arm64":
		return "windows", "ARM64"
	}
	return "", ""
}

// RequiresPython reports whether the target's interpreter satisfies a Requires-Python
// specifier set ("" always does). A malformed set is reported as an error.
func (t Target) RequiresPython(spec string) (bool, error) {
	if strings.TrimSpace(spec) == "" {
		return true, nil
	}
	ss, err := pep440.ParseSpecifiers(spec)
	if err != nil {
		return false, err
	}
	_, _, full, err := t.version()
	if err != nil {
		return false, err
	}
	v, err := pep440.Parse(full)
	if err != nil {
		return false, err
	}
	return ss.Matches(v), nil
}

// Supports reports whether an interpreter described by t can install a wheel with any of
// the given tags (the rules of pip's supported-tags list).
func (t Target) Supports(tags []Tag) bool {
	for _, tag := range tags {
		if t.supports(tag) {
			return true
		}
	}
	return false
}

func (t Target) supports(tag Tag) bool {
	major, minor, _, err := t.version()
	if err != nil {
		return false
	}
	impl := t.Implementation
	if impl == "" {
		impl = "cp"
	}
	exact := fmt.Sprintf("%s%d%d", impl, major, minor)
	// pyN / pyNM (M <= minor) are generic Python tags.
	generic := func(py string) bool {
		rest, ok := strings.CutPrefix(py, "py")
		if !ok || rest == "" {
			return false
		}
		if rest == strconv.Itoa(major) {
			return true
		}
		ms := strconv.Itoa(major)
		if !strings.HasPrefix(rest, ms) {
			return false
		}
		m, err := strconv.Atoi(rest[len(ms):])
		return err == nil && m <= minor
	}
	if tag.Platform == "any" {
		return tag.ABI == "none" && (tag.Python == exact || generic(tag.Python))
	}
	if !platformSupports(t.Platform, tag.Platform) {
		return false
	}
	switch {
	case tag.ABI == "none":
		return tag.Python == exact || generic(tag.Python)
	case tag.ABI == "abi3":
		if impl != "cp" {
			return false
		}
		rest, ok := strings.CutPrefix(tag.Python, fmt.Sprintf("cp%d", major))
		if !ok {
			return false
		}
		m, err := strconv.Atoi(rest)
		return err == nil && m >= 2 && m <= minor
	case impl == "cp":
		if tag.Python != exact {
			return false
		}
		return tag.ABI == exact || (minor < 8 && tag.ABI == exact+"m")
	default: // PyPy: pp310-pypy310_pp73
		return tag.Python == exact && strings.HasPrefix(tag.ABI, fmt.Sprintf("pypy%d%d_", major, minor))
	}
}

// Legacy manylinux names and the glibc minor version they stand for.
var legacyManylinux = map[string]int{"manylinux1": 5, "manylinux2010": 12, "manylinux2014": 17}

// splitLinux cuts a linux platform tag into its family key and architecture:
// "manylinux_2_17_x86_64" -> ("manylinux_2_17", "x86_64").
func splitLinux(plat string) (family, arch string) {
	for legacy := range legacyManylinux {
		if rest, ok := strings.CutPrefix(plat, legacy+"_"); ok {
			return legacy, rest
		}
	}
	if rest, ok := strings.CutPrefix(plat, "linux_"); ok {
		return "linux", rest
	}
	for _, fam := range []string{"manylinux_", "musllinux_"} {
		if rest, ok := strings.CutPrefix(plat, fam); ok {
			p := strings.SplitN(rest, "_", 3)
			if len(p) == 3 {
				return fam + p[0] + "_" + p[1], p[2]
			}
		}
	}
	return "", ""
}

// libcVersion returns the libc (major, minor) a manylinux or musllinux family key requires.
func libcVersion(family string) (kind string, major, minor int, ok bool) {
	if m, legacy := legacyManylinux[family]; legacy {
		return "manylinux", 2, m, true
	}
	for _, k := range []string{"manylinux", "musllinux"} {
		if rest, found := strings.CutPrefix(family, k+"_"); found {
			p := strings.Split(rest, "_")
			if len(p) != 2 {
				return "", 0, 0, false
			}
			a, err1 := strconv.Atoi(p[0])
			b, err2 := strconv.Atoi(p[1])
			return k, a, b, err1 == nil && err2 == nil
		}
	}
	return "", 0, 0, false
}

// splitMac cuts "macosx_11_0_arm64" into 11, 0, "arm64".
func splitMac(plat string) (major, minor int, arch string, ok bool) {
	rest, found := strings.CutPrefix(plat, "macosx_")
	if !found {
		return 0, 0, "", false
	}
	p := strings.SplitN(rest, "_", 3)
	if len(p) != 3 {
		return 0, 0, "", false
	}
	a, err1 := strconv.Atoi(p[0])
	b, err2 := strconv.Atoi(p[1])
	return a, b, p[2], err1 == nil && err2 == nil
}

// macArchs lists the wheel architectures a macOS machine architecture can load.
var macArchs = map[string][]string{
	"arm64":  {"arm64", "universal2"},
	"x86_64": {"x86_64", "intel", "fat64", "fat3", "universal", "universal2"},
}

// platformSupports reports whether a machine of platform target can load a wheel built
// for platform wheel.
func platformSupports(target, wheel string) bool {
	if target == "" {
		return false
	}
	if target == wheel {
		return true
	}
	if tfam, tarch := splitLinux(target); tfam != "" {
		wfam, warch := splitLinux(wheel)
		if wfam == "" || warch != tarch {
			return false
		}
		if wfam == "linux" {
			return true
		}
		tk, tmaj, tmin, ok1 := libcVersion(tfam)
		wk, wmaj, wmin, ok2 := libcVersion(wfam)
		if tfam == "linux" {
			return false
		}
		return ok1 && ok2 && tk == wk && (wmaj < tmaj || (wmaj == tmaj && wmin <= tmin))
	}
	if tmaj, tmin, tarch, ok := splitMac(target); ok {
		wmaj, wmin, warch, ok := splitMac(wheel)
		if !ok || wmaj > tmaj || (wmaj == tmaj && wmin > tmin) {
			return false
		}
		for _, a := range macArchs[tarch] {
			if a == warch {
				return true
			}
		}
		return tarch == warch
	}
	return false
}
