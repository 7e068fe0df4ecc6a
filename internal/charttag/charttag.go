// Package charttag maps a Helm chart's OCI tag to its version: OCI tags allow no "+", so
// helm push writes a version's build metadata with "_" and helm pull reads it back. The
// oci package (tag ranges) and the helm package (oci:// chart repositories) both read
// tags this way.
package charttag

import "strings"

// Version is the chart version a tag names ("1.2.3_build.4" is "1.2.3+build.4").
func Version(tag string) string { return strings.ReplaceAll(tag, "_", "+") }
