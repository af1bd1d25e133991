package dashboards

//lint:file-ignore SA1019 The classic dashboard model (dashboard.Dashboard) is kept on purpose: its
// replacement, dashboardv2, is a public preview of Grafana 12 behind feature toggles
// (dynamic dashboards, kubernetesDashboards) that Grafana 11 and earlier cannot load,
// while Grafana 13 migrates classic dashboards on load; move when 12 is the oldest supported.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

type query = cog.Builder[variants.Dataquery]

// callContribs and ticketContribs are the contributions of the latest
// state of every call and ticket, one row each (ind, bucket, num, den; dept
// for tickets): what every aggregate panel sums, as chstore.ReadStored does.
//
// dailySums are the sums of those contributions by centre and day (ind,
// dept, num, den; dept empty for calls), kept by the settler: what panels
// of long ranges sum, one row per centre and day. They cover whole days:
// g.days() selects the days of the time range.
const (
	callContribs   = "${database}.call_state FINAL\nARRAY JOIN c_ind AS ind, c_bucket AS bucket, c_num AS num, c_den AS den"
	ticketContribs = "${database}.ticket_state FINAL\nARRAY JOIN c_ind AS ind, c_bucket AS bucket, c_department AS dept, c_num AS num, c_den AS den"
	dailySums      = "${database}.daily_indicators FINAL\nARRAY JOIN ind, department AS dept, num, den"
	// agentContribs are the contributions of the latest row of every
	// agent's day, with their team (revision 1.2).
	agentContribs = "${database}.agent_state FINAL\nARRAY JOIN c_ind AS ind, c_bucket AS bucket, c_team AS team, c_num AS num, c_den AS den"
)

// days selects the days of the dashboard's time range (the plugin's
// $__fromTime and $__toTime), in the profile's time zone, the zone of the
// tables' days.
func (g gen) days() string {
	return fmt.Sprintf("day >= toDate($__fromTime, '%s') AND day <= toDate($__toTime, '%s')", g.p.Timezone, g.p.Timezone)
}

// promQL is an instant or range Prometheus query.
func promQL(ref, expr, legend string, instant bool) *prometheus.DataqueryBuilder {
	q := prometheus.NewDataqueryBuilder().RefId(ref).Expr(expr).LegendFormat(legend)
	if instant {
		return q.Instant().Format(prometheus.PromQueryFormatTable)
	}
	return q.Range()
}

// promRate is an indicator's rate (or mean) over window, by the labels.
func promRate(id, filter, window, by string) string {
	sum := "sum by (" + by + ")"
	if by == "" {
		sum = "sum"
	}
	sel := fmt.Sprintf(`{indicator=%q,%s}`, id, filter)
	return fmt.Sprintf("%s (increase(hotline_indicator_numerator_total%s[%s]))\n  /\n%s (increase(hotline_indicator_denominator_total%s[%s]))",
		sum, sel, window, sum, sel, window)
}

// promCount is an indicator's count over window, by the labels.
func promCount(id, filter, window, by string) string {
	sum := "sum by (" + by + ")"
	if by == "" {
		sum = "sum"
	}
	return fmt.Sprintf(`%s (increase(hotline_indicator_numerator_total{indicator=%q,%s}[%s]))`, sum, id, filter, window)
}

const centerFilter = `center=~"$center"`

func statPanel(title, desc, unit string, th *dashboard.ThresholdsConfigBuilder, ds common.DataSourceRef, q query) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Unit(unit).Thresholds(th).
		ColorMode(common.BigValueColorModeBackground).GraphMode(common.BigValueGraphModeNone).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		Height(5).Span(4).WithTarget(q)
}

func seriesPanel(title, desc, unit string, th *dashboard.ThresholdsConfigBuilder, ds common.DataSourceRef, qs ...query) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Unit(unit).Thresholds(th).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine)).
		Height(8).Span(12)
	for _, q := range qs {
		p = p.WithTarget(q)
	}
	return p
}

func tablePanel(title, desc, unit string, th *dashboard.ThresholdsConfigBuilder, ds common.DataSourceRef, q query) *table.PanelBuilder {
	return table.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Unit(unit).Thresholds(th).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"})).
		Height(10).Span(24).WithTarget(q)
}

func barPanel(title, desc string, th *dashboard.ThresholdsConfigBuilder, q query) *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().Title(title).Description(desc).Datasource(prometheusDS).Unit("short").Thresholds(th).
		Orientation(common.VizOrientationHorizontal).DisplayMode(common.BarGaugeDisplayModeGradient).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		Height(9).Span(8).WithTarget(q)
}

