package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/maasclient"
	"github.com/airgapkit/airgap/rpm"
	"github.com/airgapkit/airgap/site"
)

// maasYumReposCmd prints (or deploys with) the cloud-init user data that points a
// CentOS, RHEL or Rocky machine at the rpm mirrors.
func (a *app) maasYumReposCmd() *cobra.Command {
	var (
		baseURL, deploy, distro string
		conn                    maasFlags
		keepVendor              bool
	)
	cmd := &cobra.Command{
		Use:   "yum-repos [MIRROR...]",
		Short: "Print cloud-init user data (yum_repos) that points a CentOS/RHEL/Rocky machine at the rpm mirrors",
		Long: "Writes #cloud-config user data with one yum_repos entry per repository of the named rpm\n" +
			"mirrors (all by default): baseurl, gpgcheck=1, repo_gpgcheck=1 and gpgkey naming the vendor's\n" +
			"key and, for a filtered mirror, the operator's; a first-boot command disables the\n" +
			"repositories the image shipped with. URLs are under external_url (or --url). With\n" +
			"--deploy SYSTEM_ID the machine is deployed with it (MAAS user_data).",
		RunE: func(cmd *cobra.Command, names []string) error {
			ctx := cmd.Context()
			cfg, err := a.config()
			if err != nil {
				return err
			}
			if baseURL == "" {
				baseURL = cfg.ExternalURL
			}
			if baseURL == "" {
				return fmt.Errorf("--url is required (or external_url in the config)")
			}
			var mirrors []*site.RPMMirror
			for _, m := range cfg.Mirrors.RPM {
				if len(names) == 0 || containsName(names, m.Name()) {
					mirrors = append(mirrors, m)
				}
			}
			if len(mirrors) == 0 {
				return fmt.Errorf("no rpm mirror in the config matches %v", names)
			}
			s, err := cfg.OpenStore(ctx)
			if err != nil {
				return err
			}
			cc := maasclient.CloudConfig{DisableVendorRepos: !keepVendor}
			for _, m := range mirrors {
				repos, err := rpm.Repos(ctx, s, site.Ref(m))
				if err != nil {
					return fmt.Errorf("%s: not published yet (airgap sync first): %w", site.Ref(m), err)
				}
				base := strings.TrimSuffix(baseURL, "/") + "/" + site.Ref(m)
				for _, d := range rpm.RepoDefs(base, m.Name(), repos, !m.Pristine) {
					cc.YumRepos = append(cc.YumRepos, maasclient.YumRepo{ID: d.ID, Name: d.Name, BaseURL: d.BaseURL,
						GPGCheck: d.GPGCheck, RepoGPGCheck: d.RepoGPGCheck, GPGKeys: d.GPGKeys})
				}
			}
			ud, err := cc.Marshal()
			if err != nil {
				return err
			}
			if deploy == "" {
				_, err = cmd.OutOrStdout().Write(ud)
				return err
			}
			client, err := conn.client(a.log)
			if err != nil {
				return err
			}
			mach, err := client.Deploy(ctx, deploy, maasclient.DeployOptions{DistroSeries: distro, UserData: ud})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deploying %s (%s) with %d yum repos\n", mach.SystemID, mach.Hostname, len(cc.YumRepos))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&baseURL, "url", "", "URL clients reach the mirror at (default external_url)")
	f.BoolVar(&keepVendor, "keep-vendor-repos", false, "do not disable the repositories the image ships with")
	f.StringVar(&deploy, "deploy", "", "deploy this machine (system id) with the user data instead of printing it")
	f.StringVar(&distro, "distro-series", "", "with --deploy: the release to deploy, e.g. custom/rocky9 or centos/centos8")
	conn.add(f, "with --deploy: ")
	return cmd
}

func containsName(names []string, n string) bool {
	for _, x := range names {
		if x == n || x == "rpm/"+n {
			return true
		}
	}
	return false
}
