package maasclient

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// YumRepo is one entry of cloud-init's yum_repos: cloud-init writes it as
// /etc/yum.repos.d/<id>.repo on a CentOS, RHEL or Rocky machine.
type YumRepo struct {
	ID           string
	Name         string
	BaseURL      string
	GPGCheck     bool
	RepoGPGCheck bool
	// GPGKeys are key URLs (the vendor's and the mirror operator's).
	GPGKeys []string
}

// CloudConfig is the cloud-init user data that points a deployed RPM-based machine at
// a mirror: its yum_repos and, with DisableVendorRepos, a first-boot command that
// disables every repository the image shipped with (enabled=1 becomes enabled=0 in
// /etc/yum.repos.d/*.repo) before cloud-init writes the mirror's, so that dnf never
// reaches for the vendor's servers across the gap.
type CloudConfig struct {
	YumRepos           []YumRepo
	DisableVendorRepos bool
}

// disableVendorRepos runs once per instance, in cloud-init's bootcmd (before yum_repos
// are written).
const disableVendorRepos = `for f in /etc/yum.repos.d/*.repo; do [ -e "$f" ] && sed -i 's/^enabled *= *1/enabled=0/' "$f"; done`

// Marshal writes the user data ("#cloud-config" and YAML), ready for DeployOptions.UserData.
func (cc CloudConfig) Marshal() ([]byte, error) {
	doc := &yaml.Node{Kind: yaml.MappingNode}
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	boolean := func(b bool) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(b)} }
	if cc.DisableVendorRepos {
		cmd := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, s := range []string{"cloud-init-per", "once", "airgap-disable-vendor-repos", "sh", "-c", disableVendorRepos} {
			cmd.Content = append(cmd.Content, str(s))
		}
		doc.Content = append(doc.Content, str("bootcmd"), &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{cmd}})
	}
	if len(cc.YumRepos) > 0 {
		repos := &yaml.Node{Kind: yaml.MappingNode}
		seen := map[string]bool{}
		for _, r := range cc.YumRepos {
			if r.ID == "" || seen[r.ID] || strings.ContainsAny(r.ID, " /\n") {
				return nil, fmt.Errorf("%w: yum repo id %q empty, repeated or unsafe", ErrBadRequest, r.ID)
			}
			seen[r.ID] = true
			m := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
				str("name"), str(r.Name), str("baseurl"), str(r.BaseURL), str("enabled"), boolean(true),
				str("gpgcheck"), boolean(r.GPGCheck), str("repo_gpgcheck"), boolean(r.RepoGPGCheck)}}
			if len(r.GPGKeys) > 0 {
				m.Content = append(m.Content, str("gpgkey"), str(strings.Join(r.GPGKeys, " ")))
			}
			repos.Content = append(repos.Content, str(r.ID), m)
		}
		doc.Content = append(doc.Content, str("yum_repos"), repos)
	}
	var b bytes.Buffer
	b.WriteString("#cloud-config\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}