// overview is 实时总览: the live indicators against their targets over the
// last 24 hours.
func (g gen) overview() *dashboard.DashboardBuilder {
	b := g.board("hotlineqc-overview", "热线服务质量 · 实时总览", "now-24h", promCenter()).
		Description("近 24 小时滚动的实时指标（来自 hotlineqc 的 Prometheus 指标），颜色按考核口径目标值。精确数字以 ClickHouse 与月度导出为准。").
		WithRow(dashboard.NewRowBuilder("话务（近 24 小时）"))
	for _, id := range []string{"answer_rate", "answered_within_15s_rate", "abandon_rate", "call_satisfaction_rate"} {
		b = b.WithPanel(statPanel(name(id), g.targetText(id), unit(id), thresholds(g.target(id)), prometheusDS,
			promQL("A", promRate(id, centerFilter, "24h", ""), name(id), true)))
	}
	b = b.WithPanel(statPanel(name("calls_offered"), "近 24 小时进入人工队列的来电", "short", countThresholds(0), prometheusDS,
		promQL("A", promCount("calls_offered", centerFilter, "24h", ""), name("calls_offered"), true)))
	b = b.WithPanel(statPanel(name("tickets_created"), "近 24 小时登记的工单", "short", countThresholds(0), prometheusDS,
		promQL("A", promCount("tickets_created", centerFilter, "24h", ""), name("tickets_created"), true)))
	b = b.WithRow(dashboard.NewRowBuilder("工单（近 24 小时与当前）"))
	for _, id := range []string{"acceptance_timeliness_rate", "response_timeliness_rate", "on_time_closure_rate"} {
		b = b.WithPanel(statPanel(name(id), g.targetText(id), unit(id), thresholds(g.target(id)), prometheusDS,
			promQL("A", promRate(id, centerFilter, "24h", ""), name(id), true)))
	}
	b = b.WithPanel(statPanel("超期未办结", "当前已过办结时限仍未答复的工单", "short", countThresholds(1), prometheusDS,
		promQL("A", `sum(hotline_tickets_overdue{center=~"$center"})`, "超期未办结", true)))
	b = b.WithPanel(statPanel("派单积压", "已登记但未派单、未当场办结、未办结的工单", "short", countThresholds(float64(g.p.Alerting.DispatchBacklog)), prometheusDS,
		promQL("A", `sum(hotline_tickets_awaiting_dispatch{center=~"$center"})`, "派单积压", true)))
	b = b.WithPanel(statPanel("在办工单", "已派单、尚未答复的工单", "short", countThresholds(0), prometheusDS,
		promQL("A", `sum(hotline_tickets_open{center=~"$center"})`, "在办工单", true)))
	b = b.WithRow(dashboard.NewRowBuilder("趋势"))
	for _, id := range []string{"answer_rate", "answered_within_15s_rate"} {
		b = b.WithPanel(seriesPanel(name(id)+"（1 小时滚动）", g.targetText(id), unit(id), thresholds(g.target(id)), prometheusDS,
			promQL("A", promRate(id, centerFilter, "1h", "center"), "{{center}}", false)))
	}
	b = b.WithPanel(seriesPanel(name("calls_offered")+"（每 15 分钟）", "", "short", countThresholds(0), prometheusDS,
		promQL("A", promCount("calls_offered", centerFilter, "15m", "center"), "{{center}}", false)))
	return b.WithPanel(seriesPanel(name("tickets_created")+"（每小时）", "", "short", countThresholds(0), prometheusDS,
		promQL("A", promCount("tickets_created", centerFilter, "1h", "center"), "{{center}}", false)))
}

// calls is 话务与坐席: queues, waits, abandonment, agents.
func (g gen) calls() *dashboard.DashboardBuilder {
	f := `center=~"$center",queue=~"$queue"`
	b := g.board("hotlineqc-calls", "热线服务质量 · 话务与坐席", "now-24h", promCenter(),
		promLabel("queue", "queue", "hotline_call_wait_seconds_count", "队列"), g.chDatabase()).
		WithRow(dashboard.NewRowBuilder("队列"))
	b = b.WithPanel(seriesPanel(name("calls_offered")+"（按队列，每 15 分钟）", "", "short", countThresholds(0), prometheusDS,
		promQL("A", promCount("calls_offered", f, "15m", "queue"), "{{queue}}", false)))
	for _, id := range []string{"answer_rate", "abandon_rate", "answered_within_15s_rate"} {
		b = b.WithPanel(seriesPanel(name(id)+"（按队列，1 小时滚动）", g.targetText(id), unit(id), thresholds(g.target(id)), prometheusDS,
			promQL("A", promRate(id, f, "1h", "queue"), "{{queue}}", false)))
	}
	b = b.WithRow(dashboard.NewRowBuilder("等待与处理时长"))
	b = b.WithPanel(seriesPanel("平均排队时长（按队列）", "来电从进入队列到接通或放弃", "s", countThresholds(0), prometheusDS,
		promQL("A", fmt.Sprintf("sum by (queue) (rate(hotline_call_wait_seconds_sum{%s}[15m]))\n  /\nsum by (queue) (rate(hotline_call_wait_seconds_count{%s}[15m]))", f, f), "{{queue}}", false)))
	b = b.WithPanel(seriesPanel("排队时长 P90（按队列）", "90% 的来电在此时长内接通或放弃", "s", countThresholds(15), prometheusDS,
		promQL("A", fmt.Sprintf("histogram_quantile(0.9, sum by (le, queue) (rate(hotline_call_wait_seconds_bucket{%s}[15m])))", f), "{{queue}}", false)))
	b = b.WithPanel(seriesPanel(name("aht_seconds")+"（按队列）", "通话、保持与话后处理", "s", countThresholds(0), prometheusDS,
		promQL("A", fmt.Sprintf("sum by (queue) (rate(hotline_call_handle_seconds_sum{%s}[1h]))\n  /\nsum by (queue) (rate(hotline_call_handle_seconds_count{%s}[1h]))", f, f), "{{queue}}", false)))
	b = b.WithRow(dashboard.NewRowBuilder("坐席（所选时间范围，来自 ClickHouse）"))
	agents := fmt.Sprintf(`SELECT agent_id AS %s, team AS %s,
  sumIf(num, ind = 'calls_answered') AS %s,
  %s AS %s,
  %s AS %s,
  %s AS %s
FROM `+callContribs+`
WHERE center_id IN (${center:singlequote}) AND queue IN (${queue:singlequote}) AND agent_id != '' AND $__timeFilter(bucket)
GROUP BY agent_id, team
ORDER BY %s DESC
LIMIT 500`, "`坐席`", "`班组`", "`"+name("calls_answered")+"`",
		chRatio("aht_seconds"), "`"+name("aht_seconds")+"`",
		chRatio("avg_talk_seconds"), "`"+name("avg_talk_seconds")+"`",
		chRatio("call_satisfaction_rate"), "`"+name("call_satisfaction_rate")+"`",
		"`"+name("calls_answered")+"`")
	return b.WithPanel(tablePanel("坐席接听与处理", "每位坐席在所选时间范围内接通的来电、平均处理时长、平均通话时长与满意率（精确值）", "short", countThresholds(0), clickhouseDS,
		sql("A", FormatTable, agents)).
		OverrideByName(name("aht_seconds"), []dashboard.DynamicConfigValue{{Id: "unit", Value: "s"}}).
		OverrideByName(name("avg_talk_seconds"), []dashboard.DynamicConfigValue{{Id: "unit", Value: "s"}}).
		OverrideByName(name("call_satisfaction_rate"), []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}}))
}

