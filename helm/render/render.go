package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/airgapkit/airgap/store"
	"gopkg.in/yaml.v3"
	"helm.sh/helm/v4/pkg/action"
	ci "helm.sh/helm/v4/pkg/chart"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// Defaults for Options, the ones `helm template` uses.
const (
	DefaultReleaseName = "release-name"
	DefaultNamespace   = "default"
	// DefaultKubeVersion is the Capabilities.KubeVersion helm v4.3.2 reports (from the
	// client-go it is built with). Set here rather than left to Helm, which derives it
	// from the build's module information and so gives another one in test binaries.
	DefaultKubeVersion = "1.37.0"
)

// Annotations in Chart.yaml that list images the templates may not show (an operator's
// operands): a YAML list of {name, image}.
const (
	AnnotationArtifactHub = "artifacthub.io/images"
	AnnotationHelm        = "helm.sh/images"
)

// Options say how to render a chart. The zero value renders as `helm template` with no
// flags but --skip-tests.
type Options struct {
	// Values are YAML values files merged over the chart's defaults in order, as helm's
	// -f flags are.
	Values [][]byte
	// KubeVersion is Capabilities.KubeVersion ("1.30.0"); empty is DefaultKubeVersion.
	KubeVersion string
	// ReleaseName and Namespace default to DefaultReleaseName and DefaultNamespace.
	ReleaseName string
	Namespace   string
	// IncludeTests keeps the images of test hooks ("helm.sh/hook: test").
	IncludeTests bool
	// Include are references added to what the chart renders (a chart's images:).
	Include []string
	// Exclude drops images (a chart's exclude_images:): a reference with tag or digest
	// drops that image, one without drops every tag of the repository, and a pattern
	// with * ? or [ ] is matched (path.Match) against both the reference and its
	// repository.
	Exclude []string
	// Logger receives Helm's warnings (a deprecated chart, CRDs); nil discards them.
	Logger *slog.Logger
}

// Image is one image the chart needs.
type Image struct {
	// Ref is the normalised reference: registry/repository[:tag][@digest].
	Ref string
	// From says where it was found first: the template path
	// ("app/charts/cache/templates/statefulset.yaml"), "annotation <key> of <chart>", or
	// "images" for Options.Include.
	From string
}

// Error is a chart that does not load or render; it names the chart and version and
// matches store.ErrMalformed.
type Error struct {
	Chart, Version string
	Err            error
}

func (e *Error) Error() string {
	return fmt.Sprintf("helm chart %s %s: %v", e.Chart, e.Version, e.Err)
}

func (e *Error) Unwrap() []error { return []error{store.ErrMalformed, e.Err} }

// Images renders chartArchive (a .tgz as helm package writes it) and returns the
// images it needs, deduplicated, in order: templates as helm sorts its output, hooks,
// annotations, then opts.Include. Bad options (values that are not YAML, an unparsable
// KubeVersion or Include) are store.ErrConfig; a chart that does not load or render is
// an *Error.
func Images(ctx context.Context, chartArchive []byte, opts Options) ([]Image, error) {
	ch, err := loader.LoadArchive(bytes.NewReader(chartArchive))
	if err != nil {
		return nil, fmt.Errorf("%w: helm chart: %w", store.ErrMalformed, err)
	}
	fail := func(err error) error { return &Error{Chart: ch.Metadata.Name, Version: ch.Metadata.Version, Err: err} }
	inst, vals, err := opts.install()
	if err != nil {
		return nil, err
	}
	if t := ch.Metadata.Type; t != "" && t != "application" {
		return nil, fail(fmt.Errorf("%s charts are not installable", t))
	}
	if deps := ch.Metadata.Dependencies; len(deps) > 0 {
		reqs := make([]ci.Dependency, len(deps))
		for i, d := range deps {
			reqs[i] = d
		}
		if err := action.CheckDependencies(ch, reqs); err != nil {
			return nil, fail(err)
		}
	}
	r, err := inst.RunWithContext(ctx, ch, vals)
	if err != nil {
		return nil, fail(err)
	}
	rel, ok := r.(*release.Release)
	if !ok {
		return nil, fail(fmt.Errorf("helm returned a %T", r))
	}
	c := newCollector(opts.Exclude)
	if err := c.manifests(rel.Manifest); err != nil {
		return nil, fail(err)
	}
	for _, h := range rel.Hooks {
		if !opts.IncludeTests && slices.Contains(h.Events, release.HookTest) {
			continue
		}
		if err := c.document(h.Manifest, h.Path); err != nil {
			return nil, fail(err)
		}
	}
	// ProcessDependencies (in Run) dropped the subcharts that are disabled.
	if err := c.annotations(ch); err != nil {
		return nil, fail(err)
	}
	for _, s := range opts.Include {
		if err := c.add(s, "images"); err != nil {
			return nil, fmt.Errorf("%w: images: %w", store.ErrConfig, err)
		}
	}
	return c.out, nil
}

// install sets up `helm template`'s client-only install and merges the values.
func (o Options) install() (*action.Install, map[string]any, error) {
	vals := map[string]any{}
	for i, b := range o.Values {
		v, err := loader.LoadValues(bytes.NewReader(b))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: helm values file %d: %w", store.ErrConfig, i+1, err)
		}
		vals = loader.MergeMaps(vals, v)
	}
	h := slog.DiscardHandler
	if o.Logger != nil {
		h = o.Logger.Handler()
	}
	inst := action.NewInstall(action.NewConfiguration(action.ConfigurationSetLogger(h)))
	inst.DryRunStrategy = action.DryRunClient
	inst.Replace = true // no release store to check the name against
	inst.ReleaseName, inst.Namespace = o.ReleaseName, o.Namespace
	if inst.ReleaseName == "" {
		inst.ReleaseName = DefaultReleaseName
	}
	if inst.Namespace == "" {
		inst.Namespace = DefaultNamespace
	}
	kube := o.KubeVersion
	if kube == "" {
		kube = DefaultKubeVersion
	}
	kv, err := common.ParseKubeVersion(kube)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: kube_version %q: %w", store.ErrConfig, kube, err)
	}
	inst.KubeVersion = kv
	return inst, vals, nil
}

// annotations adds the images the Chart.yaml annotations of ch and its (enabled)
// subcharts list.
func (c *collector) annotations(ch *chart.Chart) error {
	for _, key := range []string{AnnotationArtifactHub, AnnotationHelm} {
		v, ok := ch.Metadata.Annotations[key]
		if !ok {
			continue
		}
		var list []struct {
			Image string `yaml:"image"`
		}
		if err := yaml.Unmarshal([]byte(v), &list); err != nil {
			return fmt.Errorf("annotation %s of %s: %w", key, ch.Name(), err)
		}
		for _, e := range list {
			if strings.TrimSpace(e.Image) == "" {
				continue
			}
			if err := c.add(e.Image, "annotation "+key+" of "+ch.Name()); err != nil {
				return fmt.Errorf("annotation %s of %s: %w", key, ch.Name(), err)
			}
		}
	}
	for _, d := range ch.Dependencies() {
		if err := c.annotations(d); err != nil {
			return err
		}
	}
	return nil
}

// errNoImage is a pod spec container without a usable image.
var errNoImage = errors.New("container image is not a reference")
