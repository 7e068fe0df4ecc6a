// Package rpmtest builds an upstream RPM repository from real rpms for package rpm's
// tests: rpmbuild makes the packages from generated specs, rpmsign signs their headers,
// createrepo_c and modifyrepo_c write the repodata (primary, filelists, other, sqlite
// databases, comps, updateinfo, modules.yaml), and repomd.xml is signed detached and
// armored (repomd.xml.asc), as dnf's repo_gpgcheck reads it. Serve a Tree with
// apttest.NewServer.
package rpmtest
