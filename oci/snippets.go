package oci

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ClientOptions describe how clients inside the gap reach the mirror.
type ClientOptions struct {
	// PlainHTTP: the mirror speaks http (containerd: http:// host; containers: insecure).
	PlainHTTP bool
	// CAFile is the CA certificate clients trust for the mirror (containerd "ca").
	CAFile string
	// SkipVerify turns TLS verification off (containerd "skip_verify").
	SkipVerify bool
}

// Namespace returns the repository prefix under which images of upstream registry
// upstream ("docker.io") live on the target, e.g. "mirror/docker.io", or "" when they
// sit at the top. Flattened mappings rename repositories, which clients' mirror
// settings cannot express (ErrInvalidReference).
func (mp Mapping) Namespace(upstream string) (string, error) {
	if mp.Flatten {
		return "", fmt.Errorf("%w: a flattened mapping cannot be expressed as a client mirror path", ErrInvalidReference)
	}
	var parts []string
	if p := strings.Trim(mp.Prefix, "/"); p != "" {
		parts = append(parts, p)
	}
	if !mp.StripRegistry {
		parts = append(parts, strings.ReplaceAll(upstream, ":", "-"))
	}
	return strings.Join(parts, "/"), nil
}

func upstreamServer(upstream string) string {
	if upstream == DockerHub {
		return "https://registry-1.docker.io"
	}
	return "https://" + upstream
}

// HostsToml writes containerd's /etc/containerd/certs.d/<upstream>/hosts.toml sending
// pulls of upstream to the mirror named by mp (mp.Registry is the mirror's host[:port];
// for the read-only NewHandler use Mapping{Registry: host} with no prefix). The mirror
// is used for pull and resolve; the upstream stays as the fallback server.
func HostsToml(upstream string, mp Mapping, o ClientOptions) (string, error) {
	ns, err := mp.Namespace(upstream)
	if err != nil {
		return "", err
	}
	scheme := "https"
	if o.PlainHTTP {
		scheme = "http"
	}
	u := scheme + "://" + mp.Registry + "/v2"
	if ns != "" {
		u += "/" + ns
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# containerd: /etc/containerd/certs.d/%s/hosts.toml\n", upstream)
	fmt.Fprintf(&b, "server = %s\n\n", strconv.Quote(upstreamServer(upstream)))
	fmt.Fprintf(&b, "[host.%s]\n", strconv.Quote(u))
	b.WriteString("  capabilities = [\"pull\", \"resolve\"]\n")
	b.WriteString("  override_path = true\n")
	if o.CAFile != "" {
		fmt.Fprintf(&b, "  ca = %s\n", strconv.Quote(o.CAFile))
	}
	if o.SkipVerify {
		b.WriteString("  skip_verify = true\n")
	}
	return b.String(), nil
}

// RegistriesConf writes a containers-registries.conf(5) (v2) drop-in for podman,
// skopeo, buildah and CRI-O: one [[registry]] per upstream with the mirror as its
// [[registry.mirror]].
func RegistriesConf(upstreams []string, mp Mapping, o ClientOptions) (string, error) {
	ups := append([]string(nil), upstreams...)
	sort.Strings(ups)
	var b strings.Builder
	b.WriteString("# containers-registries.conf(5): /etc/containers/registries.conf.d/50-airgap.conf\n")
	for _, up := range ups {
		ns, err := mp.Namespace(up)
		if err != nil {
			return "", err
		}
		loc := mp.Registry
		if ns != "" {
			loc += "/" + ns
		}
		fmt.Fprintf(&b, "\n[[registry]]\nprefix = %s\nlocation = %s\n\n", strconv.Quote(up), strconv.Quote(up))
		fmt.Fprintf(&b, "[[registry.mirror]]\nlocation = %s\n", strconv.Quote(loc))
		if o.PlainHTTP || o.SkipVerify {
			b.WriteString("insecure = true\n")
		}
	}
	return b.String(), nil
}
