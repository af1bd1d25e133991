// Package report builds the monthly evaluation report (月度考核报告) of a
// hotline centre — indicators against targets, department scores and
// ranking, late tickets, the daily series, and the basis of every figure —
// from event files or from the state a pipeline stored, and writes it as
// XLSX, CSV and HTML with Chinese headings.
package report

import (
	"github.com/hotlineqc/hotlineqc/internal/indicator"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

// Report is one centre's monthly evaluation.
type Report struct {
	Center  string
	Month   string // YYYY-MM
	Profile *profile.Profile
	AsOf    string
	Events  indicator.Counts
	Source  string  // 事件文件 or ClickHouse
	Inputs  []Input // what the figures come from, with checksums
	Overall []Line
	Depts   []DeptScore // ranked, best first
	Late    []LateTicket
	Daily   []Day
	Teams   []Team // call figures by the team of the answer (outsourced operators)
	// QA ranks the teams and the agents by their quality inspection
	// (质检) of the month's answered calls.
	QATeams, QAAgents []Rank
	// Agents ranks the teams (班组 and outsourced operators, 外包单位) and the
	// agents signed in during the month by their work (坐席, revision 1.2).
	AgentTeams, Agents []Rank
	// Reviews are the reviews (复核) made in the month: the evaluation
	// replaced and what replaced it.
	Reviews []indicator.Review
	// Hotspots are each week's top topic groups with their hot-spot days
	// (热点诉求, revision 1.2).
	Hotspots []WeekTopic
}

// Rank is one team's or agent's row of a ranking of the month (质检,
// 坐席): equal figures, equal rank.
type Rank struct {
	Rank        int
	Agent, Team string // Agent empty in a team ranking
	Values      map[string]*float64
}

// QAIndicators are the columns of the quality-inspection sheets, ranked
// by pass rate, then mean score.
var QAIndicators = []string{"calls_answered", "call_qa_coverage_rate", "call_qa_pass_rate", "call_qa_avg_percent", "qa_reviews"}

// AgentIndicators are the columns of the agent sheets (坐席, revision
// 1.2), ranked by calls answered per signed-in hour, then by the lower
// 示忙率.
var AgentIndicators = []string{"agent_online_seconds", "calls_answered", "calls_per_agent_hour", "occupancy_rate", "agent_not_ready_rate"}

// Team is one team's call figures of the month.
type Team struct {
	Team   string // "" for calls not answered or answered without a team
	Values map[string]*float64
}

// TeamIndicators are the columns of the team table.
var TeamIndicators = []string{"calls_offered", "calls_answered", "answered_within_15s_rate", "asa_seconds",
	"avg_talk_seconds", "call_satisfaction_rate"}

// Input is one input of the report and its SHA-256.
type Input struct {
	Name   string
	Size   int64
	SHA256 string
}

// Line is one indicator of the month.
type Line struct {
	ID, Name    string
	Kind        profile.Kind
	Numerator   *float64
	Denominator *float64
	Value       *float64 // nil: no data
	Target      *profile.Target
	Met         *bool
}

// DeptScore is one department's score.
type DeptScore struct {
	Department string
	Rank       int
	Score      float64
	Grade      string
	Items      []ItemScore
}

// ItemScore is one scoring item of a department.
type ItemScore struct {
	Indicator, Name, Rule string
	Value                 *float64 // the indicator's value (a count for penalties)
	Target                *profile.Target
	Points, Max           float64 // points earned (deducted, for penalties) and the item's points
	NoData                bool
}

// LateTicket is a ticket due in the month that missed its deadline.
type LateTicket struct {
	TicketID, Department, Category, Urgency string
	Due                                     int64 // Unix ms
	Reply                                   int64 // 0: not replied by the evaluation time
	LateHours                               float64
}

// Day is one day of the daily series.
type Day struct {
	Date   string // YYYY-MM-DD
	Values map[string]*float64
}

// DailyIndicators are the columns of the daily series.
var DailyIndicators = []string{"calls_offered", "answer_rate", "answered_within_15s_rate", "abandon_rate",
	"asa_seconds", "tickets_created", "on_time_closure_rate", "ticket_satisfaction_rate"}
