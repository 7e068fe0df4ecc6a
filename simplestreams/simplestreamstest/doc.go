// Package simplestreamstest generates a small MAAS-shaped simplestreams tree and serves
// it over HTTP: the upstream of the simplestreams tests, benchmarks and the CLI's offline
// demo.
//
// The tree has the shape of images.maas.io/ephemeral-v3/stable: a signed index
// (streams/v1/index.sjson, and index.json with index.json.gpg) naming three products
// documents, each published as .sjson and as .json + .json.gpg:
//
//   - com.ubuntu.maas:stable:v3:download: Ubuntu boot images, one product per release,
//     architecture and subarchitecture (ga-XX.YY and hwe-XX.YY), versions with
//     boot-kernel, boot-initrd, squashfs and manifest items (the squashfs and manifest
//     are shared by the ga and hwe products of a release, as upstream);
//   - com.ubuntu.maas:stable:1:bootloader-download: grub-efi-signed (amd64), grub-efi
//     (arm64) and pxelinux (i386) archives (archive.tar.xz);
//   - com.ubuntu.maas:stable:centos-bases-download: a CentOS 7 base (root-tgz).
//
// Item files are a few hundred deterministic bytes. Everything is deterministic except the
// signatures.
package simplestreamstest
