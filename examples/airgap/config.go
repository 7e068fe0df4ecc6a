package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/airgapkit/airgap/store"
)

// Config is airgap.yaml. Relative paths are relative to the file's directory.
type Config struct {
	Store       string            `yaml:"store"`
	SigningKey  string            `yaml:"signing_key"`
	TrustedKeys []string          `yaml:"trusted_keys"` // operator public keys an import accepts
	Listen      string            `yaml:"listen"`
	ExternalURL string            `yaml:"external_url"`
	TLS         *TLSFiles         `yaml:"tls"`
	Hosts       map[string]string `yaml:"hosts"`
	Keep        int               `yaml:"keep"` // generations per mirror that gc keeps

	Mirrors mirrorConfigs `yaml:",inline"`

	dir string // directory of the config file
}

// TLSFiles names a certificate and key in PEM files.
type TLSFiles struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// FilesMirror is the generic kind: arbitrary URLs (http(s), s3::, git::, file paths with
// ?checksum=) fetched, verified and published under files/<name>/.
type FilesMirror struct {
	Name string   `yaml:"name"`
	URLs []string `yaml:"urls"`
}

// configError names the key and line a bad value came from.
type configError struct {
	file string
	line int
	key  string
	msg  string
}

func (e *configError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.file, e.line, e.key, e.msg)
}

// loadConfig reads and validates a config file. Unknown keys and bad values are errors
// that name the key and the line.
func loadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseConfig(path, b)
}

func parseConfig(path string, b []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg := &Config{dir: filepath.Dir(path)}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) { // an empty file is an empty config
		return nil, fmt.Errorf("%s: %w", path, err)
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
		return &configError{file: path, line: lineOf(root, keyPath(key)...), key: key, msg: fmt.Sprintf(format, args...)}
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
	seen := map[string]bool{}
	for _, cm := range c.Mirrors.all() {
		m, key := cm.mirror, cm.key
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
	for host, target := range c.Hosts {
		if !seen[target] {
			return fail("hosts."+host, "%q names no configured mirror (want kind/name, e.g. apt/ubuntu)", target)
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

// path resolves a config-relative path.
func (c *Config) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}
