package rpmtest

import (
	"fmt"
	"strings"
)

// compsXML has a group that names a package outside httpd's closure (php), one that
// names only such packages, and an environment listing both.
const compsXML = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">
<comps>
  <group>
    <id>web-server</id>
    <name>Basic Web Server</name>
    <description>These tools allow you to run a Web server on the system.</description>
    <default>false</default>
    <uservisible>true</uservisible>
    <packagelist>
      <packagereq type="mandatory">httpd</packagereq>
      <packagereq type="default">mod_ssl</packagereq>
      <packagereq type="optional">php</packagereq>
    </packagelist>
  </group>
  <group>
    <id>php</id>
    <name>PHP</name>
    <description>PHP for the web server.</description>
    <default>false</default>
    <uservisible>true</uservisible>
    <packagelist>
      <packagereq type="mandatory">php</packagereq>
    </packagelist>
  </group>
  <environment>
    <id>web-env</id>
    <name>Web Environment</name>
    <description>A web host.</description>
    <display_order>10</display_order>
    <grouplist>
      <groupid>web-server</groupid>
      <groupid>php</groupid>
    </grouplist>
    <optionlist>
      <groupid>php</groupid>
    </optionlist>
  </environment>
</comps>
`

// updateinfoXML has an advisory for httpd (held) and one for php only (not held).
const updateinfoXML = `<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update from="releng@example.invalid" status="final" type="security" version="2">
    <id>RLSA-2024:0001</id>
    <title>Important: httpd security update</title>
    <issued date="2024-01-10 00:00:00"/>
    <updated date="2024-01-10 00:00:00"/>
    <rights>Copyright 2024 Example</rights>
    <release>Rocky Linux 9</release>
    <severity>Important</severity>
    <summary>An update for httpd is available.</summary>
    <description>Fixes a bug.</description>
    <references>
      <reference href="https://example.invalid/CVE-2024-0001" id="CVE-2024-0001" type="cve" title="CVE-2024-0001"/>
    </references>
    <pkglist>
      <collection short="rocky-9">
        <name>Rocky Linux 9</name>
        <package name="httpd" version="2.4.57" release="5.el9" epoch="0" arch="x86_64" src="httpd-2.4.57-5.el9.src.rpm">
          <filename>httpd-2.4.57-5.el9.x86_64.rpm</filename>
          <sum type="sha256">0000000000000000000000000000000000000000000000000000000000000000</sum>
        </package>
        <package name="php" version="8.1.14" release="1.el9" epoch="0" arch="x86_64" src="php-8.1.14-1.el9.src.rpm">
          <filename>php-8.1.14-1.el9.x86_64.rpm</filename>
        </package>
      </collection>
    </pkglist>
  </update>
  <update from="releng@example.invalid" status="final" type="bugfix" version="2">
    <id>RLBA-2024:0002</id>
    <title>php bug fix update</title>
    <issued date="2024-01-11 00:00:00"/>
    <summary>An update for php is available.</summary>
    <description>Fixes a php bug.</description>
    <pkglist>
      <collection short="rocky-9">
        <name>Rocky Linux 9</name>
        <package name="php" version="8.1.14" release="1.el9" epoch="0" arch="x86_64" src="php-8.1.14-1.el9.src.rpm">
          <filename>php-8.1.14-1.el9.x86_64.rpm</filename>
        </package>
      </collection>
    </pkglist>
  </update>
</updates>
`

// modulesYAML declares the stream webapp:1 (the default) holding the modular packages,
// and a stream webapp:3 whose artifact the upstream does not carry.
func modulesYAML(pkgs []Package) string {
	var arts []string
	for _, p := range pkgs {
		if p.Modular {
			arts = append(arts, "      - "+p.NEVRA())
		}
	}
	return fmt.Sprintf(`---
document: modulemd
version: 2
data:
  name: webapp
  stream: "1"
  version: 9000020240101000000
  context: 9edba152
  arch: x86_64
  summary: Web application
  description: >-
    A web application, stream 1.
  license:
    module:
    - MIT
  profiles:
    common:
      rpms:
      - webapp
  artifacts:
    rpms:
%s
...
---
document: modulemd
version: 2
data:
  name: webapp
  stream: "3"
  version: 9000020240201000000
  context: 9edba152
  arch: x86_64
  summary: Web application
  description: >-
    A web application, stream 3.
  license:
    module:
    - MIT
  profiles:
    common:
      rpms:
      - webapp
  artifacts:
    rpms:
      - webapp-0:3.0-1.module_el9.noarch
...
---
document: modulemd-defaults
version: 1
data:
  module: webapp
  stream: "1"
  profiles:
    "1": [common]
...
`, strings.Join(arts, "\n"))
}
