package maasclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// CustomImageFiletypes are the filetype values MAAS accepts for an uploaded image:
// root tarballs (tgz, tbz, txz) and disk images (dd*).
var CustomImageFiletypes = []string{"tgz", "tbz", "txz", "ddtgz", "ddtbz", "ddtxz", "ddtar", "ddbz2", "ddgz", "ddxz", "ddraw"}

// CustomImage is an image to upload as a boot resource: the alternative to a mirror
// that carries it (a CentOS, RHEL or Rocky image built with packer-maas).
type CustomImage struct {
	// Name is "custom/<name>" (or a name MAAS knows, e.g. "rhel/9").
	Name string
	// Architecture is "<arch>/<subarch>", e.g. "amd64/generic".
	Architecture string
	// Title is what the UI shows. Optional.
	Title string
	// BaseImage is the OS the image deploys as, e.g. "rhel/9" or "centos/8"; MAAS needs
	// it for a custom/ name that is not Ubuntu.
	BaseImage string
	// Filetype is one of CustomImageFiletypes. Empty: tgz.
	Filetype string
	// Content is the image file.
	Content []byte
}

// Validate checks what MAAS would refuse: a name, an arch/subarch architecture, a known
// filetype, and content.
func (ci CustomImage) Validate() error {
	switch {
	case ci.Name == "" || strings.Count(ci.Name, "/") > 1:
		return fmt.Errorf("%w: custom image name %q: want custom/<name>", ErrBadRequest, ci.Name)
	case strings.Count(ci.Architecture, "/") != 1 || strings.HasPrefix(ci.Architecture, "/") || strings.HasSuffix(ci.Architecture, "/"):
		return fmt.Errorf("%w: architecture %q: want <arch>/<subarch>", ErrBadRequest, ci.Architecture)
	case ci.Filetype != "" && !slices.Contains(CustomImageFiletypes, ci.Filetype):
		return fmt.Errorf("%w: filetype %q: want one of %s", ErrBadRequest, ci.Filetype, strings.Join(CustomImageFiletypes, ", "))
	case len(ci.Content) == 0:
		return fmt.Errorf("%w: custom image %s: no content", ErrBadRequest, ci.Name)
	}
	return nil
}

// UploadCustomImage uploads an image as a boot resource (boot-resources create
// name=custom/... architecture=amd64/generic base_image=rhel/9 filetype=tgz content@=...),
// with its sha256 and size so that MAAS checks what it received. The content goes as a
// multipart file part in one request.
func (c *Client) UploadCustomImage(ctx context.Context, ci CustomImage) (BootResource, error) {
	if err := ci.Validate(); err != nil {
		return BootResource{}, err
	}
	ft := ci.Filetype
	if ft == "" {
		ft = "tgz"
	}
	sum := sha256.Sum256(ci.Content)
	p := (&Params{}).Add("name", ci.Name).Add("architecture", ci.Architecture).Add("filetype", ft).
		AddOptional("title", ci.Title).AddOptional("base_image", ci.BaseImage).
		Add("sha256", hex.EncodeToString(sum[:])).Add("size", strconv.Itoa(len(ci.Content))).
		AddFile("content", "image."+ft, ci.Content)
	return post[BootResource](ctx, c, "boot-resources/", "", p)
}
