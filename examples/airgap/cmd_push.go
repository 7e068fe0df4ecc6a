package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/oci"
	"github.com/airgapkit/airgap/site"
)

func (a *app) pushCmd() *cobra.Command {
	var to oci.Mapping
	var plainHTTP, referrers bool
	var username, password string
	cmd := &cobra.Command{
		Use:   "push OCI-MIRROR --to registry.internal [--prefix mirror] [--flatten]",
		Short: "Push a published OCI mirror into a registry inside the gap (Harbor, distribution)",
		Long: "Copies every tag of the mirror, digests unchanged, to the target registry with the\n" +
			"repository mapping given (docker.io/library/nginx -> registry.internal/<prefix>/docker.io/library/nginx;\n" +
			"--strip-registry drops the source host, --flatten joins the path for registries that cannot\n" +
			"nest). Blobs the target has are skipped, blobs pushed earlier in the run are mounted, and an\n" +
			"image already there costs one HEAD. Prints the containerd hosts.toml for each upstream.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, s, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			ms, err := cfg.Mirrors.Select(args)
			if err != nil {
				return err
			}
			if ms[0].Kind() != "oci" {
				return fmt.Errorf("%s is not an oci mirror", site.Ref(ms[0]))
			}
			if to.Registry == "" {
				return fmt.Errorf("--to is required")
			}
			client := &oci.Client{Logger: a.log, Registries: []oci.RegistryConfig{{Host: to.Registry, PlainHTTP: plainHTTP, Username: username, Password: password}}}
			opt := oci.PushOptions{Client: client, Logger: a.log, Referrers: referrers}
			if om, ok := ms[0].(*site.OCIMirror); ok {
				opt.MaxDescriptors = om.MaxDescriptors // what the sync allowed, the push allows
			}
			st, err := oci.Push(cmd.Context(), s, site.Ref(ms[0]), to, opt)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d images (%d unchanged), %d manifests written, %d blobs uploaded, %d mounted, %d already there\n",
				st.Images, st.Unchanged, st.Manifests, st.BlobsUploaded, st.BlobsMounted, st.BlobsExisting)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&to.Registry, "to", "", "target registry host[:port]")
	f.StringVar(&to.Prefix, "prefix", "", "repository prefix at the target")
	f.BoolVar(&to.StripRegistry, "strip-registry", false, "drop the source registry host from repository names")
	f.BoolVar(&to.Flatten, "flatten", false, "join nested names (for Harbor projects)")
	f.BoolVar(&plainHTTP, "plain-http", false, "talk plain http to the target (never inferred)")
	f.BoolVar(&referrers, "referrers", true, "push signatures and attestations too")
	f.StringVar(&username, "username", "", "target registry user (default: docker config.json)")
	f.StringVar(&password, "password", "", "target registry password")
	return cmd
}
