"use strict";
// The grids page: every grid with its runs by status and its claims'
// verdicts, refreshed as runs finish.
(function () {
  var STATUSES = ["done", "running", "pending", "interrupted", "failed"];

  function statusBar(g) {
    var bar = OL.el("div", {class: "bar", title: counts(g)});
    STATUSES.forEach(function (st) {
      var n = g.counts[st] || 0;
      if (!n) return;
      var seg = OL.el("span", {class: "seg " + st});
      seg.style.width = (100 * n / Math.max(1, g.total)) + "%";
      bar.appendChild(seg);
    });
    return bar;
  }

  function counts(g) {
    var parts = STATUSES.filter(function (st) { return g.counts[st]; }).map(function (st) { return g.counts[st] + " " + st; });
    return parts.join(", ") || "no runs";
  }

  function verdicts(rep) {
    if (!rep) return "";
    var box = OL.el("div", {class: "verdicts"});
    if (rep.error) box.appendChild(OL.el("div", {class: "meta err"}, "claims not checked: " + rep.error));
    if (!rep.verdicts.length && !rep.error) {
      box.appendChild(OL.el("span", {class: "meta"}, rep.state === "building" ? "checking claims…" : "no claims"));
    }
    rep.verdicts.forEach(function (v) {
      box.appendChild(OL.el("div", {class: "verdict-line", title: v.reason}, OL.badge(v.outcome), " ", v.claim));
    });
    if (rep.state === "stale") box.appendChild(OL.el("div", {class: "meta"}, "rechecking…"));
    return box;
  }

  function render(grids) {
    var main = OL.main();
    document.title = "Grids — outerloop";
    main.appendChild(OL.el("h1", null, "Grids"));
    if (!grids.length) {
      main.appendChild(OL.el("p", null, "No grids in this database yet: plan or run one (harness run GRID.toml)."));
      return;
    }
    var rows = grids.map(function (g) {
      return OL.el("tr", {"data-grid": g.name},
        OL.el("td", null, OL.el("div", {class: "grid-name"}, OL.gridLink(g.name)), g.title ? OL.el("div", {class: "meta"}, g.title) : ""),
        OL.el("td", {class: "num"}, String(g.total)),
        OL.el("td", {class: "status-cell"}, statusBar(g), OL.el("div", {class: "meta counts"}, counts(g))),
        OL.el("td", null, verdicts(g.report)),
        OL.el("td", {class: "meta"}, OL.fmtTime(g.planned)));
    });
    main.appendChild(OL.el("table", {class: "grids", id: "grids-table"},
      OL.el("thead", null, OL.el("tr", null, ["grid", "runs", "status", "claims", "planned"].map(function (h) { return OL.el("th", null, h); }))),
      OL.el("tbody", null, rows)));
  }

  document.addEventListener("DOMContentLoaded", function () {
    OL.poll(1000, function () {
      return OL.getJSON("/api/grids").then(function (res) { if (res.changed) render(res.data); });
    });
  });
})();
