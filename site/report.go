package site

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/oci"
	"github.com/airgapkit/airgap/rpm"
	"github.com/airgapkit/airgap/simplestreams"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
)

// StatusReport is the whole status of a site: what /status.json serves, `airgap status
// --json` prints and the status page at / shows. Field names are stable (see
// MirrorStatus).
type StatusReport struct {
	// Generated is when the report was made (the "now" of every expiry figure).
	Generated time.Time `json:"generated"`
	// URL is where clients reach the mirror, as the snippets use it.
	URL     string         `json:"url"`
	Mirrors []MirrorStatus `json:"mirrors"`
	// DNS points the transparent host names (hosts:) at the mirror; nil without hosts:
	// or without an address to point them at.
	DNS *DNSRecords `json:"dns,omitempty"`
}

// DNSRecords are the lines that point every transparent host name at the mirror.
type DNSRecords struct {
	Hosts     []string `json:"hosts"`
	Addresses []string `json:"addresses"`
	// Lines are /etc/hosts lines (WriteDNS's "hosts" format; `airgap hosts` writes the
	// other resolvers' syntax).
	Lines string `json:"lines"`
}

// Snippet is a piece of client configuration that uses one mirror, ready to paste.
type Snippet struct {
	// Title says what it is for ("apt sources", "pip").
	Title string `json:"title"`
	// File is where Text goes on the client; "" when Text is shell commands to run there.
	File string `json:"file,omitempty"`
	Text string `json:"text"`
}

// ReportOptions say where clients reach the mirror.
type ReportOptions struct {
	// Now is the time expiry is measured from (default time.Now()).
	Now time.Time
	// URL is the mirror's base URL as clients reach it (scheme://host[:port]); the
	// config's external_url wins when set.
	URL string
	// Addresses are the mirror's IP addresses, for the DNS lines; by default the host of
	// the URL when it is an IP address.
	Addresses []net.IP
}

// snippeter is implemented by kinds that know how clients use them. base is the URL of
// the mirror's own tree (ending in /).
type snippeter interface {
	Snippets(ctx context.Context, s store.Store, base string, st *MirrorStatus) ([]Snippet, error)
}

// Report is Status with the base URL, each mirror's client snippets and the DNS lines.
func (c *Config) Report(ctx context.Context, s store.Store, opt ReportOptions) (*StatusReport, error) {
	return c.report(ctx, s, opt, nil)
}

func (c *Config) report(ctx context.Context, s store.Store, opt ReportOptions, cache *itemCounts) (*StatusReport, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	base := strings.TrimSuffix(opt.URL, "/")
	if c.ExternalURL != "" {
		base = strings.TrimSuffix(c.ExternalURL, "/")
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: %q is not a URL clients can reach the mirror at", store.ErrConfig, base)
	}
	list, err := c.status(ctx, s, opt.Now, cache)
	if err != nil {
		return nil, err
	}
	rep := &StatusReport{Generated: opt.Now.UTC(), URL: base, Mirrors: list}
	firstOCI := ""
	if len(c.Mirrors.OCI) > 0 {
		firstOCI = Ref(c.Mirrors.OCI[0])
	}
	for i := range rep.Mirrors {
		st := &rep.Mirrors[i]
		m := c.Mirrors.Find(st.Ref)
		if m == nil || st.Published.IsZero() || st.Error != "" {
			continue
		}
		st.URL = base + "/" + st.Ref + "/"
		switch m := m.(type) {
		case *OCIMirror:
			st.Snippets, err = m.snippets(ctx, s, u, st.Ref == firstOCI)
		case *SnapsMirror:
			st.Snippets, err = m.snippets(ctx, s, &Env{ExternalURL: c.ExternalURL}, base)
		case snippeter:
			st.Snippets, err = m.Snippets(ctx, s, st.URL, st)
		}
		if err != nil {
			st.Error = err.Error()
		}
	}
	addrs := opt.Addresses
	if ip := net.ParseIP(u.Hostname()); len(addrs) == 0 && ip != nil && !ip.IsUnspecified() {
		addrs = []net.IP{ip}
	}
	if len(c.Hosts) > 0 && len(addrs) > 0 {
		var b bytes.Buffer
		if err := c.WriteDNS(&b, "hosts", addrs); err != nil {
			return nil, err
		}
		d := &DNSRecords{Hosts: c.HostNames(), Lines: b.String()}
		for _, a := range addrs {
			d.Addresses = append(d.Addresses, a.String())
		}
		rep.DNS = d
	}
	return rep, nil
}

