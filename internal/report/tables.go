package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Format says how a cell is shown.
type Format uint8

// Cell formats.
const (
	Text     Format = iota
	Integer         // 1234
	Percent         // 0.9512 shown as 95.12%
	Decimal1        // seconds: 12.3
	Decimal2        // points, working days, hours: 4.25
)

// Cell is one value of a table.
type Cell struct {
	Value  any // string, float64 or nil (empty)
	Format Format
}

// Table is one sheet of the XLSX, one CSV file, one section of the HTML.
type Table struct {
	Name    string // the sheet name, Chinese
	Slug    string // the CSV file suffix
	Headers []string
	Widths  []float64 // column widths in characters
	Rows    [][]Cell
}

var categoryNames = map[string]string{"consultation": "咨询", "help": "求助", "complaint": "投诉",
	"report": "举报", "suggestion": "建议", "praise": "表扬", "": "未分类"}

var urgencyNames = map[string]string{"normal": "一般", "urgent": "紧急"}

// TextCell is a cell of text.
func TextCell(s string) Cell { return Cell{Value: s} }

// NumCell is a cell of a value in format f, empty when v is nil (no data).
func NumCell(v *float64, f Format) Cell {
	if v == nil {
		return Cell{}
	}
	return Cell{Value: *v, Format: f}
}

// ValueCell is a cell of a value in format f.
func ValueCell(v float64, f Format) Cell { return Cell{Value: v, Format: f} }

// ValueFormat is the format of an indicator's value.
func ValueFormat(k profile.Kind) Format {
	switch k {
	case profile.Rate:
		return Percent
	case profile.Mean:
		return Decimal2
	}
	return Integer
}

// TargetText writes a target as people read it (≥ 95%, ≤ 20 秒), "" when none.
func TargetText(t *profile.Target) string {
	if t == nil {
		return ""
	}
	op := "≥"
	if t.Op == "<=" {
		op = "≤"
	}
	return fmt.Sprintf("%s %s%%", op, TrimFloat(t.Value*100))
}

// TrimFloat writes v with no trailing zeros.
func TrimFloat(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", v), "0"), ".")
}

func metText(m *bool) string {
	switch {
	case m == nil:
		return ""
	case *m:
		return "达标"
	}
	return "未达标"
}

// Tables returns the report's tables, in sheet order.
func (r *Report) Tables() []Table {
	return []Table{r.overallTable(), r.deptTable(), r.honorTable(), r.lateTable(), r.dailyTable(), r.teamTable(),
		r.rankTable("质检（班组与外包）", "qa-teams", r.QATeams, QAIndicators, false), r.rankTable("质检（坐席）", "qa-agents", r.QAAgents, QAIndicators, true),
		r.reviewTable(),
		r.rankTable("坐席工作（班组与外包）", "agent-teams", r.AgentTeams, AgentIndicators, false), r.rankTable("坐席工作（坐席）", "agents", r.Agents, AgentIndicators, true),
		r.hotspotTable(), r.basisTable()}
}

func (r *Report) overallTable() Table {
	t := Table{Name: "总体指标", Slug: "overall", Headers: []string{"指标代码", "指标名称", "分子", "分母", "数值", "目标", "是否达标"},
		Widths: []float64{32, 22, 14, 12, 12, 12, 10}}
	for _, l := range r.Overall {
		nf := Integer
		if l.Kind == profile.Mean {
			nf = Decimal2
		}
		t.Rows = append(t.Rows, []Cell{TextCell(l.ID), TextCell(l.Name), NumCell(l.Numerator, nf), NumCell(l.Denominator, Integer),
			NumCell(l.Value, ValueFormat(l.Kind)), TextCell(TargetText(l.Target)), TextCell(metText(l.Met))})
	}
	return t
}

