package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func (a *app) maasCmd() *cobra.Command {
	return &cobra.Command{Use: "maas", Short: "Point MAAS at the mirror"}
}

func (a *app) demoCmd() *cobra.Command {
	return &cobra.Command{Use: "demo", Short: "Offline tour", RunE: func(*cobra.Command, []string) error { return errors.New("not yet") }}
}
