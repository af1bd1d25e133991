// Command hotlineqc is the quality-monitoring pipeline of a government
// service hotline: see `hotlineqc --help` and docs/architecture.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hotlineqc:", err)
		os.Exit(1)
	}
}
