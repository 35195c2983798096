"use strict";
// A grid's page: its runs table, live curves of the selected (or running)
// runs, their inference-loop curves, and the report's claims and figures,
// rebuilt on the server as runs finish.
(function () {
  var name = OL.params().get("name") || "";
  var page = {};

  // label names a run by the config keys that vary in the grid.
  function label(r, data) {
    var parts = [];
    data.varying.forEach(function (k) {
      if (k !== "seed") parts.push(k + "=" + r.config[data.keys.indexOf(k)]);
    });
    parts.push("seed=" + r.seed);
    return OL.shortID(r.id).slice(0, 8) + " " + parts.join(" ");
  }

  // curveRuns are the runs the curves show: the selection, else the
  // running runs, else the first ten rows shown.
  function curveRuns() {
    var t = page.table, data = t.data, ids = t.selection(), why = "selected";
    if (!ids.length) {
      ids = data.runs.filter(function (r) { return r.status === "running"; }).map(function (r) { return r.id; });
      why = "running";
    }
    if (!ids.length) {
      ids = t.visible.slice(0, 10).map(function (r) { return r.id; });
      why = "first in the table";
    }
    var byID = {};
    data.runs.forEach(function (r) { byID[r.id] = r; });
    page.which.textContent = ids.length ? "Showing " + Math.min(ids.length, 100) + " " + why + " run(s); tick rows in the table to choose." : "";
    return ids.slice(0, 100).map(function (id, i) { return {id: id, label: label(byID[id], data), color: OL.color(i)}; });
  }

  function header(g) {
    document.title = (g.title || g.name) + " — outerloop";
    var counts = Object.keys(g.counts).sort().map(function (st) { return g.counts[st] + " " + st; }).join(", ");
    OL.clear(page.header).appendChild(OL.el("h1", null, g.title || g.name));
    page.header.appendChild(OL.el("p", {class: "meta"}, "grid ", OL.el("code", null, g.name),
      g.path ? [" from ", OL.el("code", null, g.path)] : "", " · ", OL.el("span", {id: "grid-counts"}, g.total + " runs: " + (counts || "none"))));
    if (g.description) page.header.appendChild(OL.el("p", {class: "description"}, g.description));
  }

  function testTable(t) {
    return OL.el("div", {class: "test"}, OL.el("p", null, OL.el("strong", null, t.stratum), ": ", OL.badge(t.outcome), " ", t.reason),
      OL.table(["group", "runs", "n", "mean", "sd", "95% CI"], t.groups.map(function (g) {
        return [g.label, String(g.runs), String(g.n), OL.fmtNum(g.mean), OL.fmtNum(g.sd), "[" + OL.fmtNum(g.lo) + ", " + OL.fmtNum(g.hi) + "]"];
      })));
  }

  function verdict(v) {
    var box = OL.el("div", {class: "verdict " + OL.slug(v.outcome)},
      OL.el("p", null, OL.badge(v.outcome), " ", OL.el("strong", {class: "claim"}, v.claim)),
      v.description ? OL.el("p", null, v.description) : "",
      OL.el("p", {class: "reason"}, v.reason),
      v.method ? OL.el("p", {class: "meta"}, "Test: " + v.method + ".") : "");
    if (v.tests.length || v.excluded.length) {
      box.appendChild(OL.el("details", null, OL.el("summary", null, "numbers"), v.tests.map(testTable),
        v.excluded.length ? OL.el("ul", {class: "meta"}, v.excluded.map(function (e) {
          return OL.el("li", null, OL.runLink(e[0]), " ", e[1]);
        })) : ""));
    }
    return box;
  }

  var stateText = {
    ready: "checked against the grid as it is now",
    stale: "the grid changed: rechecking…",
    building: "checking the claims…",
    error: "the claims could not be checked"
  };

  function claims(rep) {
    var key = JSON.stringify([rep.state, rep.error, rep.verdicts]);
    if (key === page.claimsKey) return;
    page.claimsKey = key;
    var box = OL.clear(page.claims);
    box.appendChild(OL.el("p", {class: "meta", id: "report-state", "data-state": rep.state},
      stateText[rep.state] || rep.state, rep.took_ms ? " (last check took " + rep.took_ms + " ms)" : ""));
    if (rep.error) box.appendChild(OL.el("pre", {class: "error"}, rep.error));
    if (!rep.verdicts.length && rep.state !== "building" && !rep.error) box.appendChild(OL.el("p", null, "This grid states no claims ([[expect]])."));
    rep.verdicts.forEach(function (v) { box.appendChild(verdict(v)); });
  }

  // figures shows the report's figures, fetching each SVG again only when
  // the report was rebuilt; captions and notes follow every rebuild. gonum
  // escapes the text it writes, and neither scripts nor event handlers in
  // parsed SVG can run under the page's CSP.
  function figures(rep) {
    var box = page.figures, names = rep.figures.map(function (f) { return f.name; });
    if (names.join() !== page.figureNames) {
      page.figureNames = names.join();
      OL.clear(box);
      page.figs = {};
      if (!names.length) box.appendChild(OL.el("p", {class: "meta"}, rep.state === "building" ? "drawing…" : "No figures yet."));
      rep.figures.forEach(function (f) {
        var slot = {holder: OL.el("div", {class: "svg"}), caption: OL.el("figcaption"), notes: OL.el("ul", {class: "notes"}), url: null};
        page.figs[f.name] = slot;
        box.appendChild(OL.el("figure", {"data-figure": f.name, title: f.title}, slot.holder, slot.caption, slot.notes));
      });
    }
    rep.figures.forEach(function (f) {
      var slot = page.figs[f.name];
      slot.caption.textContent = f.caption;
      OL.clear(slot.notes);
      (f.notes || []).forEach(function (n) { slot.notes.appendChild(OL.el("li", null, n)); });
      if (slot.url !== f.url) drawFigure(slot, f.url);
    });
  }

  function drawFigure(slot, url) {
    slot.url = url;
    if (!url) {
      OL.clear(slot.holder).appendChild(OL.el("p", {class: "meta"}, "Not drawn: nothing to plot yet."));
      return;
    }
    fetch(url).then(function (res) { return res.text(); }).then(function (text) {
      var root = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
      if (root.nodeName !== "svg") throw new Error("not an SVG");
      OL.clear(slot.holder).appendChild(document.importNode(root, true));
    }).catch(function (err) { OL.clear(slot.holder).appendChild(OL.el("p", {class: "err"}, "figure not available: " + err.message)); });
  }

  function skeleton() {
    var main = OL.main();
    page.header = OL.el("header", {id: "grid-header"});
    page.claims = OL.el("div");
    page.which = OL.el("p", {class: "meta"});
    page.figures = OL.el("div", {class: "figures"});
    main.appendChild(page.header);
    main.appendChild(OL.el("section", {id: "claims"}, OL.el("h2", null, "Claims"), page.claims));
    var runs = OL.el("section", {id: "runs"}, OL.el("h2", null, "Runs"));
    main.appendChild(runs);
    var curves = OL.el("section", {id: "curves"}, OL.el("h2", null, "Training curves"), page.which);
    var loops = OL.el("section", {id: "loops"}, OL.el("h2", null, "Inference-loop curves"),
      OL.el("p", {class: "meta"}, "Each run's last evaluation, after every inference loop."));
    main.appendChild(curves);
    main.appendChild(loops);
    main.appendChild(OL.el("section", {id: "figures"}, OL.el("h2", null, "Report figures"), page.figures));
    page.curves = new OL.CurvePanel(curves);
    page.loops = new OL.LoopPanel(loops);
    page.table = new OL.RunsTable(runs, name, function () {
      var chosen = curveRuns();
      page.curves.setRuns(chosen);
      page.loops.setRuns(chosen);
      // Redraw at once on a new selection; the poll would within a second.
      Promise.all([page.curves.refresh(), page.loops.refresh()]).catch(function () {});
    });
  }

  function step() {
    return OL.getJSON("/api/grid?name=" + encodeURIComponent(name)).then(function (res) {
      if (res.changed) {
        header(res.data.grid);
        page.curves.setMetrics(res.data.metrics);
        page.loops.setMetrics(res.data.evals);
        page.table.update(res.data);
      }
      return Promise.all([page.curves.refresh(), page.loops.refresh(),
        OL.getJSON("/api/report?grid=" + encodeURIComponent(name)).then(function (r) {
          if (r.data) { claims(r.data); figures(r.data); }
        })]);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    skeleton();
    OL.poll(1000, step);
  });
})();
