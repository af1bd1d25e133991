package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
)

// ClickHousePlugin is the plugin id of Grafana's ClickHouse data source.
const ClickHousePlugin = "grafana-clickhouse-datasource"

// Query formats of the ClickHouse plugin (grafana/sqlds).
const (
	FormatTimeSeries = 0
	FormatTable      = 1
)

// ClickHouseQuery is a raw-SQL query of the grafana-clickhouse-datasource
// plugin (v4), which the SDK does not ship: the plugin expands its macros
// ($__timeFilter, $__fromTime, ...) and Grafana its variables.
type ClickHouseQuery struct {
	RefId      string                `json:"refId"`
	Hide       *bool                 `json:"hide,omitempty"`
	Datasource *common.DataSourceRef `json:"datasource,omitempty"`
	EditorType string                `json:"editorType"`
	QueryType  string                `json:"queryType,omitempty"`
	Format     int                   `json:"format"`
	RawSql     string                `json:"rawSql"`
}

func (q ClickHouseQuery) ImplementsDataqueryVariant() {}

func (q ClickHouseQuery) DataqueryType() string { return ClickHousePlugin }

func (q ClickHouseQuery) Equals(other variants.Dataquery) bool {
	o, ok := other.(ClickHouseQuery)
	return ok && reflect.DeepEqual(q, o)
}

func (q ClickHouseQuery) Validate() error {
	if q.RawSql == "" {
		return errors.New("clickhouse query: rawSql is empty")
	}
	return nil
}

// ClickHouseVariant lets cog unmarshal dashboards holding ClickHouse
// queries (register it with cog.NewRuntime().RegisterDataqueryVariant).
func ClickHouseVariant() variants.DataqueryConfig {
	return variants.DataqueryConfig{
		Identifier: ClickHousePlugin,
		DataqueryUnmarshaler: func(raw []byte) (variants.Dataquery, error) {
			var q ClickHouseQuery
			err := json.Unmarshal(raw, &q)
			return q, err
		},
		StrictDataqueryUnmarshaler: func(raw []byte) (variants.Dataquery, error) {
			var q ClickHouseQuery
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			err := dec.Decode(&q)
			return q, err
		},
	}
}

// chQuery builds a ClickHouseQuery as a panel target.
type chQuery struct{ q ClickHouseQuery }

var _ cog.Builder[variants.Dataquery] = chQuery{}

func (b chQuery) Build() (variants.Dataquery, error) { return b.q, b.q.Validate() }

// sql is a ClickHouse panel query of the given format.
func sql(refID string, format int, rawSQL string) chQuery {
	qt := "table"
	if format == FormatTimeSeries {
		qt = "timeseries"
	}
	return chQuery{ClickHouseQuery{RefId: refID, Datasource: &clickhouseDS, EditorType: "sql", QueryType: qt, Format: format, RawSql: rawSQL}}
}
