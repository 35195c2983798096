package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"outerloop/reports"
)

// reportBrief is a grid's claims in one line each, for the grids list.
type reportBrief struct {
	State    string         `json:"state"`
	Error    string         `json:"error,omitempty"`
	Verdicts []verdictBrief `json:"verdicts"`
}

type verdictBrief struct {
	Claim   string `json:"claim"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
}

func (c *reportCache) brief(ctx context.Context, grid string) (reportBrief, error) {
	snap, err := c.get(ctx, grid)
	if err != nil {
		return reportBrief{}, err
	}
	b := reportBrief{State: snap.state, Verdicts: []verdictBrief{}}
	if snap.err != nil {
		b.Error = snap.err.Error()
	}
	if snap.rep != nil {
		for _, v := range snap.rep.Verdicts {
			b.Verdicts = append(b.Verdicts, verdictBrief{Claim: v.Claim.String(), Outcome: string(v.Outcome), Reason: v.Reason})
		}
	}
	return b, nil
}

// reportJSON is a grid's claims with the numbers behind them, and its
// figures.
type reportJSON struct {
	State    string        `json:"state"`
	Error    string        `json:"error,omitempty"`
	TookMS   int64         `json:"took_ms"`
	Metric   string        `json:"metric"`
	At       string        `json:"at"`
	Verdicts []verdictJSON `json:"verdicts"`
	Figures  []figureJSON  `json:"figures"`
}

type verdictJSON struct {
	verdictBrief
	Description string      `json:"description"`
	Method      string      `json:"method"`
	Tests       []testJSON  `json:"tests"`
	Excluded    [][2]string `json:"excluded"` // run id, reason
}

type testJSON struct {
	Stratum string      `json:"stratum"`
	Outcome string      `json:"outcome"`
	Reason  string      `json:"reason"`
	Groups  []groupJSON `json:"groups"`
}

type groupJSON struct {
	Label string `json:"label"`
	Runs  int    `json:"runs"`
	N     int    `json:"n"`
	Mean  num    `json:"mean"`
	SD    num    `json:"sd"`
	Lo    num    `json:"lo"`
	Hi    num    `json:"hi"`
}

type figureJSON struct {
	Name    string   `json:"name"`
	Title   string   `json:"title"`
	Caption string   `json:"caption"`
	Notes   []string `json:"notes"`
	// URL is "" for a figure that could not be drawn from the data yet.
	URL string `json:"url"`
}

// apiReport answers a grid's claims and figures. As for the grids list,
// the ETag is taken after asking, and a stale answer is never a 304.
func (s *Server) apiReport(w http.ResponseWriter, r *http.Request) {
	grid, err := required(r, "grid")
	if err != nil {
		s.fail(w, err)
		return
	}
	if _, err := s.gridSummary(r.Context(), grid); err != nil {
		s.fail(w, err)
		return
	}
	snap, err := s.reports.get(r.Context(), grid)
	if err != nil {
		s.fail(w, err)
		return
	}
	if snap.state == stateReady && notModified(w, r, "report-"+strconv.Itoa(snap.gen)) {
		return
	}
	out := reportJSON{State: snap.state, TookMS: snap.took.Milliseconds(), Verdicts: []verdictJSON{}, Figures: []figureJSON{}}
	if snap.err != nil {
		out.Error = snap.err.Error()
	}
	if rep := snap.rep; rep != nil {
		out.Metric, out.At = rep.Metric, rep.At
		for _, v := range rep.Verdicts {
			out.Verdicts = append(out.Verdicts, newVerdictJSON(v))
		}
		for _, f := range rep.Figures {
			fj := figureJSON{Name: f.Name, Title: f.Title, Caption: f.Caption, Notes: f.Notes}
			if snap.svg[f.Name] != nil {
				q := url.Values{"grid": {grid}, "name": {f.Name}, "v": {strconv.Itoa(snap.gen)}}
				fj.URL = "/api/figure?" + q.Encode()
			}
			out.Figures = append(out.Figures, fj)
		}
	}
	s.writeJSON(w, out)
}

func newVerdictJSON(v reports.Verdict) verdictJSON {
	out := verdictJSON{verdictBrief: verdictBrief{Claim: v.Claim.String(), Outcome: string(v.Outcome), Reason: v.Reason},
		Description: v.Claim.Description, Method: v.Method, Tests: []testJSON{}, Excluded: [][2]string{}}
	for _, t := range v.Tests {
		tj := testJSON{Stratum: t.Stratum, Outcome: string(t.Outcome), Reason: t.Reason, Groups: []groupJSON{}}
		for _, g := range t.Groups {
			sm := g.Summary
			tj.Groups = append(tj.Groups, groupJSON{Label: g.Label, Runs: g.Runs, N: sm.N,
				Mean: num(sm.Mean), SD: num(sm.SD), Lo: num(sm.Lo), Hi: num(sm.Hi)})
		}
		out.Tests = append(out.Tests, tj)
	}
	for _, e := range v.Excluded {
		out.Excluded = append(out.Excluded, [2]string{e.RunID, e.Reason})
	}
	return out
}

// apiFigure answers one of the report's figures as SVG. The page inlines
// it (so it is laid out with the served font); opened on its own, the SVG
// document may style itself but run nothing.
func (s *Server) apiFigure(w http.ResponseWriter, r *http.Request) {
	grid, err := required(r, "grid")
	if err != nil {
		s.fail(w, err)
		return
	}
	name, err := required(r, "name")
	if err != nil {
		s.fail(w, err)
		return
	}
	svg, err := s.reports.figure(grid, name)
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(svg)
}