// tickets is 工单与承办单位: departments, categories, due soon and overdue.
func (g gen) tickets() *dashboard.DashboardBuilder {
	f := `center=~"$center",department=~"$department"`
	b := g.board("hotlineqc-tickets", "热线服务质量 · 工单与承办单位", "now-7d", promCenter(),
		promLabel("department", "department", "hotline_tickets_open", "承办单位"), g.chDatabase()).
		WithRow(dashboard.NewRowBuilder("当前（实时）"))
	b = b.WithPanel(barPanel("在办工单（按承办单位）", "已派单、尚未答复", countThresholds(0),
		promQL("A", fmt.Sprintf("sum by (department) (hotline_tickets_open{%s})", f), "{{department}}", true)))
	b = b.WithPanel(barPanel("超期未办结（按承办单位）", "已过办结时限仍未答复", countThresholds(1),
		promQL("A", fmt.Sprintf("sum by (department) (hotline_tickets_overdue{%s})", f), "{{department}}", true)))
	b = b.WithPanel(barPanel("24 小时内到期（按承办单位）", "办结时限在 24 小时内、尚未答复", countThresholds(0),
		promQL("A", fmt.Sprintf(`sum by (department) (hotline_tickets_due_soon{%s,within="24h"})`, f), "{{department}}", true)))
	b = b.WithRow(dashboard.NewRowBuilder("时效（实时，1 天滚动）"))
	for _, id := range []string{"acceptance_timeliness_rate", "response_timeliness_rate", "on_time_closure_rate"} {
		b = b.WithPanel(seriesPanel(name(id)+"（按承办单位）", g.targetText(id), unit(id), thresholds(g.target(id)), prometheusDS,
			promQL("A", promRate(id, f, "1d", "department"), "{{department}}", false)).Span(8))
	}
	b = b.WithRow(dashboard.NewRowBuilder("所选时间范围（来自 ClickHouse）"))
	byCategory := fmt.Sprintf(`SELECT category AS %s,
  sumIf(num, ind = 'tickets_created') AS %s,
  %s AS %s,
  %s AS %s,
  %s AS %s
FROM `+ticketContribs+`
WHERE center_id IN (${center:singlequote}) AND $__timeFilter(bucket)
GROUP BY category
ORDER BY %s DESC`, "`诉求类别`", "`"+name("tickets_created")+"`",
		chRatio("first_contact_resolution_rate"), "`"+name("first_contact_resolution_rate")+"`",
		chRatio("on_time_closure_rate"), "`"+name("on_time_closure_rate")+"`",
		chRatio("ticket_satisfaction_rate"), "`"+name("ticket_satisfaction_rate")+"`",
		"`"+name("tickets_created")+"`")
	b = b.WithPanel(tablePanel("按诉求类别", "受理量、一次办结率、按时办结率与回访满意率（精确值）", "short", countThresholds(0), clickhouseDS,
		sql("A", FormatTable, byCategory)).Span(12).
		OverrideByRegexp("率", []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}}))
	list := func(cond, order string) string {
		return fmt.Sprintf(`SELECT ticket_id AS %s, holder_department AS %s, category AS %s, urgency AS %s,
  toDateTime(intDiv(created_ms, 1000)) AS %s, toDateTime(intDiv(due_ms, 1000)) AS %s,
  round((due_ms - toUnixTimestamp(now()) * 1000) / 3600000, 1) AS %s
FROM ${database}.ticket_state FINAL
WHERE center_id IN (${center:singlequote}) AND holder_department IN (${department:singlequote})
  AND due_ms > 0 AND reply_ms = 0 AND %s
ORDER BY due_ms %s
LIMIT 500`, "`工单编号`", "`承办单位`", "`诉求类别`", "`紧急程度`", "`受理时间`", "`办结时限`", "`距时限（小时）`", cond, order)
	}
	b = b.WithPanel(tablePanel("超期未办结清单", "已过办结时限仍未答复的工单，最早到期的在前", "short", countThresholds(0), clickhouseDS,
		sql("A", FormatTable, list("due_ms < toUnixTimestamp(now()) * 1000", "ASC"))).Span(12))
	return b.WithPanel(tablePanel("24 小时内到期清单", "办结时限在 24 小时内、尚未答复的工单（预警）", "short", countThresholds(0), clickhouseDS,
		sql("A", FormatTable, list("due_ms >= toUnixTimestamp(now()) * 1000 AND due_ms < (toUnixTimestamp(now()) + 86400) * 1000", "ASC"))).Span(12))
}

