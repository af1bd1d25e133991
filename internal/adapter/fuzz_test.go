package adapter_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/adapter"
	"github.com/hotlineqc/hotlineqc/internal/event"
)

// FuzzImport feeds arbitrary input to each built-in mapping's reader: no
// input crashes the import, every record ends in one outcome, and every
// event it emits is accepted by the pipeline's decoder.
func FuzzImport(f *testing.F) {
	for _, name := range []string{"asterisk.queue_log", "cdr.csv", "tickets.csv", "connect-ctr.json", "freeswitch-cdr.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		for i, cut := range []int{len(b), len(b) / 2, len(b) / 3} {
			f.Add(uint8(i), b[:cut])
		}
	}
	f.Add(uint8(0), []byte("1|2|3|4|CONNECT|\n|||||\n\x00\xff|"))
	f.Add(uint8(3), []byte(`{"ContactId":"x","InitiationMethod":"INBOUND","Queue":{"EnqueueTimestamp":"2026-10-09T01:00:00Z"}}{"a":"\"}`))
	var mappings []*adapter.Mapping // inputs run one at a time in a process
	for _, name := range []string{"asterisk-queue-log", "cdr-example", "ticket-example", "amazon-connect-ctr", "freeswitch-callcenter"} {
		m, err := adapter.LoadMapping(name)
		if err != nil {
			f.Fatal(err)
		}
		mappings = append(mappings, m)
	}
	path := filepath.Join(f.TempDir(), "in")
	f.Fuzz(func(t *testing.T, which uint8, input []byte) {
		m := mappings[int(which)%len(mappings)]
		if err := os.WriteFile(path, input, 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		sum, err := adapter.Import(context.Background(), adapter.Options{Mapping: m, Files: []string{path},
			Vars: map[string]string{"center": "c1"}, Sink: adapter.NewNDJSONSink(&out)})
		if err != nil {
			return // a CSV whose header lacks the mapping's columns: an error, not a crash
		}
		var d event.Decoder
		n := 0
		for _, line := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			n++
			if _, err := d.Decode(line); err != nil {
				t.Fatalf("emitted an event the decoder rejects: %v\n%s", err, line)
			}
		}
		if int64(n) != sum.EventCount() {
			t.Fatalf("%d events written, %d counted", n, sum.EventCount())
		}
	})
}

// FuzzParseMapping checks that no mapping file crashes the loader.
func FuzzParseMapping(f *testing.F) {
	for _, name := range adapter.Builtins() {
		b, _ := adapter.BuiltinMapping(name)
		f.Add(b)
	}
	f.Add([]byte("id: x\ncenter_id: '{'\nevents: [{name: a, type: call.queued, time: '{a|}'}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := adapter.ParseMapping("fuzz", b)
		if err == nil && m == nil {
			t.Fatal("no mapping and no error")
		}
	})
}
