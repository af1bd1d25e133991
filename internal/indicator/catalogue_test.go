package indicator

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/event"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// The aggregate key holds every indicator id and every bucket of the
// timestamps the contract accepts, with room for the catalogue to grow.
func TestCellKeyHoldsEveryIndicatorAndBucket(t *testing.T) {
	if len(cat.defs) > 1<<indBits {
		t.Fatalf("%d indicators; the key holds %d", len(cat.defs), 1<<indBits)
	}
	last := id(1<<indBits - 1)
	for _, ts := range []int64{event.MinTS, event.MaxTS - 1} {
		b := ts - ts%bucketMs
		k := makeKey(last, b, 1<<32-1)
		if k.ind() != last || k.bucket() != b || k.dims() != 1<<32-1 {
			t.Errorf("key of %d: ind %d bucket %d dims %d", ts, k.ind(), k.bucket(), k.dims())
		}
	}
}

// Every declaration carries every part the pipeline derives from it: a
// name, a kind and the unit that goes with it, an entity with dimensions,
// an anchor, one counting function; a default target is carried by the
// built-in profile; the indicator is documented.
func TestEveryIndicatorIsDeclaredWhole(t *testing.T) {
	def, err := profile.Builtin(profile.DefaultID)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/spec/indicators.md")
	if err != nil {
		t.Fatal(err)
	}
	units := map[profile.Kind][]profile.Unit{
		profile.Count: {profile.Number, profile.Seconds},
		profile.Rate:  {profile.Ratio},
		profile.Mean:  {profile.Seconds, profile.WorkingDays, profile.Percent, profile.Number},
	}
	for i, d := range cat.defs {
		ind := d.Indicator
		if got, ok := idOf(ind.ID); !ok || got != id(i) {
			t.Errorf("%s: id %d, want its place %d", ind.ID, got, i)
		}
		if ind.Name == "" || ind.Anchor == "" {
			t.Errorf("%s: name %q, anchor %q", ind.ID, ind.Name, ind.Anchor)
		}
		ok := false
		for _, u := range units[ind.Kind] {
			ok = ok || u == ind.Unit
		}
		if !ok {
			t.Errorf("%s: kind %d with unit %d", ind.ID, ind.Kind, ind.Unit)
		}
		if len(Dims(ind)) == 0 {
			t.Errorf("%s: entity %d has no dimensions", ind.ID, ind.Entity)
		}
		// The cells' entity: an agent function's (calls_per_agent_hour's
		// calls count in their agents' cells), else a call function's.
		want := profile.Tickets
		switch {
		case d.dims != nil: // derived from contacts: the contact's entity
			want = ind.Entity
			for _, dim := range d.dims {
				if !slices.Contains(Dims(ind), dim) {
					t.Errorf("%s: dimension %s is not its entity's", ind.ID, dim)
				}
			}
		case d.agent != nil || d.derived:
			want = profile.Agents
		case d.call != nil:
			want = profile.Calls
		}
		if ind.Entity != want {
			t.Errorf("%s: its entity %d is not that of its counting function", ind.ID, ind.Entity)
		}
		if (d.den == denWindow) != (ind.ID == "agents_staffed") {
			t.Errorf("%s: only agents_staffed is over the window's length", ind.ID)
		}
		if ind.Target != nil {
			if ind.Kind != profile.Rate {
				t.Errorf("%s: a target on a %d", ind.ID, ind.Kind)
			}
			if got, ok := def.Targets[ind.ID]; !ok || got != *ind.Target {
				t.Errorf("%s: profile %s has target %v, the declaration %v", ind.ID, def.ID, got, *ind.Target)
			}
		}
		if !strings.Contains(string(doc), "| `"+ind.ID+"` | "+ind.Name+" |") {
			t.Errorf("%s (%s) is not in the indicator tables of docs/spec/indicators.md", ind.ID, ind.Name)
		}
	}
	for id := range def.Targets {
		if ind, ok := Lookup(id); !ok || ind.Target == nil {
			t.Errorf("profile %s has a target for %s, which declares none", def.ID, id)
		}
	}
}

// A profile pointing a target the wrong way is refused with the reason.
func TestProfileTargetFollowsTheDeclaration(t *testing.T) {
	p, err := profile.Builtin(profile.DefaultID)
	if err != nil {
		t.Fatal(err)
	}
	p.Targets["abandon_rate"] = profile.Target{Op: ">=", Value: 0.05}
	err = p.Validate()
	if err == nil || !strings.Contains(err.Error(), `targets.abandon_rate.op: ">=": abandon_rate is better lower, so its target is <=`) {
		t.Fatalf("got %v", err)
	}
}