// evaluation is 月度考核: the departments' scores and ranking under the
// profile's scoring rules, and the centres' monthly indicators, summed
// exactly from the stored contributions of the selected time range.
func (g gen) evaluation() *dashboard.DashboardBuilder {
	b := g.board("hotlineqc-evaluation", "热线服务质量 · 月度考核", "now/M", g.chDatabase(),
		chVariable("center", "中心", "SELECT DISTINCT center_id FROM ${database}.daily_indicators ORDER BY center_id")).
		Description(fmt.Sprintf("考核口径 %s：承办单位得分按口径的计分规则由每日汇总（daily_indicators，各中心每天一行）精确求和计算，"+
					"与 hotlineqc export 的考核表一致。时间范围按整日计（%s），默认为本月整月（与 export 的月份一致）；当日数据按 clickhouse.settle_every（默认 30 秒）汇总。", g.p.ID, g.p.Timezone)).
		Time("now/M", "now/M") // the whole month, as export evaluates it
	b = b.WithPanel(tablePanel("承办单位得分与排名", "得分 = 各计分项之和 − 扣分（不低于 0）；同分同名次", "short", gradeThresholds(), clickhouseDS,
		sql("A", FormatTable, g.scoreSQL())).
		OverrideByRegexp("率$", []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}}).
		OverrideByName("得分", []dashboard.DynamicConfigValue{{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background"}}}))
	var cols []string
	for _, id := range []string{"calls_offered", "answer_rate", "answered_within_15s_rate", "abandon_rate", "call_satisfaction_rate"} {
		cols = append(cols, chValue(id)+" AS `"+name(id)+"`")
	}
	calls := fmt.Sprintf(`SELECT center_id AS %s,
  %s
FROM `+dailySums+`
WHERE center_id IN (${center:singlequote}) AND %s
GROUP BY center_id
ORDER BY center_id`, "`中心`", strings.Join(cols, ",\n  "), g.days())
	b = b.WithPanel(tablePanel("中心话务指标", "所选时间范围内的精确值", "short", countThresholds(0), clickhouseDS, sql("A", FormatTable, calls)).
		OverrideByRegexp("率$", []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}}).Height(6))
	cols = cols[:0]
	for _, id := range []string{"tickets_created", "first_contact_resolution_rate", "dispatch_timeliness_rate", "acceptance_timeliness_rate",
		"response_timeliness_rate", "on_time_closure_rate", "callback_rate", "resolution_rate", "ticket_satisfaction_rate"} {
		cols = append(cols, chValue(id)+" AS `"+name(id)+"`")
	}
	tickets := fmt.Sprintf(`SELECT center_id AS %s,
  %s
FROM `+dailySums+`
WHERE center_id IN (${center:singlequote}) AND %s
GROUP BY center_id
ORDER BY center_id`, "`中心`", strings.Join(cols, ",\n  "), g.days())
	b = b.WithPanel(tablePanel("中心工单指标", "所选时间范围内的精确值", "short", countThresholds(0), clickhouseDS, sql("A", FormatTable, tickets)).
		OverrideByRegexp("率$", []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}}).Height(6))
	// Days, not the plugin's $__timeInterval: its toStartOfInterval is
	// unknown to ClickHouse before 19.x, and the panel is daily anyway.
	daily := fmt.Sprintf(`SELECT toDateTime(day, '%s') AS time, center_id,
  %s AS value
FROM `+dailySums+`
WHERE center_id IN (${center:singlequote}) AND %s
GROUP BY time, center_id
ORDER BY time`, g.p.Timezone, chRatio("on_time_closure_rate"), g.days())
	id := "on_time_closure_rate"
	return b.WithPanel(seriesPanel(name(id)+"（按中心，每日）", g.targetText(id), unit(id), thresholds(g.target(id)), clickhouseDS,
		sql("A", FormatTimeSeries, daily)).Span(24))
}

