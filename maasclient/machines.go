package maasclient

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
)

// Machine is a machine MAAS manages (the fields most callers need).
type Machine struct {
	SystemID     string   `json:"system_id"`
	Hostname     string   `json:"hostname"`
	FQDN         string   `json:"fqdn"`
	Status       int      `json:"status"`
	StatusName   string   `json:"status_name"`
	PowerState   string   `json:"power_state"`
	PowerType    string   `json:"power_type"`
	Architecture string   `json:"architecture"`
	OSystem      string   `json:"osystem"`
	DistroSeries string   `json:"distro_series"`
	Owner        string   `json:"owner"`
	CPUCount     int      `json:"cpu_count"`
	Memory       int64    `json:"memory"` // MiB
	IPAddresses  []string `json:"ip_addresses"`
	TagNames     []string `json:"tag_names"`
	Zone         Zone     `json:"zone"`
	Pool         Pool     `json:"pool"`
	ResourceURI  string   `json:"resource_uri"`
}

// Pool is a resource pool as shown in a machine.
type Pool struct {
	ID          int    `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// MachineFilter narrows Machines; empty fields do not filter.
type MachineFilter struct {
	Hostnames []string
	SystemIDs []string
	Zone      string
	Pool      string
}

func machinePath(id string) string { return "machines/" + url.PathEscape(id) + "/" }

// Machines lists machines.
func (c *Client) Machines(ctx context.Context, f MachineFilter) ([]Machine, error) {
	p := (&Params{}).AddList("hostname", f.Hostnames).AddList("id", f.SystemIDs)
	p.AddOptional("zone", f.Zone)
	p.AddOptional("pool", f.Pool)
	return get[[]Machine](ctx, c, "machines/", "", p)
}

// Machine reads one machine.
func (c *Client) Machine(ctx context.Context, systemID string) (Machine, error) {
	return get[Machine](ctx, c, machinePath(systemID), "", nil)
}

// CommissionOptions tune Commission.
type CommissionOptions struct {
	EnableSSH      bool
	SkipBMCConfig  bool
	SkipNetworking bool
	SkipStorage    bool
	// CommissioningScripts and TestingScripts name scripts or tags ("none": no tests).
	// They are sent as one comma-separated value each: MAAS reads only the last of
	// repeated keys.
	CommissioningScripts []string
	TestingScripts       []string
}

// Commission starts commissioning a machine.
func (c *Client) Commission(ctx context.Context, systemID string, o CommissionOptions) (Machine, error) {
	p := (&Params{}).addFlag("enable_ssh", o.EnableSSH).addFlag("skip_bmc_config", o.SkipBMCConfig).
		addFlag("skip_networking", o.SkipNetworking).addFlag("skip_storage", o.SkipStorage)
	p.AddOptional("commissioning_scripts", strings.Join(o.CommissioningScripts, ","))
	p.AddOptional("testing_scripts", strings.Join(o.TestingScripts, ","))
	return post[Machine](ctx, c, machinePath(systemID), "commission", p)
}

// DeployOptions tune Deploy; empty fields take MAAS's defaults.
type DeployOptions struct {
	// DistroSeries is the release, with its OS for another than default_osystem:
	// "noble", "ubuntu/noble", "ubuntu/24.04", "centos/centos8" (deploy has no
	// separate OS parameter). Empty: default_distro_series.
	DistroSeries string
	HWEKernel    string
	// UserData is cloud-init user data; it is sent base64-encoded as MAAS wants.
	UserData        []byte
	EphemeralDeploy bool
}

// Deploy deploys an allocated or ready machine.
func (c *Client) Deploy(ctx context.Context, systemID string, o DeployOptions) (Machine, error) {
	p := &Params{}
	p.AddOptional("distro_series", o.DistroSeries).AddOptional("hwe_kernel", o.HWEKernel)
	if len(o.UserData) > 0 {
		p.Add("user_data", base64.StdEncoding.EncodeToString(o.UserData))
	}
	p.addFlag("ephemeral_deploy", o.EphemeralDeploy)
	return post[Machine](ctx, c, machinePath(systemID), "deploy", p)
}

// ReleaseOptions tune Release.
type ReleaseOptions struct {
	Comment     string
	Erase       bool
	SecureErase bool
	QuickErase  bool
}

// Release releases a machine back to Ready.
func (c *Client) Release(ctx context.Context, systemID string, o ReleaseOptions) (Machine, error) {
	p := &Params{}
	p.AddOptional("comment", o.Comment)
	p.addFlag("erase", o.Erase).addFlag("secure_erase", o.SecureErase).addFlag("quick_erase", o.QuickErase)
	return post[Machine](ctx, c, machinePath(systemID), "release", p)
}

// QueryPowerState asks the machine's BMC for its power state ("on", "off", ...).
func (c *Client) QueryPowerState(ctx context.Context, systemID string) (string, error) {
	st, err := get[struct {
		State string `json:"state"`
	}](ctx, c, machinePath(systemID), "query_power_state", nil)
	return st.State, err
}

// PowerOn powers a machine on.
func (c *Client) PowerOn(ctx context.Context, systemID string) (Machine, error) {
	return post[Machine](ctx, c, machinePath(systemID), "power_on", nil)
}

// PowerOff powers a machine off.
func (c *Client) PowerOff(ctx context.Context, systemID string) (Machine, error) {
	return post[Machine](ctx, c, machinePath(systemID), "power_off", nil)
}
