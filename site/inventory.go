package site

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/airgapkit/airgap/store"
)

// WriteInventory writes a CycloneDX 1.6 JSON SBOM (encoded by cyclonedx-go) of
// everything the given mirrors have published, as each kind lists it
// (Mirror.Inventory). Mirrors never published are left out.
func WriteInventory(ctx context.Context, w io.Writer, s store.Store, ms []Mirror) error {
	var comps []cdx.Component
	for _, m := range ms {
		list, err := m.Inventory(ctx, s)
		if errors.Is(err, store.ErrNotFound) {
			continue // never published
		}
		if err != nil {
			return fmt.Errorf("%s: %w", Ref(m), err)
		}
		for _, c := range list {
			props := []cdx.Property{{Name: "airgap:mirror", Value: Ref(m)}, {Name: "airgap:path", Value: c.Path}}
			if c.VouchedBy != "" {
				props = append(props, cdx.Property{Name: "airgap:vouched-by", Value: c.VouchedBy})
			} else {
				props = append(props, cdx.Property{Name: "airgap:unverified", Value: "true"})
			}
			for _, by := range c.RequestedBy {
				props = append(props, cdx.Property{Name: "airgap:requested-by", Value: by})
			}
			cc := cdx.Component{
				Type: cdx.ComponentType(c.Type), Name: c.Name, Version: c.Version, PackageURL: c.PURL,
				BOMRef:     Ref(m) + ":" + c.Path,
				Hashes:     &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: c.Digest.Hex()}},
				Properties: &props,
			}
			if c.Upstream != "" {
				cc.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeDistribution, URL: c.Upstream}}
			}
			comps = append(comps, cc)
		}
	}
	sort.Slice(comps, func(i, j int) bool { return comps[i].BOMRef < comps[j].BOMRef })
	var uuid [16]byte
	rand.Read(uuid[:])
	uuid[6] = uuid[6]&0x0f | 0x40
	uuid[8] = uuid[8]&0x3f | 0x80
	bom := cdx.NewBOM()
	bom.SerialNumber = fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", uuid[0:4], uuid[4:6], uuid[6:8], uuid[8:10], uuid[10:])
	bom.Metadata = &cdx.Metadata{
		Timestamp: time.Now().UTC().Format(time.RFC3339),
		Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: "airgap"}}},
	}
	bom.Components = &comps
	return cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON).SetPretty(true).EncodeVersion(bom, cdx.SpecVersion1_6)
}