// keyFingerprints reads the OpenPGP public key at p in snap; nil when the tree has none.
func keyFingerprints(ctx context.Context, s store.Store, snap *store.Snapshot, p string) ([]string, error) {
	f, ok := snap.Lookup(p)
	if !ok {
		return nil, nil
	}
	b, err := store.ReadBlob(ctx, s, f.Digest, 1<<20)
	if err != nil {
		return nil, err
	}
	kr, err := pgp.ReadKeyring(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return kr.Fingerprints(), nil
}

// clientKeyring is where a client keeps a keyring the config names: there itself when
// absolute (the distribution's own, /usr/share/keyrings/...), else in /etc/apt/keyrings.
func clientKeyring(configured string) string {
	if path.IsAbs(configured) {
		return configured
	}
	return "/etc/apt/keyrings/" + path.Base(configured)
}

func (m *AptMirror) armoredKey() string {
	asc, _ := (&apt.Publisher{KeyName: m.KeyName}).KeyFiles()
	return asc
}

// Signature: the upstream's keys when the suites are pristine, else the operator's key
// the tree exports (KeyName.asc).
func (m *AptMirror) Signature(ctx context.Context, s store.Store, snap *store.Snapshot) (Signature, error) {
	if m.Pristine {
		suites, err := apt.Suites(ctx, s, Ref(m))
		if err != nil {
			return Signature{}, err
		}
		sig := Signature{By: "upstream", Keyring: m.Keyring}
		for _, ps := range suites {
			for _, f := range ps.Signers {
				if !slices.Contains(sig.Fingerprints, f) {
					sig.Fingerprints = append(sig.Fingerprints, f)
				}
			}
		}
		return sig, nil
	}
	fps, err := keyFingerprints(ctx, s, snap, m.armoredKey())
	return Signature{By: "operator", Fingerprints: fps, Keyring: m.armoredKey()}, err
}

// Snippets: the operator key for signed-by (re-signed) and a sources.list line per
// suite.
func (m *AptMirror) Snippets(ctx context.Context, s store.Store, base string, st *MirrorStatus) ([]Snippet, error) {
	suites, err := apt.Suites(ctx, s, Ref(m))
	if err != nil {
		return nil, err
	}
	var out []Snippet
	keyring := "/etc/apt/keyrings/airgap-" + m.Name() + ".asc"
	if m.Pristine {
		keyring = clientKeyring(m.Keyring)
		if keyring != m.Keyring { // not the distribution's own keyring file
			out = append(out, Snippet{Title: "apt: the upstream key for signed-by",
				Text: fmt.Sprintf("# the tree keeps the upstream's signatures: copy its key (keyring: %s in airgap.yaml) to %s\n", m.Keyring, keyring)})
		}
	} else {
		out = append(out, Snippet{Title: "apt: the operator key for signed-by",
			Text: fmt.Sprintf("install -d /etc/apt/keyrings && curl -fsSL %s%s -o %s\n", base, m.armoredKey(), keyring)})
	}
	var lines strings.Builder
	for _, ps := range suites {
		fmt.Fprintf(&lines, "deb [signed-by=%s] %s %s %s\n", keyring, base, ps.Name, strings.Join(ps.Components, " "))
	}
	return append(out, Snippet{Title: "apt sources", File: "/etc/apt/sources.list.d/airgap-" + m.Name() + ".list", Text: lines.String()}), nil
}

// Signature: the upstream keyring (pristine) or the operator key the tree exports.
func (m *SimplestreamsMirror) Signature(ctx context.Context, s store.Store, snap *store.Snapshot) (Signature, error) {
	u, ok, err := simplestreams.ReadUpstreamState(snap)
	if err != nil {
		return Signature{}, err
	}
	if ok && u.Pristine {
		return Signature{By: "upstream", Keyring: m.Keyring}, nil
	}
	fps, err := keyFingerprints(ctx, s, snap, simplestreams.ArmoredPublicKeyPath)
	return Signature{By: "operator", Fingerprints: fps, Keyring: simplestreams.PublicKeyPath}, err
}

// Snippets: the MAAS CLI command that makes the mirror a boot source.
func (m *SimplestreamsMirror) Snippets(ctx context.Context, s store.Store, base string, st *MirrorStatus) ([]Snippet, error) {
	if st.SignedBy.By == "upstream" {
		return []Snippet{{Title: "MAAS boot source", Text: fmt.Sprintf(
			"maas $PROFILE boot-sources create url=%s keyring_filename=%s\n", base, clientKeyring(m.Keyring))}}, nil
	}
	return []Snippet{{Title: "MAAS boot source", Text: fmt.Sprintf(
		"curl -fsSL %s%s -o airgap-%s.gpg\nmaas $PROFILE boot-sources create url=%s keyring_data@=airgap-%s.gpg\n",
		base, simplestreams.PublicKeyPath, m.Name(), base, m.Name())}}, nil
}

// Signature: the vendor's keys (pristine repositories) or the operator's (re-signed
// repomd.xml).
func (m *RPMMirror) Signature(ctx context.Context, s store.Store, snap *store.Snapshot) (Signature, error) {
	if m.Pristine {
		repos, err := rpm.Repos(ctx, s, Ref(m))
		if err != nil {
			return Signature{}, err
		}
		sig := Signature{By: "upstream", Keyring: rpm.UpstreamKeyPath}
		for _, r := range repos {
			for _, f := range r.Signers {
				if !slices.Contains(sig.Fingerprints, f) {
					sig.Fingerprints = append(sig.Fingerprints, f)
				}
			}
		}
		return sig, nil
	}
	fps, err := keyFingerprints(ctx, s, snap, rpm.MirrorKeyPath)
	return Signature{By: "operator", Fingerprints: fps, Keyring: rpm.MirrorKeyPath}, err
}

// Snippets: the .repo file for /etc/yum.repos.d (what the handler serves at
// /<name>.repo).
func (m *RPMMirror) Snippets(ctx context.Context, s store.Store, base string, st *MirrorStatus) ([]Snippet, error) {
	repos, err := rpm.Repos(ctx, s, Ref(m))
	if err != nil {
		return nil, err
	}
	text := rpm.RepoFile(rpm.RepoDefs(base, m.Name(), repos, st.SignedBy.By == "operator"))
	return []Snippet{{Title: "dnf repository", File: "/etc/yum.repos.d/" + rpm.RepoFileName(Ref(m)), Text: string(text)}}, nil
}

// Snippets: pip.conf (trusting the host when the mirror speaks plain http).
func (m *PyPIMirror) Snippets(ctx context.Context, s store.Store, base string, st *MirrorStatus) ([]Snippet, error) {
	text := fmt.Sprintf("[global]\nindex-url = %ssimple/\n", base)
	if u, err := url.Parse(base); err == nil && u.Scheme == "http" {
		text += "trusted-host = " + u.Hostname() + "\n"
	}
	return []Snippet{{Title: "pip", File: "/etc/pip.conf", Text: text}}, nil
}

// Snippets: ansible.cfg's galaxy server.
func (m *GalaxyMirror) Snippets(ctx context.Context, s store.Store, base string, st *MirrorStatus) ([]Snippet, error) {
	text := fmt.Sprintf("[galaxy]\nserver_list = %s\n\n[galaxy_server.%s]\nurl = %sapi/\n", m.Name(), m.Name(), base)
	return []Snippet{{Title: "ansible-galaxy", File: "ansible.cfg", Text: text}}, nil
}

// Snippets: a download command per file (the first few).
func (m *FilesMirror) Snippets(ctx context.Context, s store.Store, base string, st *MirrorStatus) ([]Snippet, error) {
	items, err := m.Inventory(ctx, s)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for i, it := range items {
		if i == 10 {
			fmt.Fprintf(&b, "# ... %d more under %s\n", len(items)-i, base)
			break
		}
		fmt.Fprintf(&b, "curl -fO %s%s\n", base, it.Path)
	}
	return []Snippet{{Title: "files", Text: b.String()}}, nil
}

// snippets: a containerd hosts.toml per upstream registry the mirror holds images of.
// The first oci mirror also answers the registry API at /v2/; the others below their
// own prefix, which containerd reaches with override_path.
func (m *OCIMirror) snippets(ctx context.Context, s store.Store, u *url.URL, atRoot bool) ([]Snippet, error) {
	items, err := m.Inventory(ctx, s)
	if err != nil {
		return nil, err
	}
	var registries []string
	for _, it := range items {
		from := it.Name // the local name, when the upstream is not recorded
		if up, ok := strings.CutPrefix(it.Upstream, "docker://"); ok {
			from = up
		}
		if reg, _, ok := strings.Cut(from, "/"); ok && !slices.Contains(registries, reg) {
			registries = append(registries, reg)
		}
	}
	slices.Sort(registries)
	mp := oci.Mapping{Registry: u.Host}
	if !atRoot {
		mp.Registry += "/" + Ref(m)
	}
	var out []Snippet
	for _, reg := range registries {
		text, err := oci.HostsToml(reg, mp, oci.ClientOptions{PlainHTTP: u.Scheme == "http"})
		if err != nil {
			return nil, err
		}
		out = append(out, Snippet{Title: "containerd: " + reg, File: "/etc/containerd/certs.d/" + reg + "/hosts.toml", Text: text})
	}
	return out, nil
}

// snippets: the snapd commands of DeviceSetup, or the side-load script.
func (m *SnapsMirror) snippets(ctx context.Context, s store.Store, env *Env, base string) ([]Snippet, error) {
	d, err := m.DeviceSetup(ctx, s, env, base)
	if err != nil {
		return nil, err
	}
	registered, proxy := d.Commands()
	var out []Snippet
	if registered != nil {
		out = append(out, Snippet{Title: "snapd: the registered proxy store " + d.StoreID, Text: strings.Join(registered, "\n") + "\n"})
	}
	if proxy != nil {
		out = append(out, Snippet{Title: "snapd: this mirror as HTTPS proxy (ca.pem: the local CA)", Text: strings.Join(proxy, "\n") + "\n"})
	}
	if out == nil {
		out = append(out, Snippet{Title: "snaps: side-load", Text: fmt.Sprintf("curl -fsSLO %s/install.sh\nsh install.sh\n", d.StoreURL)})
	}
	return out, nil
}

// Signature: snaps carry the store's assertions, which chain to the root key snapd
// trusts (trusted_keys on the outside).
func (m *SnapsMirror) Signature(ctx context.Context, s store.Store, snap *store.Snapshot) (Signature, error) {
	return Signature{By: "upstream", Keyring: m.TrustedKeys}, nil
}
