package assess

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hotlineqc/hotlineqc/internal/compute"
	"github.com/hotlineqc/hotlineqc/internal/profile"
	"github.com/hotlineqc/hotlineqc/internal/report"
)

// Tables returns the assessment's tables, in sheet order.
func (a *Assessment) Tables() []report.Table {
	ts := []report.Table{a.conformityTable(), a.monthlyTable(), a.serviceTable(), a.gapTable(), a.driverTable()}
	if a.Previous != nil {
		ts = append(ts, a.improvementTable())
	}
	if a.Audit != nil {
		ts = append(ts, a.auditTable(), a.auditListTable())
	}
	return append(ts, a.basisTable())
}

func targetOf(r *Requirement) string {
	if r.Key == "std.service_7x24" {
		return "每小时均有人工接通"
	}
	return report.TargetText(r.Target)
}

func (a *Assessment) conformityTable() report.Table {
	t := report.Table{Name: "符合性评价", Slug: "conformity",
		Headers: []string{"序号", "要求", "条款或来源", "指标", "目标", "本期数值", "达标月数/测评月数", "最差月份(日)", "最差值", "结论", "依据"},
		Widths:  []float64{6, 34, 22, 22, 12, 12, 16, 14, 10, 10, 50}}
	for i := range a.Rows {
		r := &a.Rows[i]
		f := report.ValueFormat(r.Kind)
		t.Rows = append(t.Rows, []report.Cell{report.ValueCell(float64(i+1), report.Integer), report.TextCell(r.Name), report.TextCell(r.Clause), report.TextCell(a.Profile.IndicatorName(r.Indicator)),
			report.TextCell(targetOf(r)), report.NumCell(r.Value, f), report.TextCell(fmt.Sprintf("%d/%d", r.Met, r.Measured)), report.TextCell(r.Worst), report.NumCell(r.WorstVal, f),
			report.TextCell(string(r.Verdict)), report.TextCell(evidence(r))})
	}
	return t
}

// evidence says where a value comes from, with its counts.
func evidence(r *Requirement) string {
	if r.Value == nil || r.Kind != profile.Rate || r.Key == "std.service_7x24" {
		return r.Evidence
	}
	return fmt.Sprintf("%s；分子 %s，分母 %s", r.Evidence, report.TrimFloat(r.Num), report.TrimFloat(r.Den))
}

