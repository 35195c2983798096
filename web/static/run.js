"use strict";
// One run: where it stands, its failure if any, every metric as a chart,
// its inference-loop curves, config, provenance and checkpoint.
(function () {
  var id = OL.params().get("id") || "";
  var page = {charts: {}, smoothing: 0, logY: false};

  function facts(p) {
    var r = p.run;
    var rows = [
      ["status", OL.badge(r.status)],
      ["seed", String(r.seed)],
      ["grids", p.grids.length ? p.grids.map(function (g, i) { return [i ? ", " : "", OL.gridLink(g)]; }) : "—"],
      ["attempts", r.attempts + (r.crashes ? " (" + r.crashes + " crashed)" : "")],
      ["wall time", OL.fmtDuration(r.wall)],
      ["started", OL.fmtTime(r.started)],
      ["finished", OL.fmtTime(r.finished)],
      ["last heartbeat", OL.fmtTime(r.heartbeat)],
      ["held by", p.lease_owner || "—"],
      ["checkpoint", r.checkpoint < 0 ? "none yet" : "step " + r.checkpoint],
      ["last evaluation", r.final_step < 0 ? "none yet" : "step " + r.final_step]
    ];
    return OL.el("table", {class: "facts", id: "run-facts"}, OL.el("tbody", null, rows.map(function (row) {
      return OL.el("tr", null, OL.el("th", null, row[0]), OL.el("td", {"data-fact": row[0]}, row[1]));
    })));
  }

  function trayButton() {
    var on = OL.tray.get().indexOf(id) >= 0;
    var b = OL.el("button", {type: "button", id: "tray-toggle"}, on ? "remove from comparison" : "add to comparison");
    b.addEventListener("click", function () {
      OL.tray.toggle(id, !on);
      page.header.replaceChild(trayButton(), b);
    });
    return b;
  }

  function header(p) {
    var r = p.run;
    document.title = "Run " + OL.shortID(r.id) + " — outerloop";
    OL.clear(page.header).appendChild(OL.el("h1", null, "Run ", OL.el("span", {class: "mono"}, OL.shortID(r.id)), " ", OL.badge(r.status)));
    page.header.appendChild(OL.el("p", {class: "meta mono"}, r.id));
    page.header.appendChild(trayButton());
    if (r.error) page.header.appendChild(OL.el("div", {class: "failure"}, OL.el("h3", null, r.status === "done" ? "Message" : "Why it stopped"),
      OL.el("pre", {class: "error", id: "run-error"}, r.error)));
  }

  function provenance(prov) {
    if (!prov) return OL.el("p", {class: "meta"}, "Not recorded yet: the run has not started.");
    return OL.el("table", {class: "facts"}, OL.el("tbody", null, [
      ["commit", (prov.git_commit || "—") + (prov.git_dirty ? " (dirty)" : "")], ["Go", prov.go_version],
      ["libtorch", prov.libtorch_version + (prov.libtorch_abi ? " (" + prov.libtorch_abi + ")" : "")],
      ["host", prov.host], ["CPU", prov.cpu_model], ["threads", String(prov.threads)]
    ].concat(Object.keys(prov.info || {}).sort().map(function (k) { return [k, prov.info[k]]; })).map(function (row) {
      return OL.el("tr", null, OL.el("th", null, row[0]), OL.el("td", null, row[1]));
    })));
  }

  // config lays the config out by section (task, model, train, eval).
  function config(p) {
    var sections = {};
    p.keys.forEach(function (k, i) {
      var dot = k.indexOf("."), sec = dot < 0 ? "run" : k.slice(0, dot);
      (sections[sec] = sections[sec] || []).push([OL.el("code", null, dot < 0 ? k : k.slice(dot + 1)), p.run.config[i]]);
    });
    var order = ["task", "model", "train", "eval"];
    var names = Object.keys(sections).sort(function (a, b) {
      var x = order.indexOf(a), y = order.indexOf(b);
      return (x < 0 ? 99 : x) - (y < 0 ? 99 : y) || a.localeCompare(b);
    });
    return OL.el("div", {class: "config-grid", id: "run-config"}, names.map(function (sec) {
      return OL.el("div", null, OL.el("h3", null, sec), OL.table(["key", "value"], sections[sec], "kv"));
    }));
  }

  function overview(p) {
    OL.clear(page.overview).appendChild(OL.el("div", {class: "columns2"},
      OL.el("div", null, OL.el("h2", null, "Run"), facts(p)),
      OL.el("div", null, OL.el("h2", null, "Provenance"), provenance(p.provenance))));
  }

  function details(p) {
    var box = OL.clear(page.details);
    box.appendChild(OL.section("Config", "config"));
    box.lastChild.appendChild(config(p));
    box.lastChild.appendChild(OL.el("details", null, OL.el("summary", null, "as stored (JSON)"),
      OL.el("pre", null, JSON.stringify(p.raw_config, null, 2))));
    box.appendChild(OL.section("Checkpoint and artifacts", "artifacts"));
    box.lastChild.appendChild(OL.el("p", null, p.run.checkpoint < 0 ? "No checkpoint yet." :
      "Newest checkpoint at step " + p.run.checkpoint + ", in runs/" + p.run.id + "/ beside the database."));
    if (p.artifacts.length) {
      box.lastChild.appendChild(OL.table(["kind", "path", "bytes", "sha256", "recorded"], p.artifacts.map(function (a) {
        return [a.kind, OL.el("code", null, a.path), String(a.bytes), OL.el("code", null, a.sha256.slice(0, 16) + "…"), OL.fmtTime(a.created)];
      })));
    }
  }

  function metricTable(p) {
    var names = Object.keys(p.run.last).sort();
    OL.clear(page.metricTable).appendChild(names.length ? OL.table(["metric", "newest step", "value"], names.map(function (m) {
      return [m, String(p.run.last[m][0]), OL.fmtNum(p.run.last[m][1])];
    })) : OL.el("p", {class: "meta"}, "No metrics logged yet."));
    names.forEach(function (m) {
      if (page.charts[m]) return;
      var holder = OL.el("div", {class: "small-multiple", "data-metric": m}, OL.el("h3", null, m));
      page.multiples.appendChild(holder);
      page.charts[m] = new OL.Chart(holder, {xLabel: "step", yLabel: m, height: 200, smoothing: page.smoothing, logY: page.logY});
    });
  }

  function refreshCurves() {
    var names = Object.keys(page.charts).sort();
    if (!names.length) return Promise.resolve();
    var url = "/api/curves?run=" + encodeURIComponent(page.id) + "&points=800&" +
      names.map(function (m) { return "metric=" + encodeURIComponent(m); }).join("&");
    return OL.getJSON(url).then(function (res) {
      if (!res.data) return;
      res.data.forEach(function (s) {
        page.charts[s.metric].set([{key: s.metric, label: s.metric, color: OL.color(0), points: s.points}]);
      });
    });
  }

  function controls() {
    var smooth = OL.el("input", {type: "range", min: 0, max: 0.99, step: 0.01, value: 0});
    var log = OL.el("input", {type: "checkbox"});
    function apply() {
      page.smoothing = Number(smooth.value);
      page.logY = log.checked;
      Object.keys(page.charts).forEach(function (m) {
        page.charts[m].opts.smoothing = page.smoothing;
        page.charts[m].option("logY", page.logY);
      });
    }
    smooth.addEventListener("input", apply);
    log.addEventListener("change", apply);
    return OL.el("div", {class: "controls"}, OL.el("label", null, "smoothing ", smooth), OL.el("label", null, "log scale ", log));
  }

  function skeleton() {
    var main = OL.main();
    page.header = OL.el("header");
    page.overview = OL.el("div");
    page.metricTable = OL.el("div");
    page.multiples = OL.el("div", {class: "multiples"});
    page.details = OL.el("div");
    main.appendChild(page.header);
    main.appendChild(page.overview);
    main.appendChild(OL.el("section", {id: "metrics"}, OL.el("h2", null, "Metrics"), controls(), page.multiples, page.metricTable));
    page.loopsNote = OL.el("p", {class: "meta"});
    page.loopsBody = OL.el("div");
    main.appendChild(OL.el("section", {id: "loops"}, OL.el("h2", null, "Inference-loop curve"), page.loopsNote, page.loopsBody));
    main.appendChild(page.details);
    page.loops = new OL.LoopPanel(page.loopsBody, {bySteps: true});
  }

  function step() {
    return OL.getJSON("/api/run?id=" + encodeURIComponent(id)).then(function (res) {
      if (res.changed) {
        var p = res.data, evalNames = [];
        page.id = p.run.id;
        header(p);
        overview(p);
        metricTable(p);
        details(p);
        p.evals.forEach(function (e) { if (evalNames.indexOf(e.name) < 0) evalNames.push(e.name); });
        page.loops.setMetrics(evalNames.sort());
        page.loopsBody.hidden = !evalNames.length;
        page.loopsNote.textContent = evalNames.length ? "The evaluated metric after each inference loop, one line per evaluation." :
          p.run.status === "running" || p.run.status === "pending" ? "Not evaluated yet." : "No evaluation was recorded: the run stopped before it.";
        page.loops.setRuns([{id: p.run.id, label: OL.shortID(p.run.id), color: OL.color(0)}]);
      }
      return Promise.all([refreshCurves(), page.loops.refresh()]);
    }).catch(function (err) {
      if (!page.id) OL.clear(page.header).appendChild(OL.el("p", {class: "err"}, "Run " + id + ": " + err.message));
      throw err;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    skeleton();
    OL.poll(1000, step);
  });
})();
