package ledger

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// verificationJSON is the JSON shape of `hotlineqc verify --format json`.
type verificationJSON struct {
	Tampered int         `json:"tampered"`
	Days     []dayJSON   `json:"days"`
	Breaks   []breakJSON `json:"chain_breaks"`
	Heads    []headJSON  `json:"chain_heads"`
}

type dayJSON struct {
	Center  string `json:"center_id"`
	Day     string `json:"day"`
	Status  Status `json:"status"`
	Name    string `json:"name"`
	Version uint32 `json:"version"`
	Sealed  int64  `json:"sealed_events"`
	Stored  int64  `json:"stored_events"`
	Late    int    `json:"late_unsealed,omitempty"`
}

type breakJSON struct {
	Center string `json:"center_id"`
	Seq    uint32 `json:"seq"`
	Why    string `json:"why"`
}

type headJSON struct {
	Center string `json:"center_id"`
	Chain  string `json:"chain"`
}

func (v *Verification) heads() []headJSON {
	out := make([]headJSON, 0, len(v.Heads))
	for c, h := range v.Heads {
		out = append(out, headJSON{c, h.String()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Center < out[j].Center })
	return out
}

// Write prints a verification as a table (Chinese headings) or JSON.
func (v *Verification) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		out := verificationJSON{Tampered: v.Tampered(), Days: []dayJSON{}, Breaks: []breakJSON{}, Heads: v.heads()}
		for _, d := range v.Days {
			out.Days = append(out.Days, dayJSON{d.Center, d.Day, d.Status, d.Status.Chinese(), d.Version, d.Sealed, d.Stored, d.Late})
		}
		for _, b := range v.Breaks {
			out.Breaks = append(out.Breaks, breakJSON(b))
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "table":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "热线中心 center\t日期 day\t状态 status\t说明\t版本 version\t封存事件 sealed\t现存事件 stored")
		for _, d := range v.Days {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\n", d.Center, d.Day, d.Status, d.Status.Chinese(), d.Version, d.Sealed, d.Stored)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, b := range v.Breaks {
			fmt.Fprintf(w, "摘要链断裂 chain break: %s 第 %d 条记录: %s\n", b.Center, b.Seq, b.Why)
		}
		for _, h := range v.heads() {
			fmt.Fprintf(w, "链头 chain head %s: %s\n", h.Center, h.Chain)
		}
		if n := v.Tampered(); n > 0 {
			fmt.Fprintf(w, "发现 %d 处封存后的改动 findings: %d\n", n, n)
		} else {
			fmt.Fprintln(w, "未发现封存后的改动 no changes after sealing")
		}
		return nil
	}
	return fmt.Errorf("format %q: want table or json", format)
}