func (a *Assessment) monthlyTable() report.Table {
	t := report.Table{Name: "逐月情况", Slug: "monthly", Headers: []string{"要求"}, Widths: []float64{34}}
	for _, m := range a.Months {
		t.Headers = append(t.Headers, m)
		t.Widths = append(t.Widths, 11)
	}
	for i := range a.Rows {
		r := &a.Rows[i]
		row := []report.Cell{report.TextCell(r.Name)}
		for _, m := range r.Months {
			row = append(row, report.NumCell(m.Value, report.ValueFormat(r.Kind)))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (a *Assessment) serviceTable() report.Table {
	t := report.Table{Name: "7×24服务", Slug: "service",
		Headers: []string{"月份", "依据", "小时数", "有来电小时", "无人工服务小时", "其中有来电", "结论"},
		Widths:  []float64{10, 12, 10, 12, 14, 12, 10}}
	for _, m := range a.Service.ByMonth {
		basis := "人工接通"
		if m.Presence {
			basis = "坐席在岗"
		}
		v := Conform
		switch {
		case m.Offered == 0 && !m.Presence:
			v = NoData
		case m.NoAnswer > 0:
			v = NotConform
		}
		t.Rows = append(t.Rows, []report.Cell{report.TextCell(m.Month), report.TextCell(basis), report.ValueCell(float64(m.Hours), report.Integer), report.ValueCell(float64(m.Offered), report.Integer),
			report.ValueCell(float64(m.NoAnswer), report.Integer), report.ValueCell(float64(m.Unserved), report.Integer), report.TextCell(string(v))})
	}
	return t
}

func (a *Assessment) gapTable() report.Table {
	t := report.Table{Name: "无人工服务时段", Slug: "service-gaps", Headers: []string{"时段(起)", "人工服务请求量"}, Widths: []float64{20, 16}}
	for _, g := range a.Service.Gaps {
		t.Rows = append(t.Rows, []report.Cell{report.TextCell(g.Hour), report.ValueCell(g.Offered, report.Integer)})
	}
	return t
}

func (a *Assessment) driverTable() report.Table {
	t := report.Table{Name: "差距成因", Slug: "drivers",
		Headers: []string{"要求", "维度", "取值", "分子", "分母", "数值", "缺口(件)"},
		Widths:  []float64{34, 10, 18, 12, 12, 10, 10}}
	for _, r := range a.Rows {
		for _, d := range r.Drivers {
			t.Rows = append(t.Rows, []report.Cell{report.TextCell(r.Name), report.TextCell(d.Dimension), report.TextCell(d.Value), report.ValueCell(d.Num, report.Integer), report.ValueCell(d.Den, report.Integer),
				report.ValueCell(d.Rate, report.Percent), report.ValueCell(d.Shortfall, report.Decimal2)})
		}
	}
	return t
}

func (a *Assessment) improvementTable() report.Table {
	t := report.Table{Name: "持续改进", Slug: "improvement",
		Headers: []string{"要求", "上期(" + a.Previous.From + "至" + a.Previous.To + ")", "上期结论", "本期", "本期结论", "变化", "整改情况"},
		Widths:  []float64{34, 20, 10, 12, 10, 10, 10}}
	for i := range a.Rows {
		r := &a.Rows[i]
		f := report.ValueFormat(r.Kind)
		row := []report.Cell{report.TextCell(r.Name), {}, report.TextCell(string(NoData)), report.NumCell(r.Value, f), report.TextCell(string(r.Verdict)), report.NumCell(r.Change, f), report.TextCell(improvement(r))}
		if r.Prev != nil {
			row[1], row[2] = report.NumCell(r.Prev.Value, f), report.TextCell(string(r.Prev.Verdict))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func improvement(r *Requirement) string {
	switch {
	case r.Rectified:
		return "已整改"
	case r.Prev == nil || r.Prev.Verdict == NoData || r.Verdict == NoData:
		return ""
	case r.Verdict == Conform:
		return "保持"
	case r.Change != nil && *r.Change != 0 && r.Target != nil && worse(*r.Target, *r.Value, *r.Prev.Value):
		return "退步"
	case r.Change != nil && *r.Change != 0:
		return "改善中"
	}
	return "未整改"
}

func (a *Assessment) auditTable() report.Table {
	t := report.Table{Name: "记录完整性", Slug: "records", Headers: []string{"类别代码", "类别", "件数", "示例编号"}, Widths: []float64{28, 40, 10, 60}}
	type sum struct {
		name     string
		count    int
		examples []string
	}
	var order []string
	by := map[string]*sum{}
	for _, c := range a.Audit.Classes {
		s := by[c.Class]
		if s == nil {
			s = &sum{name: c.Name}
			by[c.Class] = s
			order = append(order, c.Class)
		}
		s.count += c.Count
		if len(s.examples) < 5 {
			s.examples = append(s.examples, c.Examples[:min(len(c.Examples), 5-len(s.examples))]...)
		}
	}
	for _, c := range order {
		s := by[c]
		t.Rows = append(t.Rows, []report.Cell{report.TextCell(c), report.TextCell(s.name), report.ValueCell(float64(s.count), report.Integer), report.TextCell(strings.Join(s.examples, ", "))})
	}
	for _, reason := range report.SortedKeys(a.Audit.Rejected) {
		t.Rows = append(t.Rows, []report.Cell{report.TextCell("rejected:" + reason), report.TextCell("拒收的消息：" + reason), report.ValueCell(float64(a.Audit.Rejected[reason]), report.Integer), {}})
	}
	if len(t.Rows) == 0 {
		t.Rows = append(t.Rows, []report.Cell{report.TextCell(""), report.TextCell("未发现记录缺陷"), report.ValueCell(0, report.Integer), {}})
	}
	return t
}

func (a *Assessment) auditListTable() report.Table {
	t := report.Table{Name: "核查明细", Slug: "records-list", Headers: []string{"月份", "类别代码", "类别", "编号"}, Widths: []float64{10, 28, 40, 30}}
	for _, c := range a.Audit.Classes {
		for _, id := range c.Examples {
			t.Rows = append(t.Rows, []report.Cell{report.TextCell(c.Month), report.TextCell(c.Class), report.TextCell(c.Name), report.TextCell(id)})
		}
	}
	return t
}

func (a *Assessment) basisTable() report.Table {
	p := a.Profile
	t, add := report.NewBasisTable()
	add("热线中心", a.Center)
	add("评价期间", a.From+" 至 "+a.To)
	if a.Previous != nil {
		add("对比期间", a.Previous.From+" 至 "+a.Previous.To)
	}
	add("评价口径", p.ID+"  "+p.Name)
	add("工作日历", fmt.Sprintf("法定节假日与调休(内置)；口径增加的工作日 %s；增加的休息日 %s",
		listOrNone(p.Calendar.Workdays), listOrNone(p.Calendar.Holidays)))
	report.AddRunBasis(add, p, a.AsOf, a.Source, a.Events)
	add("结论规则", "测评月份全部达标为符合，部分达标为部分符合，均未达标为不符合，无测评月份为无数据；上期未全部达标、本期符合的标为已整改")
	add("缺口(件)", "该月份或维度取值要达到目标还需增加(“≤”目标为需减少)的分子件数")
	report.AddProfileBasis(p, add)
	report.AddInputs(add, a.Inputs)
	return *t
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "无"
	}
	return strings.Join(s, ", ")
}

// WriteXLSX writes the assessment as a workbook, one sheet per table.
func (a *Assessment) WriteXLSX(w io.Writer) error { return report.WriteWorkbook(w, a.Tables()) }

//go:embed assess.html
var assessHTML string

var assessPage = template.Must(template.New("assess").Funcs(template.FuncMap{"cell": report.CellText}).Parse(assessHTML))

// WriteHTML writes the assessment as one printable page.
func (a *Assessment) WriteHTML(w io.Writer) error {
	return assessPage.Execute(w, struct {
		Style  template.CSS
		A      *Assessment
		Tables []report.Table
		Chart  template.HTML
	}{report.Style, a, a.Tables(), a.verdictChart()})
}

// verdictChart draws each requirement's months met out of months measured.
func (a *Assessment) verdictChart() template.HTML {
	const left, width, rowH = 320.0, 360.0, 22.0
	h := rowH*float64(len(a.Rows)) + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg width="%g" height="%g" viewBox="0 0 %g %g" role="img" aria-label="各项要求达标月数" %s>`, left+width+90, h, left+width+90, h, report.ChartFont)
	colors := map[Verdict]string{Conform: "#16a34a", Partial: "#d97706", NotConform: "#dc2626", NoData: "#9ca3af"}
	for i, r := range a.Rows {
		y := 4 + rowH*float64(i)
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end">%s</text>`, left-8, y+13, template.HTMLEscapeString(r.Name))
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="15" fill="#f3f4f6"/>`, left, y+2, width)
		if r.Measured > 0 {
			fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%.1f" height="15" fill="%s"/>`, left, y+2, width*float64(r.Met)/float64(r.Measured), colors[r.Verdict])
		}
		fmt.Fprintf(&b, `<text x="%g" y="%g">%d/%d %s</text>`, left+width+6, y+13, r.Met, r.Measured, r.Verdict)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// Export writes the assessment of each centre (every centre
// with data in the period when center is "") into dir and returns the
// files written: <center>-<from>_<to>-自评.xlsx, one CSV per table, .html.
func Export(src report.Source, set *profile.Set, audit *compute.AuditOutput, center, from, to string, previous bool, formats []string, dir string) ([]string, error) {
	centers := []string{center}
	if center == "" {
		var err error
		if centers, err = report.PeriodCenters(src, from, to); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	for _, c := range centers {
		a, err := Evaluate(src, set.For(c), audit, c, from, to, previous)
		if err != nil {
			return written, err
		}
		base := filepath.Join(dir, fmt.Sprintf("%s-%s_%s-assessment", c, a.From, a.To))
		files, err := report.WriteFormats(base, formats, a.Tables(), a.WriteXLSX, a.WriteHTML)
		written = append(written, files...)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}