// qa is 质检: coverage, pass rates and reviews live, and by team
// (outsourced operator) and agent over the time range, with the score
// distribution, exactly from the stored contributions.
func (g gen) qa() *dashboard.DashboardBuilder {
	b := g.board("hotlineqc-qa", "热线服务质量 · 质检", "now-7d", promCenter(), g.chDatabase()).
		Description("质检结果（call.evaluated / ticket.evaluated）按来电进线、工单受理的时间计入；评分在通话后数日到达，" +
			"近几日的覆盖率会随评分到达而上升。复核（申诉）结果替换原评分。").
		WithRow(dashboard.NewRowBuilder("近 7 天（实时）"))
	for _, id := range []string{"call_qa_coverage_rate", "call_qa_pass_rate", "ticket_qa_pass_rate"} {
		b = b.WithPanel(statPanel(name(id), g.targetText(id)+"；近 7 天内到达的评分", unit(id), thresholds(g.target(id)), prometheusDS,
			promQL("A", promRate(id, centerFilter, "7d", ""), name(id), true)).Span(6))
	}
	b = b.WithPanel(statPanel(name("qa_reviews"), "近 7 天被复核替换的评分", "short", countThresholds(0), prometheusDS,
		promQL("A", promCount("qa_reviews", centerFilter, "7d", ""), name("qa_reviews"), true)).Span(6))
	b = b.WithRow(dashboard.NewRowBuilder("班组与坐席（所选时间范围，来自 ClickHouse）"))
	cols := func() string {
		var cs []string
		for _, id := range []string{"calls_answered", "call_qa_coverage_rate", "call_qa_pass_rate", "call_qa_avg_percent", "qa_reviews"} {
			cs = append(cs, chValue(id)+" AS `"+name(id)+"`")
		}
		return strings.Join(cs, ",\n  ")
	}
	where := "center_id IN (${center:singlequote}) AND agent_id != '' AND $__timeFilter(bucket)"
	teams := fmt.Sprintf(`SELECT team AS %s,
  %s
FROM `+callContribs+`
WHERE %s
GROUP BY team
ORDER BY %s
LIMIT 200`, "`班组`", cols(), where, "`"+name("call_qa_pass_rate")+"`")
	agents := fmt.Sprintf(`SELECT agent_id AS %s, team AS %s,
  %s
FROM `+callContribs+`
WHERE %s
GROUP BY agent_id, team
ORDER BY %s
LIMIT 500`, "`坐席`", "`班组`", cols(), where, "`"+name("call_qa_pass_rate")+"`")
	pct := []dashboard.DynamicConfigValue{{Id: "unit", Value: "percent"}}
	b = b.WithPanel(tablePanel("班组（外包单位）质检", "覆盖率 = 有质检结果的接通来电 ÷ 接通来电；合格率、平均得分按现行（复核后）评分；合格率低者在前", "short", countThresholds(0), clickhouseDS,
		sql("A", FormatTable, teams)).
		OverrideByRegexp("率$", []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}}).
		OverrideByName(name("call_qa_avg_percent"), pct).Height(8))
	b = b.WithPanel(tablePanel("坐席质检", "每位坐席所选时间范围内接通来电的质检结果（精确值）；合格率低者在前", "short", countThresholds(0), clickhouseDS,
		sql("A", FormatTable, agents)).
		OverrideByRegexp("率$", []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}}).
		OverrideByName(name("call_qa_avg_percent"), pct))
	dist := fmt.Sprintf(`SELECT concat(toString(band * 10), '–', toString(band * 10 + 10), '%%') AS %s, count() AS %s
FROM (
  SELECT least(intDiv(toUInt32(num / den / 1000000), 10), 9) AS band
  FROM `+callContribs+`
  WHERE center_id IN (${center:singlequote}) AND ind = 'call_qa_avg_percent' AND den > 0 AND $__timeFilter(bucket)
)
GROUP BY band
ORDER BY band`, "`得分区间`", "`来电数`")
	return b.WithPanel(tablePanel("话务质检得分分布", "每通被质检来电的现行平均得分（满分折算为 100 分）；90–100% 含满分", "short", countThresholds(0), clickhouseDS,
		sql("A", FormatTable, dist)).Height(8).Span(12))
}

// agents is 坐席与排班 (revision 1.2): the agents signed in now by state and
// 示忙 reason, the last staffing interval's required and staffed agents
// (Erlang C, the live gauges), and over the time range the agents staffed
// per half-hour and 示忙率 and occupancy by team and agent, exactly from
// the stored days.
func (g gen) agents() *dashboard.DashboardBuilder {
	f := `center=~"$center"`
	b := g.board("hotlineqc-agents", "热线服务质量 · 坐席与排班", "now-24h", promCenter(), g.chDatabase()).
		Description("坐席签入（agent.*）按状态计时：示闲、通话、话后处理为在岗，示忙按原因；应配坐席由 Erlang C 按排班时段（" +
			g.p.Staffing.Interval + "）的来电量与平均处理时长算出，目标为服务水平目标。").
		WithRow(dashboard.NewRowBuilder("现在（实时）"))
	for _, st := range []struct{ title, desc, expr string }{
		{"签入坐席", "当前签入的坐席", fmt.Sprintf("sum(hotline_agents{%s})", f)},
		{"在岗坐席", "示闲、通话或话后处理", fmt.Sprintf(`sum(hotline_agents{%s,state!="not_ready"}) or vector(0)`, f)},
		{"示忙坐席", "休息、用餐、培训、会议等", fmt.Sprintf(`sum(hotline_agents{%s,state="not_ready"}) or vector(0)`, f)},
	} {
		b = b.WithPanel(statPanel(st.title, st.desc, "short", countThresholds(0), prometheusDS, promQL("A", st.expr, st.title, true)))
	}
	b = b.WithPanel(barPanel("按状态", "当前签入坐席的状态", countThresholds(0),
		promQL("A", fmt.Sprintf("sum by (state) (hotline_agents{%s})", f), "{{state}}", true)))
	b = b.WithPanel(barPanel("示忙原因", "当前示忙坐席的原因", countThresholds(0),
		promQL("A", fmt.Sprintf(`sum by (reason) (hotline_agents{%s,state="not_ready"}) or on () label_replace(vector(0), "reason", "（无示忙）", "", "")`, f), "{{reason}}", true)))
	b = b.WithPanel(seriesPanel("应配与在岗坐席（上一排班时段）", "应配：Erlang C 按上一排班时段的来电量与平均处理时长；在岗：该时段平均在岗坐席；在岗少于应配即缺员", "short", countThresholds(0), prometheusDS,
		promQL("A", fmt.Sprintf("max by (center) (hotline_staffing_agents_required{%s})", f), "应配 {{center}}", false),
		promQL("B", fmt.Sprintf("max by (center) (hotline_staffing_agents_staffed{%s})", f), "在岗 {{center}}", false)).Span(16))
	b = b.WithRow(dashboard.NewRowBuilder("所选时间范围（来自 ClickHouse）"))
	staffed := fmt.Sprintf(`SELECT toDateTime(intDiv(toUInt32(bucket), 1800) * 1800) AS time, center_id,
  sumIf(num, ind = 'agents_staffed') / 1800000 AS %s
FROM `+agentContribs+`
WHERE center_id IN (${center:singlequote}) AND $__timeFilter(bucket)
GROUP BY time, center_id
ORDER BY time`, "`在岗坐席`")
	b = b.WithPanel(seriesPanel("在岗坐席（每 30 分钟平均）", "示闲、通话、话后处理的坐席时长 ÷ 时段时长", "short", countThresholds(0), clickhouseDS,
		sql("A", FormatTimeSeries, staffed)).Span(24))
	cols := func() string {
		return fmt.Sprintf("sumIf(num, ind = 'agent_online_seconds') / 3600000 AS `签入时长(小时)`,\n  %s AS `%s`,\n  %s AS `%s`",
			chRatio("agent_not_ready_rate"), name("agent_not_ready_rate"), chRatio("occupancy_rate"), name("occupancy_rate"))
	}
	teams := fmt.Sprintf(`SELECT team AS %s,
  uniqExact(agent_id) AS %s,
  %s
FROM `+agentContribs+`
WHERE center_id IN (${center:singlequote}) AND $__timeFilter(bucket)
GROUP BY team
ORDER BY %s DESC
LIMIT 200`, "`班组`", "`坐席数`", cols(), "`"+name("agent_not_ready_rate")+"`")
	agents := fmt.Sprintf(`SELECT agent_id AS %s, team AS %s,
  %s
FROM `+agentContribs+`
WHERE center_id IN (${center:singlequote}) AND $__timeFilter(bucket)
GROUP BY agent_id, team
ORDER BY %s DESC
LIMIT 500`, "`坐席`", "`班组`", cols(), "`"+name("agent_not_ready_rate")+"`")
	pct := []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}}
	b = b.WithPanel(tablePanel("班组（外包单位）示忙率与利用率", "示忙率 = 示忙时长 ÷ 签入时长；坐席利用率 = (通话 + 话后处理) ÷ 在岗时长；示忙率高者在前", "short", countThresholds(0), clickhouseDS,
		sql("A", FormatTable, teams)).OverrideByRegexp("率$", pct).Height(8))
	return b.WithPanel(tablePanel("坐席示忙率与利用率", "每位坐席所选时间范围内的签入时长、示忙率与坐席利用率（精确值）；示忙率高者在前", "short", countThresholds(0), clickhouseDS,
		sql("A", FormatTable, agents)).OverrideByRegexp("率$", pct))
}

