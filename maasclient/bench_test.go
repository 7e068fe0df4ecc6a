package maasclient

import (
	"context"
	"testing"
	"time"

	"github.com/airgapkit/airgap/maasclient/maastest"
)

func BenchmarkAuthorizationHeader(b *testing.B) {
	c := Credentials{ConsumerKey: maastest.ConsumerKey, TokenKey: maastest.TokenKey, TokenSecret: maastest.TokenSecret}
	now := time.Now()
	for b.Loop() {
		if _, err := c.AuthorizationHeader(now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBootSources is one signed GET round trip with JSON decoding against the
// fake on 127.0.0.1.
func BenchmarkBootSources(b *testing.B) {
	fake := maastest.New(b)
	c, err := New(fake.URL, maastest.APIKey, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.BootSources(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateRepository is one multipart PUT round trip.
func BenchmarkUpdateRepository(b *testing.B) {
	fake := maastest.New(b)
	c, err := New(fake.URL, maastest.APIKey, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	repos, err := c.PackageRepositories(ctx)
	if err != nil {
		b.Fatal(err)
	}
	u := PackageRepositoryUpdate{URL: "http://mirror.internal/ubuntu", DisabledComponents: []string{"multiverse"}, DisabledPockets: []string{"backports"}}
	for b.Loop() {
		if _, err := c.UpdatePackageRepository(ctx, repos[0].ID, u); err != nil {
			b.Fatal(err)
		}
	}
}
