package maasclient

import (
	"context"
	"strconv"
)

// BootResource is an image MAAS holds.
type BootResource struct {
	ID           int    `json:"id"`
	Type         string `json:"type"` // "Synced", "Uploaded"
	Name         string `json:"name"` // "ubuntu/jammy"
	Architecture string `json:"architecture"`
	ResourceURI  string `json:"resource_uri"`
	// Sets are the versions of the image (only when read one by one).
	Sets map[string]BootResourceSet `json:"sets,omitempty"`
}

// BootResourceSet is one version of a boot resource.
type BootResourceSet struct {
	Version  string                      `json:"version"`
	Label    string                      `json:"label"`
	Size     int64                       `json:"size"`
	Complete bool                        `json:"complete"`
	Progress float64                     `json:"progress"`
	Files    map[string]BootResourceFile `json:"files"`
}

// BootResourceFile is one file of a set.
type BootResourceFile struct {
	Filename string  `json:"filename"`
	Filetype string  `json:"filetype"`
	Size     int64   `json:"size"`
	SHA256   string  `json:"sha256"`
	Complete bool    `json:"complete"`
	Progress float64 `json:"progress"`
}

// BootResources lists boot resources; typ filters ("synced" or "uploaded"; empty for
// all). Any other type is ErrBadRequest.
func (c *Client) BootResources(ctx context.Context, typ string) ([]BootResource, error) {
	p := &Params{}
	if typ != "" {
		p.Add("type", typ)
	}
	return get[[]BootResource](ctx, c, "boot-resources/", "", p)
}

// BootResource reads one boot resource with its sets.
func (c *Client) BootResource(ctx context.Context, id int) (BootResource, error) {
	return get[BootResource](ctx, c, "boot-resources/"+strconv.Itoa(id)+"/", "", nil)
}

// ImportBootResources starts importing the selected images from the boot sources
// (MAAS starts no second import while one runs). An import first refreshes the boot
// source cache that selections are validated against.
func (c *Client) ImportBootResources(ctx context.Context) error {
	return c.Post(ctx, "boot-resources/", "import", nil, nil)
}

// IsImporting reports whether an import is running.
func (c *Client) IsImporting(ctx context.Context) (bool, error) {
	return get[bool](ctx, c, "boot-resources/", "is_importing", nil)
}

// StopImport stops a running import.
func (c *Client) StopImport(ctx context.Context) error {
	return c.Post(ctx, "boot-resources/", "stop_import", nil, nil)
}