func (r *Report) deptTable() Table {
	t := Table{Name: "承办单位考核", Slug: "departments", Headers: []string{"排名", "承办单位", "总分", "等级"}, Widths: []float64{6, 18, 8, 8}}
	for _, it := range r.Profile.Scoring.Items {
		name := r.Profile.IndicatorName(it.Indicator)
		t.Headers = append(t.Headers, name, name+"得分")
		t.Widths = append(t.Widths, 14, 10)
	}
	for _, d := range r.Depts {
		row := []Cell{ValueCell(float64(d.Rank), Integer), TextCell(d.Department), ValueCell(d.Score, Decimal2), TextCell(d.Grade)}
		for _, it := range d.Items {
			ind, _ := indicator.Lookup(it.Indicator)
			points := it.Points
			if it.Rule == profile.PenaltyPerCount && points != 0 {
				points = -points // a deduction
			}
			value := NumCell(it.Value, ValueFormat(ind.Kind))
			if it.NoData {
				value = TextCell("无数据")
			}
			row = append(row, value, ValueCell(points, Decimal2))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (r *Report) honorTable() Table {
	t := Table{Name: "红黑榜", Slug: "honor", Headers: []string{"榜单", "名次", "承办单位", "总分", "等级"}, Widths: []float64{8, 6, 18, 8, 8}}
	n := min(5, len(r.Depts))
	for _, d := range r.Depts[:n] {
		t.Rows = append(t.Rows, []Cell{TextCell("红榜"), ValueCell(float64(d.Rank), Integer), TextCell(d.Department), ValueCell(d.Score, Decimal2), TextCell(d.Grade)})
	}
	for i := len(r.Depts) - 1; i >= max(len(r.Depts)-5, 0); i-- {
		d := r.Depts[i]
		t.Rows = append(t.Rows, []Cell{TextCell("黑榜"), ValueCell(float64(d.Rank), Integer), TextCell(d.Department), ValueCell(d.Score, Decimal2), TextCell(d.Grade)})
	}
	return t
}

func (r *Report) lateTable() Table {
	t := Table{Name: "超期工单明细", Slug: "late", Headers: []string{"工单编号", "承办单位", "类别", "紧急程度", "办结时限", "答复时间", "超时(小时)"},
		Widths: []float64{22, 16, 8, 8, 20, 20, 12}}
	loc := r.Profile.Location()
	for _, l := range r.Late {
		reply := "未答复"
		if l.Reply != 0 {
			reply = time.UnixMilli(l.Reply).In(loc).Format("2006-01-02 15:04")
		}
		dept := l.Department
		if dept == "" {
			dept = "(中心待派)"
		}
		t.Rows = append(t.Rows, []Cell{TextCell(l.TicketID), TextCell(dept), TextCell(categoryNames[l.Category]), TextCell(urgencyNames[l.Urgency]),
			TextCell(time.UnixMilli(l.Due).In(loc).Format("2006-01-02 15:04")), TextCell(reply), ValueCell(l.LateHours, Decimal2)})
	}
	return t
}

// indicatorHeaders adds a column per indicator, named under the profile.
func (r *Report) indicatorHeaders(t *Table, ids []string) {
	for _, id := range ids {
		t.Headers = append(t.Headers, r.Profile.IndicatorName(id))
		t.Widths = append(t.Widths, 14)
	}
}

// appendValues adds the cells of the indicators' values, empty without data.
func appendValues(row []Cell, ids []string, values map[string]*float64) []Cell {
	for _, id := range ids {
		ind, _ := indicator.Lookup(id)
		row = append(row, NumCell(values[id], ValueFormat(ind.Kind)))
	}
	return row
}

func (r *Report) dailyTable() Table {
	t := Table{Name: "每日趋势", Slug: "daily", Headers: []string{"日期"}, Widths: []float64{12}}
	r.indicatorHeaders(&t, DailyIndicators)
	for _, d := range r.Daily {
		row := []Cell{TextCell(d.Date)}
		row = appendValues(row, DailyIndicators, d.Values)
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (r *Report) teamTable() Table {
	t := Table{Name: "团队与外包", Slug: "teams", Headers: []string{"团队"}, Widths: []float64{20}}
	r.indicatorHeaders(&t, TeamIndicators)
	for _, tm := range r.Teams {
		name := tm.Team
		if name == "" {
			name = "(未接通或未标注)"
		}
		row := []Cell{TextCell(name)}
		row = appendValues(row, TeamIndicators, tm.Values)
		t.Rows = append(t.Rows, row)
	}
	return t
}

// rankTable is a ranking of the teams, or of the agents (质检, 坐席).
func (r *Report) rankTable(name, slug string, ranks []Rank, cols []string, agents bool) Table {
	t := Table{Name: name, Slug: slug, Headers: []string{"名次"}, Widths: []float64{6}}
	if agents {
		t.Headers, t.Widths = append(t.Headers, "坐席"), append(t.Widths, 14)
	}
	t.Headers, t.Widths = append(t.Headers, "班组/外包单位"), append(t.Widths, 18)
	r.indicatorHeaders(&t, cols)
	for _, q := range ranks {
		row := []Cell{ValueCell(float64(q.Rank), Integer)}
		if agents {
			row = append(row, TextCell(q.Agent))
		}
		team := q.Team
		if team == "" {
			team = "(未标注)"
		}
		row = append(row, TextCell(team))
		row = appendValues(row, cols, q.Values)
		t.Rows = append(t.Rows, row)
	}
	return t
}

// reviewTable lists the month's reviews (复核): who scored what before and
// after, and whether the result changed.
func (r *Report) reviewTable() Table {
	t := Table{Name: "质检复核记录", Slug: "qa-reviews",
		Headers: []string{"对象", "编号", "评分单号", "评分表", "坐席", "原评分时间", "原质检员", "原得分(%)", "原结果",
			"复核时间", "复核质检员", "复核得分(%)", "复核结果"},
		Widths: []float64{6, 22, 18, 14, 12, 20, 10, 10, 8, 20, 10, 10, 8}}
	loc := r.Profile.Location()
	at := func(ms int64) string { return time.UnixMilli(ms).In(loc).Format("2006-01-02 15:04:05") }
	result := func(ok bool) string {
		if ok {
			return "合格"
		}
		return "不合格"
	}
	for _, v := range r.Reviews {
		kind, agent := "话务", v.After.Agent
		if v.Ticket {
			kind = "工单"
		}
		if agent == "" {
			agent = v.Before.Agent
		}
		t.Rows = append(t.Rows, []Cell{TextCell(kind), TextCell(v.ID), TextCell(v.EvaluationID), TextCell(v.Form), TextCell(agent),
			TextCell(at(v.Before.TS)), TextCell(v.Before.Evaluator), ValueCell(v.Before.Percent, Decimal2), TextCell(result(v.Before.Passed)),
			TextCell(at(v.After.TS)), TextCell(v.After.Evaluator), ValueCell(v.After.Percent, Decimal2), TextCell(result(v.After.Passed))})
	}
	return t
}

func (r *Report) basisTable() Table {
	p := r.Profile
	t, add := NewBasisTable()
	add("热线中心", r.Center)
	add("考核月份", r.Month)
	add("评价口径", p.ID+"  "+p.Name)
	AddRunBasis(add, p, r.AsOf, r.Source, r.Events)
	AddProfileBasis(p, add)
	add("等级", "优秀 ≥ 90；良好 80–89.99；合格 60–79.99；不合格 < 60")
	AddInputs(add, r.Inputs)
	add("单位说明", "比率以百分比表示；平均应答、排队、通话、处理时长单位为秒；平均办理时长单位为工作日")
	return *t
}

// NewBasisTable starts the 口径说明 table; add appends a line.
func NewBasisTable() (*Table, func(k, v string)) {
	t := &Table{Name: "口径说明", Slug: "basis", Headers: []string{"项目", "内容"}, Widths: []float64{28, 90}}
	return t, func(k, v string) { t.Rows = append(t.Rows, []Cell{TextCell(k), TextCell(v)}) }
}

// AddRunBasis adds the evaluation time, the source and the event counts.
func AddRunBasis(add func(k, v string), p *profile.Profile, asOf, source string, ev indicator.Counts) {
	add("评估时间(截至)", asOf+" ("+p.Timezone+")")
	add("数据来源", source)
	add("有效事件数", fmt.Sprint(ev.Accepted))
	add("重复事件数", fmt.Sprint(ev.Duplicates))
	add("其中内容冲突", fmt.Sprint(ev.Conflicting))
	add("拒收事件数", fmt.Sprint(ev.Rejected))
}

// AddInputs adds each input with its checksum.
func AddInputs(add func(k, v string), inputs []Input) {
	for _, in := range inputs {
		add("输入 "+in.Name, fmt.Sprintf("SHA-256 %s (%d)", in.SHA256, in.Size))
	}
}

// AddProfileBasis adds the settings of a profile behind every figure:
// variants, deadlines, targets and scoring.
func AddProfileBasis(p *profile.Profile, add func(k, v string)) {
	sl := p.Calls.ServiceLevel
	add("服务水平阈值(秒)", TrimFloat(sl.ThresholdSeconds))
	add("服务水平分母", map[string]string{profile.DenomAnswered: "人工接通量", profile.DenomOffered: "人工服务请求量",
		profile.DenomOfferedMinusShortAbandons: "人工服务请求量减短时放弃"}[sl.Denominator])
	add("短时放弃阈值(秒)", TrimFloat(p.Calls.ShortAbandonSeconds))
	add("剔除短时放弃", map[bool]string{true: "是", false: "否"}[p.Calls.ExcludeShortAbandons])
	add("满意评价", strings.Join(p.SatisfiedRatings, ", "))
	add("按时办结统计口径", map[string]string{profile.ByDeadline: "按办结时限所在期间", profile.ByReply: "按答复时间所在期间"}[p.Tickets.OnTimeClosure.WindowBy])
	add("办结时限起算", map[string]string{profile.LatestDispatch: "自当前承办单位收到的派单起算(退回重派重新起算)",
		profile.FirstDispatch: "自首次派单起算(退回重派不重新起算)"}[p.Tickets.ResolveClock])
	d := p.Deadlines
	add("派单时限(一般/紧急)", d.Dispatch.Normal.String()+" / "+d.Dispatch.Urgent.String())
	add("签收时限(一般/紧急)", d.Accept.Normal.String()+" / "+d.Accept.Urgent.String())
	add("联系时限(一般/紧急)", d.Contact.Normal.String()+" / "+d.Contact.Urgent.String())
	add("办结时限(一般/紧急)", d.Resolve.Normal.String()+" / "+d.Resolve.Urgent.String())
	for _, c := range SortedKeys(d.Resolve.ByCategory) {
		add("办结时限·"+categoryNames[c], d.Resolve.ByCategory[c].Normal.String()+" / "+d.Resolve.ByCategory[c].Urgent.String())
	}
	add("坐席会话超时", p.SessionTimeout().String())
	add("排班时段 / 默认处理时长", p.Staffing.Interval+" / "+p.Staffing.DefaultAHT.String())
	for _, ind := range indicator.Catalogue() {
		if tg, ok := p.Targets[ind.ID]; ok {
			add("目标·"+ind.Name, TargetText(&tg))
		}
	}
	for _, it := range p.Scoring.Items {
		ind, _ := indicator.Lookup(it.Indicator)
		add("考核项·"+ind.Name, fmt.Sprintf("%s, 分值 %s, 每百分点扣 %s, 最低 %s, 每件扣 %s", it.Rule, TrimFloat(it.Points),
			TrimFloat(it.Step), TrimFloat(it.Floor), TrimFloat(it.Penalty)))
	}
}

// SortedKeys returns the keys of m in order.
func SortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