// needs is 市民诉求 (revision 1.2): today's hot spots and repeat calls
// (the gauges every instance publishes from the store), and the requests
// by topic and area of the time range (ticket_state).
func (g gen) needs() *dashboard.DashboardBuilder {
	f := `center=~"$center"`
	h := g.p.Hotspot
	b := g.board("hotlineqc-needs", "热线服务质量 · 市民诉求", "now-7d", promCenter(), g.chDatabase()).
		Description(fmt.Sprintf("热点诉求：某一诉求分类（第 %d 级）今日受理量不少于 %d 件，且超过前 %d 天日均 μ 加 %s 倍 √max(μ, 1)；"+
			"重复来电：同一来电号码（加密摘要）在 %s 内再次来电。", h.Level, h.MinCount, h.BaselineDays, strconv.FormatFloat(h.Z, 'f', -1, 64),
			lookBackText(g.p.RepeatCall.Window))).
		WithRow(dashboard.NewRowBuilder("今日（实时）"))
	b = b.WithPanel(statPanel("今日热点数", "今日达到热点条件的诉求分类数", "short", countThresholds(1), prometheusDS,
		promQL("A", fmt.Sprintf("count(max by (center, topic) (hotline_hotspot_score{%s})) or vector(0)", f), "热点", true)))
	b = b.WithPanel(statPanel("今日重复来电率", "今日来电中，来电人此前 "+lookBackText(g.p.RepeatCall.Window)+"内来电过的比例", "percentunit", countThresholds(0), prometheusDS,
		promQL("A", fmt.Sprintf("sum(max by (center, queue) (hotline_needs_repeat_calls_today{%[1]s})) / sum(max by (center, queue) (hotline_needs_calls_with_caller_today{%[1]s}))", f), "重复来电率", true)))
	hot := func(metric string) string {
		return fmt.Sprintf(`max by (center, topic, name) (%s{%s}) or on () label_replace(vector(0), "name", "（今日无热点）", "", "")`, metric, f)
	}
	b = b.WithPanel(barPanel("今日热点：受理量", "热点分类今日已受理的工单数", countThresholds(0), promQL("A", hot("hotline_hotspot_tickets_today"), "{{name}} {{topic}}", true)))
	b = b.WithPanel(barPanel("今日热点：基线日均", fmt.Sprintf("热点分类前 %d 天的日均受理量 μ", h.BaselineDays), countThresholds(0),
		promQL("A", hot("hotline_hotspot_baseline"), "{{name}} {{topic}}", true)))
	b = b.WithPanel(barPanel("今日热点：得分", "(c − μ) ÷ √max(μ, 1)，越高越突出", countThresholds(0), promQL("A", hot("hotline_hotspot_score"), "{{name}} {{topic}}", true)))
	b = b.WithPanel(barPanel("今日重复来电率（按队列）", "各队列今日重复来电 ÷ 有来电号码的来电", countThresholds(0),
		promQL("A", fmt.Sprintf("max by (queue) (hotline_needs_repeat_calls_today{%[1]s}) / max by (queue) (hotline_needs_calls_with_caller_today{%[1]s} > 0)", f), "{{queue}}", true)))
	b = b.WithRow(dashboard.NewRowBuilder("所选时间范围（来自 ClickHouse）"))
	tickets := `${database}.ticket_state FINAL`
	byTopic := fmt.Sprintf(`SELECT %s AS %s, count() AS %s, uniqExact(area) AS %s
FROM %s
WHERE center_id IN (${center:singlequote}) AND created_ms > 0 AND created_ms >= toInt64(toUInt32($__fromTime)) * 1000 AND created_ms < toInt64(toUInt32($__toTime)) * 1000
GROUP BY topic
ORDER BY count() DESC
LIMIT 100`, g.topicName("topic"), "`诉求分类`", "`受理量`", "`涉及区域数`", tickets)
	byArea := fmt.Sprintf(`SELECT if(area = '', '（未填）', area) AS %s, count() AS %s, uniqExact(topic) AS %s
FROM %s
WHERE center_id IN (${center:singlequote}) AND created_ms > 0 AND created_ms >= toInt64(toUInt32($__fromTime)) * 1000 AND created_ms < toInt64(toUInt32($__toTime)) * 1000
GROUP BY area
ORDER BY count() DESC
LIMIT 100`, "`区域`", "`受理量`", "`诉求分类数`", tickets)
	b = b.WithPanel(tablePanel("分类受理量", "所选时间范围内受理的工单按诉求分类（代码不在分类表中的显示代码）", "short", countThresholds(0), clickhouseDS,
		sql("A", FormatTable, byTopic)).Span(12))
	return b.WithPanel(tablePanel("区域受理量", "所选时间范围内受理的工单按区域", "short", countThresholds(0), clickhouseDS,
		sql("A", FormatTable, byArea)).Span(12))
}

