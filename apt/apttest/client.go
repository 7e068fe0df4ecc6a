package apttest

import (
	"os"
	"path/filepath"
	"strings"
)

// ClientConfig writes an isolated configuration for the real apt client under dir: every
// Dir::Etc, Dir::State and Dir::Cache path points inside dir, so nothing of the host's
// /etc/apt (apt.conf.d, sources, keys, preferences) leaks in; the architecture is amd64;
// apt's sandbox user is root (tests run as root). sourcesList is the content of
// sources.list (one "deb [signed-by=...] URL suite component" line per source). It
// returns the environment to run apt-get and apt-cache with.
func ClientConfig(dir, sourcesList string) ([]string, error) {
	for _, d := range []string{"etc/apt.conf.d", "etc/preferences.d", "etc/sources.list.d", "etc/trusted.gpg.d",
		"state/lists/partial", "cache/archives/partial", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "state/status"), nil, 0o644); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(sourcesList, "\n") {
		sourcesList += "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "etc/sources.list"), []byte(sourcesList), 0o644); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("Dir \"/\";\n")
	for _, kv := range [][2]string{
		{"Dir::Etc", "etc"}, {"Dir::Etc::main", "etc/apt.conf"}, {"Dir::Etc::Parts", "etc/apt.conf.d"},
		{"Dir::Etc::SourceList", "etc/sources.list"}, {"Dir::Etc::SourceParts", "etc/sources.list.d"},
		{"Dir::Etc::TrustedParts", "etc/trusted.gpg.d"}, {"Dir::Etc::Trusted", "etc/trusted.gpg"},
		{"Dir::Etc::Preferences", "etc/preferences"}, {"Dir::Etc::PreferencesParts", "etc/preferences.d"},
		{"Dir::State", "state"}, {"Dir::State::Lists", "state/lists"}, {"Dir::State::status", "state/status"},
		{"Dir::Cache", "cache"}, {"Dir::Cache::archives", "cache/archives"}, {"Dir::Log", "log"},
	} {
		b.WriteString(kv[0] + " \"" + filepath.Join(dir, kv[1]) + "\";\n")
	}
	b.WriteString(`APT::Architectures { "amd64"; };
APT::Architecture "amd64";
APT::Sandbox::User "root";
Acquire::Languages "none";
Acquire::Retries "0";
Acquire::http::Proxy "DIRECT";
Debug::NoLocking "true";
`)
	conf := filepath.Join(dir, "apt.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	return []string{"APT_CONFIG=" + conf, "LC_ALL=C", "http_proxy=", "HTTP_PROXY="}, nil
}
