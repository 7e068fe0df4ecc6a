package site

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/airgapkit/airgap/store"
)

// Config is airgap.yaml: one file for both sides of the gap. Relative paths are relative
// to the file's directory (see Path).
type Config struct {
	// Store is a directory (default "mirror") or an s3:// URL (see OpenStore).
	Store string `yaml:"store"`
	// SigningKey is the operator's private OpenPGP key: re-signed mirrors and bundles are
	// signed with it.
	SigningKey string `yaml:"signing_key"`
	// TrustedKeys are the operator public keys an import accepts.
	TrustedKeys []string `yaml:"trusted_keys"`
	// Listen is serve's address (default 127.0.0.1:8080).
	Listen string `yaml:"listen"`
	// ExternalURL is where clients reach the mirror, for protocols that write absolute
	// links and for the client snippets.
	ExternalURL string    `yaml:"external_url"`
	TLS         *TLSFiles `yaml:"tls"`
	// Hosts makes the mirror transparent: a request for one of these host names (by its
	// Host header, or in the absolute URI a proxy client sends) is answered by the named
	// mirrors (kind/name: one, or a list when several share a host at different paths),
	// each at its upstream URL's path, so that clients keep their stock URLs.
	Hosts map[string]HostTargets `yaml:"hosts"`
	// Serve bounds what clients may hold: timeouts and connection caps.
	Serve ServeOptions `yaml:"serve"`
	// Keep is how many generations per mirror gc keeps (0: all).
	Keep int `yaml:"keep"`

	Mirrors Mirrors `yaml:",inline"`

	dir string // directory of the config file
}

// HostTargets are the mirrors (kind/name) one host name routes to: a single name or a
// list in YAML.
type HostTargets []string

// UnmarshalYAML accepts "apt/ubuntu" as well as [apt/debian, apt/debian-security].
func (h *HostTargets) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*h = HostTargets{n.Value}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*h = list
	return nil
}

// TLSFiles names a certificate and key in PEM files.
type TLSFiles struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// ConfigError names the file, line and key a bad value came from. It matches
// store.ErrConfig.
type ConfigError struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

// Is makes a ConfigError match store.ErrConfig.
func (e *ConfigError) Is(target error) bool { return target == store.ErrConfig }

// Load reads and validates a config file. Unknown keys and bad values are errors that
// name the key and the line.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse reads and validates a config given as bytes; path names it in errors and anchors
// its relative paths.
func Parse(path string, b []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("%s: %w%.0w", path, err, store.ErrConfig)
	}
	cfg := &Config{dir: filepath.Dir(path)}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) { // an empty file is an empty config
		return nil, fmt.Errorf("%s: %w%.0w", path, err, store.ErrConfig)
	}
	if err := cfg.validate(path, &root); err != nil {
		return nil, err
	}
	return cfg, nil
}

// lineOf finds the line of the value at path (such as "apt", "2", "url") in the document.
func lineOf(root *yaml.Node, path ...string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, part := range path {
		switch n.Kind {
		case yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part {
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
		case yaml.SequenceNode:
			var idx int
			if _, err := fmt.Sscanf(part, "%d", &idx); err != nil || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		default:
			return line
		}
	}
	return line
}

func (c *Config) validate(path string, root *yaml.Node) error {
	// fail reports a bad value at a dotted key (see keyPath).
	fail := func(key string, format string, args ...any) error {
		return &ConfigError{File: path, Line: lineOf(root, keyPath(key)...), Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	if c.Store == "" {
		c.Store = "mirror"
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fail("listen", "want host:port: %v", err)
	}
	if c.ExternalURL != "" {
		u, err := url.Parse(c.ExternalURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fail("external_url", "want an absolute http(s) URL, got %q", c.ExternalURL)
		}
	}
	if c.TLS != nil && (c.TLS.Cert == "" || c.TLS.Key == "") {
		return fail("tls", "needs both cert and key")
	}
	if c.Keep < 0 {
		return fail("keep", "must not be negative")
	}
	all := c.Mirrors.configured()
	for _, cm := range all { // an oci mirror that only receives a provider's images is not empty
		if p, ok := cm.Mirror.(ImageProvider); ok && !reflect.ValueOf(p).IsNil() {
			for _, o := range c.Mirrors.OCI {
				if o != nil && imagesTarget(p) == "oci/"+o.Mirror.Name {
					o.fed = true
				}
			}
		}
	}
	seen := map[string]bool{}
	for _, cm := range all {
		m, key := cm.Mirror, cm.key
		if reflect.ValueOf(m).IsNil() { // "apt:\n  -"
			return fail(key, "empty entry")
		}
		if m.Name() == "" {
			return fail(key, "name is required")
		}
		if err := store.ValidatePath(m.Name()); err != nil || strings.Contains(m.Name(), "/") {
			return fail(key+".name", "%q is not a plain name", m.Name())
		}
		ref := m.Kind() + "/" + m.Name()
		if seen[ref] {
			return fail(key+".name", "%s is configured twice", ref)
		}
		seen[ref] = true
		if err := m.Validate(); err != nil {
			return fail(key, "%v", err)
		}
	}
	for _, cm := range all {
		if p, ok := cm.Mirror.(ImageProvider); ok {
			if msg := checkImagesTo(p, c.Mirrors.All()); msg != "" {
				return fail(cm.key+".images_to", "%s", msg)
			}
		}
	}
	if err := c.Mirrors.wireHelm(); err != nil {
		return fail("helm", "%v", err)
	}
	for _, h := range c.Mirrors.Helm {
		h.values = nil
		for _, v := range h.Values {
			h.values = append(h.values, c.Path(v))
		}
	}
	for host, targets := range c.Hosts {
		if len(targets) == 0 {
			return fail("hosts."+host, "names no mirror")
		}
		for _, target := range targets {
			if !seen[target] {
				return fail("hosts."+host, "%q names no configured mirror (want kind/name, e.g. apt/ubuntu)", target)
			}
		}
		if _, err := c.hostRoutes(host); err != nil {
			return fail("hosts."+host, "%v", err)
		}
	}
	return nil
}

// keyPath splits a dotted config key. Under hosts: the rest is one host name.
func keyPath(key string) []string {
	if rest, ok := strings.CutPrefix(key, "hosts."); ok {
		return []string{"hosts", rest}
	}
	return strings.Split(key, ".")
}

// Path resolves a config-relative path.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}
