// Package profile is an evaluation profile: the definitions, variants,
// targets, deadline rules and scoring a hotline centre is judged by
// (docs/spec/indicators.md), decoded strictly from YAML. The default
// profile gbt33358-2016 and the jurisdiction profiles live in pipelines/.
package profile

import "strconv"

// Kind is how an indicator's value is formed.
type Kind uint8

// Indicator kinds.
const (
	Count Kind = iota + 1 // value only
	Rate                  // numerator ÷ denominator
	Mean                  // total ÷ count
)

// Family is the entity an indicator is computed from.
type Family uint8

// Indicator families.
const (
	Calls Family = iota + 1
	Tickets
)

// Indicator describes one indicator of the specification.
type Indicator struct {
	ID     string
	Name   string // 中文名称, for reports
	Kind   Kind
	Family Family
}

// The indicators, in the order of the specification.
var catalog = []Indicator{
	{"calls_offered", "人工服务请求量", Count, Calls},
	{"calls_answered", "人工接通量", Count, Calls},
	{"calls_abandoned", "放弃量", Count, Calls},
	{"answer_rate", "人工接通率", Rate, Calls},
	{"answered_within_15s_rate", "15秒接通率", Rate, Calls},
	{"abandon_rate", "呼损率", Rate, Calls},
	{"asa_seconds", "平均应答时长", Mean, Calls},
	{"avg_queue_seconds", "平均排队时长", Mean, Calls},
	{"avg_talk_seconds", "平均通话时长", Mean, Calls},
	{"aht_seconds", "平均处理时长", Mean, Calls},
	{"call_satisfaction_rate", "满意率(通话)", Rate, Calls},
	{"tickets_created", "受理量", Count, Tickets},
	{"first_contact_resolution_rate", "一次办结率", Rate, Tickets},
	{"dispatch_timeliness_rate", "按时派单率", Rate, Tickets},
	{"acceptance_timeliness_rate", "及时签收率", Rate, Tickets},
	{"response_timeliness_rate", "按时响应率", Rate, Tickets},
	{"written_response_timeliness_rate", "书面渠道响应及时率", Rate, Tickets},
	{"on_time_closure_rate", "按时办结率", Rate, Tickets},
	{"overdue_open", "超期未办结", Count, Tickets},
	{"avg_resolve_workdays", "平均办理时长(工作日)", Mean, Tickets},
	{"return_rate", "退单率", Rate, Tickets},
	{"reopen_rate", "重办率", Rate, Tickets},
	{"callback_rate", "回访率", Rate, Tickets},
	{"resolution_rate", "解决率", Rate, Tickets},
	{"ticket_satisfaction_rate", "满意率(回访)", Rate, Tickets},
}

var byID = func() map[string]Indicator {
	m := make(map[string]Indicator, len(catalog))
	for _, ind := range catalog {
		m[ind.ID] = ind
	}
	return m
}()

// Indicators returns every indicator of the specification, in its order.
func Indicators() []Indicator { return append([]Indicator(nil), catalog...) }

// Lookup returns the indicator with the given id.
func Lookup(id string) (Indicator, bool) {
	ind, ok := byID[id]
	return ind, ok
}

// ServiceLevel is the id of the service-level indicator. The id keeps "15s"
// whatever the profile's threshold (ids are an API); its name and every
// output that shows it state the threshold (indicators.md v1.1, decision 14).
const ServiceLevelID = "answered_within_15s_rate"

// IndicatorName returns the Chinese name of indicator id under p: the
// service level is named with p's threshold (20秒接通率 for 20 s).
func (p *Profile) IndicatorName(id string) string {
	if id == ServiceLevelID {
		return strconv.FormatFloat(p.Calls.ServiceLevel.ThresholdSeconds, 'f', -1, 64) + "秒接通率"
	}
	ind, _ := Lookup(id)
	return ind.Name
}
