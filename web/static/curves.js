"use strict";
// Panels that overlay runs' curves: training metrics by step
// (CurvePanel) and evaluations by inference loop (LoopPanel). A page gives
// them runs ({id, label, color}) and metric names and calls refresh() from
// its poll loop; unchanged data costs a 304.
(function () {
  function select(options, current, onChange) {
    var s = OL.el("select");
    fill(s, options, current);
    s.addEventListener("change", function () { onChange(s.value); });
    return s;
  }

  function fill(s, options, current) {
    OL.clear(s);
    options.forEach(function (o) { s.appendChild(OL.el("option", {value: o, selected: o === current}, o)); });
  }

  function label(text, control) { return OL.el("label", null, text, " ", control); }

  function runParams(runs) {
    return runs.map(function (r) { return "run=" + encodeURIComponent(r.id); }).join("&");
  }

  function byID(runs) {
    var m = {};
    runs.forEach(function (r) { m[r.id] = r; });
    return m;
  }

  // CurvePanel draws one training metric of several runs.
  function CurvePanel(container, opts) {
    opts = opts || {};
    var self = this;
    this.runs = [];
    this.metrics = [];
    this.metric = opts.metric || "";
    this.prefer = opts.prefer || ["loss"];
    this.pick = select([], "", function (v) { self.metric = v; self.picked = true; self.refresh(); });
    var smooth = OL.el("input", {type: "range", min: 0, max: 0.99, step: 0.01, value: 0, class: "smoothing"});
    var shown = OL.el("span", {class: "mono"}, "0.00");
    smooth.addEventListener("input", function () {
      shown.textContent = Number(smooth.value).toFixed(2);
      self.chart.option("smoothing", Number(smooth.value));
    });
    var log = OL.el("input", {type: "checkbox", class: "logscale"});
    log.addEventListener("change", function () { self.chart.option("logY", log.checked); });
    this.note = OL.el("span", {class: "meta"});
    container.appendChild(OL.el("div", {class: "controls"},
      label("metric", this.pick), label("smoothing", OL.el("span", null, smooth, " ", shown)), label("log scale", log), this.note));
    this.chart = new OL.Chart(container, {xLabel: "step", height: opts.height || 280});
  }

  // setMetrics offers names; until the user picks one, the preferred
  // metric is shown as soon as a run has logged it.
  CurvePanel.prototype.setMetrics = function (names) {
    this.metrics = names;
    if (!this.picked || names.indexOf(this.metric) < 0) {
      this.metric = this.prefer.filter(function (p) { return names.indexOf(p) >= 0; })[0] || names[0] || "";
    }
    fill(this.pick, names, this.metric);
    this.chart.opts.yLabel = this.metric;
  };

  CurvePanel.prototype.setRuns = function (runs) {
    var before = this.runs.map(function (r) { return r.id + r.label; }).join();
    this.runs = runs;
    if (before !== runs.map(function (r) { return r.id + r.label; }).join()) this.url = null;
  };

  CurvePanel.prototype.refresh = function () {
    var self = this, runs = this.runs;
    if (!runs.length || !this.metric) {
      this.note.textContent = runs.length ? "" : "no runs to show";
      this.chart.set([]);
      return Promise.resolve();
    }
    var points = Math.min(2000, Math.max(200, 2 * (this.chart.plot.clientWidth || 800)));
    var url = "/api/curves?metric=" + encodeURIComponent(this.metric) + "&" + runParams(runs) + "&points=" + points;
    var fresh = url !== this.url;
    this.url = url;
    return OL.getJSON(url).then(function (res) {
      if (!res.changed && !fresh) return;
      if (!res.data) return;
      var info = byID(runs), stored = 0, shown = 0;
      self.chart.opts.yLabel = self.metric;
      self.chart.set(res.data.map(function (s) {
        var r = info[s.run] || {label: OL.shortID(s.run), color: "#444"};
        stored += s.total;
        shown += s.points.length;
        return {key: s.run, label: r.label, color: r.color, points: s.points};
      }));
      self.note.textContent = shown < stored ? shown + " of " + stored + " points (downsampled: min and max kept)" : stored + " points";
    });
  };

  // LoopPanel draws evaluated metrics against inference loops: each run's
  // last evaluation, or (bySteps) one line per evaluated step of one run.
  function LoopPanel(container, opts) {
    opts = opts || {};
    var self = this;
    this.bySteps = !!opts.bySteps;
    this.runs = [];
    this.metric = "";
    this.evals = null;
    this.pick = select([], "", function (v) { self.metric = v; self.picked = true; self.draw(); });
    container.appendChild(OL.el("div", {class: "controls"}, label("metric", this.pick)));
    this.chart = new OL.Chart(container, {xLabel: "inference loops", markers: true, integerX: true, height: opts.height || 240, alwaysLegend: this.bySteps});
  }

  LoopPanel.prototype.setMetrics = function (names) {
    if (!this.picked || names.indexOf(this.metric) < 0) this.metric = names.indexOf("exact_accuracy") >= 0 ? "exact_accuracy" : names[0] || "";
    fill(this.pick, names, this.metric);
  };

  LoopPanel.prototype.setRuns = CurvePanel.prototype.setRuns;

  LoopPanel.prototype.refresh = function () {
    var self = this;
    if (!this.runs.length) { this.evals = []; this.draw(); return Promise.resolve(); }
    var url = "/api/evals?" + runParams(this.runs), fresh = url !== this.url;
    this.url = url;
    return OL.getJSON(url).then(function (res) {
      if (res.data) self.evals = res.data;
      if (res.changed || fresh) self.draw();
    });
  };

  LoopPanel.prototype.draw = function () {
    var self = this, info = byID(this.runs), out = [];
    this.chart.opts.yLabel = this.metric;
    (this.evals || []).forEach(function (re) {
      var rows = re.evals.filter(function (e) { return e.name === self.metric; });
      var steps = rows.map(function (e) { return e.step; }).filter(function (s, i, a) { return a.indexOf(s) === i; });
      var r = info[re.run] || {label: OL.shortID(re.run), color: "#444"};
      if (!self.bySteps) steps = steps.slice(-1);
      steps.forEach(function (step, i) {
        var pts = rows.filter(function (e) { return e.step === step; }).map(function (e) { return [e.loops, e.value]; });
        pts.sort(function (a, b) { return a[0] - b[0]; });
        var last = i === steps.length - 1;
        out.push({key: re.run + "@" + step, points: pts,
          label: self.bySteps ? "step " + step + (last ? " (last)" : "") : r.label,
          color: self.bySteps ? (last ? r.color : OL.color(i + 1)) : r.color});
      });
    });
    this.chart.set(out);
  };

  OL.CurvePanel = CurvePanel;
  OL.LoopPanel = LoopPanel;
})();
