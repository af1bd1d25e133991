package assess

import (
	"context"
	"runtime"

	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/report"
)

// Grain is the grain an assessment reads at: hours (the 7×24 check)
// and every dimension (a grain keeps a dimension for a family only if the
// family has it, so the drivers' dimensions of calls and tickets together
// mean all of them).
var Grain = indicator.Grain{Window: indicator.WindowHour}

// FromFiles evaluates event files for an assessment in one pass on every
// core: the figures at AssessGrain (no ticket states) and the records
// audit of scope, the records of the dead-letter files counted as
// rejected.
func FromFiles(ctx context.Context, o report.FileOptions, scope compute.AuditScope, deadLetters []string) (report.Source, *compute.AuditOutput, error) {
	ps, err := indicator.NewProfiles(o.Profiles)
	if err != nil {
		return nil, nil, err
	}
	eng := indicator.NewSharded(ps, Grain, runtime.GOMAXPROCS(0))
	rejected := map[string]int64{}
	asOf, err := compute.Feed(ctx, eng, o.Files, o.MaxBytes, o.AsOf, o.Progress, func(r compute.Reject) {
		rejected[string(r.Reason)]++
		if o.OnReject != nil {
			o.OnReject(r)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	if err := compute.CountDeadLetters(deadLetters, rejected); err != nil {
		return nil, nil, err
	}
	audit := compute.NewAuditOutput(o.Profiles.Default, asOf, eng.Counts(), rejected, eng.Audit(scope.Examples), scope)
	src, err := report.NewEngineSource(eng, asOf, "事件文件", o.Files)
	if err != nil {
		return nil, nil, err
	}
	return src, audit, nil
}