// topicName renders a SQL expression naming the topic code in column col
// by the profile's topic table (transform, which ClickHouse 18.16 has);
// the code itself without a table.
func (g gen) topicName(col string) string {
	t := g.p.TopicTable
	if t.Len() == 0 {
		return "if(" + col + " = '', '（未填）', " + col + ")"
	}
	var codes, names []string
	for _, c := range t.Codes() {
		codes = append(codes, "'"+strings.ReplaceAll(c, "'", "''")+"'")
		names = append(names, "'"+strings.ReplaceAll(c+" "+t.PathName(c), "'", "''")+"'")
	}
	return fmt.Sprintf("transform(%s, [%s], [%s], if(%s = '', '（未填）', %s))", col, strings.Join(codes, ", "), strings.Join(names, ", "), col, col)
}

// lookBackText writes a look-back in Chinese: whole days as 天.
func lookBackText(l profile.LookBack) string {
	d := time.Duration(l)
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + " 天"
	}
	return d.String()
}

// pipeline is 管道健康: lag, dead letters, write latency, rebalances.
func (g gen) pipeline() *dashboard.DashboardBuilder {
	b := g.board("hotlineqc-pipeline", "hotlineqc · 管道健康", "now-6h").
		Description("hotlineqc run 各实例的消费、写入与提交状况。")
	for _, st := range []struct {
		title, desc, unit string
		red               float64 // from this value on (0: never)
		expr, legend      string
	}{
		{"已分配分区", "各实例当前拥有的分区数之和", "short", 0, "sum(hotline_kafka_partitions_assigned)", "分区"},
		{"距上次提交", "最近一次成功提交偏移量至今（所有实例中最近的）", "s", 300, "time() - max(hotline_pipeline_last_commit_timestamp_seconds)", "秒"},
		{"再均衡次数（1 小时）", "消费组代数的增加", "short", 10, "sum(increase(hotline_kafka_generations_total[1h]))", "次"},
		{"死信（1 小时）", "被拒绝并写入死信主题的消息", "short", 1, "sum(increase(hotline_pipeline_dead_letters_written_total[1h]))", "条"},
		{"消费积压", "各分区距末尾的消息数之和", "short", 100000, "sum(hotline_kafka_consumer_lag_messages)", "条"},
		{"写入失败（1 小时）", "各写入阶段失败的尝试（每次重试计一次）", "short", 1, "sum(increase(hotline_pipeline_flush_stage_failures_total[1h]))", "次"},
	} {
		b = b.WithPanel(statPanel(st.title, st.desc, st.unit, countThresholds(st.red), prometheusDS, promQL("A", st.expr, st.legend, true)))
	}
	b = b.WithPanel(seriesPanel("消费积压（按分区）", "", "short", countThresholds(100000), prometheusDS,
		promQL("A", "sum by (topic, partition) (hotline_kafka_consumer_lag_messages)", "{{topic}}/{{partition}}", false)))
	b = b.WithPanel(seriesPanel("消费与写入速率", "每秒消息与事件", "short", countThresholds(0), prometheusDS,
		promQL("A", "sum by (topic) (rate(hotline_pipeline_messages_consumed_total[5m]))", "消费 {{topic}}", false),
		promQL("B", "sum by (kind) (rate(hotline_pipeline_events_written_total[5m]))", "写入 {{kind}}", false)))
	b = b.WithPanel(seriesPanel("拒绝的消息（按原因）", "事件契约校验未通过，已写入死信主题", "short", countThresholds(1), prometheusDS,
		promQL("A", "sum by (reason) (increase(hotline_pipeline_messages_rejected_total[5m]))", "{{reason}}", false)))
	return b.WithPanel(seriesPanel("写入阶段耗时 P99", "每个刷新阶段（加载、求值、死信、原始事件、状态、提交）", "s", countThresholds(5), prometheusDS,
		promQL("A", "histogram_quantile(0.99, sum by (le, stage) (rate(hotline_pipeline_flush_stage_duration_seconds_bucket[5m])))", "{{stage}}", false)))
}

