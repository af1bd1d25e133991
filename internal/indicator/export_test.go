package indicator

import (
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// DeclareLongTalk declares a made-up indicator the way every indicator is
// declared (catalogue.go), for the test that follows one declaration to
// every output; the catalogue is restored when the test ends.
func DeclareLongTalk(t *testing.T) profile.Indicator {
	d := Def{
		Indicator: profile.Indicator{ID: "long_talk_rate", Name: "长通话占比", Kind: profile.Rate, Entity: profile.Calls,
			Unit: profile.Ratio, Anchor: "offer"},
		// answered calls that talked more than five minutes ÷ answered calls that ended
		call: func(v *callView) (int64, int64, bool) {
			return b2i(v.endTS-v.answerTS-v.holdMs > 5*60_000), 1, v.answered && v.ended
		},
	}
	cat.declare(d)
	t.Cleanup(func() { cat = newTables(catalogue) })
	return d.Indicator
}
