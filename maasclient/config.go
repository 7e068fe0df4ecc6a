package maasclient

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// Configuration names that an air-gapped MAAS usually sets (any name MAAS knows works).
const (
	ConfigUpstreamDNS          = "upstream_dns"
	ConfigHTTPProxy            = "http_proxy"
	ConfigEnableHTTPProxy      = "enable_http_proxy"
	ConfigUsePeerProxy         = "use_peer_proxy"
	ConfigBootImagesAutoImport = "boot_images_auto_import"
	ConfigDefaultDistroSeries  = "default_distro_series"
	ConfigDefaultOSystem       = "default_osystem"
	ConfigNTPServers           = "ntp_servers"
	ConfigNTPExternalOnly      = "ntp_external_only"
	ConfigMAASName             = "maas_name"
	ConfigEnableAnalytics      = "enable_analytics"
	ConfigReleaseNotifications = "release_notifications"
)

// GetConfig reads a configuration value as the JSON MAAS returns (a string, a
// boolean, a number or null).
func (c *Client) GetConfig(ctx context.Context, name string) (json.RawMessage, error) {
	return get[json.RawMessage](ctx, c, "maas/", "get_config", (&Params{}).Add("name", name))
}

// GetConfigString reads a configuration value as text: strings as they are, null as
// "", other values as their JSON.
func (c *Client) GetConfigString(ctx context.Context, name string) (string, error) {
	raw, err := c.GetConfig(ctx, name)
	if err != nil {
		return "", err
	}
	var s *string
	if json.Unmarshal(raw, &s) == nil {
		if s == nil {
			return "", nil
		}
		return *s, nil
	}
	return string(raw), nil
}

// GetConfigBool reads a boolean configuration value.
func (c *Client) GetConfigBool(ctx context.Context, name string) (bool, error) {
	s, err := c.GetConfigString(ctx, name)
	if err != nil {
		return false, err
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("maas: config %s = %q is not a boolean", name, s)
	}
	return b, nil
}

// SetConfig sets a configuration value (booleans as "true"/"false").
func (c *Client) SetConfig(ctx context.Context, name, value string) error {
	return c.Post(ctx, "maas/", "set_config", (&Params{}).Add("name", name).Add("value", value), nil)
}