// targetText describes an indicator's target for a panel.
func (g gen) targetText(id string) string {
	t := g.target(id)
	if t == nil {
		return name(id)
	}
	op := "≥"
	if t.Op == "<=" {
		op = "≤"
	}
	return fmt.Sprintf("%s，目标 %s %g%%（%s）", name(id), op, t.Value*100, g.p.ID)
}

// gradeThresholds colours a score by grade: 不合格 < 60 ≤ 合格 < 80 ≤ 良好 < 90 ≤ 优秀.
func gradeThresholds() *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
		{Value: nil, Color: "red"}, {Value: ptr(60.0), Color: "orange"}, {Value: ptr(80.0), Color: "yellow"}, {Value: ptr(90.0), Color: "green"}})
}

// round2 rounds a non-negative amount to 2 decimals, half away from zero
// as the export does (math.Round): ClickHouse's round() rounds a Float64
// half to even.
func round2(x string) string { return "floor((" + x + ") * 100 + 0.5) / 100" }

// chRatio is an indicator's exact value from the summed contributions of
// the rows in scope (ARRAY JOIN as ind, num, den): NULL without a
// denominator; means in their unit (stored in ms).
func chRatio(id string) string {
	div := ""
	ind, _ := indicator.Lookup(id)
	switch ind.Unit {
	case profile.Seconds:
		div = " / 1000"
	case profile.WorkingDays:
		div = " / 86400000"
	case profile.Percent:
		div = " / 1000000"
	}
	return fmt.Sprintf("if(sumIf(den, ind = '%s') = 0, NULL, sumIf(num, ind = '%s') / sumIf(den, ind = '%s')%s)", id, id, id, div)
}

// chValue is chRatio for rates and means, the sum for counts.
func chValue(id string) string {
	if ind, _ := indicator.Lookup(id); ind.Kind == profile.Count {
		return fmt.Sprintf("sumIf(num, ind = '%s')", id)
	}
	return chRatio(id)
}

// scoreSQL ranks the departments under the profile's scoring rules, as
// the monthly export does (report.scoreItem): per item its value over the
// time range, the points it earns, the total and the rank.
func (g gen) scoreSQL() string {
	var values, points, penalties []string
	overdue := false
	for _, it := range g.p.Scoring.Items {
		col := "`" + name(it.Indicator) + "`"
		if it.Rule == profile.PenaltyPerCount {
			overdue = true
			penalties = append(penalties, fmt.Sprintf("least(%g, %g * %s)", it.Points, it.Penalty, col))
			continue
		}
		values = append(values, chRatio(it.Indicator)+" AS "+col)
		t := g.target(it.Indicator)
		switch {
		case t == nil:
			points = append(points, fmt.Sprintf("%g", it.Points))
		case it.Rule == profile.Threshold:
			op := ">="
			if t.Op == "<=" {
				op = "<="
			}
			points = append(points, fmt.Sprintf("if(isNull(%s), %g, if(%s %s %g, %g, 0))", col, it.Points, col, op, t.Value, it.Points))
		default:
			short := fmt.Sprintf("(%g - %s) * 100", t.Value, col)
			if t.Op == "<=" {
				short = fmt.Sprintf("(%s - %g) * 100", col, t.Value)
			}
			points = append(points, fmt.Sprintf("if(isNull(%s), %g, %s)",
				col, it.Points, round2(fmt.Sprintf("greatest(%g, %g - %g * greatest(0, %s))", it.Floor, it.Points, it.Step, short))))
		}
	}
	total := strings.Join(points, "\n    + ")
	if len(penalties) > 0 {
		total += "\n    - " + strings.Join(penalties, " - ")
	}
	from := `(SELECT dept, ` + strings.Join(values, ",\n    ") + `
  FROM ` + dailySums + `
  WHERE center_id IN (${center:singlequote}) AND dept != '' AND ` + g.days() + `
  GROUP BY dept) AS v`
	if overdue {
		// Overdue now: each ticket partition's latest count by its owner
		// (ticket_backlog, every few seconds), not every ticket's state.
		from += "\n  ANY LEFT JOIN (SELECT department AS dept, toFloat64(sum(overdue)) AS `" + name("overdue_open") + "`" + `
    FROM ${database}.ticket_backlog
    WHERE center_id IN (${center:singlequote}) AND (src_topic, src_partition, version) IN
      (SELECT src_topic, src_partition, max(version) FROM ${database}.ticket_backlog GROUP BY src_topic, src_partition)
    GROUP BY dept) AS o USING dept`
	}
	var shown []string
	for _, it := range g.p.Scoring.Items {
		shown = append(shown, "`"+name(it.Indicator)+"`")
	}
	return fmt.Sprintf(`SELECT arrayCount(x -> x > `+"`得分`"+`, all_scores) + 1 AS `+"`排名`"+`, dept AS `+"`承办单位`"+`, `+"`得分`"+`,
  multiIf(`+"`得分`"+` >= 90, '优秀', `+"`得分`"+` >= 80, '良好', `+"`得分`"+` >= 60, '合格', '不合格') AS `+"`等级`"+`,
  %s
FROM (
  SELECT *, ifNull(%s, 0) AS `+"`得分`"+`
  FROM %s
) AS d
CROSS JOIN (
  SELECT groupArray(s) AS all_scores FROM (
    SELECT ifNull(%s, 0) AS s
    FROM %s
  )
) AS a
ORDER BY `+"`得分`"+` DESC, dept ASC`, strings.Join(shown, ", "), round2("greatest(0, "+total+")"), from, round2("greatest(0, "+total+")"), from)
}
