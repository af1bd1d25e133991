// Command gendata writes a benchmark event file: go run ./bench/gendata -n 1000000 -o events.ndjson
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/hotlineqc/hotlineqc/internal/benchdata"
)

func main() {
	n := flag.Int("n", 1_000_000, "number of events")
	out := flag.String("o", "events.ndjson", "output file")
	seed := flag.Uint64("seed", 1, "random seed")
	centres := flag.Int("centres", 3, "number of centres sharing the month's traffic")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = benchdata.WriteCentres(w, *n, *seed, *centres)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
