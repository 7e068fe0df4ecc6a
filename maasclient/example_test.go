package maasclient_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/airgapkit/airgap/maasclient"
	"github.com/airgapkit/airgap/maasclient/maastest"
)

// Point a MAAS at mirrors inside the air gap and import the images. The fake MAAS
// stands in for a region controller; use its URL and `maas apikey` output instead.
func ExampleClient_ConfigureAirgap() {
	fake := maastest.Start()
	defer fake.Close()
	images := "http://mirror.internal/maas/images/ephemeral-v3/stable/"
	fake.SetImages(images, maastest.UbuntuImages("noble", "amd64")...) // what the mirror serves

	ctx := context.Background()
	c, err := maasclient.New(fake.URL, maastest.APIKey, maasclient.Options{})
	if err != nil {
		panic(err)
	}
	res, err := c.ConfigureAirgap(ctx, maasclient.AirgapConfig{
		ImageURL:     images,
		ImageKeyring: []byte("binary keyring from store/pgp Signer.PublicKey(false)"),
		Selections:   []maasclient.Selection{{OS: "ubuntu", Release: "noble", Arches: []string{"amd64"}}},
		// What the apt mirror holds: MAAS is told to leave out the rest.
		Archive: &maasclient.AptArchive{URL: "http://mirror.internal/ubuntu", Suites: map[string][]string{
			"noble": {"main"}, "noble-updates": {"main"}, "noble-security": {"main"},
		}},
		ArchiveKey:   "-----BEGIN PGP PUBLIC KEY BLOCK-----\n...\n-----END PGP PUBLIC KEY BLOCK-----\n",
		Config:       map[string]string{maasclient.ConfigEnableHTTPProxy: "false"},
		PollInterval: time.Millisecond,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("boot source:", res.BootSource.URL)
	for _, s := range res.Selections {
		fmt.Println("selection:", s.OS, s.Release, s.Arches, s.Subarches, s.Labels)
	}
	for _, r := range res.Repositories {
		fmt.Println("repository:", r.Name, r.URL, "disabled:", r.DisabledPockets, r.DisabledComponents)
	}
	for _, r := range res.Resources {
		fmt.Println("image:", r.Name, r.Architecture)
	}
	fmt.Println("imports:", res.Imports)
	// Output:
	// boot source: http://mirror.internal/maas/images/ephemeral-v3/stable/
	// selection: ubuntu noble [amd64] [*] [*]
	// repository: main_archive http://mirror.internal/ubuntu disabled: [backports] [restricted universe multiverse]
	// image: ubuntu/noble amd64/ga-24.04
	// image: ubuntu/noble amd64/hwe-24.04
	// imports: 2
}

// Field errors of a 400 are decoded; errors.Is tells the kinds apart.
func ExampleAPIError() {
	fake := maastest.Start()
	defer fake.Close()
	c, _ := maasclient.New(fake.URL, maastest.APIKey, maasclient.Options{})

	_, err := c.CreateBootSource(context.Background(), maasclient.BootSourceRequest{KeyringFilename: "/k.gpg"})
	var apiErr *maasclient.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Fields["url"])
	}
	fmt.Println(errors.Is(err, maasclient.ErrBadRequest), errors.Is(err, maasclient.ErrNotFound))
	// Output:
	// 400 [This field is required.]
	// true false
}

func ExampleParseAPIKey() {
	cr, err := maasclient.ParseAPIKey("Kc0nsumer:Ht0ken:s3cret\n")
	if err != nil {
		panic(err)
	}
	fmt.Println(cr.ConsumerKey, cr.TokenKey, cr.TokenSecret)
	_, err = maasclient.ParseAPIKey("only:two")
	fmt.Println(errors.Is(err, maasclient.ErrInvalidAPIKey))
	// Output:
	// Kc0nsumer Ht0ken s3cret
	// true
}

func ExampleNormalizeURL() {
	for _, s := range []string{"http://10.0.0.2:5240/MAAS", "https://maas.internal:5443"} {
		u, _ := maasclient.NormalizeURL(s)
		fmt.Println(u)
	}
	// Output:
	// http://10.0.0.2:5240/MAAS/api/2.0/
	// https://maas.internal:5443/MAAS/api/2.0/
}
