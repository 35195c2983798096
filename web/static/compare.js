"use strict";
// Compare runs from one grid or several: their config differences and
// their curves together. The runs come from the URL (run=…, repeatable),
// else from the comparison tray.
(function () {
  var page = {};

  function ids() {
    var fromURL = OL.params().getAll("run");
    return fromURL.length ? fromURL : OL.tray.get();
  }

  function go(list) {
    history.replaceState(null, "", OL.tray.url(list));
    OL.tray.set(list);
    page.url = null;
    step().catch(function () {});
  }

  function runsTable(data) {
    return OL.table(["", "run", "grids", "status", "seed", "step", "last evaluation", ""], data.runs.map(function (r, i) {
      var drop = OL.el("button", {type: "button", title: "remove from the comparison"}, "remove");
      drop.addEventListener("click", function () { go(ids().filter(function (x) { return x !== r.id && r.id.indexOf(x) !== 0; })); });
      var step = -1;
      Object.keys(r.last).forEach(function (m) { step = Math.max(step, r.last[m][0]); });
      return [OL.svg("svg", {width: 14, height: 10}, OL.svg("rect", {width: 14, height: 10, fill: OL.color(i)})), OL.runLink(r.id),
        r.grids.map(function (g, j) { return [j ? ", " : "", OL.gridLink(g)]; }), OL.badge(r.status), String(r.seed),
        step < 0 ? "—" : String(step), Object.keys(r.final).sort().map(function (m) {
          return m + " = " + OL.fmtNum(r.final[m][1]) + " @" + r.final[m][0] + " loops";
        }).join(", ") || "—", drop];
    }), "compared");
  }

  // diffTable shows the config keys whose values differ (or all keys),
  // one column per run.
  function diffTable(data) {
    var keys = page.all.checked ? data.keys : data.differ;
    if (!keys.length) return OL.el("p", {class: "meta"}, data.runs.length < 2 ? "Pick two runs or more." : "The runs' configs are identical.");
    var head = ["key"].concat(data.runs.map(function (r) { return OL.shortID(r.id); }));
    var t = OL.table(head, keys.map(function (k) {
      var i = data.keys.indexOf(k);
      return [OL.el("code", null, k)].concat(data.runs.map(function (r) { return r.config[i]; }));
    }), "diff");
    t.id = "config-diff";
    Array.prototype.forEach.call(t.tBodies[0].rows, function (row, j) {
      if (data.differ.indexOf(keys[j]) >= 0) row.className = "differs";
    });
    return t;
  }

  function label(r, data) {
    var parts = data.differ.filter(function (k) { return k !== "seed"; }).slice(0, 4).map(function (k) {
      return k + "=" + r.config[data.keys.indexOf(k)];
    });
    return OL.shortID(r.id).slice(0, 8) + " " + parts.concat("seed=" + r.seed).join(" ");
  }

  function render(data) {
    page.data = data;
    var box = OL.clear(page.top);
    if (data.missing.length) box.appendChild(OL.el("p", {class: "err"}, "Not in this database: " + data.missing.join(", ")));
    box.appendChild(runsTable(data));
    OL.clear(page.diff).appendChild(diffTable(data));
    var runs = data.runs.map(function (r, i) { return {id: r.id, label: label(r, data), color: OL.color(i)}; });
    page.curves.setMetrics(data.metrics);
    page.curves.setRuns(runs);
    page.loops.setMetrics(data.evals);
    page.loops.setRuns(runs);
  }

  function adder() {
    var input = OL.el("input", {type: "text", placeholder: "run id or prefix", size: 20, id: "add-run"});
    var add = OL.el("button", {type: "submit"}, "add");
    var form = OL.el("form", {class: "controls"}, input, add);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = input.value.trim();
      if (v) go(ids().concat(v));
      input.value = "";
    });
    return form;
  }

  function skeleton() {
    var main = OL.main();
    document.title = "Compare runs — outerloop";
    page.top = OL.el("div");
    page.diff = OL.el("div");
    page.all = OL.el("input", {type: "checkbox"});
    page.all.addEventListener("change", function () { if (page.data) OL.clear(page.diff).appendChild(diffTable(page.data)); });
    main.appendChild(OL.el("h1", null, "Compare runs"));
    main.appendChild(OL.el("p", {class: "meta"}, "Tick runs in a grid's table (any grid) or on a run's page, or add them by id."));
    main.appendChild(adder());
    main.appendChild(page.top);
    main.appendChild(OL.el("section", {id: "diff"}, OL.el("h2", null, "Config differences"),
      OL.el("label", {class: "controls"}, page.all, " show every key"), page.diff));
    var curves = OL.el("section", {id: "curves"}, OL.el("h2", null, "Training curves"));
    var loops = OL.el("section", {id: "loops"}, OL.el("h2", null, "Inference-loop curves"),
      OL.el("p", {class: "meta"}, "Each run's last evaluation, after every inference loop."));
    main.appendChild(curves);
    main.appendChild(loops);
    page.curves = new OL.CurvePanel(curves);
    page.loops = new OL.LoopPanel(loops);
  }

  function step() {
    var list = ids();
    if (!list.length) {
      OL.clear(page.top).appendChild(OL.el("p", null, "No runs picked yet."));
      return Promise.resolve();
    }
    var url = "/api/runs?" + list.map(function (id) { return "run=" + encodeURIComponent(id); }).join("&");
    var fresh = url !== page.url;
    page.url = url;
    return OL.getJSON(url).then(function (res) {
      if (res.data && (res.changed || fresh)) render(res.data);
      return Promise.all([page.curves.refresh(), page.loops.refresh()]);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    skeleton();
    OL.poll(1000, step);
  });
})();
