package main

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/herald-chat/herald/bench/internal/result"
)

// bar is one bar of a chart panel.
type bar struct {
	Label string
	Peer  string
	Value float64 // NaN: no value
}

// group is a set of bars under one heading (one case).
type group struct {
	Title string
	Bars  []bar
}

// panel is one small horizontal bar chart.
type panel struct {
	Title  string
	Unit   string
	Prec   int
	Groups []group
}

var peerColors = map[string]string{
	peerHerald:  "#d9480f",
	peerNode:    "#2f9e44",
	peerZishang: "#1971c2",
	peerFloor:   "#868e96", // grey: a lower bound, not a contender
	peerApp:     "#d9480f", // Herald's chat app: Herald's colour
	// Over TLS: the same peers' colours, lighter.
	peerHeraldTLS: "#f08c00",
	peerNodeTLS:   "#8ce99a",
}

// panels gathers the charted metrics from the suite.
func (st *suite) panels() []panel {
	type spec struct {
		scenario, title string
		m               metric
	}
	specs := []spec{
		{result.ScenarioFanout, "Fan-out p99 latency (ms, lower is better)", mP99},
		{result.ScenarioFanout, "Fan-out server CPU per delivery (µs, lower is better)", mCPUDeliver},
		{result.ScenarioIdle, "Idle server RSS per socket (KiB, lower is better)", mIdleKiB},
		{result.ScenarioCrowd, "Crowd: settled after last connect (ms, lower is better)", mSettle},
		{result.ScenarioCrowd, "Crowd: server CPU (s, lower is better)", mCrowdCPU},
		{result.ScenarioConnect, "Connect rate (sessions/s, higher is better)", mConnRate},
		{result.ScenarioPolling, "Polling p99 latency (ms, lower is better)", mP99},
		{result.ScenarioChat, "Chat through the app: delivery p99 (ms; Herald alone)", mP99},
		{scenarioCluster, "Cluster fan-out p99 latency (ms, lower is better)", mP99},
		{scenarioCluster, "Cluster CPU per delivery, all nodes + Redis (µs, lower is better)", mCPUDeliver},
	}
	var out []panel
	for _, sp := range specs {
		p := panel{Title: sp.title, Prec: sp.m.Prec}
		for _, c := range st.Cases {
			if c.Scenario != sp.scenario {
				continue
			}
			g := group{Title: fmt.Sprintf("%d clients", c.Clients)}
			for _, v := range c.Variants {
				if len(st.runsOf(c.Key, v)) == 0 {
					continue
				}
				s := st.stat(c.Key, v, sp.m)
				val := math.NaN()
				if s.N > 0 {
					val = s.Median
				}
				g.Bars = append(g.Bars, bar{Label: v.Label(), Peer: v.Peer, Value: val})
			}
			if len(g.Bars) > 0 {
				p.Groups = append(p.Groups, g)
			}
		}
		if len(p.Groups) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// svg draws the panels, two per row, as a standalone SVG document.
func (st *suite) svg() string {
	const (
		colW    = 480
		margin  = 16
		barH    = 16
		barGap  = 4
		groupH  = 18 // group heading
		titleH  = 26
		labelW  = 130
		valueW  = 70
		headerH = 48
		lineH   = 18
	)
	ps := st.panels()
	heights := make([]int, len(ps))
	for i, p := range ps {
		h := titleH
		for _, g := range p.Groups {
			h += groupH + len(g.Bars)*(barH+barGap)
		}
		heights[i] = h + margin
	}
	// Rows of two panels.
	var rowY []int
	y := headerH
	for i := 0; i < len(ps); i += 2 {
		rowY = append(rowY, y)
		h := heights[i]
		if i+1 < len(ps) {
			h = max(h, heights[i+1])
		}
		y += h
	}
	// The targets, one line each, under the panels.
	targets := st.targets()
	targetsY := y
	if len(targets) > 0 {
		y += titleH + len(targets)*lineH + margin
	}
	width := 2*colW + 3*margin
	height := y + margin

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	title := "Herald vs Node socket.io vs zishang520/socket.io"
	if st.Settings.smoke {
		title += " (smoke run)"
	}
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="16" font-weight="bold">%s</text>`+"\n", margin, esc(title))
	fmt.Fprintf(&b, `<text x="%d" y="38" fill="#555">%s — medians of %d reps, %s</text>`+"\n", margin,
		esc(st.Started.UTC().Format("2006-01-02")), st.Settings.reps, esc(st.Pinning))
	// Legend.
	legend := []string{peerHerald, peerNode, peerZishang, peerFloor}
	lx := width - margin - len(legend)*110
	for i, p := range legend {
		x := lx + i*110
		fmt.Fprintf(&b, `<rect x="%d" y="12" width="12" height="12" fill="%s"/><text x="%d" y="22">%s</text>`+"\n", x, peerColors[p], x+16, esc(p))
	}

	for i, p := range ps {
		x0 := margin + (i%2)*(colW+margin)
		y0 := rowY[i/2]
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#f8f9fa" stroke="#dee2e6"/>`+"\n", x0, y0, colW, heights[i]-margin/2)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", x0+8, y0+18, esc(p.Title))
		maxV := 0.0
		for _, g := range p.Groups {
			for _, br := range g.Bars {
				if !math.IsNaN(br.Value) {
					maxV = math.Max(maxV, br.Value)
				}
			}
		}
		if maxV <= 0 {
			maxV = 1
		}
		barArea := float64(colW - labelW - valueW - 16)
		yy := y0 + titleH
		for _, g := range p.Groups {
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555" font-style="italic">%s</text>`+"\n", x0+8, yy+13, esc(g.Title))
			yy += groupH
			for _, br := range g.Bars {
				fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", x0+labelW, yy+12, esc(br.Label))
				bx := x0 + labelW + 6
				if math.IsNaN(br.Value) {
					fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#999">no value</text>`+"\n", bx, yy+12)
				} else {
					w := math.Max(1, br.Value/maxV*barArea)
					fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", bx, yy, w, barH, peerColors[br.Peer])
					fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`+"\n", float64(bx)+w+4, yy+12, esc(fmtNum(br.Value, p.Prec)))
				}
				yy += barH + barGap
			}
		}
	}
	if len(targets) > 0 {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#f8f9fa" stroke="#dee2e6"/>`+"\n",
			margin, targetsY, width-2*margin, titleH+len(targets)*lineH+margin/2)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">Targets: Herald vs Node in the same run</text>`+"\n", margin+8, targetsY+18)
		for i, t := range targets {
			ty := targetsY + titleH + i*lineH + 12
			colour := "#555"
			switch t.Verdict {
			case "**met**":
				colour = "#2b8a3e"
			case "missed":
				colour = "#c92a2a"
			}
			value := t.Ratio
			if value == "" {
				value = t.Herald
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", margin+8, ty, esc(t.Name))
			fmt.Fprintf(&b, `<text x="%d" y="%d">%s (goal %s)</text>`+"\n", margin+520, ty, esc(value), esc(t.Goal))
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s" font-weight="bold">%s</text>`+"\n", width-margin-70, ty, colour, esc(strings.Trim(t.Verdict, "*")))
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func esc(s string) string { return html.EscapeString(s) }
