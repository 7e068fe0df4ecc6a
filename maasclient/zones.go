package maasclient

import (
	"context"
	"net/url"
)

// Zone is a physical zone.
type Zone struct {
	ID          int    `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	ResourceURI string `json:"resource_uri"`
}

func zonePath(name string) string { return "zones/" + url.PathEscape(name) + "/" }

// Zones lists the zones.
func (c *Client) Zones(ctx context.Context) ([]Zone, error) {
	return get[[]Zone](ctx, c, "zones/", "", nil)
}

// Zone reads one zone.
func (c *Client) Zone(ctx context.Context, name string) (Zone, error) {
	return get[Zone](ctx, c, zonePath(name), "", nil)
}

// CreateZone adds a zone.
func (c *Client) CreateZone(ctx context.Context, name, description string) (Zone, error) {
	return post[Zone](ctx, c, "zones/", "", (&Params{}).Add("name", name).Add("description", description))
}

// DeleteZone removes a zone.
func (c *Client) DeleteZone(ctx context.Context, name string) error {
	return c.Delete(ctx, zonePath(name))
}
