package testutil

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// InCI reports whether the tests run under CI (CI=true), where a missing real client is a
// failure rather than a skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// RequireBinary returns the path of the named program. When it is missing the test is
// skipped with a message naming the Debian package to install, or fails under CI.
func RequireBinary(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " not found (apt-get install " + debianPackage + "); real-client test not run"
	if InCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Run runs a command with a time limit and returns its combined output. The test fails
// with that output when the command fails.
func Run(t testing.TB, timeout time.Duration, env []string, name string, args ...string) string {
	t.Helper()
	out, err := RunErr(t, timeout, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// RunErr is Run without failing the test: for commands that are expected to fail.
func RunErr(t testing.TB, timeout time.Duration, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Output runs a command with a time limit and returns its standard output only (for
// commands whose output is data, such as a raw manifest). The test fails on error.
func Output(t testing.TB, timeout time.Duration, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// EnvBinaries returns the clients the environment variables envs name (built from the
// Go module proxy by a Makefile target, which hint names), by variable. An unset one is
// logged, or fails the test under CI=true; none set skips it.
func EnvBinaries(t testing.TB, hint string, envs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, env := range envs {
		p := os.Getenv(env)
		if p == "" {
			msg := env + " is not set (" + hint + "); real-client test not run"
			if InCI() {
				t.Fatal(msg)
			}
			t.Log(msg)
			continue
		}
		out[env] = p
	}
	if len(out) == 0 {
		t.Skip("no " + strings.Join(envs, ", "))
	}
	return out
}
